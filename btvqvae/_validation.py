"""Input and parameter checks for every entry point: clear messages, no torch stack traces.

The one home of: turning user input into a ``(n_cases, n_channels, n_timepoints)`` array
(:func:`as_array`, :func:`as_collection`, :func:`check_series`), checking token ids
(:func:`check_token_ids`), the hint for unequal lengths (:data:`RESIZE_HINT`) and the
device choice with its CPU fallback (:func:`resolve_device`).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_array, validate_data

#: What to do about series of different lengths, wherever they are refused.
RESIZE_HINT = ("resample or pad the series to one length first, e.g. with "
               "aeon.transformations.collection.unequal_length.Resizer or Padder, or "
               "btvqvae.datasets.load_ucr(..., unequal='pad')")

_RANK_HINT = ("Reshape your data, e.g. X[None, :] for a single series or X[:, None, :] to "
              "make 2-D univariate series 3-D.")

DEVICES = ("cpu", "cuda", "auto")


def as_array(X: Any, *, name: str = "X") -> Any:
    """``X`` itself when it has a shape (arrays, DataFrames), else X as a numpy array.

    Torch tensors become numpy arrays (moved to the CPU, detached); lists of series of
    different shapes and text data are refused with a message saying what to do.
    """
    if isinstance(X, torch.Tensor):
        return X.detach().cpu().numpy()
    if isinstance(X, (list, tuple)) and X and all(hasattr(x, "shape") for x in X):
        if len({np.shape(x) for x in X}) > 1:
            raise ValueError(f"{name} is a list of series of unequal lengths or channel "
                             f"counts; {RESIZE_HINT}")
    if not hasattr(X, "shape"):
        try:
            X = np.asarray(X)
        except ValueError as exc:  # numpy refuses inhomogeneous nesting
            raise ValueError(f"{name} is a list of series of unequal lengths or channel "
                             f"counts; {RESIZE_HINT}") from exc
    if getattr(X, "dtype", None) is not None and np.dtype(X.dtype).kind in "USV":
        raise TypeError(f"{name} holds {np.dtype(X.dtype)} values (text or bytes), not "
                        f"numbers; convert it first, e.g. {name}.astype(float)")
    return X


def check_rank(X: Any, *, name: str = "X") -> int:
    """The rank of ``X`` (2 or 3); any other rank raises with a reshaping hint."""
    ndim = len(X.shape)
    if ndim not in (2, 3):
        raise ValueError(f"{name} must be 2-D (n_cases, n_timepoints) or 3-D (n_cases, "
                         f"n_channels, n_timepoints); got a {ndim}-D array. {_RANK_HINT}")
    return ndim


def as_collection(X: Any, *, name: str = "X", dtype: Any = (np.float64, np.float32),
                  allow_nan: bool = False) -> tuple[np.ndarray, int]:
    """``X`` as a float ``(n_cases, n_channels, n_timepoints)`` array, and its input rank.

    A 2-D ``X`` is univariate. ``dtype`` is one float dtype or a list of those kept as they
    are (others are converted to the first). Infinity is refused, NaN unless ``allow_nan``;
    the caller's array is never modified (a view may be returned).
    """
    X = as_array(X, name=name)
    ndim = check_rank(X, name=name)
    dtypes = list(dtype) if isinstance(dtype, (list, tuple)) else [dtype]
    X = check_array(X, allow_nd=True, dtype=dtypes, ensure_min_samples=1,
                    ensure_all_finite="allow-nan" if allow_nan else True, input_name=name)
    if ndim == 2:
        X = X[:, None, :]
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(f"{name} has shape {X.shape}: each series needs at least one channel "
                         "and one timepoint")
    return X, ndim


def check_token_ids(tokens: Any, codebook_size: int | None = None, *,
                    whole_floats: bool = False) -> tuple[np.ndarray, int]:
    """``tokens`` as int64 code ids in ``[0, codebook_size)`` (shape kept), and the size.

    ``codebook_size=None`` takes the largest id + 1. ``whole_floats=True`` also accepts
    floats holding whole numbers (e.g. tokens edited in a float array).
    """
    tokens = np.asarray(as_array(tokens, name="tokens"))
    if tokens.size == 0:
        raise ValueError("tokens is empty; pass at least one code id")
    if tokens.dtype.kind not in "iu":
        whole = (whole_floats and tokens.dtype.kind == "f" and bool(np.all(np.isfinite(tokens)))
                 and bool(np.all(tokens == np.round(tokens))))
        if not whole:
            raise ValueError(f"tokens must be integer code ids, got dtype {tokens.dtype}; use "
                             'estimator.encode(X, output="tokens") or cast whole numbers with '
                             ".astype(int)")
    tokens = tokens.astype(np.int64)
    if tokens.min() < 0:
        raise ValueError(f"tokens must be non-negative code ids, found {tokens.min()}")
    if codebook_size is None:
        codebook_size = int(tokens.max()) + 1
    elif (isinstance(codebook_size, bool) or not isinstance(codebook_size, numbers.Integral)
          or codebook_size < 1):
        raise ValueError(f"codebook_size must be a positive int, got {codebook_size!r}")
    if tokens.max() >= codebook_size:
        raise ValueError(f"token id {tokens.max()} is out of range for codebook_size="
                         f"{codebook_size}: token ids must lie in [0, {codebook_size})")
    return tokens, int(codebook_size)


def resolve_device(device: Any, *, stacklevel: int = 3) -> str:
    """The device to use for ``device`` ("cpu", "cuda", "cuda:N" or "auto").

    "auto" picks a GPU when there is one; "cuda" without one warns and gives "cpu".
    """
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ValueError(f"device must be 'cpu', 'cuda' (optionally 'cuda:N') or 'auto', "
                         f"got {device!r}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"device={device!r} was requested but CUDA is not available; "
                      "using the CPU instead.", UserWarning, stacklevel=stacklevel)
        return "cpu"
    return device


def available_device(saved: str) -> str:
    """``saved`` where it exists, else the CPU: a GPU-trained model runs on a CPU machine."""
    if str(saved).startswith("cuda") and not torch.cuda.is_available():
        return "cpu"
    return saved


def check_series(estimator, X, *, reset: bool) -> np.ndarray:
    """Validate X and return a float32/float64 array ``(n_cases, n_channels, n_timepoints)``.

    ``reset=True`` (fit) records ``n_features_in_``, the shape of one series and the rank of X;
    ``reset=False`` (transform) checks X against them.
    """
    X = as_array(X)
    ndim = check_rank(X)
    name = type(estimator).__name__
    if not reset:
        n_channels = 1 if ndim == 2 else X.shape[1]
        n_timepoints = X.shape[-1]
        if n_channels != estimator.n_channels_:
            raise ValueError(
                f"X has {n_channels} channel(s), but {name} was fitted on "
                f"{estimator.n_channels_}; pass series with the same channels "
                "(a 2-D X means one channel)."
            )
        if n_timepoints != estimator.n_timepoints_:
            raise ValueError(
                f"X has {n_timepoints} features, but {name} is expecting "
                f"{estimator.n_features_in_} features as input: its series have {n_timepoints} "
                f"timepoints but the estimator was fitted on {estimator.n_timepoints_}; "
                f"{RESIZE_HINT}."
            )
    kwargs = dict(dtype=[np.float64, np.float32], ensure_min_samples=2 if reset else 1,
                  ensure_all_finite=True)
    if ndim == 2:
        X = validate_data(estimator, X, reset=reset, **kwargs)
        X = X[:, None, :]
    else:
        X = check_array(X, allow_nd=True, **kwargs)
        if X.shape[1] == 0 or X.shape[2] == 0:
            raise ValueError(f"X has shape {X.shape}: each series needs at least one channel "
                             "and one timepoint")
        if reset:
            # Mirror validate_data's bookkeeping for 3-D input: one "feature" per timepoint.
            estimator.n_features_in_ = X.shape[2]
            if hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
    if reset:
        estimator.n_channels_, estimator.n_timepoints_ = X.shape[1], X.shape[2]
        estimator.input_ndim_ = ndim
    return X


def check_int(name: str, value, minimum: int, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def check_float(name: str, value, low: float, high: float = np.inf, *,
                low_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    bad_low = value <= low if low_open else value < low
    if bad_low or value > high or not np.isfinite(value):
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value}")


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
