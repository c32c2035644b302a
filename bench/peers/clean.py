#!/usr/bin/env python3
"""Peer for `npm run bench -- clean`: the cleaning step of ../shared/peer/reference.py in pandas.

Not part of ulasan. Does what reference.py does before splitting (`run`, steps 1-2):
read the CSV (utf-8-sig), drop rows with a null text or score, drop duplicate raw texts (keep
first), clean with reference.py's own `clean_text` (imported from it, not copied), drop rows whose
cleaned text is empty. Two variants are timed and must agree:
  map: `df.content.map(clean_text)`, exactly as reference.py does it;
  str: the same regexes through pandas' vectorised `.str.lower()` / `.str.replace(regex=True)`.

Usage:
  clean.py bench --csv CSV --reference reference.py [--repeat N] [--out OUT.json]
      prints one JSON line of timings; OUT gets the cleaned rows as [[data_row_index, text], ...]
  clean.py vectors --reference reference.py < inputs.json > vectors.json
      applies clean_text to a JSON list of strings: [{"input": s, "expected": clean_text(s)}, ...]
"""
import argparse
import importlib.util
import json
import sys
import time

TEXT_CANDIDATES = ["content", "review text", "review_text", "text", "review"]
SCORE_CANDIDATES = ["score", "rating", "stars"]


def load_reference(path):
    spec = importlib.util.spec_from_file_location("reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # __name__ != "__main__": no re-exec, no run
    return module


def pick(cols, candidates):
    norm = {c.strip().lower(): c for c in cols}
    for cand in candidates:
        if cand in norm:
            return norm[cand]
    raise SystemExit(f"none of {candidates} in {list(cols)}")


def prepare(pd, csv):
    raw = pd.read_csv(csv, encoding="utf-8-sig")
    df = raw[[pick(raw.columns, TEXT_CANDIDATES), pick(raw.columns, SCORE_CANDIDATES)]].copy()
    df.columns = ["content", "score"]
    df = df.dropna(subset=["content", "score"])
    return df.drop_duplicates(subset="content", keep="first")


def clean_map(pd, csv, ref):
    df = prepare(pd, csv)
    df["clean"] = df.content.map(ref.clean_text)
    return df[df.clean.str.len() > 0]


def clean_series(content, ref):
    s = content.astype(str).str.lower()
    for pattern in (ref.RE_URL, ref.RE_MENTION, ref.RE_HASHTAG, ref.RE_NON_ALPHA):
        s = s.str.replace(pattern, " ", regex=True)
    return s.str.replace(ref.RE_WS, " ", regex=True).str.strip()


def clean_str(pd, csv, ref):
    df = prepare(pd, csv)
    df["clean"] = clean_series(df.content, ref)
    return df[df.clean.str.len() > 0]


def bench(args):
    import pandas as pd

    ref = load_reference(args.reference)
    result = {"pandas": pd.__version__, "python": sys.version.split()[0]}
    outputs = {}
    for name, fn in (("map", clean_map), ("str", clean_str)):
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            df = fn(pd, args.csv, ref)
            times.append(time.perf_counter() - t0)
        outputs[name] = df
        result[name] = {"seconds": times, "min": min(times), "rows_out": int(len(df))}
    reads = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        prepare(pd, args.csv)
        reads.append(time.perf_counter() - t0)
    result["read_dedupe_min"] = min(reads)
    # Cleaning alone, on the prepared rows already in memory.
    df = prepare(pd, args.csv)
    for name, fn in (("map", lambda: df.content.map(ref.clean_text)), ("str", lambda: clean_series(df.content, ref))):
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        result[f"clean_only_{name}_min"] = min(times)
    a, b = outputs["map"], outputs["str"]
    result["variants_agree"] = bool(a.index.equals(b.index) and (a.clean.values == b.clean.values).all())
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump([[int(i), c] for i, c in zip(a.index, a.clean)], f, ensure_ascii=False)
    print(json.dumps(result))


def vectors(args):
    ref = load_reference(args.reference)
    inputs = json.load(sys.stdin)
    json.dump([{"input": s, "expected": ref.clean_text(s)} for s in inputs], sys.stdout, ensure_ascii=False, indent=0)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--csv", required=True)
    b.add_argument("--reference", required=True)
    b.add_argument("--repeat", type=int, default=5)
    b.add_argument("--out")
    v = sub.add_parser("vectors")
    v.add_argument("--reference", required=True)
    args = parser.parse_args()
    bench(args) if args.cmd == "bench" else vectors(args)


if __name__ == "__main__":
    main()
