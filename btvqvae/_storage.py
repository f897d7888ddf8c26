"""The save-folder format under :mod:`btvqvae.persistence`: JSON codec, writing, reading.

It knows estimators only through what they expose (``get_params``, the fitted attributes and
the restore hook ``_restore_net``), so the estimators can use it for their ``save``/``load``
methods while :mod:`btvqvae.persistence`, the public face, sits above them.
"""

from __future__ import annotations

import io
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

from ._jsoncodec import NotJSONable, from_json, json_history, to_json
from ._validation import (
    available_device,
    check_device,
    resolve_device,
)
from ._version import __version__
from ._weights import (
    PARAMS_FILE,
    WEIGHTS_FILE,
    CorruptModelError,
    load_state,
    read_weights,
    sha256,
)
from .pretrained import record_problem

__all__ = ["FORMAT", "CorruptModelError", "estimator_classes", "load", "load_state", "save"]

#: Value of ``"format"`` in ``params.json``; ``FORMAT_VERSION`` changes with the layout.
FORMAT = "btvqvae-estimator"
FORMAT_VERSION = 1
HISTORY_FILE = "history.json"

#: Fitted attributes written to params.json (``feature_names_in_`` only when present).
FITTED_ATTRIBUTES = (
    "mean_", "scale_", "n_channels_", "n_timepoints_", "n_features_in_", "input_ndim_",
    "dtype_", "n_tokens_", "latent_shape_", "codebook_usage_", "perplexity_", "loss_curve_",
    "n_iter_", "device_",
)
_OPTIONAL_ATTRIBUTES = ("feature_names_in_", "pretrained_")
_PICKLE_HINT = "save the model with joblib.dump / pickle instead"


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


def _paramsto_json(estimator) -> tuple[dict, dict]:
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
        if name == "init" and isinstance(value, os.PathLike):
            value = os.fspath(value)  # a folder path is saved as text
        try:
            params[name] = to_json(value, f"parameter {name!r}")
        except NotJSONable as exc:
            if name == "augmentations":
                raise TypeError(f"{exc}; {_PICKLE_HINT}") from None
            if name == "random_state":
                dropped[name] = f"{type(value).__name__} is not saved; reset to None"
                params[name] = None
                continue
            raise TypeError(f"{exc}; {_PICKLE_HINT}") from None
    return params, dropped


def _fittedto_json(estimator) -> dict:
    fitted = {}
    for name in FITTED_ATTRIBUTES + _OPTIONAL_ATTRIBUTES:
        if not hasattr(estimator, name):
            if name in _OPTIONAL_ATTRIBUTES:
                continue
            raise ValueError(f"{type(estimator).__name__} lacks the fitted attribute {name!r}; "
                             "refit it with this version of btvqvae before saving")
        value = getattr(estimator, name)
        fitted[name] = np.dtype(value).name if name == "dtype_" else \
            to_json(value, f"attribute {name!r}")
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
    """Write ``estimator`` to the folder ``path`` (see :func:`btvqvae.persistence.save`)."""
    if not callable(getattr(estimator, "_restore_net", None)):
        raise TypeError(f"save expects a btvqvae estimator, got {type(estimator).__name__}; "
                        f"{_PICKLE_HINT}")
    check_is_fitted(estimator, "net_")
    params, dropped = _paramsto_json(estimator)
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "btvqvae_version": __version__,
        "torch_version": torch.__version__, "class": type(estimator).__name__,
        "params": params, "dropped_params": dropped, "fitted": _fittedto_json(estimator),
    }
    for name, reason in dropped.items():
        warnings.warn(f"{name} not saved: {reason}", UserWarning, stacklevel=3)
    state = {k: v.detach().cpu() for k, v in estimator.net_.module_.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    weights = buffer.getvalue()
    document["weights_sha256"] = sha256(weights)
    text = json.dumps(document, indent=2, allow_nan=True)
    history = json_history(getattr(estimator.net_, "history", []))

    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{str(path)!r} is a file; a btvqvae model is saved as a folder "
                              "(pass a new folder name, or use joblib.dump for one file)")
    path.mkdir(parents=True, exist_ok=True)
    _write(path / WEIGHTS_FILE, weights)
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
    file = path / PARAMS_FILE
    try:
        with open(file, encoding="utf-8") as fh:
            document = json.load(fh, object_hook=from_json)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptModelError(f"{file} is not valid JSON: {exc}") from None
    except (TypeError, ValueError) as exc:  # a tagged tuple/array that does not decode
        raise CorruptModelError(f"{file} holds a value btvqvae cannot decode: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CorruptModelError(f"{file} is not a btvqvae model description "
                                f"(expected \"format\": \"{FORMAT}\")")
    version = document.get("format_version", 0)
    if not isinstance(version, numbers.Integral) or isinstance(version, bool):
        raise CorruptModelError(f"{file}: format_version must be an int, got {version!r}")
    if version > FORMAT_VERSION:
        raise CorruptModelError(f"{path} was saved in format version {version}; this btvqvae "
                                f"({__version__}) reads up to {FORMAT_VERSION}: upgrade it")
    for key in ("params", "fitted"):
        if not isinstance(document.get(key, {}), dict):
            raise CorruptModelError(f"{file}: {key!r} must be a JSON object")
    return document


def _check_version(saved: str, path: Path) -> None:
    major = str(saved).split(".")[0]
    if major != __version__.split(".")[0]:
        warnings.warn(f"{path} was saved by btvqvae {saved}, this is {__version__}; a different "
                      "major version may build a different model. It loads if the weights "
                      "fit; check its outputs.", UserWarning, stacklevel=3)


def estimator_classes(base: type) -> dict[str, type]:
    """The public (not underscored) subclasses of ``base`` by name: what :func:`load` builds."""
    found, todo = {}, list(base.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if not cls.__name__.startswith("_"):
            found.setdefault(cls.__name__, cls)
    return found


def _make_estimator(document: dict, classes: Mapping[str, type]):
    name = document.get("class")
    cls = classes.get(name) if isinstance(name, str) else None
    if cls is None:
        raise CorruptModelError(f"unknown estimator class {name!r} in the saved model; this "
                                f"btvqvae loads {', '.join(sorted(classes))}")
    params = dict(document.get("params", {}))
    known = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        warnings.warn(f"ignoring saved parameters {unknown} that {name} no longer takes",
                      UserWarning, stacklevel=3)
    legacy = {k: v for k, v in getattr(cls, "_legacy_values", {}).items() if k not in params}
    estimator = cls(**{**legacy, **{k: v for k, v in params.items() if k in known}})
    try:
        estimator._check_params()
    except (TypeError, ValueError) as exc:
        raise CorruptModelError(f"{PARAMS_FILE} holds an invalid parameter: {exc}") from None
    return estimator


def _is_int(value, minimum: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) \
        and value >= minimum


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and bool(np.isfinite(value))


def _fitted_problem(name: str, value, fitted: dict, codebook_size: int) -> str | None:
    """What is wrong with the saved fitted attribute ``name``, or None."""
    if name == "mean_":
        return None if _is_real(value) else "must be a finite number"
    if name == "scale_":
        return None if _is_real(value) and value > 0 else "must be a finite number > 0"
    if name in ("n_channels_", "n_timepoints_", "n_tokens_"):
        return None if _is_int(value, 1) else "must be an int >= 1"
    if name == "n_features_in_":
        ok = _is_int(value, 1) and value == fitted.get("n_timepoints_")
        return None if ok else "must equal n_timepoints_"
    if name == "input_ndim_":
        ok = value == 3 or (value == 2 and fitted.get("n_channels_") == 1)
        return None if ok else "must be 3, or 2 for one channel"
    if name == "dtype_":
        return None if value in ("float32", "float64") else "must be 'float32' or 'float64'"
    if name == "latent_shape_":
        ok = isinstance(value, (tuple, list)) and len(value) == 3 \
            and all(_is_int(v, 1) for v in value)
        return None if ok else "must be three ints >= 1"
    if name == "codebook_usage_":
        usage = np.asarray(value)
        ok = usage.shape == (codebook_size,) and usage.dtype.kind in "iuf" \
            and bool(np.all(np.isfinite(usage))) and bool(np.all(usage >= 0))
        return None if ok else f"must be {codebook_size} non-negative shares"
    if name == "perplexity_":
        ok = _is_real(value) and 1 - 1e-9 <= value <= codebook_size + 1e-9
        return None if ok else f"must lie in [1, {codebook_size}]"
    if name == "loss_curve_":
        ok = isinstance(value, list) and all(isinstance(v, numbers.Real) for v in value)
        return None if ok else "must be a list of numbers"
    if name == "n_iter_":
        return None if _is_int(value, 0) else "must be an int >= 0"
    if name == "device_":
        try:
            check_device(value, name="device_", allow_auto=False)
        except ValueError:
            return "must be 'cpu', 'cuda' or 'cuda:N' (the device the model was fitted on)"
    if name == "pretrained_":
        return record_problem(value)
    return None


def _codebook_size(estimator, fitted: dict) -> int:
    """Codes per stage: the pretrained tokenizer's when there is one, else the parameter."""
    record = fitted.get("pretrained_")
    if record_problem(record) is None:
        return record["architecture"]["codebook_size"]
    return estimator.codebook_size


def _set_fitted(estimator, fitted: dict) -> None:
    missing = [name for name in FITTED_ATTRIBUTES if name not in fitted]
    if missing:
        raise CorruptModelError(f"{PARAMS_FILE}: the saved model lacks fitted attributes "
                                f"{missing}")
    for name, value in fitted.items():
        problem = _fitted_problem(name, value, fitted, _codebook_size(estimator, fitted))
        if problem:
            raise CorruptModelError(f"{PARAMS_FILE}: fitted attribute {name} = {value!r} "
                                    f"{problem}; the file was edited or damaged")
        if name == "dtype_":
            value = np.dtype(value)
        elif name == "codebook_usage_":
            value = np.asarray(value, dtype=np.float64)
        elif name == "latent_shape_":
            value = tuple(value)
        setattr(estimator, name, value)


def _load_device(requested, saved: str) -> str:
    if requested is not None:
        return resolve_device(requested, stacklevel=4)
    return available_device(saved)  # as unpickling does: a GPU model runs on a CPU machine


def _read_history(file: Path) -> History | None:
    if not file.is_file():
        return None
    try:
        with open(file, encoding="utf-8") as fh:
            rows = json.load(fh)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError("not a list of epoch records")
        return History(rows)
    except (ValueError, UnicodeDecodeError) as exc:
        warnings.warn(f"{file} is unreadable ({exc}); the model loads without its training "
                      "history (loss_curve_ is kept)", UserWarning, stacklevel=4)
        return None


def load(path, classes: Mapping[str, type], device: str | None = None):
    """Read the folder ``path`` back (see :func:`btvqvae.persistence.load`)."""
    path = Path(path).expanduser()
    document = _read_document(path)
    _check_version(document.get("btvqvae_version", "0"), path)
    estimator = _make_estimator(document, classes)
    _set_fitted(estimator, document.get("fitted", {}))
    estimator.device_ = _load_device(device, estimator.device_)
    weights = path / WEIGHTS_FILE
    estimator._restore_net(read_weights(weights, document), weights)
    module = estimator.net_.module_
    if (estimator.n_tokens_, tuple(estimator.latent_shape_)) != (module.n_tokens,
                                                                 module.latent_shape):
        raise CorruptModelError(f"{path / PARAMS_FILE}: n_tokens_ / latent_shape_ do not match "
                                "the architecture its parameters build")
    history = _read_history(path / HISTORY_FILE)
    if history is not None:
        estimator.net_.history = history
    return estimator
