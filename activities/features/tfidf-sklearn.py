"""Writes tfidf.sklearn.json: scikit-learn TfidfVectorizer outputs on a small synthetic corpus, the
reference that tfidf.test.ts checks ulasan's TF-IDF against (to 1e-6).

Run from the repo root with Debian's Python (python3-sklearn):
    /usr/bin/python3 activities/features/tfidf-sklearn.py
Documents are token lists joined by one space; the vectorizer splits on that space, so it sees exactly
the tokens ulasan sees.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer

TRAIN = [
    "aplikasi sangat membantu dokter ramah",
    "aplikasi bagus dokter cepat respon",
    "sangat membantu sangat bagus",
    "obat tidak datang aplikasi error",
    "dokter lama respon aplikasi lambat",
    "",
    "mantap mantap mantap",
    "pelayanan buruk obat mahal tidak sesuai",
    "respon cepat dokter ramah sangat membantu",
    "aplikasi error tidak bisa login",
    "kopi café ünik ｚ 𝒜bc ﬁlm",
    "bagus bagus aplikasi dokter",
]
TEST = [
    "aplikasi sangat bagus",
    "tidak ada yang kenal",
    "",
    "dokter ramah respon cepat sangat membantu mantap",
    "𝒜bc ｚ café",
]

CASES = [
    ("defaults", {}, {}),
    ("bigrams_mindf2_sublinear", {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True},
     {"ngramRange": [1, 2], "minDf": 2, "sublinearTf": True}),
    ("fraction_df_no_smooth", {"min_df": 0.15, "max_df": 0.5, "smooth_idf": False},
     {"minDf": 0.15, "maxDf": 0.5, "smoothIdf": False}),
    ("max_features", {"ngram_range": (1, 2), "max_features": 9}, {"ngramRange": [1, 2], "maxFeatures": 9}),
    ("l1_trigrams", {"ngram_range": (2, 3), "norm": "l1"}, {"ngramRange": [2, 3], "norm": "l1"}),
    ("no_idf_no_norm", {"use_idf": False, "norm": None}, {"useIdf": False, "norm": "none"}),
]


def csr(matrix):
    matrix = matrix.tocsr()
    matrix.sort_indices()
    return {
        "indptr": matrix.indptr.tolist(),
        "indices": matrix.indices.tolist(),
        "data": matrix.data.tolist(),
        "rows": matrix.shape[0],
        "cols": matrix.shape[1],
    }


def check_no_tie_at_cut(vectorizer, options):
    """maxFeatures ties are broken differently (numpy argsort is unstable): the fixture must have none."""
    if "max_features" not in options:
        return
    counts = TfidfVectorizer(
        tokenizer=str.split, lowercase=False, token_pattern=None, ngram_range=options.get("ngram_range", (1, 1))
    )
    counts.set_params(use_idf=False, norm=None)
    totals = np.sort(np.asarray(counts.fit_transform(TRAIN).sum(axis=0)).ravel())[::-1]
    limit = options["max_features"]
    assert totals[limit - 1] != totals[limit], "max_features cut falls on a tie; change the limit"


def main():
    cases = []
    for name, sk_options, ts_options in CASES:
        vectorizer = TfidfVectorizer(tokenizer=str.split, lowercase=False, token_pattern=None, **sk_options)
        train = vectorizer.fit_transform(TRAIN)
        check_no_tie_at_cut(vectorizer, sk_options)
        idf = vectorizer.idf_.tolist() if vectorizer.use_idf else [1.0] * len(vectorizer.vocabulary_)
        cases.append({
            "name": name,
            "options": ts_options,
            "vocabulary": vectorizer.get_feature_names_out().tolist(),
            "idf": idf,
            "train": csr(train),
            "test": csr(vectorizer.transform(TEST)),
        })
    out = {
        "generator": "activities/features/tfidf-sklearn.py",
        "sklearn": sklearn.__version__,
        "train": [doc.split() for doc in TRAIN],
        "test": [doc.split() for doc in TEST],
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tfidf.sklearn.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
