"""Every read-out of one fitted token model, scored by two linear probes (no extra fits).

Probes
------
``svc``    ``MinMaxScaler(-1, 1)`` → ``SVC(kernel="linear", C=1)``: the thesis' probe.
``ridge``  ``StandardScaler`` → ``RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))``: the
           protocol of MiniRocket and WEASEL 2.0.
``minirocket``  for the 3-D read-outs (``sequence``, ``decoded``) only: aeon's
           ``MiniRocket(random_state=0)`` → ``StandardScaler`` → the same ridge.

Features
--------
Each name of :data:`btvqvae.readouts.READOUTS` through ``est.encode(X, output=name)``,
the 3-D ``sequence`` and ``decoded`` (collections for time-series classifiers) by
``minirocket`` only;
``tokens`` are one-hot encoded per position (code ids are labels, not magnitudes) and then
probed without rescaling (``svc``) or with ``StandardScaler(with_mean=False)`` (``ridge``).
Sparse read-outs (``bag``'s word counts) stay sparse: ``MaxAbsScaler`` replaces the
``MinMaxScaler`` of ``svc``, which would centre them, and ``ridge`` scales them with
``StandardScaler(with_mean=False)``.

Cost
----
libsvm's linear ``SVC`` grows faster than quadratically with the training set: on
ElectricDevices (8,926 training series) a cell that fitted it for every read-out was still
in the fourth read-out's fit after 25 minutes here (seen with py-spy; the cell was stopped).
With the limit below, that dataset's cells spend about 690 s in these probes
(``readouts.*.seconds`` of ``benchmarks/results/panel/thesis.jsonl``). Above
:data:`SVC_MAX_TRAIN` training series only the read-outs given in ``known`` keep an
``svc`` score (the embedding's is :func:`btvqvae.evaluation.evaluate`'s ``svc_linear``,
the same pipeline on the same features); the others record ``svc: None`` and keep
``ridge``. Of the development panel this concerns ElectricDevices, FordA and FordB. The
``minirocket`` probe always runs (about 150 s per 3-D read-out on ElectricDevices).
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

__all__ = ["PROBES", "SERIES_PROBES", "SVC_MAX_TRAIN", "score_readouts"]

PROBES = ("svc", "ridge")
#: The probes of the 3-D read-outs, which are collections of series, not feature matrices.
SERIES_PROBES = ("minirocket",)
#: The fewest time steps MiniRocket takes; a shorter 3-D read-out records ``None``.
MINIROCKET_MIN_LENGTH = 9
ALPHAS = np.logspace(-3, 3, 10)
#: Training-set size above which ``svc`` is only reported where it is already ``known``.
SVC_MAX_TRAIN = 2000


def _probe(name: str, kind: str):
    """The probe ``name`` for features of ``kind``: "dense", "onehot" or (sparse) "counts"."""
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
    from sklearn.svm import SVC

    if name == "minirocket":
        from aeon.transformations.collection.convolution_based import MiniRocket

        return make_pipeline(MiniRocket(random_state=0), StandardScaler(),
                             RidgeClassifierCV(alphas=ALPHAS))
    if name == "svc":
        steps = {"dense": [MinMaxScaler(feature_range=(-1, 1))], "onehot": [],
                 "counts": [MaxAbsScaler()]}[kind]
        # gamma is unused by a linear kernel; fixing it spares libsvm the "scale" value,
        # which is not finite for constant features (a collapsed model's tokens)
        return make_pipeline(*steps, SVC(kernel="linear", C=1.0, gamma=1.0))
    return make_pipeline(StandardScaler(with_mean=kind == "dense"),
                         RidgeClassifierCV(alphas=ALPHAS))


def _features(est, X_train, X_test, readout: str):
    Z_train = est.encode(X_train, output=readout)
    Z_test = est.encode(X_test, output=readout)
    if sparse.issparse(Z_train):
        return Z_train.astype(np.float64), Z_test.astype(np.float64), "counts"
    if Z_train.ndim == 3:
        return Z_train, Z_test, "series"
    if readout != "tokens":
        return Z_train.astype(np.float64), Z_test.astype(np.float64), "dense"
    from sklearn.preprocessing import OneHotEncoder

    onehot = OneHotEncoder(handle_unknown="ignore").fit(Z_train)
    return onehot.transform(Z_train), onehot.transform(Z_test), "onehot"


def score_readouts(est, X_train, y_train, X_test, y_test, readouts=None, *, known=None,
                   svc_max_train=SVC_MAX_TRAIN) -> dict:
    """``{readout: {"svc": acc, "ridge": acc, "dim": n_features, "seconds": s}}``; the 3-D
    read-outs have ``"minirocket"`` in place of the two linear probes.

    ``known``: ``{readout: {probe: acc}}`` already measured on the same split with the same
    probe (not refitted). ``svc`` is ``None`` for the other read-outs when there are more than
    ``svc_max_train`` training series (``None``: no limit).
    """
    from btvqvae.readouts import READOUTS

    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    known = known or {}
    too_many = svc_max_train is not None and len(y_train) > svc_max_train
    scores = {}
    for readout in readouts or READOUTS:
        start = time.perf_counter()
        Z_train, Z_test, kind = _features(est, X_train, X_test, readout)
        row = {"dim": int(np.prod(Z_train.shape[1:]))}
        for probe in SERIES_PROBES if kind == "series" else PROBES:
            if kind == "series" and Z_train.shape[-1] < MINIROCKET_MIN_LENGTH:
                row[probe] = None  # MiniRocket's kernels span 9 steps
            elif probe in known.get(readout, {}):
                row[probe] = float(known[readout][probe])
            elif probe == "svc" and too_many:
                row[probe] = None
            else:
                clf = _probe(probe, kind).fit(Z_train, y_train)
                row[probe] = float(np.mean(clf.predict(Z_test) == y_test))
        row["seconds"] = time.perf_counter() - start
        scores[readout] = row
    return scores
