"""Classify a UCR problem with BT-VQVAE tokens: a linear SVC and 1-nearest-neighbour probes.

Fits ``Pipeline([("bt", BarlowTwinsVQVAETransformer(gamma=1.0)), ("svc", SVC(kernel="linear"))])``
on the official TRAIN split and scores it on TEST. The fitted tokenizer is then reused, not
refitted, for two 1-NN probes on the same tokens: Euclidean distance between the quantized
embeddings the SVC sees, and Hamming distance between the code ids (the share of token
positions where two series use different codes). A 1-NN on the raw series is the reference.

Runs offline on aeon's bundled GunPoint. The default budget is the estimator's, 250
optimizer steps: a default BT-VQVAE GunPoint fit took 32.4 s in ``examples/quickstart.py``
on this project's 2-core machine (2 torch threads). ``--max-steps 50`` gives a first look:

    python examples/classify_ucr.py [--max-steps N] [--gamma G] [--param KEY=VALUE ...]
    python examples/classify_ucr.py --dataset ECG200 --data-dir ../shared/data/ucr

``--data-dir`` is a local UCR archive (``<Name>/<Name>_TRAIN.tsv`` or ``.ts``) read with
:func:`btvqvae.datasets.load_ucr`; unequal lengths are resampled to the longest series and
missing values interpolated.
"""

import argparse
import time

from _common import add_data_arguments, add_model_arguments, estimator_params, load_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from btvqvae import BarlowTwinsVQVAETransformer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    add_model_arguments(parser)
    args = parser.parse_args(argv)

    X_train, y_train = load_split(args.dataset, "train", args.data_dir)
    X_test, y_test = load_split(args.dataset, "test", args.data_dir)
    params = estimator_params(args, verbose=1)
    pipe = Pipeline([("bt", BarlowTwinsVQVAETransformer(**params)),
                     ("svc", SVC(kernel="linear"))])

    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    bt = pipe.named_steps["bt"]

    # The same fitted tokenizer feeds every probe below: no refitting.
    Z_train, Z_test = bt.transform(X_train), bt.transform(X_test)
    ids_train = bt.encode(X_train, output="tokens")
    ids_test = bt.encode(X_test, output="tokens")
    raw_train, raw_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    scores = {
        "svc_linear": pipe.score(X_test, y_test),
        "knn1_embedding": KNeighborsClassifier(1).fit(Z_train, y_train).score(Z_test, y_test),
        "knn1_hamming": KNeighborsClassifier(1, metric="hamming", algorithm="brute")
        .fit(ids_train, y_train).score(ids_test, y_test),
        "knn1_raw": KNeighborsClassifier(1).fit(raw_train, y_train).score(raw_test, y_test),
    }
    scores = {name: float(value) for name, value in scores.items()}

    n_classes = len(set(y_train))
    print(f"{args.dataset}: {len(X_train)} train / {len(X_test)} test series, "
          f"{X_train.shape[1]} channel(s) x {X_train.shape[2]} timepoints, {n_classes} classes")
    print(f"BT-VQVAE (gamma={args.gamma:g}) fitted in {seconds:.1f} s: {bt.n_tokens_} tokens "
          f"per series from {bt.codebook_size} codes (perplexity {bt.perplexity_:.1f})")
    print("test accuracy")
    labels = {
        "svc_linear": "linear SVC on the token embeddings (the pipeline)",
        "knn1_embedding": "1-NN, Euclidean on the same embeddings",
        "knn1_hamming": "1-NN, Hamming on the code ids",
        "knn1_raw": "1-NN, Euclidean on the raw series (reference)",
    }
    for name, label in labels.items():
        print(f"  {scores[name]:.3f}  {label}")
    return scores


if __name__ == "__main__":
    main()
