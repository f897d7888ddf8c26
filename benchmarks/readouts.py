"""Which read-out, which configuration: every read-out of the token models vs the baselines.

Reads results files of :mod:`benchmarks.thesis` written with protocol 2 (their token-model
records carry ``readouts``, see :mod:`benchmarks.probes`) and writes one Markdown report:

- per configuration (the parameters in which a file's token models differ from the
  estimator defaults) and read-out: mean test accuracy over the datasets (each dataset's
  mean over its seeds) for each probe (MiniRocket for the 3-D ones), on how many datasets
  it beats the raw series' linear SVC, on how many it stays at chance (within 0.02 of the
  majority class share of TEST), and the median fit time of the configuration;
- the baselines' mean accuracy and median fit time over the same datasets;
- per dataset, each configuration's best discrete read-out beside ``latent`` and the
  baselines.

Only datasets every configuration and baseline ran are averaged, so the columns compare the
same problems. ::

    python -m benchmarks.readouts benchmarks/results/rvq/{s1_w8,s8_w32,baselines}.jsonl \\
        --out benchmarks/results/rvq/readouts.md
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from .models import BASELINES, default_params
from .records import read_records
from .tables import markdown, paired_comparison, write_report

__all__ = ["add_selection_arguments", "config_label", "dataset_means", "load_frame", "main",
           "report", "select"]

DISCRETE = ("tokens", "embedding", "histogram", "pooled", "bag", "sequence", "decoded")
#: The probes in the records (``benchmarks.probes``): two linear ones, MiniRocket for 3-D.
PROBE_NAMES = ("svc", "ridge", "minirocket")
CONTINUOUS = ("latent",)
_IGNORED = {"random_state", "callbacks", "verbose", "device"}


def config_label(record: dict) -> str:
    """The token model's name plus the parameters that differ from its defaults."""
    defaults = default_params(record["family"])
    changed = [f"{k}={v}" for k, v in sorted(record["params"].items())
               if k not in _IGNORED and k in defaults and v != defaults[k]
               and not (isinstance(v, list) and tuple(v) == defaults[k])]
    return record["model"] + (f" ({', '.join(changed)})" if changed else " (defaults)")


def load_frame(paths) -> pd.DataFrame:
    """One row per (dataset, seed, config, read-out, probe) or (dataset, seed, baseline)."""
    rows = []
    for path in paths:
        for record in read_records(path):
            if "error" in record:
                continue
            base = {"dataset": record["dataset"], "seed": record["seed"],
                    "irregular": bool(record.get("irregular", False)),
                    "fit_seconds": record["fit_seconds"],
                    "chance": np.nan, "n_test": record["n_test"]}
            if record["family"] == "baseline":
                rows.append({**base, "config": record["model"], "readout": "—",
                             "probe": "own", "accuracy": record["accuracy"]})
                continue
            for readout, scores in (record.get("readouts") or {}).items():
                for probe in PROBE_NAMES:
                    if scores.get(probe) is None:  # not run (see benchmarks.probes, Cost)
                        continue
                    rows.append({**base, "config": config_label(record), "readout": readout,
                                 "probe": probe, "accuracy": scores[probe]})
    return pd.DataFrame(rows)


def select(df: pd.DataFrame, seeds=None, equal_length: bool = False) -> pd.DataFrame:
    """The rows of some seeds only and/or of the equal-length datasets only."""
    if seeds is not None:
        df = df[df["seed"].isin(seeds)]
    return df[~df["irregular"]] if equal_length and not df.empty else df


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="only these seeds (default: every seed in the files)")
    parser.add_argument("--equal-length", action="store_true",
                        help="leave out the irregular datasets (records with irregular: true)")


def dataset_means(df: pd.DataFrame) -> pd.DataFrame:
    """datasets × (config, readout, probe) of the mean accuracy over seeds.

    NaN where a read-out was scored on fewer of a dataset's seeds than its configuration ran
    (a read-out added after some cells ran): a mean over other seeds would not compare.
    """
    keys = ["dataset", "config", "readout", "probe"]
    stats = df.groupby(keys).agg(accuracy=("accuracy", "mean"), seeds=("seed", "nunique"))
    ran = df.groupby(["dataset", "config"])["seed"].nunique().rename("ran")
    stats = stats.join(ran, on=["dataset", "config"])
    stats.loc[stats["seeds"] < stats["ran"], "accuracy"] = np.nan
    return stats["accuracy"].unstack(["config", "readout", "probe"])


def _chance(data_dir: str | None, datasets) -> dict:
    if data_dir is None:
        return {}
    from btvqvae.datasets import load_ucr

    out = {}
    for name in datasets:
        _, y = load_ucr(name, "test", data_dir=data_dir, unequal="list")
        out[name] = float(pd.Series(np.asarray(y)).value_counts(normalize=True).max())
    return out


def report(df: pd.DataFrame, chance: dict | None = None) -> str:
    chance = chance or {}
    means = dataset_means(df)
    # A dataset counts when every configuration scored some read-out on it and every baseline
    # ran; a read-out added after some cells ran (e.g. the bag) is averaged where it exists,
    # and its row says over how many datasets.
    ran = means.notna().T.groupby(level="config").any().T
    complete = ran.index[ran.all(axis=1)].tolist()
    means = means.loc[complete]
    configs = [c for c in dict.fromkeys(df["config"]) if c not in BASELINES]
    baselines = [b for b in BASELINES if b in set(df["config"])]
    raw = means[("raw_svc", "—", "own")] if "raw_svc" in baselines else None
    fit = df[df["dataset"].isin(complete)].groupby("config")["fit_seconds"].median()
    lines = [f"# Read-outs of the token models ({len(complete)} datasets, "
             f"seeds {', '.join(map(str, sorted(df['seed'].unique())))})", "",
             "Mean test accuracy over the datasets (each the mean over its seeds). *beats "
             "raw*: datasets where the read-out beats the raw series' linear SVC; *at "
             "chance*: within 0.02 of the majority-class share of TEST. Fit times are the "
             "median over the configuration's cells (one torch thread per cell, two cells "
             "sharing two cores: upper bounds of a quiet machine's times).", ""]
    rows = []
    for config in configs:
        for readout in DISCRETE + CONTINUOUS:
            columns = [(config, readout, p) for p in PROBE_NAMES if (config, readout, p)
                       in means]
            if not columns:
                continue
            best = means[columns].max(axis=1)
            scored = best.notna()
            cells = [config, readout + ("" if readout in DISCRETE else " (continuous)")
                     + ("" if scored.all() else f" ({scored.sum()} of {len(best)} datasets)")]
            for probe in PROBE_NAMES:
                column = means.get((config, readout, probe))
                n = 0 if column is None else int(column.notna().sum())
                # a probe skipped on some datasets (benchmarks.probes, Cost) says on how many
                cells.append("—" if n == 0 else f"{column.mean():.3f}"
                             + ("" if n == scored.sum() else f" ({n})"))
            if raw is not None:
                stats = paired_comparison(best, raw)
                cells.append(f"{stats['wins']}/{stats['n']} (p={stats['p']:.2g})")
            else:
                cells.append("—")  # no raw_svc baseline in the files
            at_chance = sum(best[d] <= chance[d] + 0.02 for d in complete
                            if d in chance and scored[d])
            cells.append(str(at_chance) if chance else "—")
            cells.append(f"{fit.get(config, np.nan):.1f}")
            rows.append(cells)
    header = ["configuration", "read-out", "linear SVC", "ridge", "MiniRocket",
              "best probe beats raw",
              "at chance", "median fit s"]
    lines += [markdown(header, rows), ""]
    rows = [[b, f"{means[(b, '—', 'own')].mean():.3f}", f"{fit.get(b, np.nan):.1f}"]
            for b in baselines]
    lines += ["## Baselines, same datasets and seeds", "",
              markdown(["baseline", "accuracy", "median fit s"], rows), ""]
    lines += ["## Per dataset: best discrete read-out (best probe) vs latent", ""]
    header, table = ["dataset"], {d: [d] for d in complete}
    for config in configs:
        discrete = [c for c in means.columns if c[0] == config and c[1] in DISCRETE]
        latent = [c for c in means.columns if c[0] == config and c[1] in CONTINUOUS]
        header += [f"{config}: discrete", "latent"]
        for d in complete:
            table[d] += [f"{means.loc[d, discrete].max():.3f}",
                         f"{means.loc[d, latent].max():.3f}" if latent else "—"]
    for b in baselines:
        header.append(b)
        for d in complete:
            table[d].append(f"{means.loc[d, (b, '—', 'own')]:.3f}")
    lines += [markdown(header, list(table.values())), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.readouts",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="JSON-lines results files")
    parser.add_argument("--out", help="Markdown file to write (default: print)")
    parser.add_argument("--data-dir", help="UCR folder, to count datasets at chance")
    add_selection_arguments(parser)
    args = parser.parse_args(argv)
    df = select(load_frame(args.results), args.seeds, args.equal_length)
    if df.empty:
        print("no usable records", file=sys.stderr)
        return 2
    text = report(df, _chance(args.data_dir, sorted(df["dataset"].unique())))
    write_report(text, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
