"""The thesis sweep: VQ-VAE vs BT-VQVAE (γ sweep) and baselines on UCR problems.

    python -m benchmarks.thesis --data-dir ../shared/data/ucr --datasets all --seeds 0 1 2 \\
        --max-steps 1000 --out benchmarks/results/thesis.jsonl --n-jobs 2
    python -m benchmarks.thesis --quick --out /tmp/quick.jsonl          # < 5 min, no data needed
    python -m benchmarks.thesis ... --dask tcp://scheduler:8786          # same sweep on a cluster

Every dataset × model × seed is a *cell*: fit on the official TRAIN split, evaluate on TEST
with :func:`btvqvae.evaluation.evaluate` (token models), time and measure memory
(:mod:`benchmarks.cells`). Each finished cell is appended to ``--out`` as one JSON line
(schema in :mod:`benchmarks.records`) by this process, as cells complete, so an interrupted
sweep keeps what it finished; a rerun skips cells already in the file with the same settings
hash. Failed cells go to ``<out stem>.errors.jsonl`` and are retried by the next run.

Models: ``vqvae``, ``bt`` (one model ``bt_g<γ>`` per ``--gammas``), ``raw_svc``, ``raw_1nn``,
``minirocket`` (:mod:`benchmarks.models`). Presets of ``--datasets``: :mod:`benchmarks.presets`.
Unequal-length problems are resampled to the longest series and missing values linearly
interpolated (``--unequal``, ``--missing`` change that).

Parallelism: ``--n-jobs`` cells at once through joblib, or ``--dask ADDRESS`` (joblib's dask
backend; ``local`` starts a LocalCluster of ``--n-jobs`` single-thread workers). By default
each cell runs in a fresh interpreter (exact peak memory, nothing carried over between
cells); ``--no-isolate`` runs cells inside joblib's loky worker processes / the dask workers.
On a cluster, ``benchmarks`` must be importable and ``--data-dir`` readable on every worker.
Each cell uses ``max(1, cpus // cells at once on its machine)`` torch and BLAS threads unless
``--torch-threads`` is given (``--quick`` uses 1: on a shared 2-core machine two threads per
cell made 20-step fits vary from 2 s to 60 s).
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .cells import Cell, run_cell
from .models import DEFAULT_GAMMAS, DEFAULT_MODELS, ModelSpec, expand_models
from .presets import PRESETS, quick_datasets, resolve_datasets
from .records import PROTOCOL, append_record, done_keys, read_records, settings_hash

__all__ = ["RunReport", "main", "parse_param", "plan_cells", "run"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: ``--quick``: defaults replaced (explicit options still win) to finish in minutes on 2 cores.
QUICK_PARAMS = {"max_steps": 20, "hidden_dim": 16, "n_res_blocks": 2}
QUICK_BT_PARAMS = {"projector_dims": (256, 256, 256)}
QUICK_N_REPEATS = 3
# One torch thread per cell: on a 2-core machine shared with other work, two threads per cell
# made 20-step fits vary from 2 s to 60 s (OpenMP threads waiting for a busy core).
QUICK_TORCH_THREADS = 1


@dataclass
class RunReport:
    """What a :func:`run` did: cells computed, skipped (already in the file) and failed."""

    computed: list = field(default_factory=list)
    skipped: int = 0
    failed: list = field(default_factory=list)
    seconds: float = 0.0


def parse_param(text: str) -> tuple[str, object]:
    """``"key=value"`` → ``(key, value)``, value a Python literal if it parses as one.

    >>> parse_param("projector_dims=(256, 256)"), parse_param("device=cpu")
    (('projector_dims', (256, 256)), ('device', 'cpu'))
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        parsed = value.strip()
    return key.strip(), parsed


def cell_settings(spec: ModelSpec, n_repeats: int, unequal: str, missing: str) -> dict:
    """What a cell's result depends on besides dataset and seed (hashed for resuming).

    ``verbose`` is left out: watching a resumed run's progress must not invalidate it.
    """
    params = {k: v for k, v in spec.params.items() if k != "verbose"}
    return {"protocol": PROTOCOL, "model": spec.name, "family": spec.family,
            "params": params, "n_repeats": n_repeats, "unequal": unequal, "missing": missing}


def plan_cells(datasets, specs, seeds, *, data_dir=None, n_repeats=15, unequal="resample",
               missing="interpolate", n_threads=None, n_concurrent=1,
               isolate=False) -> list[Cell]:
    """All cells, dataset-major (consecutive cells of a worker reuse the loaded data)."""
    hashes = {}
    for spec in specs:
        settings = cell_settings(spec, n_repeats, unequal, missing)
        hashes[spec.name] = (settings, settings_hash(settings))
    data_dir = None if data_dir is None else str(data_dir)
    return [Cell(dataset, spec, int(seed), *hashes[spec.name], data_dir=data_dir,
                 unequal=unequal, missing=missing, n_repeats=n_repeats, n_threads=n_threads,
                 n_concurrent=n_concurrent, isolate=isolate)
            for dataset in datasets for seed in seeds for spec in specs]


def _check_datasets(datasets, data_dir) -> None:
    from btvqvae.datasets import list_ucr

    available = set(list_ucr(data_dir))
    missing = [d for d in datasets if d not in available]
    if missing:
        where = f"in {data_dir}" if data_dir is not None else \
            "among aeon's bundled datasets (pass --data-dir for a local UCR archive)"
        raise ValueError(f"datasets not found {where}: {', '.join(missing)}")


def _dask_client(address, n_workers):
    from dask.distributed import Client, LocalCluster

    if address == "local":
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                               dashboard_address=None)
        return Client(cluster), cluster
    return Client(address), None


def _concurrency(client) -> int:
    """Most cells running at once on one host of a dask cluster."""
    per_host = Counter()
    for worker in client.scheduler_info(n_workers=-1)["workers"].values():
        per_host[worker.get("host")] += worker.get("nthreads", 1)
    return max(per_host.values(), default=1)


def _execute(cells, n_jobs, client, isolate):
    """Yield records as cells finish, in any order (joblib generator_unordered).

    Isolated cells run in their own interpreter, so locally a thread per concurrent cell is
    enough to start and wait for it; otherwise cells run in loky worker processes.
    """
    from joblib import Parallel, delayed, parallel_config

    tasks = (delayed(run_cell)(cell) for cell in cells)
    if client is None:
        yield from Parallel(n_jobs=n_jobs, prefer="threads" if isolate else None,
                            return_as="generator_unordered")(tasks)
        return
    with parallel_config(backend="dask", client=client):
        yield from Parallel(n_jobs=-1, return_as="generator_unordered")(tasks)


def run(datasets, models=DEFAULT_MODELS, *, out, seeds=(0,), gammas=DEFAULT_GAMMAS,
        params=None, bt_params=None, minirocket_params=None, data_dir=None, n_repeats=15,
        unequal="resample", missing="interpolate", n_jobs=1, dask=None, torch_threads=None,
        isolate=True, progress=True) -> RunReport:
    """Run every cell not yet in ``out``; append each record as it finishes.

    ``datasets``: names and presets; ``models``: names of :mod:`benchmarks.models`;
    ``params`` / ``bt_params`` / ``minirocket_params``: dicts as from ``--param`` etc.;
    ``dask``: a scheduler address, ``"local"`` or a ``dask.distributed.Client`` (left open);
    ``torch_threads``: threads per cell, None for ``cpus // concurrent cells``;
    ``isolate``: run each cell in a fresh interpreter. Other arguments: see the CLI.
    Unknown datasets, models or parameters raise ``ValueError`` before any cell runs.
    """
    from joblib import effective_n_jobs
    from tqdm.auto import tqdm

    started = time.perf_counter()
    datasets = resolve_datasets(datasets)
    specs = expand_models(models, gammas, params, bt_params, minirocket_params)
    _check_datasets(datasets, data_dir)
    client = cluster = None
    try:
        if dask is not None:
            client, cluster = (dask, None) if not isinstance(dask, str) else \
                _dask_client(dask, max(1, effective_n_jobs(n_jobs)))
            concurrent = _concurrency(client)
        else:
            concurrent = effective_n_jobs(n_jobs)
        cells = plan_cells(datasets, specs, seeds, data_dir=data_dir, n_repeats=n_repeats,
                           unequal=unequal, missing=missing, n_threads=torch_threads,
                           n_concurrent=concurrent, isolate=isolate)
        done = done_keys(out)
        todo = [cell for cell in cells if cell.key not in done]
        report = RunReport(skipped=len(cells) - len(todo))
        errors = Path(out).with_name(Path(out).stem + ".errors.jsonl")
        with tqdm(total=len(todo), unit="cell", disable=not progress, file=sys.stderr,
                  desc="cells") as bar:
            for record in _execute(todo, n_jobs, client, isolate):
                if "error" in record:
                    append_record(errors, record)
                    report.failed.append(record)
                    bar.write(f"FAILED {record['dataset']} {record['model']} seed "
                              f"{record['seed']}: {record['error'].strip().splitlines()[-1]}")
                else:
                    append_record(out, record)
                    report.computed.append((record["dataset"], record["model"],
                                            record["seed"], record["settings_hash"]))
                bar.set_postfix_str(f"{record['dataset']} {record['model']} s{record['seed']}")
                bar.update()
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
        elif client is not None and isinstance(dask, str):
            client.close()
    report.seconds = time.perf_counter() - started
    return report


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.thesis", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"dataset presets: {', '.join(PRESETS)}; models: {', '.join(DEFAULT_MODELS)}, "
               "bt_g<gamma>")
    p.add_argument("--data-dir", help="UCR archive folder (<Name>/<Name>_TRAIN.tsv or .ts); "
                   "default: aeon's bundled datasets")
    p.add_argument("--datasets", nargs="+", help="names and/or presets (default: all; "
                   "--quick: 2 small ones)")
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS),
                   help=f"default: {' '.join(DEFAULT_MODELS)}")
    p.add_argument("--gammas", nargs="+", type=float, default=list(DEFAULT_GAMMAS),
                   help="γ values of the bt model (default: 0.5 1 2, the thesis' sweep)")
    p.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 2 (--quick: 0)")
    p.add_argument("--max-steps", type=int, help="optimizer-step budget of the token models "
                   "(default: the estimators' default; --quick: 20)")
    p.add_argument("--max-epochs", type=int, help="epoch budget; either option replaces the "
                   "whole budget (the other one is unset unless also given)")
    p.add_argument("--param", action="append", type=parse_param, default=[], metavar="K=V",
                   help="estimator parameter of VQ-VAE and BT models (repeatable)")
    p.add_argument("--bt-param", action="append", type=parse_param, default=[], metavar="K=V",
                   help="parameter of the BT models only (repeatable)")
    p.add_argument("--minirocket-param", action="append", type=parse_param, default=[],
                   metavar="K=V", help="n_kernels or max_dilations_per_kernel")
    p.add_argument("--n-repeats", type=int, help="KMeans repeats of evaluate (default 15, "
                   f"--quick {QUICK_N_REPEATS})")
    p.add_argument("--unequal", choices=("resample", "pad"), default="resample",
                   help="unequal-length problems: stretch or zero-pad to the longest series")
    p.add_argument("--missing", choices=("interpolate", "zero"), default="interpolate",
                   help="missing values inside series: linear interpolation or 0")
    p.add_argument("--out", help=f"JSON-lines results file (default {RESULTS_DIR}/"
                   "thesis.jsonl, --quick: quick.jsonl)")
    p.add_argument("--n-jobs", type=int, default=1, help="cells run at once (default 1)")
    p.add_argument("--dask", metavar="ADDRESS", help="dask scheduler address, or 'local'")
    p.add_argument("--torch-threads", type=int, help="threads per cell (default: cpus // "
                   "concurrent cells; --quick: 1)")
    p.add_argument("--no-isolate", dest="isolate", action="store_false",
                   help="run cells in the worker process instead of a fresh one each")
    p.add_argument("--quick", action="store_true",
                   help="2 small datasets, seed 0, max_steps=20, hidden_dim=16, n_res_blocks=2, "
                        "BT projector (256, 256, 256), 3 KMeans repeats, 1 torch thread")
    p.add_argument("--dry-run", action="store_true", help="list the cells still to run")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    params, bt_params = dict(args.param), dict(args.bt_param)
    if args.quick:
        params = {**QUICK_PARAMS, **params}
        bt_params = {**QUICK_BT_PARAMS, **bt_params}
    if args.max_steps is not None or args.max_epochs is not None:
        params.update(max_steps=args.max_steps, max_epochs=args.max_epochs)
    datasets = args.datasets or (quick_datasets(args.data_dir) if args.quick else ["all"])
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    n_repeats = args.n_repeats or (QUICK_N_REPEATS if args.quick else 15)
    torch_threads = args.torch_threads or (QUICK_TORCH_THREADS if args.quick else None)
    out = Path(args.out) if args.out else RESULTS_DIR / ("quick.jsonl" if args.quick
                                                         else "thesis.jsonl")
    options = {"seeds": seeds, "gammas": args.gammas, "params": params,
               "bt_params": bt_params, "minirocket_params": dict(args.minirocket_param),
               "data_dir": args.data_dir, "n_repeats": n_repeats, "unequal": args.unequal,
               "missing": args.missing}
    try:
        if args.dry_run:
            specs = expand_models(args.models, args.gammas, params, bt_params,
                                  options["minirocket_params"])
            cells = plan_cells(resolve_datasets(datasets), specs, seeds, data_dir=args.data_dir,
                               n_repeats=n_repeats, unequal=args.unequal, missing=args.missing)
            done = done_keys(out)
            for cell in cells:
                state = "done" if cell.key in done else "todo"
                print(f"{state}\t{cell.dataset}\t{cell.model.name}\t{cell.seed}\t"
                      f"{cell.settings_hash}")
            return 0
        report = run(datasets, args.models, out=out, n_jobs=args.n_jobs, dask=args.dask,
                     torch_threads=torch_threads, isolate=args.isolate,
                     progress=args.progress, **options)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(report.computed)} cells computed, {report.skipped} already in {out}, "
          f"{len(report.failed)} failed; {report.seconds:.1f} s")
    if report.computed:
        from .summarize import accuracy_overview

        keys = set(report.computed)
        records = [r for r in read_records(out) if
                   (r["dataset"], r["model"], r["seed"], r["settings_hash"]) in keys]
        print(accuracy_overview(records))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
