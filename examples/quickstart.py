"""Quick start: tokenise aeon's bundled GunPoint, classify the tokens, decode them back.

It classifies the tokens twice: a linear SVC on their embedding (the thesis' protocol), and
aeon's MiniRocket with a ridge classifier on the series the tokens decode to
(``output="decoded"``: a function of the code ids alone), the package's best read-out.

Runs offline. The numbers it prints depend on torch's intra-op thread count (it prints
the count; a fixed ``random_state`` gives identical tokens only at a fixed count), so the
README quotes them with the count they were measured at:

    python examples/quickstart.py [--model bt|vqvae] [--max-steps N]
"""

import argparse
import time

import numpy as np
import torch
from aeon.datasets import load_gunpoint
from aeon.transformations.collection.convolution_based import MiniRocket
from sklearn.linear_model import RidgeClassifierCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("bt", "vqvae"), default="bt",
                        help="BT-VQVAE (default) or the plain VQ-VAE")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="training budget in optimizer steps (default: the estimator's)")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    X_train, y_train = load_gunpoint(split="train")
    X_test, y_test = load_gunpoint(split="test")
    cls = BarlowTwinsVQVAETransformer if args.model == "bt" else VQVAETransformer
    params = dict(verbose=1, random_state=args.random_state)
    if args.max_steps is not None:
        params["max_steps"] = args.max_steps
    pipe = Pipeline([("tokens", cls(**params)), ("svc", SVC(kernel="linear"))])

    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    accuracy = pipe.score(X_test, y_test)

    tokenizer = pipe.named_steps["tokens"]
    X_hat = tokenizer.reconstruct(X_test)
    mse = float(np.mean((X_hat - X_test) ** 2) / tokenizer.scale_ ** 2)
    print(f"{cls.__name__} on GunPoint: fit {seconds:.1f} s with {torch.get_num_threads()} "
          f"torch thread(s), "
          f"{tokenizer.n_tokens_} tokens per series from {tokenizer.codebook_size} codes "
          f"(perplexity {tokenizer.perplexity_:.1f})")
    print(f"linear-SVC test accuracy on the tokens: {accuracy:.3f}")
    print(f"test reconstruction MSE (standardised units; data variance 1): {mse:.4f}")

    start = time.perf_counter()
    decoded_train, decoded_test = (tokenizer.encode(X, output="decoded")
                                   for X in (X_train, X_test))
    rocket = make_pipeline(MiniRocket(random_state=0), StandardScaler(),
                           RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    rocket_accuracy = rocket.fit(decoded_train, y_train).score(decoded_test, y_test)
    print(f"MiniRocket + ridge on the decoded tokens: {rocket_accuracy:.3f} "
          f"({time.perf_counter() - start:.1f} s)")
    return accuracy, mse, rocket_accuracy


if __name__ == "__main__":
    main()
