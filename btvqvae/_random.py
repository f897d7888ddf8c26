"""Randomness from ``random_state``: the one place a seed or a generator is made.

Library code never touches numpy's or torch's global RNG; every draw comes from a generator
made here from the user's ``random_state``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["seed_from", "torch_generator"]


def seed_from(random_state: Any, *, name: str = "random_state") -> int:
    """A 31-bit seed from ``random_state`` (None: fresh OS entropy, never the global RNG)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint32)[0]) >> 1
    try:
        rng = check_random_state(random_state)
    except ValueError:
        raise ValueError(f"{name} must be None, an int or a numpy RandomState, got "
                         f"{random_state!r}") from None
    return int(rng.randint(0, 2**31 - 1))


def torch_generator(random_state: Any, *, name: str = "random_state") -> torch.Generator:
    """A CPU ``torch.Generator`` for ``random_state``; a generator passed in is used as is."""
    if isinstance(random_state, torch.Generator):
        return random_state
    return torch.Generator().manual_seed(seed_from(random_state, name=name))
