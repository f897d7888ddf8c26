"""The ``btvqvae`` command: fit, evaluate and plot models on UCR/UEA datasets, list datasets.

Every subcommand runs through :func:`main`, which returns the exit status instead of exiting,
so the command can be driven from Python (``main(["datasets"])``). Mistakes of the user
(unknown dataset, bad parameter, missing model) end with a one-line message on stderr and
status 2, as argparse's own usage errors do.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import sys
import time
from pathlib import Path

from ._version import __version__

__all__ = ["main"]

MODELS = {"vqvae": "VQVAETransformer", "bt": "BarlowTwinsVQVAETransformer"}
PLOT_KINDS = ("reconstruction", "codebook", "history", "latents", "tokens", "augmentations")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")

EPILOG = """\
examples:
  btvqvae datasets
  btvqvae fit --dataset GunPoint --model bt --gamma 1 --max-steps 1000 --out gunpoint_bt
  btvqvae fit --dataset GunPoint --model vqvae --param output=tokens --out vq.pkl
  btvqvae evaluate vq.pkl --allow-pickle --dataset GunPoint
  btvqvae evaluate gunpoint_bt --dataset GunPoint
  btvqvae evaluate gunpoint_bt --dataset GunPoint --json > metrics.json
  btvqvae plot gunpoint_bt --dataset GunPoint --kind reconstruction --index 3 --out rec.png
  btvqvae fit --dataset Coffee --data-dir ~/UCRArchive_2018 --device auto --out coffee

Without --data-dir only the datasets bundled with aeon are available; nothing is downloaded.
A model is saved as a folder (params.json + weights.pt, see btvqvae.persistence) unless --out
ends in .pkl/.pickle/.joblib or --format pickle is given. evaluate and plot load a pickle only
with --allow-pickle: unpickling can run arbitrary code, so pass only files you trust.
"""


class CLIError(Exception):
    """A user mistake: reported as one line on stderr with exit status 2."""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's layout; shows a default only where one is set and not yet named."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if default in (None, False, [], argparse.SUPPRESS) or "default" in text:
            return text
        return f"{text} (default: %(default)s)"


# --------------------------------------------------------------------------- argument parsing
def _key_value(text: str) -> tuple[str, object]:
    """``key=value`` → (key, Python literal or the string itself)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw  # a bare word such as output=tokens
    return key.strip(), value


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, metavar="NAME",
                        help="UCR/UEA problem name as spelled on disk, e.g. GunPoint "
                             "(see `btvqvae datasets`)")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="local archive folder (<Name>/<Name>_TRAIN.ts or .tsv); "
                             "default: the datasets bundled with aeon")


def _add_quiet(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help=what)


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="saved model folder (btvqvae fit --out FOLDER), or a pickle file "
                             "with --allow-pickle")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="also load MODEL when it is a pickle/joblib file. Loading a "
                             "pickle can run arbitrary code: only pass files you made or "
                             "trust")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="btvqvae", formatter_class=_HelpFormatter, epilog=EPILOG,
        description="Discrete token representations of time series: fit an STFT VQ-VAE or "
                    "a Barlow-Twins VQ-VAE on a UCR/UEA dataset, evaluate it with the "
                    "thesis' protocol and draw figures.")
    parser.add_argument("--version", action="version", version=f"btvqvae {__version__}",
                        help="show the package version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fit = sub.add_parser("fit", formatter_class=_HelpFormatter, epilog=EPILOG,
                         help="train a model on a dataset's TRAIN split and save it",
                         description="Train a model on the TRAIN split and save it.")
    _add_data_options(fit)
    fit.add_argument("--model", choices=sorted(MODELS), default="bt",
                     help="bt: Barlow-Twins VQ-VAE (the README's model); vqvae: STFT VQ-VAE")
    fit.add_argument("--gamma", type=float, default=None,
                     help="weight of the Barlow Twins loss (--model bt only; estimator "
                          "default 1.0)")
    fit.add_argument("--max-steps", type=int, default=None, metavar="N",
                     help="training budget in optimizer steps (estimator default 250)")
    fit.add_argument("--param", type=_key_value, action="append", default=[],
                     metavar="KEY=VALUE",
                     help="any other estimator parameter, repeatable; values are Python "
                          "literals (4, 1e-3, None, (64, 64)) or plain words (tokens)")
    fit.add_argument("--random-state", type=int, default=0, metavar="SEED",
                     help="seed of weights, codebook, shuffling and augmentations")
    fit.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                     help="where to train; cuda without a GPU warns and uses the CPU")
    fit.add_argument("--out", required=True, metavar="PATH",
                     help="where to save the model: a folder, or a .pkl file for pickle")
    fit.add_argument("--format", choices=("btvqvae", "pickle"), default=None,
                     help="btvqvae: params.json + weights.pt folder; pickle: one joblib "
                          "file (default: pickle when PATH ends in .pkl/.pickle/.joblib)")
    _add_quiet(fit, "no progress bar, only the summary line")

    ev = sub.add_parser("evaluate", formatter_class=_HelpFormatter, epilog=EPILOG,
                        help="report the thesis metrics of a saved model on TRAIN/TEST",
                        description="Probe accuracies, codebook, clustering and "
                                    "reconstruction metrics of a saved model.")
    _add_model_options(ev)
    _add_data_options(ev)
    ev.add_argument("--n-repeats", type=int, default=15, metavar="N",
                    help="KMeans repeats of the silhouette / ARI metrics")
    ev.add_argument("--random-state", type=int, default=0, metavar="SEED",
                    help="seed of the KMeans repeats")
    ev.add_argument("--json", action="store_true",
                    help="print the report as JSON (NaN as null) instead of a table")
    _add_quiet(ev, "print the metric table without its title line")

    plot = sub.add_parser("plot", formatter_class=_HelpFormatter, epilog=EPILOG,
                          help="draw a figure of a saved model into a PNG (or PDF, SVG) file",
                          description="Draw one figure of a saved model with "
                                      "btvqvae.plotting (Agg backend, nothing is shown).")
    _add_model_options(plot)
    _add_data_options(plot)
    plot.add_argument("--kind", choices=PLOT_KINDS, required=True,
                      help="reconstruction: a series and its decoding; codebook: code usage "
                           "of the split's tokens; history: training losses; latents: PCA "
                           "map of the split's latents; tokens: a series' token grid; "
                           "augmentations: each augmentation applied to a series")
    plot.add_argument("--out", required=True, metavar="FILE",
                      help="image file; the suffix picks the format (.png, .pdf, .svg)")
    plot.add_argument("--index", type=int, default=0,
                      help="which series of the split (reconstruction, tokens, augmentations)")
    plot.add_argument("--split", choices=("train", "test"), default="test",
                      help="which split to draw from")
    plot.add_argument("--method", choices=("pca", "tsne"), default="pca",
                      help="2-D projection of --kind latents")
    plot.add_argument("--random-state", type=int, default=0, metavar="SEED",
                      help="seed of augmentations and t-SNE")
    plot.add_argument("--dpi", type=int, default=120, help="resolution of raster images")
    _add_quiet(plot, "do not print the path of the written figure")

    ds = sub.add_parser("datasets", formatter_class=_HelpFormatter, epilog=EPILOG,
                        help="list the datasets available locally",
                        description="List classification problems available offline, one "
                                    "name per line.")
    ds.add_argument("--data-dir", metavar="DIR", default=None,
                    help="archive folder to list; default: the datasets bundled with aeon")
    _add_quiet(ds, "accepted by every command; the list is all this one prints")
    return parser


# ---------------------------------------------------------------------------------- helpers
def _load_split(name: str, split: str, data_dir):
    from .datasets import load_ucr

    return load_ucr(name, split=split, data_dir=data_dir)


def _make_estimator(args):
    from . import estimators

    cls = getattr(estimators, MODELS[args.model])
    params = dict(random_state=args.random_state, device=args.device,
                  verbose=0 if args.quiet else 1)
    if args.gamma is not None:
        if args.model != "bt":
            raise CLIError("--gamma only applies to --model bt")
        params["gamma"] = args.gamma
    if args.max_steps is not None:
        params["max_steps"] = args.max_steps
    valid = cls().get_params(deep=False)
    for key, value in args.param:
        if key not in valid:
            raise CLIError(f"--param {key}: {cls.__name__} has no parameter {key!r}; valid: "
                           f"{', '.join(sorted(valid))}")
        params[key] = value
    estimator = cls(**params)
    try:
        estimator._check_params()  # fail before loading data and training
    except (TypeError, ValueError) as exc:
        raise CLIError(f"invalid parameter: {exc}") from None
    return estimator


def _wants_pickle(out: Path, fmt: str | None) -> bool:
    return fmt == "pickle" if fmt else out.suffix.lower() in PICKLE_SUFFIXES


def _load_model(path: str, allow_pickle: bool = False):
    from ._base import BaseVQVAETransformer
    from .persistence import PARAMS_FILE, WEIGHTS_FILE, load

    model = Path(path).expanduser()
    if model.is_dir():
        return load(model)
    if not model.is_file():
        raise CLIError(f"no model at {path!r}; create one with `btvqvae fit ... --out {path}`")
    if model.name in (PARAMS_FILE, WEIGHTS_FILE, "history.json"):
        raise CLIError(f"{path} is one file of a saved model; pass its folder, "
                       f"{str(model.parent)!r}")
    if not allow_pickle:
        raise CLIError(f"{path} is a file, not a saved model folder. If it is a pickle you "
                       "made or trust, pass --allow-pickle (loading a pickle can run "
                       "arbitrary code)")
    import joblib

    try:
        estimator = joblib.load(model)
    except Exception as exc:  # unpickling fails in many ways; one line says which
        raise CLIError(f"cannot unpickle {path}: {type(exc).__name__}: {exc}") from None
    if not isinstance(estimator, BaseVQVAETransformer):
        raise CLIError(f"{path} holds a {type(estimator).__name__}, not a btvqvae estimator")
    return estimator


def _check_dense_output(estimator, command: str) -> None:
    """Refuse a sparse or 3-D read-out ("bag", "sequence", ...) where a matrix is needed."""
    from .readouts import READOUTS

    readout = READOUTS[estimator.output]
    if readout.sparse or readout.shape is not None:
        kind = ("a 3-D collection" if readout.shape
                else f"a sparse matrix of {estimator._n_features_out} columns")
        raise CLIError(f"{command} needs dense latents, but the model's output="
                       f"{estimator.output!r} is {kind}; fit it with --param output=embedding")


def _format_value(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


# --------------------------------------------------------------------------------- commands
def _fit(args) -> int:
    estimator = _make_estimator(args)
    X, _ = _load_split(args.dataset, "train", args.data_dir)
    start = time.perf_counter()
    estimator.fit(X)
    seconds = time.perf_counter() - start
    out = Path(args.out).expanduser()
    if _wants_pickle(out, args.format):
        import joblib

        out.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(estimator, out)
    else:
        from .persistence import save

        save(estimator, out)
    print(f"{type(estimator).__name__} on {args.dataset} ({len(X)} series): fit in "
          f"{seconds:.1f} s, {estimator.n_iter_} epochs, final loss "
          f"{estimator.loss_curve_[-1]:.4f}, perplexity {estimator.perplexity_:.2f} of "
          f"{estimator.codebook_size} codes; saved to {out}")
    return 0


def _evaluate(args) -> int:
    from .evaluation import METRIC_DESCRIPTIONS, evaluate

    if args.n_repeats < 1:
        raise CLIError(f"--n-repeats must be >= 1, got {args.n_repeats}")
    estimator = _load_model(args.model, args.allow_pickle)
    _check_dense_output(estimator, "evaluate")
    X_train, y_train = _load_split(args.dataset, "train", args.data_dir)
    X_test, y_test = _load_split(args.dataset, "test", args.data_dir)
    report = evaluate(estimator, X_train, y_train, X_test, y_test, n_repeats=args.n_repeats,
                      random_state=args.random_state)
    if args.json:
        metrics = {k: None if isinstance(v, float) and math.isnan(v) else v
                   for k, v in report.items()}
        print(json.dumps({"model": args.model, "estimator": type(estimator).__name__,
                          "dataset": args.dataset, "n_train": len(X_train),
                          "n_test": len(X_test), "metrics": metrics}, indent=2))
        return 0
    rows = [(k, _format_value(v), METRIC_DESCRIPTIONS.get(k, "")) for k, v in report.items()]
    widths = [max(len(r[i]) for r in rows + [("metric", "value", "")]) for i in range(2)]
    if not args.quiet:
        print(f"{type(estimator).__name__} from {args.model} on {args.dataset} "
              f"(train {len(X_train)}, test {len(X_test)} series)")
    print(f"{'metric':<{widths[0]}}  {'value':>{widths[1]}}  meaning")
    for key, value, meaning in rows:
        print(f"{key:<{widths[0]}}  {value:>{widths[1]}}  {meaning}")
    return 0


def _plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.utils.validation import check_is_fitted

    from . import plotting

    estimator = _load_model(args.model, args.allow_pickle)
    check_is_fitted(estimator)
    X, y = _load_split(args.dataset, args.split, args.data_dir)
    if not -len(X) <= args.index < len(X):
        raise CLIError(f"--index {args.index} is out of range for the {len(X)} series of "
                       f"{args.dataset} {args.split.upper()}")
    kind = args.kind
    if kind == "reconstruction":
        figure = plotting.plot_reconstruction(estimator, X, index=args.index)
    elif kind == "codebook":
        tokens = estimator.encode(X, output="tokens")
        figure = plotting.plot_codebook_usage(tokens, estimator.codebook_size)
    elif kind == "history":
        if len(getattr(estimator.net_, "history", [])) == 0:
            raise CLIError(f"{args.model} holds no training history (it was saved without "
                           "history.json); refit it to plot the losses")
        figure = plotting.plot_training_history(estimator)
    elif kind == "latents":
        _check_dense_output(estimator, "plot --kind latents")
        figure = plotting.plot_latent_map(estimator.transform(X), y, method=args.method,
                                          random_state=args.random_state)
    elif kind == "tokens":
        figure = plotting.plot_tokens(estimator, X[args.index])
    else:
        x = (X[args.index] - estimator.mean_) / estimator.scale_  # the scale training sees
        augmenter = getattr(estimator, "augmentations", None)
        figure = plotting.plot_augmentations(x, augmenter, random_state=args.random_state)
    figure = getattr(figure, "figure", figure)  # an Axes → its Figure
    out = Path(args.out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(out, dpi=args.dpi)
    finally:
        plt.close(figure)
    if not args.quiet:
        print(f"wrote {out}")
    return 0


def _datasets(args) -> int:
    from .datasets import list_ucr

    for name in list_ucr(args.data_dir):
        print(name)
    return 0


COMMANDS = {"fit": _fit, "evaluate": _evaluate, "plot": _plot, "datasets": _datasets}


def main(argv: list[str] | None = None) -> int:
    """Run the ``btvqvae`` command line with ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for a usage or input error (message on stderr), 130 on Ctrl-C.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: return, do not exit
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("btvqvae: interrupted", file=sys.stderr)
        return 130
    except (CLIError, OSError, ValueError, TypeError, ArithmeticError, ImportError) as exc:
        # Missing datasets, bad parameters, damaged models, diverged training land here.
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"btvqvae {args.command}: error: {message}", file=sys.stderr)
        return 2
    except Exception as exc:  # anything else still gets one line, not a traceback
        print(f"btvqvae {args.command}: error: unexpected {type(exc).__name__}: "
              f"{' '.join(str(exc).split())}", file=sys.stderr)
        return 2
