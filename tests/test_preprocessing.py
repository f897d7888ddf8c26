import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from btvqvae.preprocessing import GlobalStandardScaler


@parametrize_with_checks([GlobalStandardScaler(), GlobalStandardScaler(nan_to_zero=True)])
def test_scaler_passes_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_one_mean_and_std_over_all_values_by_hand():
    X = np.array([[1.0, 2.0], [3.0, 6.0]])  # mean 3, deviations -2 -1 0 3 -> var 14/4
    scaler = GlobalStandardScaler().fit(X)
    assert scaler.mean_ == 3.0
    assert scaler.scale_ == pytest.approx(np.sqrt(3.5))
    np.testing.assert_allclose(scaler.transform(X), (X - 3.0) / np.sqrt(3.5))
    assert scaler.n_features_in_ == 2 and scaler.n_channels_in_ is None


def test_3d_statistics_pool_cases_channels_and_timepoints():
    X = np.array([[[0.0, 0.0], [10.0, 10.0]],
                  [[0.0, 0.0], [10.0, 10.0]]])  # (2 cases, 2 channels, 2 timepoints)
    scaler = GlobalStandardScaler().fit(X)
    assert (scaler.mean_, scaler.scale_) == (5.0, 5.0)  # not per channel
    np.testing.assert_array_equal(scaler.transform(X)[0], [[-1, -1], [1, 1]])
    assert (scaler.n_channels_in_, scaler.n_timepoints_in_) == (2, 2)
    assert not hasattr(scaler, "n_features_in_")


def test_test_data_is_scaled_with_the_training_statistics(rng):
    X_train, X_test = rng.normal(3.0, 2.0, (20, 2, 16)), rng.normal(0.0, 1.0, (5, 2, 16))
    scaler = GlobalStandardScaler().fit(X_train)
    expected = (X_test - X_train.mean()) / X_train.std()
    np.testing.assert_allclose(scaler.transform(X_test), expected)


@pytest.mark.parametrize("shape", [(7, 30), (7, 3, 30), (1, 1, 1)])
def test_inverse_transform_round_trips(rng, shape):
    X = rng.normal(5.0, 3.0, shape)
    scaler = GlobalStandardScaler().fit(X)
    X_scaled = scaler.transform(X)
    assert X_scaled.shape == X.shape
    np.testing.assert_allclose(scaler.inverse_transform(X_scaled), X)


@pytest.mark.parametrize("nan_to_zero", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_input_arrays_are_never_modified(rng, nan_to_zero, dtype):
    X = rng.normal(size=(6, 2, 10)).astype(dtype)
    X[0, 0, :3] = np.nan
    original = X.copy()
    scaler = GlobalStandardScaler(nan_to_zero=nan_to_zero)
    out = scaler.fit_transform(X)
    back = scaler.inverse_transform(out)
    scaler.fit(X).transform(X)
    np.testing.assert_array_equal(X, original)  # NaN positions included
    assert out.dtype == dtype and back.dtype == dtype
    assert not np.shares_memory(out, X)


def test_nan_is_ignored_when_fitting_and_kept_when_transforming():
    X = np.array([[[1.0, np.nan, 3.0]], [[5.0, 7.0, np.nan]]])
    scaler = GlobalStandardScaler().fit(X)
    values = np.array([1.0, 3.0, 5.0, 7.0])
    assert scaler.mean_ == 4.0 and scaler.scale_ == pytest.approx(values.std())
    out = scaler.transform(X)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(X))


def test_nan_to_zero_puts_missing_values_at_the_training_mean():
    X = np.array([[[1.0, np.nan, 3.0]], [[5.0, 7.0, np.nan]]])
    out = GlobalStandardScaler(nan_to_zero=True).fit_transform(X)
    assert not np.isnan(out).any()
    assert out[0, 0, 1] == 0.0 and out[1, 0, 2] == 0.0
    np.testing.assert_allclose(out[0, 0, [0, 2]], (np.array([1.0, 3.0]) - 4.0) / np.sqrt(5.0))


def test_with_mean_and_with_std_can_be_switched_off():
    X = np.array([[2.0, 4.0], [6.0, 8.0]])
    assert GlobalStandardScaler(with_mean=False).fit(X).mean_ == 0.0
    only_center = GlobalStandardScaler(with_std=False).fit(X)
    assert only_center.scale_ == 1.0
    np.testing.assert_array_equal(only_center.transform(X), X - 5.0)


def test_a_constant_array_is_shifted_not_divided_by_zero():
    X = np.full((4, 1, 5), 3.0)
    scaler = GlobalStandardScaler().fit(X)
    assert scaler.scale_ == 1.0
    np.testing.assert_array_equal(scaler.transform(X), np.zeros_like(X))


def test_integer_3d_input_becomes_float64():
    X = np.arange(24).reshape(2, 3, 4)
    out = GlobalStandardScaler().fit_transform(X)
    assert out.dtype == np.float64 and abs(out.mean()) < 1e-12


def test_shape_and_rank_mismatches_raise_clear_errors(rng):
    scaler = GlobalStandardScaler().fit(rng.normal(size=(5, 2, 10)))
    with pytest.raises(ValueError, match="3 channels and 10 timepoints"):
        scaler.transform(rng.normal(size=(5, 3, 10)))
    with pytest.raises(ValueError, match="8 timepoints .* fitted on 2 channels and 10"):
        scaler.transform(rng.normal(size=(5, 2, 8)))
    with pytest.raises(ValueError, match="fitted on 3-D"):
        scaler.transform(rng.normal(size=(5, 10)))
    flat = GlobalStandardScaler().fit(rng.normal(size=(5, 10)))
    with pytest.raises(ValueError, match="fitted on 2-D"):
        flat.transform(rng.normal(size=(5, 1, 10)))


@pytest.mark.parametrize("bad, message", [
    (np.full((2, 1, 3), np.nan), "only NaN"),
    (np.array([[[1.0, np.inf, 2.0]]]), "infinity"),
    (np.zeros((0, 1, 3)), "empty"),
    (np.array([[["a", "b"]]]), "real numbers"),
    ([np.zeros((1, 3)), np.zeros((1, 4))], "unequal"),
])
def test_unusable_input_is_rejected(bad, message):
    with pytest.raises(ValueError, match=message):
        GlobalStandardScaler().fit(bad)


def test_refitting_on_3d_forgets_2d_feature_metadata(rng):
    frame = pd.DataFrame(rng.normal(size=(4, 3)), columns=["a", "b", "c"])
    scaler = GlobalStandardScaler().fit(frame)
    assert list(scaler.get_feature_names_out()) == ["a", "b", "c"]
    scaler.fit(rng.normal(size=(4, 1, 3)))
    assert not hasattr(scaler, "feature_names_in_") and not hasattr(scaler, "n_features_in_")
    with pytest.raises(ValueError, match="2-D input"):
        scaler.get_feature_names_out()


def test_scaler_works_inside_a_pipeline_on_3d_collections(rng):
    X = rng.normal(size=(40, 2, 12))
    y = np.where(X[:, 0].mean(axis=1) > 0, "up", "down")
    flatten = FunctionTransformer(lambda Z: Z.reshape(len(Z), -1))
    model = make_pipeline(GlobalStandardScaler(), flatten, LogisticRegression())
    model.fit(X[:30], y[:30])
    assert model.predict(X[30:]).shape == (10,)
    assert model.score(X[:30], y[:30]) > 0.9


def test_fitted_scaler_pickles_with_its_statistics(rng):
    X = rng.normal(size=(4, 2, 6))
    scaler = GlobalStandardScaler().fit(X)
    clone = pickle.loads(pickle.dumps(scaler))
    np.testing.assert_array_equal(clone.transform(X), scaler.transform(X))
