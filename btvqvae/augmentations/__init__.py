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
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from ._common import _as_tensor, _generator
from .reference import amplitude, flip, jitter, slope, stft_phase
from .warps import crop_resize, magnitude_warp, slice_and_shuffle, window_warp

__all__ = [
    "AUGMENTATIONS", "DEFAULT_AUGMENTATIONS", "REFERENCE_AUGMENTATIONS", "Augmenter",
    "amplitude", "crop_resize", "flip", "jitter", "magnitude_warp", "make_augmenter",
    "register_augmentation", "slice_and_shuffle", "slope", "stft_phase", "window_warp",
]

REFERENCE_AUGMENTATIONS: tuple[str, ...] = ("amplitude", "flip", "slope", "stft_phase", "jitter")
#: The package default: the reference steps and order with the slope's drift scaled to the
#: series length (the reference's unscaled slope adds up to ±10 to a standardised series of
#: length 1024). Chosen on a first comparison on four development datasets, where the
#: reference views did worst; the panel sweep in benchmarks/results uses these defaults.
DEFAULT_AUGMENTATIONS: tuple = ("amplitude", "flip", ("slope", {"scaled": True}), "stft_phase",
                                "jitter")

AUGMENTATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "amplitude": amplitude, "flip": flip, "slope": slope,
    "stft_phase": stft_phase, "jitter": jitter, "slice_and_shuffle": slice_and_shuffle,
    "window_warp": window_warp, "magnitude_warp": magnitude_warp, "crop_resize": crop_resize,
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


def _describe(step: str | Callable[..., torch.Tensor]) -> str:
    """How an error names a step: its registered name, or the callable's qualified name."""
    if isinstance(step, str):
        return f"augmentation {step!r}"
    name = getattr(step, "__qualname__", None)
    if name is None:  # a callable object: its repr says what it is
        return f"augmentation callable {step!r}"
    module = getattr(step, "__module__", None)
    return f"augmentation callable {module + '.' if module else ''}{name}"


def _check_step_output(step, x: torch.Tensor, result: Any) -> None:
    """A step must return a tensor like its input: same shape, dtype and device.

    Checked here, where the step is known, rather than left to fail as a size mismatch deep
    in the model's forward pass (the views are concatenated with the series).
    """
    expected = (f"a torch.Tensor of shape {tuple(x.shape)} (n_cases, n_channels, "
                f"n_timepoints), dtype {x.dtype}, on {x.device}, like its input")
    fix = ("fix the function so each view keeps the series' shape (e.g. resample a crop back "
           "to the series length) and return it with x's dtype and device")
    if not isinstance(result, torch.Tensor):
        raise TypeError(f"{_describe(step)} returned a {type(result).__name__}; it must "
                        f"return {expected}: {fix}")
    if (result.shape, result.dtype, result.device) != (x.shape, x.dtype, x.device):
        raise ValueError(f"{_describe(step)} returned a tensor of shape {tuple(result.shape)}, "
                         f"dtype {result.dtype}, on {result.device}; it must return "
                         f"{expected}: {fix}")


class Augmenter:
    """Apply a sequence of augmentations in order; ``two_views`` makes a Barlow Twins pair.

    Parameters
    ----------
    steps : sequence or None, default=None
        None is the reference pipeline (:data:`REFERENCE_AUGMENTATIONS` with reference
        strengths). Otherwise each item is a registered name (``"jitter"``), a
        ``(name, params)`` pair (``("slope", {"scaled": True})``) or a callable
        ``fn(x, *, generator)``. An empty sequence is the identity (returns a copy).
        Names are looked up in :data:`AUGMENTATIONS` when the augmenter is used. Each
        step must return a tensor of its input's shape, dtype and device; one that does not
        raises ``ValueError`` (``TypeError`` for a non-tensor) naming the step.

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
            result = self._resolve(step)(out, generator=generator, **params)  # (n, c, t)
            _check_step_output(step, out, result)
            out = result
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
