"""The 3-D outputs for aeon's time-series classifiers: ``output="sequence"``, the quantized
vectors as a collection (n, D·F, T'), and ``output="decoded"``, the series the tokens decode
to (n, C, L)."""

import copy

import numpy as np
import pytest
import torch
from sklearn.linear_model import RidgeClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from btvqvae import VQVAETransformer

from ._helpers import ESTIMATORS, make_tiny, toy_series

X, y = toy_series(n=24, channels=2)


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda c: c.__name__)
def fitted(request):
    return make_tiny(request.param, output="sequence").fit(X)


def test_sequence_is_the_embedding_as_channels_by_token_steps(fitted):
    Z = fitted.transform(X)
    d, f, t = fitted.net_.module_.latent_shape
    assert Z.shape == (len(X), d * f, t) and Z.dtype == X.dtype
    assert Z.shape[1:] == (fitted._n_features_out // t, t)
    embedding = fitted.encode(X, output="embedding")  # flattened in (code_dim, freq, time)
    np.testing.assert_array_equal(Z, embedding.reshape(len(X), d * f, t))
    Z32 = fitted.transform(X.astype(np.float32))
    assert Z32.dtype == np.float32 and Z32.shape == Z.shape


def test_sequence_decodes_like_the_embedding(fitted):
    Z = fitted.transform(X)
    decoded = fitted.inverse_transform(Z)
    assert decoded.shape == X.shape and decoded.dtype == X.dtype
    as_embedding = copy.copy(fitted).set_params(output="embedding")
    np.testing.assert_array_equal(
        decoded, as_embedding.inverse_transform(Z.reshape(len(X), -1)))


def test_sequence_refuses_codes_of_another_shape(fitted):
    Z = fitted.transform(X)
    _, channels, steps = Z.shape
    for bad in (Z.reshape(len(X), -1), Z[:, :-1], Z[:, :, :-1], Z[..., None], Z[0]):
        with pytest.raises(ValueError, match=rf"shape \(n_cases, {channels}, {steps}\).*"
                                             "'sequence'"):
            fitted.inverse_transform(bad)
    with pytest.raises(ValueError, match="NaN"):
        fitted.inverse_transform(np.where(Z == Z[0, 0, 0], np.nan, Z))


def test_a_3d_output_has_no_feature_names(fitted):
    with pytest.raises(ValueError, match="'sequence' returns a 3-D collection"):
        fitted.get_feature_names_out()


def test_the_default_output_stays_2d():
    assert VQVAETransformer().output == "embedding"
    assert make_tiny(VQVAETransformer).fit(X).transform(X).ndim == 2


def _aeon_readout(name: str) -> list:
    """The steps after the tokenizer: an aeon transformer and a linear model, or an aeon
    classifier, each small enough for a unit test."""
    from aeon.classification import convolution_based as classifiers
    from aeon.transformations.collection import convolution_based as convolution

    ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
    return {
        "MiniRocket": lambda: [convolution.MiniRocket(n_kernels=84, random_state=0), ridge],
        "MultiRocket": lambda: [convolution.MultiRocket(n_kernels=84, random_state=0),
                                StandardScaler(), ridge],
        "HydraTransformer": lambda: [convolution.HydraTransformer(
            n_groups=8, random_state=0, output_type="numpy"), StandardScaler(), ridge],
        "HydraClassifier": lambda: [classifiers.HydraClassifier(n_groups=8, random_state=0)],
        "MiniRocketClassifier": lambda: [classifiers.MiniRocketClassifier(
            n_kernels=84, random_state=0)],
    }[name]()


AEON_READOUTS = ["MiniRocket", "MultiRocket", "HydraTransformer", "HydraClassifier",
                 "MiniRocketClassifier"]


@pytest.fixture
def torch_threads():
    """aeon's Hydra sets torch's global thread count to its n_jobs; put it back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("readout", AEON_READOUTS)
def test_sequence_feeds_aeon_readouts_in_a_pipeline(readout, torch_threads):
    X_train, y_train = toy_series(n=40, length=64, seed=0)
    X_test, y_test = toy_series(n=40, length=64, seed=1)
    clf = make_pipeline(make_tiny(VQVAETransformer, output="sequence", max_steps=20,
                                  downsampled_width=16),  # 16 steps: MiniRocket needs 9
                        *_aeon_readout(readout))
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.8  # chance is 0.5


@pytest.mark.parametrize("readout", ["MiniRocket", "HydraClassifier"])
def test_pretrained_sequence_feeds_aeon_readouts_with_no_training(readout, torch_threads):
    X_train, y_train = toy_series(n=40, length=64, seed=0)
    X_test, y_test = toy_series(n=40, length=64, seed=1)
    clf = make_pipeline(VQVAETransformer(init="pretrained", max_steps=0, output="sequence"),
                        *_aeon_readout(readout))
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.8


@pytest.mark.parametrize("channels", [1, 3])
def test_a_pretrained_tokenizer_gives_32_steps_of_32x5_channels_per_input_channel(channels):
    X_c, _ = toy_series(n=4, channels=channels, length=50)
    est = VQVAETransformer(init="pretrained", max_steps=0, output="sequence").fit(X_c)
    Z = est.transform(X_c)
    assert Z.shape == (4, 32 * 5 * channels, 32)
    np.testing.assert_array_equal(
        Z.reshape(4, -1), est.encode(X_c, output="embedding"))
    assert est.inverse_transform(Z).shape == X_c.shape


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_decoded_is_the_reconstruction_from_the_tokens_alone(cls):
    X2, _ = toy_series(n=12, channels=2)
    est = make_tiny(cls, output="decoded").fit(X2)
    D = est.transform(X2)
    assert D.shape == X2.shape and D.dtype == X2.dtype
    np.testing.assert_allclose(D, est.reconstruct(X2), rtol=0, atol=1e-12)
    as_tokens = copy.copy(est).set_params(output="tokens")
    np.testing.assert_allclose(D, as_tokens.inverse_transform(as_tokens.transform(X2)),
                               rtol=0, atol=1e-12)
    assert not np.allclose(D, X2, atol=1e-3)  # a reconstruction: the tokens lose detail
    D32 = est.transform(X2.astype(np.float32))
    assert D32.dtype == np.float32 and D32.shape == D.shape


def test_decoded_of_univariate_2d_input_is_one_channel():
    est = make_tiny(VQVAETransformer, output="decoded").fit(X[:, 0])
    assert est.transform(X[:, 0]).shape == (len(X), 1, X.shape[-1])


def test_decoded_is_already_series_so_inverse_transform_says_which_output_decodes():
    est = make_tiny(VQVAETransformer, output="decoded").fit(X)
    with pytest.raises(ValueError, match="output='decoded' cannot be decoded.*'tokens'"):
        est.inverse_transform(est.transform(X))
    with pytest.raises(ValueError, match="'decoded' returns a 3-D collection"):
        est.get_feature_names_out()


def test_pretrained_decoded_is_shape_at_the_data_level_not_each_series_level():
    """The shipped tokenizer's tokens hold shape only: "decoded" is inverse_transform of the
    tokens (the training data's mean and scale), unlike reconstruct, which gives each series
    its own level and spread back."""
    X_c = X * np.linspace(1, 5, len(X))[:, None, None] + np.arange(len(X))[:, None, None]
    est = VQVAETransformer(init="pretrained", max_steps=0, output="decoded").fit(X_c)
    D = est.transform(X_c)
    tokens = est.encode(X_c, output="tokens")
    np.testing.assert_allclose(D, copy.copy(est).set_params(output="tokens")
                               .inverse_transform(tokens), rtol=0, atol=1e-9)
    assert not np.allclose(D, est.reconstruct(X_c))


@pytest.mark.parametrize("readout", ["MiniRocket", "HydraClassifier"])
def test_decoded_feeds_aeon_readouts_in_a_pipeline(readout, torch_threads):
    X_train, y_train = toy_series(n=40, length=64, seed=0)
    X_test, y_test = toy_series(n=40, length=64, seed=1)
    clf = make_pipeline(make_tiny(VQVAETransformer, output="decoded", max_steps=20),
                        *_aeon_readout(readout))
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.8
