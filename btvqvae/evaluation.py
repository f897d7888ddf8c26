"""Metrics of the thesis' evaluation protocol (SPEC §6) and a one-call report.

Pure numpy / scikit-learn: works on the latents of any fitted transformer. Codebook metrics
need an ``encode(X, output="tokens")`` method (btvqvae estimators); reconstruction needs
``reconstruct`` or ``inverse_transform``. Nothing here fits, refits or otherwise changes an
estimator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import accuracy_score, adjusted_rand_score, silhouette_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC
from sklearn.utils import check_array, check_consistent_length, check_random_state

from ._validation import check_token_ids

__all__ = [
    "EVALUATE_KEYS", "METRIC_DESCRIPTIONS", "codebook_entropy", "codebook_perplexity",
    "codebook_usage", "distinct_sequences", "evaluate", "intrinsic_dimension",
    "kmeans_silhouette", "probe_accuracies", "reconstruction_mse",
]

#: Each key of :func:`evaluate`'s result, in order, with its plain-language meaning.
METRIC_DESCRIPTIONS = {
    "svc_linear": "test accuracy, linear SVM on train latents",
    "knn_1": "test accuracy, 1-nearest neighbour",
    "knn_5": "test accuracy, 5-nearest neighbours",
    "knn_10": "test accuracy, 10-nearest neighbours",
    "intrinsic_dimension": "principal components for 95 % of latent variance",
    "embedding_dim": "number of latent features",
    "codebook_size": "codes K",
    "codebook_used": "codes used by the test tokens",
    "codebook_entropy": "entropy of test code usage (nats)",
    "codebook_perplexity": "effective number of codes, exp(entropy)",
    "distinct_sequences": "share of test series with a token sequence of their own",
    "n_clusters": "KMeans clusters (classes in TEST)",
    "silhouette_mean": "silhouette of KMeans on test latents, mean",
    "silhouette_std": "silhouette, std over repeats",
    "ari_mean": "adjusted Rand index vs labels, mean",
    "ari_std": "adjusted Rand index, std over repeats",
    "reconstruction_mse": "test MSE in standardised units",
}

#: Keys of :func:`evaluate`'s result, in order (a results table is built from them).
EVALUATE_KEYS = tuple(METRIC_DESCRIPTIONS)

_RATIO_TOL = 1e-10  # cumulative variance ratios are compared up to this rounding tolerance


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def intrinsic_dimension(Z: Any, variance: float = 0.95) -> int:
    """Number of principal components needed to explain a fraction of the variance of ``Z``.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Latent vectors.
    variance : float, default=0.95
        Target fraction in ``(0, 1]``; the result is the smallest ``m`` whose cumulative
        explained-variance ratio reaches it (up to a rounding tolerance of 1e-10).

    Returns
    -------
    int
        ``m``; **0** when ``Z`` is constant (no component carries variance), which includes a
        single sample.
    """
    if not 0.0 < variance <= 1.0:
        raise ValueError(f"variance must be in (0, 1], got {variance!r}")
    Z = check_array(Z, dtype=np.float64)
    if np.ptp(Z, axis=0).max() == 0.0:
        return 0
    s = np.linalg.svd(Z - Z.mean(axis=0), compute_uv=False)
    cumulative = np.cumsum(s**2) / np.sum(s**2)
    return int(min(np.count_nonzero(cumulative < variance - _RATIO_TOL) + 1, len(cumulative)))


def _check_tokens(tokens: Any, codebook_size: int | None) -> tuple[np.ndarray, int]:
    """Code ids pooled into one int64 vector, and the codebook size."""
    tokens, k = check_token_ids(tokens, codebook_size)
    return tokens.ravel(), k


def codebook_usage(tokens: Any, codebook_size: int | None = None) -> np.ndarray:
    """Fraction of all tokens assigned to each code.

    Parameters
    ----------
    tokens : array-like of int, any shape
        Code ids in ``[0, codebook_size)``; all entries are pooled (dataset level).
    codebook_size : int, optional
        Number of codes ``K``; defaults to ``tokens.max() + 1``.

    Returns
    -------
    ndarray of shape (K,)
        Non-negative, sums to 1.
    """
    tokens, k = _check_tokens(tokens, codebook_size)
    return np.bincount(tokens, minlength=k) / tokens.size


def codebook_entropy(tokens: Any, codebook_size: int | None = None, base: float = math.e) -> float:
    """Entropy of the dataset-level code-usage histogram (nats by default).

    Parameters
    ----------
    tokens : array-like of int, any shape
        Code ids, see :func:`codebook_usage`.
    codebook_size : int, optional
        Number of codes ``K``; unused codes contribute nothing.
    base : float, default=e
        Logarithm base (2 gives bits).

    Returns
    -------
    float
        In ``[0, log_base(K)]``.
    """
    if not base > 0 or base == 1:
        raise ValueError(f"base must be positive and different from 1, got {base!r}")
    p = codebook_usage(tokens, codebook_size)
    p = p[p > 0]
    return float(max(-np.sum(p * np.log(p)), 0.0) / math.log(base))


def codebook_perplexity(tokens: Any, codebook_size: int | None = None) -> float:
    """``exp(entropy)`` of the code-usage histogram: the effective number of codes in use.

    Returns
    -------
    float
        In ``[1, K]``: 1 when a single code is used, ``K`` when usage is uniform.
    """
    tokens, k = _check_tokens(tokens, codebook_size)
    return float(np.clip(math.exp(codebook_entropy(tokens, k)), 1.0, k))


def distinct_sequences(tokens: Any) -> float:
    """Fraction of the series whose token sequences differ: a collapse detector.

    Perplexity pools all positions, so it stays high when every series receives the *same*
    sequence of varied codes (each position its own code). This counts whole sequences: one
    sequence per series means the tokens can tell the series apart; ``1 / n`` means all series
    were encoded identically and no classifier can separate them.

    Parameters
    ----------
    tokens : array-like of int, shape (n_series, ...)
        One token grid per series, e.g. ``estimator.encode(X, output="tokens")``.

    Returns
    -------
    float
        ``(number of distinct sequences) / n_series``, in ``[1 / n_series, 1]``.
    """
    grid = np.asarray(tokens)
    if grid.ndim < 2 or grid.shape[0] == 0 or grid[0].size == 0:
        raise ValueError(f"tokens must have shape (n_series, ...) with at least one series and "
                         f"one token each, got shape {grid.shape}")
    _check_tokens(grid, None)
    rows = np.ascontiguousarray(grid.reshape(grid.shape[0], -1).astype(np.int64))
    return len(np.unique(rows, axis=0)) / rows.shape[0]


def probe_accuracies(
    Z_train: Any, y_train: Any, Z_test: Any, y_test: Any, *, knn_k: tuple[int, ...] = (1, 5, 10)
) -> dict[str, float]:
    """Test accuracy of a linear SVM and k-nearest-neighbour probes fitted on train latents.

    Each probe is ``MinMaxScaler(feature_range=(-1, 1))`` followed by the classifier in one
    pipeline, so the scaler sees the training latents only.

    Parameters
    ----------
    Z_train, Z_test : array-like of shape (n_train, n_features), (n_test, n_features)
    y_train, y_test : array-like of shape (n_train,), (n_test,)
        Class labels (any type ``accuracy_score`` accepts).
    knn_k : tuple of int, default=(1, 5, 10)
        Neighbour counts. A ``k`` above ``n_train`` is clamped to ``n_train``; the key keeps
        the requested ``k``.

    Returns
    -------
    dict
        ``{"svc_linear": acc, "knn_<k>": acc, ...}``.
    """
    Z_train = check_array(Z_train, dtype=np.float64)
    Z_test = check_array(Z_test, dtype=np.float64)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    check_consistent_length(Z_train, y_train)
    check_consistent_length(Z_test, y_test)
    if Z_train.shape[1] != Z_test.shape[1]:
        raise ValueError(
            f"Z_test has {Z_test.shape[1]} features but Z_train has {Z_train.shape[1]}; "
            "encode both splits with the same fitted estimator"
        )
    if len(np.unique(y_train)) < 2:
        raise ValueError("y_train has a single class; a probe needs at least two")
    if not all(_is_positive_int(k) for k in knn_k):
        raise ValueError(f"knn_k must hold positive ints, got {knn_k!r}")
    probes = {"svc_linear": SVC(kernel="linear", C=1.0)}
    probes.update({f"knn_{k}": KNeighborsClassifier(min(int(k), len(Z_train))) for k in knn_k})
    scores = {}
    for name, clf in probes.items():
        model = make_pipeline(MinMaxScaler(feature_range=(-1, 1)), clf).fit(Z_train, y_train)
        scores[name] = float(accuracy_score(y_test, model.predict(Z_test)))
    return scores


def kmeans_silhouette(
    Z: Any,
    n_clusters: int | None = None,
    n_repeats: int = 15,
    random_state: Any = None,
    labels: Any = None,
) -> dict[str, float]:
    """Silhouette of KMeans clusterings, and their agreement with labels, over repeats.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    n_clusters : int, optional
        Defaults to the number of classes in ``labels`` (the reference code); the thesis text
        used 15. Must satisfy ``2 <= n_clusters <= n_samples - 1``.
    n_repeats : int, default=15
        KMeans runs (each with ``n_init=10``), seeded from ``check_random_state(random_state)``.
    random_state : int, RandomState instance or None
    labels : array-like of shape (n_samples,), optional
        True classes for the adjusted Rand index.

    Returns
    -------
    dict
        ``silhouette_mean``, ``silhouette_std``, ``ari_mean``, ``ari_std`` (population std
        over repeats). The ARI entries are NaN without ``labels``; all four are NaN when ``Z``
        holds a single distinct point.
    """
    Z = check_array(Z, dtype=np.float64)
    if labels is not None:
        labels = np.asarray(labels)
        check_consistent_length(Z, labels)
    if n_clusters is None:
        if labels is None:
            raise ValueError(
                "pass n_clusters or labels: the default number of clusters is the number of "
                "classes in labels (the thesis text used n_clusters=15)"
            )
        n_clusters = len(np.unique(labels))
    if not _is_positive_int(n_clusters) or not 2 <= n_clusters <= len(Z) - 1:
        raise ValueError(
            f"the silhouette needs 2 <= n_clusters <= n_samples - 1 = {len(Z) - 1}, got "
            f"n_clusters={n_clusters!r}; pass another n_clusters or more samples"
        )
    if not _is_positive_int(n_repeats):
        raise ValueError(f"n_repeats must be a positive int, got {n_repeats!r}")
    nan = float("nan")
    if np.ptp(Z, axis=0).max() == 0.0:
        return dict(silhouette_mean=nan, silhouette_std=nan, ari_mean=nan, ari_std=nan)
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n_repeats)
    sil, ari = [], []
    for seed in seeds:
        pred = KMeans(n_clusters=int(n_clusters), n_init=10, random_state=seed).fit_predict(Z)
        sil.append(silhouette_score(Z, pred) if len(np.unique(pred)) > 1 else nan)
        ari.append(adjusted_rand_score(labels, pred) if labels is not None else nan)
    return dict(silhouette_mean=float(np.mean(sil)), silhouette_std=float(np.std(sil)),
                ari_mean=float(np.mean(ari)), ari_std=float(np.std(ari)))


def reconstruction_mse(estimator: Any, X: Any, *, scaled: bool = True) -> float:
    """Mean squared error between ``X`` and the estimator's reconstruction of it.

    btvqvae estimators reconstruct through their ``reconstruct`` method (valid for every
    ``output`` mode); other transformers through ``inverse_transform(transform(X))``.
    Entries of ``X`` that are NaN (padding of unequal-length series) are left out.

    Parameters
    ----------
    estimator : fitted transformer with ``reconstruct`` or ``inverse_transform``
    X : array-like
        Series in the layout the estimator accepts.
    scaled : bool, default=True
        Divide by ``estimator.scale_ ** 2`` when that attribute is a positive number, giving
        the MSE in the globally standardised space the thesis reports; otherwise raw units.

    Returns
    -------
    float
    """
    if hasattr(estimator, "reconstruct"):
        X_hat = estimator.reconstruct(X)
    elif hasattr(estimator, "inverse_transform"):
        X_hat = estimator.inverse_transform(estimator.transform(X))
    else:
        raise TypeError(f"{type(estimator).__name__} has no inverse_transform; cannot reconstruct")
    X = np.asarray(X, dtype=np.float64)
    X_hat = np.asarray(X_hat, dtype=np.float64)
    if X_hat.shape != X.shape:
        if X_hat.size != X.size:
            raise ValueError(f"reconstruction has shape {X_hat.shape}, X has {X.shape}")
        X_hat = X_hat.reshape(X.shape)
    observed = np.isfinite(X)
    mse = float(np.mean((X[observed] - X_hat[observed]) ** 2))
    scale = getattr(estimator, "scale_", None)
    if scaled and scale is not None and np.ndim(scale) == 0 and np.isfinite(scale) and scale > 0:
        mse /= float(scale) ** 2
    return mse


def _dense_latents(estimator: Any, X: Any) -> np.ndarray:
    Z = estimator.transform(X)
    if hasattr(Z, "tocsr"):  # scipy.sparse, e.g. output="bag"
        raise TypeError(
            "evaluate needs dense latents, but this estimator's transform returns a sparse "
            f"matrix ({type(Z).__name__}, output={getattr(estimator, 'output', None)!r}); "
            "evaluate a dense read-out, e.g. estimator.set_params(output='embedding')")
    return check_array(Z, dtype=np.float64)


def evaluate(estimator: Any, X_train: Any, y_train: Any, X_test: Any, y_test: Any, *,
             n_clusters: int | None = None, n_repeats: int = 15, variance: float = 0.95,
             random_state: Any = None) -> dict[str, float]:
    """All metrics of the thesis protocol for a fitted transformer, as one flat dict.

    Only ``transform``, ``encode`` and ``reconstruct``/``inverse_transform`` are called: the
    estimator is neither fitted nor modified. Latents ``Z`` are ``estimator.transform`` outputs (for
    btvqvae estimators, whatever their ``output`` parameter selects).

    Parameters
    ----------
    estimator : fitted transformer
        Its ``transform`` must return dense latents (not ``output="bag"``).
    X_train, y_train, X_test, y_test : array-like
        The split the estimator was fitted on (train) and held-out data (test).
    n_clusters : int, optional
        KMeans clusters; default number of classes in ``y_test``.
    n_repeats : int, default=15
        KMeans repeats.
    variance : float, default=0.95
        Explained-variance target of the intrinsic dimension.
    random_state : int, RandomState instance or None
        Seeds the KMeans repeats.

    Returns
    -------
    dict
        Keys, in the order of ``EVALUATE_KEYS``:

        - ``svc_linear``, ``knn_1``, ``knn_5``, ``knn_10``: test accuracy of probes fitted on
          train latents (:func:`probe_accuracies`).
        - ``intrinsic_dimension``: on train and test latents concatenated (reference);
          ``embedding_dim``: number of latent features.
        - ``codebook_size``, ``codebook_used`` (codes used at least once),
          ``codebook_entropy`` (nats), ``codebook_perplexity``: from the **test** tokens
          ``encode(X_test, output="tokens")``, and ``distinct_sequences`` of those tokens
          (:func:`distinct_sequences`); NaN when the estimator has no ``encode``.
        - ``n_clusters``, ``silhouette_mean``, ``silhouette_std``, ``ari_mean``, ``ari_std``:
          :func:`kmeans_silhouette` of the test latents, ARI against ``y_test``.
        - ``reconstruction_mse``: :func:`reconstruction_mse` on the test split (scaled when
          the estimator has ``scale_``); NaN without ``inverse_transform``.
    """
    Z_train, Z_test = (_dense_latents(estimator, X) for X in (X_train, X_test))
    y_test = np.asarray(y_test)
    if n_clusters is None:
        n_clusters = len(np.unique(y_test))
    nan = float("nan")
    result: dict[str, float] = dict(probe_accuracies(Z_train, y_train, Z_test, y_test))
    result["intrinsic_dimension"] = intrinsic_dimension(np.vstack([Z_train, Z_test]), variance)
    result["embedding_dim"] = Z_train.shape[1]
    if hasattr(estimator, "encode"):
        grid = estimator.encode(X_test, output="tokens")
        tokens, k = _check_tokens(grid, getattr(estimator, "codebook_size", None))
        result.update(
            codebook_size=k,
            codebook_used=int(np.count_nonzero(codebook_usage(tokens, k))),
            codebook_entropy=codebook_entropy(tokens, k),
            codebook_perplexity=codebook_perplexity(tokens, k),
            distinct_sequences=distinct_sequences(grid),
        )
    else:
        result.update(codebook_size=nan, codebook_used=nan, codebook_entropy=nan,
                      codebook_perplexity=nan, distinct_sequences=nan)
    result["n_clusters"] = int(n_clusters)
    result.update(kmeans_silhouette(Z_test, n_clusters, n_repeats, random_state, labels=y_test))
    result["reconstruction_mse"] = (
        reconstruction_mse(estimator, X_test) if hasattr(estimator, "inverse_transform") else nan
    )
    return {key: result[key] for key in EVALUATE_KEYS}
