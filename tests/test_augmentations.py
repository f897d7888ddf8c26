import ast
import copy
import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from btvqvae import augmentations as aug
from btvqvae.augmentations import (
    AUGMENTATIONS,
    DEFAULT_AUGMENTATIONS,
    REFERENCE_AUGMENTATIONS,
    Augmenter,
    amplitude,
    crop_resize,
    flip,
    jitter,
    magnitude_warp,
    make_augmenter,
    register_augmentation,
    slice_and_shuffle,
    slope,
    stft_phase,
    window_warp,
)

FUNCTIONS = {"amplitude": amplitude, "flip": flip, "slope": slope,
             "stft_phase": stft_phase, "jitter": jitter}
#: Every built-in augmentation, the NC-VQVAE ones (tests/test_augmentations_views.py) too.
BUILT_IN = {**FUNCTIONS, "slice_and_shuffle": slice_and_shuffle, "window_warp": window_warp,
            "magnitude_warp": magnitude_warp, "crop_resize": crop_resize}
ZERO_STRENGTH = {"amplitude": {"std": 0.0}, "flip": {"p": 0.0}, "slope": {"max_slope": 0.0},
                 "jitter": {"std": 0.0}}
FAST = settings(max_examples=15, deadline=None)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def batch(n, c, t, dtype=torch.float64, seed=0, kind="randn", scale=1.0):
    x = torch.randn(n, c, t, generator=gen(seed), dtype=torch.float64)
    if kind == "zeros":
        x = torch.zeros_like(x)
    elif kind == "constant":
        x = torch.ones_like(x)
    elif kind == "spikes":
        x = (x > 2.0).to(x.dtype)
    return (scale * x).to(dtype)


shapes = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 1024))
dtypes = st.sampled_from([torch.float32, torch.float64])
names = st.sampled_from(REFERENCE_AUGMENTATIONS)


# ------------------------------------------------------------------ single functions
@FAST
@given(name=st.sampled_from(sorted(BUILT_IN)), shape=shapes, dtype=dtypes,
       seed=st.integers(0, 2**31))
def test_each_augmentation_preserves_shape_dtype_and_device(name, shape, dtype, seed):
    x = batch(*shape, dtype=dtype, seed=seed)
    y = BUILT_IN[name](x, generator=gen(seed))
    assert isinstance(y, torch.Tensor)
    assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device


@FAST
@given(name=names, shape=shapes, dtype=dtypes, seed=st.integers(0, 2**31),
       kind=st.sampled_from(["randn", "zeros", "constant", "spikes"]),
       scale=st.sampled_from([1e-30, 1.0, 1e6]))
def test_finite_input_gives_finite_output(name, shape, dtype, seed, kind, scale):
    x = batch(*shape, dtype=dtype, seed=seed, kind=kind, scale=scale)
    assert torch.isfinite(FUNCTIONS[name](x, generator=gen(seed))).all()


@FAST
@given(name=names, shape=shapes, seed=st.integers(0, 2**31))
def test_input_is_not_mutated_and_output_is_a_new_tensor(name, shape, seed):
    x = batch(*shape, seed=seed)
    before = x.clone()
    y = FUNCTIONS[name](x, generator=gen(seed))
    assert torch.equal(x, before)
    y.add_(1.0)  # writing to the output must not reach the input
    assert torch.equal(x, before)


@FAST
@given(name=st.sampled_from(sorted(ZERO_STRENGTH)), shape=shapes, dtype=dtypes,
       seed=st.integers(0, 2**31), scaled=st.booleans())
def test_zero_strength_is_exact_identity(name, shape, dtype, seed, scaled):
    x = batch(*shape, dtype=dtype, seed=seed)
    params = dict(ZERO_STRENGTH[name], **({"scaled": scaled} if name == "slope" else {}))
    assert torch.equal(FUNCTIONS[name](x, generator=gen(seed), **params), x)


@FAST
@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 2**31))
def test_stft_phase_with_zero_phase_reproduces_input_up_to_float_error(shape, dtype, seed):
    x = batch(*shape, dtype=dtype, seed=seed, scale=10.0)
    y = stft_phase(x, max_phase=0.0, generator=gen(seed))
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert (y - x).abs().max() <= tol * x.abs().max()


@FAST
@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 2**31))
def test_flip_with_p_one_reverses_time_and_twice_is_identity(shape, dtype, seed):
    x = batch(*shape, dtype=dtype, seed=seed)
    y = flip(x, p=1.0, generator=gen(seed))
    assert torch.equal(y, torch.flip(x, dims=[-1]))
    assert torch.equal(flip(y, p=1.0, generator=gen(seed + 1)), x)


def test_flip_reverses_whole_cases_with_probability_p():
    x = batch(4000, 2, 5)
    y = flip(x, p=0.3, generator=gen(0))
    reversed_ = (y == x.flip(-1)).flatten(1).all(dim=1)
    kept = (y == x).flatten(1).all(dim=1)
    assert (reversed_ | kept).all()  # every case is either untouched or fully reversed
    assert abs(reversed_.double().mean().item() - 0.3) < 0.03


@pytest.mark.parametrize("name", REFERENCE_AUGMENTATIONS)
def test_same_seed_gives_identical_output_and_different_seeds_differ(name):
    x = batch(64, 3, 50)
    fn = FUNCTIONS[name]
    assert torch.equal(fn(x, generator=gen(7)), fn(x, generator=gen(7)))
    assert not torch.equal(fn(x, generator=gen(7)), fn(x, generator=gen(8)))


@pytest.mark.parametrize("name", REFERENCE_AUGMENTATIONS)
def test_global_torch_rng_is_left_untouched(name):
    x = batch(2, 2, 16)
    state = torch.get_rng_state()
    FUNCTIONS[name](x, generator=gen(0))
    FUNCTIONS[name](x, generator=None)
    assert torch.equal(torch.get_rng_state(), state)


def test_unseeded_calls_differ_from_each_other():
    x = batch(8, 2, 32)
    assert not torch.equal(jitter(x), jitter(x))


def test_jitter_noise_has_requested_standard_deviation():
    x = batch(50, 4, 500)
    for std in (0.1, 2.5):
        noise = jitter(x, std=std, generator=gen(1)) - x
        assert abs(noise.mean().item()) < 0.01 * std
        assert noise.std().item() == pytest.approx(std, rel=0.02)


def test_amplitude_scales_each_channel_by_one_factor_with_requested_std():
    x = torch.ones(2000, 3, 20, dtype=torch.float64)
    eps = amplitude(x, std=0.1, generator=gen(2)) / x - 1  # (n, c, t)
    assert torch.allclose(eps, eps[..., :1].expand_as(eps))  # constant along time
    assert abs(eps.mean().item()) < 0.005
    assert eps[..., 0].std().item() == pytest.approx(0.1, rel=0.05)


@FAST
@given(shape=shapes, seed=st.integers(0, 2**31),
       max_slope=st.sampled_from([0.001, 0.01, 1.0]), scaled=st.booleans())
def test_slope_adds_an_exact_linear_trend_bounded_by_max_slope(shape, seed, max_slope, scaled):
    x = batch(*shape, seed=seed)
    drift = slope(x, max_slope, scaled=scaled, generator=gen(seed)) - x  # (n, c, t)
    length = shape[2]
    t = torch.linspace(0, 99, length, dtype=torch.float64) if scaled else torch.arange(
        length, dtype=torch.float64)
    a = drift[..., -1:] / t[-1] if length > 1 else torch.zeros_like(drift)
    assert torch.allclose(drift, a * t, rtol=0, atol=1e-12 * (1 + max_slope * t[-1]))
    assert (a.abs() <= max_slope * (1 + 1e-9)).all()
    if scaled:
        assert drift.abs().max() <= 99 * max_slope * (1 + 1e-9)


def test_slope_draws_both_signs_up_to_max_slope():
    a = slope(torch.zeros(5000, 1, 2), 0.01, generator=gen(3))[..., 1]
    assert a.max().item() > 0.0099 and a.min().item() < -0.0099


def test_scaled_slope_matches_reference_at_length_100():
    x = batch(3, 2, 100)
    assert torch.allclose(slope(x, scaled=True, generator=gen(4)),
                          slope(x, scaled=False, generator=gen(4)))


def _spectrogram(x):
    length = x.shape[-1]
    n_fft = 1 << max(1, (length - 1).bit_length())
    return torch.stft(x.reshape(-1, length), n_fft, max(1, n_fft // 4),
                      window=torch.ones(n_fft, dtype=x.dtype), center=True,
                      pad_mode="constant", return_complex=True).abs()


@FAST
@given(length=st.integers(2, 1024), seed=st.integers(0, 2**31),
       kind=st.sampled_from(["noise", "walk"]))
def test_stft_phase_changes_signal_but_roughly_keeps_energy_and_spectrogram(length, seed, kind):
    x = batch(16, 2, length, seed=seed)
    x = x.cumsum(-1) if kind == "walk" else x
    y = stft_phase(x, generator=gen(seed))
    assert ((y - x).flatten(1).norm(dim=1) > 1e-3 * x.flatten(1).norm(dim=1)).all()
    energy = y.pow(2).sum(-1) / x.pow(2).sum(-1)  # measured: 0.53..1.02, mean ~0.85
    assert ((energy > 0.4) & (energy < 1.15)).all()
    assert 0.7 < energy.mean() < 1.0
    sx, sy = _spectrogram(x), _spectrogram(y)
    rel = (sy - sx).flatten(1).norm(dim=1) / sx.flatten(1).norm(dim=1)  # measured mean ~0.13
    assert (rel < 0.4).all() and rel.mean() < 0.2


def test_stft_phase_distortion_grows_with_max_phase():
    x = batch(32, 1, 256)
    rel = [((stft_phase(x, m, generator=gen(5)) - x).norm() / x.norm()).item()
           for m in (math.pi / 32, math.pi / 8, math.pi / 4, math.pi / 2)]
    assert rel == sorted(rel) and rel[0] < 0.05


def test_numpy_input_is_accepted_and_returns_a_tensor():
    x = np.random.default_rng(0).normal(size=(3, 2, 40))
    for name in REFERENCE_AUGMENTATIONS:
        y = FUNCTIONS[name](x, generator=gen(0))
        assert isinstance(y, torch.Tensor) and y.dtype == torch.float64 and y.shape == x.shape
    reversed_view = x[..., ::-1]  # negative strides
    assert torch.equal(flip(reversed_view, p=1.0), torch.from_numpy(x))


def test_invalid_inputs_and_parameters_raise_helpful_errors():
    with pytest.raises(ValueError, match="n_channels"):
        jitter(torch.zeros(4, 10))
    with pytest.raises(TypeError, match="float"):
        jitter(torch.zeros(1, 1, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="std"):
        jitter(torch.zeros(1, 1, 4), std=-1.0)
    with pytest.raises(ValueError, match="p must be"):
        flip(torch.zeros(1, 1, 4), p=1.5)


# ------------------------------------------------------------------------ composition
def add_one(x, *, generator):
    return x + 1


def double(x, *, generator):
    return 2 * x


def scale_by(x, *, generator, factor=1.0):
    return factor * x


@pytest.fixture
def registry():
    saved = dict(AUGMENTATIONS)
    yield AUGMENTATIONS
    AUGMENTATIONS.clear()
    AUGMENTATIONS.update(saved)


def test_default_augmenter_applies_the_reference_steps_in_order():
    x = batch(4, 2, 64)
    expected, g = x, gen(9)
    for name in ("amplitude", "flip", "slope", "stft_phase", "jitter"):
        expected = FUNCTIONS[name](expected, generator=g)
    assert torch.equal(Augmenter()(x, generator=gen(9)), expected)
    assert REFERENCE_AUGMENTATIONS == ("amplitude", "flip", "slope", "stft_phase", "jitter")


def test_augmenter_respects_chosen_subset_order_and_parameters():
    x = batch(2, 1, 8)
    assert torch.equal(Augmenter([add_one, double])(x), (x + 1) * 2)
    assert torch.equal(Augmenter([double, add_one])(x), 2 * x + 1)
    g = gen(3)
    expected = jitter(slope(x, 0.5, scaled=True, generator=g), generator=g)
    got = Augmenter([("slope", {"max_slope": 0.5, "scaled": True}), "jitter"])(x, generator=gen(3))
    assert torch.equal(got, expected)


def test_empty_augmenter_returns_an_equal_copy():
    x = batch(2, 1, 8)
    y = Augmenter([])(x)
    assert torch.equal(y, x) and y.data_ptr() != x.data_ptr()


def test_unknown_augmentation_name_raises_listing_available_names():
    with pytest.raises(ValueError, match=r"unknown augmentation 'wobble'.*jitter"):
        Augmenter(["jitter", "wobble"])(batch(1, 1, 4))
    with pytest.raises(ValueError, match="available"):
        Augmenter.from_spec(["wobble"])


def test_wrong_step_parameters_and_step_types_are_rejected():
    with pytest.raises(ValueError, match="sd"):
        make_augmenter([("jitter", {"sd": 0.1})])
    with pytest.raises(TypeError, match="name, params_dict"):
        make_augmenter([42])


def test_registered_custom_augmentation_can_be_used_by_name(registry):
    register_augmentation("scale_by", scale_by)
    x = batch(2, 2, 8)
    assert torch.equal(Augmenter([("scale_by", {"factor": 3.0})])(x), 3 * x)
    with pytest.raises(ValueError, match="already registered"):
        register_augmentation("scale_by", double)
    register_augmentation("scale_by", double, overwrite=True)
    assert torch.equal(Augmenter(["scale_by"])(x), 2 * x)
    with pytest.raises(TypeError):
        register_augmentation("bad", "not callable")


def shorten(x, *, generator):
    return x[..., :-2]


def one_more_channel(x, *, generator):
    return torch.cat([x, x[:, :1]], dim=1)


def to_float32(x, *, generator):
    return x.float()


def to_numpy(x, *, generator):
    return x.numpy()


@pytest.mark.parametrize("step, error, wrong", [
    (shorten, ValueError, r"shape \(2, 3, 14\)"),
    (one_more_channel, ValueError, r"shape \(2, 4, 16\)"),
    (to_float32, ValueError, "dtype torch.float32"),
    (to_numpy, TypeError, "a ndarray"),
])
def test_a_step_returning_another_shape_or_kind_is_named_with_the_shape_it_must_keep(
        step, error, wrong):
    expected = r"must return a torch.Tensor of shape \(2, 3, 16\).*dtype torch.float64"
    with pytest.raises(error, match=rf"callable .*{step.__name__} returned .*{wrong}.*{expected}"):
        Augmenter(["jitter", step])(batch(2, 3, 16), generator=gen(0))


def test_a_registered_step_returning_another_shape_is_named_by_its_name(registry):
    register_augmentation("shorten", shorten)
    with pytest.raises(ValueError, match=r"augmentation 'shorten' returned .*\(1, 1, 8\)"):
        Augmenter(["shorten"]).two_views(batch(1, 1, 8), generator=gen(0))


def test_two_views_are_different_same_shaped_and_reproducible():
    x = batch(8, 3, 100)
    a, b = Augmenter().two_views(x, generator=gen(0))
    assert a.shape == b.shape == x.shape and a.dtype == b.dtype == x.dtype
    assert not torch.equal(a, b)
    a2, b2 = Augmenter().two_views(x, generator=gen(0))
    assert torch.equal(a, a2) and torch.equal(b, b2)


def test_augmenter_accepts_numpy_input():
    x = np.ones((2, 1, 30), dtype=np.float32)
    y = Augmenter()(x, generator=gen(0))
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32 and y.shape == (2, 1, 30)


@pytest.mark.parametrize("steps", [None, [], ["jitter", ("slope", {"scaled": True})],
                                   [("scale_by", {"factor": 2.0}), double]])
def test_augmenter_survives_pickle_and_deepcopy_with_equality(steps, registry):
    register_augmentation("scale_by", scale_by)
    augmenter = Augmenter(steps)
    for other in (pickle.loads(pickle.dumps(augmenter)), copy.deepcopy(augmenter)):
        assert other == augmenter
        x = batch(2, 2, 16)
        assert torch.equal(other(x, generator=gen(1)), augmenter(x, generator=gen(1)))


def test_augmenter_equality_and_repr_describe_the_steps():
    assert Augmenter() == Augmenter(list(REFERENCE_AUGMENTATIONS))
    assert Augmenter(["jitter"]) != Augmenter(["flip"])
    assert Augmenter([("jitter", {"std": 0.2})]) != Augmenter([("jitter", {"std": 0.3})])
    assert Augmenter() != "reference"
    assert repr(Augmenter(["jitter", ("slope", {"scaled": True})])) == (
        "Augmenter(steps=['jitter', ('slope', {'scaled': True})])")


def test_augmenter_is_cloned_as_an_estimator_parameter():
    from sklearn import base

    class Est(base.BaseEstimator):
        def __init__(self, augmentations=None):
            self.augmentations = augmentations

    est = Est(augmentations=Augmenter(["flip", "jitter"]))
    clone = base.clone(est)
    assert clone.get_params()["augmentations"] == est.get_params()["augmentations"]


def test_make_augmenter_understands_shortcuts_and_rejects_the_rest():
    assert make_augmenter("reference") == Augmenter()
    assert make_augmenter(None) == make_augmenter("default") == Augmenter(
        list(DEFAULT_AUGMENTATIONS)) != Augmenter()
    assert make_augmenter("none") == Augmenter([])
    assert make_augmenter(("flip", "jitter")) == Augmenter(["flip", "jitter"])
    augmenter = Augmenter(["jitter"])
    assert make_augmenter(augmenter) is augmenter
    with pytest.raises(ValueError, match=r"\['jitter'\]"):
        make_augmenter("jitter")
    with pytest.raises(TypeError, match="list of steps"):
        make_augmenter(3.0)


def test_module_imports_neither_sklearn_nor_skorch():
    tree = ast.parse(open(aug.__file__).read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported.isdisjoint({"sklearn", "skorch"}) and "torch" in imported
