"""Nothing a user passes breaks an estimator, nothing it loads lies (one test per defect)."""

import hashlib
import io
import json
import os
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from btvqvae import (
    BarlowTwinsVQVAETransformer,
    CorruptModelError,
    DataTypeError,
    NonFiniteLossError,
    VQVAETransformer,
)
from btvqvae._base import OUTPUTS
from btvqvae.persistence import load
from btvqvae.preprocessing import global_mean_std, safe_scale

from ._helpers import make_tiny, toy_series
from .test_cli import run

X, _ = toy_series(n=16, length=32)


@pytest.fixture(scope="module")
def fitted():
    return make_tiny(VQVAETransformer, max_steps=8).fit(X)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, fitted):
    path = tmp_path_factory.mktemp("robust") / "model"
    fitted.save(path)
    return path


# -- input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_fft", [5, 9, 33])
def test_odd_n_fft_is_refused_at_fit_with_the_even_neighbours(n_fft):
    with pytest.raises(ValueError, match=rf"n_fft must be even.*{n_fft - 1} or {n_fft + 1}"):
        make_tiny(VQVAETransformer, n_fft=n_fft).fit(X)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.int64])
def test_torch_tensors_are_taken_everywhere(fitted, dtype):
    tensor = torch.as_tensor(X * (10 if dtype == torch.int64 else 1)).to(dtype)
    make_tiny(VQVAETransformer, max_steps=1).fit(tensor)
    expected = fitted.encode(tensor.numpy(), output="tokens")
    np.testing.assert_array_equal(fitted.encode(tensor, output="tokens"), expected)
    assert fitted.transform(tensor).shape[0] == len(X)
    assert fitted.reconstruct(tensor).shape == X.shape
    Z = fitted.transform(X)
    from_tensor = fitted.inverse_transform(torch.as_tensor(Z).requires_grad_(True))
    np.testing.assert_allclose(from_tensor, fitted.inverse_transform(Z))


@pytest.mark.parametrize("output", OUTPUTS)
def test_every_output_takes_torch_tensors_like_arrays(fitted, output):
    expected = fitted.encode(X, output=output)
    got = fitted.encode(torch.as_tensor(X, dtype=torch.float64), output=output)
    if output == "bag":
        assert (got != expected).nnz == 0
    else:
        np.testing.assert_array_equal(got, expected)


def test_every_output_of_data_far_beyond_float32_is_finite():
    est = make_tiny(VQVAETransformer, max_steps=2).fit(X * 1e300)
    for output in OUTPUTS:
        Z = est.encode(X * 1e300, output=output)
        assert np.isfinite(Z.data if output == "bag" else Z).all(), output
    assert np.isfinite(est.set_params(output="latent").inverse_transform(
        est.encode(X * 1e300, output="latent"))).all()


def test_standardisation_ignores_the_unit_of_the_data():
    for a in (1e-16, 1e-200, 1e-300, 1e38, 1e300):
        mean, std = global_mean_std(X * a)
        scaled = (X * a - mean) / safe_scale(mean, std)
        np.testing.assert_allclose(scaled, (X - X.mean()) / X.std(), atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(1e-300, 1e300), b=st.floats(-1e3, 1e3))
def test_affine_data_is_standardised_like_the_original(a, b):
    data = a * X + b * a
    mean, std = global_mean_std(data)
    scaled = (data - mean) / safe_scale(mean, std)
    np.testing.assert_allclose(scaled, (X - X.mean()) / X.std(), atol=1e-5)


def _standardised(data):
    mean, std = global_mean_std(data)
    return (data - mean) / safe_scale(mean, std)


@settings(max_examples=60, deadline=None)
@given(c=st.floats(-1e308, 1e308, allow_subnormal=False), shape=st.sampled_from(
    [(1, 1, 1), (3, 1, 7), (16, 2, 32), (1000, 1, 1)]))
def test_identical_values_standardise_to_exactly_zero(c, shape):
    # A plain mean of 3e38 repeated is 3e38 - 7.6e22: the rounding error became the data.
    np.testing.assert_array_equal(_standardised(np.full(shape, c)), 0.0)


@settings(max_examples=60, deadline=None)
@given(c=st.floats(1e15, 1e308) | st.floats(-1e308, -1e15), ulps=st.integers(1, 8),
       seed=st.integers(0, 2**16))
def test_a_spread_of_a_few_roundings_standardises_to_within_one(c, ulps, seed):
    # Constant up to rounding (a few ulps apart) counts as constant: no rounding step of a
    # huge mean may stay a huge "standardised" value (float32 overflow in the model).
    steps = np.random.default_rng(seed).integers(-ulps, ulps + 1, size=(8, 1, 16))
    data = c + steps * np.spacing(c)
    assert np.abs(_standardised(data)).max() <= 1.0


def test_constant_data_at_float64_precision_fits_as_a_constant_series():
    data = 3e38 + np.random.default_rng(0).standard_normal(X.shape)  # N(0, 1) rounds away
    est = make_tiny(VQVAETransformer, max_steps=2).fit(data)
    assert est.mean_ == 3e38
    zeros = make_tiny(VQVAETransformer, max_steps=2).fit(np.zeros(X.shape))
    np.testing.assert_array_equal(est.encode(data, output="tokens"),
                                  zeros.encode(np.zeros(X.shape), output="tokens"))
    assert np.isfinite(est.transform(data)).all()
    np.testing.assert_allclose(est.reconstruct(data), 3e38, rtol=1e-12)


def test_near_constant_data_of_huge_magnitude_fits_and_transforms():
    c = -3e38
    data = c + np.random.default_rng(0).integers(-3, 4, X.shape) * np.spacing(c)
    est = make_tiny(VQVAETransformer, max_steps=2).fit(data)
    assert np.isfinite(est.transform(data)).all()
    np.testing.assert_allclose(est.reconstruct(data), c, rtol=1e-12)


@pytest.mark.parametrize("k", [-60, -20, 20, 60])
def test_tokens_of_data_scaled_by_a_power_of_two_equal_those_of_the_data(fitted, k):
    est = make_tiny(VQVAETransformer, max_steps=8).fit(X * 2.0**k)
    assert est.scale_ == fitted.scale_ * 2.0**k
    np.testing.assert_array_equal(est.encode(X * 2.0**k, output="tokens"),
                                  fitted.encode(X, output="tokens"))


def test_data_at_1e_minus_16_is_standardised_and_keeps_its_series_apart():
    est = make_tiny(VQVAETransformer, max_steps=8).fit(X * 1e-16)
    assert est.scale_ != 1.0
    tokens = est.encode(X * 1e-16, output="tokens")
    assert len({row.tobytes() for row in tokens}) > 1


@pytest.mark.parametrize("factor", [1e38, 1e300])
def test_data_far_beyond_float32_is_fitted_after_standardising(factor):
    est = make_tiny(VQVAETransformer, max_steps=2).fit(X * factor)
    assert np.isfinite(est.transform(X * factor)).all()


def test_series_beyond_float32_after_scaling_are_refused(fitted):
    with pytest.raises(ValueError, match="float32"):
        fitted.transform(X * 1e40)
    with pytest.raises(ValueError, match="float32"):
        fitted.inverse_transform(fitted.transform(X).astype(np.float64) * 1e300)


def test_a_number_beyond_float64_in_an_object_array_is_refused():
    bad = X.astype(object)
    bad[0, 0, 0] = 10**400
    with pytest.raises(ValueError, match="too large for float64"):
        make_tiny(VQVAETransformer).fit(bad)


@pytest.mark.parametrize("bad, match", [
    (np.ma.array(X, mask=X > 1), "masked"),
    (X > 0, "[Bb]oolean"),
    (np.zeros(X.shape, dtype="datetime64[s]"), "datetime64"),
    (X.astype(complex), "[Cc]omplex"),
])
def test_non_numeric_kinds_are_refused_with_a_type_error(bad, match):
    with pytest.raises(TypeError, match=match):
        make_tiny(VQVAETransformer).fit(bad)


def test_complex_codes_are_refused_not_truncated(fitted):
    Z = fitted.transform(X).astype(complex)
    with pytest.raises(DataTypeError, match="[Cc]omplex"):
        fitted.inverse_transform(Z)


def test_a_model_diverged_by_its_last_update_is_not_returned():
    with pytest.raises(NonFiniteLossError, match="lower `lr`"):
        make_tiny(VQVAETransformer, lr=1e30, max_steps=1).fit(X)


@pytest.mark.parametrize("cls", [VQVAETransformer, BarlowTwinsVQVAETransformer])
def test_a_model_with_finite_weights_but_nan_outputs_is_not_returned(cls):
    # One step (the whole of X in one batch): the update leaves the weights finite but so
    # large that the activations overflow, so the loss is never seen as NaN in training.
    with pytest.raises(NonFiniteLossError, match=r"latents.*NaN or infinite.*lower `lr`"):
        make_tiny(cls, lr=1e30, max_steps=1, batch_size=len(X)).fit(X)


# -- parameters -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, params, name", [
    (VQVAETransformer, dict(hidden_dim=10**6), "hidden_dim=1000000"),
    (VQVAETransformer, dict(codebook_size=10**12), "codebook_size=1000000000000"),
    (BarlowTwinsVQVAETransformer, dict(projector_dims=(10**7,) * 2), "projector_dims"),
])
def test_absurd_sizes_are_refused_before_anything_is_allocated(cls, params, name):
    with pytest.raises(ValueError, match=rf"estimated .* over the limit.*{name}"):
        make_tiny(cls, **params).fit(X)


def test_an_n_fft_far_beyond_the_series_is_refused():
    with pytest.raises(ValueError, match="n_fft=1000000 is more than twice .* n_fft <= 64"):
        make_tiny(VQVAETransformer, n_fft=10**6).fit(X)


@pytest.mark.parametrize("callbacks", ["foo", [1], 5, [("name",)], [("name", 3)]])
def test_callbacks_that_are_not_callbacks_are_refused(callbacks):
    with pytest.raises(TypeError, match="callbacks must be None or a list"):
        make_tiny(VQVAETransformer, callbacks=callbacks).fit(X)


@pytest.mark.parametrize("params", [dict(device=torch.device("cpu")), dict(device="CPU"),
                                    dict(verbose=False), dict(max_steps=np.int64(2))])
def test_what_sklearn_users_pass_is_accepted(params):
    est = make_tiny(VQVAETransformer, **params).fit(X)
    assert est.device_ == "cpu"


def test_array_projector_dims_are_accepted():
    est = make_tiny(BarlowTwinsVQVAETransformer, projector_dims=np.array([8, 8])).fit(X)
    assert est.transform(X).shape[0] == len(X)


@pytest.mark.parametrize("device", ["tpu", "cuda:0:1", "cuda:\u00b2", "cpu:0", "cuda:", 0])
def test_a_device_torch_does_not_know_is_refused_at_fit_naming_device(device):
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda'"):
        make_tiny(VQVAETransformer, device=device).fit(X)


@pytest.fixture
def one_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_a_gpu_index_the_machine_lacks_is_refused_naming_the_gpus_there(one_gpu):
    from btvqvae._validation import resolve_device

    assert resolve_device("cuda:0") == "cuda:0" and resolve_device("auto") == "cuda"
    with pytest.raises(ValueError, match=r"device='cuda:3' asks for GPU 3.*1 GPU\(s\)"):
        resolve_device("cuda:3")


def test_a_model_saved_from_a_gpu_this_machine_lacks_loads_on_its_default_gpu(one_gpu):
    from btvqvae._validation import available_device

    assert available_device("cuda:3") == "cuda"
    assert available_device("cuda:0") == "cuda:0" and available_device("cpu") == "cpu"


def test_bad_random_state_names_random_state():
    with pytest.raises(ValueError, match="random_state"):
        make_tiny(VQVAETransformer, random_state="seed").fit(X)


# -- loading ----------------------------------------------------------------------------------
def _copy(src, dst):
    dst.mkdir()
    for file in src.iterdir():
        (dst / file.name).write_bytes(file.read_bytes())
    return dst


def _edit(path, edit):
    document = json.loads((path / "params.json").read_text())
    edit(document)
    (path / "params.json").write_text(json.dumps(document))


def _write_weights(path, data: bytes):
    (path / "weights.pt").write_bytes(data)
    _edit(path, lambda d: d.update(weights_sha256=hashlib.sha256(data).hexdigest()))


def _state_bytes(state):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _nan_weights(path):
    state = torch.load(path / "weights.pt", weights_only=True)
    _write_weights(path, _state_bytes({k: v.float() * np.nan if v.is_floating_point() else v
                                       for k, v in state.items()}))


def _int_weights(path):
    state = torch.load(path / "weights.pt", weights_only=True)
    _write_weights(path, _state_bytes({k: v.long() for k, v in state.items()}))


def _flip_bytes(path):
    data = bytearray((path / "weights.pt").read_bytes())
    for i in range(64):
        data[len(data) // 2 + i] ^= 0xFF
    (path / "weights.pt").write_bytes(bytes(data))


def _fitted_value(name, value):
    return lambda path: _edit(path, lambda d: d["fitted"].update({name: value}))


def _param(name, value):
    return lambda path: _edit(path, lambda d: d["params"].update({name: value}))


TAMPERING = {
    "nan weights": (_nan_weights, "NaN or infinity"),
    "int weights": (_int_weights, "saved torch.int64"),
    "flipped bytes": (_flip_bytes, "sha256"),
    "truncated": (lambda p: _write_weights(p, (p / "weights.pt").read_bytes()[:100]),
                  "cannot be read"),
    "empty": (lambda p: _write_weights(p, b""), "cannot be read"),
    "garbage": (lambda p: _write_weights(p, os.urandom(500)), "cannot be read"),
    "mean nan": (_fitted_value("mean_", float("nan")), "mean_"),
    "scale 0": (_fitted_value("scale_", 0.0), "scale_"),
    "scale -1": (_fitted_value("scale_", -1.0), "scale_"),
    "dtype object": (_fitted_value("dtype_", "object"), "dtype_"),
    "ndim 5": (_fitted_value("input_ndim_", 5), "input_ndim_"),
    "precision float16": (_param("precision", "float16"), "precision"),
    "hidden_dim text": (_param("hidden_dim", "wide"), "hidden_dim"),
    "batch_size list": (_param("batch_size", [1, 2]), "batch_size"),
    "params not a dict": (lambda p: _edit(p, lambda d: d.update(params=[1])), "params"),
    "n_quantizers 0": (_param("n_quantizers", 0), "n_quantizers"),
    "n_quantizers text": (_param("n_quantizers", "two"), "n_quantizers"),
    "quantizer_dropout 1": (_param("quantizer_dropout", 1), "quantizer_dropout"),
    "output bagz": (_param("output", "bagz"), "output must be one of"),
    "output list": (_param("output", ["bag", "latent"]), "output must be one of"),
    "device tpu": (_param("device", "tpu"), "device must be"),
    "device cuda:0:1": (_param("device", "cuda:0:1"), "device must be"),
    "device_ tpu": (_fitted_value("device_", "tpu"), "device_"),
    "device_ cuda:0:1": (_fitted_value("device_", "cuda:0:1"), "device_"),
    "device_ auto": (_fitted_value("device_", "auto"), "device_"),
    "device_ number": (_fitted_value("device_", 0), "device_"),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampered_folders_raise_one_documented_error_naming_the_file(saved, tmp_path, case):
    tamper, match = TAMPERING[case]
    path = _copy(saved, tmp_path / "model")
    tamper(path)
    with pytest.raises(CorruptModelError, match=match) as info:
        load(path)
    assert any(name in str(info.value) for name in ("params.json", "weights.pt"))


@pytest.mark.parametrize("value", ["both", None, ["joint"]])
def test_a_tampered_barlow_twins_view_batchnorm_is_named(tmp_path, value):
    path = make_tiny(BarlowTwinsVQVAETransformer, max_steps=1).fit(X).save(tmp_path / "bt")
    _param("view_batchnorm", value)(path)
    with pytest.raises(CorruptModelError, match="params.json.*view_batchnorm must be one of"):
        load(path)


def test_a_corrupt_history_warns_and_the_model_still_loads(saved, tmp_path, fitted):
    path = _copy(saved, tmp_path / "model")
    (path / "history.json").write_text("{not json")
    with pytest.warns(UserWarning, match="history"):
        loaded = load(path)
    assert len(loaded.net_.history) == 0 and loaded.loss_curve_ == fitted.loss_curve_
    np.testing.assert_array_equal(loaded.encode(X, output="tokens"),
                                  fitted.encode(X, output="tokens"))


def test_loading_leaves_no_file_open(saved):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        load(saved)
        import gc

        gc.collect()


# -- command line -----------------------------------------------------------------------------
class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_cli_never_unpickles_without_allow_pickle(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_Evil(str(marker))))
    status, out, err = run(["evaluate", str(evil), "--dataset", "GunPoint"])
    assert status == 2 and "--allow-pickle" in err and "arbitrary code" in err
    assert not marker.exists()
    status, _, err = run(["evaluate", str(evil), "--allow-pickle", "--dataset", "GunPoint"])
    assert status == 2 and len(err.strip().splitlines()) == 1  # ran, then refused the object


def test_cli_loads_a_trusted_pickle_with_allow_pickle(tmp_path, fitted):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted))
    status, out, err = run(["plot", str(path), "--allow-pickle", "--dataset", "GunPoint",
                            "--kind", "codebook", "--out", str(tmp_path / "c.png"), "-q"])
    assert status == 2 and "fitted on 32" in err  # loaded; GunPoint has another length
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("damage", ["weights", "params.json path"])
def test_cli_reports_a_damaged_model_in_one_line(saved, tmp_path, damage):
    path = _copy(saved, tmp_path / "model")
    if damage == "weights":
        (path / "weights.pt").write_bytes(b"garbage")
        target = path
    else:
        target = path / "params.json"
    status, _, err = run(["evaluate", str(target), "--dataset", "GunPoint"])
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "error:" in err


def test_cli_fit_defaults_to_the_barlow_twins_model(tmp_path):
    out = tmp_path / "m"
    status, summary, err = run(["fit", "--dataset", "GunPoint", "--param", "hidden_dim=4",
                                "--param", "n_res_blocks=1", "--param", "codebook_size=4",
                                "--param", "projector_dims=(8, 8)", "--max-steps", "1",
                                "-q", "--out", str(out)])
    assert status == 0, err
    assert summary.startswith("BarlowTwinsVQVAETransformer")


@pytest.mark.parametrize("command", ["fit", "evaluate", "plot", "datasets"])
def test_every_cli_command_takes_quiet(command):
    from btvqvae.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    assert any("-q" in action.option_strings for action in sub._actions)


def test_every_metric_has_a_description():
    from btvqvae.evaluation import EVALUATE_KEYS, METRIC_DESCRIPTIONS

    assert all(METRIC_DESCRIPTIONS[key] for key in EVALUATE_KEYS)
