"""Tiny configurations and toy data shared by the estimator tests."""

import numpy as np

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer

# One codebook and the reference grid keep most tests small; the residual default has its
# own tests (test_residual_*.py) and sklearn's checks run at the default quantizer.
TINY = dict(hidden_dim=4, n_res_blocks=1, codebook_size=4, max_steps=4, batch_size=8,
            n_quantizers=1, downsampled_width=8)
TINY_BT = dict(TINY, projector_dims=(8, 8))


def make_tiny(cls, **params):
    base = TINY_BT if cls is BarlowTwinsVQVAETransformer else TINY
    return cls(**{**base, "random_state": 0, **params})


ESTIMATORS = (VQVAETransformer, BarlowTwinsVQVAETransformer)


def toy_series(n=24, channels=1, length=32, seed=0, dtype=np.float64):
    """Two classes: noisy sines and noisy square waves, 3-D ``(n, channels, length)``."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, length)
    y = np.arange(n) % 2
    base = np.where(y[:, None] == 0, np.sin(t), np.sign(np.sin(2 * t)))
    X = base[:, None, :] + 0.1 * rng.standard_normal((n, channels, length))
    return X.astype(dtype), y
