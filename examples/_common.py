"""Pieces shared by the example scripts: their common command-line options and data loading.

Not an example itself. The scripts import it as ``_common``, which works because Python puts
a script's own folder first on ``sys.path`` (``python examples/classify_ucr.py``).
"""

import argparse
import ast

from btvqvae.datasets import load_ucr


def parse_param(text):
    """``"key=value"`` -> ``(key, value)``, the value a Python literal when it parses as one."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return key.strip(), value.strip()


def load_split(name, split, data_dir, unequal="resample"):
    """One official split of a UCR/UEA problem, missing values interpolated.

    Unequal lengths are resampled to the longest series by default; ``unequal`` is passed
    to :func:`btvqvae.datasets.load_ucr` (``"pad"``, ``"resample"`` or ``"list"``).
    """
    return load_ucr(name, split=split, data_dir=data_dir, unequal=unequal,
                    missing="interpolate")


def add_data_arguments(parser, default_dataset="GunPoint", archive="UCR"):
    """``--dataset`` (left out when ``default_dataset`` is None) and ``--data-dir``."""
    if default_dataset is not None:
        parser.add_argument("--dataset", default=default_dataset, metavar="NAME",
                            help=f"UCR problem (default: {default_dataset}, bundled with aeon)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help=f"local {archive} archive folder (default: aeon's bundled datasets)")


def add_model_arguments(parser, gamma=True, each_fit=False):
    """``--gamma`` (when ``gamma``), ``--max-steps``, ``--param`` and ``--random-state``.

    ``each_fit`` says in the help of ``--max-steps`` that the budget applies to every one
    of several fits.
    """
    if gamma:
        parser.add_argument("--gamma", type=float, default=1.0,
                            help="weight of the Barlow Twins loss (default: 1.0)")
    if each_fit:
        budget = ("training budget of each fit in optimizer steps "
                  "(default: the estimator's)")
    else:
        budget = "training budget in optimizer steps (default: the estimator's)"
    parser.add_argument("--max-steps", type=int, default=None, help=budget)
    parser.add_argument("--param", type=parse_param, action="append", default=[],
                        metavar="KEY=VALUE",
                        help="any other estimator parameter, e.g. hidden_dim=16 (repeatable)")
    parser.add_argument("--random-state", type=int, default=0)


def estimator_params(args, **fixed):
    """Estimator keyword arguments from the options of :func:`add_model_arguments`.

    ``fixed`` (e.g. ``verbose=1``), then ``gamma`` when the parser has ``--gamma``,
    ``random_state``, ``max_steps`` when given, and last every ``--param``, so a
    ``--param`` overrides any of the others.
    """
    params = dict(fixed)
    if hasattr(args, "gamma"):
        params["gamma"] = args.gamma
    params["random_state"] = args.random_state
    if args.max_steps is not None:
        params["max_steps"] = args.max_steps
    params.update(args.param)
    return params
