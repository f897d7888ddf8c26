"""Compare token models trained at different step budgets, from the sweep's own records.

    python -m benchmarks.budget RESULTS.jsonl [MORE.jsonl ...] [--out budget.md]

Reads every finished token-model cell (``vqvae``, ``bt_g*``) of ``benchmarks.thesis``, groups
them by their ``max_steps`` parameter and, for each pair of budgets, keeps only the dataset ×
model × seed cells run at both, so the two sides average the same problems. Prints (and with
``--out`` writes) Markdown:

- per model: mean ``svc_linear``, mean ``reconstruction_mse`` and median ``fit_seconds`` at
  each budget, and the win / tie / loss count of the smaller budget's per-dataset accuracy
  against the larger one with a Wilcoxon signed-rank p;
- per dataset: the accuracy of every model at each budget.

Records whose other settings differ (anything but ``max_steps`` / ``max_epochs``) are not
comparable and are refused with a message naming the models concerned.
"""

from __future__ import annotations

import argparse
import sys
from itertools import combinations
from pathlib import Path

import pandas as pd

from .records import read_records
from .tables import _fmt, markdown, model_order, paired_comparison

__all__ = ["budget_frame", "budget_report", "main"]

BUDGET_KEYS = ("max_steps", "max_epochs")


def _other_settings(record: dict) -> str:
    params = {k: v for k, v in record["params"].items()
              if k not in BUDGET_KEYS + ("random_state", "verbose")}
    return repr(sorted(params.items()))


def budget_frame(records) -> pd.DataFrame:
    """One row per finished token-model cell with its ``max_steps``; newest record wins."""
    rows = [r for r in records if "error" not in r and r.get("family") in ("vqvae", "bt")
            and r.get("params")]
    if not rows:
        raise ValueError("no finished VQ-VAE / BT-VQVAE cells in the results")
    df = pd.DataFrame(rows)
    df["max_steps"] = [r["params"].get("max_steps") for r in rows]
    if df["max_steps"].isna().any():
        raise ValueError("some cells were budgeted by max_epochs only; compare max_steps runs")
    df["other"] = [_other_settings(r) for r in rows]
    clash = df.groupby("model")["other"].nunique()
    if (clash > 1).any():
        raise ValueError(f"models {list(clash[clash > 1].index)} were run with settings that "
                         "differ in more than the budget; compare them with benchmarks.summarize")
    df = df.sort_values("timestamp", kind="stable")
    df = df.drop_duplicates(["dataset", "model", "seed", "max_steps"], keep="last")
    return df.reset_index(drop=True)


def budget_report(df: pd.DataFrame) -> str:
    """Markdown comparing every pair of budgets present in ``df`` (see the module doc)."""
    budgets = sorted(int(b) for b in df["max_steps"].unique())
    if len(budgets) < 2:
        raise ValueError(f"the results hold one budget only (max_steps={budgets}); "
                         "run the sweep again with another --max-steps")
    parts = ["# Step budgets compared", ""]
    for small, large in combinations(budgets, 2):
        a = df[df["max_steps"] == small].set_index(["dataset", "model", "seed"])
        b = df[df["max_steps"] == large].set_index(["dataset", "model", "seed"])
        common = a.index.intersection(b.index)
        if common.empty:
            continue
        a, b = a.loc[common].reset_index(), b.loc[common].reset_index()
        models = model_order(a["model"].unique())
        n_data, seeds = a["dataset"].nunique(), sorted(int(s) for s in a["seed"].unique())
        parts += [f"## {small} vs {large} steps ({len(common)} cells, {n_data} datasets, "
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
                         _fmt(sa["fit_seconds"].median(), spec=".0f"),
                         _fmt(sb["fit_seconds"].median(), spec=".0f"),
                         f"{cmp['wins']} / {cmp['ties']} / {cmp['losses']}",
                         _fmt(cmp["mean_diff"], spec="+.3f"), _fmt(cmp["p"], spec=".2f")])
        parts += [markdown(["model", "datasets", f"acc {small}", f"acc {large}",
                            f"recon MSE {small}", f"recon MSE {large}",
                            f"median fit s {small}", f"median fit s {large}",
                            f"{small} vs {large} win / tie / loss", "mean Δacc",
                            "Wilcoxon p"], rows), ""]
        per = []
        for dataset in sorted(a["dataset"].unique()):
            cells = []
            for model in models:
                pick = (a["dataset"] == dataset) & (a["model"] == model)
                cells.append(f"{_fmt(a.loc[pick, 'svc_linear'].mean())} / "
                             f"{_fmt(b.loc[pick, 'svc_linear'].mean())}")
            per.append([dataset] + cells)
        parts += [f"Accuracy per dataset ({small} / {large} steps):", "",
                  markdown(["dataset"] + models, per), ""]
    return "\n".join(parts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.budget",
                                description="Token models at different step budgets.")
    p.add_argument("results", nargs="+", help="JSON-lines files of benchmarks.thesis")
    p.add_argument("--out", help="also write the Markdown here")
    args = p.parse_args(argv)
    try:
        report = budget_report(budget_frame(
            [r for path in args.results for r in read_records(path)]))
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
