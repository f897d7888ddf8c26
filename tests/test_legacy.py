"""Models written by older code (tests/data/make_legacy.py at b6cbf14) still load and agree."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer
from btvqvae.persistence import load

DATA = Path(__file__).parent / "data" / "legacy_b6cbf14"
EXPECTED = np.load(DATA / "expected.npz")
CLASSES = {"vqvae": VQVAETransformer, "bt": BarlowTwinsVQVAETransformer}


# The fixture pickles were written under numpy 2, whose pickles numpy 1 cannot read.
NUMPY_2 = pytest.mark.skipif(int(np.__version__.split(".")[0]) < 2,
                             reason="pickles written under numpy 2 need numpy >= 2")


def _load_pickle(name):
    return pickle.loads((DATA / f"{name}.pickle").read_bytes())


def _load_folder(name):
    # folders written before weights.pt had a recorded checksum: loading says so
    with pytest.warns(UserWarning, match="without a checksum"):
        return load(DATA / name)


@pytest.mark.parametrize("loader", [_load_folder, pytest.param(_load_pickle, marks=NUMPY_2)],
                         ids=["folder", "pickle"])
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_legacy_models_give_the_outputs_they_gave_when_saved(name, loader):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no other warning: same major version
        est = loader(name)
    assert type(est) is CLASSES[name]
    X = EXPECTED["X"]
    np.testing.assert_array_equal(est.encode(X, output="tokens"), EXPECTED[f"{name}_tokens"])
    for output in ("embedding", "histogram"):
        np.testing.assert_allclose(est.encode(X, output=output), EXPECTED[f"{name}_{output}"],
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(est.reconstruct(X), EXPECTED[f"{name}_reconstruction"],
                               rtol=1e-5, atol=1e-5)
    tokens = est.encode(X, output="tokens")
    np.testing.assert_allclose(est.set_params(output="tokens").inverse_transform(tokens),
                               EXPECTED[f"{name}_reconstruction"], rtol=1e-5, atol=1e-5)


@NUMPY_2
def test_legacy_pickled_bt_net_keeps_its_loss_weights_and_refits():
    est = _load_pickle("bt")
    assert est.net_.lambd == est.lambd == 0.005 and est.net_.gamma == est.gamma
    assert est.net_.input_scale == est.scale_
    X = EXPECTED["X"]
    refit = est.fit(X)
    assert refit.encode(X, output="tokens").shape == EXPECTED["bt_tokens"].shape


@NUMPY_2
def test_parameters_added_later_take_the_value_of_the_code_that_saved(monkeypatch):
    # Whatever the defaults become, a folder or pickle without n_quantizers was written by
    # a single-codebook model: LEGACY_VALUES, not the signature default, rebuilds it.
    from btvqvae import _base

    for loader in (_load_folder, _load_pickle):
        assert loader("vqvae").n_quantizers == 1
    monkeypatch.setitem(_base.LEGACY_VALUES, "n_quantizers", 2)
    assert _load_pickle("vqvae").n_quantizers == 2
    with pytest.warns(UserWarning, match="checksum"), \
            pytest.raises(ValueError, match="do not fit the architecture"):
        load(DATA / "vqvae")
