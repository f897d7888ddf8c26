"""Residual quantization and the continuous / pooled read-outs through the estimators."""

import numpy as np
import pytest
from sklearn.base import clone

from btvqvae.persistence import load

from ._helpers import ESTIMATORS, make_tiny, toy_series

X, _ = toy_series(n=16, length=32)


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda c: c.__name__)
def residual(request):
    return make_tiny(request.param, n_quantizers=3, output="tokens").fit(X)


def test_residual_tokens_have_a_stage_axis_and_decode(residual):
    s, f, w = residual.token_shape_
    assert s == 3 and (f, w) == residual.latent_shape_[1:]
    tokens = residual.transform(X)
    assert tokens.shape == (len(X), residual.n_tokens_) == (len(X), s * f * w)
    assert tokens.dtype == np.int64 and 0 <= tokens.min() and tokens.max() < 4
    np.testing.assert_allclose(residual.inverse_transform(tokens), residual.reconstruct(X))
    assert residual.encode(X, output="histogram").shape == (len(X), 3 * 4)
    np.testing.assert_allclose(residual.encode(X, output="histogram").sum(1), 3.0)


def test_residual_model_reconstructs_at_least_as_well_as_its_first_stage(residual):
    single = clone(residual).set_params(n_quantizers=1).fit(X)
    error = np.mean((residual.reconstruct(X) - X) ** 2)
    assert np.isfinite(error) and error < 10 * np.mean((single.reconstruct(X) - X) ** 2)


def test_residual_model_saves_and_loads(residual, tmp_path):
    residual.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert loaded.token_shape_ == residual.token_shape_
    np.testing.assert_array_equal(loaded.transform(X), residual.transform(X))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_latent_output_is_continuous_and_decodes(cls):
    est = make_tiny(cls, output="latent").fit(X)
    Z = est.transform(X)
    d, f, w = est.latent_shape_
    assert Z.shape == (len(X), d * f * w) and Z.dtype == X.dtype
    assert not np.array_equal(Z, est.encode(X, output="embedding"))  # not quantized
    # every batch runs at one size, so a series' latents do not depend on the call
    np.testing.assert_array_equal(est.transform(X[3:4]), Z[3:4])
    np.testing.assert_array_equal(est.transform(X[::3]), Z[::3])
    assert est.inverse_transform(Z).shape == X.shape


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_pooled_output_is_shift_free_and_cannot_be_decoded(cls):
    est = make_tiny(cls, output="pooled").fit(X)
    Z = est.transform(X)
    d, f, _ = est.latent_shape_
    assert Z.shape == (len(X), 2 * d * f)
    with pytest.raises(ValueError, match="output='pooled' cannot be decoded"):
        est.inverse_transform(Z)


def test_bad_n_quantizers_is_reported_at_fit():
    with pytest.raises(ValueError, match="n_quantizers must be >= 1"):
        make_tiny(ESTIMATORS[0], n_quantizers=0).fit(X)


def test_token_plots_stack_the_stages_of_a_residual_model(residual):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from btvqvae.plotting import plot_tokens

    ax = plot_tokens(residual, X[0])
    s, f, w = residual.token_shape_
    assert ax.images[0].get_array().shape == (s * f, w)
    assert "stage" in ax.get_ylabel()
    plt.close(ax.figure)


def test_decode_tokens_example_edits_a_residual_model(tmp_path):
    from .test_examples import TINY, load_example

    result = load_example("decode_tokens").main(
        [*TINY, "--model", "vqvae", "--param", "n_quantizers=2", "--param",
         "downsampled_width=8", "--plot",
         str(tmp_path / "grid.png")])
    assert result["tokens_shape"][1] == 2 * 5 * 9 and 0.0 < result["fraction_edited"] <= 1.0
