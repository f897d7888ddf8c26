"""What each model name of the benchmark builds, and the baselines' fit / score code.

Model names
-----------
``vqvae``       :class:`btvqvae.VQVAETransformer`; probes as :func:`btvqvae.evaluation.evaluate`.
``bt``          :class:`btvqvae.BarlowTwinsVQVAETransformer`, one model per γ of ``--gammas``,
                named ``bt_g<γ>`` (``bt_g0.5``, ``bt_g1``, ``bt_g2``); ``bt_g<γ>`` may also be
                named directly.
``raw_svc``     the raw series flattened to ``n_channels · n_timepoints`` columns →
                ``MinMaxScaler(-1, 1)`` → ``SVC(kernel="linear", C=1)``: the probe of
                ``evaluate``'s ``svc_linear`` without a learned representation. The other
                ``evaluate`` keys are computed on the raw flattened series too (codebook and
                reconstruction keys are NaN).
``raw_1nn``     1-NN, Euclidean distance, on the raw flattened series (no scaling).
``minirocket``  aeon ``MiniRocket`` → ``StandardScaler(with_mean=False)`` →
                ``RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))``, aeon's
                ``MiniRocketClassifier`` pipeline.
``weasel2``     aeon ``WEASEL_V2`` at its defaults, seeded: dilated SFA words, chi² feature
                selection and a ridge classifier; a bag of *discrete* words, the anchor
                for discrete tokens (published default-split mean over the 18 equal-length
                panel datasets 0.880). Its first fit in a process JIT-compiles numba code
                (about a minute once, cached on disk afterwards); that time counts in
                ``fit_seconds``.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["BASELINES", "DEFAULT_MODELS", "Flatten", "ModelSpec", "build_estimator",
           "default_params", "expand_models", "fit_score_baseline", "gamma_name"]

TOKEN_FAMILIES = ("vqvae", "bt")
BASELINES = ("raw_svc", "raw_1nn", "minirocket", "weasel2")
DEFAULT_MODELS = TOKEN_FAMILIES + BASELINES
DEFAULT_GAMMAS = (0.5, 1.0, 2.0)
#: Parameters of the baselines; ``--minirocket-param`` overrides MiniRocket's.
BASELINE_PARAMS = {
    "raw_svc": {"scaler": "MinMaxScaler(-1, 1)", "C": 1.0, "kernel": "linear"},
    "raw_1nn": {"n_neighbors": 1, "metric": "euclidean", "scaler": None},
    "minirocket": {"n_kernels": 10_000, "max_dilations_per_kernel": 32,
                   "scaler": "StandardScaler(with_mean=False)",
                   "ridge_alphas": "logspace(-3, 3, 10)"},
    "weasel2": {"implementation": "aeon.classification.dictionary_based.WEASEL_V2",
                "settings": "aeon defaults"},
}
_MINIROCKET_KEYS = ("n_kernels", "max_dilations_per_kernel")
# Parameters the benchmark sets itself: the seed of each cell and γ of each BT model.
_RESERVED = ("random_state", "gamma")


@dataclass(frozen=True)
class ModelSpec:
    """A model of the sweep: its name, family and fully resolved parameters (no seed)."""

    name: str
    family: str  # "vqvae", "bt" or "baseline"
    params: dict = field(hash=False)
    gamma: float | None = None


def _estimator_class(family: str):
    from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer

    return BarlowTwinsVQVAETransformer if family == "bt" else VQVAETransformer


def default_params(family: str) -> dict:
    """Constructor defaults of the token model of ``family`` (``"vqvae"`` or ``"bt"``)."""
    return _estimator_class(family)().get_params(deep=False)


def gamma_name(gamma: float) -> str:
    """``bt_g0.5``, ``bt_g1``, ``bt_g2``: the model name of a γ."""
    return f"bt_g{float(gamma):g}"


def _check_keys(params: dict, family: str, option: str) -> None:
    valid = _estimator_class(family)().get_params()
    for key in params:
        if key in _RESERVED:
            raise ValueError(f"{option} {key}=... is set by the benchmark itself (the seed "
                             "comes from --seeds, γ from --gammas)")
        if key not in valid:
            hint = " (BT-only parameters go through --bt-param)" if family == "vqvae" and \
                key in _estimator_class("bt")().get_params() else ""
            raise ValueError(f"{option} {key!r} is not a parameter of "
                             f"{_estimator_class(family).__name__}{hint}; valid: "
                             f"{', '.join(sorted(valid))}")


def _resolved(family: str, params: dict) -> dict:
    """All constructor parameters of the estimator, defaults filled in, seed left out."""
    resolved = _estimator_class(family)(**params).get_params(deep=False)
    resolved.pop("random_state")
    return resolved


def expand_models(models, gammas=DEFAULT_GAMMAS, params=None, bt_params=None,
                  minirocket_params=None) -> list[ModelSpec]:
    """Turn model names into :class:`ModelSpec` s (``bt`` becomes one model per γ).

    ``params`` apply to both token models, ``bt_params`` to BT models only (and win over
    ``params``), ``minirocket_params`` (``n_kernels``, ``max_dilations_per_kernel``) to
    MiniRocket. Unknown names or parameters raise ``ValueError``.
    """
    params, bt_params = dict(params or {}), dict(bt_params or {})
    minirocket_params = dict(minirocket_params or {})
    _check_keys(params, "vqvae", "--param")
    _check_keys(params, "bt", "--param")
    _check_keys(bt_params, "bt", "--bt-param")
    unknown = set(minirocket_params) - set(_MINIROCKET_KEYS)
    if unknown:
        raise ValueError(f"--minirocket-param accepts {', '.join(_MINIROCKET_KEYS)}, got "
                         f"{', '.join(sorted(unknown))}")
    specs: list[ModelSpec] = []
    for name in models:
        if name == "vqvae":
            new = [ModelSpec("vqvae", "vqvae", _resolved("vqvae", params))]
        elif name == "bt" or re.fullmatch(r"bt_g[0-9.eE+-]+", name):
            try:
                chosen = gammas if name == "bt" else (float(name[4:]),)
            except ValueError:
                raise ValueError(f"cannot read γ from model name {name!r}") from None
            new = []
            for g in chosen:
                if not (math.isfinite(float(g)) and float(g) >= 0):
                    raise ValueError(f"γ must be a finite number >= 0, got {g!r}")
                resolved = _resolved("bt", {**params, **bt_params, "gamma": float(g)})
                new.append(ModelSpec(gamma_name(g), "bt", resolved, float(g)))
        elif name in BASELINES:
            base = dict(BASELINE_PARAMS[name])
            if name == "minirocket":
                base.update(minirocket_params)
            new = [ModelSpec(name, "baseline", base)]
        else:
            raise ValueError(f"unknown model {name!r}; choose from {', '.join(DEFAULT_MODELS)}"
                             " or bt_g<gamma>")
        specs += [s for s in new if s.name not in {t.name for t in specs}]
    return specs


def build_estimator(spec: ModelSpec, seed: int):
    """An unfitted token-model estimator for ``spec`` seeded with ``seed``."""
    return _estimator_class(spec.family)(**spec.params, random_state=seed)


class Flatten(TransformerMixin, BaseEstimator):
    """``(n_cases, n_channels, n_timepoints)`` → ``(n_cases, n_channels · n_timepoints)``."""

    def fit(self, X, y=None):
        self.n_features_in_ = int(np.prod(np.shape(X)[1:]))
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=np.float64)
        return X.reshape(len(X), -1)


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def fit_score_baseline(spec: ModelSpec, X_train, y_train, X_test, y_test, *, seed: int,
                       n_threads: int, n_repeats: int) -> dict:
    """Fit one baseline on TRAIN and score it on TEST.

    Returns ``accuracy``, ``fit_seconds`` (everything learned from TRAIN, including
    MiniRocket's transform of TRAIN), ``transform_seconds`` (TEST into the features the
    classifier reads), ``embedding_dim`` and, for raw_svc, the ``evaluate`` keys and
    ``evaluate_seconds``.
    """
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    from sklearn.svm import SVC

    flat = Flatten().fit(X_train)
    if spec.name in ("raw_svc", "raw_1nn"):
        if spec.name == "raw_svc":
            clf = make_pipeline(MinMaxScaler(feature_range=(-1, 1)), SVC(kernel="linear", C=1.0))
        else:
            clf = KNeighborsClassifier(n_neighbors=1, metric="euclidean")
        _, fit_seconds = _timed(lambda: clf.fit(flat.transform(X_train), y_train))
        Z_test, transform_seconds = _timed(flat.transform, X_test)
        out = {"accuracy": float(np.mean(clf.predict(Z_test) == y_test)),
               "embedding_dim": Z_test.shape[1]}
        if spec.name == "raw_svc":
            from btvqvae.evaluation import evaluate

            metrics, out["evaluate_seconds"] = _timed(
                lambda: evaluate(flat, X_train, y_train, X_test, y_test, n_repeats=n_repeats,
                                 random_state=seed))
            out.update(metrics)
    elif spec.name == "minirocket":
        from aeon.transformations.collection.convolution_based import MiniRocket
        from sklearn.linear_model import RidgeClassifierCV

        rocket = MiniRocket(n_kernels=spec.params["n_kernels"],
                            max_dilations_per_kernel=spec.params["max_dilations_per_kernel"],
                            n_jobs=n_threads, random_state=seed)
        head = make_pipeline(StandardScaler(with_mean=False),
                             RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
        _, fit_seconds = _timed(lambda: head.fit(rocket.fit_transform(X_train), y_train))
        Z_test, transform_seconds = _timed(rocket.transform, X_test)
        out = {"accuracy": float(np.mean(head.predict(Z_test) == y_test)),
               "embedding_dim": Z_test.shape[1]}
    elif spec.name == "weasel2":
        from aeon.classification.dictionary_based import WEASEL_V2

        clf = WEASEL_V2(random_state=seed, n_jobs=n_threads)
        _, fit_seconds = _timed(clf.fit, X_train, y_train)
        predicted, transform_seconds = _timed(clf.predict, X_test)
        out = {"accuracy": float(np.mean(predicted == y_test)),
               "embedding_dim": int(np.shape(clf.clf.coef_)[-1])}  # 1-D for two classes
    else:
        raise ValueError(f"{spec.name!r} is not a baseline")
    out.update(fit_seconds=fit_seconds, transform_seconds=transform_seconds)
    return out
