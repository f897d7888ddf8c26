"""``output="sequence"``: the quantized vectors as aeon's 3-D collection (n, D·F, T')."""

import copy

import numpy as np
import pytest
from sklearn.linear_model import RidgeClassifierCV
from sklearn.pipeline import make_pipeline

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


def test_sequence_feeds_minirocket_in_a_pipeline():
    convolution = pytest.importorskip("aeon.transformations.collection.convolution_based")
    X_train, y_train = toy_series(n=40, length=64, seed=0)
    X_test, y_test = toy_series(n=40, length=64, seed=1)
    clf = make_pipeline(make_tiny(VQVAETransformer, output="sequence", max_steps=20,
                                  downsampled_width=16),  # 16 steps: MiniRocket needs 9
                        convolution.MiniRocket(n_kernels=84, random_state=0),
                        RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.8  # chance is 0.5


@pytest.mark.parametrize("channels", [1, 3])
def test_a_pretrained_tokenizer_gives_32_steps_of_32x5_channels_per_input_channel(channels):
    X_c, _ = toy_series(n=4, channels=channels, length=50)
    est = VQVAETransformer(init="pretrained", max_steps=0, output="sequence").fit(X_c)
    Z = est.transform(X_c)
    assert Z.shape == (4, 32 * 5 * channels, 32)
    np.testing.assert_array_equal(
        Z.reshape(4, -1), est.encode(X_c, output="embedding"))
    assert est.inverse_transform(Z).shape == X_c.shape
