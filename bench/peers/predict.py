#!/usr/bin/env python3
"""Peer for `npm run bench -- predict`: inference throughput of the same two models in PyTorch CPU and scikit-learn
(Debian python3-torch, python3-sklearn), on the same cleaned texts bench/predict.bench.ts scores with ulasan.

  cnn: the vocabulary ulasan fitted (index = token id; 0 <pad>, 1 <oov>), texts split on spaces, ids padded/truncated
       at the end to the sequence length; Embedding(V, 100) -> Conv1d(64, k3, relu) -> global max -> Linear(64, relu)
       -> Linear(1) -> sigmoid (ulasan's `cnn` spec with a binary head), eval mode, no_grad, batches of 512.
  svm: TfidfVectorizer (space tokens, no lowercasing, as ulasan's TF-IDF on cleaned text) and LinearSVC(C=1) fitted on
       the first --fit-rows texts, then transform + predict over all texts.

Each timed pass includes turning texts into model input, as ulasan's featurize + score does.
Usage: predict.py MODEL --texts texts.json [--runs 2] [--threads 2]   (texts.json: {"texts", "labels", "tokens", "seqLen"})
Prints one JSON line: {"peer", "model", "rows", "minSec", "reviewsPerSec", "positive"}.
"""
import argparse, json, os, sys, time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def cnn_pass(data, threads):
    import torch
    import torch.nn as nn

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    vocab = {t: i for i, t in enumerate(data["tokens"])}
    seq = data["seqLen"]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(len(vocab), 100)
            self.conv = nn.Conv1d(100, 64, 3)
            self.fc = nn.Linear(64, 64)
            self.out = nn.Linear(64, 1)

        def forward(self, x):
            h = torch.relu(self.conv(self.emb(x).transpose(1, 2))).amax(dim=2)
            return torch.sigmoid(self.out(torch.relu(self.fc(h)))).squeeze(1)

    net = Net().eval()

    def run():
        positive = 0
        texts = data["texts"]
        with torch.no_grad():
            for start in range(0, len(texts), 512):
                ids = torch.zeros((min(512, len(texts) - start), seq), dtype=torch.long)
                for r, text in enumerate(texts[start : start + 512]):
                    row = [vocab.get(t, 1) for t in text.split(" ")[:seq] if t]
                    ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
                positive += int((net(ids) > 0.5).sum())
        return positive

    return run, f"pytorch-{torch.__version__}"


def svm_pass(data, fit_rows):
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    texts, labels = data["texts"], data["labels"]
    vectorizer = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False)
    model = LinearSVC(C=1.0).fit(vectorizer.fit_transform(texts[:fit_rows]), labels[:fit_rows])

    def run():
        return int(model.predict(vectorizer.transform(texts)).sum())

    return run, f"scikit-learn-{sklearn.__version__}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["cnn", "svm"])
    parser.add_argument("--texts", required=True)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fit-rows", type=int, default=4000)
    args = parser.parse_args()
    with open(args.texts, encoding="utf-8") as f:
        data = json.load(f)
    run, peer = cnn_pass(data, args.threads) if args.model == "cnn" else svm_pass(data, args.fit_rows)
    best, positive = float("inf"), 0
    for _ in range(args.runs):
        started = time.perf_counter()
        positive = run()
        best = min(best, time.perf_counter() - started)
    rows = len(data["texts"])
    print(json.dumps({"peer": peer, "model": args.model, "rows": rows, "minSec": best, "reviewsPerSec": rows / best, "positive": positive}))


if __name__ == "__main__":
    sys.exit(main())
