"""Read-outs: what ``transform`` returns, as small functions of the model's outputs.

A read-out turns a batch of scaled series ``(B, C, L)`` into features ``(B, n_features)``
through the model's own methods (:meth:`~btvqvae.nn.model.VQVAE.tokens`,
:meth:`~btvqvae.nn.model.VQVAE.token_vectors`, ...), and, where the features still hold
everything the decoder needs, back into series. Adding an output mode is adding one entry to
:data:`READOUTS`.
"""

from __future__ import annotations

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


def _grid(model, Z: torch.Tensor) -> torch.Tensor:
    return Z.reshape(-1, *model.latent_shape[1:])  # (B, F, T')


def _tokens(model, x: torch.Tensor) -> torch.Tensor:
    return model.tokens(x).flatten(1)  # (B, F·T')


def _decode_tokens(model, Z: torch.Tensor) -> torch.Tensor:
    return model.decode_tokens(_grid(model, Z.long()))


def _embedding(model, x: torch.Tensor) -> torch.Tensor:
    return model.token_vectors(model.tokens(x)).flatten(1)  # (B, D·F·T')


def _decode_embedding(model, Z: torch.Tensor) -> torch.Tensor:
    return model.decode_latents(Z.float().reshape(-1, *model.latent_shape))


def _histogram(model, x: torch.Tensor) -> torch.Tensor:
    idx = _tokens(model, x)  # (B, n_tokens)
    counts = torch.zeros(len(idx), model.codebook_size, device=idx.device)
    counts.scatter_add_(1, idx, torch.ones_like(idx, dtype=counts.dtype))
    return counts / idx.shape[1]  # (B, K)


READOUTS: dict[str, Readout] = {
    "embedding": Readout(
        _embedding, lambda m: m.n_tokens * m.latent_shape[0], False, _decode_embedding,
        "flattened quantized vectors (code_dim, freq, time), the thesis' Z"),
    "tokens": Readout(
        _tokens, lambda m: m.n_tokens, True, _decode_tokens, "int64 code ids (freq, time)"),
    "histogram": Readout(
        _histogram, lambda m: m.codebook_size, False, None,
        "each code's share of the series' tokens; token order is discarded"),
}
