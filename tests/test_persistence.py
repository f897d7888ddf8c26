import copy
import hashlib
import json
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer, persistence
from btvqvae.persistence import FITTED_ATTRIBUTES, load, save

TINY = dict(hidden_dim=4, n_res_blocks=1, codebook_size=4, max_steps=3, random_state=0)
OUTPUTS = ("embedding", "tokens", "histogram")


def _series(n=12, length=32, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)
    freq = rng.integers(1, 4, size=(n, 1))
    return np.sin(2 * np.pi * freq * t) + 0.1 * rng.standard_normal((n, length))


@pytest.fixture(scope="module")
def fitted():
    """Both estimator classes, each with the data it was fitted on.

    The VQ-VAE sees a 2-D float64 DataFrame (feature names, input_ndim_=2); the BT-VQVAE a
    3-D float32 array, so dtype_ and the rank of the input are exercised both ways; the
    BT-VQVAE also centres its latents, so the quantizer's position means must round-trip.
    """
    X_2d = _series()
    frame = pd.DataFrame(X_2d, columns=[f"t{i}" for i in range(X_2d.shape[1])])
    X_3d = _series(seed=1)[:, None, :].astype(np.float32)
    return {
        "vqvae": (VQVAETransformer(**TINY).fit(frame), frame),
        "bt": (BarlowTwinsVQVAETransformer(projector_dims=(8, 8), center_latents=True,
                                           **TINY).fit(X_3d), X_3d),
    }


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    root = tmp_path_factory.mktemp("saved")
    return {name: save(est, root / name) for name, (est, _) in fitted.items()}


@pytest.fixture(params=["vqvae", "bt"])
def case(request, fitted, saved):
    est, X = fitted[request.param]
    return est, X, load(saved[request.param]), saved[request.param]


def _record_checksum(path):
    document = json.loads((path / "params.json").read_text())
    document["weights_sha256"] = hashlib.sha256((path / "weights.pt").read_bytes()).hexdigest()
    (path / "params.json").write_text(json.dumps(document))


def _edit_params(src, dst, edit):
    dst.mkdir()
    for name in ("params.json", "weights.pt"):
        (dst / name).write_bytes((src / name).read_bytes())
    document = json.loads((dst / "params.json").read_text())
    edit(document)
    (dst / "params.json").write_text(json.dumps(document))
    return dst


# ------------------------------------------------------------------------------ round trip
def test_save_writes_params_json_and_weights_in_a_folder(saved):
    for path in saved.values():
        assert path.is_dir()
        assert {"params.json", "weights.pt", "history.json"} <= {p.name for p in path.iterdir()}
        assert json.loads((path / "params.json").read_text())["format"] == persistence.FORMAT


@pytest.mark.parametrize("output", OUTPUTS)
def test_loaded_estimator_encodes_identically_in_every_output_mode(case, output):
    est, X, loaded, _ = case
    expected = est.encode(X, output=output)
    got = loaded.encode(X, output=output)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_loaded_estimator_transforms_identically(case):
    est, X, loaded, _ = case
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_loaded_estimator_decodes_identically(case):
    est, X, loaded, _ = case
    for output in ("embedding", "tokens"):
        a, b = copy.copy(est).set_params(output=output), copy.copy(loaded).set_params(output=output)
        Z = a.transform(X)
        np.testing.assert_array_equal(b.inverse_transform(Z), a.inverse_transform(Z))
    np.testing.assert_array_equal(loaded.reconstruct(X), est.reconstruct(X))


def test_loaded_estimator_has_the_saved_parameters_and_fitted_attributes(case):
    est, _, loaded, _ = case
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    for name in FITTED_ATTRIBUTES:
        a, b = getattr(est, name), getattr(loaded, name)
        assert type(b) is type(a), name
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(b, a)
            assert b.dtype == a.dtype
        else:
            assert b == a, name
    if hasattr(est, "feature_names_in_"):
        np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    else:
        assert not hasattr(loaded, "feature_names_in_")


def test_feature_names_and_tuple_parameters_survive(fitted, saved):
    vq = load(saved["vqvae"])
    assert list(vq.feature_names_in_) == list(fitted["vqvae"][0].feature_names_in_)
    assert vq.input_ndim_ == 2
    bt = load(saved["bt"])
    assert bt.projector_dims == (8, 8) and bt.dtype_ == np.float32


def test_loaded_net_is_on_the_cpu_in_eval_mode_with_its_history(case):
    est, _, loaded, _ = case
    assert loaded.net_.device == "cpu" and loaded.device_ == "cpu"
    assert not loaded.net_.module_.training
    assert len(loaded.net_.history) == est.n_iter_
    assert loaded.loss_curve_ == est.loss_curve_


def test_saved_output_mode_is_restored(fitted, tmp_path):
    est, X = fitted["bt"]
    tokens = copy.copy(est).set_params(output="tokens")
    loaded = load(save(tokens, tmp_path / "tokens"))
    assert loaded.output == "tokens"
    np.testing.assert_array_equal(loaded.transform(X), est.encode(X, output="tokens"))


def test_model_without_history_file_still_loads(fitted, saved, tmp_path):
    est, X = fitted["bt"]
    path = _edit_params(saved["bt"], tmp_path / "nohistory", lambda d: None)
    loaded = load(path)
    assert len(loaded.net_.history) == 0 and loaded.loss_curve_ == est.loss_curve_
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_named_augmentations_are_saved(fitted, tmp_path):
    est, _ = fitted["bt"]
    steps = ["flip", ("jitter", {"std": 0.05})]
    loaded = load(save(copy.copy(est).set_params(augmentations=steps), tmp_path / "aug"))
    assert loaded.augmentations == steps
    assert isinstance(loaded.augmentations[1], tuple)


# --------------------------------------------------------------------- what cannot be saved
def test_callbacks_and_a_random_state_instance_are_dropped_with_a_note(fitted, tmp_path):
    est, X = fitted["vqvae"]
    unsavable = copy.copy(est).set_params(callbacks=[("noop", Callback())],
                                          random_state=np.random.RandomState(0))
    with pytest.warns(UserWarning) as record:
        path = save(unsavable, tmp_path / "cb")
    messages = sorted(str(w.message) for w in record)
    assert messages[0].startswith("callbacks not saved")
    assert messages[1].startswith("random_state not saved")
    dropped = json.loads((path / "params.json").read_text())["dropped_params"]
    assert set(dropped) == {"callbacks", "random_state"}
    loaded = load(path)
    assert loaded.callbacks is None and loaded.random_state is None
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_callable_augmentations_are_refused_before_anything_is_written(fitted, tmp_path):
    est, _ = fitted["bt"]
    custom = copy.copy(est).set_params(augmentations=[lambda x, generator=None: x])
    with pytest.raises(TypeError, match="pickle"):
        save(custom, tmp_path / "custom")
    assert not (tmp_path / "custom").exists()


def test_saving_an_unfitted_estimator_raises_not_fitted_error(tmp_path):
    with pytest.raises(NotFittedError):
        save(VQVAETransformer(), tmp_path / "unfitted")


# ----------------------------------------------------------------------------- versions
def test_model_from_another_minor_version_loads_silently(fitted, saved, tmp_path):
    est, X = fitted["vqvae"]
    path = _edit_params(saved["vqvae"], tmp_path / "minor",
                        lambda d: d.update(btvqvae_version="0.99.7"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load(path)
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_model_from_another_major_version_warns_and_loads(fitted, saved, tmp_path):
    est, X = fitted["vqvae"]
    path = _edit_params(saved["vqvae"], tmp_path / "major",
                        lambda d: d.update(btvqvae_version="7.0.0"))
    with pytest.warns(UserWarning, match="btvqvae 7.0.0"):
        loaded = load(path)
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_weights_of_another_architecture_raise_value_error_naming_the_keys(saved, tmp_path):
    path = _edit_params(saved["bt"], tmp_path / "wider",
                        lambda d: d["params"].update(hidden_dim=8))
    with pytest.raises(ValueError, match=r"incompatible keys: .*encoder.*saved \(4"):
        load(path)


def test_weights_missing_a_key_raise_value_error_naming_it(saved, tmp_path):
    path = _edit_params(saved["bt"], tmp_path / "partial", lambda d: None)
    state = torch.load(path / "weights.pt", weights_only=True)
    del state["quantizer.stages.0.codebook"]
    torch.save(state, path / "weights.pt")
    _record_checksum(path)  # as if a consistent save of another architecture
    with pytest.raises(ValueError, match="missing quantizer.stages.0.codebook"):
        load(path)


# ------------------------------------------------------------------------- files, devices
@pytest.mark.parametrize("remove", ["params.json", "weights.pt"])
def test_folder_missing_a_file_raises_file_not_found(saved, tmp_path, remove):
    path = _edit_params(saved["vqvae"], tmp_path / "incomplete", lambda d: None)
    (path / remove).unlink()
    with pytest.raises(FileNotFoundError, match=remove):
        load(path)


def test_missing_folder_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved model"):
        load(tmp_path / "nowhere")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_loading_onto_cuda_without_a_gpu_warns_and_uses_the_cpu(fitted, saved):
    est, X = fitted["bt"]
    with pytest.warns(UserWarning, match="CUDA is not available"):
        loaded = load(saved["bt"], device="cuda")
    assert loaded.device_ == "cpu" and loaded.net_.device == "cpu"
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_gpu_trained_model_loads_on_the_cpu_through_map_location(fitted, saved, tmp_path,
                                                                 monkeypatch):
    est, X = fitted["vqvae"]
    path = _edit_params(saved["vqvae"], tmp_path / "gpu",
                        lambda d: d["fitted"].update(device_="cuda:0"))
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    loaded = load(path)
    assert calls == [{"map_location": "cpu", "weights_only": True}]
    assert loaded.device_ == "cpu" and loaded.net_.device == "cpu"
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_pickle_and_joblib_work_for_original_and_loaded_estimators(case, tmp_path):
    est, X, loaded, _ = case
    expected = est.transform(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(X), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(loaded)).transform(X), expected)
    joblib.dump(loaded, tmp_path / "model.pkl")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.pkl").transform(X), expected)
