"""The Markdown summary of :mod:`benchmarks.token_sequence` results files.

Per tokenizer source (``per-dataset``, ``zero-fit``) and read-out: the mean test accuracy over
the datasets (each dataset's mean over its seeds), on how many datasets it beats, ties and
loses to ``embedding_svc`` on the same tokens (with the Wilcoxon signed-rank p of the dataset
means), and the median over the datasets of ``transform + read-out`` seconds divided by the
embedding's ``transform + embedding_svc`` seconds. Read-outs that did not run on the largest
datasets are averaged over the datasets they ran on, beside ``embedding_svc`` on the same
ones. Then, per dataset, the best token read-out against MiniRocket on the raw series: what
the tokens lose, and where.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

__all__ = ["load", "report"]

BASE = "embedding_svc"
RAW = "raw_minirocket"


def load(paths) -> tuple[dict, list[str]]:
    """``{source: {dataset: {readout: [(accuracy, seconds incl. transform, seed), ...]}}}``
    and the cells scored twice (files of different read-outs share some) with different
    accuracies: the same seed on the same CPU and thread count must give the same tokens."""
    table = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    seen, conflicts = {}, []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            r = json.loads(line)
            for name, row in r["readouts"].items():
                key = (r["source"], r["dataset"], name, r["seed"])
                if key in seen:
                    if seen[key] != row["accuracy"]:
                        conflicts.append(" ".join(map(str, key)))
                    continue
                seen[key] = row["accuracy"]
                extra = 0.0 if name == RAW else r["transform_seconds"]
                table[r["source"]][r["dataset"]][name].append(
                    (row["accuracy"], row["seconds"] + extra, r["seed"]))
    return table, conflicts


def _mean(rows) -> float:
    return float(np.mean([a for a, _, _ in rows]))


def _summary(by_dataset: dict) -> list[str]:
    from scipy.stats import wilcoxon

    names = sorted({n for d in by_dataset.values() for n in d},
                   key=lambda n: (n != BASE, n == RAW, n))
    common = [d for d, rows in by_dataset.items() if set(names) <= set(rows)]
    lines = ["| read-out | datasets | seeds | mean | embedding_svc on them | W/T/L vs embedding | "
             f"p | time / embedding's | mean on the {len(common)} where all ran |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        ds = [d for d, rows in by_dataset.items() if name in rows and BASE in rows]
        acc = np.array([_mean(by_dataset[d][name]) for d in ds])
        base = np.array([_mean(by_dataset[d][BASE]) for d in ds])
        seeds = sorted({len(by_dataset[d][name]) for d in ds})
        wins, ties = int(np.sum(acc > base + 1e-9)), int(np.sum(np.abs(acc - base) <= 1e-9))
        p = wilcoxon(acc, base).pvalue if name != BASE and np.any(acc != base) else np.nan
        ratio = np.median([np.median([s for _, s, _ in by_dataset[d][name]]) /
                           np.median([s for _, s, _ in by_dataset[d][BASE]]) for d in ds])
        lines.append(f"| {name} | {len(ds)} | {'/'.join(map(str, seeds))} | {acc.mean():.3f} | "
                     f"{base.mean():.3f} | {wins}/{ties}/{len(ds) - wins - ties} | "
                     f"{p:.3g} | {ratio:.2f} | "
                     f"{np.mean([_mean(by_dataset[d][name]) for d in common]):.3f} |")
    return lines


def _panel_mse(panel: str | None) -> dict:
    """``{dataset: mean reconstruction MSE}`` of the panel's ``vqvae`` cells (TEST, scaled)."""
    if not panel or not Path(panel).is_file():
        return {}
    values = defaultdict(list)
    for line in Path(panel).read_text().splitlines():
        r = json.loads(line)
        if r.get("model") == "vqvae" and r.get("reconstruction_mse") is not None:
            values[r["dataset"]].append(r["reconstruction_mse"])
    return {d: float(np.mean(v)) for d, v in values.items()}


def _gaps(by_dataset: dict, best: str, mse: dict) -> list[str]:
    seq = "sequence_minirocket"
    lines = [f"| dataset | {BASE} | {seq} | {best} | raw MiniRocket | tokens lose | "
             "panel reconstruction MSE |", "|---|---|---|---|---|---|---|"]
    rows = [(d, r) for d, r in by_dataset.items() if best in r and RAW in r]
    rows.sort(key=lambda dr: _mean(dr[1][RAW]) - _mean(dr[1][best]), reverse=True)
    gaps = []
    for d, r in rows:
        gaps.append(_mean(r[RAW]) - _mean(r[best]))
        seq_acc = f"{_mean(r[seq]):.3f}" if seq in r else ""
        mse_cell = f"{mse[d]:.4f}" if d in mse else ""
        lines.append(f"| {d} | {_mean(r[BASE]):.3f} | {seq_acc} | {_mean(r[best]):.3f} | "
                     f"{_mean(r[RAW]):.3f} | {gaps[-1]:+.3f} | {mse_cell} |")
    if not gaps:
        return []
    lines.append(f"| mean | | | | | {np.mean(gaps):+.3f} | |")
    return lines


def best_readout(by_dataset: dict) -> str:
    """The token read-out with the highest mean among those that ran on every dataset."""
    names = {n for rows in by_dataset.values() for n in rows} - {RAW}
    everywhere = [n for n in sorted(names) if all(n in rows for rows in by_dataset.values())]
    return max(everywhere, key=lambda n: np.mean([_mean(rows[n])
                                                  for rows in by_dataset.values()]))


def report(paths, panel: str | None = None) -> str:
    """The summary of the results files ``paths`` as Markdown; ``panel``: the thesis results
    whose ``vqvae`` reconstruction errors go beside the gaps."""
    table, conflicts = load(paths)
    mse = _panel_mse(panel)
    out = ["# Tokens as a series: every read-out of the same tokens", "",
           "Written by `python -m benchmarks.token_sequence --report ...`; the runs' commands "
           "are in the module docstring. Accuracy: mean over the datasets of each dataset's "
           "mean over seeds. Time: median over the datasets of (tokenizing TRAIN and TEST + "
           "read-out fit and predict) / (the same for `embedding_svc`); `raw_minirocket` "
           "does not tokenize. Cells scored in two files (the check that a rerun gave the "
           f"same tokens) that disagree: {len(conflicts)}"
           + (f" ({', '.join(conflicts)})" if conflicts else "") + ".", ""]
    for source in sorted(table):
        best = best_readout(table[source])
        out += [f"## Tokenizer: {source}", ""] + _summary(table[source]) + [""]
        gaps = _gaps(table[source], best, mse)
        if gaps:
            out += [f"What the tokens lose: the best token read-out, `{best}`, against "
                    "MiniRocket on the raw series, largest gap first; the reconstruction MSE "
                    "(standardised units) is the panel's per-dataset VQ-VAE at the defaults.",
                    ""] + gaps + [""]
    return "\n".join(out)
