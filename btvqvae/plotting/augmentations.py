"""Augmentations: each step applied alone to a series, and the two views Barlow Twins compares."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .._random import torch_generator
from ..augmentations import REFERENCE_AUGMENTATIONS, Augmenter, make_augmenter
from ._common import _axes, _figure, _one_series, _position

__all__ = ["plot_augmentations", "plot_views"]


def _augmenter_of(augmenter: Any) -> Augmenter:
    if (augmenter is not None and not isinstance(augmenter, (Augmenter, str, Sequence))
            and hasattr(augmenter, "augmentations")):
        augmenter = augmenter.augmentations  # a BarlowTwinsVQVAETransformer's setting
    return make_augmenter(augmenter)


def _step_label(step: Any) -> str:
    if isinstance(step, str):
        return step
    if isinstance(step, (tuple, list)) and len(step) == 2 and isinstance(step[1], Mapping):
        return f"{step[0]}({', '.join(f'{k}={v}' for k, v in step[1].items())})"
    return getattr(step, "__name__", repr(step))


def _series_tensor(x: Any, channel: int) -> tuple[torch.Tensor, int]:
    x = _one_series(x)
    return torch.from_numpy(x), _position("channel", channel, x.shape[1])


def plot_augmentations(x: Any, augmenter: Any = None, random_state: Any = None, *,
                       channel: int = 0, show_composed: bool = True, fig=None):
    """One panel per augmentation applied alone to a series (the thesis' figure 4.4).

    Parameters
    ----------
    x : array-like of shape (n_timepoints,), (n_channels, n_timepoints) or (1, n_channels,
        n_timepoints)
        One series. The estimators augment globally standardised series, so pass
        ``(x - est.mean_) / est.scale_`` to see the strengths used in training.
    augmenter : None, Augmenter, list of steps or BarlowTwinsVQVAETransformer
        Anything :func:`btvqvae.augmentations.make_augmenter` accepts, or an estimator whose
        ``augmentations`` to use; None is the reference pipeline
        (:data:`~btvqvae.augmentations.REFERENCE_AUGMENTATIONS`). To be sure the flip shows,
        pass ``("flip", {"p": 1.0})`` as its step.
    random_state : int, RandomState instance, torch.Generator or None
        Seeds the augmentations.
    channel : int, default=0
        Which channel to draw.
    show_composed : bool, default=True
        Add a last panel with all steps applied in order, as in training.
    fig : matplotlib Figure or SubFigure, optional
        An empty figure to draw into; a new one by default.

    Returns
    -------
    matplotlib.figure.Figure
        Panels: the original, then each step (the original in grey behind it; a step that
        left the series unchanged in this draw says so), then the composition.
    """
    xt, channel = _series_tensor(x, channel)
    augmenter = _augmenter_of(augmenter)
    steps = list(REFERENCE_AUGMENTATIONS if augmenter.steps is None else augmenter.steps)
    generator = torch_generator(random_state)
    panels = [(_step_label(s), Augmenter([s])(xt, generator=generator)) for s in steps]
    if show_composed:
        panels.append(("all, in order", augmenter(xt, generator=generator)))
    n = len(panels) + 1
    nrows = math.ceil(n / 4)
    ncols = math.ceil(n / nrows)
    fig = _figure(fig, (3.6 * ncols, 2.4 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    t = np.arange(xt.shape[-1])
    original = xt[0, channel].numpy()
    axes[0].plot(t, original, color="black", lw=1.3)
    axes[0].set_title("original", fontsize="medium")
    for i, (ax, (label, out)) in enumerate(zip(axes[1:], panels)):
        ax.plot(t, original, color="0.7", lw=1.0)
        ax.plot(t, out[0, channel].numpy(), color=f"C{i % 10}", lw=1.2)
        unchanged = torch.equal(out, xt)
        ax.set_title(label + (" (unchanged in this draw)" if unchanged else ""),
                     fontsize="medium")
    for ax in axes[n:]:
        ax.remove()
    for ax in axes[max(0, n - ncols):n]:
        ax.set_xlabel("time step")
    suffix = f", channel {channel}" if xt.shape[1] > 1 else ""
    fig.suptitle(f"Augmentations applied alone (grey: original{suffix})")
    return fig


def plot_views(x: Any, augmenter: Any = None, random_state: Any = None, *, channel: int = 0,
               ax=None):
    """Overlay a series with the two augmented views Barlow Twins compares.

    Parameters
    ----------
    x : array-like, one series
        See :func:`plot_augmentations`.
    augmenter : None, Augmenter, list of steps or BarlowTwinsVQVAETransformer
        See :func:`plot_augmentations`; None is the reference pipeline.
    random_state : int, RandomState instance, torch.Generator or None
    channel : int, default=0
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Three lines: original, view A, view B.
    """
    xt, channel = _series_tensor(x, channel)
    generator = torch_generator(random_state)
    view_a, view_b = _augmenter_of(augmenter).two_views(xt, generator=generator)
    ax = _axes(ax, (7, 3.2))
    t = np.arange(xt.shape[-1])
    ax.plot(t, xt[0, channel].numpy(), color="black", lw=1.8, label="original")
    ax.plot(t, view_a[0, channel].numpy(), color="C0", lw=1.1, alpha=0.85, label="view A")
    ax.plot(t, view_b[0, channel].numpy(), color="C1", lw=1.1, alpha=0.85, label="view B")
    suffix = f" (channel {channel})" if xt.shape[1] > 1 else ""
    ax.set(xlabel="time step", ylabel="value", title=f"Two Barlow Twins views{suffix}")
    ax.legend(loc="best", fontsize="small")
    return ax
