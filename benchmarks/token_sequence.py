"""Token vectors read as a series by aeon's MiniRocket: ``python -m benchmarks.token_sequence``.

For each development dataset, its fold's pretrained tokenizer (``benchmarks.transfer.FOLDS``:
the tokenizer never saw the dataset) tokenizes TRAIN and TEST with no training; the quantized
token vectors of each series, ``encode(X, "embedding")`` reshaped to ``(n, code_dim × freq,
token steps)`` (the embedding is flattened in that order), go as a multivariate series
through ``MiniRocket(random_state=0)`` → ``StandardScaler`` →
``RidgeClassifierCV(np.logspace(-3, 3, 10))``, MiniRocket's own protocol. One JSON line per
dataset (accuracy, transform and read-out seconds); ``--report`` prints the means beside the
embedding's thesis probe of the same tokenizers (``transfer.jsonl``) and the panel's
per-dataset training and raw-series MiniRocket.

    python -m benchmarks.token_sequence --data-dir ../shared/data/ucr \\
        --tokenizers-dir pt --out benchmarks/results/pretrained/token_sequence.jsonl
    python -m benchmarks.token_sequence --report benchmarks/results/pretrained/token_sequence.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.presets import ALL, EQUAL
from benchmarks.transfer import _panel, fold_of


def run_dataset(dataset: str, tokenizer: str, data_dir: str) -> dict:
    from aeon.transformations.collection.convolution_based import MiniRocket
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from benchmarks.cells import load_dataset
    from btvqvae import VQVAETransformer

    X_train, y_train, X_test, y_test, _ = load_dataset(dataset, data_dir, "resample",
                                                       "interpolate")
    start = time.perf_counter()
    est = VQVAETransformer(init=tokenizer, max_steps=0).fit(X_train)
    d, f, t = est.latent_shape_
    S_train = est.transform(X_train).reshape(len(X_train), d * f, t)
    S_test = est.transform(X_test).reshape(len(X_test), d * f, t)
    tokenize_seconds = time.perf_counter() - start
    start = time.perf_counter()
    clf = make_pipeline(MiniRocket(random_state=0), StandardScaler(),
                        RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    clf.fit(S_train, y_train)
    accuracy = float(np.mean(clf.predict(S_test) == y_test))
    return {"dataset": dataset, "tokenizer": Path(tokenizer).name, "fold": fold_of(dataset),
            "accuracy": accuracy, "tokenize_seconds": tokenize_seconds,
            "readout_seconds": time.perf_counter() - start, "shape": [d * f, t]}


def report(file: str, transfer: str, panel_file: str) -> str:
    from scipy.stats import wilcoxon

    ours = {json.loads(line)["dataset"]: json.loads(line) for line in
            Path(file).read_text().splitlines()}
    emb = {}
    for line in Path(transfer).read_text().splitlines():
        r = json.loads(line)
        if r["config"] == "zero":
            emb[r["dataset"]] = r["readouts"]["embedding"]["svc"]
    panel = _panel(panel_file)
    datasets = [d for d in EQUAL if d in ours and d in emb]

    def panel_mean(model, d, key="accuracy"):
        values = [r[key] for r in panel.get(model, {}).get(d, []) if r.get(key) is not None]
        return float(np.mean(values)) if values else np.nan

    seq = np.array([ours[d]["accuracy"] for d in datasets])
    base = np.array([emb[d] for d in datasets])
    per = np.array([panel_mean("vqvae", d) for d in datasets])
    raw = np.array([panel_mean("minirocket", d) for d in datasets])
    wins = int(np.sum(seq > base + 1e-9))
    lines = [f"Zero-fit fold tokenizers, {len(datasets)} equal-length development datasets:",
             f"- token vectors as a series -> MiniRocket -> ridge: {seq.mean():.3f}",
             f"- embedding + MinMax + linear SVC (same tokens): {base.mean():.3f} "
             f"(the sequence read-out better on {wins}, Wilcoxon p = "
             f"{wilcoxon(seq, base).pvalue:.3f})",
             f"- per-dataset training, embedding + linear SVC (panel): {np.nanmean(per):.3f}",
             f"- MiniRocket on the raw series (panel): {np.nanmean(raw):.3f}",
             f"- median tokenize s {np.median([ours[d]['tokenize_seconds'] for d in datasets]):.2f}"
             f", median read-out s "
             f"{np.median([ours[d]['readout_seconds'] for d in datasets]):.2f}", "",
             "| dataset | sequence + MiniRocket | embedding + SVC | raw MiniRocket |",
             "|---|---|---|---|"]
    lines += [f"| {d} | {s:.3f} | {b:.3f} | {m:.3f} |"
              for d, s, b, m in zip(datasets, seq, base, raw)]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir")
    p.add_argument("--tokenizers-dir", help="folder holding fold0 ... fold3")
    p.add_argument("--datasets", nargs="*")
    p.add_argument("--out")
    p.add_argument("--report", help="print the summary of this results file")
    p.add_argument("--transfer", default="benchmarks/results/pretrained/transfer.jsonl")
    p.add_argument("--panel", default="benchmarks/results/panel/thesis.jsonl")
    args = p.parse_args(argv)
    if args.report:
        print(report(args.report, args.transfer, args.panel))
        return 0
    out = Path(args.out)
    done = {json.loads(line)["dataset"] for line in out.read_text().splitlines()} \
        if out.is_file() else set()
    for dataset in args.datasets or ALL:
        if dataset in done:
            continue
        tokenizer = str(Path(args.tokenizers_dir) / f"fold{fold_of(dataset)}")
        record = run_dataset(dataset, tokenizer, args.data_dir)
        with open(out, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        print(f"{dataset:28s} {record['accuracy']:.3f} ({record['readout_seconds']:.1f} s)",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
