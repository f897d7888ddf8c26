"""The JSON-lines results file: one object per finished cell, appended as cells complete.

Schema of a line (``RECORD_KEYS``; NaN and infinities are written as ``null``)
-------------------------------------------------------------------------------
identity     ``dataset`` (str), ``model`` (str: ``vqvae``, ``bt_g0.5``, ``raw_svc``, ...),
             ``family`` (``"vqvae"``, ``"bt"``, ``"baseline"``), ``gamma`` (float, null unless
             BT), ``seed`` (int: the estimator's ``random_state`` and ``evaluate``'s).
metrics      ``accuracy``: test accuracy of the model's own classifier (token models and
             raw_svc: the linear-SVC probe, equal to ``svc_linear``; raw_1nn: 1-NN
             Euclidean; minirocket: the ridge head), then every key of
             :data:`btvqvae.evaluation.EVALUATE_KEYS` on the TEST split (null where a key
             does not apply to a baseline).
cost         ``fit_seconds`` (wall time of fitting on TRAIN), ``transform_seconds`` (TEST into
             the representation), ``evaluate_seconds`` (the ``evaluate`` call, null for
             raw_1nn and minirocket), ``peak_rss_mb``, ``rss_start_mb`` and
             ``memory_method`` (see :mod:`benchmarks.cells`).
data         ``n_train``, ``n_test``, ``length`` (timepoints after the loader's handling),
             ``n_channels``, ``n_classes``, ``irregular`` (bool: the files had unequal
             lengths or missing values).
training     ``n_iter`` (epochs) and ``train_loss`` (last epoch's mean loss); null for
             baselines.
readouts     token models: ``{readout: {"svc": acc, "ridge": acc, "dim": n, "seconds": s}}``
             for every output mode of the fitted model (:mod:`benchmarks.probes`); null for
             baselines and for records written before protocol 2.
provenance   ``params`` (every constructor parameter, defaults included, JSON-safe),
             ``settings`` and ``settings_hash`` (what a resumed run must match),
             ``version`` (``btvqvae.__version__``), ``machine`` (platform, python, node,
             cpu_count, cpus_available, torch, torch_threads), ``timestamp`` (UTC, ISO 8601).

The settings hash covers the model's resolved parameters without the seed, ``n_repeats``,
the loader's ``unequal`` / ``missing`` handling and :data:`PROTOCOL` (bumped when this
benchmark's measurement changes). It does not cover the package version: rerun into a new
file, or delete lines, after a change of the library that should invalidate results.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import warnings
from pathlib import Path

import numpy as np

from btvqvae.evaluation import EVALUATE_KEYS

__all__ = ["PROTOCOL", "RECORD_KEYS", "append_record", "done_keys", "jsonable", "machine_info",
           "read_records", "record_key", "settings_hash", "utc_now"]

PROTOCOL = 2  # 2: every read-out scored by two probes
IDENTITY_KEYS = ("dataset", "model", "family", "gamma", "seed")
METRIC_KEYS = ("accuracy",) + tuple(EVALUATE_KEYS)
COST_KEYS = ("fit_seconds", "transform_seconds", "evaluate_seconds", "peak_rss_mb",
             "rss_start_mb", "memory_method")
DATA_KEYS = ("n_train", "n_test", "length", "n_channels", "n_classes", "irregular")
TRAINING_KEYS = ("n_iter", "train_loss", "readouts")
PROVENANCE_KEYS = ("params", "settings", "settings_hash", "version", "machine", "timestamp")
RECORD_KEYS = (IDENTITY_KEYS + METRIC_KEYS + COST_KEYS + DATA_KEYS + TRAINING_KEYS
               + PROVENANCE_KEYS)


def jsonable(value):
    """A JSON-safe copy: tuples → lists, numpy scalars → Python, NaN/inf → None, others → repr."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def settings_hash(settings: dict) -> str:
    """16 hex digits identifying ``settings`` (order of dict keys does not matter)."""
    text = json.dumps(jsonable(settings), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_key(record: dict) -> tuple:
    return (record.get("dataset"), record.get("model"), record.get("seed"),
            record.get("settings_hash"))


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def machine_info(torch_threads: int) -> dict:
    import torch

    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count()
    return {"platform": platform.platform(), "python": platform.python_version(),
            "node": platform.node(), "cpu_count": os.cpu_count(), "cpus_available": available,
            "torch": torch.__version__, "torch_threads": int(torch_threads)}


def read_records(path) -> list[dict]:
    """All complete records of a results file; an unreadable line is skipped with a warning."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                warnings.warn(f"{path}:{number} is not a JSON object (an interrupted write?); "
                              "skipped", RuntimeWarning, stacklevel=2)
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def done_keys(path) -> set[tuple]:
    """``(dataset, model, seed, settings_hash)`` of every cell already in ``path``."""
    return {record_key(r) for r in read_records(path) if "error" not in r}


def append_record(path, record: dict) -> None:
    """Append one line and make it durable (flush + fsync) before returning.

    A previous interrupted write that left no final newline is closed off first, so the new
    record always starts a line of its own.
    """
    line = json.dumps(jsonable(record), separators=(",", ":"), allow_nan=False) + "\n"
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as file:
        file.seek(0, os.SEEK_END)
        if file.tell() > 0:
            file.seek(-1, os.SEEK_END)
            if file.read(1) != b"\n":
                file.write(b"\n")
        file.write(line.encode("utf-8"))
        file.flush()
        os.fsync(file.fileno())
