"""The save-folder format under :mod:`btvqvae.persistence`: JSON codec, writing, reading.

It knows estimators only through what they expose (``get_params``, the fitted attributes and
the restore hook ``_restore_net``), so the estimators can use it for their ``save``/``load``
methods while :mod:`btvqvae.persistence`, the public face, sits above them.
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

from ._validation import available_device, resolve_device
from ._version import __version__

__all__ = ["FORMAT", "estimator_classes", "load", "load_state", "save"]

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
    """Write ``estimator`` to the folder ``path`` (see :func:`btvqvae.persistence.save`)."""
    if not callable(getattr(estimator, "_restore_net", None)):
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
        warnings.warn(f"{name} not saved: {reason}", UserWarning, stacklevel=3)
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
        raise ValueError(f"unknown estimator class {name!r} in the saved model; this "
                         f"btvqvae loads {', '.join(sorted(classes))}")
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


def load_state(module: torch.nn.Module, state, source) -> None:
    """Load ``state`` into ``module`` after checking every key and shape against it."""
    if not isinstance(state, Mapping):
        raise ValueError(f"{source} does not hold a state dict")
    expected = module.state_dict()
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [f"{k}: saved {tuple(state[k].shape)}, model {tuple(v.shape)}"
                 for k, v in expected.items()
                 if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if problems:
        raise ValueError(
            f"the weights in {source} do not fit the architecture built from its params.json "
            f"({len(problems)} incompatible keys: {'; '.join(problems)}); the model was saved "
            "by an incompatible btvqvae version or the files were edited")
    module.load_state_dict(state)


def _load_device(requested, saved: str) -> str:
    if requested is not None:
        return resolve_device(requested, stacklevel=4)
    return available_device(saved)  # as unpickling does: a GPU model runs on a CPU machine


def load(path, classes: Mapping[str, type], device: str | None = None):
    """Read the folder ``path`` back (see :func:`btvqvae.persistence.load`)."""
    path = Path(path).expanduser()
    document = _read_document(path)
    _check_version(document.get("btvqvae_version", "0"), path)
    estimator = _make_estimator(document, classes)
    _set_fitted(estimator, document.get("fitted", {}))
    estimator.device_ = _load_device(device, estimator.device_)
    weights = path / WEIGHTS_FILE
    estimator._restore_net(torch.load(weights, map_location="cpu", weights_only=True), weights)
    if (path / HISTORY_FILE).is_file():
        estimator.net_.history = History(
            json.loads((path / HISTORY_FILE).read_text(encoding="utf-8")))
    return estimator
