"""Latents in two dimensions (PCA or t-SNE), coloured by label."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils import check_array, check_consistent_length

from ._common import _axes, _pyplot, _qualitative_colors

__all__ = ["plot_latent_map"]

_MAX_LEGEND_CLASSES = 20


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
