"""Peer for `npm run bench -- word2vec`: gensim Word2Vec on the same corpus as ulasan, and one
downstream classifier for both models' document vectors.

    /usr/bin/python3 bench/peers/word2vec.py DIR --round R --seed S [--epochs 5] [--min-count 2]
        [--vector-size 100] [--window 5] [--negative 5] [--sample 1e-3] [--sg 0]

DIR (written by bench/word2vec.bench.ts) holds the cleaned, split texts, one per line, tokens
separated by single spaces: train.txt, test.txt; their labels (0/1, one per line): train.labels,
test.labels; and ulasan's document vectors for this round: ulasan-R-train.f32, ulasan-R-test.f32
(little-endian float32, row-major, vector-size columns).

The round trains gensim with workers=1 (build_vocab and train timed apart, wall clock and this
process's CPU time), builds document vectors the way ulasan does (mean of in-vocabulary word vectors,
zeros when none), then fits the same scikit-learn pipeline (StandardScaler + LogisticRegression,
lbfgs, max_iter 2000) on gensim's and on ulasan's train vectors and scores both on the test vectors.
Prints one JSON object.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
from gensim.models import Word2Vec
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def read_lines(path):
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle]


def document_vectors(wv, sentences, dim):
    out = np.zeros((len(sentences), dim), dtype=np.float32)
    for row, sentence in enumerate(sentences):
        rows = [wv.key_to_index[w] for w in sentence if w in wv.key_to_index]
        if rows:
            out[row] = wv.vectors[rows].astype(np.float64).mean(axis=0)
    return out


def classify(train_x, train_y, test_x, test_y):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(train_x, train_y)
    predicted = model.predict(test_x)
    return {"accuracy": accuracy_score(test_y, predicted), "macro_f1": f1_score(test_y, predicted, average="macro")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--round", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--vector-size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--sg", type=int, default=0)
    args = parser.parse_args()

    train = [line.split(" ") if line else [] for line in read_lines(args.dir / "train.txt")]
    test = [line.split(" ") if line else [] for line in read_lines(args.dir / "test.txt")]
    train_y = np.array([int(v) for v in read_lines(args.dir / "train.labels")])
    test_y = np.array([int(v) for v in read_lines(args.dir / "test.labels")])

    model = Word2Vec(
        vector_size=args.vector_size, window=args.window, min_count=args.min_count, workers=1, sg=args.sg,
        negative=args.negative, sample=args.sample, epochs=args.epochs, seed=args.seed, cbow_mean=1, hs=0,
    )
    wall0, cpu0 = time.perf_counter(), time.process_time()
    model.build_vocab(train)
    wall1, cpu1 = time.perf_counter(), time.process_time()
    effective_words, raw_words = model.train(train, total_examples=model.corpus_count, epochs=args.epochs)
    wall2, cpu2 = time.perf_counter(), time.process_time()

    dim = args.vector_size
    gensim_scores = classify(
        document_vectors(model.wv, train, dim), train_y, document_vectors(model.wv, test, dim), test_y
    )
    ulasan_train = np.fromfile(args.dir / f"ulasan-{args.round}-train.f32", dtype="<f4").reshape(len(train), dim)
    ulasan_test = np.fromfile(args.dir / f"ulasan-{args.round}-test.f32", dtype="<f4").reshape(len(test), dim)
    ulasan_scores = classify(ulasan_train, train_y, ulasan_test, test_y)

    print(json.dumps({
        "vocab_size": len(model.wv),
        "raw_words": raw_words,
        "effective_words": effective_words,
        "vocab_seconds": wall1 - wall0,
        "train_seconds": wall2 - wall1,
        "vocab_cpu_seconds": cpu1 - cpu0,
        "train_cpu_seconds": cpu2 - cpu1,
        "gensim": gensim_scores,
        "ulasan": ulasan_scores,
    }))


if __name__ == "__main__":
    main()
