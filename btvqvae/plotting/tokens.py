"""Tokens: how often each code is used, and one series' codes on its latent grid."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._validation import check_token_ids
from ..evaluation import codebook_perplexity, codebook_usage
from ._common import _axes, _one_series, _pyplot, _qualitative_colors

__all__ = ["plot_codebook_usage", "plot_token_grid", "plot_tokens"]

_MAX_ANNOTATED_CELLS = 160


def plot_codebook_usage(estimator_or_tokens: Any, codebook_size: int | None = None, *,
                        ax=None):
    """Bar chart of the share of tokens each code receives, perplexity in the title.

    Parameters
    ----------
    estimator_or_tokens : fitted btvqvae estimator or array-like of int
        An estimator shows its training usage (``codebook_usage_``, ``perplexity_``); an
        array of code ids (any shape, e.g. ``estimator.encode(X, output="tokens")``) is pooled.
    codebook_size : int, optional
        Number of codes K for a token array; defaults to ``tokens.max() + 1``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar per code, a dashed line at uniform usage ``1/K`` and crosses on unused codes.
    """
    obj = estimator_or_tokens
    if hasattr(obj, "fit") or hasattr(obj, "codebook_usage_"):
        check_is_fitted(obj, ["codebook_usage_", "perplexity_"])
        usage = np.asarray(obj.codebook_usage_, dtype=np.float64)
        perplexity, source = float(obj.perplexity_), "training tokens"
        if codebook_size is not None and codebook_size != len(usage):
            raise ValueError(f"codebook_size={codebook_size} disagrees with the estimator's "
                             f"{len(usage)} codes; leave it None for an estimator")
    else:
        usage = codebook_usage(obj, codebook_size)
        perplexity, source = codebook_perplexity(obj, codebook_size), f"{np.size(obj)} tokens"
    k = len(usage)
    ids = np.arange(k)
    used = usage > 0
    ax = _axes(ax, (7, 3.2))
    ax.bar(ids, usage, width=0.8, color="C0")
    ax.axhline(1.0 / k, color="0.4", ls="--", lw=1, label=f"uniform (1/{k})")
    if not used.all():
        ax.plot(ids[~used], np.zeros((~used).sum()), "x", color="C3", label="unused code")
    ax.set(xlabel="code id", ylabel="share of tokens", xlim=(-0.7, k - 0.3),
           title=f"Codebook usage: perplexity {perplexity:.2f} of {k} "
                 f"({used.sum()} codes used, {source})")
    if k <= 32:
        ax.set_xticks(ids)
    else:
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_token_grid(tokens: Any, shape: Sequence[int], codebook_size: int | None = None, *,
                    annotate: bool | None = None, ax=None):
    """Draw one series' tokens as a frequency × time image of code ids.

    Parameters
    ----------
    tokens : array-like of int, shape (n_tokens,) or ``shape``
        Code ids of one series, row-major over (stage,) frequency and time as
        ``estimator.encode(X, output="tokens")[i]`` returns them.
    shape : (int, int) or (int, int, int)
        ``(n_freq, n_time)`` of the grid, or ``(n_stages, n_freq, n_time)`` for a residual
        quantizer, whose stages are drawn one above the other: ``estimator.token_shape_``.
    codebook_size : int, optional
        Number of codes K (one colour each); defaults to ``tokens.max() + 1``.
    annotate : bool, optional
        Write each code id in its cell; by default when the grid has at most 160 cells.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The image (frequency upwards) with a colorbar of the K codes.
    """
    _pyplot()  # the hint for a missing matplotlib comes before the import below
    from matplotlib.colors import BoundaryNorm, ListedColormap

    tokens, k = check_token_ids(tokens, codebook_size)
    try:
        shape = tuple(operator.index(s) for s in shape)
    except TypeError:
        shape = ()
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise ValueError(f"shape must be two positive ints (n_freq, n_time), or three "
                         f"(n_stages, n_freq, n_time), got {shape!r}")
    stages, (n_freq, n_time) = (shape[0] if len(shape) == 3 else 1), shape[-2:]
    if tokens.size != stages * n_freq * n_time:
        raise ValueError(f"{tokens.size} tokens cannot fill a {' x '.join(map(str, shape))} "
                         "grid; pass estimator.token_shape_ as shape")
    grid = tokens.reshape(stages * n_freq, n_time)  # stage s: rows s*F .. s*F + F - 1
    colors = _qualitative_colors(k)
    ax = _axes(ax, (7, 3.2))
    im = ax.imshow(grid, cmap=ListedColormap(colors), norm=BoundaryNorm(np.arange(k + 1) - 0.5, k),
                   origin="lower", aspect="auto", interpolation="nearest")
    cbar = ax.figure.colorbar(im, ax=ax, label="code id")
    cbar.set_ticks(np.arange(k) if k <= 20 else np.unique(np.linspace(0, k - 1, 11).round()))
    if annotate is None:
        annotate = grid.size <= _MAX_ANNOTATED_CELLS
    if annotate:
        luminance = colors[:, :3] @ np.array([0.299, 0.587, 0.114])
        for (row, col), code in np.ndenumerate(grid):
            ax.text(col, row, str(code), ha="center", va="center", fontsize="small",
                    color="white" if luminance[code] < 0.5 else "black")
    ax.set_yticks(np.arange(grid.shape[0]))
    if stages > 1:
        ax.set_yticklabels([f"{s}:{f}" for s in range(stages) for f in range(n_freq)],
                           fontsize="x-small")
        for s in range(1, stages):
            ax.axhline(s * n_freq - 0.5, color="black", lw=1.0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ylabel = "stage:frequency row" if stages > 1 else "frequency row"
    ax.set(xlabel="latent time step", ylabel=ylabel,
           title=f"Tokens ({' x '.join(map(str, shape))} grid, {k} codes)")
    return ax


def plot_tokens(estimator: Any, x: Any, *, annotate: bool | None = None, ax=None):
    """Encode one series with a fitted estimator and draw its token grid.

    Parameters
    ----------
    estimator : fitted VQVAETransformer or BarlowTwinsVQVAETransformer
    x : array-like of shape (n_timepoints,), (n_channels, n_timepoints) or (1, n_channels,
        n_timepoints)
        One series in the estimator's channels and length.
    annotate : bool, optional
        See :func:`plot_token_grid`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    check_is_fitted(estimator)
    tokens = estimator.encode(_one_series(x), output="tokens")[0]
    return plot_token_grid(tokens, tuple(estimator.token_shape_),
                           codebook_size=estimator.codebook_size, annotate=annotate, ax=ax)
