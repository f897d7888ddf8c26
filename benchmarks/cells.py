"""One cell of the sweep (dataset × model × seed): load, fit on TRAIN, evaluate on TEST, measure.

Data
----
Both splits are read with :func:`btvqvae.datasets.load_ucr`. Problems whose files hold
series of unequal length or missing values (``irregular``: DodgerLoopDay, GesturePebbleZ1 in
the panel) are loaded again with ``unequal="resample"`` (each series linearly stretched to
the longest length over both splits) and ``missing="interpolate"`` (linear interpolation
along time, edge values carried outwards) by default; both are settings of the run
(``--unequal``, ``--missing``) and part of the settings hash. Equal-length problems come back
unchanged.

Cost measurements
-----------------
``fit_seconds`` / ``transform_seconds`` are wall-clock (``time.perf_counter``) around fitting
on TRAIN and transforming TEST. ``peak_rss_mb`` is the peak resident set size of the process
running the cell, over the whole cell (loading, fitting, transforming, evaluating), in MiB:

- ``memory_method="fresh-process"`` (``isolate=True``, the CLI default): the cell runs in a
  new interpreter (``python -m benchmarks.cells``; ~3 s of imports, not timed) and the value
  is its ``getrusage(RUSAGE_SELF).ru_maxrss``: exact, and including the interpreter and the
  imported libraries (``rss_start_mb``, the RSS when the cell starts after the imports, is
  the part to subtract for the cell's own memory);
- ``memory_method="sampled"`` (``isolate=False``): the cell runs in the worker itself;
  ``psutil`` samples its RSS every 20 ms, raised to ``ru_maxrss`` when the process'
  high-water mark rose during the cell. Memory a reused worker kept from earlier cells
  counts in, short spikes between samples may be missed, and with dask's
  ``processes=False`` every thread of the process counts.

``tracemalloc`` is not used: it does not see torch's allocations.

Each cell sets torch's and the BLAS/OpenMP pools' thread counts to ``n_threads`` (by default
``max(1, cpus // n_concurrent)``, counted on the machine running the cell) and restores them
afterwards.
"""

from __future__ import annotations

import functools
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .models import ModelSpec, build_estimator, fit_score_baseline
from .probes import score_readouts
from .records import METRIC_KEYS, machine_info, utc_now

__all__ = ["Cell", "available_cpus", "load_dataset", "run_cell"]

_SAMPLE_SECONDS = 0.02


@dataclass(frozen=True)
class Cell:
    """Everything a worker needs to run one cell; plain data, cheap to pickle."""

    dataset: str
    model: ModelSpec
    seed: int
    settings: dict
    settings_hash: str
    data_dir: str | None = None
    unequal: str = "resample"
    missing: str = "interpolate"
    n_repeats: int = 15
    n_threads: int | None = None  # None: max(1, cpus of the machine // n_concurrent)
    n_concurrent: int = 1  # cells running at once on the machine running this one
    isolate: bool = False

    @property
    def key(self) -> tuple:
        return (self.dataset, self.model.name, self.seed, self.settings_hash)


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@functools.lru_cache(maxsize=2)
def load_dataset(name: str, data_dir: str | None, unequal: str, missing: str):
    """``(X_train, y_train, X_test, y_test, irregular)``; arrays are shared, do not modify."""
    from btvqvae.datasets import load_ucr

    raw = [load_ucr(name, split, data_dir=data_dir, unequal="list") for split in ("train", "test")]
    series = raw[0][0] + raw[1][0]
    irregular = len({x.shape for x in series}) > 1 or any(np.isnan(x).any() for x in series)
    if irregular:
        raw = [load_ucr(name, split, data_dir=data_dir, unequal=unequal, missing=missing)
               for split in ("train", "test")]
    else:
        raw = [(np.stack(X), y) for X, y in raw]
    (X_train, y_train), (X_test, y_test) = raw
    return X_train, y_train, X_test, y_test, irregular


def _maxrss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes / KiB


class _PeakRSS:
    """Peak RSS (MiB) of this process while the ``with`` block runs; see the module notes."""

    def __enter__(self):
        try:
            import psutil

            self._proc = psutil.Process()
        except ImportError:  # psutil comes with dask.distributed; without it: ru_maxrss only
            self._proc = None
        self.start_mb = self._rss_mb() if self._proc else float("nan")
        self.peak_mb = self.start_mb  # NaN without psutil, unless ru_maxrss rises below
        self._maxrss_before = _maxrss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        if self._proc:
            self._thread.start()
        return self

    def _rss_mb(self) -> float:
        return self._proc.memory_info().rss / 2**20

    def _sample(self):
        while not self._stop.wait(_SAMPLE_SECONDS):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._proc:
            self.peak_mb = max(self.peak_mb, self._rss_mb())
        after = _maxrss_mb()
        if after > self._maxrss_before:  # the high-water mark was set during this block
            self.peak_mb = after if np.isnan(self.peak_mb) else max(self.peak_mb, after)
        return False


def _token_model(cell: Cell, X_train, y_train, X_test, y_test) -> dict:
    from btvqvae.evaluation import evaluate

    est = build_estimator(cell.model, cell.seed)
    start = time.perf_counter()
    est.fit(X_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    est.transform(X_test)
    transform_seconds = time.perf_counter() - start
    start = time.perf_counter()
    metrics = evaluate(est, X_train, y_train, X_test, y_test, n_repeats=cell.n_repeats,
                       random_state=cell.seed)
    evaluate_seconds = time.perf_counter() - start
    # evaluate's svc_linear is the svc probe of the default read-out: not fitted twice
    known = {"embedding": {"svc": metrics["svc_linear"]}} if est.output == "embedding" else None
    readouts = score_readouts(est, X_train, y_train, X_test, y_test, known=known)
    return dict(metrics, accuracy=metrics["svc_linear"], fit_seconds=fit_seconds,
                transform_seconds=transform_seconds,
                evaluate_seconds=evaluate_seconds, readouts=readouts, n_iter=int(est.n_iter_),
                train_loss=float(est.loss_curve_[-1]) if est.loss_curve_ else None,
                params=est.get_params(deep=False))


def _baseline(cell: Cell, X_train, y_train, X_test, y_test, n_threads: int) -> dict:
    out = fit_score_baseline(cell.model, X_train, y_train, X_test, y_test, seed=cell.seed,
                             n_threads=n_threads, n_repeats=cell.n_repeats)
    return dict(out, params=dict(cell.model.params, random_state=cell.seed))


def _measure(cell: Cell, memory_method: str) -> dict:
    """Run the cell in this process and build its record."""
    import torch
    from threadpoolctl import threadpool_limits

    import btvqvae

    n_threads = int(cell.n_threads or max(1, available_cpus() // max(1, cell.n_concurrent)))
    previous = torch.get_num_threads()
    with threadpool_limits(limits=n_threads), _PeakRSS() as memory:
        torch.set_num_threads(n_threads)
        try:
            X_train, y_train, X_test, y_test, irregular = load_dataset(
                cell.dataset, cell.data_dir, cell.unequal, cell.missing)
            if cell.model.family == "baseline":
                out = _baseline(cell, X_train, y_train, X_test, y_test, n_threads)
            else:
                out = _token_model(cell, X_train, y_train, X_test, y_test)
        finally:
            torch.set_num_threads(previous)
    record = {"dataset": cell.dataset, "model": cell.model.name, "family": cell.model.family,
              "gamma": cell.model.gamma, "seed": cell.seed}
    record.update({key: out.get(key) for key in METRIC_KEYS})
    record.update(fit_seconds=out["fit_seconds"], transform_seconds=out["transform_seconds"],
                  evaluate_seconds=out.get("evaluate_seconds"), peak_rss_mb=memory.peak_mb,
                  rss_start_mb=memory.start_mb, memory_method=memory_method,
                  n_train=len(X_train), n_test=len(X_test), length=X_train.shape[2],
                  n_channels=X_train.shape[1], n_classes=len(np.unique(y_train)),
                  irregular=bool(irregular), n_iter=out.get("n_iter"),
                  train_loss=out.get("train_loss"), readouts=out.get("readouts"),
                  params=out["params"],
                  settings=cell.settings, settings_hash=cell.settings_hash,
                  version=btvqvae.__version__, machine=machine_info(n_threads),
                  timestamp=utc_now())
    return record


def _failure(cell: Cell, error: str) -> dict:
    return {"dataset": cell.dataset, "model": cell.model.name, "seed": cell.seed,
            "settings_hash": cell.settings_hash, "error": error, "timestamp": utc_now()}


def _run_here(cell: Cell, memory_method: str) -> dict:
    try:
        return _measure(cell, memory_method)
    except Exception:  # noqa: BLE001 -- one failing cell must not end the sweep; reported
        return _failure(cell, traceback.format_exc())


def _signal_reason(returncode: int) -> str:
    """Why a cell's process died, as far as its exit code tells (negative: a signal)."""
    if returncode >= 0:
        return ""
    name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else "?"
    hint = ": out of memory?" if -returncode == signal.SIGKILL else ""
    return f" (killed by {name}{hint})"


def _run_isolated(cell: Cell) -> dict:
    """Run the cell in a new interpreter (``python -m benchmarks.cells IN OUT``).

    A plain subprocess rather than multiprocessing: it works from loky workers (whose start
    method stdlib multiprocessing does not know) and from daemonic dask workers alike.
    """
    package_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="btvqvae-cell-") as tmp:
        inbox, outbox = Path(tmp) / "cell.pkl", Path(tmp) / "record.pkl"
        inbox.write_bytes(pickle.dumps(cell))
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.cells", str(inbox), str(outbox)], env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                check=False)
        except OSError as err:
            return _failure(cell, f"could not start the cell's process: {err}")
        if proc.returncode != 0 or not outbox.exists():
            tail = "\n".join(proc.stderr.decode(errors="replace").splitlines()[-20:])
            reason = _signal_reason(proc.returncode)
            return _failure(cell, f"the cell's process exited with code {proc.returncode}"
                                  f"{reason}\n{tail}")
        return pickle.loads(outbox.read_bytes())


def run_cell(cell: Cell) -> dict:
    """The record of one cell, or a record with an ``error`` key (never raises)."""
    return _run_isolated(cell) if cell.isolate else _run_here(cell, "sampled")


if __name__ == "__main__":  # the child of _run_isolated
    _cell = pickle.loads(Path(sys.argv[1]).read_bytes())
    Path(sys.argv[2]).write_bytes(pickle.dumps(_run_here(_cell, "fresh-process")))
