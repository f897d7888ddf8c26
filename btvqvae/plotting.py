"""Figures for fitted estimators, their tokens, latents, training curves and augmentations.

matplotlib is an optional dependency (``pip install btvqvae[plot]``) and is imported inside the
functions, so ``import btvqvae.plotting`` works without it. Every function draws into the
``ax=`` (one panel) or ``fig=`` (several panels) it is given, or into a new figure, and returns
that ``Axes`` or ``Figure``; nothing is shown or saved.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_array, check_consistent_length, check_random_state
from sklearn.utils.validation import check_is_fitted

from .augmentations import REFERENCE_AUGMENTATIONS, Augmenter, make_augmenter
from .evaluation import codebook_perplexity, codebook_usage
from .nn.stft import hop_length, stft

__all__ = [
    "plot_augmentations", "plot_codebook_usage", "plot_latent_map", "plot_monitored_metrics",
    "plot_reconstruction", "plot_reconstruction_stft", "plot_token_grid", "plot_tokens",
    "plot_training_history", "plot_views",
]

LOSS_COMPONENTS = ("time_mse", "tf_mse", "commitment", "barlow_twins")
_MAX_LEGEND_CLASSES = 20
_MAX_ANNOTATED_CELLS = 160


# --------------------------------------------------------------------------------- helpers
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


def _collection(X: Any) -> np.ndarray:
    """X as float64 ``(n_cases, n_channels, n_timepoints)``; 2-D means univariate."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        return X[:, None, :]
    if X.ndim != 3:
        raise ValueError(f"X must be 2-D (n_cases, n_timepoints) or 3-D (n_cases, n_channels, "
                         f"n_timepoints), got shape {X.shape}")
    return X


def _one_series(x: Any) -> np.ndarray:
    """One series given as (t,), (c, t) or (1, c, t) → float64 ``(1, c, t)``."""
    x = np.asarray(x, dtype=np.float64)
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


def _generator(random_state: Any) -> torch.Generator:
    if isinstance(random_state, torch.Generator):
        return random_state
    generator = torch.Generator()
    if random_state is None:
        generator.seed()  # OS entropy; global RNGs stay untouched
    else:
        generator.manual_seed(int(check_random_state(random_state).randint(0, 2**31 - 1)))
    return generator


def _history(estimator: Any):
    """The skorch history of a fitted btvqvae estimator (or of a skorch net)."""
    if hasattr(estimator, "net_"):
        return estimator.net_.history
    if hasattr(estimator, "history") and hasattr(estimator, "module_"):
        return estimator.history
    check_is_fitted(estimator)  # an unfitted estimator raises NotFittedError here
    raise TypeError(f"{type(estimator).__name__} has no training history; pass a fitted "
                    "btvqvae estimator (it keeps one in net_.history)")


# ---------------------------------------------------------------------------- reconstruction
def _reconstruct(estimator: Any, X: np.ndarray) -> np.ndarray:
    """Decode the estimator's own latents of X (n, c, t) → reconstruction (n, c, t)."""
    check_is_fitted(estimator)
    return np.asarray(estimator.reconstruct(X), dtype=np.float64).reshape(X.shape)


def _pick(estimator, X, index, channel) -> tuple[np.ndarray, np.ndarray, int, int]:
    X = _collection(X)
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


# ------------------------------------------------------------------------------ codebook
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


def plot_token_grid(tokens: Any, shape: Sequence[int], codebook_size: int | None = None, *,
                    annotate: bool | None = None, ax=None):
    """Draw one series' tokens as a frequency × time image of code ids.

    Parameters
    ----------
    tokens : array-like of int, shape (n_tokens,) or ``shape``
        Code ids of one series, row-major over (frequency, time) as
        ``estimator.encode(X, output="tokens")[i]`` returns them.
    shape : (int, int)
        ``(n_freq, n_time)`` of the grid, e.g. ``estimator.latent_shape_[1:]``.
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

    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu":
        raise ValueError(f"tokens must be integer code ids, got dtype {tokens.dtype}; use "
                         'estimator.encode(X, output="tokens")')
    try:
        shape = tuple(operator.index(s) for s in shape)
    except TypeError:
        shape = ()
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be two positive ints (n_freq, n_time), got {shape!r}")
    if tokens.size != shape[0] * shape[1]:
        raise ValueError(f"{tokens.size} tokens cannot fill a {shape[0]} x {shape[1]} grid; "
                         "pass estimator.latent_shape_[1:] as shape")
    grid = tokens.reshape(shape)
    k = int(grid.max()) + 1 if codebook_size is None else codebook_size
    if not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"codebook_size must be a positive int, got {codebook_size!r}")
    if grid.min() < 0 or grid.max() >= k:
        raise ValueError(f"token ids must lie in [0, {k}), got [{grid.min()}, {grid.max()}]")
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
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set(xlabel="latent time step", ylabel="frequency row",
           title=f"Tokens ({grid.shape[0]} x {grid.shape[1]} grid, {k} codes)")
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
    return plot_token_grid(tokens, tuple(estimator.latent_shape_[1:]),
                           codebook_size=estimator.codebook_size, annotate=annotate, ax=ax)


# ------------------------------------------------------------------------------- training
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


# -------------------------------------------------------------------------------- latents
def plot_latent_map(Z: Any, y: Any = None, method: str = "pca", random_state: Any = None, *,
                    ax=None):
    """Scatter latents in two dimensions (PCA or t-SNE), coloured by label.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Latents, e.g. ``estimator.transform(X)``; at least two samples.
    y : array-like of shape (n_samples,), optional
        Labels; up to 20 classes get a legend, more a colorbar (numeric labels by value,
        others by class index).
    method : {"pca", "tsne"}, default="pca"
        t-SNE uses ``perplexity = min(30, max(1, (n_samples - 1) / 3))`` (always below
        n_samples) and PCA initialisation.
    random_state : int, RandomState instance or None
        Seeds t-SNE (and a randomized PCA solver).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    _pyplot()  # fail before a long t-SNE run, not after
    Z = check_array(Z, dtype=np.float64, ensure_min_samples=2)
    method = str(method).lower().replace("-", "")
    if Z.shape[1] < 2:  # a second, constant feature keeps both projections two-dimensional
        Z = np.hstack([Z, np.zeros_like(Z)])
    if method == "pca":
        pca = PCA(n_components=2, random_state=random_state)
        emb = pca.fit_transform(Z)
        ratios = np.nan_to_num(pca.explained_variance_ratio_)
        labels = [f"PC {i + 1} ({r:.0%} of variance)" for i, r in enumerate(ratios)]
    elif method == "tsne":
        perplexity = min(30.0, max(1.0, (len(Z) - 1) / 3))
        emb = TSNE(n_components=2, perplexity=perplexity, init="pca",
                   random_state=random_state).fit_transform(Z)
        labels = ["t-SNE 1", "t-SNE 2"]
    else:
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    ax = _axes(ax, (6, 4.6))
    if y is None:
        ax.scatter(emb[:, 0], emb[:, 1], s=16, color="C0", alpha=0.8)
    else:
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D labels, got shape {y.shape}")
        check_consistent_length(Z, y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) <= _MAX_LEGEND_CLASSES:
            colors = _qualitative_colors(len(classes))
            for i, label in enumerate(classes):
                mask = codes == i
                ax.scatter(emb[mask, 0], emb[mask, 1], s=16, color=colors[i], alpha=0.85,
                           label=str(label))
            ax.legend(title="class", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      fontsize="small", frameon=False, ncols=1 if len(classes) <= 10 else 2)
        else:
            numeric = y.dtype.kind in "iuf"
            sc = ax.scatter(emb[:, 0], emb[:, 1], s=16, c=y if numeric else codes,
                            cmap="viridis", alpha=0.85)
            ax.figure.colorbar(sc, ax=ax, label="label" if numeric else "class index")
    ax.set(xlabel=labels[0], ylabel=labels[1],
           title=f"Latents ({'PCA' if method == 'pca' else 't-SNE'}, {len(Z)} samples)")
    return ax


# -------------------------------------------------------------------------- augmentations
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
    generator = _generator(random_state)
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
    view_a, view_b = _augmenter_of(augmenter).two_views(xt, generator=_generator(random_state))
    ax = _axes(ax, (7, 3.2))
    t = np.arange(xt.shape[-1])
    ax.plot(t, xt[0, channel].numpy(), color="black", lw=1.8, label="original")
    ax.plot(t, view_a[0, channel].numpy(), color="C0", lw=1.1, alpha=0.85, label="view A")
    ax.plot(t, view_b[0, channel].numpy(), color="C1", lw=1.1, alpha=0.85, label="view B")
    suffix = f" (channel {channel})" if xt.shape[1] > 1 else ""
    ax.set(xlabel="time step", ylabel="value", title=f"Two Barlow Twins views{suffix}")
    ax.legend(loc="best", fontsize="small")
    return ax
