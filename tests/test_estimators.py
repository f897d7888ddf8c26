"""Behaviour of the two estimators' shared API: outputs, state, reproducibility, persistence."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer
from btvqvae.training import LOSS_COMPONENTS, NonFiniteLossError

from ._helpers import ESTIMATORS, make_tiny, toy_series


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda c: c.__name__)
def fitted(request):
    X, _ = toy_series()
    return make_tiny(request.param).fit(X), X


def _state(est):
    return {k: v.clone() for k, v in est.net_.module_.state_dict().items()}


@pytest.mark.parametrize("output", ["embedding", "tokens", "histogram"])
def test_output_modes_have_documented_shapes_and_values(fitted, output):
    est, X = fitted
    Z = clone(est).set_params(output=output).fit(X).transform(X)
    code_dim, f, w = est.latent_shape_
    assert est.n_tokens_ == f * w
    if output == "embedding":
        assert Z.shape == (len(X), est.n_tokens_ * code_dim) and Z.dtype == X.dtype
        # every latent vector is a codebook row
        codes = est.net_.module_.quantizer.codebook.numpy()
        vectors = Z.reshape(len(X), code_dim, -1).transpose(0, 2, 1).reshape(-1, code_dim)
        assert np.isclose(vectors[:, None, :], codes[None]).all(-1).any(-1).all()
    elif output == "tokens":
        assert Z.shape == (len(X), est.n_tokens_) and Z.dtype == np.int64
        assert Z.min() >= 0 and Z.max() < est.codebook_size
    else:
        assert Z.shape == (len(X), est.codebook_size)
        np.testing.assert_allclose(Z.sum(1), 1.0, rtol=1e-6)
    names = clone(est).set_params(output=output).fit(X).get_feature_names_out()
    assert len(names) == Z.shape[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_of_input_is_kept_in_embedding_and_reconstruction(dtype):
    X, _ = toy_series(dtype=dtype)
    est = make_tiny(VQVAETransformer).fit(X)
    assert est.transform(X).dtype == dtype
    assert est.inverse_transform(est.transform(X)).dtype == dtype


def test_fitted_attributes_describe_training(fitted):
    est, X = fitted
    assert est.n_channels_ == 1 and est.n_timepoints_ == X.shape[2]
    assert est.codebook_usage_.shape == (est.codebook_size,)
    assert est.codebook_usage_.sum() == pytest.approx(1.0)
    assert 1.0 <= est.perplexity_ <= est.codebook_size
    assert len(est.loss_curve_) == est.n_iter_ == len(est.net_.history)
    assert est.mean_ == pytest.approx(X.mean()) and est.scale_ == pytest.approx(X.std())


def test_every_loss_component_is_recorded_per_batch(fitted):
    est, _ = fitted
    batches = est.net_.history[-1, "batches"]
    for batch in batches:
        assert set(LOSS_COMPONENTS) <= set(batch)
        parts = batch["time_mse"] + batch["tf_mse"] + est.commitment_weight * batch["commitment"]
        parts += getattr(est, "gamma", 0.0) * batch["barlow_twins"]
        assert batch["train_loss"] == pytest.approx(parts, rel=1e-5)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_same_random_state_gives_bit_identical_output(cls):
    X, _ = toy_series()
    a = make_tiny(cls, random_state=7).fit(X)
    b = make_tiny(cls, random_state=7).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.loss_curve_ == b.loss_curve_
    c = make_tiny(cls, random_state=8).fit(X)
    assert not np.array_equal(a.transform(X), c.transform(X))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fit_leaves_global_rngs_untouched(cls):
    X, _ = toy_series()
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    make_tiny(cls, random_state=0).fit(X)
    make_tiny(cls, random_state=None).fit(X)
    assert torch.equal(torch_state, torch.get_rng_state())
    after = np.random.get_state()
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])
    assert np_state[2:] == after[2:]


def test_transform_does_not_change_fitted_state(fitted):
    est, X = fitted
    before, n_epochs = _state(est), len(est.net_.history)
    est.transform(X)
    est.encode(X, output="tokens")
    est.inverse_transform(est.transform(X))
    est.reconstruct(X)
    after = _state(est)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert len(est.net_.history) == n_epochs and not est.net_.module_.training


def test_inputs_are_never_mutated(fitted):
    est, X = fitted
    X_copy = X.copy()
    clone(est).fit(X)
    Z = est.transform(X)
    Z_copy = Z.copy()
    est.inverse_transform(Z)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(Z, Z_copy)


@pytest.mark.parametrize("dumps, loads", [
    (pickle.dumps, pickle.loads),
    (lambda e: _joblib_bytes(e), lambda b: joblib.load(io.BytesIO(b))),
])
def test_pickle_and_joblib_round_trips_give_identical_transform(fitted, dumps, loads):
    est, X = fitted
    restored = loads(dumps(est))
    np.testing.assert_array_equal(est.transform(X), restored.transform(X))
    np.testing.assert_array_equal(est.inverse_transform(est.transform(X)),
                                  restored.inverse_transform(restored.transform(X)))


def _joblib_bytes(est):
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    return buffer.getvalue()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only loading path")
def test_model_saved_from_cuda_loads_and_transforms_on_a_cpu_only_machine(fitted):
    est, X = fitted
    gpu_like = pickle.loads(pickle.dumps(est))
    # What a GPU fit leaves behind: skorch pickles the device it trained on.
    gpu_like.net_.device = "cuda"
    gpu_like.device_ = "cuda"
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        restored = pickle.loads(pickle.dumps(gpu_like))
    assert str(restored.net_.device) == "cpu" and restored.device_ == "cpu"
    np.testing.assert_array_equal(est.transform(X), restored.transform(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback without a GPU")
def test_cuda_request_without_gpu_warns_and_trains_on_cpu():
    X, _ = toy_series()
    with pytest.warns(UserWarning, match="CUDA is not available"):
        est = make_tiny(VQVAETransformer, device="cuda").fit(X)
    assert est.device_ == "cpu"
    assert make_tiny(VQVAETransformer, device="auto").fit(X).device_ == "cpu"


def test_inverse_transform_restores_rank_dtype_and_scale_of_training_input():
    X3, _ = toy_series()
    X3 = X3 * 50 + 1000  # far from standardised: decoding must undo the scaling
    X2 = X3[:, 0, :]
    for X in (X3, X2):
        est = make_tiny(VQVAETransformer, max_steps=30).fit(X)
        X_hat = est.inverse_transform(est.transform(X))
        assert X_hat.shape == X.shape and X_hat.dtype == X.dtype
        assert abs(X_hat.mean() - X.mean()) < 0.5 * X.std()
        tokens = est.set_params(output="tokens").transform(X)
        np.testing.assert_allclose(est.inverse_transform(tokens), X_hat, rtol=1e-5, atol=1e-3)


def test_edited_tokens_decode_to_a_different_series(fitted):
    est, X = fitted
    est = clone(est).set_params(output="tokens").fit(X)
    tokens = est.transform(X[:1])
    edited = tokens.copy()
    edited[0, : est.n_tokens_ // 2] = (edited[0, : est.n_tokens_ // 2] + 1) % est.codebook_size
    assert not np.allclose(est.inverse_transform(tokens), est.inverse_transform(edited))
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 4\)"):
        est.inverse_transform(np.full_like(tokens, est.codebook_size))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_centred_latents_decode_tokens_through_the_position_means(cls):
    X, _ = toy_series()
    plain = make_tiny(cls).fit(X)
    assert not any("latent_mean" in k for k in plain.net_.module_.state_dict())  # reference
    est = make_tiny(cls, center_latents=True, output="tokens").fit(X)
    means = est.net_.module_.quantizer.latent_mean
    assert means.shape == est.latent_shape_ and means.abs().sum() > 0
    tokens = est.transform(X)
    embedding = est.encode(X, output="embedding").reshape(len(X), *est.latent_shape_)
    codebook = est.net_.module_.quantizer.codebook.numpy()
    grid = tokens.reshape(len(X), *est.latent_shape_[1:])
    expected = np.moveaxis(codebook[grid], -1, 1) + means.numpy()
    np.testing.assert_allclose(embedding, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(est.inverse_transform(tokens), est.reconstruct(X), atol=1e-5)


def test_histogram_output_cannot_be_decoded(fitted):
    est, X = fitted
    est = clone(est).set_params(output="histogram").fit(X)
    with pytest.raises(ValueError, match="histogram"):
        est.inverse_transform(est.transform(X))
    assert est.reconstruct(X).shape == X.shape  # reconstruct works in every mode


def test_non_finite_loss_stops_fit_naming_the_epoch():
    class Poison(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                with torch.no_grad():
                    for p in net.module_.decoder.parameters():
                        p.fill_(float("nan"))

    X, _ = toy_series()
    est = make_tiny(VQVAETransformer, max_steps=None, max_epochs=5, callbacks=[Poison()])
    with pytest.raises(NonFiniteLossError, match="in epoch 3"):
        est.fit(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_keyboard_interrupt_leaves_a_usable_fitted_estimator(cls):
    class CtrlC(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    X, _ = toy_series()
    est = make_tiny(cls, max_steps=None, max_epochs=10, callbacks=[CtrlC()]).fit(X)
    assert est.n_iter_ == 2
    assert est.transform(X).shape[0] == len(X)
    assert est.inverse_transform(est.transform(X)).shape == X.shape


def test_clone_gives_a_fresh_untrained_estimator(fitted):
    est, _ = fitted
    fresh = clone(est)
    assert not hasattr(fresh, "net_")
    assert fresh.get_params() == est.get_params()


def test_budget_in_steps_is_rounded_up_to_whole_epochs():
    X, _ = toy_series(n=20)  # batch 8 -> 3 steps per epoch
    est = make_tiny(VQVAETransformer, max_steps=7).fit(X)
    assert est.n_iter_ == 3
    assert sum(len(e["batches"]) for e in est.net_.history) == 9
    est = make_tiny(VQVAETransformer, max_steps=100, max_epochs=2).fit(X)
    assert est.n_iter_ == 2


def test_multivariate_series_are_encoded_and_decoded():
    X, _ = toy_series(channels=3)
    est = make_tiny(BarlowTwinsVQVAETransformer).fit(X)
    assert est.n_channels_ == 3
    assert est.inverse_transform(est.transform(X)).shape == X.shape


@pytest.mark.parametrize("length", [1, 2, 3, 8, 9])
def test_very_short_series_are_handled(length):
    X, _ = toy_series(length=length)
    est = make_tiny(BarlowTwinsVQVAETransformer).fit(X)
    assert est.inverse_transform(est.transform(X)).shape == X.shape


def test_bfloat16_precision_trains_and_its_tokens_mostly_match_float32_inference():
    X, _ = toy_series()
    est = make_tiny(VQVAETransformer, precision="bfloat16", max_steps=10, output="tokens").fit(X)
    assert np.isfinite(est.loss_curve_).all()
    bf16_tokens = est.transform(X)
    fp32_tokens = est.set_params(precision="float32").transform(X)  # inference precision
    assert np.mean(fp32_tokens == bf16_tokens) > 0.9


def test_reference_preset_builds_the_thesis_architecture():
    import torch.nn as nn

    from btvqvae.presets import reference_params

    est = BarlowTwinsVQVAETransformer(**reference_params("bt"))
    assert est.max_epochs == 1500 and est.max_steps is None and est.train_projector
    assert not BarlowTwinsVQVAETransformer(**reference_params("bt", frozen_projector=True)
                                           ).train_projector
    est.n_channels_, est.n_timepoints_ = 1, 140
    module = est._new_module(torch.Generator().manual_seed(0))
    linears = [m for m in module.projector.modules() if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linears] == [4096, 4096, 4096]
    assert module.latent_shape == (64, 5, 8)  # 140 / 2 / 8 -> rate 9 -> 3 halvings of 71
    n_res = sum(type(m).__name__ == "ResBlock" for m in module.encoder.modules())
    assert n_res == 4
    assert VQVAETransformer(**reference_params("vqvae")).hidden_dim == 64
    with pytest.raises(ValueError, match="'vqvae' or 'bt'"):
        reference_params("transformer")
