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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["READOUTS", "Readout"]


@dataclass(frozen=True)
class Readout:
    """One output mode of the estimators.

    Attributes
    ----------
    encode : callable ``(model, x) -> (B, n_features)``
        Features of a batch of scaled series.
    n_features : callable ``model -> int``
    integer : bool
        Whether the features are int64 code ids (else floats in the input's dtype).
    decode : callable ``(model, Z) -> (B, C, L)`` or None
        Scaled series from features; None when the read-out cannot be decoded.
    summary : str
        One line for error messages and documentation.
    """

    encode: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]
    n_features: Callable[[torch.nn.Module], int]
    integer: bool
    decode: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor] | None
    summary: str


def _quantized(model, x: torch.Tensor) -> torch.Tensor:
    return model.token_vectors(model.tokens(x))  # (B, D, F, T'): the sum of the stage codes


def _tokens(model, x: torch.Tensor) -> torch.Tensor:
    return model.tokens(x).flatten(1)  # (B, S·F·T')


def _decode_tokens(model, Z: torch.Tensor) -> torch.Tensor:
    return model.decode_tokens(Z.long().reshape(-1, *model.token_shape))  # (B, [S,] F, T')


def _embedding(model, x: torch.Tensor) -> torch.Tensor:
    return _quantized(model, x).flatten(1)  # (B, D·F·T')


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
}
