"""Tokenize and decode with the installed btvqvae, as a user who pip-installed the wheel would.

Run by .ci/run with a clean virtual environment's python, from a folder outside the checkout:
the script's own folder (.ci/) is first on sys.path, never the repository root, and it fails
if ``btvqvae`` was imported from the checkout anyway.
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from aeon.datasets import load_gunpoint

import btvqvae
from btvqvae import VQVAETransformer

CHECKOUT = Path(__file__).resolve().parent.parent


def main() -> None:
    start = time.perf_counter()
    installed = Path(btvqvae.__file__).resolve()
    if CHECKOUT in installed.parents:
        sys.exit(f"wheel_smoke: btvqvae was imported from the checkout ({installed}), "
                 "not from the installed wheel")

    X, _ = load_gunpoint(split="train")  # aeon's bundled copy: no download
    est = VQVAETransformer(max_steps=5, output="tokens", random_state=0).fit(X)
    tokens = est.transform(X)
    assert tokens.shape == (X.shape[0], est.n_tokens_), tokens.shape
    assert np.issubdtype(tokens.dtype, np.integer), tokens.dtype
    assert 0 <= tokens.min() and tokens.max() < est.codebook_size
    X_hat = est.inverse_transform(tokens)
    assert X_hat.shape == X.shape, X_hat.shape
    assert np.isfinite(X_hat).all()

    # the save format as well: a folder written by the wheel's code loads and agrees
    with tempfile.TemporaryDirectory() as folder:
        est.save(Path(folder) / "model")
        again = VQVAETransformer.load(Path(folder) / "model")
    np.testing.assert_array_equal(again.transform(X), tokens)

    # the shipped pretrained tokenizer: package data inside the wheel, verified on load
    from btvqvae.pretrained import DEFAULT, available

    assert DEFAULT in available(), f"the wheel lacks the pretrained tokenizer {DEFAULT!r}"
    zero = VQVAETransformer(init="pretrained", max_steps=0, output="tokens").fit(X)
    shared = zero.transform(X)
    assert shared.shape == (X.shape[0], zero.n_tokens_) and zero.n_iter_ == 0
    assert np.isfinite(zero.reconstruct(X)).all()

    mse = float(np.mean((X_hat - X) ** 2) / est.scale_ ** 2)
    print(f"wheel_smoke: btvqvae {btvqvae.__version__} from {installed.parent}: "
          f"{tokens.shape[0]} GunPoint series -> {tokens.shape[1]} tokens each -> decoded "
          f"{X_hat.shape}, finite, MSE {mse:.3f} after 5 steps; save/load agrees; the "
          f"pretrained {DEFAULT!r} tokenizes with no training "
          f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
