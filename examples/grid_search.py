"""Tune BT-VQVAE with GridSearchCV: gamma x codebook size, locally or on a dask cluster.

The tokenizer is a step of a scikit-learn pipeline, so its parameters are searched like any
other: ``bt__gamma`` over {0, 0.5, 1, 2} (0 is a VQ-VAE trained on augmented data) and
``bt__codebook_size`` over {16, 32}, scored by the cross-validated accuracy of a linear SVC
on the tokens of the TRAIN split. The best pipeline is refitted on all of TRAIN and scored
on TEST.

    python examples/grid_search.py [--max-steps N] [--n-jobs 2] [--cv 3]
    python examples/grid_search.py --gammas 0 1 --codebook-sizes 16 --max-steps 50
    python examples/grid_search.py --dask tcp://scheduler:8786     # fits run on the cluster
    python examples/grid_search.py --dask local --n-jobs 2         # a local dask cluster

Cost: (gammas x codebook sizes x cv folds + 1 refit) fits, 25 with the defaults. At the
estimator's default budget (250 steps) one BT-VQVAE GunPoint fit took 32.4 s in
``examples/quickstart.py`` on this project's 2-core machine (2 torch threads), so the full
default search takes a quarter of an hour on one machine and far less on a cluster;
``--max-steps 50``, a smaller grid or smaller widths (``--param hidden_dim=16 --param
"projector_dims=(256, 256)"``) make a first look.

Running the search on a dask cluster needs no change to the estimator: scikit-learn hands
its fits to joblib, and joblib's dask backend sends them to the cluster's workers::

    import joblib
    from dask.distributed import Client

    client = Client("tcp://scheduler:8786")    # or Client() for a local cluster
    with joblib.parallel_config(backend="dask"):
        search.fit(X, y)                         # search = GridSearchCV(..., n_jobs=-1)

Every worker needs btvqvae (same version) installed; X and y are shipped to the workers by
joblib. Give each worker process one thread (``dask worker ADDRESS --nthreads 1``) so that
torch's own threads do not compete; dask's nanny already sets ``OMP_NUM_THREADS=1``.
``--dask`` does exactly this; ``--dask local`` starts a LocalCluster of ``--n-jobs``
single-thread workers. ``--data-dir`` reads a local UCR archive with
:func:`btvqvae.datasets.load_ucr`, otherwise aeon's bundled GunPoint is used.
"""

import argparse
import time

import joblib
from _common import add_data_arguments, add_model_arguments, estimator_params, load_split
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from btvqvae import BarlowTwinsVQVAETransformer

DASK_NOTE = """\
note: to run these fits on a dask cluster instead (pip install "dask[distributed]"):
    client = dask.distributed.Client("tcp://scheduler:8786")
    with joblib.parallel_config(backend="dask"):
        search.fit(X, y)          # with GridSearchCV(..., n_jobs=-1)
  or rerun this script with --dask ADDRESS (--dask local starts a local cluster)."""


def dask_client(address, n_workers):
    """``(client, cluster)`` for ``address``; ``"local"`` starts a LocalCluster, else None."""
    from dask.distributed import Client, LocalCluster

    if address == "local":
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                               dashboard_address=None)
        return Client(cluster), cluster
    return Client(address), None


def cv_table(cv_results):
    """One row per candidate, best first."""
    rows = []
    for i, params in enumerate(cv_results["params"]):
        rows.append(dict(gamma=params["bt__gamma"], codebook_size=params["bt__codebook_size"],
                         mean_accuracy=float(cv_results["mean_test_score"][i]),
                         std_accuracy=float(cv_results["std_test_score"][i]),
                         rank=int(cv_results["rank_test_score"][i]),
                         fit_seconds=float(cv_results["mean_fit_time"][i])))
    return sorted(rows, key=lambda row: (row["rank"], row["gamma"], row["codebook_size"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--gammas", type=float, nargs="+", default=[0.0, 0.5, 1.0, 2.0],
                        help="values of bt__gamma (default: 0 0.5 1 2)")
    parser.add_argument("--codebook-sizes", type=int, nargs="+", default=[16, 32],
                        help="values of bt__codebook_size (default: 16 32)")
    parser.add_argument("--cv", type=int, default=3, help="cross-validation folds (default: 3)")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="fits run at once; local processes, or workers of --dask local")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="dask scheduler address (tcp://host:8786), or 'local'")
    add_model_arguments(parser, gamma=False, each_fit=True)
    args = parser.parse_args(argv)

    X_train, y_train = load_split(args.dataset, "train", args.data_dir)
    X_test, y_test = load_split(args.dataset, "test", args.data_dir)
    pipe = Pipeline([("bt", BarlowTwinsVQVAETransformer(**estimator_params(args))),
                     ("svc", SVC(kernel="linear"))])
    grid = {"bt__gamma": args.gammas, "bt__codebook_size": args.codebook_sizes}
    n_candidates = len(args.gammas) * len(args.codebook_sizes)
    search = GridSearchCV(pipe, grid, cv=args.cv, n_jobs=-1 if args.dask else args.n_jobs)

    where = f"dask cluster {args.dask}" if args.dask else f"n_jobs={args.n_jobs}"
    print(f"{args.dataset}: {len(X_train)} train / {len(X_test)} test series; "
          f"{n_candidates} candidates x {args.cv} folds + 1 refit = "
          f"{n_candidates * args.cv + 1} fits ({where})")
    start = time.perf_counter()
    if args.dask:
        client, cluster = dask_client(args.dask, max(1, args.n_jobs))
        try:
            with joblib.parallel_config(backend="dask"):
                search.fit(X_train, y_train)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    else:
        search.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    test_accuracy = float(search.score(X_test, y_test))
    rows = cv_table(search.cv_results_)

    print(f"search took {seconds:.1f} s")
    print(f"{'gamma':>6} {'codes':>6} {'cv accuracy':>15} {'rank':>5} {'fit s':>7}")
    for row in rows:
        print(f"{row['gamma']:>6g} {row['codebook_size']:>6d} "
              f"{row['mean_accuracy']:>8.3f} ± {row['std_accuracy']:.3f} "
              f"{row['rank']:>5d} {row['fit_seconds']:>7.1f}")
    best = {key.removeprefix("bt__"): value for key, value in search.best_params_.items()}
    print(f"best: {best} (cv accuracy {search.best_score_:.3f}); "
          f"refitted on TRAIN, test accuracy {test_accuracy:.3f}")
    if not args.dask:
        print(DASK_NOTE)
    return dict(best_params=search.best_params_, best_score=float(search.best_score_),
                test_accuracy=test_accuracy, cv_results=rows)


if __name__ == "__main__":
    main()
