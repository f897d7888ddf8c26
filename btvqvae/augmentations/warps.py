"""Augmentations of the NC-VQVAE study (arXiv 2408.16613) for Barlow Twins views.

Slice-and-shuffle, window warp, magnitude warp and crop-resize: the views under which that
study found Barlow Twins to help a VQ-VAE's latents most.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy.interpolate import CubicSpline

from ._common import _as_tensor, _check_int, _check_nonnegative, _generator, _normal, _resample

__all__ = ["crop_resize", "magnitude_warp", "slice_and_shuffle", "window_warp"]


def slice_and_shuffle(x: Any, n_segments: int = 4, *,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """Cut each case at ``n_segments - 1`` random points and join the pieces in random order.

    Cuts and order are drawn per case and shared by its channels; cut points are uniform
    on ``0..L-1`` with replacement (pieces may be empty), as in NC-VQVAE's
    ``preprocessing/augmentations.py`` (``add_slice_and_shuffle``), whose
    ``configs/config.yaml`` uses ``n_segments: 4``. Values are only reordered;
    ``n_segments=1`` returns ``x`` exactly. See :func:`amplitude` for the rest.
    """
    x = _as_tensor(x)
    _check_int("n_segments", n_segments, 1)
    n, _, length = x.shape
    g = _generator(generator)
    cuts = torch.randint(0, length, (n, n_segments - 1), generator=g).sort(-1).values
    edges = torch.cat([cuts.new_zeros(n, 1), cuts, cuts.new_full((n, 1), length)], -1)  # (n, k+1)
    order = torch.rand(n, n_segments, generator=g, dtype=torch.float64).argsort(-1)  # (n, k)
    starts, sizes = edges[:, :-1].gather(-1, order), edges.diff(dim=-1).gather(-1, order)  # (n, k)
    ends = sizes.cumsum(-1)  # (n, k) where each shown piece ends in the output
    t = torch.arange(length).repeat(n, 1)  # (n, L)
    j = torch.searchsorted(ends, t, right=True)  # (n, L) piece shown at each output point
    src = starts.gather(-1, j) + t - (ends - sizes).gather(-1, j)  # (n, L)
    return x.gather(-1, src.to(x.device)[:, None, :].expand_as(x))


def window_warp(x: Any, window_ratio: float = 0.4, scales: Sequence[float] = (0.1, 1.1), *,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Stretch or squeeze a random window of each case by a factor drawn from ``scales``.

    The window spans ``window_ratio`` of the series; the warped series is resampled back
    to L points by linear interpolation, so it is a monotone piecewise-linear time warp
    (per case, shared by its channels) and values stay within each channel's range.
    NC-VQVAE's ``preprocessing/augmentations.py`` (``add_window_warp``, after tsgm) uses
    ``window_ratio: 0.4`` (``configs/config.yaml``) and ``scales = [0.1, 1.1]`` (hard-coded;
    the config's ``min/max_window_warp`` 0.8/1.2 are not read) on whole samples; here
    window ends are continuous. ``scales=(1.0,)`` or ``window_ratio=0`` return ``x``
    exactly (``window_ratio=1`` warps everything: ``x`` up to float rounding).
    See :func:`amplitude` for the rest.
    """
    x = _as_tensor(x)
    if not (isinstance(window_ratio, numbers.Real) and 0 <= window_ratio <= 1):
        raise ValueError(f"window_ratio must be a fraction in [0, 1], got {window_ratio!r}.")
    if not (isinstance(scales, Sequence) and len(scales) > 0 and all(
            isinstance(s, numbers.Real) and 0 < s < math.inf for s in scales)):
        raise ValueError(f"scales must be a non-empty sequence of finite numbers > 0, "
                         f"got {scales!r}.")
    n, _, length = x.shape
    g = _generator(generator)
    width = window_ratio * (length - 1)
    start = torch.rand(n, 1, generator=g, dtype=torch.float64) * (length - 1 - width)  # (n, 1)
    s = torch.tensor(scales, dtype=torch.float64)[torch.randint(len(scales), (n, 1), generator=g)]
    v = torch.arange(length, dtype=torch.float64) * (length - 1 + width * (s - 1)) / max(
        length - 1, 1)  # (n, L) output points on the warped axis
    return _resample(x, v - (v - start).clamp(min=0).minimum(width * s) * (1 - 1 / s))


def magnitude_warp(x: Any, sigma: float = 0.1, n_knots: int = 4, *,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Multiply each channel by a smooth curve, a cubic spline through knots ~ N(1, sigma²).

    ``n_knots + 2`` knots are evenly spaced from the first to the last point, drawn per
    (case, channel); the curve is scipy's not-a-knot ``CubicSpline``, applied as a basis
    matrix on ``x``'s device. Mean 1; it can overshoot the knots, so it is positive only
    for small sigma (min 0.50 at 0.1, 0.01 at 0.2 over 20 000 curves of length 100).
    NC-VQVAE's ``preprocessing/augmentations.py`` (``add_magnitude_warp``, after tsgm) uses
    ``sigma=0.1, n_knots=4`` (the config's ``min/max_magnitude_warp`` 0.8/1.2 are not read).
    ``sigma=0`` returns ``x`` exactly. See :func:`amplitude` for the rest.
    """
    x = _as_tensor(x)
    _check_nonnegative("sigma", sigma)
    _check_int("n_knots", n_knots, 0)
    n, c, length = x.shape
    eps = _normal((n, c, n_knots + 2), sigma, x, _generator(generator))  # (n, c, K)
    knots = np.linspace(0, max(length - 1, 1), n_knots + 2)
    basis = CubicSpline(knots, np.eye(n_knots + 2))(np.arange(length)).T  # (K, L)
    return x * (1 + eps @ torch.as_tensor(basis, dtype=x.dtype, device=x.device))


def crop_resize(x: Any, crop_ratio: float = 0.9, *,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Keep a random window spanning ``crop_ratio`` of each case, resized back to L points.

    Linear interpolation, per case and shared by its channels, with a continuous start.
    NC-VQVAE's ``preprocessing/augmentations.py`` has no such resize (one stored version's
    ``time_slicing``, ``slice_rate=0.2``, zero-pads the crop); the default 0.9 is window
    slicing's 90 % (Le Guennec et al. 2016). ``crop_ratio=1`` returns ``x`` exactly.
    See :func:`amplitude` for the rest.
    """
    x = _as_tensor(x)
    if not (isinstance(crop_ratio, numbers.Real) and 0 < crop_ratio <= 1):
        raise ValueError(f"crop_ratio must be a fraction in (0, 1], got {crop_ratio!r}.")
    n, _, length = x.shape
    start = torch.rand(n, 1, generator=_generator(generator), dtype=torch.float64)  # (n, 1)
    t = torch.arange(length, dtype=torch.float64)  # (L,)
    return _resample(x, start * (1 - crop_ratio) * (length - 1) + crop_ratio * t)
