"""Peer for `npm run bench -- resample`: imbalanced-learn on the same matrices as ulasan.

    /usr/bin/python3 bench/peers/resample.py prepare CSV OUT_DIR [--rows 20000] [--dim 100]
    /usr/bin/python3 bench/peers/resample.py run OUT_DIR [--repeats 3]

`prepare` builds the benchmark matrices once and writes raw little-endian arrays that both sides
read, so both work on identical data:
  * rows: the Halodoc reviews with rating != 3, ordered by sha256(review id) (a fixed pseudo-random
    order that needs no RNG), the first --rows of them; label 0 = rating 1-2 (negative),
    1 = rating 4-5 (positive);
  * dense.f32: 100-d document vectors, the mean of seeded random word vectors (each word's vector
    is drawn from numpy's default_rng seeded with crc32(word)); tokens as scikit-learn's default
    token pattern after lower-casing; a row without tokens is all zeros;
  * tfidf_*: scikit-learn TfidfVectorizer(min_df=2) (word unigrams, l2-normalised) as CSR arrays.

`run` times SMOTE, BorderlineSMOTE (borderline-1) and ADASYN with their defaults on both matrices
and prints one JSON object: seconds (min over repeats) and class counts after resampling.
imbalanced-learn fits sklearn NearestNeighbors (n_jobs=None); on sklearn 1.2 its brute-force
kneighbors runs the Cython ArgKmin reduction, whose OpenMP loop uses every core threadpoolctl
reports, so the thread count is reported too.
"""
import argparse
import csv
import hashlib
import json
import re
import sys
import time
import zlib
from pathlib import Path

import numpy as np
from scipy import sparse

TOKEN = re.compile(r"(?u)\b\w\w+\b")


def read_rows(csv_path, n_rows):
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Rating"].strip() in {"1", "2", "4", "5"}]
    rows.sort(key=lambda r: hashlib.sha256(r["Review ID"].encode("utf-8")).hexdigest())
    rows = rows[:n_rows]
    texts = [r["Review Text"] or "" for r in rows]
    labels = np.array([0 if r["Rating"].strip() in {"1", "2"} else 1 for r in rows], dtype=np.int32)
    return texts, labels


def doc_vectors(texts, dim):
    cache = {}
    out = np.zeros((len(texts), dim), dtype=np.float64)
    for i, text in enumerate(texts):
        tokens = TOKEN.findall(text.lower())
        for tok in tokens:
            vec = cache.get(tok)
            if vec is None:
                vec = np.random.default_rng(zlib.crc32(tok.encode("utf-8"))).standard_normal(dim)
                cache[tok] = vec
            out[i] += vec
        if tokens:
            out[i] /= len(tokens)
    return out.astype(np.float32)


def prepare(args):
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, labels = read_rows(args.csv, args.rows)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dense = doc_vectors(texts, args.dim)
    tfidf = TfidfVectorizer(min_df=2, dtype=np.float32).fit_transform(texts).tocsr()
    tfidf.sort_indices()
    dense.tofile(out / "dense.f32")
    labels.tofile(out / "labels.i32")
    tfidf.indptr.astype(np.int32).tofile(out / "tfidf_indptr.i32")
    tfidf.indices.astype(np.int32).tofile(out / "tfidf_indices.i32")
    tfidf.data.astype(np.float32).tofile(out / "tfidf_data.f32")
    meta = {
        "rows": int(dense.shape[0]),
        "dim": int(dense.shape[1]),
        "vocab": int(tfidf.shape[1]),
        "nnz": int(tfidf.nnz),
        "counts": np.bincount(labels, minlength=2).tolist(),
    }
    (out / "meta.json").write_text(json.dumps(meta))
    print(json.dumps(meta))


def load(out_dir):
    out = Path(out_dir)
    meta = json.loads((out / "meta.json").read_text())
    dense = np.fromfile(out / "dense.f32", dtype=np.float32).reshape(meta["rows"], meta["dim"])
    labels = np.fromfile(out / "labels.i32", dtype=np.int32)
    tfidf = sparse.csr_matrix(
        (
            np.fromfile(out / "tfidf_data.f32", dtype=np.float32),
            np.fromfile(out / "tfidf_indices.i32", dtype=np.int32),
            np.fromfile(out / "tfidf_indptr.i32", dtype=np.int32),
        ),
        shape=(meta["rows"], meta["vocab"]),
    )
    return dense, tfidf, labels


def run(args):
    import imblearn
    import sklearn
    from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE
    from threadpoolctl import threadpool_info

    dense, tfidf, labels = load(args.out_dir)
    samplers = {
        "smote": lambda: SMOTE(random_state=0),
        "borderline-smote": lambda: BorderlineSMOTE(random_state=0, kind="borderline-1"),
        "adasyn": lambda: ADASYN(random_state=0),
    }
    cases = {}
    for matrix_name, X in (("dense", dense), ("tfidf", tfidf)):
        for name, make in samplers.items():
            times = []
            counts = None
            for _ in range(args.repeats):
                sampler = make()
                start = time.perf_counter()
                _, y_res = sampler.fit_resample(X, labels)
                times.append(time.perf_counter() - start)
                counts = np.bincount(y_res, minlength=2).tolist()
            cases[f"{name}/{matrix_name}"] = {"seconds": min(times), "counts": counts}
    threads = {info["user_api"]: info["num_threads"] for info in threadpool_info()}
    print(
        json.dumps(
            {"imblearn": imblearn.__version__, "sklearn": sklearn.__version__, "threads": threads, "cases": cases}
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("csv")
    p.add_argument("out_dir")
    p.add_argument("--rows", type=int, default=20000)
    p.add_argument("--dim", type=int, default=100)
    r = sub.add_parser("run")
    r.add_argument("out_dir")
    r.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    prepare(args) if args.command == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
