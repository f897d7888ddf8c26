"""The reference's global scaling (SPEC §1): one mean and one std over the whole TRAIN array."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

from ._validation import RESIZE_HINT, as_array

__all__ = ["GlobalStandardScaler"]


#: Relative spread at or below which data counts as constant: a few float64 roundings.
_ROUNDING = 10 * np.finfo(np.float64).eps


def _is_rounding_noise(mean: float, std: float) -> bool:
    """Whether a spread ``std`` around ``mean`` is no more than float64 rounding."""
    return not (np.isfinite(std) and std > _ROUNDING * abs(mean) and std > 0)


def _mean_std(X: np.ndarray, hi: float, ignore_nan: bool) -> tuple[float, float]:
    """Mean and std of ``X``, whose largest value is ``hi``, in float64.

    For data constant up to rounding, the mean of the values can round to a number a few
    ulps away from all of them (3e38 repeated averages to 3e38 - 7.6e22), which would leave
    that error as the "standardised" data. There the statistics are taken of the offsets
    from ``hi``, one of the values, instead; those offsets are exact (Sterbenz: the values
    lie within a factor 2 of each other), so identical values have exactly their value as
    the mean and 0 as the std.
    """
    mean_of, std_of = (np.nanmean, np.nanstd) if ignore_nan else (np.mean, np.std)
    mean, std = float(mean_of(X, dtype=np.float64)), float(std_of(X, dtype=np.float64))
    if not _is_rounding_noise(mean, std) or not X.size:
        return mean, std
    offsets = X - X.dtype.type(hi)  # a copy, only for (near-)constant data
    return hi + float(mean_of(offsets, dtype=np.float64)), float(std_of(offsets,
                                                                        dtype=np.float64))


def global_mean_std(X: np.ndarray, *, ignore_nan: bool = False) -> tuple[float, float]:
    """One mean and one (population) std over every value of ``X``, in float64.

    Data near the ends of the float64 range is divided by a power of two near its largest
    magnitude first (exactly), so neither the mean nor the sum of squares overflows or
    underflows (``X * 1e300`` and ``X * 1e-300`` give the statistics of ``X`` times 1e300
    and 1e-300). Data constant up to float64 rounding gets a mean within rounding of every
    value (see :func:`_mean_std`), so it standardises to (nearly) zero.
    """
    if not X.size:
        return _mean_std(X, 0.0, ignore_nan)
    hi, lo = float(np.nanmax(X)), float(np.nanmin(X))  # no copy of X
    peak = max(hi, -lo)
    if peak == 0.0 or not np.isfinite(peak) or 1e-150 < peak < 1e150:
        return _mean_std(X, hi, ignore_nan)
    # peak = m * 2**e with m in [0.5, 1): dividing by 2**(e - 1) is exact and leaves |X| < 2
    unit = float(np.ldexp(1.0, int(np.frexp(peak)[1]) - 1))
    mean, std = _mean_std(X.astype(np.float64) / unit, hi / unit, ignore_nan)
    return unit * mean, unit * std


def safe_scale(mean: float, std: float) -> float:
    """``std`` as a divisor; for data constant up to float64 rounding, that rounding level
    (10 float64 epsilons of ``|mean|``) or 1, whichever is larger.

    The cut-off is relative: a std within a few float64 roundings of ``|mean|`` is noise
    (dividing by it would blow rounding errors up), any larger std is signal, however small
    its absolute size, so ``a * X + b`` is standardised like ``X`` for a wide range of ``a``.
    Constant data is only shifted, unless its magnitude is beyond ~4.5e14, where one
    rounding step exceeds 1: dividing by the rounding level keeps its standardised values
    within about one, where the model's float32 arithmetic stays finite.
    """
    if not _is_rounding_noise(mean, std):
        return std
    level = _ROUNDING * abs(mean)
    return level if np.isfinite(level) and level > 1.0 else 1.0


class GlobalStandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise a whole collection with a single mean and standard deviation.

    Unlike :class:`sklearn.preprocessing.StandardScaler` (one mean per column) or per-series
    z-normalisation, every value of the training array -- all cases, channels and
    timepoints -- shares one mean and one standard deviation, as in the reference
    implementation. NaN values are ignored when fitting and stay NaN when transforming,
    unless ``nan_to_zero=True``.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the global mean; otherwise ``mean_`` is 0.
    with_std : bool, default=True
        Divide by the global standard deviation (population, ``ddof=0``); otherwise
        ``scale_`` is 1.
    nan_to_zero : bool, default=False
        Replace NaN with 0 after scaling, as the reference does (a NaN then sits at the
        training mean). ``inverse_transform`` cannot bring those NaN back.

    Attributes
    ----------
    mean_ : float
        Global mean of the training values (NaN ignored).
    scale_ : float
        Global standard deviation of the training values; 1.0 where the array is constant
        up to float64 rounding, so such an array is only shifted (for constants beyond
        ~4.5e14 in magnitude, their float64 rounding level: see :func:`safe_scale`).
    n_features_in_ : int
        Number of columns seen in :meth:`fit`; only set for 2-D input.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when fitted on a DataFrame with string column names.
    n_channels_in_ : int or None
        Number of channels of 3-D ``(n_cases, n_channels, n_timepoints)`` input, ``None``
        when fitted on 2-D ``(n_cases, n_timepoints)`` input.
    n_timepoints_in_ : int
        Series length seen in :meth:`fit` (the number of columns for 2-D input).

    Examples
    --------
    >>> import numpy as np
    >>> from btvqvae.preprocessing import GlobalStandardScaler
    >>> X = np.array([[[0.0, 2.0]], [[4.0, np.nan]]])  # (n_cases=2, n_channels=1, 2)
    >>> scaler = GlobalStandardScaler().fit(X)
    >>> print(scaler.mean_, round(scaler.scale_, 4))
    2.0 1.633
    >>> GlobalStandardScaler(nan_to_zero=True).fit_transform(X).round(4)
    array([[[-1.2247,  0.    ]],
    <BLANKLINE>
           [[ 1.2247,  0.    ]]])
    """

    def __init__(self, with_mean=True, with_std=True, nan_to_zero=False):
        self.with_mean = with_mean
        self.with_std = with_std
        self.nan_to_zero = nan_to_zero

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _validate(self, X, reset):
        """Return X as a float ndarray (never the caller's array mutated) and its rank."""
        if _is_3d(X):
            return self._validate_3d(X, reset), 3
        if not reset and self.n_channels_in_ is not None:
            raise ValueError(f"X is not 3-D but {type(self).__name__} was fitted on 3-D "
                             f"(n_cases, {self.n_channels_in_}, {self.n_timepoints_in_}) data; "
                             "add the channel axis, e.g. X[:, np.newaxis, :]")
        X = validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES,
                          ensure_all_finite="allow-nan")
        if reset:
            self.n_channels_in_ = None
            self.n_timepoints_in_ = X.shape[1]
        return X, 2

    def _validate_3d(self, X, reset):
        X = np.asarray(X.detach().cpu() if hasattr(X, "detach") else X)
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must hold real numbers, got dtype {X.dtype}")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if X.size == 0:
            raise ValueError(f"X of shape {X.shape} is empty; need at least one case, "
                             "channel and timepoint")
        if np.isinf(X).any():
            raise ValueError("X contains infinity; only NaN is allowed as a missing value")
        name = type(self).__name__
        _, n_channels, n_timepoints = X.shape
        if reset:
            for attr in ("n_features_in_", "feature_names_in_"):
                if hasattr(self, attr):
                    delattr(self, attr)
            self.n_channels_in_, self.n_timepoints_in_ = n_channels, n_timepoints
        elif self.n_channels_in_ is None:
            raise ValueError(f"X is 3-D but {name} was fitted on 2-D (n_cases, "
                             f"{self.n_timepoints_in_}) data; pass a 2-D array or refit")
        elif (n_channels, n_timepoints) != (self.n_channels_in_, self.n_timepoints_in_):
            raise ValueError(f"X has {n_channels} channels and {n_timepoints} timepoints but "
                             f"{name} was fitted on {self.n_channels_in_} channels and "
                             f"{self.n_timepoints_in_} timepoints; {RESIZE_HINT}")
        return X

    def fit(self, X: ArrayLike, y: Any = None) -> GlobalStandardScaler:
        """Compute the global mean and standard deviation of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_timepoints) or (n_cases, n_channels, n_timepoints)
            Training collection; NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : GlobalStandardScaler
        """
        X, _ = self._validate(X, reset=True)
        if np.isnan(X).all():
            raise ValueError("X contains only NaN; cannot compute a mean and a scale")
        mean, std = global_mean_std(X, ignore_nan=True)
        self.mean_ = mean if self.with_mean else 0.0
        self.scale_ = safe_scale(mean, std) if self.with_std else 1.0
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Scale ``X`` with the fitted mean and scale; returns a new array of the same shape.

        Parameters
        ----------
        X : array-like of the rank and shape (except ``n_cases``) seen in :meth:`fit`

        Returns
        -------
        X_scaled : ndarray, same shape and float dtype as ``X`` (float64 for integers)
        """
        check_is_fitted(self)
        X, _ = self._validate(X, reset=False)
        # in float64: a tiny scale_ would overflow float32 arithmetic
        out = ((X.astype(np.float64) - self.mean_) / self.scale_).astype(X.dtype, copy=False)
        if self.nan_to_zero:
            out[np.isnan(out)] = 0.0
        return out

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        """Undo :meth:`transform`: ``X * scale_ + mean_`` (NaN replaced by 0 stay 0).

        Parameters
        ----------
        X : array-like of the rank and shape (except ``n_cases``) seen in :meth:`fit`

        Returns
        -------
        X_original : ndarray, same shape and float dtype as ``X``
        """
        check_is_fitted(self)
        X, _ = self._validate(X, reset=False)
        return (X * self.scale_ + self.mean_).astype(X.dtype, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Output names (same as the input columns); defined only after a 2-D fit.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names, checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        if self.n_channels_in_ is not None:
            raise ValueError("feature names are defined only for 2-D input; this scaler "
                             "was fitted on 3-D (n_cases, n_channels, n_timepoints) data")
        return super().get_feature_names_out(input_features)


def _is_3d(X) -> bool:
    """Whether X is (convertible to) a 3-D array; 2-D, 1-D and sparse go to validate_data."""
    if sparse.issparse(X):
        return False
    if getattr(X, "ndim", None) is None:
        try:
            X = as_array(X)  # refuses lists of series of unequal lengths with the resize hint
        except TypeError:
            return False
    return X.ndim == 3
