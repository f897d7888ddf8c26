"""Multivariate and unequal-length series: BT-VQVAE in a pipeline with aeon's Resizer/Padder.

1. Multivariate: aeon's bundled BasicMotions (6 channels: accelerometer and gyroscope x, y,
   z) goes straight into the estimator as a 3-D array ``(n_cases, 6, 100)``; the channels
   are the input channels of the STFT encoder, so each series still gets one token grid.
2. Unequal lengths: aeon's bundled PickupGestureWiimoteZ (series of 29 to 361 points) is
   loaded as aeon's unequal-length format, a list of 2-D ``(n_channels, n_timepoints_i)``
   arrays (``btvqvae.datasets.load_ucr(..., unequal="list")``). The estimator needs one
   length and says so; aeon's collection transformers make one length *inside* the
   pipeline, so the list goes to ``fit``, ``score`` and ``predict`` as it is::

       Pipeline([("resize", Resizer(resized_length="max")),
                 ("bt", BarlowTwinsVQVAETransformer(...)),
                 ("svc", SVC(kernel="linear"))]).fit(X_list, y)

   ``Resizer`` (``aeon.transformations.collection.unequal_length``) stretches every series
   linearly to the longest TRAIN length learnt in ``fit``; ``--unequal pad`` uses ``Padder``
   instead, which appends zeros. ``Padder(padded_length="max")`` learns the longest TRAIN
   series and then refuses a longer TEST series, so the example passes the longest length
   over both splits as an int. aeon's transformers are scikit-learn estimators: they clone,
   and ``cross_val_score`` / ``GridSearchCV`` index the list like an array.

Runs offline on aeon's bundled data. The default budget is the estimator's: two fits of 250
optimizer steps each. ``--max-steps 50`` gives a quicker first look:

    python examples/multivariate_and_unequal.py [--max-steps N] [--unequal resize|pad]
    python examples/multivariate_and_unequal.py --only unequal --unequal-dataset \\
        GesturePebbleZ1 --data-dir ../shared/data/ucr

With ``--data-dir`` the datasets are read from that local UCR/UEA archive by
:func:`btvqvae.datasets.load_ucr` (missing values interpolated); ``--only`` runs one part,
for an archive that holds only univariate problems.
"""

import argparse
import time

from _common import add_data_arguments, add_model_arguments, estimator_params, load_split
from aeon.transformations.collection.unequal_length import Padder, Resizer
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from btvqvae import BarlowTwinsVQVAETransformer


def fit_and_score(pipe, X_train, y_train, X_test, y_test):
    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    return float(pipe.score(X_test, y_test)), time.perf_counter() - start


def multivariate(args, params):
    X_train, y_train = load_split(args.multivariate_dataset, "train", args.data_dir,
                                  unequal="pad")
    X_test, y_test = load_split(args.multivariate_dataset, "test", args.data_dir,
                                unequal="pad")
    pipe = Pipeline([("bt", BarlowTwinsVQVAETransformer(**params)),
                     ("svc", SVC(kernel="linear"))])
    accuracy, seconds = fit_and_score(pipe, X_train, y_train, X_test, y_test)
    bt = pipe.named_steps["bt"]
    print(f"[multivariate] {args.multivariate_dataset}: X_train {X_train.shape} "
          f"(cases, channels, timepoints), {len(set(y_train))} classes")
    print(f"  fit {seconds:.1f} s; {bt.n_tokens_} tokens per series for all "
          f"{bt.n_channels_} channels together; linear-SVC test accuracy {accuracy:.3f}")
    return dict(multivariate_accuracy=accuracy, multivariate_shape=X_train.shape,
                multivariate_tokens=bt.n_tokens_)


def unequal_length(args, params):
    X_train, y_train = load_split(args.unequal_dataset, "train", args.data_dir, unequal="list")
    X_test, y_test = load_split(args.unequal_dataset, "test", args.data_dir, unequal="list")
    lengths = [x.shape[1] for x in X_train + X_test]
    print(f"[unequal length] {args.unequal_dataset}: a list of {len(X_train)} TRAIN arrays "
          f"(n_channels, n_timepoints_i), lengths {min(lengths)} to {max(lengths)} over both "
          f"splits, {len(set(y_train))} classes")

    try:
        BarlowTwinsVQVAETransformer(**params).fit(X_train)
    except ValueError as err:
        print(f"  the estimator alone refuses the list: {err}")

    if args.unequal == "pad":
        # Padder("max") would learn the longest TRAIN series and reject a longer TEST one.
        step = ("pad", Padder(padded_length=max(lengths), fill_value=0))
    else:
        step = ("resize", Resizer(resized_length="max"))
    pipe = Pipeline([step, ("bt", BarlowTwinsVQVAETransformer(**params)),
                     ("svc", SVC(kernel="linear"))])
    accuracy, seconds = fit_and_score(pipe, X_train, y_train, X_test, y_test)
    bt = pipe.named_steps["bt"]
    print(f"  {step[1]!r} inside the Pipeline: fit on the list in {seconds:.1f} s, series "
          f"made {bt.n_timepoints_} points long, {bt.n_tokens_} tokens per series; "
          f"linear-SVC test accuracy {accuracy:.3f}")
    return dict(unequal_accuracy=accuracy, unequal_length=bt.n_timepoints_,
                unequal_lengths=(min(lengths), max(lengths)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--multivariate-dataset", default="BasicMotions", metavar="NAME",
                        help="multivariate problem (default: BasicMotions, bundled with aeon)")
    parser.add_argument("--unequal-dataset", default="PickupGestureWiimoteZ", metavar="NAME",
                        help="unequal-length problem (default: PickupGestureWiimoteZ, bundled)")
    add_data_arguments(parser, default_dataset=None, archive="UCR/UEA")
    parser.add_argument("--only", choices=("multivariate", "unequal"),
                        help="run one of the two parts (e.g. when --data-dir holds only one "
                             "kind of problem)")
    parser.add_argument("--unequal", choices=("resize", "pad"), default="resize",
                        help="aeon's Resizer (default) or Padder in front of the estimator")
    add_model_arguments(parser, each_fit=True)
    args = parser.parse_args(argv)

    params = estimator_params(args, verbose=1)
    results = {}
    if args.only in (None, "multivariate"):
        results.update(multivariate(args, params))
    if args.only in (None, "unequal"):
        results.update(unequal_length(args, params))
    return results


if __name__ == "__main__":
    main()
