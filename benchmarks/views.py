"""Does a configuration beat a reference one: paired, read-out by read-out, probe by probe.

Built for the Barlow Twins question (does BT-VQVAE with these views beat the plain
VQ-VAE?), but any two configurations of :mod:`benchmarks.readouts` can be paired::

    python -m benchmarks.views benchmarks/results/rvq/s8_w32.jsonl \\
        benchmarks/results/views/*.jsonl --reference "vqvae (defaults)" \\
        --out benchmarks/results/views/screen.md

``--seeds 0`` keeps one seed (a screen run at seed 0 only, seen beside seed 0 of the rest).

For every configuration other than ``--reference`` the report keeps only the
(dataset, seed) cells both ran, averages each dataset over those seeds and gives, per
read-out and probe: both means, the mean difference, win / tie / loss over the datasets and
a Wilcoxon signed-rank p (:func:`benchmarks.tables.paired_comparison`). It then compares
each side's *best* read-out (the read-out × probe with the highest mean on those cells),
gives the median fit times of the paired cells, and tabulates the per-dataset difference on
``--readout`` (default ``embedding``, the estimators' default output) with the linear SVC.
"""

from __future__ import annotations

import argparse
import math
import sys

import pandas as pd

from .readouts import DISCRETE, add_selection_arguments, dataset_means, load_frame, select
from .tables import markdown, paired_comparison, write_report

__all__ = ["main", "paired_frame", "report"]

READOUTS = ("tokens", "embedding", "histogram", "pooled", "bag", "latent")


def paired_frame(df: pd.DataFrame, config: str, reference: str) -> pd.DataFrame:
    """Rows of ``config`` and ``reference`` on the (dataset, seed) cells both ran."""
    a = df[df["config"] == config]
    b = df[df["config"] == reference]
    shared = set(zip(a["dataset"], a["seed"], strict=True)) & set(
        zip(b["dataset"], b["seed"], strict=True))
    both = pd.concat([a, b])
    keep = [(d, s) in shared for d, s in zip(both["dataset"], both["seed"], strict=True)]
    return both[keep]


def _means(rows: pd.DataFrame, config: str) -> pd.DataFrame:
    """datasets × (readout, probe): mean accuracy over the paired seeds."""
    return dataset_means(rows[rows["config"] == config])[config]


def _p(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.2g}"


def _section(rows: pd.DataFrame, a: pd.DataFrame, b: pd.DataFrame, config: str,
             reference: str) -> list[str]:
    """One configuration's tables; ``rows`` its paired cells, ``a`` / ``b`` their means."""
    seeds = sorted(rows["seed"].unique())
    fit = rows.groupby("config")["fit_seconds"].median()
    lines = [f"## {config}", "",
             f"vs {reference}: {len(a)} datasets, seeds {', '.join(map(str, seeds))}; "
             f"median fit {fit[config]:.1f} s vs {fit[reference]:.1f} s.", ""]
    table = []
    for name in READOUTS:
        for probe in ("svc", "ridge"):
            if (name, probe) not in a or (name, probe) not in b:
                continue
            x, y = a[(name, probe)], b[(name, probe)]
            both = x.notna() & y.notna()  # a read-out added late, or a probe skipped
            c = paired_comparison(x, y)
            label = name + ("" if name in DISCRETE else " (continuous)")
            if not both.all():
                label += f" ({both.sum()} of {len(both)} datasets)"
            table.append([label, probe, f"{x[both].mean():.3f}",
                          f"{y[both].mean():.3f}", f"{c['mean_diff']:+.3f}",
                          f"{c['wins']} / {c['ties']} / {c['losses']}", _p(c["p"])])
    lines += [markdown(["read-out", "probe", "this", "reference", "mean Δ",
                        "win / tie / loss", "Wilcoxon p"], table), ""]
    best = []
    for label, columns in (("best read-out", list(a.columns)),
                           ("best discrete read-out", [c for c in a.columns if c[0] in DISCRETE])):
        cols = [c for c in columns  # read-outs scored on every paired dataset
                if c in b.columns and a[c].notna().all() and b[c].notna().all()]
        if not cols:
            continue
        top_a = max(cols, key=lambda c: a[c].mean())
        top_b = max(cols, key=lambda c: b[c].mean())
        c = paired_comparison(a[top_a], b[top_b])
        best.append([label, f"{'/'.join(top_a)} {a[top_a].mean():.3f}",
                     f"{'/'.join(top_b)} {b[top_b].mean():.3f}", f"{c['mean_diff']:+.3f}",
                     f"{c['wins']} / {c['ties']} / {c['losses']}", _p(c["p"])])
    lines += [markdown(["", "this", "reference", "mean Δ", "win / tie / loss", "Wilcoxon p"],
                       best), ""]
    return lines


def report(df: pd.DataFrame, reference: str, readout: str = "embedding") -> str:
    if reference not in set(df["config"]):
        known = ", ".join(sorted(dict.fromkeys(df["config"])))
        raise ValueError(f"reference configuration {reference!r} is not in the results; "
                         f"they hold: {known}.")
    configs = [c for c in dict.fromkeys(df["config"]) if c != reference
               and (df.loc[df["config"] == c, "readout"] != "—").any()]
    lines = [f"# Each configuration vs {reference}", "",
             "Paired on the (dataset, seed) cells both ran; each dataset is the mean over "
             "those seeds. *this* is the configuration of the section, *reference* the one "
             "it is compared with; Δ = this − reference. Fit times: one torch thread per "
             "cell, two cells sharing two cores (upper bounds of a quiet machine's).", ""]
    header, table = ["dataset"], {}
    for config in configs:
        rows = paired_frame(df, config, reference)
        if rows.empty:
            lines += [f"## {config}", "",
                      f"No (dataset, seed) cell in common with {reference}.", ""]
            continue
        a, b = _means(rows, config), _means(rows, reference)
        lines += _section(rows, a, b, config, reference)
        if (readout, "svc") in a and (readout, "svc") in b:
            header.append(config)
            for d, value in (a[(readout, "svc")] - b[(readout, "svc")]).items():
                table.setdefault(d, {})[config] = f"{value:+.3f}"
    body = [[d] + [table[d].get(c, "—") for c in header[1:]] for d in sorted(table)]
    lines += [f"## Per dataset: Δ accuracy on {readout}, linear SVC", "",
              markdown(header, body), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.views",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="JSON-lines results files")
    parser.add_argument("--reference", default="vqvae (defaults)",
                        help="configuration label every other one is paired with "
                             "(as benchmarks.readouts prints it)")
    parser.add_argument("--readout", default="embedding", choices=READOUTS,
                        help="read-out of the per-dataset table")
    parser.add_argument("--out", help="Markdown file to write (default: print)")
    add_selection_arguments(parser)
    args = parser.parse_args(argv)
    df = select(load_frame(args.results), args.seeds, args.equal_length)
    if df.empty:
        print("no usable records", file=sys.stderr)
        return 2
    try:
        text = report(df, args.reference, args.readout)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    write_report(text, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
