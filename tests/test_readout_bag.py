"""output="bag": sparse counts of token words (codes, consecutive code pairs) over a time
pyramid, checked against a loop-by-loop reference and in the pipelines it is made for."""

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import SVC, LinearSVC

from benchmarks.probes import _probe, score_readouts
from btvqvae import VQVAETransformer
from btvqvae.readouts import BAG_LEVELS, READOUTS
from btvqvae.training import VQVAENet

from ._helpers import make_tiny, toy_series

BAG = READOUTS["bag"]
K = 4  # make_tiny's codebook


def reference_bag(tokens: np.ndarray, k: int) -> np.ndarray:
    """Dense word counts of token grids ``(n, S, F, T')`` by plain loops."""
    n, n_stages, n_rows, n_steps = tokens.shape
    steps = np.arange(n_steps)
    regions = [part for n_parts in BAG_LEVELS for part in np.array_split(steps, n_parts)]
    uni = np.zeros((n, len(regions), n_stages, n_rows, k))
    bi = np.zeros((n, len(regions), n_stages, n_rows, k, k))
    for i in range(n):
        for r, region in enumerate(regions):
            for s in range(n_stages):
                for f in range(n_rows):
                    row = tokens[i, s, f]
                    for t in region:
                        uni[i, r, s, f, row[t]] += 1
                        if t + 1 < n_steps:
                            bi[i, r, s, f, row[t], row[t + 1]] += 1
    return np.hstack([uni.reshape(n, -1), bi.reshape(n, -1)])


class GivenTokens:
    """What the bag reads of a model, with token grids ``(B, S, F, T')`` given by hand."""

    def __init__(self, ids, codebook_size):
        self.ids = torch.as_tensor(ids, dtype=torch.int64)
        self.n_quantizers = self.ids.shape[1]
        self.token_shape = tuple(self.ids.shape[1:])
        self.codebook_size = codebook_size

    def tokens(self, x):
        return self.ids


def counts_of(grid: GivenTokens) -> np.ndarray:
    words = BAG.encode(grid, torch.zeros(len(grid.ids))).numpy()
    return np.stack([np.bincount(w, minlength=BAG.n_features(grid)) for w in words])


@pytest.fixture(scope="module", params=[1, 2], ids=["S=1", "S=2"])
def fitted(request):
    X, y = toy_series()
    est = make_tiny(VQVAETransformer, output="bag", n_quantizers=request.param).fit(X)
    return est, X, y


def test_width_is_seven_regions_of_unigrams_and_bigrams_per_stage_and_row(fitted):
    est, X, _ = fitted
    s, (f, _) = est.n_quantizers, est.token_shape_[-2:]
    width = 7 * s * f * (K + K * K)
    Z = est.transform(X)
    assert isinstance(Z, sparse.csr_matrix) and Z.shape == (len(X), width)
    assert est._n_features_out == width
    assert Z.dtype == np.float64
    assert est.transform(X.astype(np.float32)).dtype == np.float32


def test_counts_equal_a_loop_by_loop_reference_on_the_models_tokens(fitted):
    est, X, _ = fitted
    tokens = est.encode(X, output="tokens").reshape(len(X), est.n_quantizers,
                                                    *est.token_shape_[-2:])
    expected = reference_bag(tokens, K)
    np.testing.assert_array_equal(est.transform(X).toarray(), expected)
    n_steps = tokens.shape[-1]
    s, f = tokens.shape[1:3]
    whole_uni = expected[:, : s * f * K].reshape(len(X), s, f, K)  # region 0 comes first
    bigrams = expected[:, 7 * s * f * K:].reshape(len(X), 7, s, f, K * K)
    assert (whole_uni.sum(-1) == n_steps).all()
    assert (bigrams[:, 0].sum(-1) == n_steps - 1).all()


def test_counts_do_not_depend_on_how_the_series_are_batched(fitted, monkeypatch):
    est, X, _ = fitted
    whole = est.transform(X)
    monkeypatch.setattr(VQVAENet, "_batch_size", lambda self: 5)  # 24 series in 5 batches
    batched = est.transform(X)
    assert (whole != batched).nnz == 0 and batched.has_canonical_format


@pytest.mark.parametrize("n_steps", [1, 2, 3, 5, 9])
def test_short_token_grids_leave_pyramid_regions_empty_but_keep_the_width(n_steps):
    ids = np.random.default_rng(n_steps).integers(0, 3, size=(4, 2, 3, n_steps))
    grid = GivenTokens(ids, codebook_size=3)
    assert BAG.n_features(grid) == 7 * 2 * 3 * (3 + 9)
    np.testing.assert_array_equal(counts_of(grid), reference_bag(ids, 3))


def test_feature_names_name_the_column_that_counts_the_word():
    ids = np.zeros((1, 2, 1, 4), dtype=np.int64)
    ids[0, 1, 0] = [2, 3, 2, 3]  # stage 1, row 0: (2, 3) twice, (3, 2) once
    grid = GivenTokens(ids, codebook_size=4)
    names = BAG.feature_names(grid)
    assert len(names) == len(set(names)) == BAG.n_features(grid)
    counts = dict(zip(names, counts_of(grid)[0], strict=True))
    assert counts["uni_r0_s1_f0_k2"] == 2 and counts["uni_r0_s0_f0_k0"] == 4
    assert counts["bi_r0_s1_f0_k2_k3"] == 2 and counts["bi_r0_s1_f0_k3_k2"] == 1
    assert counts["bi_r1_s1_f0_k2_k3"] == 1  # first half: steps 0-1, pairs starting there
    assert counts["bi_r3_s1_f0_k2_k3"] == 1 and counts["bi_r6_s1_f0_k2_k3"] == 0
    assert counts["uni_r6_s1_f0_k3"] == 1  # last quarter: step 3 alone
    assert sum(counts.values()) == 3 * 2 * (4 + 3)  # 3 levels × 2 stages × (T' + T' - 1)


def test_estimator_feature_names_are_the_bag_words_and_others_keep_sklearns(fitted):
    est, X, _ = fitted
    names = est.get_feature_names_out()
    assert names.dtype == object and len(names) == len(set(names)) == est.transform(X).shape[1]
    assert names[0] == "uni_r0_s0_f0_k0" and names[-1].startswith("bi_r6_")
    dense = make_tiny(VQVAETransformer).fit(X)
    assert dense.get_feature_names_out()[0] == "vqvaetransformer0"


# unscaled counts are fine for libsvm; liblinear wants them bounded (MaxAbsScaler) and, on
# these 700 columns, more than its default 1,000 iterations to converge without a warning
@pytest.mark.parametrize("steps", [[("svc", SVC(kernel="linear"))],
                                   [("scale", MaxAbsScaler()),
                                    ("svc", LinearSVC(max_iter=10_000))]],
                         ids=["SVC", "LinearSVC"])
def test_linear_models_on_the_bag_separate_held_out_toy_classes(steps):
    X, y = toy_series()
    X_test, y_test = toy_series(seed=1)
    pipe = Pipeline([("vq", make_tiny(VQVAETransformer, output="bag")), *steps])
    assert pipe.fit(X, y).score(X_test, y_test) > 0.7


def test_bag_cannot_be_inverted_but_reconstruct_still_decodes(fitted):
    est, X, _ = fitted
    with pytest.raises(ValueError, match="output='bag' cannot be decoded"):
        est.inverse_transform(est.transform(X))
    assert est.reconstruct(X).shape == X.shape


def test_pandas_output_is_refused_with_a_message_about_the_sparse_matrix(fitted):
    est, X, _ = fitted
    from sklearn.base import clone

    pandas = clone(est).set_output(transform="pandas").fit(X)
    with pytest.raises(ValueError, match="sparse matrix"):
        pandas.transform(X)


def test_same_random_state_gives_the_identical_bag():
    X, _ = toy_series()
    a, b = (make_tiny(VQVAETransformer, output="bag").fit(X).transform(X) for _ in range(2))
    for attr in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))


def test_benchmark_probes_score_the_sparse_bag_with_sparse_scalers(fitted):
    est, X, y = fitted
    X_test, y_test = toy_series(seed=1)
    scores = score_readouts(est, X, y, X_test, y_test, readouts=["bag"])["bag"]
    assert scores["dim"] == est._n_features_out
    assert 0.0 <= scores["svc"] <= 1.0 and 0.0 <= scores["ridge"] <= 1.0
    svc, ridge = _probe("svc", "counts"), _probe("ridge", "counts")
    assert isinstance(svc.steps[0][1], MaxAbsScaler)  # MinMaxScaler would densify the counts
    assert ridge.steps[0][1].with_mean is False


def test_evaluate_refuses_the_sparse_bag_and_names_a_dense_read_out(fitted):
    from btvqvae.evaluation import evaluate

    est, X, y = fitted
    with pytest.raises(TypeError, match=r"sparse matrix .*output='bag'.*set_params\(output="):
        evaluate(est, X, y, X, y, n_repeats=1)


def test_benchmark_probes_reuse_known_scores_and_skip_svc_on_large_training_sets(fitted):
    est, X, y = fitted
    X_test, y_test = toy_series(seed=1)
    full = score_readouts(est, X, y, X_test, y_test, readouts=["embedding", "pooled"])
    known = {"embedding": {"svc": 0.123}}
    capped = score_readouts(est, X, y, X_test, y_test, readouts=["embedding", "pooled"],
                            known=known, svc_max_train=len(y) - 1)
    assert capped["embedding"]["svc"] == 0.123  # taken as given, not refitted
    assert capped["pooled"]["svc"] is None  # more training series than the cap
    for readout in ("embedding", "pooled"):
        assert capped[readout]["ridge"] == full[readout]["ridge"]
    uncapped = score_readouts(est, X, y, X_test, y_test, readouts=["pooled"],
                              svc_max_train=len(y))
    assert uncapped["pooled"]["svc"] == full["pooled"]["svc"]
