"""Any series through one single-channel VQ-VAE: the module behind pretrained tokenizers.

:class:`InstanceTokenizer` wraps a :class:`~btvqvae.nn.model.VQVAE` built for one channel
and gives it any number of channels and any length:

- each channel of each series is normalised by its own level (mean) and spread (standard
  deviation, floored at :data:`MIN_SPREAD`), so tokens describe shape, not scale;
- channels are folded into the batch and tokenised independently by the same weights;
- with ``length`` set, every channel is resampled (linear interpolation, end points kept) to
  the model's length before the STFT and back to its own length after decoding; with
  ``length=None`` the model runs at the series' own length (its fixed strides make the
  token grid grow with the series).

The token grid of a C-channel series stacks the channels' frequency rows: ``(S, C·F, T')``
(``(C·F, T')`` for one stage), so every read-out of :mod:`btvqvae.readouts` applies as is.
Decoding returns normalised series (level 0, spread 1); the estimator restores a series'
own level and spread where it has them (``reconstruct``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .model import VQVAE, VQVAEOutput, token_grid

__all__ = ["MIN_SPREAD", "InstanceTokenizer", "instance_normalize", "resample"]

#: Smallest spread a series is divided by: flatter series are treated as constant.
MIN_SPREAD = 1e-5


def instance_normalize(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(B, C, L)`` → (normalised series, level ``(B, C, 1)``, spread ``(B, C, 1)``)."""
    level = x.mean(-1, keepdim=True)
    spread = x.std(-1, correction=0, keepdim=True).clamp_min(MIN_SPREAD)
    return (x - level) / spread, level, spread


def resample(x: torch.Tensor, length: int) -> torch.Tensor:
    """``(N, C, L)`` → ``(N, C, length)`` by linear interpolation keeping both end points."""
    if x.shape[-1] == length:
        return x
    return F.interpolate(x, size=length, mode="linear", align_corners=True)


class InstanceTokenizer(nn.Module):
    """A single-channel VQ-VAE ``core`` applied per channel to instance-normalised series.

    Parameters
    ----------
    core : VQVAE
        Built for one channel and ``length`` timepoints (or the series' own length when
        ``length`` is None), with a fixed number of downsampling blocks.
    n_channels, n_timepoints : int
        Shape of one input series.
    length : int or None
        Length every channel is resampled to, or None to run at the series' own length.
    """

    def __init__(self, core: VQVAE, n_channels: int, n_timepoints: int, length: int | None):
        super().__init__()
        if core.n_channels != 1:
            raise ValueError(f"the core model must take one channel, not {core.n_channels}")
        expected = n_timepoints if length is None else length
        if core.n_timepoints != expected:
            raise ValueError(f"the core model takes {core.n_timepoints} timepoints, "
                             f"expected {expected}")
        self.core = core
        self.n_channels, self.n_timepoints, self.length = n_channels, n_timepoints, length

    # -- shapes, as VQVAE exposes them --------------------------------------------------------
    @property
    def n_quantizers(self) -> int:
        return self.core.n_quantizers

    @property
    def codebook_size(self) -> int:
        return self.core.codebook_size

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        d, f, t = self.core.latent_shape
        return d, self.n_channels * f, t

    @property
    def token_shape(self) -> tuple[int, ...]:
        return token_grid(self.latent_shape, self.n_quantizers)

    @property
    def n_tokens(self) -> int:
        return math.prod(self.token_shape)

    @property
    def activations_per_case(self) -> int:
        return self.core.activations_per_case * self.n_channels

    # -- channels in and out of the batch -----------------------------------------------------
    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, L)`` → normalised, resampled channels ``(B·C, 1, length)``."""
        x, _, _ = instance_normalize(x)
        x = x.reshape(-1, 1, x.shape[-1])  # (B·C, 1, L)
        return x if self.length is None else resample(x, self.length)

    def _fold(self, grid: torch.Tensor) -> torch.Tensor:
        """``(B·C, A, F, T')`` → ``(B, A, C·F, T')``: channels stacked as frequency rows."""
        bc, a, f, t = grid.shape
        c = self.n_channels
        return grid.reshape(bc // c, c, a, f, t).transpose(1, 2).reshape(bc // c, a, c * f, t)

    def _unfold(self, grid: torch.Tensor) -> torch.Tensor:
        """``(B, A, C·F, T')`` → ``(B·C, A, F, T')``, the inverse of :meth:`_fold`."""
        b, a, cf, t = grid.shape
        c = self.n_channels
        return grid.reshape(b, a, c, cf // c, t).transpose(1, 2).reshape(b * c, a, cf // c, t)

    # -- the VQVAE interface the read-outs use ------------------------------------------------
    def latents(self, x: torch.Tensor) -> torch.Tensor:
        """Series ``(B, C, L)`` → continuous latents ``(B, D, C·F, T')``."""
        return self._fold(self.core.latents(self._prepare(x)))

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Series ``(B, C, L)`` → code ids ``(B, *token_shape)``."""
        ids = self.core.tokens(self._prepare(x))  # (B·C, F, T') or (B·C, S, F, T')
        if self.n_quantizers == 1:
            return self._fold(ids[:, None])[:, 0]
        return self._fold(ids)

    def token_vectors(self, indices: torch.Tensor) -> torch.Tensor:
        """Code ids ``(B, *token_shape)`` → quantized latents ``(B, D, C·F, T')``."""
        grid = indices[:, None] if self.n_quantizers == 1 else indices
        ids = self._unfold(grid)
        ids = ids[:, 0] if self.n_quantizers == 1 else ids
        return self._fold(self.core.token_vectors(ids))

    def decode_tokens(self, indices: torch.Tensor) -> torch.Tensor:
        """Code ids ``(B, *token_shape)`` → normalised series ``(B, C, L)``."""
        return self.decode_latents(self.token_vectors(indices))

    def decode_latents(self, z_q: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, D, C·F, T')`` → normalised series ``(B, C, L)`` (level 0, spread 1)."""
        x = self.core.decode_latents(self._unfold(z_q))  # (B·C, 1, length)
        x = resample(x, self.n_timepoints)
        return x.reshape(-1, self.n_channels, self.n_timepoints)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VQVAEOutput:
        """Training pass of the core on the normalised channels (the loss is theirs)."""
        return self.core(self._prepare(x), generator)
