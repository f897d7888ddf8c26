"""A series against its reconstruction, in time and in the STFT the estimators work on."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._validation import as_collection
from ..nn.stft import hop_length, stft
from ._common import _axes, _figure, _position

__all__ = ["plot_reconstruction", "plot_reconstruction_stft"]


def _reconstruct(estimator: Any, X: np.ndarray) -> np.ndarray:
    """Decode the estimator's own latents of X (n, c, t) → reconstruction (n, c, t)."""
    check_is_fitted(estimator)
    return np.asarray(estimator.reconstruct(X), dtype=np.float64).reshape(X.shape)


def _pick(estimator, X, index, channel) -> tuple[np.ndarray, np.ndarray, int, int]:
    X, _ = as_collection(X, name="X", dtype=np.float64)
    index = _position("index", index, len(X))
    channel = _position("channel", channel, X.shape[1])
    x = X[index:index + 1]
    return x[0], _reconstruct(estimator, x)[0], index, channel


def plot_reconstruction(estimator: Any, X: Any, index: int = 0, channel: int = 0, *, ax=None):
    """Overlay one series and its reconstruction by a fitted estimator (time domain).

    Parameters
    ----------
    estimator : fitted VQVAETransformer or BarlowTwinsVQVAETransformer
        Any ``output`` works: ``"histogram"`` is decoded through the series' tokens.
    X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
        Series in the estimator's shape; only ``X[index]`` is encoded.
    index : int, default=0
        Which case to draw.
    channel : int, default=0
        Which channel to draw.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines, original and reconstruction; the title gives the case's MSE in X's units.
    """
    x, x_hat, index, channel = _pick(estimator, X, index, channel)
    ax = _axes(ax, (7, 3.2))
    t = np.arange(x.shape[-1])
    ax.plot(t, x[channel], color="black", lw=1.6, label="original")
    ax.plot(t, x_hat[channel], color="C3", lw=1.3, ls="--", label="reconstruction")
    mse = float(np.mean((x[channel] - x_hat[channel]) ** 2))
    ax.set(xlabel="time step", ylabel="value",
           title=f"Series {index}, channel {channel}: reconstruction MSE {mse:.3g}")
    ax.legend(loc="best", fontsize="small")
    return ax


def _stft_magnitude(x: np.ndarray, n_fft: int) -> np.ndarray:
    """|STFT| of one series (c, t) → (c, F, T)."""
    u = stft(torch.as_tensor(x[None]), n_fft)[0]  # (2C, F, T)
    return torch.sqrt(u[0::2] ** 2 + u[1::2] ** 2).numpy()


def plot_reconstruction_stft(estimator: Any, X: Any, index: int = 0, channel: int = 0, *,
                             fig=None):
    """STFT magnitude of a series, of its reconstruction and of the residual, side by side.

    The STFT is the estimator's front end (``n_fft = estimator.n_fft``, hop ``n_fft // 4``,
    rectangular window), applied to the series in X's units. The three panels share one
    colour scale, so the residual shows which time-frequency cells the model misses.

    Parameters
    ----------
    estimator : fitted VQVAETransformer or BarlowTwinsVQVAETransformer
    X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
    index, channel : int, default=0
        Which case and channel to draw.
    fig : matplotlib Figure or SubFigure, optional
        An empty figure to draw the three panels into; a new one by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x, x_hat, index, channel = _pick(estimator, X, index, channel)
    n_fft = int(estimator.n_fft)
    images = [_stft_magnitude(v, n_fft)[channel] for v in (x, x_hat, x - x_hat)]  # (F, T) each
    titles = ["|STFT| original", "|STFT| reconstruction", "|STFT| of the residual"]
    fig = _figure(fig, (11, 3.3))
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    vmax = max(float(images[0].max()), float(images[1].max()), 1e-12)
    for ax, image, title in zip(axes, images, titles):
        im = ax.imshow(image, origin="lower", aspect="auto", interpolation="nearest",
                       cmap="magma", vmin=0.0, vmax=vmax)
        ax.set(title=title, xlabel=f"STFT frame (hop {hop_length(n_fft)})")
    axes[0].set_ylabel("frequency bin")
    for axis in (axes[0].xaxis, axes[0].yaxis):  # shared by all three panels
        axis.get_major_locator().set_params(integer=True)
    fig.colorbar(im, ax=list(axes), label="magnitude", shrink=0.9)
    fig.suptitle(f"Series {index}, channel {channel} (n_fft = {n_fft})")
    return fig
