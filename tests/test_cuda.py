"""device="cuda" on a real GPU: fit, transform, decode, save/load across devices, GPU tensors.

Marked ``cuda`` and skipped without a GPU; ``python -m benchmarks.gpu_check`` runs them
(``pytest -m cuda``) on a machine that has one.
"""

import numpy as np
import pytest
import torch

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer

from ._helpers import ESTIMATORS, make_tiny, toy_series

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def _on_gpu(est) -> bool:
    return all(p.is_cuda for p in est.net_.module_.parameters())


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_fit_on_cuda_keeps_the_model_there_and_returns_numpy(cls, precision):
    X, _ = toy_series()
    est = make_tiny(cls, device="cuda", precision=precision).fit(X)
    assert est.device_ == "cuda" and _on_gpu(est)
    assert np.all(np.isfinite(est.loss_curve_))
    Z = est.transform(X)
    assert isinstance(Z, np.ndarray) and Z.dtype == X.dtype and np.all(np.isfinite(Z))
    tokens = est.encode(X, output="tokens")
    assert isinstance(tokens, np.ndarray) and tokens.dtype == np.int64
    assert tokens.min() >= 0 and tokens.max() < est.codebook_size
    decoded_z = est.inverse_transform(Z)
    decoded_tokens = est.set_params(output="tokens").inverse_transform(tokens)
    for decoded in (decoded_z, decoded_tokens):
        assert isinstance(decoded, np.ndarray) and decoded.shape == X.shape
        assert decoded.dtype == X.dtype and np.all(np.isfinite(decoded))


@pytest.mark.parametrize("device", ["auto", "cuda:0"])
def test_auto_and_an_indexed_cuda_device_train_on_the_gpu(device):
    X, _ = toy_series()
    est = make_tiny(VQVAETransformer, device=device).fit(X)
    assert est.device_.startswith("cuda") and _on_gpu(est)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_saved_on_the_gpu_loads_on_the_cpu_and_back_with_the_same_tokens(cls, tmp_path):
    X, _ = toy_series()
    est = make_tiny(cls, device="cuda", output="tokens").fit(X)
    est.save(tmp_path / "model")
    on_cpu = cls.load(tmp_path / "model", device="cpu")
    assert on_cpu.device_ == "cpu" and not any(p.is_cuda for p in
                                               on_cpu.net_.module_.parameters())
    back = cls.load(tmp_path / "model")  # the saved device: the GPU again
    assert back.device_ == "cuda" and _on_gpu(back)
    gpu_tokens = est.transform(X)
    np.testing.assert_array_equal(back.transform(X), gpu_tokens)
    # Same weights, other device: cuDNN's TF32 convolutions may move a value near a tie
    # between two codes, never many.
    assert np.mean(on_cpu.transform(X) == gpu_tokens) >= 0.95
    np.testing.assert_allclose(on_cpu.inverse_transform(gpu_tokens),
                               est.inverse_transform(gpu_tokens), atol=1e-2, rtol=1e-2)


def test_tensors_on_the_gpu_are_accepted_by_fit_transform_and_inverse_transform():
    X, _ = toy_series()
    X_gpu = torch.as_tensor(X, device="cuda")
    est = make_tiny(BarlowTwinsVQVAETransformer, device="cuda", output="tokens").fit(X_gpu)
    tokens = est.transform(X_gpu)
    np.testing.assert_array_equal(tokens, est.transform(X))
    decoded = est.inverse_transform(torch.as_tensor(tokens, device="cuda"))
    np.testing.assert_array_equal(decoded, est.inverse_transform(tokens))
    # a model trained on the CPU takes GPU tensors too
    cpu_est = make_tiny(VQVAETransformer).fit(X)
    np.testing.assert_array_equal(cpu_est.transform(X_gpu), cpu_est.transform(X))
