import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from btvqvae.nn.losses import barlow_twins_loss, cross_correlation, off_diagonal

batches = st.tuples(st.integers(2, 16), st.integers(1, 12), st.integers(0, 10_000))


def _pair(b, d, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, d, generator=g, dtype=torch.float64), \
        torch.randn(b, d, generator=g, dtype=torch.float64)


@settings(max_examples=60, deadline=None)
@given(batches, st.floats(0, 1))
def test_barlow_twins_loss_is_non_negative(shape, lambd):
    a, b = _pair(*shape)
    assert barlow_twins_loss(a, b, lambd) >= 0


@settings(max_examples=60, deadline=None)
@given(batches)
def test_barlow_twins_loss_is_invariant_to_permuting_the_batch(shape):
    a, b = _pair(*shape)
    perm = torch.randperm(a.shape[0], generator=torch.Generator().manual_seed(shape[2]))
    torch.testing.assert_close(barlow_twins_loss(a, b), barlow_twins_loss(a[perm], b[perm]))


@settings(max_examples=60, deadline=None)
@given(batches)
def test_identical_inputs_have_zero_diagonal_term(shape):
    a, _ = _pair(*shape)
    c = cross_correlation(a, a, eps=0.0)
    torch.testing.assert_close(torch.diagonal(c), torch.ones(a.shape[1], dtype=a.dtype))
    # with λ = 0 only the diagonal term is left, and it vanishes without the eps in the std
    assert barlow_twins_loss(a, a, lambd=0.0, eps=0.0) < 1e-12
    # with it, C_ii = s² / (s + eps)²: close to 1 unless a feature barely varies in the batch
    eps, s = 1e-5, a.std(0, unbiased=False)
    expected = (1 - s**2 / (s + eps) ** 2).pow(2).mean()
    torch.testing.assert_close(barlow_twins_loss(a, a, lambd=0.0, eps=eps), expected)


def test_barlow_twins_loss_matches_hand_computed_value():
    a = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    b = torch.tensor([[1.0, 1.0], [-1.0, -1.0]], dtype=torch.float64)
    # standardised: a = [[1, 0], [-1, 0]] (constant feature -> 0), b = [[1, 1], [-1, -1]]
    # C = a^T b / 2 = [[1, 1], [0, 0]]; diag term (1-1)^2 + (1-0)^2 = 1; off term 1^2 + 0^2
    loss = barlow_twins_loss(a, b, lambd=0.5, eps=0.0 + 1e-12)
    torch.testing.assert_close(loss, torch.tensor((1 + 0.5 * 1) / 2, dtype=torch.float64))


def test_constant_feature_gives_finite_loss_thanks_to_eps():
    a = torch.zeros(4, 3)
    assert torch.isfinite(barlow_twins_loss(a, torch.randn(4, 3)))


def test_off_diagonal_returns_every_entry_but_the_diagonal():
    m = torch.arange(9.0).reshape(3, 3)
    assert sorted(off_diagonal(m).tolist()) == [1, 2, 3, 5, 6, 7]
