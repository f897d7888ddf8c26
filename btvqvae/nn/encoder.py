"""Convolutional encoder over the STFT image (SPEC §3)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import ResBlock

__all__ = ["Encoder", "downsampling_strides", "n_downsampling_blocks"]


def n_downsampling_blocks(n_timepoints: int, n_fft: int, target_width: int) -> int:
    """Number of time-halving blocks: ``max(1, floor(log2(rate)))`` (TimeVQVAE's rule).

    ``rate = round(L / (log2(n_fft) - 1) / target_width)``, clamped to at least 1 (the reference
    formula gives 0 for short series).
    """
    denominator = max(math.log2(n_fft) - 1.0, 1.0)
    rate = max(1, round(n_timepoints / denominator / target_width))
    return max(1, int(math.floor(math.log2(rate))))


def downsampling_strides(n_frames: int, n_blocks: int) -> list[int]:
    """Time stride of each block: 2 while the width can still be halved, then 1.

    A stride-2 block maps width W to floor(W / 2), so a series with fewer frames than
    ``2 ** n_blocks`` would vanish; its remaining blocks keep the width instead.
    """
    strides, width = [], n_frames
    for _ in range(n_blocks):
        stride = 2 if width >= 2 else 1
        strides.append(stride)
        width //= stride
    return strides


class _DownBlock(nn.Sequential):
    def __init__(self, in_dim: int, out_dim: int, stride: int, negative_slope: float):
        kernel = (3, 4) if stride == 2 else (3, 3)
        super().__init__(
            nn.Conv2d(in_dim, out_dim, kernel, stride=(1, stride), padding=(1, 1),
                      padding_mode="replicate"),
            nn.BatchNorm2d(out_dim),
            nn.LeakyReLU(negative_slope),
        )


class Encoder(nn.Module):
    """``(B, 2C, F, T)`` → ``(B, code_dim, F, T')``: strided blocks, then residual blocks.

    Parameters
    ----------
    in_channels : int
        Image channels, ``2 * n_channels``.
    hidden_dim : int
        Width of every convolution.
    strides : list of int
        Time stride of each downsampling block (see :func:`downsampling_strides`).
    n_res_blocks : int
        Residual blocks after downsampling, each followed by a BatchNorm.
    code_dim : int
        Output channels; a 1x1 convolution maps ``hidden_dim`` to it when they differ.
    """

    def __init__(self, in_channels: int, hidden_dim: int, strides: list[int], n_res_blocks: int,
                 code_dim: int, negative_slope: float = 0.01):
        super().__init__()
        layers: list[nn.Module] = []
        dim = in_channels
        for stride in strides:
            layers.append(_DownBlock(dim, hidden_dim, stride, negative_slope))
            dim = hidden_dim
        for _ in range(n_res_blocks):
            layers += [ResBlock(hidden_dim, batch_norm=True, negative_slope=negative_slope),
                       nn.BatchNorm2d(hidden_dim)]
        if code_dim != hidden_dim:
            layers.append(nn.Conv2d(hidden_dim, code_dim, kernel_size=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.layers(u)
