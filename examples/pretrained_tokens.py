"""Tokens with no training: the pretrained tokenizer on two datasets of different lengths.

``VQVAETransformer(init="pretrained", max_steps=0)`` loads the tokenizer that ships with the
package and trains nothing: ``fit`` only checks X and records its scale. Every channel is
normalised by its own mean and spread and resampled to the tokenizer's length, so GunPoint
(150 timepoints) and ItalyPowerDemand (24) get token grids of one shape, in one vocabulary:
code 17 means the same in both. The script prints, per dataset, the fit + transform time,
the accuracy of a linear SVC on the tokens' embedding, the reconstruction MSE, and how much
of the vocabulary each dataset uses; ``--fine-tune N`` also fine-tunes N steps and scores
that; ``--plot FILE`` saves what each first-stage code decodes to.

    python examples/pretrained_tokens.py [--fine-tune 50] [--plot vocabulary.png]
"""

import argparse
import time

import numpy as np
from aeon.datasets import load_gunpoint, load_italy_power_demand
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from btvqvae import VQVAETransformer

LOADERS = {"GunPoint": load_gunpoint, "ItalyPowerDemand": load_italy_power_demand}


def score(estimator, X_train, y_train, X_test, y_test) -> dict:
    start = time.perf_counter()
    clf = make_pipeline(estimator, SVC(kernel="linear")).fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    seconds = time.perf_counter() - start
    tok = clf[0]
    tokens = tok.encode(X_test, output="tokens")
    mse = float(np.mean((tok.reconstruct(X_test) - X_test) ** 2) / np.var(X_test))
    return {"accuracy": accuracy, "seconds": seconds, "relative_mse": mse,
            "codes_used": np.unique(tokens).size, "token_shape": tok.token_shape_}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fine-tune", type=int, default=0, metavar="N",
                        help="also fine-tune the tokenizer N steps per dataset")
    parser.add_argument("--plot", help="save the vocabulary figure here (needs matplotlib)")
    args = parser.parse_args(argv)
    results = {}
    for name, load in LOADERS.items():
        X_train, y_train = load(split="train")
        X_test, y_test = load(split="test")
        runs = {"zero-fit": VQVAETransformer(init="pretrained", max_steps=0)}
        if args.fine_tune:
            runs[f"fine-tuned {args.fine_tune}"] = VQVAETransformer(
                init="pretrained", max_steps=args.fine_tune, random_state=0)
        for label, estimator in runs.items():
            r = score(estimator, X_train, y_train, X_test, y_test)
            results[(name, label)] = r
            print(f"{name:17s} {label:14s} accuracy {r['accuracy']:.3f}  fit+score "
                  f"{r['seconds']:.1f} s  relative MSE {r['relative_mse']:.3f}  "
                  f"{r['codes_used']} of 32 codes used  token grid {r['token_shape']}")
    if args.plot:
        from btvqvae.plotting import plot_vocabulary

        plot_vocabulary("pretrained").savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"vocabulary figure: {args.plot}")
    return results


if __name__ == "__main__":
    main()
