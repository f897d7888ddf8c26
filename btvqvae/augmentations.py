"""Seeded, batch-vectorised time-series augmentations and their composition.

Every augmentation takes a batch ``x`` of shape ``(n_cases, n_channels, n_timepoints)``
and returns a new tensor of the same shape, dtype and device; the input is never
modified. All randomness is drawn on the CPU from the keyword ``generator`` (a
``torch.Generator``) and then moved to ``x.device``, so results are reproducible for a
fixed seed on any device. The reference pipeline of the thesis (SPEC §5) applies
``amplitude, flip, slope, stft_phase, jitter`` in that order, each time, to each view.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ._random import torch_generator
from ._validation import as_array

__all__ = [
    "AUGMENTATIONS", "DEFAULT_AUGMENTATIONS", "REFERENCE_AUGMENTATIONS", "Augmenter",
    "amplitude", "flip", "jitter",
    "make_augmenter", "register_augmentation", "slope", "stft_phase",
]


# --------------------------------------------------------------------------- helpers
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


# ---------------------------------------------------------------------- augmentations
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


REFERENCE_AUGMENTATIONS: tuple[str, ...] = ("amplitude", "flip", "slope", "stft_phase", "jitter")
#: The package default: the reference steps and order with the slope's drift scaled to the
#: series length (the reference's unscaled slope adds up to ±10 to a standardised series of
#: length 1024). Chosen on a first comparison on four development datasets, where the
#: reference views did worst; the panel sweep in benchmarks/results uses these defaults.
DEFAULT_AUGMENTATIONS: tuple = ("amplitude", "flip", ("slope", {"scaled": True}), "stft_phase",
                                "jitter")

AUGMENTATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "amplitude": amplitude, "flip": flip, "slope": slope,
    "stft_phase": stft_phase, "jitter": jitter,
}


def register_augmentation(name: str, fn: Callable[..., torch.Tensor], *,
                          overwrite: bool = False) -> None:
    """Make ``fn(x, *, generator, **params)`` available to :class:`Augmenter` as ``name``.

    Register a module-level function (not a lambda) if the augmenter must be pickled.
    Re-registering an existing name requires ``overwrite=True``.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}.")
    if not callable(fn):
        raise TypeError(f"fn must be callable as fn(x, *, generator, **params), got {fn!r}.")
    if name in AUGMENTATIONS and not overwrite:
        raise ValueError(f"augmentation {name!r} is already registered; "
                         "pass overwrite=True to replace it.")
    AUGMENTATIONS[name] = fn


# ------------------------------------------------------------------------ composition
Step = Any  # str | tuple[str, Mapping[str, Any]] | Callable[..., torch.Tensor]


def _normalise(step: Step) -> tuple[str | Callable[..., torch.Tensor], dict[str, Any]]:
    """Return ``(name_or_callable, params)`` for one step, or raise a helpful error."""
    if isinstance(step, str):
        return step, {}
    if isinstance(step, (tuple, list)) and len(step) == 2 and isinstance(step[0], str):
        if not isinstance(step[1], Mapping):
            raise TypeError(f"parameters of step {step[0]!r} must be a dict, got {step[1]!r}.")
        return step[0], dict(step[1])
    if callable(step):
        return step, {}
    raise TypeError(
        f"each augmentation step must be a registered name, a (name, params_dict) pair "
        f"or a callable fn(x, *, generator); got {step!r}."
    )


class Augmenter:
    """Apply a sequence of augmentations in order; ``two_views`` makes a Barlow Twins pair.

    Parameters
    ----------
    steps : sequence or None, default=None
        None is the reference pipeline (:data:`REFERENCE_AUGMENTATIONS` with reference
        strengths). Otherwise each item is a registered name (``"jitter"``), a
        ``(name, params)`` pair (``("slope", {"scaled": True})``) or a callable
        ``fn(x, *, generator)``. An empty sequence is the identity (returns a copy).
        Names are looked up in :data:`AUGMENTATIONS` when the augmenter is used.

    Examples
    --------
    >>> import torch
    >>> aug = Augmenter(["flip", ("jitter", {"std": 0.05})])
    >>> x_a, x_b = aug.two_views(torch.zeros(2, 1, 8), generator=torch.Generator().manual_seed(0))
    >>> x_a.shape
    torch.Size([2, 1, 8])
    """

    def __init__(self, steps: Sequence[Step] | None = None) -> None:
        self.steps = steps

    @classmethod
    def from_spec(cls, spec: Any) -> Augmenter:
        """Build and validate an augmenter, see :func:`make_augmenter`."""
        return make_augmenter(spec)

    def _normalised_steps(self) -> list[tuple[str | Callable[..., torch.Tensor], dict[str, Any]]]:
        steps = REFERENCE_AUGMENTATIONS if self.steps is None else self.steps
        if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
            raise TypeError(f"steps must be None or a list of steps, got {steps!r}; "
                            "use make_augmenter('reference'/'none'/[...]) for shortcuts.")
        return [_normalise(step) for step in steps]

    def validate(self) -> Augmenter:
        """Check every step resolves to a callable accepting its parameters; return self."""
        for step, params in self._normalised_steps():
            fn = self._resolve(step)
            try:
                signature = inspect.signature(fn)
            except (TypeError, ValueError):  # builtins without a signature
                continue
            try:
                signature.bind(None, generator=None, **params)
            except TypeError as exc:
                raise ValueError(f"augmentation {step!r} cannot take parameters {params}: "
                                 f"{exc}; its signature is {signature}.") from None
        return self

    @staticmethod
    def _resolve(step: str | Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        if callable(step):
            return step
        if step not in AUGMENTATIONS:
            raise ValueError(f"unknown augmentation {step!r}; available: "
                             f"{sorted(AUGMENTATIONS)} (add one with register_augmentation).")
        return AUGMENTATIONS[step]

    def __call__(self, x: Any, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return one augmented copy of ``x`` (n, c, t), drawing randomness from ``generator``."""
        self.validate()
        out = _as_tensor(x).clone()  # the identity, too, returns a new tensor
        generator = _generator(generator)
        for step, params in self._normalised_steps():
            out = self._resolve(step)(out, generator=generator, **params)  # (n, c, t)
        return out

    def two_views(self, x: Any, *, generator: torch.Generator | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return two independently augmented views ``(x_a, x_b)`` of ``x``."""
        generator = _generator(generator)
        return self(x, generator=generator), self(x, generator=generator)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(steps={self.steps!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Augmenter):
            return NotImplemented
        try:
            return self._normalised_steps() == other._normalised_steps()
        except TypeError:
            return self.steps == other.steps

    __hash__ = None  # mutable parameters, like sklearn estimators


def make_augmenter(spec: Any = None) -> Augmenter:
    """Return a validated :class:`Augmenter` from a short specification.

    Parameters
    ----------
    spec : None, "default", "reference", "none", sequence of steps or Augmenter
        None and ``"default"`` give :data:`DEFAULT_AUGMENTATIONS` (the reference pipeline
        with a length-scaled slope), ``"reference"`` the reference pipeline exactly,
        ``"none"`` the identity; a sequence is passed to ``Augmenter(steps=...)`` and an
        Augmenter is validated and returned unchanged.
    """
    if isinstance(spec, Augmenter):
        return spec.validate()
    if spec is None or (isinstance(spec, str) and spec.lower() == "default"):
        return Augmenter(list(DEFAULT_AUGMENTATIONS)).validate()
    if isinstance(spec, str):
        if spec.lower() == "reference":
            return Augmenter(None).validate()
        if spec.lower() == "none":
            return Augmenter([])
        hint = f" or [{spec!r}] for that single augmentation" if spec in AUGMENTATIONS else ""
        raise ValueError(f"unknown augmentation spec {spec!r}; pass None, 'default', 'reference', "
                         f"'none', a list of steps{hint}, or an Augmenter.")
    if isinstance(spec, Sequence):
        return Augmenter(list(spec)).validate()
    raise TypeError(f"augmentations must be None, 'reference', 'none', a list of steps "
                    f"(names, (name, params) pairs or callables) or an Augmenter; got {spec!r}.")
