"""JSON for saved models: plain values, with tuples and arrays tagged so they come back."""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping

import numpy as np

__all__ = ["NotJSONable", "from_json", "json_history", "to_json"]


class NotJSONable(TypeError):
    pass


def to_json(value, where: str):
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
        return {"__ndarray__": [to_json(v, where) for v in value.tolist()],
                "dtype": value.dtype.str}
    if isinstance(value, tuple):
        return {"__tuple__": [to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [to_json(v, where) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: to_json(v, where) for k, v in value.items()}
    raise NotJSONable(f"{where} holds {value!r}, which cannot be written as JSON")


def from_json(obj: dict):
    if set(obj) == {"__tuple__"}:
        return tuple(obj["__tuple__"])
    if set(obj) == {"__ndarray__", "dtype"}:
        return np.asarray(obj["__ndarray__"], dtype=np.dtype(obj["dtype"]))
    return obj


def json_history(history) -> str | None:
    """The history as JSON text (numpy/torch scalars as numbers), or None if impossible."""
    def scalar(obj):
        if hasattr(obj, "item") and np.ndim(obj) == 0:
            return obj.item()
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    try:
        return json.dumps(list(history), default=scalar, allow_nan=True)
    except (TypeError, ValueError):
        return None
