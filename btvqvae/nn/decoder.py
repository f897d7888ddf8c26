"""Transposed-convolution decoder mirroring :class:`~btvqvae.nn.encoder.Encoder` (SPEC §3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ResBlock

__all__ = ["Decoder"]


def _up(in_dim: int, out_dim: int, stride: int) -> nn.ConvTranspose2d:
    # k=(3,4), s=(1,2), p=(1,1) doubles the width exactly and keeps the height.
    kernel = (3, 4) if stride == 2 else (3, 3)
    return nn.ConvTranspose2d(in_dim, out_dim, kernel, stride=(1, stride), padding=(1, 1))


class Decoder(nn.Module):
    """``(B, code_dim, F, T')`` → ``(B, 2C, F, T)``.

    Residual blocks (no BatchNorm inside, each followed by one), upsampling blocks
    (transposed conv → BN → LeakyReLU) undoing all but the first encoder stride, two final
    transposed convolutions to the image channels (the first undoes the remaining stride), and
    a bilinear resize to the exact STFT shape.
    """

    def __init__(self, out_channels: int, hidden_dim: int, strides: list[int], n_res_blocks: int,
                 code_dim: int, negative_slope: float = 0.01):
        super().__init__()
        layers: list[nn.Module] = []
        if code_dim != hidden_dim:
            layers.append(nn.Conv2d(code_dim, hidden_dim, kernel_size=1))
        for _ in range(n_res_blocks):
            layers += [ResBlock(hidden_dim, batch_norm=False, negative_slope=negative_slope),
                       nn.BatchNorm2d(hidden_dim)]
        up_strides = list(reversed(strides))
        for stride in up_strides[:-1]:
            layers += [_up(hidden_dim, hidden_dim, stride), nn.BatchNorm2d(hidden_dim),
                       nn.LeakyReLU(negative_slope)]
        layers += [_up(hidden_dim, out_channels, up_strides[-1]),
                   _up(out_channels, out_channels, 1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, z_q: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        u_hat = self.layers(z_q)  # (B, 2C, F, ~T)
        if tuple(u_hat.shape[-2:]) != tuple(size):
            u_hat = F.interpolate(u_hat, size=size, mode="bilinear", align_corners=False)
        return u_hat
