"""Tokens read as series by aeon's convolutional read-outs: ``python -m benchmarks.token_sequence``.

For each development dataset and seed, one tokenizer tokenizes TRAIN and TEST and every
read-out below is scored on the same tokens, with its own seconds (read-out fit + predict,
after tokenizing):

``embedding_svc``        ``output="embedding"`` → ``MinMaxScaler(-1, 1)`` →
                         ``SVC(kernel="linear")``: the thesis' probe, the reference to beat.
``sequence_minirocket``  ``output="sequence"`` (stage codes summed, ``(n, D·F, T')``) →
                         ``MiniRocket`` → ``StandardScaler`` → ``RidgeClassifierCV``
                         (MiniRocket's own protocol).
``stacked_minirocket``   each residual stage's code vectors as channels of their own,
                         ``(n, S·D·F, T')``, through the same MiniRocket → ridge.
``sequence_multirocket`` ``output="sequence"`` → ``MultiRocket`` → scaler → ridge.
``sequence_hydra``       ``output="sequence"`` → aeon's ``HydraClassifier`` (Hydra → sparse
                         scaling → ridge).
``decoded_minirocket``   the series the tokens decode to (``inverse_transform`` of the
                         embedding: ``output="decoded"``, a function of the code ids alone)
                         → MiniRocket → scaler → ridge; likewise
                         ``decoded_multirocket`` and ``decoded_hydra``.
``decoded+sequence_minirocket``  MiniRocket on each of the two, features side by side →
                         scaler → ridge.
``raw_minirocket``       MiniRocket → scaler → ridge on the raw series: what the tokens lose.

Every random read-out takes ``random_state=seed``. Tokenizers (``--source``):

``per-dataset``  ``VQVAETransformer(random_state=seed)`` at the defaults, trained on TRAIN
                 (the panel's ``vqvae`` cells of :mod:`benchmarks.thesis`).
``zero-fit``     the dataset's fold tokenizer of :mod:`benchmarks.transfer` (it never saw the
                 dataset), ``max_steps=0``; deterministic, so seeds vary only the read-outs.
                 Without ``--tokenizers-dir``, the shipped tokenizer (which saw the panel).

Above ``--large`` training series only ``embedding_svc``, ``sequence_minirocket``,
``decoded_minirocket`` and ``raw_minirocket`` run (the others cost minutes there). One JSON
line per (dataset, seed) is appended to ``--out``; a rerun skips what the file holds.
``--readouts`` runs some only: the same seed on the same CPU and thread count gives the same
tokens (``embedding_sha256`` of TEST's embedding shows it), so files of different read-outs
merge. ``--report`` merges files into the Markdown summary. ::

    python -m benchmarks.token_sequence --source per-dataset --seeds 0 1 2 \\
        --data-dir ../shared/data/ucr --out benchmarks/results/sequence/per_dataset.jsonl
    python -m benchmarks.token_sequence --source zero-fit --tokenizers-dir pt --seeds 0 \\
        --data-dir ../shared/data/ucr --out benchmarks/results/sequence/zero_fit.jsonl
    python -m benchmarks.token_sequence --report benchmarks/results/sequence/*.jsonl \\
        --out benchmarks/results/sequence/report.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.presets import EQUAL

#: Each read-out: the tokens' input it reads, and the classifier.
READOUTS = {
    "embedding_svc": ("embedding", "svc"),
    "sequence_minirocket": ("sequence", "minirocket"),
    "stacked_minirocket": ("stacked", "minirocket"),
    "sequence_multirocket": ("sequence", "multirocket"),
    "sequence_hydra": ("sequence", "hydra"),
    "decoded_minirocket": ("decoded", "minirocket"),
    "decoded_multirocket": ("decoded", "multirocket"),
    "decoded_hydra": ("decoded", "hydra"),
    "decoded+sequence_minirocket": ("decoded+sequence", "minirocket"),
    "raw_minirocket": ("raw", "minirocket"),
}
#: The read-outs that run on every dataset, however large.
CORE = ("embedding_svc", "sequence_minirocket", "decoded_minirocket", "raw_minirocket")
ALPHAS = np.logspace(-3, 3, 10)


def _ridge(*transformer):
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(*transformer, StandardScaler(), RidgeClassifierCV(alphas=ALPHAS))


class _Union:
    """MiniRocket on each of several collections, features side by side → scaler → ridge."""

    def __init__(self, seed: int):
        self.seed = seed

    def _features(self, parts, fit: bool):
        from aeon.transformations.collection.convolution_based import MiniRocket

        if fit:
            self.rockets_ = [MiniRocket(random_state=self.seed).fit(Z) for Z in parts]
        return np.hstack([r.transform(Z) for r, Z in zip(self.rockets_, parts)])

    def fit(self, parts, y):
        self.head_ = _ridge().fit(self._features(parts, True), y)
        return self

    def predict(self, parts):
        return self.head_.predict(self._features(parts, False))


def _classifier(readout: str, seed: int):
    from aeon.classification.convolution_based import HydraClassifier
    from aeon.transformations.collection.convolution_based import MiniRocket, MultiRocket
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler
    from sklearn.svm import SVC

    source, kind = READOUTS[readout]
    if kind == "svc":
        return make_pipeline(MinMaxScaler(feature_range=(-1, 1)),
                             SVC(kernel="linear", C=1.0, gamma=1.0))
    if "+" in source:
        return _Union(seed)
    if kind == "multirocket":
        return _ridge(MultiRocket(random_state=seed))
    if kind == "hydra":
        return HydraClassifier(random_state=seed)
    return _ridge(MiniRocket(random_state=seed))


def stage_channels(est, X) -> np.ndarray:
    """``(n, S·D·F, T')``: each residual stage's code vectors as channels of their own."""
    import torch

    module = est.net_.module_
    n_stages = module.n_quantizers
    ids = torch.as_tensor(est.encode(X, "tokens")).reshape(len(X), *module.token_shape)
    if n_stages == 1:
        return module.token_vectors(ids).flatten(1, 2).detach().numpy()
    with torch.no_grad():  # the first s stages' sum, s = 1 ... S; a stage is a difference
        prefix = [module.token_vectors(ids[:, :s]) for s in range(1, n_stages + 1)]
    stages = prefix[:1] + [b - a for a, b in zip(prefix, prefix[1:])]
    return torch.cat([z.flatten(1, 2) for z in stages], dim=1).numpy()


def warm_up() -> None:
    """Compile the read-outs' numba kernels once, so no dataset's seconds include it."""
    rng = np.random.default_rng(0)
    Z, y = rng.normal(size=(20, 3, 32)), np.repeat([0, 1], 10)
    for readout, (source, kind) in READOUTS.items():
        if kind == "svc":
            continue
        for Z_c in (Z, Z[:, :1]):  # aeon compiles multivariate and univariate kernels
            Zs = [Z_c, Z_c] if "+" in source else Z_c
            _classifier(readout, 0).fit(Zs, y).predict(Zs)


def tokenizer_for(source: str, seed: int, dataset: str, tokenizers_dir: str | None,
                  params: dict | None = None):
    """The tokenizer of a cell; ``params`` override the per-dataset defaults (tests)."""
    from btvqvae import VQVAETransformer

    if source == "per-dataset":
        return VQVAETransformer(**{"random_state": seed, **(params or {})})
    if tokenizers_dir is None:  # the shipped tokenizer, which saw the development panel
        return VQVAETransformer(init="pretrained", max_steps=0)
    from benchmarks.transfer import fold_of

    return VQVAETransformer(init=str(Path(tokenizers_dir) / f"fold{fold_of(dataset)}"),
                            max_steps=0)


def run_dataset(dataset: str, seed: int, source: str, data_dir: str,
                tokenizers_dir: str | None = None, large: int = 2000,
                params: dict | None = None, readouts=None) -> dict:
    import torch

    from benchmarks.cells import load_dataset

    X_train, y_train, X_test, y_test, _ = load_dataset(dataset, data_dir, "resample",
                                                       "interpolate")
    threads = torch.get_num_threads()
    est = tokenizer_for(source, seed, dataset, tokenizers_dir, params)
    start = time.perf_counter()
    est.fit(X_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    E_train, E_test = (est.encode(X, "embedding") for X in (X_train, X_test))
    transform_seconds = time.perf_counter() - start
    d, f, t = est.latent_shape_
    inputs = {"embedding": lambda: (E_train, E_test),
              "sequence": lambda: (E_train.reshape(len(E_train), d * f, t),
                                   E_test.reshape(len(E_test), d * f, t)),
              "stacked": lambda: (stage_channels(est, X_train), stage_channels(est, X_test)),
              "decoded": lambda: (est.inverse_transform(E_train), est.inverse_transform(E_test)),
              "raw": lambda: (X_train, X_test)}
    chosen = [r for r in readouts or READOUTS if len(X_train) <= large or r in CORE]
    scores = {}
    for readout in chosen:
        reads = READOUTS[readout][0]
        start = time.perf_counter()
        if "+" in reads:
            Z_train, Z_test = zip(*(inputs[part]() for part in reads.split("+")))
        else:
            Z_train, Z_test = inputs[reads]()
        clf = _classifier(readout, seed).fit(Z_train, y_train)
        accuracy = float(np.mean(clf.predict(Z_test) == y_test))
        torch.set_num_threads(threads)  # aeon's Hydra sets it to its n_jobs
        scores[readout] = {"accuracy": accuracy, "seconds": time.perf_counter() - start}
        print(f"  {dataset} seed {seed} {readout:28s} {accuracy:.3f} "
              f"({scores[readout]['seconds']:.1f} s)", flush=True)
    return {"dataset": dataset, "seed": seed, "source": source, "n_train": len(X_train),
            "tokenizer": Path(est.init).name if est.init else "trained",
            "shape": [d * f, t], "n_quantizers": int(est.net_.module_.n_quantizers),
            "fit_seconds": fit_seconds, "transform_seconds": transform_seconds,
            "embedding_sha256": hashlib.sha256(np.ascontiguousarray(E_test)).hexdigest()[:16],
            "readouts": scores}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", choices=("per-dataset", "zero-fit"), default="per-dataset")
    p.add_argument("--data-dir")
    p.add_argument("--tokenizers-dir", help="zero-fit: the folder holding fold0 ... fold3")
    p.add_argument("--datasets", nargs="*", default=list(EQUAL))
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument("--large", type=int, default=2000)
    p.add_argument("--readouts", nargs="*", choices=list(READOUTS),
                   help="only these read-outs (default: all)")
    p.add_argument("--torch-threads", type=int)
    p.add_argument("--out", required=True)
    p.add_argument("--report", nargs="*", help="summarise these results files into --out")
    p.add_argument("--panel", default="benchmarks/results/panel/thesis.jsonl",
                   help="--report: the thesis results whose reconstruction errors it shows")
    args = p.parse_args(argv)
    if args.report is not None:
        from benchmarks.sequence_report import report

        text = report(args.report, args.panel)
        Path(args.out).write_text(text)
        print(text)
        return 0
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    warm_up()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {(r["dataset"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())} \
        if out.is_file() else set()
    for seed in args.seeds:
        for dataset in args.datasets:
            if (dataset, seed) in done:
                continue
            record = run_dataset(dataset, seed, args.source, args.data_dir,
                                 args.tokenizers_dir, args.large, readouts=args.readouts)
            with open(out, "a") as fh:
                fh.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
