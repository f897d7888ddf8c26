"""Training curves: the loss and its components, and metrics a monitoring callback recorded."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..nn.losses import LOSS_COMPONENTS
from ._common import _axes, _history

__all__ = ["plot_monitored_metrics", "plot_training_history"]


def plot_training_history(estimator: Any, components: Sequence[str] = LOSS_COMPONENTS, *,
                          ax=None):
    """Per-epoch means of the training loss and of its recorded components.

    Parameters
    ----------
    estimator : fitted btvqvae estimator (or its skorch net)
    components : sequence of str, default=("time_mse", "tf_mse", "commitment", "barlow_twins")
        Per-batch keys of ``net_.history``; a component that is zero throughout (the Barlow
        Twins term of a plain VQ-VAE) is left out.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per drawn component plus the total ``train_loss``; logarithmic y axis when
        every value is positive.
    """
    history = _history(estimator)
    if len(history) == 0:
        raise ValueError("the training history is empty; fit the estimator first")
    epochs = np.array([row.get("epoch", i + 1) for i, row in enumerate(history)])
    curves = {}
    for name in components:
        batches = [[b[name] for b in row.get("batches", []) if name in b] for row in history]
        if not any(batches):
            recorded = {k for row in history for b in row.get("batches", []) for k in b}
            raise ValueError(f"no batch of the history records {name!r}; recorded: "
                             f"{sorted(recorded)}")
        means = np.array([np.mean(v) if v else np.nan for v in batches], dtype=np.float64)
        if np.nanmax(np.abs(means)) > 0:
            curves[name] = means
    curves["train_loss"] = np.array([row.get("train_loss", np.nan) for row in history],
                                    dtype=np.float64)
    ax = _axes(ax, (7, 3.6))
    marker = "o" if len(epochs) <= 30 else None
    for i, (name, values) in enumerate(curves.items()):
        total = name == "train_loss"
        ax.plot(epochs, values, marker=marker, ms=3, lw=2.2 if total else 1.3,
                color="black" if total else f"C{i}", label="train_loss (total)" if total else name)
    values = np.concatenate(list(curves.values()))
    if np.all(values[np.isfinite(values)] > 0):
        ax.set_yscale("log")
        _plain_log_labels(ax.yaxis)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set(xlabel="epoch", ylabel="loss (mean over batches)", title="Training losses")
    ax.legend(loc="best", fontsize="small")
    return ax


def _plain_log_labels(axis) -> None:
    """Label a log axis "0.4, 1, 2" rather than 4 x 10^-1; mantissas 2, 3, 5 below 2 decades."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    low, high = sorted(axis.get_view_interval())
    if high / low >= 100:
        axis.set_minor_formatter(NullFormatter())
        return

    def minor(v, _):
        mantissa = round(v / 10 ** math.floor(math.log10(v) + 1e-9))
        return f"{v:g}" if mantissa in (2, 3, 5) else ""

    axis.set_minor_formatter(FuncFormatter(minor))


def plot_monitored_metrics(estimator: Any, metrics: Sequence[str] | None = None,
                           prefix: str = "monitor_", *, ax=None):
    """Metrics recorded during training by a monitoring callback, against the epoch.

    Reads every ``net_.history`` entry whose key starts with ``prefix``; epochs where a metric
    was not computed are skipped, so sparse evaluations (epochs 0, 300, 600, ... in the
    reference) draw as points joined by lines.

    Parameters
    ----------
    estimator : fitted btvqvae estimator (or its skorch net)
        Fitted with a monitoring callback, e.g. ``callbacks=[btvqvae.monitoring.Monitor(...)]``.
    metrics : sequence of str, optional
        Names to draw, with or without the prefix; all recorded ones by default. Metrics on
        different scales (accuracies, perplexity) read best on separate axes.
    prefix : str, default="monitor_"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per metric, labelled without the prefix.
    """
    history = _history(estimator)
    recorded = list(dict.fromkeys(k for row in history for k in row if k.startswith(prefix)))
    if not recorded:
        raise ValueError(f"the training history holds no metric whose name starts with "
                         f"{prefix!r}; pass callbacks=[btvqvae.monitoring.Monitor(...)] to the "
                         "estimator to record metrics while it trains")
    if metrics is None:
        names = recorded
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        names = []
        for name in metrics:
            key = name if name in recorded else prefix + name
            if key not in recorded:
                raise ValueError(f"metric {name!r} was not recorded; recorded: "
                                 f"{[k[len(prefix):] for k in recorded]}")
            names.append(key)
    ax = _axes(ax, (7, 3.6))
    drawn = 0
    for i, key in enumerate(names):
        points = [(row.get("epoch", j + 1), float(row[key])) for j, row in enumerate(history)
                  if isinstance(row.get(key), numbers.Real) and math.isfinite(row[key])]
        if points:
            epochs, values = zip(*points)
            ax.plot(epochs, values, marker="o", ms=4, color=f"C{i}", label=key[len(prefix):])
            drawn += 1
    if not drawn:
        raise ValueError(f"metrics {names} hold no finite numbers to plot")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set(xlabel="epoch", ylabel="value", title="Metrics monitored during training")
    ax.legend(loc="best", fontsize="small")
    return ax
