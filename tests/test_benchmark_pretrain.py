"""benchmarks.pretrain and benchmarks.transfer on a tiny fake UCR archive."""

import json

import numpy as np
import pytest

from benchmarks import pretrain, transfer
from btvqvae import VQVAETransformer
from btvqvae.pretrained import load_pretrained

from ._helpers import toy_series


def _write_split(folder, name, split, X, y):
    rows = np.column_stack([y, X[:, 0]])
    np.savetxt(folder / f"{name}_{split}.tsv", rows, delimiter="\t", fmt="%.6g")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Two datasets: 'Toy' (TRAIN and TEST) and 'Ragged' (NaN padding, an interior gap)."""
    root = tmp_path_factory.mktemp("ucr")
    (root / "Toy").mkdir()
    X, y = toy_series(n=24, length=40)
    X_test, y_test = toy_series(n=24, length=40, seed=1)
    _write_split(root / "Toy", "Toy", "TRAIN", X, y + 1)
    _write_split(root / "Toy", "Toy", "TEST", X_test, y_test + 1)
    (root / "Ragged").mkdir()
    ragged = np.full((3, 1, 30), np.nan)
    ragged[0, 0, :30] = np.arange(30)
    ragged[1, 0, :20] = np.arange(20)
    ragged[2, 0, :25] = np.arange(25)
    ragged[2, 0, 5] = np.nan  # a missing value inside the series
    _write_split(root / "Ragged", "Ragged", "TRAIN", ragged, np.array([1e6, 1e6, 1e6]))
    return root


def _args(archive, out, *extra):
    return ["--data-dir", str(archive), "--out", str(out), "--length", "32",
            "--hidden-dim", "4", "--batch-size", "8", "--torch-threads", "1", *extra]


def test_train_splits_lose_their_labels_and_nan_padding_and_gaps_are_filled(archive):
    series = pretrain.read_train_split(archive / "Ragged")
    assert [len(s) for s in series] == [30, 20, 25]
    np.testing.assert_allclose(series[2], np.arange(25))  # the gap interpolated, no label
    prepared = pretrain.prepare(series, 32)
    assert prepared.shape == (3, 1, 32)
    np.testing.assert_allclose(prepared.mean(-1), 0, atol=1e-5)
    # ramps stay straight lines after normalising and resampling (no label, no NaN in them)
    np.testing.assert_allclose(np.diff(prepared.numpy(), n=2, axis=-1), 0, atol=1e-5)


def test_excluded_datasets_never_enter_the_corpus(archive):
    assert [f.name for f in pretrain.find_datasets([archive], ["toy"])] == ["Ragged"]
    with pytest.raises(SystemExit, match="not found"):
        pretrain.find_datasets([archive], ["NoSuchData"])


def test_batches_are_balanced_across_datasets_of_any_size():
    rows = [np.arange(1000), np.arange(1000, 1003)]
    batch = pretrain.balanced_batch(rows, 4000, np.random.default_rng(0))
    assert 0.45 < np.mean(batch >= 1000) < 0.55


def test_pretraining_writes_a_tokenizer_the_estimator_loads(archive, tmp_path):
    out = tmp_path / "tok"
    assert pretrain.main(_args(archive, out, "--steps", "4", "--save-at", "2")) == 0
    card = json.loads((out / "card.json").read_text())
    assert card["corpus"]["n_datasets"] == 2 and card["corpus"]["labels_used"] is False
    assert card["training"]["steps"] == 4 and card["length"] == 32
    assert (out / "step2" / "card.json").is_file()
    X, _ = toy_series(n=6, length=50)
    est = VQVAETransformer(init=str(out), max_steps=0).fit(X)
    assert est.pretrained_["weights_sha256"] == card["weights_sha256"]


def test_an_interrupted_pretraining_resumes_to_the_same_weights(archive, tmp_path):
    pretrain.main(_args(archive, tmp_path / "straight", "--steps", "4"))
    resumed = tmp_path / "resumed"
    pretrain.main(_args(archive, resumed, "--steps", "4", "--stop-after", "2",
                        "--checkpoint-every", "2"))
    assert not (resumed / "card.json").exists()
    pretrain.main(_args(archive, resumed, "--steps", "4"))
    assert load_pretrained(str(resumed)).weights_sha256 == \
        load_pretrained(str(tmp_path / "straight")).weights_sha256


def test_resuming_with_other_settings_is_refused(archive, tmp_path):
    out = tmp_path / "tok"
    pretrain.main(_args(archive, out, "--steps", "4", "--stop-after", "2"))
    with pytest.raises(SystemExit, match="other settings"):
        pretrain.main(_args(archive, out, "--steps", "4", "--lr", "0.01"))


def test_transfer_cells_score_zero_fit_fine_tuned_and_native_tokenizers(archive, tmp_path):
    tok = tmp_path / "tok"
    pretrain.main(_args(archive, tok, "--steps", "2"))
    out = tmp_path / "transfer.jsonl"
    transfer.main(["run", "--data-dir", str(archive), "--tokenizers", str(tok),
                   "--datasets", "Toy", "--configs", "zero", "ft2", "native",
                   "--out", str(out)])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["config"] for r in records] == ["zero", "ft2", "native"]
    for r in records:
        assert 0.5 <= r["readouts"]["embedding"]["svc"] <= 1.0  # easy data: above chance
        assert set(r["readouts"]) >= {"embedding", "latent", "pooled", "pipeline",
                                      "embedding+stats"}
    assert records[0]["thread_agreement"] >= 0.99
    # a rerun skips finished cells
    transfer.main(["run", "--data-dir", str(archive), "--tokenizers", str(tok),
                   "--datasets", "Toy", "--configs", "zero", "--out", str(out)])
    assert len(out.read_text().splitlines()) == 3


def test_a_barlow_twins_pretraining_ships_its_core_without_the_projector(archive, tmp_path):
    out = tmp_path / "bt"
    pretrain.main(_args(archive, out, "--steps", "2", "--gamma", "1"))
    tokenizer = load_pretrained(str(out))
    assert not any(key.startswith("projector.") for key in tokenizer.state)
    assert tokenizer.card["training"]["barlow_twins"]["gamma"] == 1.0


def test_report_labels_tell_fold_tokenizers_from_budget_corpus_and_bt_variants():
    assert transfer._label({"tokenizer": "fold2", "config": "ft50"}) == "ft50"
    assert transfer._label({"tokenizer": "step1000", "config": "zero"}) == "zero:step1000"
    assert transfer._label({"tokenizer": "fold0-bt", "config": "zero"}) == "zero:bt"


def test_against_pairs_each_configuration_with_per_dataset_training_on_shared_datasets():
    def rec(acc):
        return {"readouts": {"embedding": {"svc": acc}}, "fit_seconds": 1.0,
                "transform_seconds": 0.1}
    cell = {("A", "zero"): rec(0.9), ("B", "zero"): rec(0.5), ("A", "ft50"): rec(1.0)}
    rows = {r["config"]: r for r in transfer.against(cell, ["zero", "ft50"], ["A", "B"],
                                                      {"A": 0.8, "B": 0.6})}
    assert rows["zero"]["datasets"] == 2 and rows["zero"]["wins"] == 1
    assert rows["zero"]["losses"] == 1
    assert rows["ft50"]["datasets"] == 1 and rows["ft50"]["zero_fit_mean"] == 0.9


def test_folds_cover_the_development_panel_once():
    names = [d for fold in transfer.FOLDS for d in fold]
    assert len(names) == len(set(names)) == 20 and {len(f) for f in transfer.FOLDS} == {5}


def test_token_vectors_read_as_a_series_by_minirocket_score_above_chance(archive):
    from benchmarks import token_sequence

    record = token_sequence.run_dataset("Toy", 0, "zero-fit", str(archive), readouts=[
        "sequence_minirocket", "decoded_minirocket"])
    assert record["shape"] == [32 * 5, 32]  # code_dim x freq channels, token steps
    assert record["tokenizer"] == "pretrained"
    for readout in ("sequence_minirocket", "decoded_minirocket"):
        assert record["readouts"][readout]["accuracy"] >= 0.8  # sines against square waves
