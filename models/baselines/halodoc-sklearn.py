#!/usr/bin/python3
"""scikit-learn's class-weighted linear SVM and logistic regression on the peer's Halodoc ternary split,
for halodoc-parity.test.ts to fit ulasan's baselines on the very same matrices and compare predictions.

  /usr/bin/python3 models/baselines/halodoc-sklearn.py SHARED_DIR OUT.json

SHARED_DIR holds data/reviews/halodoc_id_reviews.csv and peer/ (reference.py and
results/halodoc_id_reviews.ternary.split.json). Rows, cleaning and TF-IDF are the peer's own
(reference.py: clean_text, TfidfVectorizer(ngram_range=(1, 2), min_df=2) fitted on the training rows);
values are rounded to float32, as ulasan's matrices hold them, and both sides see those. Nothing is
written into the project: OUT.json is the test's temporary file.
"""
import importlib.util
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

CLASSES = ["negative", "neutral", "positive"]


def load_reference(shared):
    spec = importlib.util.spec_from_file_location("peer_reference", os.path.join(shared, "peer", "reference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peer_rows(shared, reference):
    """reference.py cmd_run's preparation, row index = 0-based data row of the CSV."""
    raw = pd.read_csv(os.path.join(shared, "data", "reviews", "halodoc_id_reviews.csv"), encoding="utf-8-sig")
    text = reference.pick_col(raw.columns, reference.TEXT_CANDIDATES)
    score = reference.pick_col(raw.columns, reference.LABEL_CANDIDATES)
    df = pd.DataFrame({"content": raw[text], "score": pd.to_numeric(raw[score], errors="coerce")})
    df = df.dropna(subset=["content", "score"])
    df = df[df.score.between(1, 5)].drop_duplicates(subset="content", keep="first")
    df["score"] = df.score.astype(int)
    df["clean"] = df.content.map(reference.clean_text)
    df = df[df.clean.str.len() > 0]
    df["label"] = np.select([df.score <= 2, df.score == 3], [0, 1], 2)
    return df


def csr(matrix):
    matrix = matrix.tocsr()
    matrix.sort_indices()
    return {"rows": matrix.shape[0], "cols": matrix.shape[1], "indptr": matrix.indptr.tolist(),
            "indices": matrix.indices.tolist(), "data": matrix.data.tolist()}


def main(shared, out):
    reference = load_reference(shared)
    df = peer_rows(shared, reference)
    with open(os.path.join(shared, "peer", "results", "halodoc_id_reviews.ternary.split.json")) as fh:
        split = json.load(fh)
    train, test = df.loc[split["train_row_ids"]], df.loc[split["test_row_ids"]]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2)
    xtr = vectorizer.fit_transform(train.clean).astype(np.float32).astype(np.float64)
    xte = vectorizer.transform(test.clean).astype(np.float32).astype(np.float64)
    models = {
        "linearSvmBalanced": LinearSVC(random_state=42, class_weight="balanced"),
        "logisticRegressionBalanced": LogisticRegression(class_weight="balanced"),
    }
    predictions = {}
    for name, model in models.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(xtr, train.label.to_numpy())
        predictions[name] = {"predictions": model.predict(xte).tolist(),
                             "warnings": [str(w.message)[:160] for w in caught],
                             "iterations": np.atleast_1d(model.n_iter_).tolist()}
    with open(out, "w") as fh:
        json.dump({"sklearn": sklearn.__version__, "classes": CLASSES,
                   "train": {"X": csr(xtr), "y": train.label.tolist()},
                   "test": {"X": csr(xte), "y": test.label.tolist()},
                   "models": predictions}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
