"""Residual vector quantization: S EMA stages on successive residuals, S = 1 exactly as before."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from btvqvae.nn.losses import vqvae_loss
from btvqvae.nn.model import VQVAE, BarlowTwinsVQVAE
from btvqvae.nn.quantizer import ResidualVectorQuantizer, VectorQuantizer

TINY_MODEL = dict(hidden_dim=4, n_res_blocks=1, codebook_size=4)


def _rvq(s=3, k=8, d=4, seed=0, **kwargs):
    q = ResidualVectorQuantizer(s, k, d, **kwargs)
    q.reset_codebook(torch.Generator().manual_seed(seed))
    return q


def _state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def _same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _clusters(n=64, d=4, f=2, t=3, seed=0):
    """Latents ``(n, d, f, t)`` around a few centres, so codebooks have something to fit."""
    g = torch.Generator().manual_seed(seed)
    centres = 3 * torch.randn(5, d, generator=g)
    pick = torch.randint(5, (n * f * t,), generator=g)
    flat = centres[pick] + 0.5 * torch.randn(n * f * t, d, generator=g)
    return flat.reshape(n, f, t, d).permute(0, 3, 1, 2).contiguous()


def _fit(q, z, passes=8, seed=1):
    g = torch.Generator().manual_seed(seed)
    q.train()
    for _ in range(passes):
        q(z, generator=g)
    return q.eval()


# -- n_quantizers = 1 is today's model ------------------------------------------------------
@pytest.mark.parametrize("cls, extra", [(VQVAE, {}), (BarlowTwinsVQVAE, {"projector_dims": (8,)})],
                         ids=["vqvae", "bt"])
def test_one_quantizer_is_the_model_built_without_the_argument(cls, extra):
    x = torch.randn(6, 1, 32, generator=torch.Generator().manual_seed(3))
    models = []
    for kwargs in ({}, {"n_quantizers": 1}):
        model = cls(1, 32, **TINY_MODEL, **extra, kmeans_init=True, center_latents=True,
                    generator=torch.Generator().manual_seed(0), **kwargs)
        model.train()(x, torch.Generator().manual_seed(1))  # k-means init and one EMA step
        models.append(model.eval())
    plain, single = models
    assert type(single.quantizer) is VectorQuantizer
    assert list(single.state_dict()) == list(plain.state_dict())
    assert _same_state(_state(single), _state(plain))
    assert torch.equal(single.tokens(x), plain.tokens(x))
    assert single.tokens(x).shape == (6, *plain.latent_shape[1:])
    assert single.token_shape == plain.latent_shape[1:] and single.n_quantizers == 1
    torch.testing.assert_close(single.decode_tokens(single.tokens(x)),
                               plain.decode_tokens(plain.tokens(x)), rtol=0, atol=0)


def test_a_one_stage_residual_quantizer_trains_like_the_plain_quantizer():
    z = _clusters()
    plain = VectorQuantizer(8, 4, kmeans_init=True, dead_code_threshold=0.5)
    plain.reset_codebook(torch.Generator().manual_seed(0))
    residual = _rvq(1, kmeans_init=True, dead_code_threshold=0.5)
    _fit(plain, z), _fit(residual, z)
    torch.testing.assert_close(residual.stages[0].codebook, plain.codebook, rtol=0, atol=0)
    torch.testing.assert_close(residual(z).indices[:, 0], plain(z).indices, rtol=0, atol=0)


# -- pure properties of the stages ------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(s=st.integers(1, 4), k=st.integers(1, 8), d=st.integers(1, 4), b=st.integers(1, 3),
       f=st.integers(1, 3), t=st.integers(1, 4), seed=st.integers(0, 1000))
def test_indices_are_in_range_and_the_stage_codes_sum_to_z_q(s, k, d, b, f, t, seed):
    q = _rvq(s, k, d, seed).eval()
    z = torch.randn(b, d, f, t, generator=torch.Generator().manual_seed(seed + 1))
    out = q(z)
    assert out.indices.shape == (b, s, f, t)
    assert out.indices.min() >= 0 and out.indices.max() < k
    torch.testing.assert_close(out.z_q, q.lookup(out.indices))
    per_stage = sum(stage.lookup(out.indices[:, i]) for i, stage in enumerate(q.stages))
    torch.testing.assert_close(out.z_q, per_stage)
    # stage i's code is the nearest one to what the stages before it left over
    residual = z
    for i, stage in enumerate(q.stages):
        flat = residual.permute(0, 2, 3, 1).reshape(-1, d)
        dist = torch.cdist(flat, stage.codebook)
        chosen = dist.gather(1, out.indices[:, i].reshape(-1, 1)).squeeze(1)
        assert torch.all(chosen <= dist.min(1).values + 1e-4)
        residual = residual - stage.lookup(out.indices[:, i])


def _grid_forward(q, z, generator):
    """The stages chained on the (B, D, F, T) grid: what forward's row layout must equal."""
    residual, total, indices = z.detach().float(), 0.0, []
    for stage in q.stages:
        ids, codes = stage.quantize(residual, generator)
        residual, total = residual - codes, total + codes
        indices.append(ids)
    return z + (total - z).detach(), torch.stack(indices, dim=1)


@settings(max_examples=30, deadline=None)
@given(s=st.integers(1, 4), d=st.integers(1, 3), b=st.integers(1, 3), f=st.integers(1, 3),
       t=st.integers(1, 3), centred=st.booleans(), training=st.booleans(),
       seed=st.integers(0, 1000))
def test_rows_give_the_grid_result_to_the_bit_and_leave_z_untouched(s, d, b, f, t, centred,
                                                                    training, seed):
    options = dict(kmeans_init=True, dead_code_threshold=0.5,
                   center_shape=(f, t) if centred else None)
    q, ref = _rvq(s, 4, d, seed, **options), _rvq(s, 4, d, seed, **options)
    q.train(training), ref.train(training)
    z = torch.randn(b, d, f, t, generator=torch.Generator().manual_seed(seed + 1))
    before = z.clone()
    out = q(z, generator=torch.Generator().manual_seed(seed + 2))
    z_q, indices = _grid_forward(ref, z, torch.Generator().manual_seed(seed + 2))
    assert torch.equal(z, before)
    assert torch.equal(out.indices, indices) and torch.equal(out.z_q, z_q)
    assert _same_state(_state(q), _state(ref))
    summed = q.stages[0].lookup(indices[:, 0])
    for i in range(1, s):
        summed = summed + q.stages[i].lookup(indices[:, i])
    assert torch.equal(q.lookup(indices), summed)


def test_rows_of_a_centred_stage_are_refused():
    stage = VectorQuantizer(4, 2, center_shape=(1, 1))
    with pytest.raises(ValueError, match="centred quantizer needs the grid"):
        stage.quantize_rows(torch.zeros(3, 2))


@settings(max_examples=15, deadline=None)
@given(s=st.integers(2, 5), seed=st.integers(0, 1000))
def test_quantization_error_does_not_grow_with_the_number_of_stages_used(s, seed):
    z = _clusters(seed=seed)
    q = _fit(_rvq(s, k=4, seed=seed, kmeans_init=True), z, seed=seed + 1)
    indices = q(z).indices
    errors = [float((z - q.lookup(indices[:, :n])).norm()) for n in range(1, s + 1)]
    assert all(later <= earlier * (1 + 1e-5) for earlier, later in zip(errors, errors[1:]))
    assert errors[-1] < errors[0]


def test_codebooks_move_in_training_and_never_in_eval_mode():
    q, z = _rvq(), _clusters()
    before = _state(q)
    q.eval()(z, generator=torch.Generator().manual_seed(0))
    assert _same_state(before, _state(q))
    q.train()(z, generator=torch.Generator().manual_seed(0))
    for i, stage in enumerate(q.stages):
        assert not torch.equal(before[f"stages.{i}.codebook"], stage.codebook)


def test_commitment_and_straight_through_gradient_use_the_sum_of_the_codes():
    q = _rvq().eval()
    z = torch.randn(2, 4, 3, 5, requires_grad=True)
    out = q(z)
    torch.testing.assert_close(out.commitment, torch.mean((z - out.z_q) ** 2))
    (out.z_q.sum() + out.commitment).backward()
    torch.testing.assert_close(z.grad, 1 + 2 * (z - out.z_q).detach() / z.numel())


def test_training_is_a_function_of_the_generator_and_leaves_the_global_rng_alone():
    z = _clusters()
    options = dict(kmeans_init=True, dead_code_threshold=2.0, dropout=True)
    global_state = torch.get_rng_state()
    a, b = (_fit(_rvq(**options), z, seed=5) for _ in range(2))
    assert torch.equal(torch.get_rng_state(), global_state)
    assert _same_state(_state(a), _state(b))
    assert torch.equal(a(z).indices, b(z).indices)
    other = _fit(_rvq(**options), z, seed=6)
    assert not _same_state(_state(a), _state(other))


def test_dropout_trains_a_generator_drawn_prefix_of_stages_and_eval_uses_all():
    q, z = _rvq(4, dropout=True), _clusters(n=8)
    g = torch.Generator().manual_seed(0)
    used = []
    global_state = torch.get_rng_state()
    for _ in range(20):
        before = _state(q)
        out = q.train()(z, generator=g)
        n = out.indices.shape[1]
        used.append(n)
        torch.testing.assert_close(out.z_q, q.lookup(out.indices))  # the prefix decodes alone
        for i in range(n, 4):  # stages beyond the prefix neither update nor contribute
            assert all(torch.equal(before[key], value) for key, value in _state(q).items()
                       if key.startswith(f"stages.{i}."))
    assert torch.equal(torch.get_rng_state(), global_state)
    assert set(used) <= {1, 2, 3, 4} and len(set(used)) > 1
    replay = _rvq(4, dropout=True)
    g = torch.Generator().manual_seed(0)
    assert [replay.train()(z, generator=g).indices.shape[1] for _ in range(20)] == used
    assert q.eval()(z, generator=g).indices.shape[1] == 4
    assert q.train()(z).indices.shape[1] == 4  # no generator, no draw: every stage
    assert _rvq(4).train()(z, generator=g).indices.shape[1] == 4  # dropout off by default


def test_only_the_first_stage_centres_and_lookup_adds_the_mean_back():
    z = _clusters() + 10.0
    q = _fit(_rvq(3, center_shape=(2, 3)), z)
    assert q.centered and q.stages[0].centered
    assert not any(stage.centered for stage in q.stages[1:])
    assert "stages.1.latent_mean" not in q.state_dict()
    mean = q.stages[0].latent_mean  # (D, F, T), near the data mean 10 + cluster centres
    assert mean.abs().mean() > 5
    out = q(z)
    codes = sum(stage.codebook[out.indices[:, i]] for i, stage in enumerate(q.stages))
    torch.testing.assert_close(out.z_q, codes.permute(0, 3, 1, 2) + mean)


def test_lookup_rejects_more_stages_than_the_quantizer_has():
    q = _rvq(2)
    with pytest.raises(ValueError, match="1 <= s <= 2"):
        q.lookup(torch.zeros(1, 3, 2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="n_quantizers must be at least 1"):
        ResidualVectorQuantizer(0, 4, 2)


# -- the model with stages --------------------------------------------------------------------
def test_a_residual_model_has_a_stage_axis_in_its_tokens_and_decodes_them():
    model = VQVAE(2, 32, **TINY_MODEL, n_quantizers=3, center_latents=True,
                  generator=torch.Generator().manual_seed(0))
    x = torch.randn(5, 2, 32, generator=torch.Generator().manual_seed(1))
    out = model.train()(x, torch.Generator().manual_seed(2))
    loss, parts = vqvae_loss(out)
    assert torch.isfinite(loss) and parts["commitment"] > 0
    model.eval()
    d, f, t = model.latent_shape
    assert isinstance(model.quantizer, ResidualVectorQuantizer)
    assert model.n_quantizers == 3 and model.token_shape == (3, f, t)
    assert model.n_tokens == 3 * f * t
    tokens = model.tokens(x)
    assert tokens.shape == (5, 3, f, t) and tokens.dtype == torch.int64
    z_q = model.token_vectors(tokens)
    assert z_q.shape == (5, d, f, t)
    torch.testing.assert_close(model.decode_tokens(tokens), model.decode_latents(z_q))
    assert model.decode_tokens(tokens[:, :1]).shape == (5, 2, 32)  # the first stage alone


def test_barlow_twins_model_passes_the_stage_options_to_the_quantizer():
    model = BarlowTwinsVQVAE(1, 32, **TINY_MODEL, projector_dims=(8,), n_quantizers=2,
                             quantizer_dropout=True, generator=torch.Generator().manual_seed(0))
    assert model.n_quantizers == 2 and model.quantizer.dropout
    out = model.train()(torch.randn(4, 1, 32), torch.Generator().manual_seed(1))
    assert out.quantized.indices.shape[1] in (1, 2)
    assert torch.isfinite(vqvae_loss(out, gamma=1.0)[0])
