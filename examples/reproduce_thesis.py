"""Print (and with --run, execute) the benchmark command that reproduces the thesis' γ sweep.

The sweep itself lives in the benchmark runner ``benchmarks/thesis.py`` (VQ-VAE vs BT-VQVAE
for each γ, plus the raw-series and MiniROCKET baselines, fitted on TRAIN and evaluated on
TEST with the thesis' metrics, one JSON line per dataset x model x seed). This wrapper only
spells out its command for the thesis datasets:

    python examples/reproduce_thesis.py                  # print the command
    python examples/reproduce_thesis.py --run            # run it (hours at the default budget)
    python examples/reproduce_thesis.py --run --max-steps 50 --n-jobs 2
    python examples/reproduce_thesis.py --run --dry-run  # list the cells still to run

The command runs from the repository root (``benchmarks`` is not an installed package); the
default ``--data-dir ../shared/data/ucr`` is relative to it, any other ``--data-dir`` or
``--out`` is taken relative to the current folder. Options this wrapper does not know
(``--n-jobs``, ``--dask ADDRESS``, ``--models``, ``--param K=V``, ``--dry-run``, ...) are
passed to the runner unchanged. A rerun skips the cells already in ``--out``, so an
interrupted sweep resumes. A reduced ``--max-steps`` writes to its own file by default
(``benchmarks/results/thesis_max_steps<N>.jsonl``), so quick runs never mix with the full
budget's results. ``python -m benchmarks.summarize OUT --out-dir DIR`` turns the results
into tables and figures.
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "benchmarks" / "thesis.py"
DEFAULT_DATA_DIR = "../shared/data/ucr"  # relative to ROOT, as in the runner's documentation


def _python():
    """``python`` when that is this interpreter (a readable command), else its full path."""
    found = shutil.which("python")
    same = found is not None and os.path.realpath(found) == os.path.realpath(sys.executable)
    return "python" if same else sys.executable


def _relative_to_root(path):
    """A user-given path, made valid for a command that runs in ROOT."""
    path = Path(path).expanduser().resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def build_command(args, passthrough):
    out = args.out and _relative_to_root(args.out)
    if out is None:
        suffix = "" if args.max_steps is None else f"_max_steps{args.max_steps}"
        out = f"benchmarks/results/thesis{suffix}.jsonl"
    data_dir = DEFAULT_DATA_DIR if args.data_dir is None else _relative_to_root(args.data_dir)
    command = [_python(), "-m", "benchmarks.thesis",
               "--datasets", *args.datasets,
               "--data-dir", data_dir,
               "--gammas", *(f"{gamma:g}" for gamma in args.gammas),
               "--seeds", *(str(seed) for seed in args.seeds)]
    if args.max_steps is not None:
        command += ["--max-steps", str(args.max_steps)]
    return command + ["--out", out, *passthrough], out


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="unknown options are passed to python -m benchmarks.thesis")
    parser.add_argument("--datasets", nargs="+", default=["thesis"],
                        help="dataset names and/or presets of the runner (default: thesis)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help=f"UCR archive folder (default: {DEFAULT_DATA_DIR} from the "
                             "repository root)")
    parser.add_argument("--gammas", type=float, nargs="+", default=[0.5, 1.0, 2.0],
                        help="Barlow Twins weights, one BT model each (default: 0.5 1 2)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds of every cell (default: 0 1 2)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="training budget of the token models (default: the estimators')")
    parser.add_argument("--out", metavar="FILE",
                        help="JSON-lines results (default: benchmarks/results/thesis.jsonl, "
                             "or thesis_max_steps<N>.jsonl with --max-steps)")
    parser.add_argument("--run", action="store_true",
                        help="execute the command instead of only printing it")
    args, passthrough = parser.parse_known_args(argv)

    command, out = build_command(args, passthrough)
    print("from the repository root:")
    print(f"  cd {shlex.quote(str(ROOT))}")
    print(f"  {shlex.join(command)}")
    print("then summarise the results:")
    print(f"  {_python()} -m benchmarks.summarize {shlex.quote(out)} "
          f"--out-dir {shlex.quote(str(Path(out).with_suffix('')) + '_summary')}")
    if not RUNNER.is_file():
        print(f"note: {RUNNER} is not there yet; the command follows its documented options "
              "(--data-dir --datasets --gammas --seeds --max-steps --out)")
    result = dict(command=command, cwd=str(ROOT), out=out, returncode=None)
    if args.run:
        if not RUNNER.is_file():
            raise SystemExit(f"cannot --run: {RUNNER} does not exist")
        sys.stdout.flush()  # the command above comes before the runner's own output
        # The runner's interpreter is this one (same installed btvqvae), whatever is printed.
        completed = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, check=False)
        result["returncode"] = completed.returncode
        print(f"benchmarks.thesis exited with status {completed.returncode}")
    return result


if __name__ == "__main__":
    sys.exit(main()["returncode"] or 0)
