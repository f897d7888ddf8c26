"""Screen: do column words (the F codes of one time step, one word) add to the bag?

The discrete-tokens issue asks for *column words* in the ``"bag"`` read-out: at each time step
the codes of the F frequency rows of one stage, read together as one word, as an SFA word
reads a window's quantized Fourier coefficients. With K = 32 codes and F = 5 rows there are
K^F ≈ 3.4·10^7 possible words per stage, too many for fixed columns, so this screen counts
only the words seen in TRAIN (the vocabulary, as ``CountVectorizer`` builds it; unseen test
words are dropped) and measures before the package gains any state for it.

For each dataset and seed it fits ``VQVAETransformer`` at its defaults once and scores, with
the two probes of :mod:`benchmarks.probes` (``svc``, ``ridge``) on sparse counts:

``bag``            the package's ``"bag"`` read-out (unigrams and bigrams per stage and row);
``columns_s0``     column words of the first stage, over the bag's time pyramid;
``columns_all``    column words of every stage (each stage its own words), same pyramid;
``bag+columns_s0`` both side by side.

python -m benchmarks.words --data-dir ../shared/data/ucr --datasets quick --seeds 0 \
    --out benchmarks/results/rvq/words.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy import sparse

FEATURES = ("bag", "columns_s0", "columns_all", "bag+columns_s0")


def _regions(n_steps: int) -> np.ndarray:
    """``(n_regions, n_steps)`` bool: whether each time step lies in each pyramid region."""
    from btvqvae.readouts import BAG_LEVELS

    rows = []
    for n_parts in BAG_LEVELS:
        for steps in np.array_split(np.arange(n_steps), n_parts):
            row = np.zeros(n_steps, dtype=bool)
            row[steps] = True
            rows.append(row)
    return np.stack(rows)


def column_keys(ids: np.ndarray, k: int, stages: int) -> list[np.ndarray]:
    """Per series, one int64 key per (region, stage < ``stages``, time step) occurrence.

    ``ids``: ``(n, S, F, T')`` code ids. A key is ``(region·stages + s)·K^F + word`` with
    ``word = Σ_f ids[s, f, t]·K^f``.
    """
    n, _, n_rows, n_steps = ids.shape
    weights = k ** np.arange(n_rows, dtype=np.int64)
    words = np.einsum("nsft,f->nst", ids[:, :stages].astype(np.int64), weights)
    span = k ** n_rows
    out = []
    for i in range(n):
        keys = [(r * stages + s) * span + words[i, s, inside]
                for r, inside in enumerate(_regions(n_steps)) for s in range(stages)]
        out.append(np.concatenate(keys))
    return out


def count_matrix(keys: list[np.ndarray], vocabulary: np.ndarray) -> sparse.csr_matrix:
    """Counts of each vocabulary key per series; keys outside the vocabulary are dropped."""
    rows, cols = [], []
    for i, row_keys in enumerate(keys):
        pos = np.searchsorted(vocabulary, row_keys)
        pos = np.minimum(pos, len(vocabulary) - 1)
        found = vocabulary[pos] == row_keys
        rows.append(np.full(found.sum(), i))
        cols.append(pos[found])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    data = np.ones(len(rows))
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(keys), len(vocabulary)))


def _columns(est, X_train, X_test, stages: int):
    shape = (-1, *est.token_shape_) if len(est.token_shape_) == 3 else (-1, 1, *est.token_shape_)
    ids = [est.encode(X, output="tokens").reshape(shape) for X in (X_train, X_test)]
    k = est.codebook_size
    keys = [column_keys(part, k, min(stages, part.shape[1])) for part in ids]
    vocabulary = np.unique(np.concatenate(keys[0]))
    return [count_matrix(part, vocabulary) for part in keys]


def score_dataset(name: str, data_dir: str, seed: int, params: dict | None = None) -> dict:
    """Fit the VQ-VAE at its defaults (updated by ``params``) and score every feature set."""
    from btvqvae import VQVAETransformer

    from .cells import load_dataset
    from .probes import PROBES, _probe

    X_train, y_train, X_test, y_test, _ = load_dataset(name, data_dir, "resample", "interpolate")
    start = time.perf_counter()
    est = VQVAETransformer(random_state=seed, **(params or {})).fit(X_train)
    record = {"dataset": name, "seed": seed, "fit_seconds": time.perf_counter() - start,
              "params": {k: v for k, v in est.get_params().items()
                         if isinstance(v, (int, float, str))},
              "n_train": len(X_train)}
    bag = [est.encode(X, output="bag").astype(np.float64) for X in (X_train, X_test)]
    s0, every = _columns(est, X_train, X_test, 1), _columns(est, X_train, X_test, 10**6)
    parts = {"bag": bag, "columns_s0": s0, "columns_all": every,
             "bag+columns_s0": [sparse.hstack([a, b]).tocsr() for a, b in zip(bag, s0)]}
    for feature, (Z_train, Z_test) in parts.items():
        row = {"dim": int(Z_train.shape[1])}
        for probe in PROBES:
            clf = _probe(probe, "counts").fit(Z_train, y_train)
            row[probe] = float(np.mean(clf.predict(Z_test) == np.asarray(y_test)))
        record[feature] = row
    return record


def report(records: list[dict]) -> str:
    """Markdown: per dataset and on average, each feature set's accuracy under each probe."""
    from .probes import PROBES

    cols = [f"{f} {p}" for f in FEATURES for p in PROBES]
    lines = ["| dataset | seeds | " + " | ".join(cols) + " |", "|---" * (len(cols) + 2) + "|"]
    by_name: dict[str, list[dict]] = {}
    for rec in records:
        by_name.setdefault(rec["dataset"], []).append(rec)
    table = {name: [np.mean([r[f][p] for r in recs]) for f in FEATURES for p in PROBES]
             for name, recs in sorted(by_name.items())}
    for name, values in table.items():
        cells = " | ".join(f"{v:.3f}" for v in values)
        lines.append(f"| {name} | {len(by_name[name])} | {cells} |")
    mean = np.mean(list(table.values()), axis=0)
    lines.append(f"| **mean ({len(table)})** | | " + " | ".join(f"{v:.3f}" for v in mean) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    from .presets import resolve_datasets

    parser = argparse.ArgumentParser(prog="python -m benchmarks.words", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--datasets", nargs="+", default=["quick"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--report", type=Path, help="also write the markdown table here")
    parser.add_argument("--max-steps", type=int, help="training budget (default: the estimator's)")
    parser.add_argument("--torch-threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.torch_threads)
    done = set()
    if args.out.exists():
        done = {(r["dataset"], r["seed"]) for r in map(json.loads, args.out.open())}
    for name in resolve_datasets(args.datasets):
        for seed in args.seeds:
            if (name, seed) in done:
                continue
            budget = {} if args.max_steps is None else {"max_steps": args.max_steps}
            record = score_dataset(name, args.data_dir, seed, budget)
            record["torch_threads"] = args.torch_threads
            with args.out.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
            print(name, seed, {f: record[f] for f in FEATURES}, flush=True)
    text = report([json.loads(line) for line in args.out.open()])
    print(text)
    if args.report:
        args.report.write_text(text)


if __name__ == "__main__":
    main()
