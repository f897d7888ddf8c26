import argparse
import contextlib
import io
import json
import subprocess
import sys

import joblib
import matplotlib.image as mpimg
import pytest

from btvqvae import BarlowTwinsVQVAETransformer
from btvqvae.cli import build_parser, main
from btvqvae.evaluation import EVALUATE_KEYS

TINY = ["--param", "hidden_dim=4", "--param", "n_res_blocks=1", "--param", "codebook_size=8",
        "--max-steps", "2"]
SUBCOMMANDS = ("fit", "evaluate", "plot", "datasets")


def run(argv):
    """main(argv) → (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    model = tmp_path_factory.mktemp("cli") / "gunpoint_vq"
    status, out, err = run(["fit", "--dataset", "GunPoint", *TINY, "--out", str(model)])
    assert status == 0, err
    return model, out


def test_fit_saves_the_model_and_prints_a_summary(fitted):
    model, out = fitted
    assert (model / "params.json").is_file() and (model / "weights.pt").is_file()
    summary = out.strip()
    assert len(summary.splitlines()) == 1
    assert "fit in" in summary and "final loss" in summary and "perplexity" in summary


def test_fit_bt_to_a_pickle_file(tmp_path):
    path = tmp_path / "bt.pkl"
    status, _, err = run(["fit", "--dataset", "GunPoint", "--model", "bt", "--gamma", "0.5",
                          *TINY, "--param", "projector_dims=(8, 8)", "--quiet",
                          "--out", str(path)])
    assert status == 0, err
    est = joblib.load(path)
    assert isinstance(est, BarlowTwinsVQVAETransformer)
    assert est.gamma == 0.5 and est.projector_dims == (8, 8) and est.hidden_dim == 4


def test_evaluate_prints_every_metric_in_a_table(fitted):
    model, _ = fitted
    status, out, err = run(["evaluate", str(model), "--dataset", "GunPoint",
                            "--n-repeats", "1"])
    assert status == 0, err
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:]}
    assert list(rows) == list(EVALUATE_KEYS)
    assert rows["codebook_size"] == "8"


def test_evaluate_json_parses_and_holds_every_metric(fitted):
    model, _ = fitted
    status, out, err = run(["evaluate", str(model), "--dataset", "GunPoint",
                            "--n-repeats", "1", "--json"])
    assert status == 0, err
    report = json.loads(out)
    assert list(report["metrics"]) == list(EVALUATE_KEYS)
    assert 0.0 <= report["metrics"]["knn_1"] <= 1.0 and report["n_test"] == 150


@pytest.mark.parametrize("kind", ["reconstruction", "codebook", "history", "latents",
                                  "tokens", "augmentations"])
def test_plot_writes_a_non_empty_png(fitted, tmp_path, kind):
    model, _ = fitted
    png = tmp_path / f"{kind}.png"
    status, _, err = run(["plot", str(model), "--dataset", "GunPoint", "--kind", kind,
                          "--index", "3", "--out", str(png), "--dpi", "50"])
    assert status == 0, err
    assert png.stat().st_size > 2_000
    assert mpimg.imread(png).std() > 0


def test_datasets_lists_bundled_gunpoint():
    status, out, _ = run(["datasets"])
    assert status == 0
    assert "GunPoint" in out.splitlines()


def test_unknown_dataset_exits_2_with_a_message_and_no_traceback(tmp_path):
    status, _, err = run(["fit", "--dataset", "NoSuchData", "--out", str(tmp_path / "m")])
    assert status == 2
    assert "NoSuchData" in err and "not found" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("param, message", [("foo=1", "no parameter 'foo'"),
                                            ("hidden_dim=-1", "hidden_dim must be >= 1"),
                                            ("hidden_dim", "expected key=value")])
def test_bad_param_exits_2_with_a_message(tmp_path, param, message):
    status, _, err = run(["fit", "--dataset", "GunPoint", "--param", param,
                          "--out", str(tmp_path / "m")])
    assert status == 2
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["evaluate"], ["plot", "--kind", "latents"]],
                         ids=["evaluate", "plot-latents"])
@pytest.mark.parametrize("output, kind", [("bag", "a sparse matrix"),
                                          ("sequence", "a 3-D collection"),
                                          ("decoded", "a 3-D collection")])
def test_commands_needing_dense_latents_refuse_a_bag_model_in_one_line(tmp_path, command,
                                                                        output, kind):
    model = tmp_path / output
    status, _, err = run(["fit", "--dataset", "GunPoint", *TINY, "--param", f"output={output}",
                          "--quiet", "--out", str(model)])
    assert status == 0, err
    extra = ["--out", str(tmp_path / "latents.png")] if command[0] == "plot" else []
    status, _, err = run([command[0], str(model), *command[1:], "--dataset", "GunPoint",
                          *extra])
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert f"output={output!r} is {kind}" in err and "Traceback" not in err


def test_missing_model_exits_2(tmp_path):
    status, _, err = run(["evaluate", str(tmp_path / "absent"), "--dataset", "GunPoint"])
    assert status == 2 and "no model" in err


def test_help_exits_0_and_mentions_every_subcommand():
    status, out, _ = run(["--help"])
    assert status == 0
    assert all(name in out for name in SUBCOMMANDS)
    assert "examples:" in out


def test_every_option_has_a_help_string():
    parsers = [build_parser()]
    parsers += [p for a in parsers[0]._actions if isinstance(a, argparse._SubParsersAction)
                for p in a.choices.values()]
    for parser in parsers:
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{parser.prog}: {action.dest} has no help"


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_subcommand_help_exits_0(command):
    status, out, _ = run([command, "--help"])
    assert status == 0 and f"btvqvae {command}" in out


def test_python_dash_m_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "btvqvae", "--version"],
                            check=False, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("btvqvae ")
