"""The vocabulary of a pretrained tokenizer: what each of its codes decodes to."""

from __future__ import annotations

import math
import os

import numpy as np

from ._common import _pyplot

__all__ = ["plot_vocabulary"]


def plot_vocabulary(tokenizer: str | os.PathLike = "pretrained", stage: int = 0, *,
                    fig=None):
    """One small panel per code of ``stage``: the series its code vector decodes to when it
    fills the whole token grid alone (normalised units, the tokenizer's length).

    Parameters
    ----------
    tokenizer : "pretrained", a shipped name or a tokenizer folder
        As ``VQVAETransformer(init=...)`` takes it (:func:`btvqvae.pretrained.load_pretrained`).
    stage : int, default=0
        Quantizer stage whose codes are drawn (0: the coarsest).
    fig : matplotlib Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..pretrained import load_pretrained

    loaded = load_pretrained(tokenizer)
    core = loaded.core()
    if not 0 <= stage < core.n_quantizers:
        raise ValueError(f"stage must lie in [0, {core.n_quantizers}), got {stage}")
    series = core.code_decodings(stage)[:, 0].numpy()  # (K, L)
    k = len(series)
    cols = min(8, k)
    rows = math.ceil(k / cols)
    plt = _pyplot()
    fig = fig if fig is not None else plt.figure(figsize=(1.7 * cols, 1.3 * rows + 0.6),
                                                 layout="constrained")
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    t = np.arange(series.shape[1])
    for code, ax in enumerate(axes.flat):
        if code >= k:
            ax.set_axis_off()
            continue
        ax.plot(t, series[code], lw=0.9, color="C0")
        ax.set_title(f"code {code}", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"Tokenizer {loaded.name!r}: what each stage-{stage} code decodes to")
    return fig
