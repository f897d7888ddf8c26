"""Barlow Twins projector: global max pooling, then an expanding MLP (SPEC §4)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Projector"]


class Projector(nn.Module):
    """``(B, D, F, T)`` → ``(B, dims[-1])``.

    Global max pooling over (freq, time), then ``Linear → BN → ReLU`` between layers and a
    final bias-free ``Linear`` (the layout of Barlow Twins' projector).
    """

    def __init__(self, in_dim: int, dims: Sequence[int]):
        super().__init__()
        layers: list[nn.Module] = []
        widths = [in_dim, *dims]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            last = i == len(dims) - 1
            layers.append(nn.Linear(a, b, bias=not last))
            if not last:
                layers += [nn.BatchNorm1d(b), nn.ReLU()]
        self.mlp = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        pooled = torch.amax(z, dim=(2, 3))  # (B, D)
        return self.mlp(pooled)
