"""Properties of the view augmentations added for Barlow Twins (after NC-VQVAE)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from btvqvae import augmentations as aug
from btvqvae.augmentations import (
    AUGMENTATIONS,
    Augmenter,
    crop_resize,
    magnitude_warp,
    make_augmenter,
    slice_and_shuffle,
    window_warp,
)

from .test_augmentations import batch, dtypes, gen, shapes

FUNCTIONS = {"slice_and_shuffle": slice_and_shuffle, "window_warp": window_warp,
             "magnitude_warp": magnitude_warp, "crop_resize": crop_resize}
ZERO_STRENGTH = [("slice_and_shuffle", {"n_segments": 1}), ("window_warp", {"scales": (1.0,)}),
                 ("window_warp", {"window_ratio": 0.0}), ("magnitude_warp", {"sigma": 0.0}),
                 ("crop_resize", {"crop_ratio": 1.0})]
FAST = settings(max_examples=15, deadline=None)

names = st.sampled_from(sorted(FUNCTIONS))
seeds = st.integers(0, 2**31)


def ramp(n, c, t):
    return torch.arange(t, dtype=torch.float64).repeat(n, c, 1)  # (n, c, t)


# ------------------------------------------------------------------ common properties
# (shape, dtype and device kept: test_augmentations.py covers every built-in augmentation)
@FAST
@given(step=st.sampled_from(ZERO_STRENGTH), shape=shapes, dtype=dtypes, seed=seeds)
def test_zero_strength_returns_the_input_exactly(step, shape, dtype, seed):
    name, params = step
    x = batch(*shape, dtype=dtype, seed=seed)
    assert torch.equal(FUNCTIONS[name](x, generator=gen(seed), **params), x)


@FAST
@given(name=names, shape=shapes, seed=seeds)
def test_each_view_augmentation_is_reproducible_for_a_fixed_seed(name, shape, seed):
    x = batch(*shape, seed=seed)
    fn = FUNCTIONS[name]
    assert torch.equal(fn(x, generator=gen(seed)), fn(x, generator=gen(seed)))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_different_seeds_give_different_views(name):
    x = batch(16, 2, 64)
    fn = FUNCTIONS[name]
    assert not torch.equal(fn(x, generator=gen(7)), fn(x, generator=gen(8)))


@FAST
@given(name=names, shape=shapes, dtype=dtypes, seed=seeds,
       scale=st.sampled_from([1e-30, 1.0, 1e15]))
def test_finite_input_gives_finite_output(name, shape, dtype, seed, scale):
    x = batch(*shape, dtype=dtype, seed=seed, scale=scale)
    assert torch.isfinite(FUNCTIONS[name](x, generator=gen(seed))).all()


@FAST
@given(name=names, shape=shapes, seed=seeds)
def test_input_is_never_modified(name, shape, seed):
    x = batch(*shape, seed=seed)
    saved = x.clone()
    y = FUNCTIONS[name](x, generator=gen(seed))
    assert torch.equal(x, saved) and y.data_ptr() != x.data_ptr()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_global_torch_rng_is_left_untouched_and_numpy_input_is_accepted(name):
    x = np.random.default_rng(0).normal(size=(3, 2, 40))
    state = torch.get_rng_state()
    y = FUNCTIONS[name](x, generator=gen(0))
    FUNCTIONS[name](x, generator=None)
    assert torch.equal(torch.get_rng_state(), state)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float64 and y.shape == x.shape


# ---------------------------------------------------------------- slice_and_shuffle
@FAST
@given(shape=shapes, seed=seeds, n_segments=st.integers(1, 12))
def test_slice_and_shuffle_keeps_the_values_of_each_channel(shape, seed, n_segments):
    x = batch(*shape, seed=seed)
    y = slice_and_shuffle(x, n_segments, generator=gen(seed))
    assert torch.equal(y.sort(-1).values, x.sort(-1).values)


@FAST
@given(seed=seeds, n_segments=st.integers(2, 8), length=st.integers(20, 300))
def test_slice_and_shuffle_reorders_at_most_n_segments_runs_shared_by_channels(
        seed, n_segments, length):
    x = ramp(128, 2, length) * torch.tensor([1.0, -2.0])[:, None]  # (128, 2, L)
    y = slice_and_shuffle(x, n_segments, generator=gen(seed))
    assert torch.equal(y[:, 1], -2 * y[:, 0])  # one cut/order per case
    jumps = (y[:, 0].diff(dim=-1) != 1).sum(-1)  # (n,) breaks between pieces of the ramp
    assert (jumps <= n_segments - 1).all()
    assert (jumps > 0).sum() >= 32  # not the identity (about half the cases even for 2 pieces)


# ------------------------------------------------------------- window_warp / crop_resize
def _within_range(y, x):
    lo, hi = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)  # (n, c, 1)
    tol = 1e-6 * (1 + x.abs().amax(-1, keepdim=True))
    return bool(((y >= lo - tol) & (y <= hi + tol)).all())


@FAST
@given(shape=shapes, dtype=dtypes, seed=seeds, window_ratio=st.floats(0, 1),
       scales=st.sampled_from([(0.1, 1.1), (0.5, 2.0), (3.0,)]))
def test_window_warp_stays_within_each_channels_range_and_keeps_the_ends(
        shape, dtype, seed, window_ratio, scales):
    x = batch(*shape, dtype=dtype, seed=seed)
    y = window_warp(x, window_ratio, scales, generator=gen(seed))
    assert _within_range(y, x)
    assert torch.equal(y[..., 0], x[..., 0])
    torch.testing.assert_close(y[..., -1], x[..., -1])


@FAST
@given(seed=seeds, length=st.integers(10, 500), window_ratio=st.floats(0.05, 0.9))
def test_window_warp_is_a_monotone_time_warp_that_changes_the_series(seed, length, window_ratio):
    x = ramp(16, 2, length)
    y = window_warp(x, window_ratio, (0.1, 1.1), generator=gen(seed))
    assert (y.diff(dim=-1) >= -1e-9).all()  # a ramp stays increasing
    assert torch.equal(y[:, 0], y[:, 1])  # one warp per case
    assert not torch.allclose(y, x)


@FAST
@given(shape=shapes, dtype=dtypes, seed=seeds, crop_ratio=st.floats(0.01, 1))
def test_crop_resize_stays_within_each_channels_range(shape, dtype, seed, crop_ratio):
    x = batch(*shape, dtype=dtype, seed=seed)
    assert _within_range(crop_resize(x, crop_ratio, generator=gen(seed)), x)


@FAST
@given(seed=seeds, length=st.integers(2, 500), crop_ratio=st.floats(0.05, 1))
def test_crop_resize_of_a_ramp_is_a_ramp_of_slope_crop_ratio_inside_it(seed, length, crop_ratio):
    y = crop_resize(ramp(16, 2, length), crop_ratio, generator=gen(seed))
    torch.testing.assert_close(y.diff(dim=-1), torch.full_like(y[..., 1:], crop_ratio))
    assert (y[..., 0] >= 0).all() and (y[..., -1] <= length - 1 + 1e-9).all()
    assert torch.equal(y[:, 0], y[:, 1])  # one crop per case


# -------------------------------------------------------------------- magnitude_warp
@FAST
@given(seed=seeds, length=st.integers(100, 1024), sigma=st.sampled_from([0.05, 0.1, 0.3]))
def test_magnitude_warp_multiplies_by_a_smooth_curve_independent_of_x(seed, length, sigma):
    x = batch(8, 3, length, seed=seed).abs() + 0.5
    curve = magnitude_warp(x, sigma, generator=gen(seed)) / x  # (n, c, L)
    torch.testing.assert_close(curve, magnitude_warp(torch.ones_like(x), sigma,
                                                     generator=gen(seed)))
    step = 5 / (length - 1)  # knot spacing in units of the series, n_knots = 4
    # a cubic through N(1, sigma²) knots bends by O(sigma) per knot interval
    assert curve.diff(n=2, dim=-1).abs().max() < 60 * sigma * step**2  # measured max 34
    assert not torch.allclose(curve, torch.ones_like(curve))


def test_magnitude_warp_knots_are_normal_around_one_with_std_sigma():
    curve = magnitude_warp(torch.ones(4000, 2, 50, dtype=torch.float64), 0.1, generator=gen(3))
    ends = curve[..., [0, -1]]  # the first and last knots
    assert abs(ends.mean().item() - 1) < 0.005
    assert ends.std().item() == pytest.approx(0.1, rel=0.05)
    assert (curve > 0).float().mean() > 0.999 and abs(curve.mean().item() - 1) < 0.005


# --------------------------------------------------------------------- composition
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_view_augmentation_is_registered_and_makes_two_views(name):
    assert AUGMENTATIONS[name] is FUNCTIONS[name] and name in aug.__all__
    x = batch(8, 2, 64)
    a, b = Augmenter([name]).two_views(x, generator=gen(0))
    assert a.shape == b.shape == x.shape and not torch.equal(a, b)
    a2, b2 = make_augmenter([name]).two_views(x, generator=gen(0))
    assert torch.equal(a, a2) and torch.equal(b, b2)


def test_view_augmentations_compose_by_name_with_parameters():
    steps = ["slice_and_shuffle", ("window_warp", {"window_ratio": 0.2, "scales": (0.5, 2.0)}),
             ("magnitude_warp", {"sigma": 0.2, "n_knots": 6}), ("crop_resize", {"crop_ratio": 0.8})]
    x, g = batch(4, 2, 100), gen(5)
    expected = slice_and_shuffle(x, generator=g)
    expected = window_warp(expected, 0.2, (0.5, 2.0), generator=g)
    expected = crop_resize(magnitude_warp(expected, 0.2, 6, generator=g), 0.8, generator=g)
    assert torch.equal(make_augmenter(steps)(x, generator=gen(5)), expected)
    with pytest.raises(ValueError, match="n_knot"):
        make_augmenter([("magnitude_warp", {"n_knot": 3})])


@pytest.mark.parametrize("name, params, match", [
    ("slice_and_shuffle", {"n_segments": 0}, "n_segments"),
    ("slice_and_shuffle", {"n_segments": 2.5}, "n_segments"),
    ("window_warp", {"window_ratio": 1.5}, "window_ratio"),
    ("window_warp", {"scales": ()}, "scales"),
    ("window_warp", {"scales": (0.0, 1.0)}, "scales"),
    ("window_warp", {"scales": 2.0}, "scales"),
    ("magnitude_warp", {"sigma": -0.1}, "sigma"),
    ("magnitude_warp", {"n_knots": -1}, "n_knots"),
    ("crop_resize", {"crop_ratio": 0.0}, "crop_ratio"),
    ("crop_resize", {"crop_ratio": 1.2}, "crop_ratio"),
])
def test_invalid_parameters_raise_value_errors_naming_them(name, params, match):
    with pytest.raises(ValueError, match=match):
        FUNCTIONS[name](batch(2, 1, 16), generator=gen(0), **params)
