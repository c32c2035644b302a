"""Writes word2vec.gensim.json: gensim's vocabulary, subsampling and negative-sampling tables for a
small synthetic corpus, the reference word2vec.test.ts checks ulasan's tables against.

Run from the repo root with Debian's Python (python3-gensim):
    /usr/bin/python3 activities/features/word2vec-gensim.py
"""
import json
import os
import random

import gensim
import numpy as np
from gensim.models import Word2Vec


def corpus():
    # Zipf-like word frequencies so that subsampling bites on the frequent words and min_count drops rare ones.
    rng = random.Random(7)
    words = [f"w{i}" for i in range(120)]
    weights = [1.0 / (i + 1) ** 1.1 for i in range(120)]
    return [rng.choices(words, weights, k=rng.randint(1, 12)) for _ in range(400)]


def main():
    sentences = corpus()
    model = Word2Vec(vector_size=8, min_count=3, sample=1e-2, negative=5, ns_exponent=0.75, workers=1, seed=1)
    model.build_vocab(sentences)
    wv = model.wv
    words = list(wv.index_to_key)
    cum = model.cum_table.astype(np.float64)
    probabilities = np.diff(np.concatenate([[0.0], cum])) / cum[-1]
    out = {
        "generator": "activities/features/word2vec-gensim.py",
        "gensim": gensim.__version__,
        "minCount": 3,
        "sample": 1e-2,
        "nsExponent": 0.75,
        "sentences": sentences,
        "counts": {w: int(wv.get_vecattr(w, "count")) for w in words},
        "sampleInt": {w: int(wv.get_vecattr(w, "sample_int")) for w in words},
        "negativeProbability": {w: float(p) for w, p in zip(words, probabilities)},
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "word2vec.gensim.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}: {len(words)} words")


if __name__ == "__main__":
    main()
