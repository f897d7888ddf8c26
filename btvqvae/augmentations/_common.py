"""Shared helpers of the augmentations: input coercion, CPU-drawn randomness, resampling."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch

from .._random import torch_generator
from .._validation import as_array


def _as_tensor(x: Any) -> torch.Tensor:
    """Return ``x`` as a 3-D floating-point tensor (arrays and lists are converted)."""
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.ascontiguousarray(as_array(x, name="x")))
    if not x.is_floating_point():
        raise TypeError(
            f"x must be a floating-point array (float32 or float64), got {x.dtype}; "
            "cast it first, e.g. x.astype(np.float32) or x.float()."
        )
    if x.ndim != 3:
        raise ValueError(
            f"x must have shape (n_cases, n_channels, n_timepoints), got shape "
            f"{tuple(x.shape)}; add a channel axis with x[:, None, :] for univariate data."
        )
    return x


def _generator(generator: torch.Generator | None) -> torch.Generator:
    """``generator``, or for None a fresh non-deterministically seeded one (global RNG
    untouched)."""
    return torch_generator(generator, name="generator")


def _uniform(shape: tuple[int, ...], low: float, high: float, x: torch.Tensor,
             generator: torch.Generator) -> torch.Tensor:
    """U(low, high) samples drawn on CPU, moved to ``x``'s device and dtype."""
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    return (low + (high - low) * u).to(device=x.device, dtype=x.dtype)


def _normal(shape: tuple[int, ...], std: float, x: torch.Tensor,
            generator: torch.Generator) -> torch.Tensor:
    """N(0, std²) samples drawn on CPU, moved to ``x``'s device and dtype."""
    z = torch.randn(shape, generator=generator, dtype=torch.float64)
    return (std * z).to(device=x.device, dtype=x.dtype)


def _check_nonnegative(name: str, value: float) -> None:
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")


def _check_int(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _resample(x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of ``x`` (n, c, L) at positions ``tau`` (n, L), float64 on CPU;
    integer positions give the samples exactly (``torch.lerp`` is exact at both ends)."""
    length = x.shape[-1]
    tau = tau.clamp(0, length - 1)
    lo = tau.floor().clamp(max=max(length - 2, 0))  # (n, L)
    frac = (tau - lo).to(device=x.device, dtype=x.dtype)[:, None, :]  # (n, 1, L)
    lo = lo.long().to(x.device)[:, None, :].expand_as(x)  # (n, c, L)
    return torch.lerp(x.gather(-1, lo), x.gather(-1, (lo + 1).clamp(max=length - 1)), frac)
