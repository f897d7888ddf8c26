"""Smoke tests of the scripts in examples/: each runs end to end on a tiny model and budget.

The scripts are not a package; each is loaded from its path and its ``main(argv)`` called.
"""

import importlib.util
import math
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TINY_MODEL = ["--param", "hidden_dim=4", "--param", "n_res_blocks=1"]
TINY = ["--max-steps", "2", *TINY_MODEL]
TINY_BT = [*TINY, "--param", "projector_dims=(16, 16)"]


def load_example(name):
    """Load ``examples/<name>.py`` as ``python examples/<name>.py`` would.

    Like a script run, the examples folder is first on ``sys.path`` while the module
    executes, so its ``import _common`` finds ``examples/_common.py``.
    """
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def is_accuracy(value):
    return isinstance(value, float) and 0.0 <= value <= 1.0


def test_quickstart_fits_scores_and_reconstructs_with_a_two_step_budget():
    accuracy, mse, rocket_accuracy = load_example("quickstart").main(["--max-steps", "2"])
    assert 0.0 <= accuracy <= 1.0 and 0.0 <= rocket_accuracy <= 1.0
    assert math.isfinite(mse) and mse >= 0.0


def test_classify_ucr_scores_the_svc_and_every_nearest_neighbour_probe(capsys):
    scores = load_example("classify_ucr").main(TINY_BT)
    assert set(scores) == {"svc_linear", "knn1_embedding", "knn1_hamming", "knn1_raw"}
    assert all(is_accuracy(value) for value in scores.values())
    assert "GunPoint: 50 train / 150 test series" in capsys.readouterr().out


def test_grid_search_ranks_every_candidate_and_scores_the_refitted_best(capsys):
    result = load_example("grid_search").main(
        [*TINY_BT, "--gammas", "0", "1", "--codebook-sizes", "4", "8", "--cv", "2"])
    rows = result["cv_results"]
    assert {(row["gamma"], row["codebook_size"]) for row in rows} == \
        {(0.0, 4), (0.0, 8), (1.0, 4), (1.0, 8)}
    assert rows[0]["rank"] == 1 and rows[0]["mean_accuracy"] == result["best_score"]
    assert result["best_params"]["bt__gamma"] in (0.0, 1.0)
    assert is_accuracy(result["test_accuracy"])
    assert 'backend="dask"' in capsys.readouterr().out  # the note on running it on a cluster


def test_cluster_tokens_reports_silhouette_and_ari_for_histograms_and_raw_series():
    results = load_example("cluster_tokens").main([*TINY_BT, "--n-repeats", "2"])
    assert set(results) == {"token_histogram", "raw_series"}
    raw = results["raw_series"]
    assert -1.0 <= raw["silhouette_mean"] <= 1.0 and -1.0 <= raw["ari_mean"] <= 1.0
    # A tiny model may give every series the same histogram: then KMeans has nothing to split.
    hist = results["token_histogram"]
    assert math.isnan(hist["ari_mean"]) or -1.0 <= hist["ari_mean"] <= 1.0


def test_multivariate_and_unequal_series_go_through_aeon_resizer_in_a_pipeline(capsys):
    results = load_example("multivariate_and_unequal").main(TINY_BT)
    assert results["multivariate_shape"] == (40, 6, 100)
    assert results["unequal_lengths"] == (29, 361)
    assert results["unequal_length"] == 361  # Resizer("max"): the longest TRAIN series
    assert is_accuracy(results["multivariate_accuracy"])
    assert is_accuracy(results["unequal_accuracy"])
    assert "the estimator alone refuses the list" in capsys.readouterr().out


def test_unequal_series_can_be_padded_with_aeon_padder_instead():
    results = load_example("multivariate_and_unequal").main(
        [*TINY_BT, "--only", "unequal", "--unequal", "pad"])
    assert "multivariate_accuracy" not in results
    assert results["unequal_length"] == 361
    assert is_accuracy(results["unequal_accuracy"])


def test_decode_tokens_edits_the_grid_decodes_it_and_saves_a_figure(tmp_path):
    figure = tmp_path / "tokens.png"
    result = load_example("decode_tokens").main([*TINY_BT, "--plot", str(figure),
                                                 "--index", "3"])
    assert result["tokens_shape"] == (150, 8 * 5 * 38)  # default: 8 stages x 5 rows x 38 steps
    assert 0.0 < result["fraction_edited"] <= 1.0
    assert math.isfinite(result["mse_original"]) and math.isfinite(result["mse_edited"])
    assert figure.stat().st_size > 0


def test_decode_tokens_swaps_two_latent_steps_of_a_vqvae():
    result = load_example("decode_tokens").main([*TINY, "--model", "vqvae", "--edit", "swap"])
    assert result["plot"] is None
    assert 0.0 <= result["fraction_edited"] <= 2 / 9  # two of the nine latent time steps
    assert 0.0 <= result["share_in_span"] <= 1.0


def test_decode_tokens_rejects_a_code_outside_the_codebook_before_training():
    with pytest.raises(SystemExit, match=r"must lie in \[0, 8\)"):
        load_example("decode_tokens").main(
            [*TINY_BT, "--param", "codebook_size=8", "--codes", "0", "8"])


def test_reproduce_thesis_prints_the_runner_command_without_running_it(capsys):
    result = load_example("reproduce_thesis").main([])
    command = " ".join(result["command"])
    assert "-m benchmarks.thesis --datasets thesis --data-dir ../shared/data/ucr " \
           "--gammas 0.5 1 2 --seeds 0 1 2" in command
    assert result["out"] == "benchmarks/results/thesis.jsonl"
    assert result["returncode"] is None
    assert "benchmarks.thesis" in capsys.readouterr().out


def test_reproduce_thesis_keeps_reduced_budgets_in_their_own_results_file():
    result = load_example("reproduce_thesis").main(["--max-steps", "7"])
    assert result["command"][-4:] == ["--max-steps", "7", "--out",
                                      "benchmarks/results/thesis_max_steps7.jsonl"]


@pytest.mark.skipif(not (EXAMPLES.parent / "benchmarks" / "thesis.py").is_file(),
                    reason="benchmarks/thesis.py is not there")
def test_reproduce_thesis_runs_the_runner_and_passes_unknown_options_through(tmp_path, capfd):
    out = tmp_path / "cells.jsonl"
    result = load_example("reproduce_thesis").main(
        ["--run", "--dry-run", "--datasets", "GunPoint", "--seeds", "0", "--gammas", "1",
         "--out", str(out)])
    assert result["returncode"] == 0
    assert "todo\tGunPoint\tbt_g1\t0" in capfd.readouterr().out
    assert not out.exists()  # a dry run lists cells and writes nothing


def test_grid_search_runs_its_fits_on_a_local_dask_cluster(capsys):
    pytest.importorskip("dask.distributed")
    result = load_example("grid_search").main(
        [*TINY_BT, "--gammas", "0", "1", "--codebook-sizes", "4", "--cv", "2",
         "--dask", "local", "--n-jobs", "1"])
    assert len(result["cv_results"]) == 2
    assert is_accuracy(result["test_accuracy"])
    assert "(dask cluster local)" in capsys.readouterr().out


def test_pretrained_tokens_share_one_token_grid_across_lengths_and_fine_tune(tmp_path):
    pytest.importorskip("matplotlib")
    results = load_example("pretrained_tokens").main(
        ["--fine-tune", "2", "--plot", str(tmp_path / "vocabulary.png")])
    shapes = {r["token_shape"] for r in results.values()}
    assert len(shapes) == 1  # 150 and 24 timepoints, one grid: the tokenizer's length
    assert all(is_accuracy(r["accuracy"]) and r["accuracy"] > 0.7 for r in results.values())
    assert (tmp_path / "vocabulary.png").stat().st_size > 0
