import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from btvqvae.datasets import DatasetNotFoundError, bundled_data_dir, list_ucr, load_ucr

# Synthetic problems shaped like the UCR-2018 files they imitate.
# DodgerLoopDay: equal length, NaN inside series (also at the very start), integer labels.
DODGER = {
    "TRAIN": [("1", [np.nan, 2, np.nan, 4, 5, 6]), ("2", [1, 1, 1, 1, 1, 1])],
    "TEST": [("1", [0, 2, np.nan, np.nan, 8, 10]), ("2", [3, 3, 3, 3, 3, 3])],
}
# GesturePebbleZ1: unequal length, each row padded with trailing NaN to the file's width.
# Values are linear ramps, so resampling keeps them exactly linear.
PEBBLE_LENGTHS = {"TRAIN": [6, 3, 5], "TEST": [2, 4]}


def ramp(n, k):
    return list(np.linspace(0.0, float(k), n))


def write_tsv(path, rows, width=None):
    width = width or max(len(v) for _, v in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for label, values in rows:
            padded = list(values) + [np.nan] * (width - len(values))
            f.write("\t".join([label] + ["NaN" if np.isnan(v) else repr(float(v))
                                         for v in padded]) + "\n")


def write_ts(path, cases, labels, missing="NaN", regression=False):
    """Write an aeon .ts file; ``cases`` is a list of 2-D (n_channels, n_timepoints_i)."""
    equal = len({np.shape(c) for c in cases}) == 1
    target = "@targetLabel true" if regression else (
        "@classLabel true " + " ".join(sorted(set(labels))))
    header = ["@problemName synthetic", "@timeStamps false", "@missing true",
              f"@univariate {str(len(cases[0]) == 1).lower()}",
              f"@equalLength {str(equal).lower()}", target, "@data"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(header) + "\n")
        for case, label in zip(cases, labels):
            channels = [",".join(missing if np.isnan(v) else repr(float(v)) for v in ch)
                        for ch in case]
            f.write(":".join(channels + [label]) + "\n")


@pytest.fixture
def archive(tmp_path):
    root = tmp_path / "archive"
    for split, rows in DODGER.items():
        write_tsv(root / "Dodgerish" / f"Dodgerish_{split}.tsv", rows)
    for split, lengths in PEBBLE_LENGTHS.items():
        rows = [(str(i % 2 + 1), ramp(n, i + 1)) for i, n in enumerate(lengths)]
        # TRAIN is padded to 6 columns, TEST only to 4: the shared length must come from
        # the longest series, not from a file's width.
        write_tsv(root / "Pebbleish" / f"Pebbleish_{split}.tsv", rows)
    rng = np.random.default_rng(0)
    motions = {s: [rng.normal(size=(3, 8)) for _ in range(n)] for s, n in
               (("TRAIN", 4), ("TEST", 2))}
    for split, cases in motions.items():
        labels = ["Walking", "Running"] * (len(cases) // 2)
        write_ts(root / "Motions" / f"Motions_{split}.ts", cases, labels)
    gestures = {"TRAIN": [np.arange(10.0).reshape(2, 5), np.ones((2, 3))],
                "TEST": [np.full((2, 7), 2.0)]}
    for split, cases in gestures.items():
        write_ts(root / "Gestures" / f"Gestures_{split}.ts", cases, ["a", "b"][: len(cases)])
    write_tsv(root / "OnlyTrain" / "OnlyTrain_TRAIN.tsv", DODGER["TRAIN"])
    return root


def snapshot(folder):
    return sorted(str(p) for p in Path(folder).rglob("*"))


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --- aeon's bundled datasets -------------------------------------------------------------

def test_bundled_gunpoint_has_the_official_split_shapes(no_network):
    X_train, y_train = load_ucr("GunPoint", split="train")
    X_test, y_test = load_ucr("GunPoint", split="test")
    X_all, y_all = load_ucr("GunPoint")
    assert X_train.shape == (50, 1, 150) and X_test.shape == (150, 1, 150)
    assert X_all.shape == (200, 1, 150)
    np.testing.assert_array_equal(X_all, np.concatenate([X_train, X_test]))
    np.testing.assert_array_equal(y_all, np.concatenate([y_train, y_test]))
    assert X_all.dtype == np.float64 and y_all.dtype.kind == "U"
    assert set(y_all) == {"1", "2"}


def test_bundled_basic_motions_has_six_channels(no_network):
    X, y = load_ucr("BasicMotions", split="TRAIN")
    assert X.shape == (40, 6, 100)
    assert len(y) == 40 and y.dtype.kind == "U"


def test_bundled_unequal_length_problem_comes_back_as_list_or_padded(no_network):
    X_list, y = load_ucr("PickupGestureWiimoteZ", unequal="list")
    lengths = [x.shape[1] for x in X_list]
    assert len(set(lengths)) > 1 and all(x.ndim == 2 for x in X_list)
    X, _ = load_ucr("PickupGestureWiimoteZ", unequal="pad")
    assert X.shape == (len(X_list), 1, max(lengths))


def test_bundled_listing_holds_classification_problems_only():
    names = list_ucr()
    assert {"GunPoint", "ItalyPowerDemand", "BasicMotions", "UnitTest"} <= set(names)
    assert "Covid3Month" not in names  # a bundled regression problem


def test_bundled_load_and_failure_create_nothing_in_home(tmp_path, monkeypatch, no_network):
    real_home = Path.home()
    home_before = sorted(os.listdir(real_home))
    data_before = snapshot(bundled_data_dir().parent)
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.delenv("AEON_DATA", raising=False)

    load_ucr("ItalyPowerDemand", split="test")
    with pytest.raises(DatasetNotFoundError):
        load_ucr("ECG200")  # in aeon's download list, not bundled

    assert os.listdir(fake_home) == []  # aeon's loader would create ~/aeon_data
    assert sorted(os.listdir(real_home)) == home_before
    assert snapshot(bundled_data_dir().parent) == data_before


# --- local archives ----------------------------------------------------------------------

def test_tsv_archive_and_dataset_folder_give_the_same_data(archive):
    X, y = load_ucr("Dodgerish", split="train", data_dir=archive)
    X_folder, y_folder = load_ucr("Dodgerish", split="train", data_dir=archive / "Dodgerish")
    assert X.shape == (2, 1, 6) and X.dtype == np.float64
    np.testing.assert_array_equal(X, X_folder)
    np.testing.assert_array_equal(y, ["1", "2"])
    np.testing.assert_array_equal(y_folder, y)


def test_split_none_concatenates_train_then_test(archive):
    X, y = load_ucr("Dodgerish", data_dir=str(archive))
    assert X.shape == (4, 1, 6)
    np.testing.assert_array_equal(X[2, 0], DODGER["TEST"][0][1])
    np.testing.assert_array_equal(y, ["1", "2", "1", "2"])


@pytest.mark.parametrize("split", ["TRAIN", "Train", "train"])
def test_split_is_case_insensitive(archive, split):
    X, _ = load_ucr("Dodgerish", split=split, data_dir=archive)
    assert len(X) == 2


@pytest.mark.parametrize("split", ["validation", "", "TRAIN_TEST", 0, ["train"]])
def test_an_unknown_split_raises_value_error(archive, split):
    with pytest.raises(ValueError, match="split"):
        load_ucr("Dodgerish", split=split, data_dir=archive)


def test_ts_archive_reads_multivariate_series(archive):
    X, y = load_ucr("Motions", split="train", data_dir=archive)
    assert X.shape == (4, 3, 8) and X.dtype == np.float64
    # aeon's .ts reader lower-cases the whole line, labels included
    assert set(y) == {"walking", "running"}


def test_ts_is_preferred_when_both_formats_exist(archive):
    folder = archive / "Motions"
    write_tsv(folder / "Motions_TRAIN.tsv", DODGER["TRAIN"])
    write_tsv(folder / "Motions_TEST.tsv", DODGER["TEST"])
    X, _ = load_ucr("Motions", data_dir=archive)
    assert X.shape == (6, 3, 8)


def test_archive_listing_needs_both_splits_in_one_format(archive):
    assert list_ucr(archive) == ["Dodgerish", "Gestures", "Motions", "Pebbleish"]
    assert list_ucr(archive / "Motions") == ["Motions"]


def test_a_regression_ts_file_is_refused(tmp_path):
    cases = [np.zeros((1, 4)), np.ones((1, 4))]
    for split in ("TRAIN", "TEST"):
        write_ts(tmp_path / "Reg" / f"Reg_{split}.ts", cases, ["0.5", "1.5"], regression=True)
    assert list_ucr(tmp_path) == []
    with pytest.raises(ValueError, match="regression"):
        load_ucr("Reg", data_dir=tmp_path)


def test_integer_tsv_values_come_back_as_float64(tmp_path):
    for split in ("TRAIN", "TEST"):
        (tmp_path / f"Ints_{split}.tsv").write_text("1\t1\t2\t3\n-1\t4\t5\t6\n")
    X, y = load_ucr("Ints", split="test", data_dir=tmp_path)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(y, ["1", "-1"])


# --- not found ---------------------------------------------------------------------------

def test_missing_dataset_fails_fast_names_paths_and_creates_nothing(archive, tmp_path):
    home_before = sorted(os.listdir(Path.home()))
    tmp_before = snapshot(tmp_path)
    start = time.perf_counter()
    with pytest.raises(FileNotFoundError) as info:
        load_ucr("Dodgerishh", split="train", data_dir=archive)
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    for path in (archive / "Dodgerishh" / "Dodgerishh_TRAIN.tsv",
                 archive / "Dodgerishh" / "Dodgerishh_TRAIN.ts",
                 archive / "Dodgerishh_TRAIN.tsv"):
        assert str(path) in message
    assert "Dodgerish, Gestures, Motions, Pebbleish" in message  # available here
    assert "Did you mean Dodgerish?" in message
    assert "GunPoint" in message  # bundled ones
    assert isinstance(info.value, ValueError)  # DatasetNotFoundError is both
    assert snapshot(tmp_path) == tmp_before
    assert sorted(os.listdir(Path.home())) == home_before


def test_a_dataset_missing_its_test_file_is_not_found(archive):
    assert len(load_ucr("OnlyTrain", split="train", data_dir=archive)[0]) == 2
    with pytest.raises(DatasetNotFoundError, match="OnlyTrain_TEST.tsv"):
        load_ucr("OnlyTrain", data_dir=archive)


def test_a_missing_data_dir_is_reported_and_not_created(tmp_path):
    absent = tmp_path / "no" / "such" / "dir"
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_ucr("GunPoint", data_dir=absent)
    assert time.perf_counter() - start < 1.0
    assert not (tmp_path / "no").exists()
    with pytest.raises(DatasetNotFoundError):
        list_ucr(absent)


def test_an_unbundled_name_without_data_dir_is_not_found_without_network(no_network):
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError, match="data_dir"):
        load_ucr("FordA", split="train")
    assert time.perf_counter() - start < 1.0


# --- missing values ----------------------------------------------------------------------

def test_missing_keep_leaves_interior_nan(archive):
    X, _ = load_ucr("Dodgerish", split="train", data_dir=archive, missing="keep")
    assert X.shape == (2, 1, 6)  # a leading NaN does not shorten the series
    np.testing.assert_array_equal(np.isnan(X[0, 0]), [1, 0, 1, 0, 0, 0])


def test_missing_interpolate_is_linear_inside_and_nearest_at_edges(archive):
    X, _ = load_ucr("Dodgerish", data_dir=archive, missing="interpolate")
    np.testing.assert_allclose(X[0, 0], [2, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(X[2, 0], [0, 2, 4, 6, 8, 10])
    np.testing.assert_array_equal(X[1, 0], np.ones(6))


def test_missing_zero_replaces_only_the_nan(archive):
    X, _ = load_ucr("Dodgerish", split="train", data_dir=archive, missing="zero")
    np.testing.assert_array_equal(X[0, 0], [0, 2, 0, 4, 5, 6])


def test_missing_values_in_ts_files_are_handled_too(tmp_path):
    case = np.array([[1.0, np.nan, 3.0]])
    for split in ("TRAIN", "TEST"):
        write_ts(tmp_path / "Gaps" / f"Gaps_{split}.ts", [case, case + 1], ["x", "y"],
                 missing="?")
    X, _ = load_ucr("Gaps", split="train", data_dir=tmp_path)
    assert np.isnan(X[0, 0, 1])
    X, _ = load_ucr("Gaps", split="train", data_dir=tmp_path, missing="interpolate")
    np.testing.assert_allclose(X[:, 0], [[1, 2, 3], [2, 3, 4]])


# --- unequal lengths ---------------------------------------------------------------------

def test_unequal_list_strips_the_trailing_nan_padding(archive):
    X, y = load_ucr("Pebbleish", split="train", data_dir=archive, unequal="list")
    assert isinstance(X, list)
    assert [x.shape for x in X] == [(1, 6), (1, 3), (1, 5)]
    assert not any(np.isnan(x).any() for x in X)
    np.testing.assert_allclose(X[1][0], ramp(3, 2))


def test_unequal_list_is_a_list_even_for_equal_lengths(archive):
    X, _ = load_ucr("Dodgerish", split="train", data_dir=archive, unequal="list")
    assert isinstance(X, list) and [x.shape for x in X] == [(1, 6), (1, 6)]


def test_unequal_pad_writes_pad_value_after_each_series(archive):
    X, _ = load_ucr("Pebbleish", split="train", data_dir=archive, unequal="pad")
    assert X.shape == (3, 1, 6)
    np.testing.assert_allclose(X[1, 0], ramp(3, 2) + [0, 0, 0])
    X_nan, _ = load_ucr("Pebbleish", split="train", data_dir=archive, pad_value=np.nan)
    np.testing.assert_array_equal(np.isnan(X_nan[1, 0]), [0, 0, 0, 1, 1, 1])


def test_splits_loaded_separately_share_the_padded_length(archive):
    X_test, _ = load_ucr("Pebbleish", split="test", data_dir=archive)
    X_train, _ = load_ucr("Pebbleish", split="train", data_dir=archive)
    assert X_test.shape == (2, 1, 6) and X_train.shape == (3, 1, 6)
    X_res, _ = load_ucr("Pebbleish", split="test", data_dir=archive, unequal="resample")
    assert X_res.shape == (2, 1, 6)


def test_unequal_resample_stretches_each_series_linearly(archive):
    X, _ = load_ucr("Pebbleish", data_dir=archive, unequal="resample")
    assert X.shape == (5, 1, 6) and not np.isnan(X).any()
    for i, k in enumerate([1, 2, 3, 1, 2]):  # each ramp keeps its endpoints
        np.testing.assert_allclose(X[i, 0], ramp(6, k))


def test_length_sets_the_target_for_pad_and_resample(archive):
    X, _ = load_ucr("Pebbleish", split="train", data_dir=archive, length=9)
    assert X.shape == (3, 1, 9) and np.all(X[0, 0, 6:] == 0)
    X, _ = load_ucr("Pebbleish", split="train", data_dir=archive, unequal="resample",
                    length=4)
    np.testing.assert_allclose(X[2, 0], ramp(4, 3))
    X, _ = load_ucr("Dodgerish", split="train", data_dir=archive, unequal="resample",
                    length=11, missing="interpolate")
    np.testing.assert_allclose(X[1, 0], np.ones(11))


def test_invalid_length_settings_raise(archive):
    with pytest.raises(ValueError, match="shorter than the longest"):
        load_ucr("Pebbleish", data_dir=archive, unequal="pad", length=4)
    with pytest.raises(ValueError, match="length"):
        load_ucr("Pebbleish", data_dir=archive, unequal="list", length=6)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="length"):
            load_ucr("Pebbleish", data_dir=archive, length=bad)


def test_multivariate_unequal_ts_pads_all_channels(archive):
    X, y = load_ucr("Gestures", data_dir=archive, unequal="list")
    assert [x.shape for x in X] == [(2, 5), (2, 3), (2, 7)]
    X, _ = load_ucr("Gestures", split="train", data_dir=archive)
    assert X.shape == (2, 2, 7)  # the longest series is in TEST
    np.testing.assert_array_equal(X[0, 1], [5, 6, 7, 8, 9, 0, 0])


@pytest.mark.parametrize("option, value", [("unequal", "truncate"), ("missing", "drop"),
                                           ("unequal", None)])
def test_unknown_options_raise_value_error(archive, option, value):
    with pytest.raises(ValueError, match=option):
        load_ucr("Dodgerish", data_dir=archive, **{option: value})


@pytest.mark.parametrize("name", ["", "..", "a/b", None])
def test_a_name_that_is_not_a_dataset_name_raises(archive, name):
    with pytest.raises(ValueError, match="name"):
        load_ucr(name, data_dir=archive)


def test_interpolating_an_all_missing_channel_gives_zeros(tmp_path):
    case = np.array([[1.0, 2.0, 3.0], [np.nan, np.nan, np.nan]])
    for split in ("TRAIN", "TEST"):
        write_ts(tmp_path / "Dead" / f"Dead_{split}.ts", [case, case], ["x", "y"])
    X, _ = load_ucr("Dead", split="test", data_dir=tmp_path, missing="interpolate")
    np.testing.assert_array_equal(X[0], [[1, 2, 3], [0, 0, 0]])
