"""Compare token models trained with different values of one parameter, from sweep records.

    python -m benchmarks.compare RESULTS.jsonl [MORE.jsonl ...] [--param max_steps] [--out F]

Reads every finished token-model cell (``vqvae``, ``bt_g*``) of ``benchmarks.thesis``, groups
them by the value of ``--param`` (default ``max_steps``, the training budget; any estimator
parameter works, e.g. ``center_latents``; a record that predates a parameter counts at the
estimator's default) and, for each pair of values, keeps only the dataset × model × seed
cells run with both, so the two sides average the same problems. Prints (and with ``--out``
writes) Markdown:

- per model: mean ``svc_linear``, ``reconstruction_mse`` and ``codebook_perplexity`` and
  median ``fit_seconds`` for each value, and the win / tie / loss count of the first value's
  per-dataset accuracy against the second's with a Wilcoxon signed-rank p;
- per dataset: the accuracy of every model for each value.

Records whose other settings differ (anything but the parameter compared, and for a budget
both ``max_steps`` and ``max_epochs``) are not comparable and are refused with a message
naming the models concerned.
"""

from __future__ import annotations

import argparse
import sys
from functools import cache
from itertools import combinations
from pathlib import Path

import pandas as pd

from .records import read_records
from .tables import _fmt, markdown, model_order, paired_comparison

__all__ = ["compare_frame", "compare_report", "main"]

BUDGET_KEYS = ("max_steps", "max_epochs")
UNCOMPARED = ("random_state", "verbose")


@cache
def _defaults(family: str) -> dict:
    """The estimator's defaults (shared by every caller: read, never modify)."""
    from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer

    cls = BarlowTwinsVQVAETransformer if family == "bt" else VQVAETransformer
    return cls().get_params()


def _value(record: dict, param: str):
    if param in record["params"]:
        return record["params"][param]
    defaults = _defaults(record["family"])
    if param not in defaults:
        raise ValueError(f"{param!r} is not a parameter of the {record['model']} model")
    return defaults[param]


def _other_settings(record: dict, param: str) -> str:
    skip = set(UNCOMPARED) | {param} | (set(BUDGET_KEYS) if param in BUDGET_KEYS else set())
    params = {**_defaults(record["family"]), **record["params"]}  # older records lack new keys
    return repr(sorted((k, v) for k, v in params.items() if k not in skip))


def compare_frame(records, param: str = "max_steps") -> pd.DataFrame:
    """One row per finished token-model cell with its ``param`` value; newest record wins."""
    rows = [r for r in records if "error" not in r and r.get("family") in ("vqvae", "bt")
            and r.get("params")]
    if not rows:
        raise ValueError("no finished VQ-VAE / BT-VQVAE cells in the results")
    df = pd.DataFrame(rows)
    df["value"] = [_value(r, param) for r in rows]
    if df["value"].isna().any():
        raise ValueError(f"some cells have {param}=None (e.g. budgeted by max_epochs only); "
                         "compare cells that set it")
    df["other"] = [_other_settings(r, param) for r in rows]
    clash = df.groupby("model")["other"].nunique()
    if (clash > 1).any():
        raise ValueError(f"models {list(clash[clash > 1].index)} were run with settings that "
                         f"differ in more than {param}; compare them with benchmarks.summarize")
    df = df.sort_values("timestamp", kind="stable")
    df = df.drop_duplicates(["dataset", "model", "seed", "value"], keep="last")
    return df.reset_index(drop=True)


def compare_report(df: pd.DataFrame, param: str = "max_steps") -> str:
    """Markdown comparing every pair of ``param`` values in ``df`` (see the module doc)."""
    values = sorted(df["value"].unique())
    if len(values) < 2:
        raise ValueError(f"the results hold one value of {param} only ({values}); "
                         f"run the sweep again with another --param {param}=...")
    parts = [f"# {param} compared", ""]
    for first, second in combinations(values, 2):
        a = df[df["value"] == first].set_index(["dataset", "model", "seed"])
        b = df[df["value"] == second].set_index(["dataset", "model", "seed"])
        common = a.index.intersection(b.index)
        if common.empty:
            continue
        a, b = a.loc[common].reset_index(), b.loc[common].reset_index()
        models = model_order(a["model"].unique())
        n_data, seeds = a["dataset"].nunique(), sorted(int(s) for s in a["seed"].unique())
        parts += [f"## {param}: {first} vs {second} ({len(common)} cells, {n_data} datasets, "
                  + f"seeds {seeds})", ""]
        rows = []
        for model in models:
            sa, sb = a[a["model"] == model], b[b["model"] == model]
            acc_a = sa.groupby("dataset")["svc_linear"].mean()
            acc_b = sb.groupby("dataset")["svc_linear"].mean()
            cmp = paired_comparison(acc_a, acc_b)
            rows.append([model, cmp["n"], _fmt(acc_a.mean()), _fmt(acc_b.mean()),
                         _fmt(sa["reconstruction_mse"].mean(), spec=".4f"),
                         _fmt(sb["reconstruction_mse"].mean(), spec=".4f"),
                         _fmt(sa["codebook_perplexity"].mean(), spec=".1f"),
                         _fmt(sb["codebook_perplexity"].mean(), spec=".1f"),
                         _fmt(sa["fit_seconds"].median(), spec=".0f"),
                         _fmt(sb["fit_seconds"].median(), spec=".0f"),
                         f"{cmp['wins']} / {cmp['ties']} / {cmp['losses']}",
                         _fmt(cmp["mean_diff"], spec="+.3f"), _fmt(cmp["p"], spec=".2f")])
        parts += [markdown(["model", "datasets", f"acc {first}", f"acc {second}",
                            f"recon MSE {first}", f"recon MSE {second}",
                            f"perplexity {first}", f"perplexity {second}",
                            f"median fit s {first}", f"median fit s {second}",
                            f"{first} vs {second} win / tie / loss", "mean Δacc",
                            "Wilcoxon p"], rows), ""]
        per = []
        for dataset in sorted(a["dataset"].unique()):
            cells = []
            for model in models:
                pick = (a["dataset"] == dataset) & (a["model"] == model)
                cells.append(f"{_fmt(a.loc[pick, 'svc_linear'].mean())} / "
                             f"{_fmt(b.loc[pick, 'svc_linear'].mean())}")
            per.append([dataset] + cells)
        parts += [f"Accuracy per dataset ({param} = {first} / {second}):", "",
                  markdown(["dataset"] + models, per), ""]
    return "\n".join(parts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare",
                                description="Token models run with different values of one "
                                "parameter.")
    p.add_argument("results", nargs="+", help="JSON-lines files of benchmarks.thesis")
    p.add_argument("--param", default="max_steps",
                   help="the estimator parameter that differs (default: max_steps)")
    p.add_argument("--out", help="also write the Markdown here")
    args = p.parse_args(argv)
    try:
        records = [r for path in args.results for r in read_records(path)]
        report = compare_report(compare_frame(records, args.param), args.param)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
