"""Building blocks shared by the encoder and the decoder, and seeded parameter initialisation."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ResBlock", "reset_parameters"]


class ResBlock(nn.Module):
    """Residual block ``x + conv1x1(act(norm(conv3x3(act(x)))))`` with an identity skip.

    The encoder's blocks carry a BatchNorm inside (``batch_norm=True``), the decoder's do not.
    """

    def __init__(self, dim: int, *, batch_norm: bool = True, negative_slope: float = 0.01):
        super().__init__()
        self.body = nn.Sequential(
            nn.LeakyReLU(negative_slope),
            nn.Conv2d(dim, dim, kernel_size=3, padding=1),
            nn.BatchNorm2d(dim) if batch_norm else nn.Identity(),
            nn.LeakyReLU(negative_slope),
            nn.Conv2d(dim, dim, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, D, F, T) -> (B, D, F, T)
        return x + self.body(x)


def reset_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-draw every convolution and linear layer's weights with torch's default scheme.

    torch initialises layers from its global RNG; drawing them again from ``generator`` makes
    the model a pure function of ``random_state`` without touching global state.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            with torch.no_grad():
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                if layer.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
                    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
