"""Pretrained tokenizers: ``VQVAETransformer(init=...)``, the shipped weights and their checks."""

import json
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from btvqvae import VQVAETransformer
from btvqvae.nn.instance import InstanceTokenizer, instance_normalize, resample
from btvqvae.persistence import CorruptModelError, load
from btvqvae.pretrained import (
    DEFAULT,
    available,
    build_core,
    load_pretrained,
    save_tokenizer,
)

from ._helpers import toy_series

TINY_ARCH = {"n_fft": 8, "hidden_dim": 4, "codebook_size": 4, "code_dim": None,
             "n_res_blocks": 1, "n_quantizers": 2, "n_downsampling": 1}


def _tiny_tokenizer(folder, length=32, seed=0, trained=True):
    """A tiny core with k-means-initialised codebooks, written as a tokenizer folder."""
    core = build_core(TINY_ARCH, length, generator=torch.Generator().manual_seed(seed),
                      kmeans_init=True)
    if trained:  # one training pass initialises the codebooks on data, as pretraining does
        X, _ = toy_series(n=32, length=length, seed=seed)
        x, _, _ = instance_normalize(torch.from_numpy(X).float())
        core.train()
        core(x, torch.Generator().manual_seed(1))
    return save_tokenizer(core.eval(), folder, length=length, corpus="toy series")


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return _tiny_tokenizer(tmp_path_factory.mktemp("tok") / "tiny")


@pytest.fixture(scope="module")
def native_tokenizer(tmp_path_factory):
    return _native(tmp_path_factory.mktemp("tok") / "native")


def _native(folder):
    path = _tiny_tokenizer(folder)
    card = json.loads((path / "card.json").read_text())
    card["length"] = None
    (path / "card.json").write_text(json.dumps(card))
    return path


def _zero(init, **params):
    return VQVAETransformer(init=str(init), max_steps=0, **params)


# -- the shipped tokenizer -------------------------------------------------------------------
def test_the_default_tokenizer_ships_inside_the_package_and_verifies():
    assert DEFAULT in available()
    shipped = load_pretrained("pretrained")
    assert shipped.name == DEFAULT and shipped.length == 256
    card = shipped.card
    assert card["corpus"]["labels_used"] is False and card["corpus"]["split"] == "TRAIN"
    assert card["command"].startswith("python -m benchmarks.pretrain")


def test_zero_fit_with_the_shipped_tokenizer_classifies_easy_data_well_above_chance():
    X, y = toy_series(n=40, length=60)
    X_test, y_test = toy_series(n=40, length=60, seed=1)
    clf = make_pipeline(VQVAETransformer(init="pretrained", max_steps=0),
                        SVC(kernel="linear")).fit(X, y)
    assert clf.score(X_test, y_test) >= 0.9
    est = clf[0]
    assert est.n_iter_ == 0 and est.loss_curve_ == []
    assert est.token_shape_ == (8, 5, 32)  # resampled to 256 whatever the length


# -- one vocabulary --------------------------------------------------------------------------
def test_tokens_of_a_series_do_not_depend_on_the_data_fit_saw(tokenizer):
    A, _ = toy_series(n=10, length=50, seed=0)
    B, _ = toy_series(n=10, length=50, seed=3)
    probe, _ = toy_series(n=6, length=50, seed=5)
    on_a = _zero(tokenizer).fit(A).encode(probe, output="tokens")
    on_b = _zero(tokenizer).fit(B * 100 + 7).encode(probe, output="tokens")
    np.testing.assert_array_equal(on_a, on_b)


def test_tokens_are_those_of_the_series_shape_not_its_level_or_scale(tokenizer):
    X, _ = toy_series(n=12, length=40)
    est = _zero(tokenizer).fit(X)
    same = est.encode(X, output="tokens") == est.encode(3 * X - 2, output="tokens")
    assert same.mean() >= 0.99  # float rounding of the normalisation may move a boundary


def test_each_channel_is_tokenised_like_a_univariate_series(tokenizer):
    X, _ = toy_series(n=8, length=40, channels=3)
    multi = _zero(tokenizer).fit(X)
    grid = multi.encode(X, output="tokens").reshape(len(X), *multi.token_shape_)
    s, cf, t = multi.token_shape_
    for c in range(3):
        one = _zero(tokenizer).fit(X[:, c]).encode(X[:, c], output="tokens")
        one = one.reshape(len(X), s, cf // 3, t)
        np.testing.assert_array_equal(grid[:, :, c * (cf // 3):(c + 1) * (cf // 3)], one)


@settings(max_examples=12, deadline=None)
@given(length=st.integers(1, 400), channels=st.integers(1, 3))
def test_any_length_and_channel_count_tokenise_and_decode(tokenizer, length, channels):
    X = np.random.default_rng(length).standard_normal((3, channels, length))
    est = _zero(tokenizer).fit(X)
    tokens = est.encode(X, output="tokens")
    stages, rows, steps = est.token_shape_
    assert (stages, rows, steps) == (2, 5 * channels, 8)  # the core's grid per channel
    assert tokens.shape == (3, est.n_tokens_)
    assert tokens.min() >= 0 and tokens.max() < TINY_ARCH["codebook_size"]
    assert est.inverse_transform(est.transform(X)).shape == X.shape
    assert np.all(np.isfinite(est.reconstruct(X)))


def test_reconstruct_gives_each_series_its_level_and_spread_back(tokenizer):
    X, _ = toy_series(n=10, length=32)
    est = _zero(tokenizer).fit(X)
    base = est.reconstruct(X)
    moved = est.reconstruct(5 * X + 40)
    np.testing.assert_allclose(moved, 5 * base + 40, rtol=1e-4, atol=1e-3)
    error = np.mean((moved - (5 * X + 40)) ** 2)
    np.testing.assert_allclose(error, 25 * np.mean((base - X) ** 2), rtol=1e-3)


def test_a_constant_series_reconstructs_as_that_constant(tokenizer):
    X, _ = toy_series(n=6, length=32)
    X[0] = 7.0
    np.testing.assert_allclose(_zero(tokenizer).fit(X).reconstruct(X)[0], 7.0, atol=1e-3)


def test_resample_keeps_end_points_and_round_trips_linear_series():
    x = torch.linspace(-1, 1, 17).reshape(1, 1, -1)
    up = resample(x, 33)
    assert up[0, 0, 0] == x[0, 0, 0] and up[0, 0, -1] == x[0, 0, -1]
    torch.testing.assert_close(resample(up, 17), x)


def test_the_instance_module_folds_channels_into_frequency_rows_and_back():
    core = build_core(TINY_ARCH, 32, generator=torch.Generator().manual_seed(0))
    module = InstanceTokenizer(core, 3, 50, 32)
    grid = torch.arange(2 * 2 * 15 * 16).reshape(2, 2, 15, 16)
    torch.testing.assert_close(module._fold(module._unfold(grid)), grid)


# -- fitting, fine-tuning, the sklearn idiom -------------------------------------------------
def test_zero_fit_keeps_the_pretrained_weights(tokenizer):
    X, _ = toy_series(n=12, length=40)
    est = _zero(tokenizer).fit(X)
    saved = load_pretrained(str(tokenizer)).state
    for key, value in est.net_.module_.core.state_dict().items():
        torch.testing.assert_close(value, saved[key], rtol=0, atol=0)


def test_fine_tuning_moves_the_weights_and_is_reproducible(tokenizer):
    X, _ = toy_series(n=16, length=40)
    a = VQVAETransformer(init=str(tokenizer), max_steps=3, batch_size=8, random_state=0).fit(X)
    b = clone(a).fit(X)
    assert a.n_iter_ >= 1 and len(a.loss_curve_) == a.n_iter_
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    zero = _zero(tokenizer).fit(X)
    assert not np.array_equal(a.transform(X), zero.transform(X))


def test_grid_search_chooses_among_fine_tuning_budgets(tokenizer):
    X, y = toy_series(n=24, length=40)
    grid = GridSearchCV(make_pipeline(VQVAETransformer(init=str(tokenizer), batch_size=8,
                                                       random_state=0), SVC(kernel="linear")),
                        {"vqvaetransformer__max_steps": [0, 2]}, cv=2).fit(X, y)
    assert grid.best_params_["vqvaetransformer__max_steps"] in (0, 2)


@pytest.mark.parametrize("output", ["embedding", "tokens", "histogram", "latent", "pooled",
                                    "bag"])
def test_every_output_mode_survives_save_load_and_pickle(tokenizer, tmp_path, output):
    X, _ = toy_series(n=8, length=40)
    est = _zero(tokenizer, output=output).fit(X)
    loaded = load(est.save(tmp_path / "m"))
    assert loaded.pretrained_ == est.pretrained_
    pickled = pickle.loads(pickle.dumps(est))
    for other in (loaded, pickled):
        a, b = est.transform(X), other.transform(X)
        a, b = (a.toarray(), b.toarray()) if hasattr(a, "toarray") else (a, b)
        np.testing.assert_array_equal(a, b)


def test_a_saved_model_loads_without_the_tokenizer_files(tmp_path):
    X, _ = toy_series(n=8, length=40)
    folder = _tiny_tokenizer(tmp_path / "gone")
    est = _zero(folder).fit(X)
    saved = est.save(tmp_path / "model")
    for file in folder.iterdir():
        file.unlink()
    np.testing.assert_array_equal(load(saved).transform(X), est.transform(X))


def test_fit_does_not_modify_its_input(tokenizer):
    X, _ = toy_series(n=8, length=40)
    before = X.copy()
    _zero(tokenizer).fit(X).reconstruct(X)
    np.testing.assert_array_equal(X, before)


def test_native_length_tokens_grow_with_the_series(native_tokenizer):
    short = _zero(native_tokenizer).fit(np.random.default_rng(0).normal(size=(3, 40)))
    long = _zero(native_tokenizer).fit(np.random.default_rng(0).normal(size=(3, 160)))
    assert long.n_tokens_ > 3 * short.n_tokens_


# -- bad input -------------------------------------------------------------------------------
def test_init_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="init must be None"):
        VQVAETransformer(init=3, max_steps=0).fit(toy_series()[0])


def test_an_unknown_tokenizer_name_lists_the_shipped_ones(tmp_path):
    with pytest.raises(ValueError, match="neither a shipped tokenizer.*'pretrained'"):
        _zero(tmp_path / "nothing-here").fit(toy_series()[0])


def test_max_steps_zero_without_init_says_it_needs_a_pretrained_tokenizer():
    with pytest.raises(ValueError, match="max_steps=0 trains nothing.*init='pretrained'"):
        VQVAETransformer(max_steps=0).fit(toy_series()[0])


def test_an_architecture_parameter_that_contradicts_the_card_is_refused(tokenizer):
    with pytest.raises(ValueError, match="hidden_dim=16 differs from the pretrained"):
        _zero(tokenizer, hidden_dim=16).fit(toy_series()[0])
    _zero(tokenizer, hidden_dim=4).fit(toy_series()[0])  # the card's own value is fine


def test_center_latents_cannot_be_combined_with_init(tokenizer):
    with pytest.raises(ValueError, match="center_latents=True cannot be used with init"):
        _zero(tokenizer, center_latents=True).fit(toy_series()[0])


def test_weights_that_do_not_match_the_card_checksum_are_refused(tmp_path):
    folder = _tiny_tokenizer(tmp_path / "tok")
    data = bytearray((folder / "weights.pt").read_bytes())
    data[-10] ^= 0xFF
    (folder / "weights.pt").write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match="sha256"):
        _zero(folder).fit(toy_series()[0])


@pytest.mark.parametrize("edit, message", [
    ({"format": "other"}, "not a btvqvae tokenizer card"),
    ({"architecture": {"n_fft": 8}}, "architecture"),
    ({"length": 0}, "length"),
    ({"format_version": 99}, "format_version"),
])
def test_a_damaged_card_is_a_corrupt_model_error(tmp_path, edit, message):
    folder = _tiny_tokenizer(tmp_path / "tok")
    card = json.loads((folder / "card.json").read_text())
    (folder / "card.json").write_text(json.dumps({**card, **edit}))
    with pytest.raises(CorruptModelError, match=message):
        _zero(folder).fit(toy_series()[0])


def test_a_card_whose_architecture_does_not_fit_its_weights_is_refused(tmp_path):
    folder = _tiny_tokenizer(tmp_path / "tok")
    card = json.loads((folder / "card.json").read_text())
    card["architecture"]["hidden_dim"] = 8
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(CorruptModelError, match="do not fit the architecture"):
        _zero(folder).fit(toy_series()[0])


def test_a_series_too_short_for_a_native_length_tokenizer_names_the_minimum(native_tokenizer):
    with pytest.raises(ValueError, match="needs at least"):
        _zero(native_tokenizer).fit(np.arange(3.0)[:, None])  # one timepoint each


def test_the_vocabulary_figure_has_a_panel_per_code_and_checks_the_stage(tokenizer):
    pytest.importorskip("matplotlib")
    from btvqvae.plotting import plot_vocabulary

    fig = plot_vocabulary(str(tokenizer), stage=1)
    drawn = [ax for ax in fig.axes if ax.lines]
    assert len(drawn) == TINY_ARCH["codebook_size"]
    with pytest.raises(ValueError, match="stage must lie in"):
        plot_vocabulary(str(tokenizer), stage=2)


def test_code_vectors_are_the_stage_codebooks_and_decode_one_series_each(tokenizer):
    core = load_pretrained(str(tokenizer)).core()
    vectors = core.code_vectors()
    assert vectors.shape == (2, 4, 4)
    assert core.code_decodings(0).shape == (4, 1, 32)
