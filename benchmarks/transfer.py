"""Pretrained tokenizers on the development panel: ``python -m benchmarks.transfer``.

Dataset-level cross-validation. The panel's 20 datasets fall into :data:`FOLDS` (sorted
names, every fourth one); fold k's tokenizer is pretrained by ``benchmarks.pretrain`` on the
corpus without fold k's datasets (``--exclude``), then evaluated here on them only, so every
score is of data the tokenizer never saw. Each configuration is a cell (dataset × tokenizer
× configuration), appended to ``--out`` as one JSON line; a rerun skips finished cells.

Configurations (``--configs``):

- ``zero``: ``VQVAETransformer(init=TOKENIZER, max_steps=0)``: no training at all;
- ``ft<N>``: the same, fine-tuned N steps on the dataset's TRAIN split (``random_state=0``);
- ``native``: zero-fit with the tokenizer run at each series' own length (its card's
  ``length`` set to null: fixed strides, tokens in proportion to length) instead of
  resampled to the card's length.

``zero`` cells score the dense read-outs (embedding, histogram, latent, pooled; with
``--all-readouts`` also one-hot tokens and the bag, whose probes take minutes per dataset)
with both probes of :mod:`benchmarks.probes`, the others the embedding, latent and pooled
read-outs (above 2,000 training series only the embedding, and zero-fit the latent); all
add ``pipeline`` (``SVC(kernel="linear")`` on the unscaled embedding: the user's two-step
Pipeline) and ``embedding+stats`` (the embedding with each channel's level and log spread
appended: whether the scale that instance normalisation removes helps). ``zero`` cells also
record the share of TEST token positions that agree between 1 and 2 torch threads.

``python -m benchmarks.transfer agreement --data-dir DIR --tokenizer pretrained`` records how
many TEST token positions agree between 1 and 2 torch threads for each dataset.
``python -m benchmarks.transfer report FILE --panel benchmarks/results/panel/thesis.jsonl``
prints the Markdown report: per configuration the means over the 18 equal-length datasets
beside per-dataset training (``vqvae`` of the panel, mean over its seeds) and the
raw-series baselines, with win / tie / loss and Wilcoxon p against per-dataset training.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.presets import ALL, EQUAL

#: The dataset-level folds of the development panel.
FOLDS = tuple(tuple(sorted(ALL)[k::4]) for k in range(4))


def fold_of(dataset: str) -> int | None:
    """The fold that leaves ``dataset`` out of the corpus (None outside the panel)."""
    return next((k for k, fold in enumerate(FOLDS) if dataset in fold), None)


def _native_copy(tokenizer: Path, workdir: Path) -> Path:
    """The tokenizer with ``length: null``: the same weights run at each series' length."""
    target = workdir / f"{tokenizer.name}-native"
    if not target.exists():
        shutil.copytree(tokenizer, target, ignore=shutil.ignore_patterns("checkpoint*", "step*"))
        card = json.loads((target / "card.json").read_text())
        card["length"] = None
        (target / "card.json").write_text(json.dumps(card, indent=2))
    return target


def _stats(X: np.ndarray) -> np.ndarray:
    """Each channel's level and log spread, ``(n, 2C)``."""
    X = np.asarray(X, dtype=np.float64)
    return np.concatenate([X.mean(-1), np.log(X.std(-1) + 1e-12)], axis=1)


def _extra_probes(est, X_train, y_train, X_test, y_test, with_stats: bool = True) -> dict:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler
    from sklearn.svm import SVC

    from benchmarks.probes import SVC_MAX_TRAIN, _probe

    Z_train, Z_test = est.transform(X_train), est.transform(X_test)
    big = len(y_train) > SVC_MAX_TRAIN
    out = {}
    start = time.perf_counter()
    # the thesis probe of the headline read-out, at every training-set size
    thesis = make_pipeline(MinMaxScaler(feature_range=(-1, 1)),
                           SVC(kernel="linear", C=1.0, gamma=1.0)).fit(Z_train, y_train)
    out["thesis"] = float(np.mean(thesis.predict(Z_test) == y_test))
    svc = None if big else SVC(kernel="linear").fit(Z_train, y_train)
    out["pipeline"] = {"svc": None if big else float(np.mean(svc.predict(Z_test) == y_test)),
                       "dim": int(Z_train.shape[1]), "seconds": time.perf_counter() - start}
    if not with_stats:
        return out
    start = time.perf_counter()
    S_train = np.hstack([Z_train, _stats(X_train)])
    S_test = np.hstack([Z_test, _stats(X_test)])
    row = {"dim": int(S_train.shape[1])}
    for probe in ("svc", "ridge"):
        clf = _probe(probe, "dense") if probe == "ridge" else make_pipeline(
            MinMaxScaler(feature_range=(-1, 1)), SVC(kernel="linear", C=1.0, gamma=1.0))
        if probe == "svc" and big:
            row[probe] = None
            continue
        clf.fit(S_train, y_train)
        row[probe] = float(np.mean(clf.predict(S_test) == y_test))
    row["seconds"] = time.perf_counter() - start
    out["embedding+stats"] = row
    return out


def _thread_agreement(est, X) -> float:
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = est.encode(X, output="tokens")
        torch.set_num_threads(2)
        two = est.encode(X, output="tokens")
    finally:
        torch.set_num_threads(before)
    return float(np.mean(one == two))


def run_cell(dataset: str, tokenizer: Path, config: str, data_dir: str, workdir: Path,
             seed: int = 0, all_readouts: bool = False) -> dict:
    from benchmarks.cells import load_dataset
    from benchmarks.probes import SVC_MAX_TRAIN, score_readouts
    from btvqvae import VQVAETransformer

    X_train, y_train, X_test, y_test, irregular = load_dataset(dataset, data_dir, "resample",
                                                               "interpolate")
    init = _native_copy(tokenizer, workdir) if config == "native" else tokenizer
    steps = int(config[2:]) if config.startswith("ft") else 0
    est = VQVAETransformer(init=str(init), max_steps=steps, random_state=seed)
    start = time.perf_counter()
    est.fit(X_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    est.transform(X_test)
    transform_seconds = time.perf_counter() - start
    extra = _extra_probes(est, X_train, y_train, X_test, y_test,
                          with_stats=len(X_train) <= SVC_MAX_TRAIN or all_readouts)
    known = {"embedding": {"svc": extra.pop("thesis")}}
    # the dense read-outs for the zero-fit tokenizer (every one with all_readouts: one-hot
    # tokens and the bag cost minutes of probes per dataset), the main three for the others
    names = ("embedding", "latent", "pooled")
    if config == "zero":
        names = None if all_readouts else ("embedding", "histogram", "latent", "pooled")
    if len(X_train) > SVC_MAX_TRAIN and not all_readouts:
        # ElectricDevices, FordA, FordB: ridge on thousands of 5,120-wide rows per read-out
        # costs minutes; the embedding (and, zero-fit, the latent) say what is needed
        names = ("embedding", "latent") if config == "zero" else ("embedding",)
    readouts = score_readouts(est, X_train, y_train, X_test, y_test, names, known=known)
    readouts.update(extra)
    record = {"dataset": dataset, "tokenizer": tokenizer.name, "config": config, "seed": seed,
              "fold": fold_of(dataset), "irregular": bool(irregular),
              "n_train": len(X_train), "n_test": len(X_test), "length": X_train.shape[-1],
              "fit_seconds": fit_seconds, "transform_seconds": transform_seconds,
              "n_tokens": int(est.n_tokens_), "perplexity": est.perplexity_,
              "reconstruction_mse": float(np.mean((est.reconstruct(X_test) - X_test) ** 2)),
              "readouts": readouts}
    if config == "zero":
        record["thread_agreement"] = _thread_agreement(est, X_test)
    return record


def run(args) -> None:
    out = Path(args.out)
    done = set()
    if out.is_file():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["dataset"], r["tokenizer"], r["config"], r["seed"]))
    tokenizers = [Path(t) for t in args.tokenizers]
    with tempfile.TemporaryDirectory() as tmp:
        for tokenizer in tokenizers:
            datasets = args.datasets or (FOLDS[args.fold] if args.fold is not None else ALL)
            for dataset in datasets:
                for config in args.configs:
                    key = (dataset, tokenizer.name, config, args.seed)
                    if key in done:
                        continue
                    start = time.perf_counter()
                    record = run_cell(dataset, tokenizer, config, args.data_dir, Path(tmp),
                                      args.seed, args.all_readouts)
                    with open(out, "a") as fh:
                        fh.write(json.dumps(record) + "\n")
                    emb = record["readouts"]["embedding"]
                    print(f"{dataset:28s} {tokenizer.name:10s} {config:7s} "
                          f"svc {emb['svc']} ridge {emb['ridge']:.3f} "
                          f"fit {record['fit_seconds']:.1f}s "
                          f"({time.perf_counter() - start:.0f}s)", flush=True)


def agreement(args) -> dict:
    """``{dataset: share of TEST token positions equal at 1 and 2 torch threads}``."""
    from benchmarks.cells import load_dataset
    from btvqvae import VQVAETransformer

    shares = {}
    for dataset in args.datasets or ALL:
        X_train, _, X_test, _, _ = load_dataset(dataset, args.data_dir, "resample",
                                                "interpolate")
        est = VQVAETransformer(init=args.tokenizer, max_steps=0).fit(X_train)
        shares[dataset] = _thread_agreement(est, X_test)
        print(f"{dataset:28s} {shares[dataset]:.5f}", flush=True)
    result = {"tokenizer": args.tokenizer, "per_dataset": shares,
              "mean": float(np.mean(list(shares.values()))),
              "min": float(np.min(list(shares.values())))}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


# ---------------------------------------------------------------------------------- report
def _panel(path: str) -> dict:
    """``{model: {dataset: record list}}`` of the per-dataset panel run."""
    panel: dict = {}
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        if "error" in r:
            continue
        panel.setdefault(r["model"], {}).setdefault(r["dataset"], []).append(r)
    return panel


def _score(record: dict, readout: str, probe: str):
    return (record.get("readouts", {}).get(readout) or {}).get(probe)


def _wilcoxon(a, b) -> tuple[int, int, int, float]:
    from scipy.stats import wilcoxon

    d = np.asarray(a) - np.asarray(b)
    wins, ties, losses = int(np.sum(d > 1e-9)), int(np.sum(np.abs(d) <= 1e-9)), \
        int(np.sum(d < -1e-9))
    p = float(wilcoxon(a, b).pvalue) if np.any(np.abs(d) > 1e-9) else 1.0
    return wins, ties, losses, p


def _label(record: dict) -> str:
    """A fold tokenizer's cells go by their configuration; other tokenizers' (a budget
    snapshot, a smaller corpus, Barlow Twins) add what sets them apart: ``zero:step1000``."""
    name = record["tokenizer"]
    if re.fullmatch(r"fold\d+", name):
        return record["config"]
    return f"{record['config']}:{re.sub(r'^fold[0-9]+-?', '', name)}"


def _records(files) -> list[dict]:
    return [json.loads(line) for file in files for line in Path(file).read_text().splitlines()]


def against(cell: dict, configs, datasets, ref: dict) -> list[dict]:
    """Per configuration: the embedding's thesis probe against per-dataset training."""
    rows = []
    for c in configs:
        common = [d for d in datasets if (d, c) in cell and d in ref
                  and _score(cell[(d, c)], "embedding", "svc") is not None]
        if not common:
            continue
        ours = [_score(cell[(d, c)], "embedding", "svc") for d in common]
        theirs = [ref[d] for d in common]
        w, t, loss, p = _wilcoxon(ours, theirs)
        zero = [_score(cell[(d, "zero")], "embedding", "svc") for d in common
                if (d, "zero") in cell]
        # the 1000-step snapshot is the like-for-like reference of the 1000-step variants
        early = [_score(cell[(d, "zero:step1000")], "embedding", "svc") for d in common
                 if (d, "zero:step1000") in cell]
        rows.append({
            "step1000_mean": float(np.mean(early)) if len(early) == len(common) else None,
            "config": c, "datasets": len(common), "mean": float(np.mean(ours)),
            "zero_fit_mean": float(np.mean(zero)) if len(zero) == len(common) else None,
            "per_dataset_mean": float(np.mean(theirs)), "wins": w, "ties": t, "losses": loss,
            "p": p, "median_fit_s": float(np.median([cell[(d, c)]["fit_seconds"]
                                                     for d in common])),
            "median_transform_s": float(np.median([cell[(d, c)]["transform_seconds"]
                                                   for d in common]))})
    return rows


def write_card_metrics(args) -> dict:
    """Put the cross-validated accuracies (and the thread agreement) into a tokenizer's card:
    the numbers travel with the weights, as torchvision's ``Weights.meta`` does."""
    records = _records(args.files)
    panel = _panel(args.panel)
    datasets = [d for d in EQUAL if any(r["dataset"] == d for r in records)]
    cell = {(r["dataset"], _label(r)): r for r in records}
    configs = sorted({_label(r) for r in records if ":" not in _label(r)})
    ref = {}
    for d in datasets:
        values = [_score(r, "embedding", "svc") for r in panel.get("vqvae", {}).get(d, [])]
        if values:
            ref[d] = float(np.mean(values))
    metrics = {
        "protocol": "dataset-level 4-fold cross-validation on the development panel: each "
                    "fold's tokenizer pretrained without the fold's datasets (same recipe), "
                    "embedding + MinMaxScaler(-1, 1) + SVC(kernel='linear', C=1), default "
                    "UCR splits; per-dataset training = the panel's vqvae at the defaults",
        "source": "benchmarks/results/pretrained/transfer.md",
        "equal_length_datasets": len(datasets),
        "against_per_dataset_training": against(cell, configs, datasets, ref),
    }
    if args.timing:
        timed = _records([args.timing])
        metrics["median_fit_seconds_as_the_panel_measured"] = {
            c: float(np.median([r["fit_seconds"] for r in timed if _label(r) == c]))
            for c in sorted({_label(r) for r in timed})}
    if args.agreement:
        agree = json.loads(Path(args.agreement).read_text())
        metrics["token_agreement_1_vs_2_threads"] = {"mean": agree["mean"],
                                                     "min": agree["min"]}
    card_file = Path(args.tokenizer) / "card.json"
    card = json.loads(card_file.read_text())
    card["metrics"] = metrics
    card_file.write_text(json.dumps(card, indent=2) + "\n")
    return metrics


def report(args) -> str:
    records = _records(args.files)
    panel = _panel(args.panel)
    datasets = [d for d in EQUAL if any(r["dataset"] == d for r in records)]
    configs = sorted({_label(r) for r in records}, key=lambda c: (":" in c, c != "zero", c))
    cell = {(r["dataset"], _label(r)): r for r in records}

    def per_dataset(model, readout, probe, key=None):
        out = {}
        for d in datasets:
            values = [_score(r, readout, probe) if key is None else r.get(key)
                      for r in panel.get(model, {}).get(d, [])]
            values = [v for v in values if v is not None]
            if values:
                out[d] = float(np.mean(values))
        return out

    lines = [f"# Pretrained tokenizers, out-of-corpus folds ({len(datasets)} equal-length "
             "development datasets)", "",
             f"Source: {', '.join(f'`{f}`' for f in args.files)}; per-dataset training and "
             f"baselines: `{args.panel}` "
             "(mean over each dataset's seeds).", ""]
    readouts = [("embedding", "svc"), ("embedding", "ridge"), ("pipeline", "svc"),
                ("embedding+stats", "svc"), ("embedding+stats", "ridge"), ("tokens", "svc"),
                ("pooled", "ridge"), ("bag", "ridge"), ("latent", "svc"), ("latent", "ridge")]
    lines += ["## Mean accuracy by read-out and probe", "",
              "Each mean is over the datasets the cell scored (their count in parentheses): "
              "compare two entries only where the counts and the datasets agree.", "",
              "| read-out | probe | " + " | ".join(configs) + " | per-dataset (vqvae) |",
              "|---|---|" + "---|" * (len(configs) + 1)]
    for readout, probe in readouts:
        row = []
        for c in configs:
            values = [_score(cell[(d, c)], readout, probe) for d in datasets if (d, c) in cell]
            values = [v for v in values if v is not None]
            row.append(f"{np.mean(values):.3f} ({len(values)})" if values else "—")
        ref_readout = "embedding" if readout == "pipeline" else readout
        ref = per_dataset("vqvae", ref_readout, probe)
        ref_text = f"{np.mean(list(ref.values())):.3f} ({len(ref)})" if ref and \
            readout not in ("pipeline", "embedding+stats") else "—"
        lines.append(f"| {readout} | {probe} | " + " | ".join(row) + f" | {ref_text} |")

    ref = per_dataset("vqvae", "embedding", "svc")
    lines += ["", "## Against per-dataset training (embedding, thesis probe: MinMax + linear "
              "SVC)", "", "Variants (`:step1000` the fold tokenizers at 1000 of their 3000 "
              "steps, `:small` 23 of fold 0's 93 corpus datasets, `:bt` the Barlow Twins "
              "VQ-VAE, both 1000 steps) compare with zero-fit at 3000 and at 1000 steps on "
              "the same datasets.", "",
              "| configuration | datasets | mean | zero-fit on them | zero-fit at 1000 steps "
              "on them | per-dataset mean | win / tie / loss | Wilcoxon p | median fit s | "
              "median transform s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row in against(cell, configs, datasets, ref):
        zero_text = "—" if row["zero_fit_mean"] is None else f"{row['zero_fit_mean']:.3f}"
        early = "—" if row["step1000_mean"] is None else f"{row['step1000_mean']:.3f}"
        lines.append(f"| {row['config']} | {row['datasets']} | {row['mean']:.3f} | "
                     f"{zero_text} | {early} | {row['per_dataset_mean']:.3f} | {row['wins']} / "
                     f"{row['ties']} / {row['losses']} | {row['p']:.3f} | "
                     f"{row['median_fit_s']:.1f} | {row['median_transform_s']:.2f} |")
    fit_ref = per_dataset("vqvae", None, None, key="fit_seconds")
    lines.append(f"| per-dataset vqvae | {len(fit_ref)} | | | | | | | "
                 f"{np.median(list(fit_ref.values())):.1f} | |")

    if args.timing:
        timed = _records([args.timing])
        lines += ["", f"## Fit time as the panel measured it (`{args.timing}`)", "",
                  "One torch thread per cell, two cells sharing the two cores, as the panel's "
                  "`fit_seconds` were taken; the cells above ran beside up to five other "
                  "jobs.", "", "| configuration | datasets | median fit s | per-dataset "
                  "median fit s (panel) | ratio |", "|---|---|---|---|---|"]
        for c in sorted({_label(r) for r in timed}):
            rows = [r for r in timed if _label(r) == c and r["dataset"] in fit_ref]
            ours = float(np.median([r["fit_seconds"] for r in rows]))
            theirs = float(np.median([fit_ref[r["dataset"]] for r in rows]))
            lines.append(f"| {c} | {len(rows)} | {ours:.1f} | {theirs:.1f} | "
                         f"{ours / theirs:.2f} |")

    lines += ["", "## Baselines on the same datasets (panel)", "", "| model | mean |", "|---|---|"]
    for model in ("raw_svc", "minirocket", "weasel2"):
        acc = per_dataset(model, None, None, key="accuracy")
        if acc:
            lines.append(f"| {model} | {np.mean(list(acc.values())):.3f} ({len(acc)}) |")

    agreement = [cell[(d, "zero")]["thread_agreement"] for d in datasets if (d, "zero") in cell]
    if agreement:
        lines += ["", f"Token agreement between 1 and 2 torch threads (zero-fit, TEST splits): "
                  f"mean {np.mean(agreement):.4f}, min {np.min(agreement):.4f}."]

    lines += ["", "## Per dataset (embedding, thesis probe)", "",
              "| dataset | fold | " + " | ".join(configs) + " | per-dataset | raw_svc | "
              "minirocket |", "|---|---|" + "---|" * (len(configs) + 3)]
    raw = per_dataset("raw_svc", None, None, key="accuracy")
    mr = per_dataset("minirocket", None, None, key="accuracy")
    for d in datasets:
        row = [f"{_score(cell[(d, c)], 'embedding', 'svc'):.3f}" if (d, c) in cell and
               _score(cell[(d, c)], "embedding", "svc") is not None else "—" for c in configs]
        lines.append(f"| {d} | {fold_of(d)} | " + " | ".join(row) +
                     f" | {ref.get(d, float('nan')):.3f} | {raw.get(d, float('nan')):.3f} | "
                     f"{mr.get(d, float('nan')):.3f} |")
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command")
    r = sub.add_parser("run", help="evaluate tokenizers (the default command)")
    r.add_argument("--data-dir", required=True)
    r.add_argument("--tokenizers", nargs="+", required=True,
                   help="tokenizer folders (benchmarks.pretrain's --out)")
    r.add_argument("--fold", type=int, choices=range(len(FOLDS)),
                   help="evaluate on this fold's datasets only")
    r.add_argument("--datasets", nargs="*", help="instead of --fold: these datasets")
    r.add_argument("--configs", nargs="+", default=["zero", "ft50", "ft150", "native"])
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--all-readouts", action="store_true",
                   help="also probe one-hot tokens and the bag in zero-fit cells (slow)")
    r.add_argument("--out", required=True)
    r.add_argument("--torch-threads", type=int, default=0)
    a = sub.add_parser("agreement", help="tokens at 1 vs 2 torch threads, TEST splits")
    a.add_argument("--data-dir", required=True)
    a.add_argument("--tokenizer", default="pretrained")
    a.add_argument("--datasets", nargs="*")
    a.add_argument("--out")
    c = sub.add_parser("card", help="write the measured accuracies into a tokenizer's card")
    c.add_argument("tokenizer")
    c.add_argument("files", nargs="+")
    c.add_argument("--panel", default="benchmarks/results/panel/thesis.jsonl")
    c.add_argument("--agreement", help="agreement.json of the same tokenizer")
    c.add_argument("--timing", help="cells rerun to time fits as the panel did")
    s = sub.add_parser("report", help="the Markdown report of results files")
    s.add_argument("files", nargs="+")
    s.add_argument("--timing", help="cells rerun to time fits as the panel did")
    s.add_argument("--panel", default="benchmarks/results/panel/thesis.jsonl")
    s.add_argument("--out")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "report":
        text = report(args)
        if args.out:
            Path(args.out).write_text(text)
        print(text)
        return 0
    if args.command == "card":
        print(json.dumps(write_card_metrics(args), indent=2))
        return 0
    if args.command == "agreement":
        agreement(args)
        return 0
    if args.command != "run":
        _parser().print_help()
        return 2
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
