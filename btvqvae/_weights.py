"""Weight files: reading them back verified, and loading them into a module checked key by key.

Shared by saved estimator folders (:mod:`btvqvae._storage`) and pretrained tokenizers
(:mod:`btvqvae.pretrained`), so both trust their files equally little.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch

from ._validation import non_finite_tensors

__all__ = ["CorruptModelError", "load_state", "read_weights", "sha256"]

WEIGHTS_FILE, PARAMS_FILE = "weights.pt", "params.json"


class CorruptModelError(ValueError):
    """A saved model folder whose files are damaged, edited or not written by btvqvae.

    The message names the file and what is wrong with it. Missing files raise
    ``FileNotFoundError`` instead.
    """


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_weights(file: Path, document: dict, record: str = PARAMS_FILE):
    with open(file, "rb") as fh:
        data = fh.read()
    recorded = document.get("weights_sha256")
    if recorded is None:
        warnings.warn(f"{file.parent} was saved without a checksum of {WEIGHTS_FILE} (by an "
                      "older btvqvae), so its weights cannot be verified; save it again to "
                      "add one", UserWarning, stacklevel=4)
    elif recorded != sha256(data):
        raise CorruptModelError(f"{file} does not match the sha256 recorded in {record}: "
                                "the file was changed or damaged after it was saved")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for truncated or foreign files
        raise CorruptModelError(f"{file} cannot be read as saved weights ({type(exc).__name__}"
                                "): it is truncated, damaged or not written by "
                                "btvqvae.persistence.save") from None


def load_state(module: torch.nn.Module, state, source) -> None:
    """Load ``state`` into ``module`` after checking every key and shape against it."""
    if not isinstance(state, Mapping) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise CorruptModelError(f"{source} does not hold a state dict of tensors")
    expected = module.state_dict()
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [f"{k}: saved {tuple(state[k].shape)}, model {tuple(v.shape)}"
                 for k, v in expected.items()
                 if k in state and tuple(state[k].shape) != tuple(v.shape)]
    problems += [f"{k}: saved {state[k].dtype}, model {v.dtype}" for k, v in expected.items()
                 if k in state and state[k].dtype != v.dtype]
    if problems:
        raise CorruptModelError(
            f"the weights in {source} do not fit the architecture built from its params.json "
            f"({len(problems)} incompatible keys: {'; '.join(problems)}); the model was saved "
            "by an incompatible btvqvae version or the files were edited")
    bad = non_finite_tensors(state)
    if bad:
        raise CorruptModelError(f"{source} holds NaN or infinity in {len(bad)} tensors "
                                f"(e.g. {bad[0]}): the weights are damaged")
    module.load_state_dict(state)
