"""Load UCR/UEA classification problems from aeon's bundled data or a local archive.

Reading goes through aeon's public loaders (``load_from_ts_file``, ``load_from_tsv_file``);
this module only decides *which* file to read and how unequal lengths and missing values
come back. It never downloads and never creates files or folders: aeon's own
``load_classification`` creates ``~/aeon_data`` even for bundled names and tries a download
for any name it does not bundle, so it is not used.

Layouts accepted under ``data_dir`` (``.ts`` preferred when both exist)::

    data_dir/<Name>/<Name>_TRAIN.ts    data_dir/<Name>/<Name>_TRAIN.tsv   (archive folder)
    data_dir/<Name>_TRAIN.ts           data_dir/<Name>_TRAIN.tsv          (dataset folder)

UCR-2018 ``.tsv`` files are rectangular: a shorter series is padded with trailing NaN. Here
the trailing NaNs of a row mark the end of that series; NaNs before its last value are
missing values. (A series whose last values are missing is therefore read as shorter.)
``.ts`` files store each series' length explicitly, so every NaN there is a missing value.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
from pathlib import Path

import numpy as np

__all__ = ["DatasetNotFoundError", "bundled_data_dir", "list_ucr", "load_ucr"]

_SPLITS = ("TRAIN", "TEST")
_FORMATS = (".ts", ".tsv")
_UNEQUAL = ("pad", "resample", "list")
_MISSING = ("keep", "interpolate", "zero")
_VARIANTS = ("", "_eq", "_nmv", "_eq_nmv")  # aeon keeps <Name>_eq_TRAIN.ts etc. in <Name>/


class DatasetNotFoundError(FileNotFoundError, ValueError):
    """A requested dataset is not on disk; the message names the paths searched."""


def bundled_data_dir() -> Path:
    """Folder holding the datasets shipped inside the aeon wheel (``aeon/datasets/data``).

    Located without importing ``aeon.datasets`` (which takes over a second).
    """
    spec = importlib.util.find_spec("aeon.datasets")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("aeon is not installed; it is needed to read UCR/UEA datasets")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _is_regression_ts(path: Path) -> bool:
    """Whether a ``.ts`` header declares a regression target (``@targetLabel true``)."""
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            tokens = line.strip().lower().split()
            if tokens[:1] == ["@data"]:
                break
            if tokens[:2] == ["@targetlabel", "true"]:
                return True
    return False


def _problems_in(folder: Path, only: set[str] | None = None) -> set[str]:
    """Names ``X`` with both ``X_TRAIN`` and ``X_TEST`` files of one format in ``folder``."""
    try:
        files = {entry.name for entry in os.scandir(folder) if entry.is_file()}
    except OSError:
        return set()
    names = set()
    for ext in _FORMATS:
        suffix = "_TRAIN" + ext
        for file in files:
            name = file[: -len(suffix)]
            if (file.endswith(suffix) and name and (only is None or name in only)
                    and f"{name}_TEST{ext}" in files
                    and not (ext == ".ts" and _is_regression_ts(folder / file))):
                names.add(name)
    return names


def list_ucr(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Names of the classification problems available locally.

    Parameters
    ----------
    data_dir : str, path-like or None, default=None
        ``None`` lists aeon's bundled classification problems. Otherwise an archive folder
        (``data_dir/<Name>/<Name>_TRAIN.{ts,tsv}``) or a dataset folder
        (``data_dir/<Name>_TRAIN.{ts,tsv}``); a problem counts when its TRAIN and TEST files
        exist in the same format. aeon's variants kept in a problem's folder
        (``<Name>/<Name>_eq_TRAIN.ts``: equal-length, ``_nmv``: no missing values) are
        listed under their own names. Regression problems (``.ts`` headers with
        ``@targetLabel true``) are left out.

    Returns
    -------
    names : list of str
        Sorted case-insensitively.

    Raises
    ------
    DatasetNotFoundError
        If ``data_dir`` is not an existing folder.
    """
    root = bundled_data_dir() if data_dir is None else Path(data_dir).expanduser()
    if not root.is_dir():
        raise DatasetNotFoundError(f"data_dir {str(root)!r} is not an existing folder")
    names = _problems_in(root)
    for entry in os.scandir(root):
        if entry.is_dir():
            names |= _problems_in(Path(entry.path), {entry.name + v for v in _VARIANTS})
    return sorted(names, key=lambda n: (n.lower(), n))


def _describe_available(root: Path, name: str, label: str) -> str:
    if not root.is_dir():
        return f"{str(root)!r} does not exist or is not a folder."
    available = list_ucr(root)
    close = difflib.get_close_matches(name.lower(), [a.lower() for a in available], n=3)
    hint = [a for a in available if a.lower() in close]
    text = f"{label}: {', '.join(available) or '(none)'}."
    return text + (f" Did you mean {', '.join(hint)}?" if hint else "")


def _find_files(name: str, splits: tuple[str, ...], data_dir) -> dict[str, Path]:
    """Paths of the requested split files; raise :class:`DatasetNotFoundError` if absent."""
    bundled = data_dir is None
    root = bundled_data_dir() if bundled else Path(data_dir).expanduser()
    folders = [root / name]
    folders += [root / name[: -len(v)] for v in _VARIANTS[1:] if name.endswith(v)]
    folders += [] if bundled else [root]
    looked = []
    for folder in folders:
        for ext in _FORMATS:
            paths = {s: folder / f"{name}_{s}{ext}" for s in splits}
            looked += paths.values()
            if all(p.is_file() for p in paths.values()):
                return paths
    lines = [f"Dataset {name!r} ({' and '.join(splits)}) not found. Looked for:"]
    lines += [f"  {p}" for p in looked]
    if not bundled:
        lines.append(_describe_available(root, name, f"Available in {str(root)!r}"))
    lines.append(_describe_available(bundled_data_dir(), name, "Bundled (data_dir=None)"))
    if bundled:
        lines.append("Pass data_dir=<folder> to load a local UCR/UEA archive (.ts or .tsv); "
                     "nothing is downloaded.")
    raise DatasetNotFoundError("\n".join(lines))


def _read_split(path: Path):
    """Read one file with aeon's loader: ``(X, y)``, X float64 3-D or a list of 2-D arrays."""
    import pandas as pd
    from aeon.datasets import load_from_ts_file, load_from_tsv_file

    if path.suffix == ".ts":
        X, y, meta = load_from_ts_file(str(path), return_meta_data=True)
        if meta.get("targetlabel"):
            raise ValueError(f"{path} holds a regression problem (@targetLabel true); "
                             "load it with aeon.datasets.load_regression instead")
        if isinstance(X, list):
            return [np.asarray(x, dtype=np.float64) for x in X], np.asarray(y).astype(str)
        return np.asarray(X, dtype=np.float64), np.asarray(y).astype(str)
    try:
        X, y = load_from_tsv_file(str(path))
    except pd.errors.ParserError as err:
        raise ValueError(f"{path} is not a rectangular tab-separated table; pad shorter "
                         "series with trailing NaN (UCR-2018 layout)") from err
    X = np.asarray(X, dtype=np.float64)  # (n, 1, width); all-integer files load as int64
    width = X.shape[2]
    observed = ~np.isnan(X[:, 0, :])
    lengths = np.where(observed.any(axis=1), width - np.argmax(observed[:, ::-1], axis=1), 0)
    y = np.asarray(y).astype(str)
    if np.all(lengths == width):
        return X, y
    return [x[:, :n] for x, n in zip(X, lengths)], y


def _fill_missing(x: np.ndarray, missing: str) -> np.ndarray:
    """Handle NaN inside one ``(n_channels, n_timepoints)`` series."""
    nan = np.isnan(x)
    if missing == "keep" or not nan.any():
        return x
    if missing == "zero":
        return np.where(nan, 0.0, x)
    out = x.copy()
    grid = np.arange(x.shape[1])
    for row, row_nan in zip(out, nan):
        if row_nan.all():
            row[:] = 0.0  # nothing to interpolate from
        elif row_nan.any():
            row[row_nan] = np.interp(grid[row_nan], grid[~row_nan], row[~row_nan])
    return out


def _resample(x: np.ndarray, length: int) -> np.ndarray:
    """Linearly resample a ``(n_channels, t)`` series to ``(n_channels, length)``."""
    t = x.shape[1]
    if t == length:
        return x
    if t == 0:
        return np.full((x.shape[0], length), np.nan)
    old, new = np.linspace(0.0, 1.0, t), np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(new, old, row) for row in x])


def _pad(x: np.ndarray, length: int, value: float) -> np.ndarray:
    out = np.full((x.shape[0], length), value, dtype=np.float64)
    out[:, : x.shape[1]] = x
    return out


def _check_choice(param: str, value, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.lower() not in choices:
        raise ValueError(f"{param}={value!r} is not valid; choose one of {choices}")
    return value.lower()


def load_ucr(name: str, split: str | None = None,
             data_dir: str | os.PathLike | None = None, *, unequal: str = "pad",
             missing: str = "keep", length: int | None = None, pad_value: float = 0.0
             ) -> tuple[np.ndarray | list[np.ndarray], np.ndarray]:
    """Load a UCR/UEA classification problem as aeon-style ``(X, y)``, never downloading.

    Parameters
    ----------
    name : str
        Problem name as spelled on disk, e.g. ``"GunPoint"`` (case-sensitive).
    split : {"train", "test"} or None, default=None
        Which official split to load (case-insensitive). ``None`` returns TRAIN followed by
        TEST in one collection, as aeon does.
    data_dir : str, path-like or None, default=None
        ``None`` reads only the datasets bundled in aeon's wheel (see :func:`list_ucr`).
        Otherwise an archive folder holding ``<Name>/<Name>_TRAIN.ts`` or
        ``<Name>/<Name>_TRAIN.tsv`` (UCR-2018 layout), or the dataset folder itself.
        aeon's ``<Name>_eq`` / ``<Name>_nmv`` variants are found in ``<Name>/``. There is no
        fallback to the bundled data.
    unequal : {"pad", "resample", "list"}, default="pad"
        How series of different lengths come back.

        - ``"pad"``: a 3-D array; each series is padded at its end with ``pad_value`` up to
          the target length.
        - ``"resample"``: a 3-D array; each series is linearly resampled to the target
          length (time is stretched, endpoints kept).
        - ``"list"``: always a list of 2-D ``(n_channels, n_timepoints_i)`` arrays, aeon's
          unequal-length format, even when all lengths agree.

        The target length is ``length`` if given, else the longest series; when one split
        of an unequal-length problem is loaded, the longest over both splits, so TRAIN and
        TEST loaded separately share ``n_timepoints``. Equal-length data is returned
        unchanged unless ``length`` differs from its length.
    missing : {"keep", "interpolate", "zero"}, default="keep"
        What happens to missing values (NaN) inside a series, before padding/resampling:
        keep the NaN, interpolate linearly along time (the first/last observed value is
        carried to the edges; an all-missing channel becomes 0), or set them to 0. With
        ``"keep"`` and ``unequal="resample"`` a NaN spreads to its resampled neighbours.
    length : int or None, default=None
        Target ``n_timepoints`` for ``"pad"`` (must be at least the longest series) and
        ``"resample"``. Not allowed with ``unequal="list"``.
    pad_value : float, default=0.0
        Value written after the end of shorter series with ``unequal="pad"``. ``np.nan``
        reproduces the UCR-2018 files (and, followed by
        ``GlobalStandardScaler(nan_to_zero=True)``, the reference's padding at the mean).

    Returns
    -------
    X : ndarray of shape (n_cases, n_channels, n_timepoints) or list of ndarray
        float64 values; a list of 2-D float64 arrays with ``unequal="list"``.
    y : ndarray of shape (n_cases,)
        Class labels as strings, as aeon returns them (aeon's ``.ts`` reader lower-cases
        labels: BasicMotions gives ``"walking"``, not ``"Walking"``).

    Raises
    ------
    DatasetNotFoundError
        (a ``FileNotFoundError`` and ``ValueError``) if the files are not there; the message
        lists every path searched and the datasets that are available. Nothing is created.
    ValueError
        For an invalid ``split``, ``unequal``, ``missing`` or ``length``.

    Examples
    --------
    >>> from btvqvae.datasets import load_ucr
    >>> X_train, y_train = load_ucr("GunPoint", split="train")
    >>> X_train.shape, y_train[:3]
    ((50, 1, 150), array(['2', '2', '1'], dtype='<U1'))
    >>> X, y = load_ucr("PickupGestureWiimoteZ", unequal="list")
    >>> len(X), X[0].shape
    (100, (1, 324))
    """
    if not isinstance(name, str) or name in ("", ".", "..") or os.sep in name or "/" in name:
        raise ValueError(f"name must be a dataset name such as 'GunPoint', got {name!r}")
    if split is None:
        splits = _SPLITS
    elif isinstance(split, str) and split.upper() in _SPLITS:
        splits = (split.upper(),)
    else:
        raise ValueError(f"split={split!r} is not valid; use 'train', 'test' or None (both)")
    unequal = _check_choice("unequal", unequal, _UNEQUAL)
    missing = _check_choice("missing", missing, _MISSING)
    if length is not None:
        if unequal == "list":
            raise ValueError("length is only used with unequal='pad' or 'resample'")
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
            raise ValueError(f"length must be a positive int or None, got {length!r}")
        length = int(length)

    paths = _find_files(name, splits, data_dir)
    parts = [_read_split(paths[s]) for s in splits]
    y = np.concatenate([part[1] for part in parts])
    if all(isinstance(X, np.ndarray) for X, _ in parts) and \
            len({X.shape[1:] for X, _ in parts}) == 1:
        X = np.concatenate([X for X, _ in parts])
        if missing != "keep":
            X = np.stack([_fill_missing(x, missing) for x in X])
    else:
        X = [_fill_missing(x, missing) for part, _ in parts for x in part]

    if unequal == "list":
        return list(X), y
    if isinstance(X, np.ndarray) and length in (None, X.shape[2]):
        return X, y
    longest = max(x.shape[1] for x in X)
    if length is None:
        length = max(longest, _longest_in_other_split(paths[splits[0]], name, splits))
    if unequal == "pad":
        if length < longest:
            raise ValueError(f"length={length} is shorter than the longest series "
                             f"({longest}); use unequal='resample' to shrink series")
        return np.stack([_pad(x, length, pad_value) for x in X]), y
    return np.stack([_resample(x, length) for x in X]), y


def _longest_in_other_split(path: Path, name: str, splits: tuple[str, ...]) -> int:
    """Longest series of the split not loaded (0 if both are loaded or it is absent)."""
    if len(splits) != 1:
        return 0
    other = path.with_name(f"{name}_{'TEST' if splits[0] == 'TRAIN' else 'TRAIN'}{path.suffix}")
    if not other.is_file():
        return 0
    return max((x.shape[1] for x in _read_split(other)[0]), default=0)
