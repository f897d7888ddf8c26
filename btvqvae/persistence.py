"""Save fitted estimators to a folder of JSON and torch weights, and load them back.

A saved model is a **directory** holding::

    params.json    format marker, package/torch versions, estimator class, constructor
                   parameters, the fitted non-torch attributes (``mean_``, ``scale_``, ...)
                   and the sha256 of weights.pt
    weights.pt     ``net_.module_.state_dict()`` as CPU tensors, written with ``torch.save``
    history.json   optional: the skorch training history (per-epoch and per-batch losses),
                   kept so ``plot_training_history`` still works; loading does not need it

Unlike a pickle, loading never executes code from the files (``torch.load(...,
weights_only=True)``, plain JSON) and survives package versions that keep the architecture.
Loading trusts nothing it reads: the parameters are validated as ``fit`` validates them,
every fitted value is checked (``scale_ > 0``, ``dtype_`` a float, ...), weights.pt must match
its recorded sha256 (folders from older versions, which have none, load with a warning) and
hold finite tensors of the model's dtypes; any damage raises :class:`CorruptModelError`
naming the file. The torch module is rebuilt by the estimator's restore hook
(``_restore_net``) from the saved parameters, so a change of architecture between versions
shows up as a state-dict mismatch, reported by key. Parameters that cannot be written as
JSON are either dropped with a note (``callbacks``: training-time only; a ``RandomState`` as
``random_state``) or refused (``augmentations`` given as callables or an ``Augmenter``
object: pickle such models).

A loaded estimator transforms, encodes and decodes exactly like the saved one. Its net is
freshly initialised (new optimizer; no callbacks), so refitting starts from scratch as
``fit`` always does.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import estimators
from ._base import BaseVQVAETransformer
from ._storage import (
    FITTED_ATTRIBUTES,
    FORMAT,
    FORMAT_VERSION,
    HISTORY_FILE,
    PARAMS_FILE,
    WEIGHTS_FILE,
    CorruptModelError,
    estimator_classes,
)
from ._storage import load as _load
from ._storage import save as _save

__all__ = ["FITTED_ATTRIBUTES", "FORMAT", "FORMAT_VERSION", "HISTORY_FILE", "PARAMS_FILE",
           "WEIGHTS_FILE", "CorruptModelError", "load", "save"]


def save(estimator: BaseVQVAETransformer, path: str | os.PathLike) -> Path:
    """Save a fitted btvqvae estimator to the directory ``path``.

    Parameters
    ----------
    estimator : fitted VQVAETransformer or BarlowTwinsVQVAETransformer
    path : str or path-like
        Directory to create (parents included) or to overwrite a saved model in; it ends up
        holding ``params.json``, ``weights.pt`` and, when the history is JSON-able,
        ``history.json``.

    Returns
    -------
    Path
        The directory.

    Raises
    ------
    NotFittedError
        If the estimator is not fitted.
    TypeError
        For a parameter that cannot be written as JSON (e.g. ``augmentations`` holding a
        callable); nothing is written. Pickle such models.

    Warns
    -----
    UserWarning
        When ``callbacks`` (or a ``RandomState`` passed as ``random_state``) are dropped; the
        note is also kept in ``params.json`` under ``"dropped_params"``.
    """
    return _save(estimator, path)


def load(path: str | os.PathLike, device: str | None = None) -> BaseVQVAETransformer:
    """Load an estimator saved by :func:`save`.

    Parameters
    ----------
    path : str or path-like
        The folder :func:`save` wrote.
    device : {"cpu", "cuda", "cuda:N", "auto"} or None, default=None
        Where to put the weights; None uses the device the model was saved from, falling
        back to the CPU when it was a GPU and none is available. ``"cuda"`` without a GPU
        warns and uses the CPU.

    Returns
    -------
    VQVAETransformer or BarlowTwinsVQVAETransformer
        Fitted, with the saved parameters (dropped ones at their defaults) and fitted
        attributes; ``net_.history`` is restored when ``history.json`` exists, else empty
        (``loss_curve_`` is always kept).

    Raises
    ------
    FileNotFoundError
        If the folder or one of its required files is missing.
    CorruptModelError
        A ``ValueError``: the files are not a btvqvae model, or are damaged or edited
        (invalid JSON, an invalid parameter or fitted value, a weights.pt that does not match
        its checksum, cannot be read, holds NaN/infinity or does not fit the architecture
        rebuilt from the parameters). The message names the file and the problem.

    Warns
    -----
    UserWarning
        When the model was saved by a different major version of btvqvae, when weights.pt
        has no recorded checksum (an older folder), or when the optional history.json is
        unreadable (the model loads without its history).
    """
    classes = {**estimator_classes(BaseVQVAETransformer),
               **{name: getattr(estimators, name) for name in estimators.__all__}}
    return _load(path, classes, device=device)
