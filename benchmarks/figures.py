"""PNG figures of the summary; matplotlib ``Figure`` objects (Agg canvas, no pyplot state)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["accuracy_vs_fit_time", "accuracy_vs_gamma"]

_BASELINE_STYLES = {"raw_svc": ":", "raw_1nn": (0, (1, 3)), "minirocket": "-."}


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def accuracy_vs_gamma(mean, std, gammas: dict, path, metric="test accuracy") -> bool:
    """One panel per dataset: BT accuracy against γ, VQ-VAE at γ = 0 and as a dashed line.

    ``mean`` / ``std``: DataFrames datasets × models; ``gammas``: ``{bt model: γ}``.
    Baselines (accuracy of their own classifier) are horizontal lines. Returns False (no
    file) without BT or VQ-VAE results.
    """
    bt = sorted((g, m) for m, g in gammas.items() if m in mean.columns)
    if not bt and "vqvae" not in mean.columns:
        return False
    datasets = list(mean.index)
    ncols = min(4, len(datasets))
    nrows = math.ceil(len(datasets) / ncols)
    fig = _figure(3.2 * ncols, 2.6 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, dataset in zip(axes, datasets):
        row, err = mean.loc[dataset], std.loc[dataset].fillna(0.0)
        if bt:
            xs = [g for g, _ in bt]
            ax.errorbar(xs, [row[m] for _, m in bt], yerr=[err[m] for _, m in bt], marker="o",
                        capsize=3, color="C0", label="BT-VQVAE")
        if "vqvae" in mean.columns and row["vqvae"] == row["vqvae"]:
            ax.errorbar([0.0], [row["vqvae"]], yerr=[err["vqvae"]], marker="s", capsize=3,
                        color="C1", label="VQ-VAE (γ = 0)")
            ax.axhline(row["vqvae"], color="C1", linestyle="--", linewidth=0.8)
        for i, (name, style) in enumerate(_BASELINE_STYLES.items()):
            if name in mean.columns and row[name] == row[name]:
                ax.axhline(row[name], color=f"C{i + 2}", linestyle=style, label=name)
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("γ")
        ax.set_ylabel(metric, fontsize=8)
    for ax in axes[len(datasets):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center",
               ncols=min(len(labels), 5 if ncols > 2 else 3), fontsize=8)
    fig.savefig(path, dpi=110)
    return True


def accuracy_vs_fit_time(mean_acc, mean_fit, path) -> bool:
    """Every dataset × model as a point: test accuracy against fit wall time (log x)."""
    if mean_acc.empty:
        return False
    fig = _figure(6.5, 4.5)
    ax = fig.subplots()
    markers = "os^vD<>phX*"
    for i, model in enumerate(mean_acc.columns):
        x = mean_fit[model].to_numpy(dtype=float) if model in mean_fit else np.full(len(mean_acc),
                                                                                    np.nan)
        y = mean_acc[model].to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.any():
            ax.scatter(np.maximum(x[ok], 1e-3), y[ok], marker=markers[i % len(markers)],
                       color=f"C{i % 10}", label=model, alpha=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("fit wall time on TRAIN [s] (log)")
    ax.set_ylabel("test accuracy")
    ax.set_title("accuracy vs fit time (one point per dataset)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.savefig(path, dpi=110)
    return True
