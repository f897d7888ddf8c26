"""Helpers the figures share: pyplot, axes and figures, one series, an index, a history."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._validation import as_array


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("btvqvae.plotting needs matplotlib; install it with "
                          "`pip install btvqvae[plot]`") from exc
    return plt


def _axes(ax, figsize: tuple[float, float]):
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def _figure(fig, figsize: tuple[float, float]):
    plt = _pyplot()
    if fig is None:
        return plt.figure(figsize=figsize, layout="constrained")
    if fig.axes:
        raise ValueError("fig already holds axes; pass an empty Figure (plt.figure()) or a "
                         "SubFigure (fig.subfigures()) to draw the panels into")
    return fig


def _one_series(x: Any) -> np.ndarray:
    """One series given as (t,), (c, t) or (1, c, t) → float64 ``(1, c, t)``."""
    x = np.asarray(as_array(x, name="x"), dtype=np.float64)
    if x.ndim == 1:
        x = x[None, None, :]
    elif x.ndim == 2:
        x = x[None]
    elif x.ndim != 3 or x.shape[0] != 1:
        raise ValueError(f"x must be one series of shape (n_timepoints,), (n_channels, "
                         f"n_timepoints) or (1, n_channels, n_timepoints), got shape {x.shape}; "
                         "select one case first, e.g. X[i]")
    if x.shape[-1] == 0 or not np.all(np.isfinite(x)):
        raise ValueError("x must hold at least one timepoint and only finite values")
    return x


def _position(name: str, value: Any, size: int) -> int:
    """A valid (possibly negative) index into an axis of length ``size``, made non-negative."""
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r}") from None
    if not -size <= value < size:
        raise IndexError(f"{name}={value} is out of range for {size} entries")
    return value % size


def _history(estimator: Any):
    """The skorch history of a fitted btvqvae estimator (or of a skorch net)."""
    if hasattr(estimator, "net_"):
        return estimator.net_.history
    if hasattr(estimator, "history") and hasattr(estimator, "module_"):
        return estimator.history
    check_is_fitted(estimator)  # an unfitted estimator raises NotFittedError here
    raise TypeError(f"{type(estimator).__name__} has no training history; pass a fitted "
                    "btvqvae estimator (it keeps one in net_.history)")


def _qualitative_colors(k: int) -> np.ndarray:
    """k distinguishable RGBA colours: tab10, tab20 (dark hues first), tab20{,b,c}, else turbo."""
    import matplotlib

    cmaps = matplotlib.colormaps
    if k <= 10:
        colors = list(cmaps["tab10"].colors)
    elif k <= 60:
        tab20 = list(cmaps["tab20"].colors)
        colors = tab20[0::2] + tab20[1::2] + list(cmaps["tab20b"].colors) + \
            list(cmaps["tab20c"].colors)
    else:
        return cmaps["turbo"](np.linspace(0.0, 1.0, k))
    return matplotlib.colors.to_rgba_array(colors[:k])
