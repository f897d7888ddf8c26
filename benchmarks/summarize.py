"""Summarise benchmark results: Markdown tables and PNG figures.

    python -m benchmarks.summarize RESULTS.jsonl [MORE.jsonl ...] --out-dir DIR \\
        [--anchors-dir ../shared/anchors] [--anchors MiniROCKET T-Loss] [--tie-tol 1e-9]

Writes ``DIR/summary.md`` and ``DIR/accuracy_vs_gamma.png``, ``DIR/accuracy_vs_fit_time.png``:

- the main table: datasets × models, test ``accuracy`` mean ± std over seeds (token models and
  raw_svc: the linear-SVC probe ``svc_linear``; raw_1nn: 1-NN; minirocket: ridge), how many
  seeds ran (a partly finished sweep summarises honestly), the best
  of each row in bold, published anchors when ``--anchors-dir`` is given, and mean rows over
  the equal-length datasets (the headline statistic) and over all datasets;
- BT-VQVAE vs VQ-VAE per γ and each token model vs raw_svc: win / tie / loss counts of the
  per-dataset mean ``svc_linear`` (tie: within ``--tie-tol``) and a Wilcoxon signed-rank p;
- one table per metric (probes, clustering, intrinsic dimension, codebook, reconstruction,
  time, memory);
- the settings of each model (parameters differing from the defaults) and provenance.

"Equal-length" datasets are those whose records say ``irregular: false`` (18 of the panel);
DodgerLoopDay and GesturePebbleZ1 (``irregular: true``) only enter the "all" rows. When a
file holds several records of one dataset × model × seed, the newest is used.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

from .records import jsonable, read_records
from .tables import (
    comparison_table,
    main_table,
    markdown,
    metric_table,
    model_order,
    seed_stats,
)

__all__ = ["accuracy_overview", "load_results", "main", "summarize"]

#: Metrics with a table of their own (evaluate's keys except the constants of a dataset).
SUMMARY_METRICS = ("svc_linear", "knn_1", "knn_5", "knn_10", "silhouette_mean", "ari_mean",
                   "intrinsic_dimension", "embedding_dim", "codebook_used", "codebook_entropy",
                   "codebook_perplexity", "distinct_sequences", "reconstruction_mse",
                   "train_loss", "fit_seconds", "transform_seconds", "evaluate_seconds",
                   "peak_rss_mb")


def _frame(records) -> pd.DataFrame:
    records = [r for r in records if "error" not in r]
    if not records:
        raise ValueError("no finished cells in the results")
    df = pd.DataFrame(records)
    df = df.sort_values("timestamp", kind="stable")
    df = df.drop_duplicates(["dataset", "model", "seed"], keep="last").reset_index(drop=True)
    if "irregular" not in df:
        df["irregular"] = False
    df["irregular"] = df["irregular"].fillna(False).astype(bool)
    return df


def load_results(paths) -> pd.DataFrame:
    """One row per cell from one or more JSON-lines files (newest record of a cell wins)."""
    df = _frame([r for path in paths for r in read_records(path)])
    hashes = df.groupby("model")["settings_hash"].nunique()
    for model in hashes[hashes > 1].index:
        warnings.warn(f"model {model!r} was run with {hashes[model]} different settings; "
                      "datasets may not be comparable (see the settings section)", stacklevel=2)
    return df


def _datasets(df) -> tuple[list[str], list[str]]:
    irregular = df.groupby("dataset")["irregular"].any()
    names = sorted(irregular.index, key=lambda d: (d.lower(), d))
    return [d for d in names if not irregular[d]], [d for d in names if irregular[d]]


def _scopes(equal, irregular):
    scopes = [("equal-length", equal)] if equal else []
    return scopes + ([("all", equal + irregular)] if irregular else [])


def accuracy_overview(records) -> str:
    """The main accuracy table of some records (no anchors), e.g. at the end of a run."""
    df = _frame(records)
    equal, irregular = _datasets(df)
    mean, std = seed_stats(df, "accuracy", equal + irregular, model_order(df["model"]))
    return main_table(mean, std, scopes=_scopes(equal, irregular))


def _settings_section(df) -> str:
    from .models import default_params

    defaults = {family: default_params(family) for family in ("vqvae", "bt")}
    rows = []
    for model in model_order(df["model"]):
        part = df[df["model"] == model]
        family = part["family"].iloc[0]
        params = part["params"].iloc[-1] or {}
        if family in defaults:
            base = {k: v for k, v in defaults[family].items() if k != "random_state"}
            shown = {k: v for k, v in params.items()
                     if k in base and jsonable(base[k]) != v}
        else:
            shown = {k: v for k, v in params.items() if k != "random_state"}
        text = ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "defaults"
        seeds = " ".join(str(s) for s in sorted(part["seed"].unique()))
        rows.append([model, " ".join(sorted(part["settings_hash"].unique())), seeds,
                     part["dataset"].nunique(), text])
    return markdown(["model", "settings hash", "seeds", "datasets", "parameters (non-default)"],
                    rows)


def _provenance(df) -> list[str]:
    machines = {(m.get("platform"), m.get("cpu_count"), m.get("torch"), m.get("torch_threads"))
                for m in df["machine"] if isinstance(m, dict)}
    versions = ", ".join(sorted(map(str, df["version"].unique())))
    period = f"{df['timestamp'].min()} … {df['timestamp'].max()}"
    lines = [f"- {len(df)} cells; btvqvae {versions}; {period}"]
    for platform_, cpus, torch, threads in sorted(machines, key=str):
        lines.append(f"- machine: {platform_}, {cpus} CPUs, torch {torch}, "
                     f"torch threads per cell: {threads}")
    methods = ", ".join(sorted(map(str, df["memory_method"].dropna().unique())))
    lines.append(f"- peak memory measured as: {methods or 'n/a'} (see benchmarks.cells)")
    return lines


def summarize(paths, out_dir, anchors_dir=None, anchors=None, tie_tol=1e-9) -> Path:
    """Write ``summary.md`` and the figures into ``out_dir``; return the Markdown path."""
    from .anchors import DEFAULT_ANCHORS, load_anchors
    from .figures import accuracy_vs_fit_time, accuracy_vs_gamma

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    df = load_results(paths)
    equal, irregular = _datasets(df)
    datasets, models = equal + irregular, model_order(df["model"])
    scopes = _scopes(equal, irregular)
    published = load_anchors(anchors_dir, anchors or DEFAULT_ANCHORS) if anchors_dir else {}

    acc_mean, acc_std = seed_stats(df, "accuracy", datasets, models)
    counts = df.groupby(["dataset", "model"])["seed"].nunique().groupby("dataset").agg(
        ["min", "max"])
    seeds = {d: str(lo) if lo == hi else f"{lo}–{hi}"
             for d, lo, hi in counts.itertuples()}
    svc_mean, _ = seed_stats(df, "svc_linear", datasets, models)
    fit_mean, _ = seed_stats(df, "fit_seconds", datasets, models)
    gammas = {m: float(g) for m, g in df.groupby("model")["gamma"].first().items()
              if m.startswith("bt_g") and pd.notna(g)}
    bt = [m for m in models if m in gammas]
    tokens = [m for m in models if m == "vqvae" or m in gammas]

    doc = ["# Benchmark summary", "", *_provenance(df), "",
           "## Test accuracy (mean ± std over seeds)", "",
           "Token models and raw_svc: linear SVC probe (`svc_linear`); raw_1nn: 1-NN "
           "Euclidean on the raw series; minirocket: MiniRocket + ridge. Seeds: how many seeds "
           "each model of the row ran (a range when they differ). Bold: best of the row."
           + (" Published: default-split accuracy from the anchors files." if published else ""),
           "", main_table(acc_mean, acc_std, published, scopes, seeds=seeds), ""]
    sections = [("BT-VQVAE vs VQ-VAE (per-dataset mean `svc_linear`)",
                 [(m, "vqvae") for m in bt]),
                ("Token models vs the raw series (`svc_linear` vs raw_svc)",
                 [(m, "raw_svc") for m in tokens])]
    for title, pairs in sections:
        table = comparison_table(svc_mean, pairs, scopes, tie_tol)
        if table:
            note = (f"Δ = first − second; ties within {tie_tol:g}; Wilcoxon signed-rank test "
                    "on the non-tied datasets.")
            doc += [f"## {title}", "", note, "", table, ""]
    figures = [("accuracy_vs_gamma.png", "Accuracy vs γ (γ = 0: VQ-VAE)",
                lambda p: accuracy_vs_gamma(acc_mean, acc_std, gammas, p)),
               ("accuracy_vs_fit_time.png", "Accuracy vs fit time",
                lambda p: accuracy_vs_fit_time(acc_mean, fit_mean, p))]
    for name, title, draw in figures:
        if draw(out_dir / name):
            doc += [f"## {title}", "", f"![{title}]({name})", ""]
    doc += ["## Per-metric tables (mean ± std over seeds)", ""]
    for metric in SUMMARY_METRICS:
        mean, std = seed_stats(df, metric, datasets, models)
        table = metric_table(mean, std, metric)
        if table:
            doc += [f"### {metric}", "", table, ""]
    doc += ["## Settings", "", _settings_section(df), ""]
    path = out_dir / "summary.md"
    path.write_text("\n".join(doc), encoding="utf-8")
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.summarize",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", help="JSON-lines files of benchmarks.thesis")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--anchors-dir", help="folder with tsml_*_accuracy.csv / "
                   "tloss_results_ucr.csv (optional)")
    p.add_argument("--anchors", nargs="+", help="anchor columns (default: MiniROCKET T-Loss)")
    p.add_argument("--tie-tol", type=float, default=1e-9,
                   help="accuracy differences within this are ties (default 1e-9)")
    args = p.parse_args(argv)
    try:
        path = summarize(args.results, args.out_dir, args.anchors_dir, args.anchors,
                         args.tie_tol)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
