"""Short-time Fourier front end: series ↔ real/imaginary time-frequency images.

The layout follows the reference: for every input channel the real and the imaginary part of
its one-sided STFT become two image channels, interleaved ``[c0.re, c0.im, c1.re, c1.im, ...]``;
frequency is the height axis and STFT frames the width axis.  Unlike the reference, the inverse
restores the exact original length and any length >= 1 works (constant instead of reflect
padding).
"""

from __future__ import annotations

import torch

__all__ = ["hop_length", "n_frames", "n_freqs", "stft", "istft"]


def hop_length(n_fft: int) -> int:
    """Hop between frames: torch's default ``n_fft // 4`` (at least 1)."""
    return max(1, n_fft // 4)


def n_freqs(n_fft: int) -> int:
    """Number of one-sided frequency rows."""
    return n_fft // 2 + 1


def n_frames(n_timepoints: int, n_fft: int) -> int:
    """Number of STFT frames of a centred transform of ``n_timepoints`` samples."""
    return 1 + n_timepoints // hop_length(n_fft)


def _window(n_fft: int, x: torch.Tensor) -> torch.Tensor:
    # The reference relies on torch's default (rectangular) window; passing it explicitly keeps
    # torch from warning and makes the choice visible.
    return torch.ones(n_fft, dtype=x.dtype, device=x.device)


def stft(x: torch.Tensor, n_fft: int) -> torch.Tensor:
    """Series ``(B, C, L)`` → real/imag image ``(B, 2C, n_fft // 2 + 1, 1 + L // hop)``."""
    b, c, length = x.shape
    spec = torch.stft(
        x.reshape(b * c, length),
        n_fft,
        hop_length=hop_length(n_fft),
        window=_window(n_fft, x),
        center=True,
        pad_mode="constant",
        return_complex=True,
    )  # (B*C, F, T) complex
    u = torch.stack((spec.real, spec.imag), dim=1)  # (B*C, 2, F, T)
    return u.reshape(b, 2 * c, *u.shape[-2:])


def istft(u: torch.Tensor, n_fft: int, length: int) -> torch.Tensor:
    """Inverse of :func:`stft`: image ``(B, 2C, F, T)`` → series ``(B, C, length)``."""
    b, c2, f, t = u.shape
    pairs = u.reshape(b * (c2 // 2), 2, f, t)
    spec = torch.complex(pairs[:, 0].contiguous(), pairs[:, 1].contiguous())  # (B*C, F, T)
    x = torch.istft(
        spec,
        n_fft,
        hop_length=hop_length(n_fft),
        window=_window(n_fft, pairs),
        center=True,
        length=length,
    )  # (B*C, length)
    return x.reshape(b, c2 // 2, length)
