#!/usr/bin/env python3
"""Peer for `npm run bench -- predict`: inference throughput of the same two models in PyTorch CPU and scikit-learn
(Debian python3-torch, python3-sklearn), on the same cleaned texts bench/predict.bench.ts scores with ulasan.

  cnn: the vocabulary ulasan fitted (index = token id; 0 <pad>, 1 <oov>), texts split on spaces, ids padded/truncated
       at the end to the sequence length; Embedding(V, 100) -> Conv1d(64, k3, relu) -> global max -> Linear(64, relu)
       -> Linear(1) -> sigmoid (ulasan's `cnn` spec with a binary head), eval mode, no_grad, batches of 512.
  svm: TfidfVectorizer (space tokens, no lowercasing, as ulasan's TF-IDF on cleaned text) and LinearSVC(C=1) fitted on
       the first --fit-rows texts, then transform + decision_function over all texts.

What one timed pass does, as ulasan's featurize + scoreStoredModel pass does: load the stored model from disk (the
pickled vectorizer and SVC; the torch state dict into a fresh Net), turn every text into model input, and compute
each review's class scores (SVM decision values, CNN probabilities) and label. Fitting and saving are not timed.
Usage: predict.py MODEL --texts texts.json [--runs 2] [--min-seconds 2] [--threads 2]   (texts.json: {"texts", "labels", "tokens", "seqLen"})
Prints one JSON line: {"peer", "model", "rows", "minSec", "reviewsPerSec", "cpuSec", "positive"} (cpuSec: user +
system CPU seconds of the fastest pass, all threads).
"""
import argparse, json, os, pickle, resource, sys, tempfile, time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def cnn_pass(data, threads, model_dir):
    import torch
    import torch.nn as nn

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    seq = data["seqLen"]
    vocab_size = len(data["tokens"])

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab_size, 100)
            self.conv = nn.Conv1d(100, 64, 3)
            self.fc = nn.Linear(64, 64)
            self.out = nn.Linear(64, 1)

        def forward(self, x):
            h = torch.relu(self.conv(self.emb(x).transpose(1, 2))).amax(dim=2)
            return torch.sigmoid(self.out(torch.relu(self.fc(h)))).squeeze(1)

    weights = os.path.join(model_dir, "cnn.pt")
    vocab_path = os.path.join(model_dir, "vocab.json")
    torch.save(Net().state_dict(), weights)
    with open(vocab_path, "w", encoding="utf-8") as f:
        json.dump(data["tokens"], f)

    def run():
        with open(vocab_path, encoding="utf-8") as f:
            vocab = {t: i for i, t in enumerate(json.load(f))}
        net = Net()
        net.load_state_dict(torch.load(weights))
        net.eval()
        texts = data["texts"]
        positive = 0
        with torch.no_grad():
            for start in range(0, len(texts), 512):
                ids = torch.zeros((min(512, len(texts) - start), seq), dtype=torch.long)
                for r, text in enumerate(texts[start : start + 512]):
                    row = [vocab.get(t, 1) for t in text.split(" ")[:seq] if t]
                    ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
                p = net(ids)
                scores = torch.stack((1 - p, p), dim=1)  # [1 - p, p] per review, as ulasan's class probabilities
                positive += int((scores[:, 1] > 0.5).sum())
        return positive

    return run, f"pytorch-{torch.__version__}"


def svm_pass(data, fit_rows, model_dir):
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    texts, labels = data["texts"], data["labels"]
    vectorizer = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False)
    model = LinearSVC(C=1.0).fit(vectorizer.fit_transform(texts[:fit_rows]), labels[:fit_rows])
    path = os.path.join(model_dir, "svm.pickle")
    with open(path, "wb") as f:
        pickle.dump((vectorizer, model), f)

    def run():
        with open(path, "rb") as f:
            vectorizer, model = pickle.load(f)
        scores = model.decision_function(vectorizer.transform(texts))  # what predict() takes its labels from
        return int((scores > 0).sum())

    return run, f"scikit-learn-{sklearn.__version__}"


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["cnn", "svm"])
    parser.add_argument("--texts", required=True)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fit-rows", type=int, default=4000)
    parser.add_argument("--min-seconds", type=float, default=2.0, help="keep passing past --runs until this long has passed")
    args = parser.parse_args()
    with open(args.texts, encoding="utf-8") as f:
        data = json.load(f)
    with tempfile.TemporaryDirectory() as model_dir:
        run, peer = cnn_pass(data, args.threads, model_dir) if args.model == "cnn" else svm_pass(data, args.fit_rows, model_dir)
        best, best_cpu, positive = float("inf"), 0.0, 0
        begun, passes = time.perf_counter(), 0
        while passes < args.runs or time.perf_counter() - begun < args.min_seconds:
            passes += 1
            started, cpu_started = time.perf_counter(), cpu_seconds()
            positive = run()
            seconds = time.perf_counter() - started
            if seconds < best:
                best, best_cpu = seconds, cpu_seconds() - cpu_started
    rows = len(data["texts"])
    print(json.dumps({"peer": peer, "model": args.model, "rows": rows, "minSec": best, "reviewsPerSec": rows / best, "cpuSec": best_cpu, "positive": positive}))


if __name__ == "__main__":
    sys.exit(main())
