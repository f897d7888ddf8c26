"""Aggregation over seeds, paired comparisons and Markdown tables of benchmark results.

Works on the DataFrame of :func:`benchmarks.summarize.load_results` (one row per cell).
Mean ± std are over seeds (sample std, ``ddof=1``; a single seed shows the mean alone).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .models import BASELINES

__all__ = ["FORMATS", "comparison_table", "main_table", "markdown", "metric_table",
           "model_order", "paired_comparison", "seed_stats", "write_report"]

#: Format of each metric in the tables (anything else: 3 decimals).
FORMATS = {"intrinsic_dimension": ".1f", "embedding_dim": ".0f", "codebook_perplexity": ".2f",
           "codebook_used": ".1f", "train_loss": ".4f",
           "reconstruction_mse": ".4f", "fit_seconds": ".1f", "transform_seconds": ".2f",
           "evaluate_seconds": ".1f", "peak_rss_mb": ".0f"}


def model_order(models) -> list[str]:
    """vqvae, bt_g* by increasing γ, then the baselines, then anything else by name."""
    def key(name):
        if name == "vqvae":
            return (0, 0.0, name)
        if name.startswith("bt_g"):
            try:
                return (1, float(name[4:]), name)
            except ValueError:
                pass
        if name in BASELINES:
            return (2, BASELINES.index(name), name)
        return (3, 0.0, name)
    return sorted(set(models), key=key)


def seed_stats(df: pd.DataFrame, metric: str, datasets, models):
    """``(mean, std)`` DataFrames datasets × models of ``metric`` over seeds."""
    values = pd.to_numeric(df[metric], errors="coerce") if metric in df else \
        pd.Series(np.nan, index=df.index)
    grouped = values.groupby([df["dataset"], df["model"]])
    mean = grouped.mean().unstack().reindex(index=datasets, columns=models)
    std = grouped.std(ddof=1).unstack().reindex(index=datasets, columns=models)
    return mean, std


def _fmt(mean, std=float("nan"), spec=".3f") -> str:
    if mean is None or not np.isfinite(mean):
        return "—"
    text = format(mean, spec)
    return text + (f" ± {format(std, spec)}" if std is not None and np.isfinite(std) else "")


def markdown(header, rows) -> str:
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def main_table(mean, std, anchors=None, scopes=(), spec=".3f", seeds=None) -> str:
    """Datasets × models (mean ± std, best of each row in bold), anchor columns, mean rows.

    ``scopes``: ``(label, datasets)`` pairs; each adds a row of means over those of its
    datasets where every model has a value (so the columns average the same datasets).
    ``seeds``: optional ``{dataset: text}`` shown in a "seeds" column after the dataset.
    """
    anchors = anchors or {}
    rows = []
    for dataset in mean.index:
        values = mean.loc[dataset]
        best = values.max(skipna=True)
        cells = []
        for model in mean.columns:
            text = _fmt(values[model], std.loc[dataset, model], spec)
            close = np.isfinite(values[model]) and abs(values[model] - best) <= 1e-9
            cells.append(f"**{text}**" if close else text)
        cells += [_fmt(table.get(dataset, np.nan), spec=spec) for table in anchors.values()]
        rows.append([dataset] + ([seeds.get(dataset, "—")] if seeds is not None else [])
                    + cells)
    for label, datasets in scopes:
        complete = [d for d in datasets if d in mean.index and mean.loc[d].notna().all()]
        if not complete:
            continue
        cells = [_fmt(mean.loc[complete, m].mean(), spec=spec) for m in mean.columns]
        for table in anchors.values():
            found = [table[d] for d in complete if d in table]
            cells.append(_fmt(np.mean(found), spec=spec) if len(found) == len(complete)
                         else "—")
        rows.append([f"*mean, {label} (n={len(complete)})*"]
                    + ([""] if seeds is not None else []) + cells)
    header = (["dataset"] + (["seeds"] if seeds is not None else []) + list(mean.columns)
              + [f"{name} (published)" for name in anchors])
    return markdown(header, rows)


def metric_table(mean, std, metric) -> str | None:
    """Datasets × models of one metric; models without any value are left out (None if all)."""
    keep = [m for m in mean.columns if mean[m].notna().any()]
    if not keep:
        return None
    spec = FORMATS.get(metric, ".3f")
    rows = [[d] + [_fmt(mean.loc[d, m], std.loc[d, m], spec) for m in keep] for d in mean.index]
    return markdown(["dataset"] + keep, rows)


def paired_comparison(a: pd.Series, b: pd.Series, tol: float = 1e-9) -> dict:
    """Wins / ties / losses of ``a`` over ``b`` across datasets and a Wilcoxon signed-rank p.

    Differences within ``tol`` are ties and are left out of the test (Wilcoxon's original
    zero handling). ``p`` is NaN when no dataset differs by more than ``tol``.
    """
    from scipy.stats import wilcoxon

    both = a.notna() & b.notna()
    diff = (a[both] - b[both]).astype(float)
    wins, losses = int((diff > tol).sum()), int((diff < -tol).sum())
    nonzero = diff[diff.abs() > tol].to_numpy()
    p = float("nan")
    if len(nonzero):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = float(wilcoxon(nonzero).pvalue)
        except ValueError:
            pass
    return {"n": int(both.sum()), "wins": wins, "ties": int(both.sum()) - wins - losses,
            "losses": losses, "mean_diff": float(diff.mean()) if len(diff) else float("nan"),
            "median_diff": float(diff.median()) if len(diff) else float("nan"), "p": p}


def comparison_table(mean, pairs, scopes, tol=1e-9) -> str | None:
    """One row per (model a vs model b, scope); ``mean`` is datasets × models."""
    rows = []
    for a, b in pairs:
        if a not in mean.columns or b not in mean.columns:
            continue
        for label, datasets in scopes:
            subset = [d for d in datasets if d in mean.index]
            if not subset:
                continue
            c = paired_comparison(mean.loc[subset, a], mean.loc[subset, b], tol)
            if c["n"] == 0:
                continue
            p = "—" if math.isnan(c["p"]) else f"{c['p']:.3g}"
            record = f"{c['wins']} / {c['ties']} / {c['losses']}"
            rows.append([f"{a} vs {b}", label, c["n"], record, f"{c['mean_diff']:+.3f}",
                         f"{c['median_diff']:+.3f}", p])
    if not rows:
        return None
    return markdown(["comparison", "datasets", "n", "win / tie / loss", "mean Δ", "median Δ",
                     "Wilcoxon p"], rows)


def write_report(text: str, out: str | None) -> None:
    """Write a Markdown report to ``out``, or print it when ``out`` is None."""
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
