"""Writes tfidf.sklearn.json: scikit-learn TfidfVectorizer outputs on a small synthetic corpus, the
reference that tfidf.test.ts checks ulasan's TF-IDF against (to 1e-6).

Run from the repo root with Debian's Python (python3-sklearn):
    /usr/bin/python3 activities/features/tfidf-sklearn.py
Documents are token lists joined by one space; the vectorizer splits on that space, so it sees exactly
the tokens ulasan sees. Character n-grams: TfidfVectorizer(analyzer='char_wb', lowercase=False) on the
same space-joined text (`char_cases`), and word + char_wb blocks side by side with FeatureUnion
(`union_cases`).
"""
import json
import os

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

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

# Tokens as the clean stage leaves them (split on ' ' only): one-letter words, a word with a no-break space
# inside (Python's split() cuts there), a code point beyond U+FFFF, and repeats for the df limits.
CHAR_TRAIN = [
    "aplikasi sangat membantu",
    "a b ok ok",
    "dokter\u00a0ramah cepat",
    "𝒜bc ｚ café ﬁlm",
    "mantap mantap aplikasi",
    "",
    "obat tidak datang tidak",
    "respon lambat banget aplikasinya",
]
CHAR_TEST = ["aplikasi ok", "𝒜 z", "", "dokter ramah\u00a0sekali", "xyz"]

CHAR_CASES = [
    ("char_wb_2_5", {"ngram_range": (2, 5)}, {"ngramRange": [2, 5]}),
    ("char_wb_1_3_mindf2_sublinear", {"ngram_range": (1, 3), "min_df": 2, "sublinear_tf": True},
     {"ngramRange": [1, 3], "minDf": 2, "sublinearTf": True}),
    ("char_wb_5_6_short_words", {"ngram_range": (5, 6)}, {"ngramRange": [5, 6]}),
    ("char_wb_3_4_maxdf_l1_no_smooth", {"ngram_range": (3, 4), "max_df": 0.3, "norm": "l1", "smooth_idf": False},
     {"ngramRange": [3, 4], "maxDf": 0.3, "norm": "l1", "smoothIdf": False}),
    ("char_wb_2_3_max_features", {"ngram_range": (2, 3), "max_features": 8}, {"ngramRange": [2, 3], "maxFeatures": 8}),
]

# FeatureUnion of word and char_wb vectorizers with the shared options; ts_params are the features
# stage's TfidfParams (analyzer 'word+char_wb').
UNION_CASES = [
    ("word_1_2_char_2_5", {"ngram_range": (1, 2)}, {"ngram_range": (2, 5)}, {},
     {"ngramRange": [1, 2], "charNgramRange": [2, 5]}),
    ("mindf2_sublinear_word_1_1_char_3_5", {"ngram_range": (1, 1)}, {"ngram_range": (3, 5)},
     {"min_df": 2, "sublinear_tf": True}, {"ngramRange": [1, 1], "charNgramRange": [3, 5], "minDf": 2, "sublinearTf": True}),
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


def word_vectorizer(**options):
    return TfidfVectorizer(tokenizer=str.split, lowercase=False, token_pattern=None, **options)


def space_tokens(doc):
    """ulasan's tokens: the clean stage's text split on ' ' only (str.split would also cut at a no-break space)."""
    return [token for token in doc.split(" ") if token]


def char_vectorizer(**options):
    return TfidfVectorizer(analyzer="char_wb", lowercase=False, **options)


def check_no_tie_at_cut(make, options, corpus):
    """maxFeatures ties are broken differently (numpy argsort is unstable): the fixture must have none."""
    if "max_features" not in options:
        return
    counts = make(ngram_range=options.get("ngram_range", (1, 1)), use_idf=False, norm=None)
    totals = np.sort(np.asarray(counts.fit_transform(corpus).sum(axis=0)).ravel())[::-1]
    limit = options["max_features"]
    assert totals[limit - 1] != totals[limit], "max_features cut falls on a tie; change the limit"


def case(name, make, sk_options, ts_options, train_docs, test_docs):
    vectorizer = make(**sk_options)
    train = vectorizer.fit_transform(train_docs)
    check_no_tie_at_cut(make, sk_options, train_docs)
    idf = vectorizer.idf_.tolist() if vectorizer.use_idf else [1.0] * len(vectorizer.vocabulary_)
    return {
        "name": name,
        "options": ts_options,
        "vocabulary": vectorizer.get_feature_names_out().tolist(),
        "idf": idf,
        "train": csr(train),
        "test": csr(vectorizer.transform(test_docs)),
    }


def union_case(name, word_options, char_options, shared, ts_params):
    word = TfidfVectorizer(tokenizer=space_tokens, lowercase=False, token_pattern=None, **word_options, **shared)
    union = FeatureUnion([("word", word),
                          ("char", char_vectorizer(**char_options, **shared))])
    train = union.fit_transform(CHAR_TRAIN)
    blocks = [dict(union.transformer_list)[part] for part in ("word", "char")]
    return {
        "name": name,
        "params": ts_params,
        "vocabularies": [block.get_feature_names_out().tolist() for block in blocks],
        "train": csr(train),
        "test": csr(union.transform(CHAR_TEST)),
    }


def main():
    out = {
        "generator": "activities/features/tfidf-sklearn.py",
        "sklearn": sklearn.__version__,
        "train": [doc.split() for doc in TRAIN],
        "test": [doc.split() for doc in TEST],
        "cases": [case(name, word_vectorizer, sk, ts, TRAIN, TEST) for name, sk, ts in CASES],
        "char_train": [doc.split(" ") if doc else [] for doc in CHAR_TRAIN],
        "char_test": [doc.split(" ") if doc else [] for doc in CHAR_TEST],
        "char_cases": [case(name, char_vectorizer, sk, {"analyzer": "char_wb", **ts}, CHAR_TRAIN, CHAR_TEST)
                       for name, sk, ts in CHAR_CASES],
        "union_cases": [union_case(*c) for c in UNION_CASES],
    }
    cases = out["cases"] + out["char_cases"] + out["union_cases"]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tfidf.sklearn.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
