"""Save fitted estimators to a folder of JSON and torch weights, and load them back.

A saved model is a **directory** holding::

    params.json    format marker, package/torch versions, estimator class, constructor
                   parameters and the fitted non-torch attributes (``mean_``, ``scale_``, ...)
    weights.pt     ``net_.module_.state_dict()`` as CPU tensors, written with ``torch.save``
    history.json   optional: the skorch training history (per-epoch and per-batch losses),
                   kept so ``plot_training_history`` still works; loading does not need it

Unlike a pickle, loading never executes code from the files (``torch.load(...,
weights_only=True)``, plain JSON) and survives package versions that keep the architecture.
The torch module is rebuilt by the estimator's own ``_build_module`` from the saved
parameters, so a change of architecture between versions shows up as a state-dict mismatch,
reported by key. Parameters that cannot be written as JSON are either dropped with a note
(``callbacks``: training-time only; a ``RandomState`` as ``random_state``) or refused
(``augmentations`` given as callables or an ``Augmenter`` object: pickle such models).

A loaded estimator transforms, encodes and decodes exactly like the saved one. Its net is
freshly initialised (new optimizer; no callbacks), so refitting starts from scratch as
``fit`` always does.
"""

from __future__ import annotations

import json
import numbers
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from . import estimators
from ._version import __version__
from .estimators import _BaseVQVAETransformer, _resolve_device

__all__ = ["FORMAT", "load", "save"]

#: Value of ``"format"`` in ``params.json``; ``FORMAT_VERSION`` changes with the layout.
FORMAT = "btvqvae-estimator"
FORMAT_VERSION = 1
PARAMS_FILE, WEIGHTS_FILE, HISTORY_FILE = "params.json", "weights.pt", "history.json"

#: Fitted attributes written to params.json (``feature_names_in_`` only when present).
FITTED_ATTRIBUTES = (
    "mean_", "scale_", "n_channels_", "n_timepoints_", "n_features_in_", "input_ndim_",
    "dtype_", "n_tokens_", "latent_shape_", "codebook_usage_", "perplexity_", "loss_curve_",
    "n_iter_", "device_",
)
_OPTIONAL_ATTRIBUTES = ("feature_names_in_",)
_PICKLE_HINT = "save the model with joblib.dump / pickle instead"


class _NotJSONable(TypeError):
    pass


# ------------------------------------------------------------------------------ JSON codec
def _to_json(value, where: str):
    """Plain JSON value; tuples and arrays are tagged so that they come back as such."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray):
        return {"__ndarray__": [_to_json(v, where) for v in value.tolist()],
                "dtype": value.dtype.str}
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [_to_json(v, where) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _to_json(v, where) for k, v in value.items()}
    raise _NotJSONable(f"{where} holds {value!r}, which cannot be written as JSON")


def _from_json(obj: dict):
    if set(obj) == {"__tuple__"}:
        return tuple(obj["__tuple__"])
    if set(obj) == {"__ndarray__", "dtype"}:
        return np.asarray(obj["__ndarray__"], dtype=np.dtype(obj["dtype"]))
    return obj


def _json_history(history) -> str | None:
    """The history as JSON text (numpy/torch scalars as numbers), or None if impossible."""
    def scalar(obj):
        if hasattr(obj, "item") and np.ndim(obj) == 0:
            return obj.item()
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    try:
        return json.dumps(list(history), default=scalar, allow_nan=True)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------- saving
def _check_augmentations(spec) -> None:
    named = spec is None or isinstance(spec, str) or (
        isinstance(spec, (list, tuple)) and all(
            isinstance(step, str)
            or (isinstance(step, (list, tuple)) and len(step) == 2
                and isinstance(step[0], str) and isinstance(step[1], Mapping))
            for step in spec))
    if not named:
        raise TypeError(
            f"augmentations={spec!r} cannot be saved as JSON: only None, a string or a list of "
            "augmentation names and (name, params_dict) pairs can; pass the steps by name "
            f"(register custom functions with register_augmentation) or {_PICKLE_HINT}")


def _params_to_json(estimator) -> tuple[dict, dict]:
    """(JSON-able constructor parameters, {dropped name: reason})."""
    params, dropped = {}, {}
    for name, value in estimator.get_params(deep=False).items():
        if name == "callbacks":
            if value:
                dropped[name] = "training-time callbacks are not saved; reset to None"
            params[name] = None
            continue
        if name == "augmentations":
            _check_augmentations(value)
        try:
            params[name] = _to_json(value, f"parameter {name!r}")
        except _NotJSONable as exc:
            if name == "augmentations":
                raise TypeError(f"{exc}; {_PICKLE_HINT}") from None
            if name == "random_state":
                dropped[name] = f"{type(value).__name__} is not saved; reset to None"
                params[name] = None
                continue
            raise TypeError(f"{exc}; {_PICKLE_HINT}") from None
    return params, dropped


def _fitted_to_json(estimator) -> dict:
    fitted = {}
    for name in FITTED_ATTRIBUTES + _OPTIONAL_ATTRIBUTES:
        if not hasattr(estimator, name):
            if name in _OPTIONAL_ATTRIBUTES:
                continue
            raise ValueError(f"{type(estimator).__name__} lacks the fitted attribute {name!r}; "
                             "refit it with this version of btvqvae before saving")
        value = getattr(estimator, name)
        fitted[name] = np.dtype(value).name if name == "dtype_" else \
            _to_json(value, f"attribute {name!r}")
    return fitted


def _write(path: Path, data: bytes | str) -> None:
    """Write through a temporary file in the same folder, so a crash leaves no half file."""
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


def save(estimator, path) -> Path:
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
    if not isinstance(estimator, _BaseVQVAETransformer):
        raise TypeError(f"save expects a btvqvae estimator, got {type(estimator).__name__}; "
                        f"{_PICKLE_HINT}")
    check_is_fitted(estimator, "net_")
    params, dropped = _params_to_json(estimator)
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "btvqvae_version": __version__,
        "torch_version": torch.__version__, "class": type(estimator).__name__,
        "params": params, "dropped_params": dropped, "fitted": _fitted_to_json(estimator),
    }
    for name, reason in dropped.items():
        warnings.warn(f"{name} not saved: {reason}", UserWarning, stacklevel=2)
    text = json.dumps(document, indent=2, allow_nan=True)
    state = {k: v.detach().cpu() for k, v in estimator.net_.module_.state_dict().items()}
    history = _json_history(getattr(estimator.net_, "history", []))

    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{str(path)!r} is a file; a btvqvae model is saved as a folder "
                              "(pass a new folder name, or use joblib.dump for one file)")
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / (WEIGHTS_FILE + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path / WEIGHTS_FILE)
    if history is None:
        (path / HISTORY_FILE).unlink(missing_ok=True)  # never leave a stale history behind
    else:
        _write(path / HISTORY_FILE, history)
    _write(path / PARAMS_FILE, text)  # written last: its presence marks a complete save
    return path


# --------------------------------------------------------------------------------- loading
def _read_document(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"no saved model at {str(path)!r}")
    if not path.is_dir():
        raise FileNotFoundError(f"{str(path)!r} is a file, not a saved btvqvae model folder; "
                                "a pickled model loads with joblib.load")
    missing = [name for name in (PARAMS_FILE, WEIGHTS_FILE) if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{str(path)!r} is not a complete saved model: "
                                f"{' and '.join(missing)} missing (btvqvae.persistence.save "
                                f"writes {PARAMS_FILE} and {WEIGHTS_FILE})")
    try:
        document = json.loads((path / PARAMS_FILE).read_text(encoding="utf-8"),
                              object_hook=_from_json)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path / PARAMS_FILE} is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path / PARAMS_FILE} is not a btvqvae model description "
                         f"(expected \"format\": \"{FORMAT}\")")
    if document.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path} was saved in format version {document['format_version']}; "
                         f"this btvqvae ({__version__}) reads up to {FORMAT_VERSION}: upgrade it")
    return document


def _check_version(saved: str, path: Path) -> None:
    major = str(saved).split(".")[0]
    if major != __version__.split(".")[0]:
        warnings.warn(f"{path} was saved by btvqvae {saved}, this is {__version__}; a different "
                      "major version may build a different model. It loads if the weights "
                      "fit; check its outputs.", UserWarning, stacklevel=3)


def _make_estimator(document: dict):
    name = document.get("class")
    cls = getattr(estimators, name, None) if name in estimators.__all__ else None
    if cls is None:
        raise ValueError(f"unknown estimator class {name!r} in the saved model; this "
                         f"btvqvae loads {', '.join(estimators.__all__)}")
    params = dict(document.get("params", {}))
    known = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        warnings.warn(f"ignoring saved parameters {unknown} that {name} no longer takes",
                      UserWarning, stacklevel=3)
    return cls(**{k: v for k, v in params.items() if k in known})


def _set_fitted(estimator, fitted: dict) -> None:
    missing = [name for name in FITTED_ATTRIBUTES if name not in fitted]
    if missing:
        raise ValueError(f"the saved model lacks fitted attributes {missing}")
    for name, value in fitted.items():
        if name == "dtype_":
            value = np.dtype(value)
        elif name == "codebook_usage_":
            value = np.asarray(value, dtype=np.float64)
        setattr(estimator, name, value)


def _load_weights(module: torch.nn.Module, file: Path) -> None:
    state = torch.load(file, map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping):
        raise ValueError(f"{file} does not hold a state dict")
    expected = module.state_dict()
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [f"{k}: saved {tuple(state[k].shape)}, model {tuple(v.shape)}"
                 for k, v in expected.items()
                 if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if problems:
        raise ValueError(
            f"the weights in {file} do not fit the architecture built from its params.json "
            f"({len(problems)} incompatible keys: {'; '.join(problems)}); the model was saved "
            "by an incompatible btvqvae version or the files were edited")
    module.load_state_dict(state)


def _load_device(requested, saved: str) -> str:
    if requested is not None:
        return _resolve_device(requested)
    if str(saved).startswith("cuda") and not torch.cuda.is_available():
        return "cpu"  # as unpickling does: a GPU-trained model runs on a CPU-only machine
    return saved


def load(path, device: str | None = None):
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
    ValueError
        If the files are not a btvqvae model, or the weights do not fit the architecture
        rebuilt from the parameters (the message lists the incompatible keys).

    Warns
    -----
    UserWarning
        When the model was saved by a different major version of btvqvae.
    """
    path = Path(path).expanduser()
    document = _read_document(path)
    _check_version(document.get("btvqvae_version", "0"), path)
    estimator = _make_estimator(document)
    _set_fitted(estimator, document.get("fitted", {}))
    estimator.device_ = _load_device(device, estimator.device_)

    module = estimator._build_module(estimator.n_channels_, estimator.n_timepoints_,
                                     torch.Generator().manual_seed(0),
                                     estimator._module_params())
    _load_weights(module, path / WEIGHTS_FILE)
    # an nn.Module instance is kept as module_ by initialize (and moved to the device)
    net = estimator._make_net(module, seed=0).initialize()
    if (path / HISTORY_FILE).is_file():
        net.history = History(json.loads((path / HISTORY_FILE).read_text(encoding="utf-8")))
    net.module_.eval()
    estimator.net_ = net
    return estimator
