"""The thesis' augmentations (SPEC §5): amplitude, flip, slope, STFT phase, jitter."""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from ._common import _as_tensor, _check_nonnegative, _generator, _normal, _uniform

__all__ = ["amplitude", "flip", "jitter", "slope", "stft_phase"]


def amplitude(x: Any, std: float = 0.1, *,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Scale each channel by ``1 + eps`` with one ``eps ~ N(0, std²)`` per (case, channel).

    Parameters
    ----------
    x : tensor or ndarray of shape (n_cases, n_channels, n_timepoints)
    std : float, default=0.1
        Standard deviation of the relative amplitude change; 0 returns ``x`` exactly.
    generator : torch.Generator or None
        Source of randomness (CPU); None uses a fresh unseeded generator.

    Returns
    -------
    tensor of the same shape, dtype and device as ``x``.
    """
    x = _as_tensor(x)
    _check_nonnegative("std", std)
    n, c, _ = x.shape
    eps = _normal((n, c, 1), std, x, _generator(generator))  # (n, c, 1)
    return x * (1 + eps)


def flip(x: Any, p: float = 0.5, *,
         generator: torch.Generator | None = None) -> torch.Tensor:
    """Reverse the time axis of each case (all its channels) with probability ``p``.

    ``p=0`` is the identity and ``p=1`` always reverses, so flipping twice with ``p=1``
    returns ``x``. See :func:`amplitude` for the common parameters and return value.
    """
    x = _as_tensor(x)
    if not (isinstance(p, numbers.Real) and 0 <= p <= 1):
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}.")
    u = torch.rand(x.shape[0], generator=_generator(generator), dtype=torch.float64)
    mask = (u < p).to(x.device)[:, None, None]  # (n, 1, 1)
    return torch.where(mask, x.flip(-1), x)


def slope(x: Any, max_slope: float = 0.01, *, scaled: bool = False,
          generator: torch.Generator | None = None) -> torch.Tensor:
    """Add a linear trend ``a * t`` with one ``a ~ U(-max_slope, max_slope)`` per channel.

    With ``scaled=False`` (the reference) ``t = 0, 1, ..., L-1``, so the drift grows
    with the length: ±10.23 at L = 1024 for the default ``max_slope``. With
    ``scaled=True`` the time axis is stretched or squeezed onto the reference length
    of 100 points, ``t = linspace(0, 99, L)``, i.e. ``t_i = 99 i / (L - 1)``: the result
    is identical to the reference at L = 100 and the total drift is exactly ``99 a``
    (at most ``0.99`` by default) for every L >= 2; at L = 1 there is no drift.
    ``max_slope=0`` returns ``x`` exactly. See :func:`amplitude` for the rest.
    """
    x = _as_tensor(x)
    _check_nonnegative("max_slope", max_slope)
    n, c, length = x.shape
    a = _uniform((n, c, 1), -max_slope, max_slope, x, _generator(generator))  # (n, c, 1)
    if scaled:
        t = torch.linspace(0, 99, length, dtype=torch.float64)
    else:
        t = torch.arange(length, dtype=torch.float64)
    t = t.to(device=x.device, dtype=x.dtype)  # (t,)
    return x + a * t


def stft_phase(x: Any, max_phase: float = math.pi / 4, *,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Perturb the STFT phase by ``U(-max_phase, max_phase)`` per bin, keep the magnitude.

    The STFT uses ``n_fft`` = the next power of two >= max(L, 2), hop ``n_fft // 4``
    (at least 1), a rectangular window, ``center=True`` with zero padding (reflect
    padding fails for very short series); the inverse STFT returns exactly L points.
    ``max_phase=0`` reproduces ``x`` up to float error (below 1e-15 and 2e-7 of
    ``max|x|`` in float64 and float32). Computed in float64 for float64 input and float32 otherwise.

    What it preserves: only approximately. A spectrogram with randomly perturbed phases
    is not the STFT of any signal, so the inverse (a least-squares projection by
    overlap-add) partly cancels the overlapping frames; the output's spectrogram is
    not the perturbed one. Measured with the default ``max_phase = pi/4`` on 64 series
    each of white noise, sines and random walks, L = 1..1024: the output keeps on
    average ~85 % of the input energy (per series 53-102 %; at L = 1 the bins are
    real and the effect is a ``cos(phi)`` scaling, mean energy ``E[cos^2 phi] = 0.82``);
    its magnitude spectrogram at the same ``n_fft``/hop differs from the input's by
    12-14 % in relative Frobenius norm on average (at most 28 % per series), while the
    signal itself moves by ~20 % relative L2. See
    :func:`amplitude` for the common parameters and return value.
    """
    x = _as_tensor(x)
    _check_nonnegative("max_phase", max_phase)
    n, c, length = x.shape
    work = x if x.dtype in (torch.float32, torch.float64) else x.float()
    n_fft = 1 << max(1, (length - 1).bit_length())  # next power of two >= max(L, 2)
    hop = max(1, n_fft // 4)
    window = torch.ones(n_fft, dtype=work.dtype, device=x.device)
    kwargs = dict(n_fft=n_fft, hop_length=hop, window=window, center=True)
    spec = torch.stft(work.reshape(n * c, length), pad_mode="constant",
                      return_complex=True, **kwargs)  # (n*c, n_fft//2 + 1, frames)
    phi = _uniform(tuple(spec.shape), -max_phase, max_phase, work, _generator(generator))
    spec = spec * torch.polar(torch.ones_like(phi), phi)
    y = torch.istft(spec, length=length, **kwargs)  # (n*c, t)
    return y.reshape(n, c, length).to(x.dtype)


def jitter(x: Any, std: float = 0.1, *,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Add independent ``N(0, std²)`` noise to every point; ``std=0`` returns ``x`` exactly.

    See :func:`amplitude` for the common parameters and return value.
    """
    x = _as_tensor(x)
    _check_nonnegative("std", std)
    return x + _normal(tuple(x.shape), std, x, _generator(generator))  # (n, c, t)
