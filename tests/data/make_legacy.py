"""Writes the models under ``legacy_b6cbf14/``: run once at commit b6cbf14 (before the
package's internal reorganisation), kept so the tests prove that folders and pickles written
by older code still load and give the same outputs. Re-running it on newer code would
defeat its purpose; it is committed to show how the files were made.

    python tests/data/make_legacy.py
"""

import pickle
from pathlib import Path

import numpy as np

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer

HERE = Path(__file__).parent / "legacy_b6cbf14"


def series(n=16, length=32, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, length)
    y = np.arange(n) % 2
    base = np.where(y[:, None] == 0, np.sin(t), np.sign(np.sin(2 * t)))
    return base[:, None, :] + 0.1 * rng.standard_normal((n, 1, length))


def main():
    HERE.mkdir(exist_ok=True)
    X = series()
    models = {
        "vqvae": VQVAETransformer(hidden_dim=4, n_res_blocks=1, codebook_size=4, max_steps=4,
                                  batch_size=8, random_state=0),
        "bt": BarlowTwinsVQVAETransformer(hidden_dim=4, n_res_blocks=1, codebook_size=4,
                                          max_steps=4, batch_size=8, projector_dims=(8, 8),
                                          center_latents=True, output="tokens",
                                          random_state=0),
    }
    expected = {"X": X}
    for name, est in models.items():
        est.fit(X)
        est.save(HERE / name)
        (HERE / f"{name}.pickle").write_bytes(pickle.dumps(est))
        expected[f"{name}_tokens"] = est.encode(X, output="tokens")
        expected[f"{name}_embedding"] = est.encode(X, output="embedding")
        expected[f"{name}_histogram"] = est.encode(X, output="histogram")
        expected[f"{name}_reconstruction"] = est.reconstruct(X)
    np.savez(HERE / "expected.npz", **expected)


if __name__ == "__main__":
    main()
