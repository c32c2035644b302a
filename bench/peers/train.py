#!/usr/bin/env python3
"""Peer for `npm run bench -- train`: one training epoch of a text classifier in PyTorch CPU (Debian python3-torch).

Adapted from shared/peer/torch_train_bench.py (unchanged maths). bench/train.bench.ts runs it in the same run as
ulasan's own epoch, with the same architectures built by models/builders.ts from these specs
(cnn: filters [64], padding valid, pooling global-max; lstm: units 64; hybrid = cnn-bilstm: filters 64, padding
valid, units 64, returnSequences false; all with denseUnits 64, dropout 0.5), which are exactly
(Embedding(10000, 100, inputLength 64) first; Dense(64, relu) -> Dropout(0.5) -> Dense(5, softmax) last):
  cnn    : Conv1D(64, k3, relu) -> GlobalMaxPooling1D
  lstm   : LSTM(64)
  gru    : GRU(64)
  bilstm : Bidirectional(LSTM(64))
  hybrid : Conv1D(64, k3, relu) -> MaxPooling1D(2) -> Bidirectional(LSTM(64))
Adam(1e-3), categorical cross-entropy, batch 64, 4,000 random samples, shuffled.

Usage: OPENBLAS_NUM_THREADS=1 MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
  /usr/bin/python3 bench/peers/train.py MODEL [--threads 2] [--runs 2] [--n 4000] [--batch 64]
Prints one JSON line: {"peer": "pytorch-<ver>", "model", "threads", "batch", "n", "runs", "minSec", "samplesPerSec",
"cpuSec"} (cpuSec: user + system CPU seconds of the fastest run, all threads).
Best configuration measured on the 2-core machines: --threads 2 with OPENBLAS_NUM_THREADS=1; without the malloc
settings glibc returns each step's freed buffers to the kernel and a CNN epoch varies from 0.4 s to 5.9 s.
"""
import argparse, json, os, resource, sys, time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch
import torch.nn as nn

VOCAB, DIM, LEN, CLASSES = 10000, 100, 64, 5


class Net(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.emb = nn.Embedding(VOCAB, DIM)
        if kind in ("hybrid", "cnn"):
            self.conv = nn.Conv1d(DIM, 64, 3)
        if kind == "hybrid":
            self.pool = nn.MaxPool1d(2)
            self.rnn = nn.LSTM(64, 64, batch_first=True, bidirectional=True)
            feat = 128
        elif kind == "lstm":
            self.rnn = nn.LSTM(DIM, 64, batch_first=True); feat = 64
        elif kind == "gru":
            self.rnn = nn.GRU(DIM, 64, batch_first=True); feat = 64
        elif kind == "bilstm":
            self.rnn = nn.LSTM(DIM, 64, batch_first=True, bidirectional=True); feat = 128
        elif kind == "cnn":
            feat = 64
        else:
            raise SystemExit(f"unknown model {kind!r}: cnn, lstm, gru, bilstm, hybrid")
        self.head = nn.Sequential(nn.Linear(feat, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, CLASSES))

    def forward(self, x):
        h = self.emb(x)
        if self.kind in ("hybrid", "cnn"):
            h = torch.relu(self.conv(h.transpose(1, 2)))
            if self.kind == "cnn":
                return self.head(h.max(dim=2).values)
            h = self.pool(h).transpose(1, 2)
        _, hn = self.rnn(h)
        hn = hn[0] if isinstance(hn, tuple) else hn
        return self.head(torch.cat(list(hn), dim=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.randint(1, VOCAB, (a.n, LEN))
    y = torch.randint(0, CLASSES, (a.n,))
    times = []
    cpus = []
    for _ in range(a.runs):
        m = Net(a.model)
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        lossf = nn.CrossEntropyLoss()
        m.train()
        t0 = time.perf_counter()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        perm = torch.randperm(a.n)
        for i in range(0, a.n, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = lossf(m(x[idx]), y[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpus.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    mn = min(times)
    print(json.dumps({"peer": f"pytorch-{torch.__version__}", "model": a.model, "threads": a.threads, "batch": a.batch,
                      "n": a.n, "runs": [round(t, 3) for t in times], "minSec": round(mn, 3),
                      "samplesPerSec": round(a.n / mn, 1),
                      "cpuSec": round(cpus[times.index(mn)], 3)}))


if __name__ == "__main__":
    main()
