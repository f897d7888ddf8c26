"""Read-outs: shapes, dtypes and decoding of every output mode, with one and with three stages."""

import math

import numpy as np
import pytest
import torch
from scipy import sparse

from btvqvae.nn.model import VQVAE
from btvqvae.readouts import READOUTS
from btvqvae.training import VQVAENet

STAGES = (1, 3)
DECODABLE = ("tokens", "embedding", "latent", "sequence")


def _model(n_quantizers):
    model = VQVAE(2, 32, hidden_dim=4, n_res_blocks=1, codebook_size=5,
                  n_quantizers=n_quantizers, generator=torch.Generator().manual_seed(0))
    model.train()(_series(), torch.Generator().manual_seed(1))  # one EMA step, BN statistics
    return model.eval()


def _series(n=6):
    return torch.randn(n, 2, 32, generator=torch.Generator().manual_seed(2))


@pytest.mark.parametrize("s", STAGES)
@pytest.mark.parametrize("name", sorted(READOUTS))
def test_each_readout_has_its_declared_width_and_dtype(name, s):
    model, x = _model(s), _series()
    readout = READOUTS[name]
    with torch.no_grad():
        features = readout.encode(model, x)
    if readout.sparse:  # the column of every word occurrence, which the net counts
        assert features.dtype == torch.int64 and len(features) == 6
        assert 0 <= int(features.min()) and int(features.max()) < readout.n_features(model)
    else:
        shape = (readout.n_features(model),) if readout.shape is None else readout.shape(model)
        assert features.shape == (6, *shape) and math.prod(shape) == readout.n_features(model)
        assert (features.dtype == torch.int64) == readout.integer == (name == "tokens")
    assert readout.sparse == (name == "bag") == (readout.feature_names is not None)
    d, f, t = model.latent_shape
    widths = {"tokens": s * f * t, "embedding": d * f * t, "histogram": s * 5,
              "latent": d * f * t, "pooled": 2 * d * f, "bag": 7 * s * f * (5 + 5 * 5),
              "sequence": d * f * t, "decoded": 2 * 32}
    assert (readout.shape is not None) == (name in ("sequence", "decoded"))
    assert readout.series == (name == "decoded")
    assert readout.n_features(model) == widths[name]
    assert readout.summary and "\n" not in readout.summary
    assert (readout.decode is not None) == (name in DECODABLE)


@pytest.mark.parametrize("s", STAGES)
def test_token_and_embedding_features_decode_to_what_the_model_reconstructs(s):
    model, x = _model(s), _series()
    with torch.no_grad():
        tokens = READOUTS["tokens"].encode(model, x)
        expected = model.decode_tokens(model.tokens(x))
        assert torch.equal(tokens.reshape(-1, *model.token_shape), model.tokens(x))
        torch.testing.assert_close(READOUTS["tokens"].decode(model, tokens), expected)
        embedding = READOUTS["embedding"].encode(model, x)
        torch.testing.assert_close(READOUTS["embedding"].decode(model, embedding), expected)


@pytest.mark.parametrize("s", STAGES)
def test_decoded_readout_is_what_the_tokens_decode_to(s):
    model, x = _model(s), _series()
    with torch.no_grad():
        decoded = READOUTS["decoded"].encode(model, x)
        assert decoded.shape == x.shape
        torch.testing.assert_close(decoded, model.decode_tokens(model.tokens(x)))
        assert not torch.allclose(decoded, x)  # a reconstruction, not the input


@pytest.mark.parametrize("s", STAGES)
def test_latent_readout_is_the_continuous_encoder_output_and_decodes(s):
    model, x = _model(s), _series()
    with torch.no_grad():
        latent = READOUTS["latent"].encode(model, x)
        torch.testing.assert_close(latent, model.latents(x).flatten(1))
        assert not torch.allclose(latent, READOUTS["embedding"].encode(model, x))
        torch.testing.assert_close(READOUTS["latent"].decode(model, latent),
                                   model.decode_latents(model.latents(x)))


@pytest.mark.parametrize("s", STAGES)
def test_embedding_is_the_sum_of_the_stage_codes(s):
    model, x = _model(s), _series()
    with torch.no_grad():
        tokens = model.tokens(x)
        embedding = READOUTS["embedding"].encode(model, x)
        torch.testing.assert_close(embedding, model.token_vectors(tokens).flatten(1))
        if s > 1:  # every stage adds something to the first stage's vectors
            coarse = model.token_vectors(tokens[:, :1]).flatten(1)
            assert not torch.allclose(embedding, coarse)


@pytest.mark.parametrize("s", STAGES)
def test_histogram_is_each_stages_share_of_codes(s):
    model, x = _model(s), _series()
    with torch.no_grad():
        hist = READOUTS["histogram"].encode(model, x).reshape(6, s, 5)  # (B, S, K)
        tokens = model.tokens(x).reshape(6, s, -1)  # (B, S, F·T')
    torch.testing.assert_close(hist.sum(-1), torch.ones(6, s))
    for b in range(6):
        for stage in range(s):
            counts = torch.bincount(tokens[b, stage], minlength=5).float()
            torch.testing.assert_close(hist[b, stage], counts / tokens.shape[-1])


@pytest.mark.parametrize("s", STAGES)
def test_pooled_is_the_time_mean_and_max_of_the_embedding_grid(s):
    model, x = _model(s), _series()
    d, f, t = model.latent_shape
    with torch.no_grad():
        pooled = READOUTS["pooled"].encode(model, x).reshape(6, 2, d, f)
        grid = READOUTS["embedding"].encode(model, x).reshape(6, d, f, t)
    torch.testing.assert_close(pooled[:, 0], grid.mean(-1))
    torch.testing.assert_close(pooled[:, 1], grid.amax(-1))


@pytest.mark.parametrize("s", STAGES)
def test_the_net_allocates_and_fills_every_readout(s):
    net = VQVAENet(_model(s), criterion=torch.nn.MSELoss, train_split=None, max_epochs=1,
                   input_mean=0.5, input_scale=2.0).initialize()
    X = np.random.default_rng(0).standard_normal((7, 2, 32)).astype(np.float32)
    for name, readout in READOUTS.items():
        Z = net.encode(X, name)
        assert math.prod(Z.shape[1:]) == readout.n_features(net.module_)
        assert Z.ndim == (2 if readout.shape is None else 3)
        assert sparse.issparse(Z) == readout.sparse
        assert Z.dtype == (np.int64 if readout.integer else np.float32)
        if readout.decode is not None:
            assert net.decode(Z, name).shape == X.shape
