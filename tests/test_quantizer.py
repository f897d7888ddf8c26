import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from btvqvae.nn.quantizer import VectorQuantizer, kmeans


def _quantizer(k=8, d=4, seed=0, **kwargs):
    q = VectorQuantizer(k, d, **kwargs)
    q.reset_codebook(torch.Generator().manual_seed(seed))
    return q


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 16), d=st.integers(1, 8), b=st.integers(1, 4), f=st.integers(1, 5),
       t=st.integers(1, 6), seed=st.integers(0, 1000))
def test_eval_mode_indices_in_range_and_vectors_are_codebook_rows(k, d, b, f, t, seed):
    q = _quantizer(k, d, seed).eval()
    z = torch.randn(b, d, f, t, generator=torch.Generator().manual_seed(seed + 1))
    out = q(z)
    assert out.indices.shape == (b, f, t)
    assert out.indices.min() >= 0 and out.indices.max() < k
    vectors = out.z_q.permute(0, 2, 3, 1).reshape(-1, d)
    torch.testing.assert_close(vectors, q.codebook[out.indices.flatten()], rtol=0, atol=1e-6)
    # nearest code: no other code is closer
    dist = torch.cdist(z.permute(0, 2, 3, 1).reshape(-1, d), q.codebook)
    chosen = dist.gather(1, out.indices.reshape(-1, 1)).squeeze(1)
    assert torch.all(chosen <= dist.min(1).values + 1e-5)


def test_codebook_changes_only_in_training_mode():
    q = _quantizer()
    before = {k: v.clone() for k, v in q.state_dict().items()}
    q.eval()(torch.randn(2, 4, 3, 5))
    assert all(torch.equal(before[k], v) for k, v in q.state_dict().items())
    q.train()(torch.randn(2, 4, 3, 5))
    assert not torch.equal(before["codebook"], q.codebook)


def test_ema_update_moves_used_code_towards_assigned_vectors_with_reference_decay():
    q = _quantizer(k=2, d=1, decay=0.8, eps=0.0)
    q.codebook.copy_(torch.tensor([[0.0], [10.0]]))
    q.embed_avg.copy_(q.codebook)
    z = torch.full((1, 1, 1, 4), 1.0)  # four vectors at 1.0, all nearest to code 0
    q.train()(z)
    # cluster sizes: 0.8*1 + 0.2*4 = 1.6 and 0.8; embed_avg: 0.8*0 + 0.2*4 = 0.8 and 8
    torch.testing.assert_close(q.cluster_size, torch.tensor([1.6, 0.8]))
    torch.testing.assert_close(q.codebook, torch.tensor([[0.5], [10.0]]))


def test_straight_through_gradient_reaches_the_encoder_output():
    q = _quantizer().eval()
    z = torch.randn(2, 4, 3, 5, requires_grad=True)
    out = q(z)
    (out.z_q.sum() + out.commitment).backward()
    assert z.grad is not None and torch.all(torch.isfinite(z.grad))
    # d(sum z_q)/dz = 1 through the straight-through estimator; commitment adds 2(z - c)/N
    expected = 1 + 2 * (z - out.z_q).detach() / z.numel()
    torch.testing.assert_close(z.grad, expected)


def test_kmeans_init_places_codes_on_well_separated_clusters():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[-5.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    data = centres.repeat(50, 1) + 0.01 * torch.randn(150, 2, generator=g)
    found = kmeans(data, 3, 20, torch.Generator().manual_seed(1))
    dist = torch.cdist(centres, found).min(1).values
    assert torch.all(dist < 0.1)


def test_dead_codes_are_restarted_on_encoder_outputs():
    q = _quantizer(k=8, d=2, dead_code_threshold=0.5)
    q.codebook[1:] += 100.0  # codes 1..7 far away: unused
    q.embed_avg.copy_(q.codebook)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        q.train()(torch.randn(4, 2, 1, 8, generator=g), generator=g)
    assert q.codebook.abs().max() < 50  # every dead code moved onto the data


def test_quantizer_is_reproducible_from_its_generator():
    a, b = _quantizer(seed=3), _quantizer(seed=3)
    assert torch.equal(a.codebook, b.codebook)
    assert not torch.equal(a.codebook, _quantizer(seed=4).codebook)


@settings(max_examples=30, deadline=None)
@given(k=st.integers(1, 8), d=st.integers(1, 4), b=st.integers(1, 4), f=st.integers(1, 4),
       t=st.integers(1, 5), seed=st.integers(0, 1000))
def test_centered_codes_are_position_mean_plus_the_code_nearest_the_deviation(k, d, b, f, t,
                                                                            seed):
    q = _quantizer(k, d, seed, center_shape=(f, t))
    g = torch.Generator().manual_seed(seed + 1)
    q.train()(torch.randn(b, d, f, t, generator=g) + 3.0)  # sets the position means
    z = torch.randn(b, d, f, t, generator=g) + 3.0
    out = q.eval()(z)
    torch.testing.assert_close(out.z_q, q.lookup(out.indices))
    flat = lambda a: a.permute(0, 2, 3, 1).reshape(-1, d)  # noqa: E731
    torch.testing.assert_close(flat(out.z_q - q.latent_mean), q.codebook[out.indices.flatten()],
                               rtol=0, atol=1e-5)
    dist = torch.cdist(flat(z - q.latent_mean), q.codebook)
    chosen = dist.gather(1, out.indices.reshape(-1, 1)).squeeze(1)
    assert torch.all(chosen <= dist.min(1).values + 1e-5)


def test_position_mean_starts_at_the_first_batch_then_follows_the_ema():
    q = _quantizer(k=2, d=1, decay=0.8, center_shape=(1, 2))
    first = torch.tensor([[[[1.0, 4.0]]], [[[3.0, 8.0]]]])  # (B=2, D=1, F=1, T=2)
    q.train()(first)
    torch.testing.assert_close(q.latent_mean, torch.tensor([[[2.0, 6.0]]]))
    q(torch.zeros_like(first))
    torch.testing.assert_close(q.latent_mean, torch.tensor([[[1.6, 4.8]]]))
    before = q.latent_mean.clone()
    q.eval()(torch.ones_like(first))
    assert torch.equal(q.latent_mean, before)  # evaluation never moves it
    q.reset_codebook(torch.Generator().manual_seed(0))
    assert not q.latent_mean.any() and not bool(q.mean_initialized)


def test_centering_separates_series_that_differ_less_than_positions_do():
    # Every series is the same ramp over positions (0, 10, 20, 30) plus its own ±0.5 shift:
    # uncentred k-means codes land on the ramp and every series gets the same tokens.
    shift = torch.tensor([-0.5, 0.5]).repeat(8)  # 16 series, two kinds
    z = (torch.arange(4.0) * 10)[None, :] + shift[:, None]
    z = z[:, None, None, :]  # (B=16, D=1, F=1, T=4)
    plain = _quantizer(k=4, d=1, kmeans_init=True)
    centred = _quantizer(k=4, d=1, kmeans_init=True, center_shape=(1, 4))
    g = torch.Generator().manual_seed(0)
    for q in (plain, centred):
        q.train()(z, generator=g)
    assert len({tuple(r.tolist()) for r in plain.eval()(z).indices.flatten(1)}) == 1
    centred_tokens = centred.eval()(z).indices.flatten(1)
    assert len({tuple(r.tolist()) for r in centred_tokens}) == 2
    assert len({tuple(r.tolist()) for r in centred_tokens[0::2]}) == 1  # same shift, same tokens
