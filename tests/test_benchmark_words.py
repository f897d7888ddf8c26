"""The column-word screen: its word keys, its vocabulary counts and one tiny run."""

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from benchmarks import words
from btvqvae.readouts import BAG_LEVELS

from .test_benchmarks import write_archive

N_REGIONS = sum(BAG_LEVELS)


@st.composite
def token_grids(draw):
    k = draw(st.integers(2, 6))
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 4)),
             draw(st.integers(1, 9)))
    return draw(arrays(np.int64, shape, elements=st.integers(0, k - 1))), k


@settings(max_examples=60, deadline=None)
@given(token_grids())
def test_every_step_counts_once_per_region_level_and_stage(grid):
    ids, k = grid
    n, n_stages, _, n_steps = ids.shape
    keys = words.column_keys(ids, k, n_stages)
    vocabulary = np.unique(np.concatenate(keys))
    counts = words.count_matrix(keys, vocabulary).toarray()
    # each level's regions cover every step once, for every stage
    assert counts.sum(axis=1).tolist() == [len(BAG_LEVELS) * n_stages * n_steps] * n


@settings(max_examples=60, deadline=None)
@given(token_grids())
def test_equal_columns_give_equal_words_and_different_columns_differ(grid):
    ids, k = grid
    keys = words.column_keys(ids[:1], k, 1)[0]
    whole = keys[: ids.shape[-1]]  # region 0, stage 0: one key per time step, in order
    columns = ids[0, 0].T  # (T', F)
    for a in range(len(columns)):
        for b in range(len(columns)):
            assert (whole[a] == whole[b]) == bool(np.all(columns[a] == columns[b]))


def test_test_words_outside_the_training_vocabulary_are_dropped():
    vocabulary = np.array([3, 7, 11])
    counts = words.count_matrix([np.array([7, 7, 2, 11]), np.array([12, 0])], vocabulary)
    assert counts.shape == (2, 3)
    assert counts.toarray().tolist() == [[0, 2, 1], [0, 0, 0]]


def test_a_tiny_run_scores_every_feature_set_and_skips_it_when_rerun(tmp_path, capsys):
    archive = write_archive(tmp_path / "ucr", np.random.default_rng(0))
    out = tmp_path / "words.jsonl"
    argv = ["--data-dir", str(archive), "--datasets", "Alpha", "--max-steps", "2",
            "--out", str(out), "--report", str(tmp_path / "words.md")]
    words.main(argv)
    (record,) = [json.loads(line) for line in out.open()]
    for feature in words.FEATURES:
        assert 0.0 <= record[feature]["svc"] <= 1.0 and 0.0 <= record[feature]["ridge"] <= 1.0
    assert record["bag+columns_s0"]["dim"] == (record["bag"]["dim"]
                                               + record["columns_s0"]["dim"])
    assert record["columns_s0"]["dim"] <= record["columns_all"]["dim"]
    words.main(argv)
    assert len(out.read_text().splitlines()) == 1
    assert "| **mean (1)** |" in (tmp_path / "words.md").read_text()
