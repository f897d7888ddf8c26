import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA
from sklearn.kernel_approximation import RBFSampler
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import MinMaxScaler

from btvqvae.evaluation import (
    EVALUATE_KEYS,
    codebook_entropy,
    codebook_perplexity,
    codebook_usage,
    distinct_sequences,
    evaluate,
    intrinsic_dimension,
    kmeans_silhouette,
    probe_accuracies,
    reconstruction_mse,
)

CODEBOOK_KEYS = ("codebook_size", "codebook_used", "codebook_entropy", "codebook_perplexity",
                 "distinct_sequences")


class FakeQuantizer:
    """Scalar quantizer of each time point with the interface of a fitted btvqvae estimator."""

    def __init__(self, codebook_size=4, output="embedding"):
        self.codebook_size = codebook_size
        self.output = output

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self.mean_, self.scale_ = X.mean(), X.std()
        self.levels_ = np.linspace(-1.5, 1.5, self.codebook_size)
        return self

    def encode(self, X, output="embedding"):
        Xs = (np.asarray(X, dtype=float) - self.mean_) / self.scale_
        tokens = np.abs(Xs[..., None] - self.levels_).argmin(axis=-1)  # (n, L)
        return tokens if output == "tokens" else self.levels_[tokens]

    def transform(self, X):
        return self.encode(X, self.output)

    def inverse_transform(self, Z):
        Z = np.asarray(Z)
        levels = self.levels_[Z] if Z.dtype.kind in "iu" else Z
        return levels * self.scale_ + self.mean_

    def reconstruct(self, X):
        return self.inverse_transform(self.encode(X, "tokens"))


class OffsetCodec:
    """Reconstructs every value 0.5 too high through ``reconstruct``, as btvqvae estimators do;
    transform/inverse_transform must then not be used."""

    scale_ = 2.0

    def reconstruct(self, X):
        return np.asarray(X, dtype=float) + 0.5

    def transform(self, X):
        raise AssertionError("reconstruction_mse must use reconstruct when it exists")

    def inverse_transform(self, Z):
        raise AssertionError("reconstruction_mse must use reconstruct when it exists")


def two_class_series(n_per_class, rng, length=16):
    t = np.linspace(0, 2 * np.pi, length)
    X = np.vstack([np.sin(t) + 0.1 * rng.standard_normal((n_per_class, length)),
                   np.sign(np.sin(t)) * 2 + 0.1 * rng.standard_normal((n_per_class, length))])
    y = np.array(["sine"] * n_per_class + ["square"] * n_per_class)
    return X, y


# --- intrinsic dimension -------------------------------------------------------------------

def test_intrinsic_dimension_counts_components_to_reach_variance():
    Z = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 1.0], [0.0, -1.0]])  # ratios 0.9, 0.1
    assert intrinsic_dimension(Z, variance=0.5) == 1
    assert intrinsic_dimension(Z, variance=0.9) == 1
    assert intrinsic_dimension(Z, variance=0.95) == 2
    assert intrinsic_dimension(Z, variance=1.0) == 2


def test_intrinsic_dimension_of_points_on_a_line_and_on_a_plane(rng):
    t = rng.standard_normal((50, 1))
    line = t * np.array([1.0, 2.0, 3.0]) + np.array([4.0, 5.0, 6.0])
    assert intrinsic_dimension(line) == 1
    assert intrinsic_dimension(line, variance=1.0) == 1
    ab = rng.standard_normal((50, 2))
    plane = ab @ np.array([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]])
    assert intrinsic_dimension(plane, variance=1.0) == 2


def test_intrinsic_dimension_of_constant_data_is_zero():
    assert intrinsic_dimension(np.full((5, 3), 0.1)) == 0
    assert intrinsic_dimension(np.ones((1, 4))) == 0


@pytest.mark.parametrize("variance", [0.0, -0.1, 1.5])
def test_intrinsic_dimension_rejects_variance_outside_unit_interval(variance):
    with pytest.raises(ValueError, match="variance must be in"):
        intrinsic_dimension(np.eye(3), variance=variance)


def test_intrinsic_dimension_rejects_1d_input():
    with pytest.raises(ValueError, match="2D"):
        intrinsic_dimension(np.arange(5.0))


# --- codebook ------------------------------------------------------------------------------

def test_codebook_metrics_of_two_equally_used_codes():
    tokens = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(codebook_usage(tokens, 4), [0.5, 0.5, 0.0, 0.0])
    assert codebook_entropy(tokens, 4) == pytest.approx(math.log(2))
    assert codebook_entropy(tokens, 4, base=2) == pytest.approx(1.0)
    assert codebook_perplexity(tokens, 4) == pytest.approx(2.0)


def test_perplexity_is_codebook_size_for_uniform_usage_and_one_for_a_single_code():
    uniform = np.tile(np.arange(7), (3, 2))  # 2-D tokens are pooled
    assert codebook_perplexity(uniform, 7) == pytest.approx(7.0)
    assert codebook_perplexity(np.full((4, 5), 3), 7) == 1.0
    assert codebook_entropy(np.full(10, 3), 7) == 0.0


def test_codebook_size_defaults_to_largest_token_plus_one():
    assert codebook_usage(np.array([2, 0])).shape == (3,)


@given(st.integers(1, 40).flatmap(
    lambda k: st.tuples(st.just(k), st.lists(st.integers(0, k - 1), min_size=1, max_size=200))))
@settings(max_examples=60, deadline=None)
def test_perplexity_is_exp_entropy_and_between_one_and_codebook_size(case):
    k, tokens = case
    tokens = np.array(tokens)
    perplexity = codebook_perplexity(tokens, k)
    assert perplexity == pytest.approx(math.exp(codebook_entropy(tokens, k)))
    assert 1.0 <= perplexity <= k
    assert codebook_usage(tokens, k).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("tokens, size, match", [
    (np.array([0.0, 1.0]), 4, "integer code ids"),
    (np.array([0, -1]), 4, "non-negative"),
    (np.array([0, 4]), 4, r"out of range for codebook_size=4"),
    (np.array([], dtype=int), 4, "empty"),
    (np.array([0, 1]), 0, "codebook_size must be a positive int"),
])
def test_codebook_metrics_reject_invalid_tokens(tokens, size, match):
    with pytest.raises(ValueError, match=match):
        codebook_perplexity(tokens, size)


def test_distinct_sequences_sees_a_collapse_that_perplexity_misses():
    same = np.tile(np.arange(6).reshape(2, 3), (5, 1, 1))  # 5 series, one varied grid each
    assert codebook_perplexity(same, 6) == pytest.approx(6.0)
    assert distinct_sequences(same) == pytest.approx(1 / 5)
    varied = same.copy()
    varied[1, 0, 0], varied[2, 1, 2] = 5, 0
    assert distinct_sequences(varied) == pytest.approx(3 / 5)


@given(st.integers(1, 12), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_distinct_sequences_counts_unique_rows_whatever_their_order(n, width, k, seed):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, k, size=(n, width))
    value = distinct_sequences(tokens)
    assert 1 / n <= value <= 1.0
    assert value * n == pytest.approx(len({tuple(row) for row in tokens}))
    assert distinct_sequences(tokens[rng.permutation(n)]) == pytest.approx(value)
    assert distinct_sequences(np.repeat(tokens[:1], n, axis=0)) == pytest.approx(1 / n)


@pytest.mark.parametrize("tokens, match", [
    (np.array([0, 1, 2]), r"shape \(n_series, ...\)"),
    (np.zeros((0, 3), dtype=int), "at least one series"),
    (np.array([[0.5, 1.0]]), "integer code ids"),
])
def test_distinct_sequences_rejects_malformed_tokens(tokens, match):
    with pytest.raises(ValueError, match=match):
        distinct_sequences(tokens)


def test_codebook_entropy_rejects_base_one():
    with pytest.raises(ValueError, match="base"):
        codebook_entropy(np.array([0, 1]), 2, base=1)


# --- probes --------------------------------------------------------------------------------

def test_probes_are_perfect_on_linearly_separable_data(rng):
    Z_train = np.vstack([rng.normal(-3, 0.5, (12, 3)), rng.normal(3, 0.5, (12, 3))])
    Z_test = np.vstack([rng.normal(-3, 0.5, (6, 3)), rng.normal(3, 0.5, (6, 3))])
    y_train, y_test = np.repeat(["a", "b"], 12), np.repeat(["a", "b"], 6)
    scores = probe_accuracies(Z_train, y_train, Z_test, y_test)
    assert scores == {"svc_linear": 1.0, "knn_1": 1.0, "knn_5": 1.0, "knn_10": 1.0}


def test_probe_scaler_is_fitted_on_train_only():
    Z_train, y_train = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1])
    Z_test, y_test = np.array([[0.1, 0.6], [100.0, 0.0]]), np.array([0, 1])
    # Fitting the scaler on train and test together would get both test points wrong.
    leaky = MinMaxScaler((-1, 1)).fit(np.vstack([Z_train, Z_test]))
    knn = KNeighborsClassifier(1).fit(leaky.transform(Z_train), y_train)
    assert knn.score(leaky.transform(Z_test), y_test) == 0.0
    assert probe_accuracies(Z_train, y_train, Z_test, y_test, knn_k=(1,))["knn_1"] == 1.0


def test_knn_k_larger_than_train_set_is_clamped_and_keeps_its_key():
    Z_train, y_train = np.array([[0.0], [0.1], [0.2], [5.0]]), np.array(["a", "a", "a", "b"])
    scores = probe_accuracies(Z_train, y_train, np.array([[0.0], [5.0]]), np.array(["a", "b"]),
                              knn_k=(10,))
    assert scores["knn_10"] == 0.5  # all four neighbours vote: always "a"


def test_probes_reject_mismatched_features_and_single_class():
    with pytest.raises(ValueError, match="features"):
        probe_accuracies(np.ones((4, 2)), [0, 1, 0, 1], np.ones((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="single class"):
        probe_accuracies(np.eye(3), [0, 0, 0], np.eye(3), [0, 1, 0])


# --- clustering ----------------------------------------------------------------------------

def blobs(rng, centers, n=20):
    Z = np.vstack([rng.normal(c, 1.0, (n, 2)) for c in centers])
    return Z, np.repeat(np.arange(len(centers)), n)


def test_silhouette_near_one_and_ari_one_on_well_separated_blobs(rng):
    Z, labels = blobs(rng, [(0, 0), (100, 100)])
    result = kmeans_silhouette(Z, n_repeats=3, random_state=0, labels=labels)
    assert result["silhouette_mean"] > 0.95
    assert result["ari_mean"] == 1.0
    assert result["ari_std"] == 0.0


def test_number_of_clusters_defaults_to_number_of_classes(rng):
    Z, labels = blobs(rng, [(0, 0), (100, 0), (0, 100)])
    assert kmeans_silhouette(Z, n_repeats=2, random_state=0, labels=labels)["ari_mean"] == 1.0


def test_ari_is_nan_without_labels(rng):
    Z, _ = blobs(rng, [(0, 0), (100, 100)])
    result = kmeans_silhouette(Z, n_clusters=2, n_repeats=2, random_state=0)
    assert set(result) == {"silhouette_mean", "silhouette_std", "ari_mean", "ari_std"}
    assert math.isnan(result["ari_mean"]) and math.isnan(result["ari_std"])


def test_kmeans_silhouette_is_deterministic_for_fixed_random_state(rng):
    Z = rng.standard_normal((40, 3))
    first = kmeans_silhouette(Z, n_clusters=4, n_repeats=3, random_state=7)
    assert kmeans_silhouette(Z, n_clusters=4, n_repeats=3, random_state=7) == pytest.approx(
        first, nan_ok=True)


def test_kmeans_silhouette_errors_on_bad_cluster_counts():
    Z = np.arange(10.0).reshape(5, 2)
    with pytest.raises(ValueError, match="pass n_clusters"):
        kmeans_silhouette(Z)
    with pytest.raises(ValueError, match="n_samples - 1 = 4"):
        kmeans_silhouette(Z, n_clusters=5)
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans_silhouette(Z, labels=[0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="n_repeats"):
        kmeans_silhouette(Z, n_clusters=2, n_repeats=0)


def test_kmeans_silhouette_of_a_single_distinct_point_is_nan():
    result = kmeans_silhouette(np.ones((6, 2)), n_clusters=2, labels=[0, 1] * 3)
    assert all(math.isnan(v) for v in result.values())


# --- reconstruction ------------------------------------------------------------------------

def test_reconstruction_mse_uses_encode_and_divides_by_squared_scale():
    X = np.arange(12.0).reshape(3, 4)
    assert reconstruction_mse(OffsetCodec(), X, scaled=False) == pytest.approx(0.25)
    assert reconstruction_mse(OffsetCodec(), X) == pytest.approx(0.25 / 4)


def test_reconstruction_mse_ignores_nan_padding():
    X = np.arange(12.0).reshape(3, 4)
    X[2, 3] = np.nan
    assert reconstruction_mse(OffsetCodec(), X, scaled=False) == pytest.approx(0.25)


def test_reconstruction_mse_of_estimator_without_scale_is_raw():
    X = np.array([[2.0, 1.0], [-2.0, 1.0], [2.0, -1.0], [-2.0, -1.0]])
    # One component keeps the first axis; the second (values ±1) is lost in half the entries.
    assert reconstruction_mse(PCA(1).fit(X), X) == pytest.approx(0.5)


def test_reconstruction_mse_requires_inverse_transform(rng):
    with pytest.raises(TypeError, match="inverse_transform"):
        reconstruction_mse(RBFSampler(random_state=0).fit(rng.random((5, 3))), rng.random((5, 3)))


# --- evaluate ------------------------------------------------------------------------------

@pytest.fixture
def split(rng):
    X_train, y_train = two_class_series(10, rng)
    X_test, y_test = two_class_series(8, rng)
    return X_train, y_train, X_test, y_test


def run_evaluate(estimator, split, **kwargs):
    return evaluate(estimator, *split, n_repeats=2, random_state=0, **kwargs)


def test_evaluate_reports_every_metric_for_a_btvqvae_like_estimator(split):
    est = FakeQuantizer(codebook_size=4).fit(split[0])
    result = run_evaluate(est, split)
    assert list(result) == list(EVALUATE_KEYS)
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in result.values())
    assert result["svc_linear"] == 1.0
    assert result["codebook_size"] == 4 and 1 <= result["codebook_used"] <= 4
    assert 1.0 <= result["codebook_perplexity"] <= result["codebook_used"]
    assert result["embedding_dim"] == 16 and result["n_clusters"] == 2
    assert 1 <= result["intrinsic_dimension"] <= 16
    expected = np.mean((est.inverse_transform(est.encode(split[2])) - split[2]) ** 2)
    assert result["reconstruction_mse"] == pytest.approx(expected / est.scale_**2)


def test_evaluate_works_on_token_output_estimators(split):
    result = run_evaluate(FakeQuantizer(output="tokens").fit(split[0]), split)
    assert list(result) == list(EVALUATE_KEYS)


def test_evaluate_on_pca_has_nan_codebook_metrics(split):
    result = run_evaluate(PCA(3).fit(split[0]), split)
    assert list(result) == list(EVALUATE_KEYS)
    assert all(math.isnan(result[key]) for key in CODEBOOK_KEYS)
    assert math.isfinite(result["reconstruction_mse"]) and result["embedding_dim"] == 3


def test_evaluate_without_inverse_transform_has_nan_reconstruction(split):
    result = run_evaluate(RBFSampler(n_components=8, random_state=0).fit(split[0]), split)
    assert math.isnan(result["reconstruction_mse"])
    assert math.isfinite(result["svc_linear"])


def test_evaluate_changes_neither_inputs_nor_estimator(split):
    copies = [a.copy() for a in split]
    for est in (FakeQuantizer().fit(split[0]), PCA(3).fit(split[0])):
        state = pickle.dumps(est)
        run_evaluate(est, split)
        assert pickle.dumps(est) == state
    for original, copy in zip(split, copies):
        np.testing.assert_array_equal(original, copy)


def test_evaluate_is_deterministic_for_fixed_random_state(split):
    est = FakeQuantizer().fit(split[0])
    assert run_evaluate(est, split) == pytest.approx(run_evaluate(est, split), nan_ok=True)


def test_evaluation_module_imports_neither_torch_nor_skorch():
    # The package's __init__ imports the estimators (and torch); the layer rule is about what
    # evaluation.py itself imports.
    import ast

    import btvqvae.evaluation as module

    tree = ast.parse(open(module.__file__).read())
    names = {alias.name.split(".")[0] for node in ast.walk(tree)
             if isinstance(node, ast.Import) for alias in node.names}
    names |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom)}
    assert not names & {"torch", "skorch"}
