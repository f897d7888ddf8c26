"""Input and parameter checks for every entry point: clear messages, no torch stack traces.

The one home of: turning user input into a ``(n_cases, n_channels, n_timepoints)`` array
(:func:`as_array`, :func:`as_collection`, :func:`check_series`), checking token ids
(:func:`check_token_ids`), the hint for unequal lengths (:data:`RESIZE_HINT`) and the
device choice with its CPU fallback (:func:`resolve_device`).
"""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Mapping
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


class DataTypeError(TypeError, ValueError):
    """Input of a kind that is not real numbers: complex, bool, datetime or masked arrays.

    A ``TypeError`` (the input's type is wrong) that is also a ``ValueError``, as
    scikit-learn raises for complex data.
    """


_KIND_HINTS = {
    "c": ("complex", "pass the real part (X.real) or the magnitude (np.abs(X))"),
    "b": ("boolean", "cast it to numbers first if that is meant, e.g. X.astype(float)"),
    "M": ("datetime64", "pass the measured values, not their time stamps"),
    "m": ("timedelta64", "convert the durations to numbers first, "
                         "e.g. X / np.timedelta64(1, 's')"),
}


def as_array(X: Any, *, name: str = "X") -> Any:
    """``X`` itself when it has a shape (arrays, DataFrames), else X as a numpy array.

    Torch tensors become numpy arrays (moved to the CPU, detached). Lists of series of
    different shapes, text, complex, boolean, datetime and masked arrays, and numbers too
    large for float64 are refused with a message saying what to do.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu()
        X = (X.float() if X.dtype in (torch.bfloat16, torch.float16) else X).numpy()
    if isinstance(X, np.ma.MaskedArray):
        raise DataTypeError(f"{name} is a masked array, whose mask btvqvae cannot honour; "
                            f"fill it first, e.g. {name}.filled(0.0) or, for "
                            "preprocessing.GlobalStandardScaler, .filled(np.nan)")
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
    dtype = getattr(X, "dtype", None)
    kind = np.dtype(dtype).kind if isinstance(dtype, np.dtype) else None
    if kind in ("U", "S", "V"):
        raise TypeError(f"{name} holds {np.dtype(X.dtype)} values (text or bytes), not "
                        f"numbers; convert it first, e.g. {name}.astype(float)")
    if kind in _KIND_HINTS:
        what, hint = _KIND_HINTS[kind]
        raise DataTypeError(f"{what.capitalize()} data not supported: {name} holds {dtype} "
                            f"values, not real numbers; {hint}")
    if kind == "O":
        try:
            np.asarray(X, dtype=np.float64)
        except OverflowError:
            raise ValueError(f"{name} holds a number too large for float64 (beyond "
                             f"{np.finfo(np.float64).max:.3g}); rescale the data first") from None
        except (TypeError, ValueError):
            pass  # check_array names the entry it cannot convert
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


#: The whole of a device name: "cpu", "auto", "cuda" or "cuda:N" (ASCII digits only, once).
_DEVICE_NAME = re.compile(r"(cpu|auto|cuda(:[0-9]+)?)")


def check_device(device: Any, *, name: str = "device", allow_auto: bool = True) -> str:
    """The normalised name of ``device`` ("cpu", "cuda", "cuda:N" or, with ``allow_auto``,
    "auto"; any case, or a ``torch.device``), else a ``ValueError`` naming ``name``.

    Only the whole name counts: torch refuses "tpu", "cuda:0:1" or "cuda:²" long after this
    point (building the net, loading weights), with a stack trace instead of the fix.
    """
    if isinstance(device, torch.device):
        device = str(device)
    normal = device.strip().lower() if isinstance(device, str) else ""
    if not _DEVICE_NAME.fullmatch(normal) or (normal == "auto" and not allow_auto):
        choices = "'cpu', 'cuda' (optionally 'cuda:N')" + (
            ", 'auto' or a torch.device" if allow_auto else " or a torch.device")
        raise ValueError(f"{name} must be {choices}, got {device!r}")
    return normal


def _cuda_index(name: str) -> int | None:
    return int(name.split(":")[1]) if ":" in name else None


def resolve_device(device: Any, *, stacklevel: int = 3, check_only: bool = False) -> str:
    """The device to use for ``device``: "cpu", "cuda", "cuda:N" or "auto" (any case), or a
    ``torch.device``.

    "auto" picks a GPU when there is one; "cuda" without one warns and gives "cpu"; a GPU
    index beyond the visible GPUs is refused. ``check_only`` validates the name only,
    without looking at the machine.
    """
    name = check_device(device)
    if check_only:
        return name
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"device={device!r} was requested but CUDA is not available; "
                      "using the CPU instead.", UserWarning, stacklevel=stacklevel)
        return "cpu"
    index, count = _cuda_index(name), torch.cuda.device_count() if name != "cpu" else 0
    if index is not None and index >= count:
        raise ValueError(f"device={device!r} asks for GPU {index}, but this machine shows "
                         f"{count} GPU(s) (cuda:0 to cuda:{count - 1}); pass one of them, "
                         "'cuda' or 'auto'")
    return name


def available_device(saved: str) -> str:
    """``saved`` where it exists, else the nearest device that does: the CPU for a GPU
    model on a machine without CUDA, the default GPU for a GPU index this machine lacks."""
    if str(saved).startswith("cuda") and not torch.cuda.is_available():
        return "cpu"
    index = _cuda_index(str(saved)) if str(saved).startswith("cuda") else None
    if index is not None and index >= torch.cuda.device_count():
        return "cuda"
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


def check_int(name: str, value, minimum: int, *, allow_none: bool = False,
              allow_bool: bool = False) -> None:
    """``value`` is an int (numpy ints too; bools only with ``allow_bool``) >= ``minimum``."""
    if value is None and allow_none:
        return
    is_bool = isinstance(value, (bool, np.bool_))
    if (is_bool and not allow_bool) or not (is_bool or isinstance(value, numbers.Integral)):
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
    """``value`` is one of the names ``choices``; anything else (arrays and lists included,
    which ``in`` would compare element-wise) raises a ``ValueError`` naming ``name``."""
    if not (isinstance(value, str) and value in choices):
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def non_finite_tensors(state: Mapping[str, torch.Tensor]) -> list[str]:
    """Names of the floating-point tensors of a state dict that hold NaN or infinity."""
    return [name for name, value in state.items()
            if value.is_floating_point() and not bool(torch.isfinite(value).all())]


def check_bool(name: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False), got {value!r}")


def check_int_sequence(name: str, value, minimum: int = 1) -> tuple[int, ...]:
    """A non-empty 1-D sequence of ints >= ``minimum`` (lists, tuples, arrays) as a tuple."""
    ok = not isinstance(value, (str, bytes, Mapping)) and np.ndim(value) == 1 and len(value) > 0
    ok = ok and all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
                    and v >= minimum for v in value)
    if not ok:
        raise ValueError(f"{name} must be a non-empty sequence of ints >= {minimum}, e.g. "
                         f"(512, 512); got {value!r}")
    return tuple(int(v) for v in value)


def check_callbacks(callbacks) -> None:
    """None, or a list of skorch callbacks (instances or classes) and (name, callback) pairs."""
    from skorch.callbacks import Callback

    def is_callback(obj) -> bool:
        return isinstance(obj, Callback) or (isinstance(obj, type) and issubclass(obj, Callback))

    hint = ("callbacks must be None or a list of skorch callbacks and (name, callback) pairs, "
            "e.g. callbacks=[Monitor(X_train, y_train, X_test, y_test)]")
    if callbacks is None:
        return
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"{hint}; got {callbacks!r}")
    for item in callbacks:
        pair = isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
        if not (is_callback(item) or (pair and is_callback(item[1]))):
            raise TypeError(f"{hint}; got {item!r} in the list")


#: Largest estimated training memory :func:`check_memory` lets through (bytes). The estimate
#: counts weights with their gradients and AdamW state, the codebooks and the activations
#: of one batch. It is a rough count, not calibrated against measured peaks: it only has to
#: tell absurd configurations (terabytes) from workable ones.
MEMORY_LIMIT = 16 * 2**30


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def check_memory(*, n_channels: int, n_timepoints: int, n_cases: int, n_fft: int,
                 hidden_dim: int, code_dim: int | None, codebook_size: int, n_res_blocks: int,
                 downsampled_width: int | None = None, batch_size: int, projector_dims=(),
                 n_views: int = 1, limit: float | None = None,
                 n_downsampling: int | None = None) -> float:
    """Estimate training memory (bytes) before anything is allocated; refuse above ``limit``.

    The message names each term with the parameters that drive it, largest first.
    """
    from .nn.encoder import n_downsampling_blocks
    from .nn.stft import n_frames, n_freqs

    limit = MEMORY_LIMIT if limit is None else limit
    h, d, k = float(hidden_dim), float(code_dim or hidden_dim), float(codebook_size)
    c2, f, t = 2.0 * n_channels, float(n_freqs(n_fft)), float(n_frames(n_timepoints, n_fft))
    # a fixed block count (a pretrained core's) or the rule of downsampled_width
    n_down = n_downsampling if n_downsampling is not None else \
        n_downsampling_blocks(n_timepoints, n_fft, downsampled_width)
    batch = float(min(batch_size, n_cases)) * n_views
    conv = 2 * (c2 * h * 12 + n_down * h * h * 12 + n_res_blocks * 10 * h * h + h * d)
    dims = [d, *map(float, projector_dims)]
    projector = sum(a * b for a, b in zip(dims, dims[1:]))
    tokens = batch * f * max(1.0, t / 2**n_down)
    terms = {
        f"weights (hidden_dim={hidden_dim}, n_res_blocks={n_res_blocks})": 16 * conv,
        f"projector (projector_dims={tuple(projector_dims)})": 16 * projector,
        f"codebook (codebook_size={codebook_size} x code_dim={int(d)})": 4 * 3 * k * d,
        f"k-means distances (codebook_size={codebook_size} x {int(tokens)} latents)":
            4 * tokens * k,
        f"activations (batch_size={batch_size} x {n_views} view(s) x hidden_dim={hidden_dim} "
        f"x STFT grid {int(f)}x{int(t)} from n_fft={n_fft})":
            4 * batch * (h * f * t * (6 + 4 * n_res_blocks) + c2 * f * t * 4),
    }
    total = sum(terms.values())
    if total > limit:
        parts = "; ".join(f"{name} {_bytes(size)}" for name, size
                          in sorted(terms.items(), key=lambda kv: -kv[1]) if size > 0.01 * total)
        raise ValueError(f"this configuration needs an estimated {_bytes(total)} to train, "
                         f"over the limit of {_bytes(limit)} (btvqvae._validation.MEMORY_LIMIT): "
                         f"{parts}. Lower the parameter of the largest term.")
    return total
