"""Read-outs: what ``transform`` returns, as small functions of the model's outputs.

A read-out turns a batch of scaled series ``(B, C, L)`` into features ``(B, n_features)``
through the model's own methods (:meth:`~btvqvae.nn.model.VQVAE.tokens`,
:meth:`~btvqvae.nn.model.VQVAE.token_vectors`, ...), and, where the features still hold
everything the decoder needs, back into series. Adding an output mode is adding one entry to
:data:`READOUTS`.

``"tokens"``, ``"embedding"`` and ``"histogram"`` are discrete (the last two are functions of
the code ids), and so is ``"pooled"``, which pools the quantized vectors over time.
``"latent"`` skips the quantizer: it is the continuous upper reference that every discrete
read-out is measured against (SPEC §8), not a token representation.

``"sequence"`` is ``"embedding"`` kept as aeon's 3-D collection ``(B, D·F, T')``: one channel
per (code dim, freq row), one timepoint per token step, for time-series classifiers.
``"decoded"`` is the series the tokens decode to, ``(B, C, L)`` in the input's units: a
function of the code ids alone, for any time-series classifier (``series=True`` below).

``"bag"`` counts token *words* for linear models, as a ``scipy.sparse.csr_matrix`` (float
counts in X's dtype): per stage s and frequency row f, each code k (unigram ``"uni"``) and
each code pair (a, b) at consecutive time steps (bigram ``"bi"``), in every region r of a
time pyramid (:data:`BAG_LEVELS`): r = 0 the whole series, 1–2 its halves, 3–6 its quarters,
split like ``np.array_split`` (a bigram belongs to the region of its first step; a region
left empty by a short token grid counts nothing). The columns depend on (S, F, K) only, not
on the number of time steps T': first the unigrams, column ``((r·S + s)·F + f)·K + k``, then
the bigrams, column ``7·S·F·K + (((r·S + s)·F + f)·K + a)·K + b``, which makes
``7·S·F·(K + K²)`` columns. ``get_feature_names_out`` names them ``"uni_r0_s0_f2_k17"`` and
``"bi_r3_s1_f0_k5_k9"``. Per series, the whole-series unigrams of each (s, f) sum to T' and
the bigrams to T' − 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["BAG_LEVELS", "READOUTS", "Readout"]

#: Parts of each level of the bag's time pyramid: the whole series, halves, quarters.
BAG_LEVELS = (1, 2, 4)


@dataclass(frozen=True)
class Readout:
    """One output mode of the estimators.

    Attributes
    ----------
    encode : callable ``(model, x) -> (B, n_features)``
        Features of a batch of scaled series. A sparse read-out returns instead the column
        of each of its words in each series, ``(B, n_words)`` int64, one entry per
        occurrence: the net counts them into a CSR matrix of ``n_features`` columns.
    n_features : callable ``model -> int``
    integer : bool
        Whether the features are int64 code ids (else floats in the input's dtype).
    decode : callable ``(model, Z) -> (B, C, L)`` or None
        Scaled series from features; None when the read-out cannot be decoded.
    summary : str
        One line for error messages and documentation.
    sparse : bool
        Whether the features are word counts in a ``scipy.sparse.csr_matrix`` (see encode).
    feature_names : callable ``model -> list of str`` or None
        A name per feature; None keeps scikit-learn's ``<estimator><i>`` names.
    shape : callable ``model -> tuple of int`` or None
        The shape of one series' features when they are not a flat row (their product is
        ``n_features``): ``transform`` then returns ``(n_cases, *shape)``. None: flat rows.
    series : bool
        Whether the features are series in the model's scaled units, which the net turns
        back into the input's units.
    """

    encode: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]
    n_features: Callable[[torch.nn.Module], int]
    integer: bool
    decode: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor] | None
    summary: str
    sparse: bool = False
    feature_names: Callable[[torch.nn.Module], list[str]] | None = None
    shape: Callable[[torch.nn.Module], tuple[int, ...]] | None = None
    series: bool = False


def _quantized(model, x: torch.Tensor) -> torch.Tensor:
    return model.token_vectors(model.tokens(x))  # (B, D, F, T'): the sum of the stage codes


def _tokens(model, x: torch.Tensor) -> torch.Tensor:
    return model.tokens(x).flatten(1)  # (B, S·F·T')


def _decode_tokens(model, Z: torch.Tensor) -> torch.Tensor:
    return model.decode_tokens(Z.long().reshape(-1, *model.token_shape))  # (B, [S,] F, T')


def _embedding(model, x: torch.Tensor) -> torch.Tensor:
    return _quantized(model, x).flatten(1)  # (B, D·F·T')


def _sequence(model, x: torch.Tensor) -> torch.Tensor:
    return _quantized(model, x).flatten(1, 2)  # (B, D·F, T'): channels (code_dim, freq)


def _sequence_shape(model) -> tuple[int, int]:
    d, f, t = model.latent_shape
    return d * f, t


def _decoded(model, x: torch.Tensor) -> torch.Tensor:
    return model.decode_tokens(model.tokens(x))  # (B, C, L), scaled units


def _series_shape(model) -> tuple[int, int]:
    return model.n_channels, model.n_timepoints


def _decode_latents(model, Z: torch.Tensor) -> torch.Tensor:
    return model.decode_latents(Z.float().reshape(-1, *model.latent_shape))


def _histogram(model, x: torch.Tensor) -> torch.Tensor:
    idx = model.tokens(x).reshape(len(x), model.n_quantizers, -1)  # (B, S, F·T')
    k = model.codebook_size
    offsets = k * torch.arange(model.n_quantizers, device=idx.device)  # (S,)
    bins = (idx + offsets[:, None]).flatten(1)  # (B, S·F·T'): stage s counts in [sK, (s+1)K)
    counts = torch.zeros(len(idx), model.n_quantizers * k, device=idx.device)
    counts.scatter_add_(1, bins, torch.ones_like(bins, dtype=counts.dtype))
    return counts / idx.shape[2]  # (B, S·K), each stage's block sums to 1


def _latent(model, x: torch.Tensor) -> torch.Tensor:
    return model.latents(x).flatten(1)  # (B, D·F·T')


def _pooled(model, x: torch.Tensor) -> torch.Tensor:
    z_q = _quantized(model, x)  # (B, D, F, T')
    return torch.cat([z_q.mean(-1), z_q.amax(-1)], dim=1).flatten(1)  # (B, 2D·F)


def _bag_regions(n_steps: int) -> np.ndarray:
    """``(len(BAG_LEVELS), n_steps)``: the pyramid region of each time step at each level.

    Regions are numbered level by level (0 the whole series, then 1–2, then 3–6).
    """
    regions = np.empty((len(BAG_LEVELS), n_steps), dtype=np.int64)
    first = 0
    for level, n_parts in enumerate(BAG_LEVELS):
        for part, steps in enumerate(np.array_split(np.arange(n_steps), n_parts)):
            regions[level, steps] = first + part
        first += n_parts
    return regions


def _bag_cells(model) -> tuple[int, int, int]:
    """Regions, stages and frequency rows: each (r, s, f) cell has K unigrams, K² bigrams."""
    return sum(BAG_LEVELS), model.n_quantizers, model.token_shape[-2]


def _bag_width(model) -> int:
    k = model.codebook_size
    return math.prod(_bag_cells(model)) * (k + k * k)


def _bag_words(model, x: torch.Tensor) -> torch.Tensor:
    """The column of each word occurrence, ``(B, levels·S·F·(2T' - 1))``: unigrams, bigrams."""
    n_regions, s, f = _bag_cells(model)
    k = model.codebook_size
    ids = model.tokens(x).reshape(len(x), s, f, -1)  # (B, S, F, T')
    regions = torch.from_numpy(_bag_regions(ids.shape[-1])).to(ids.device)  # (levels, T')
    stage_row = torch.arange(s * f, device=ids.device).reshape(s, f, 1)  # (S, F, 1): s·F + f
    cell = regions[:, None, None, :] * (s * f) + stage_row  # (levels, S, F, T'): (r·S + s)·F + f
    ids = ids[:, None]  # (B, 1, S, F, T')
    unigrams = cell * k + ids  # (B, levels, S, F, T')
    bigrams = (cell[..., :-1] * k + ids[..., :-1]) * k + ids[..., 1:]  # (B, levels, S, F, T'-1)
    return torch.cat([unigrams.flatten(1), n_regions * s * f * k + bigrams.flatten(1)], dim=1)


def _bag_names(model) -> list[str]:
    n_regions, s, f = _bag_cells(model)
    codes = range(model.codebook_size)
    cells = [f"r{r}_s{i}_f{j}" for r in range(n_regions) for i in range(s) for j in range(f)]
    return ([f"uni_{cell}_k{a}" for cell in cells for a in codes]
            + [f"bi_{cell}_k{a}_k{b}" for cell in cells for a in codes for b in codes])


READOUTS: dict[str, Readout] = {
    "embedding": Readout(
        _embedding, lambda m: math.prod(m.latent_shape), False, _decode_latents,
        "flattened quantized vectors (code_dim, freq, time), summed over stages: the thesis' Z"),
    "tokens": Readout(
        _tokens, lambda m: m.n_tokens, True, _decode_tokens,
        "int64 code ids (freq, time), or (stage, freq, time) with n_quantizers > 1"),
    "histogram": Readout(
        _histogram, lambda m: m.n_quantizers * m.codebook_size, False, None,
        "each code's share of its stage's tokens (stage, code); token order is discarded"),
    "latent": Readout(
        _latent, lambda m: math.prod(m.latent_shape), False, _decode_latents,
        "flattened continuous latents before quantization (code_dim, freq, time): not "
        "discrete, the upper reference for every discrete read-out"),
    "pooled": Readout(
        _pooled, lambda m: 2 * m.latent_shape[0] * m.latent_shape[1], False, None,
        "mean then max over time of the quantized vectors (stat, code_dim, freq): "
        "shift invariant"),
    "bag": Readout(
        _bag_words, _bag_width, False, None,
        "sparse counts of each code and each consecutive code pair per (stage, freq) over "
        "the whole series, its halves and quarters: a bag of token words for linear models",
        sparse=True, feature_names=_bag_names),
    "sequence": Readout(
        _sequence, lambda m: math.prod(m.latent_shape), False, _decode_latents,
        "quantized vectors as a 3-D collection (n_cases, code_dim·freq, time), summed over "
        "stages: the embedding as multichannel series for time-series classifiers",
        shape=_sequence_shape),
    "decoded": Readout(
        _decoded, lambda m: m.n_channels * m.n_timepoints, False, None,
        "the series the tokens decode to, as a 3-D collection (n_cases, channels, timepoints) "
        "in the input's units: a function of the code ids alone, for time-series classifiers",
        shape=_series_shape, series=True),
}
