"""Input checks shared by the estimators: clear messages, no torch stack traces."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import check_array, validate_data

_RESIZE_HINT = ("resample or pad the series to one length first, e.g. with "
                "aeon.transformations.collection.unequal_length.Resizer or Padder")


def _as_shaped(X):
    """X itself when it has a shape (arrays, DataFrames), else X as a numpy array."""
    if hasattr(X, "shape"):
        return X
    try:
        return np.asarray(X)
    except ValueError as exc:  # numpy refuses inhomogeneous nesting
        raise ValueError(
            f"X is a list of series of unequal lengths or channel counts; {_RESIZE_HINT}"
        ) from exc


def check_series(estimator, X, *, reset: bool) -> np.ndarray:
    """Validate X and return a float32/float64 array ``(n_cases, n_channels, n_timepoints)``.

    ``reset=True`` (fit) records ``n_features_in_``, the shape of one series and the rank of X;
    ``reset=False`` (transform) checks X against them.
    """
    if isinstance(X, (list, tuple)) and X and all(hasattr(x, "shape") for x in X):
        if len({np.shape(x) for x in X}) > 1:
            raise ValueError(
                f"X is a list of series of unequal lengths or channel counts; {_RESIZE_HINT}")
    X = _as_shaped(X)
    if getattr(X, "dtype", None) is not None and np.dtype(X.dtype).kind in "USV":
        raise TypeError(f"X holds {np.dtype(X.dtype)} values (text or bytes), not numbers; "
                        "convert it first, e.g. X.astype(float)")
    ndim = len(X.shape)
    if ndim not in (2, 3):
        raise ValueError(
            f"X must be 2-D (n_cases, n_timepoints) or 3-D (n_cases, n_channels, n_timepoints); "
            f"got a {ndim}-D array. Reshape your data, e.g. X[None, :] for a single series or "
            "X[:, None, :] to make 2-D univariate series 3-D."
        )
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
                f"{_RESIZE_HINT}."
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
