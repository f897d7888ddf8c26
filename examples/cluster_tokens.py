"""Cluster series by their token histograms with KMeans; compare with KMeans on raw series.

A BT-VQVAE fitted on the TRAIN split (no labels) describes each TEST series by how often it
uses each code (``output="histogram"``: a bag of tokens, order discarded). KMeans with as
many clusters as classes runs on those histograms and on the raw series, each repeated with
different seeds (:func:`btvqvae.evaluation.kmeans_silhouette`), and reports

- the silhouette of the clusters, measured in the space they were found in (how well
  separated they are; not comparable between the two spaces), and
- the adjusted Rand index (ARI) against the true classes (0 = chance, 1 = the classes),
  which is comparable.

Runs offline on aeon's bundled GunPoint. The default budget is the estimator's, 250
optimizer steps: a default BT-VQVAE GunPoint fit took 32.4 s in ``examples/quickstart.py``
on this project's 2-core machine (2 torch threads). ``--max-steps 50`` gives a first look:

    python examples/cluster_tokens.py [--max-steps N] [--n-repeats R] [--param KEY=VALUE ...]
    python examples/cluster_tokens.py --dataset SyntheticControl --data-dir ../shared/data/ucr
"""

import argparse
import time

from _common import add_data_arguments, add_model_arguments, estimator_params, load_split

from btvqvae import BarlowTwinsVQVAETransformer
from btvqvae.evaluation import kmeans_silhouette


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    add_model_arguments(parser)
    parser.add_argument("--n-clusters", type=int, default=None,
                        help="KMeans clusters (default: the number of classes)")
    parser.add_argument("--n-repeats", type=int, default=15,
                        help="KMeans runs with different seeds (default: 15)")
    args = parser.parse_args(argv)

    X_train, _ = load_split(args.dataset, "train", args.data_dir)  # labels unused: unsupervised
    X_test, y_test = load_split(args.dataset, "test", args.data_dir)
    tokenizer = BarlowTwinsVQVAETransformer(
        **estimator_params(args, output="histogram", verbose=1))
    start = time.perf_counter()
    tokenizer.fit(X_train)
    seconds = time.perf_counter() - start
    H_test = tokenizer.transform(X_test)  # (n_test, codebook_size), rows sum to 1

    options = dict(n_clusters=args.n_clusters, n_repeats=args.n_repeats,
                   random_state=args.random_state, labels=y_test)
    results = {
        "token_histogram": kmeans_silhouette(H_test, **options),
        "raw_series": kmeans_silhouette(X_test.reshape(len(X_test), -1), **options),
    }
    n_clusters = args.n_clusters or len(set(y_test))

    print(f"{args.dataset}: tokenizer fitted on {len(X_train)} unlabelled TRAIN series in "
          f"{seconds:.1f} s ({tokenizer.n_tokens_} tokens per series, "
          f"{tokenizer.codebook_size} codes, perplexity {tokenizer.perplexity_:.1f})")
    print(f"KMeans ({n_clusters} clusters, {args.n_repeats} seeds) on the {len(X_test)} TEST "
          "series, mean ± std over seeds:")
    print(f"  {'representation':<34} {'features':>8} {'silhouette':>15} {'ARI vs labels':>15}")
    widths = {"token_histogram": H_test.shape[1], "raw_series": X_test[0].size}
    names = {"token_histogram": "token histogram (bag of tokens)",
             "raw_series": "raw series"}
    for key, result in results.items():
        print(f"  {names[key]:<34} {widths[key]:>8d} "
              f"{result['silhouette_mean']:>7.3f} ± {result['silhouette_std']:.3f} "
              f"{result['ari_mean']:>7.3f} ± {result['ari_std']:.3f}")
    print("  (silhouettes are measured in each representation's own space; compare the ARIs)")
    return results


if __name__ == "__main__":
    main()
