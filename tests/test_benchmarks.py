"""The benchmark runner and summary on a tiny synthetic UCR archive (no shared data needed)."""

import datetime
import json
import re
import shutil

import numpy as np
import pytest

import btvqvae
from benchmarks import thesis
from benchmarks.models import expand_models
from benchmarks.presets import ALL, EQUAL, QUICK, THESIS, resolve_datasets
from benchmarks.records import RECORD_KEYS, append_record, done_keys, read_records
from benchmarks.summarize import main as summarize_main
from benchmarks.tables import paired_comparison
from btvqvae.evaluation import EVALUATE_KEYS

TINY = {"hidden_dim": 4, "n_res_blocks": 1, "codebook_size": 4, "max_steps": 2}
TINY_BT = {"projector_dims": (8, 8)}
MODELS = ["vqvae", "bt", "raw_svc", "raw_1nn", "minirocket"]
DATASETS = ["Alpha", "Beta"]
NULLABLE = set(EVALUATE_KEYS) | {"gamma", "evaluate_seconds", "n_iter", "train_loss"}


def write_archive(root, rng):
    """Two UCR-2018-style problems: 20 + 20 noisy sines of length 24, two classes."""
    t = np.linspace(0.0, 1.0, 24)
    for name in DATASETS:
        for split in ("TRAIN", "TEST"):
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            rows = []
            for i in range(20):
                label = i % 2
                x = np.sin(2 * np.pi * (1 + label) * t) + 0.8 * rng.normal(size=t.size)
                rows.append("\t".join([str(label + 1)] + [f"{v:.5f}" for v in x]))
            (folder / f"{name}_{split}.tsv").write_text("\n".join(rows) + "\n")
    return root


def run_tiny(archive, out, datasets=DATASETS, models=MODELS, **options):
    kwargs = {"seeds": [0], "gammas": [1.0], "params": TINY, "bt_params": TINY_BT,
              "minirocket_params": {"n_kernels": 84}, "data_dir": archive, "n_repeats": 1,
              "n_jobs": 1, "torch_threads": 1, "isolate": False, "progress": False}
    kwargs.update(options)
    return thesis.run(datasets, models, out=out, **kwargs)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return write_archive(tmp_path_factory.mktemp("ucr"), np.random.default_rng(0))


@pytest.fixture(scope="module")
def sweep(archive, tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "sweep.jsonl"
    report = run_tiny(archive, out)
    return out, report


def check_schema(record):
    assert set(RECORD_KEYS) <= set(record)
    for key in ("accuracy",) + tuple(EVALUATE_KEYS) + ("fit_seconds", "transform_seconds",
                                                        "peak_rss_mb", "train_loss"):
        value = record[key]
        assert value is None or isinstance(value, (int, float)), (key, value)
        if value is None:
            assert key in NULLABLE, key
    assert isinstance(record["dataset"], str) and isinstance(record["model"], str)
    assert isinstance(record["seed"], int) and not isinstance(record["seed"], bool)
    assert 0.0 <= record["accuracy"] <= 1.0
    assert record["fit_seconds"] > 0 and record["transform_seconds"] >= 0
    assert record["peak_rss_mb"] > 0
    assert (record["n_train"], record["n_test"], record["length"], record["n_channels"],
            record["n_classes"], record["irregular"]) == (20, 20, 24, 1, 2, False)
    assert isinstance(record["params"], dict)
    assert record["params"]["random_state"] == record["seed"]
    assert re.fullmatch(r"[0-9a-f]{16}", record["settings_hash"])
    assert record["version"] == btvqvae.__version__
    assert {"platform", "cpu_count", "torch", "torch_threads"} <= set(record["machine"])
    assert datetime.datetime.fromisoformat(record["timestamp"]).tzinfo is not None


def test_every_cell_appends_one_record_with_the_documented_schema(sweep):
    out, report = sweep
    records = read_records(out)
    expected = {(d, m) for d in DATASETS
                for m in ("vqvae", "bt_g1", "raw_svc", "raw_1nn", "minirocket")}
    assert len(records) == len(expected) == len(report.computed)
    assert {(r["dataset"], r["model"]) for r in records} == expected
    assert not report.failed and report.skipped == 0
    for record in records:
        check_schema(record)
        family = record["family"]
        if family != "baseline":
            assert record["accuracy"] == record["svc_linear"]
            assert record["codebook_size"] == 4 and record["n_iter"] >= 1
            assert record["params"]["hidden_dim"] == 4
        elif record["model"] == "raw_svc":
            assert record["accuracy"] == record["svc_linear"]
            assert record["codebook_perplexity"] is None
            assert record["reconstruction_mse"] is None
        else:
            assert record["svc_linear"] is None and record["embedding_dim"] > 0
        assert (record["gamma"] == 1.0) == (family == "bt")


def test_rerun_skips_finished_cells_and_computes_only_new_ones(sweep, tmp_path, archive,
                                                               monkeypatch):
    out = tmp_path / "resumed.jsonl"
    shutil.copy(sweep[0], out)
    before = out.read_bytes()
    calls = []
    real = thesis.run_cell
    monkeypatch.setattr(thesis, "run_cell", lambda cell: calls.append(cell.key) or real(cell))

    report = run_tiny(archive, out)
    assert calls == [] and report.computed == [] and report.skipped == 10
    assert out.read_bytes() == before

    run_tiny(archive, out, models=["raw_1nn"], seeds=[0, 1])  # only seed 1 is new
    assert [key[:3] for key in calls] == [("Alpha", "raw_1nn", 1), ("Beta", "raw_1nn", 1)]
    calls.clear()
    run_tiny(archive, out, datasets=["Alpha"], models=["vqvae"],
             params=dict(TINY, max_steps=3))  # other settings: another hash, computed again
    assert [key[:3] for key in calls] == [("Alpha", "vqvae", 0)]
    assert len(read_records(out)) == 13


def test_dask_cluster_run_gives_the_same_schema(sweep, archive, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    out = tmp_path / "dask.jsonl"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        report = run_tiny(archive, out, datasets=["Alpha"], models=["vqvae", "raw_svc"],
                          dask=client)
    records = read_records(out)
    assert len(records) == 2 and not report.failed
    reference = {r["model"]: r for r in read_records(sweep[0]) if r["dataset"] == "Alpha"}
    for record in records:
        check_schema(record)
        assert set(record) == set(reference[record["model"]])
        assert record["settings_hash"] == reference[record["model"]]["settings_hash"]


def test_isolated_cell_runs_in_a_fresh_process(archive, tmp_path):
    out = tmp_path / "isolated.jsonl"
    report = run_tiny(archive, out, datasets=["Alpha"], models=["raw_1nn"], isolate=True)
    assert not report.failed, report.failed
    (record,) = read_records(out)
    check_schema(record)
    assert record["memory_method"] == "fresh-process"
    assert record["peak_rss_mb"] >= record["rss_start_mb"] > 0


def test_failed_cell_goes_to_the_errors_file_and_is_retried(archive, tmp_path):
    out = tmp_path / "failing.jsonl"
    options = {"datasets": ["Alpha"], "models": ["vqvae"], "params": {**TINY, "hidden_dim": 0}}
    report = run_tiny(archive, out, **options)
    assert len(report.failed) == 1 and "hidden_dim" in report.failed[0]["error"]
    assert read_records(out) == []
    assert len(read_records(tmp_path / "failing.errors.jsonl")) == 1
    assert len(run_tiny(archive, out, **options).failed) == 1  # not marked as done


def test_interrupted_last_line_is_skipped_and_the_next_record_starts_a_new_line(tmp_path):
    out = tmp_path / "cut.jsonl"
    done = {"dataset": "A", "model": "vqvae", "seed": 0, "settings_hash": "h"}
    out.write_text(json.dumps(done) + "\n" + '{"dataset": "A", "mod')
    append_record(out, dict(done, seed=1, accuracy=float("nan")))
    with pytest.warns(RuntimeWarning, match="not a JSON object"):
        records = read_records(out)
    assert [r["seed"] for r in records] == [0, 1] and records[1]["accuracy"] is None
    with pytest.warns(RuntimeWarning):
        assert done_keys(out) == {("A", "vqvae", 0, "h"), ("A", "vqvae", 1, "h")}


def test_cli_parses_params_and_prints_the_accuracy_table(archive, tmp_path, capsys):
    out = tmp_path / "cli.jsonl"
    code = thesis.main(["--data-dir", str(archive), "--datasets", "Alpha", "--models", "vqvae",
                        "raw_1nn", "--seeds", "0", "--max-steps", "2", "--param", "hidden_dim=4",
                        "--param", "n_res_blocks=1", "--param", "codebook_size=4",
                        "--n-repeats", "1", "--torch-threads", "1", "--no-isolate",
                        "--no-progress", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 cells computed" in printed and "| Alpha |" in printed
    (vq,) = [r for r in read_records(out) if r["model"] == "vqvae"]
    assert vq["params"]["hidden_dim"] == 4 and vq["params"]["max_steps"] == 2


def test_unknown_dataset_stops_before_any_cell_runs(archive, tmp_path):
    with pytest.raises(ValueError, match="Nope"):
        run_tiny(archive, tmp_path / "x.jsonl", datasets=["Nope"], models=["raw_1nn"])


def test_param_values_are_python_literals_or_strings():
    assert thesis.parse_param("projector_dims=(8, 8)") == ("projector_dims", (8, 8))
    assert thesis.parse_param("lr=1e-3") == ("lr", 1e-3)
    assert thesis.parse_param("code_dim=None") == ("code_dim", None)
    assert thesis.parse_param("device=cpu") == ("device", "cpu")
    with pytest.raises(Exception, match="key=value"):
        thesis.parse_param("hidden_dim")


def test_models_expand_per_gamma_and_reject_misplaced_parameters():
    names = [s.name for s in expand_models(["vqvae", "bt", "raw_svc"], [0.5, 1, 2])]
    assert names == ["vqvae", "bt_g0.5", "bt_g1", "bt_g2", "raw_svc"]
    with pytest.raises(ValueError, match="--bt-param"):
        expand_models(["vqvae"], params={"projector_dims": (8,)})
    with pytest.raises(ValueError, match="seed"):
        expand_models(["vqvae"], params={"random_state": 1})
    with pytest.raises(ValueError, match="unknown model"):
        expand_models(["svm"])


def test_presets_partition_the_panel():
    assert len(THESIS) == 6 and len(QUICK) == 12 and len(EQUAL) == 18 and len(ALL) == 20
    assert not set(THESIS) & set(QUICK)
    assert resolve_datasets(["panel"]) == list(ALL)
    assert resolve_datasets(["Wine", "quick"])[0] == "Wine"


def synthetic_records(rng):
    models = {"vqvae": ("vqvae", None), "bt_g0.5": ("bt", 0.5), "bt_g1": ("bt", 1.0),
              "raw_svc": ("baseline", None), "raw_1nn": ("baseline", None),
              "minirocket": ("baseline", None)}
    records = []
    for dataset, irregular in (("ECG200", False), ("Wine", False), ("GesturePebbleZ1", True)):
        for model, (family, gamma) in models.items():
            for seed in (0, 1):
                acc = float(rng.uniform(0.5, 1.0))
                token = family != "baseline"
                record = {key: (float(rng.uniform()) if token or model == "raw_svc" else None)
                          for key in EVALUATE_KEYS}
                record.update(
                    dataset=dataset, model=model, family=family, gamma=gamma, seed=seed,
                    accuracy=acc, svc_linear=acc if token or model == "raw_svc" else None,
                    fit_seconds=float(rng.uniform(0.01, 100)), transform_seconds=0.1,
                    evaluate_seconds=1.0, peak_rss_mb=500.0, rss_start_mb=300.0,
                    memory_method="sampled", n_train=20, n_test=20, length=24, n_channels=1,
                    n_classes=2, irregular=irregular, n_iter=3 if token else None,
                    train_loss=1.0 if token else None,
                    params={"max_steps": 2, "random_state": seed} if token else {"C": 1.0},
                    settings={}, settings_hash=f"hash-{model}", version="0.0",
                    machine={"platform": "test", "cpu_count": 2, "torch": "x",
                             "torch_threads": 1},
                    timestamp=f"2026-01-01T00:00:0{seed}+00:00")
                records.append(record)
    return records


def test_summary_writes_markdown_tables_and_png_figures(tmp_path, rng):
    results = tmp_path / "results.jsonl"
    for record in synthetic_records(rng):
        if (record["dataset"], record["model"], record["seed"]) != ("Wine", "minirocket", 1):
            append_record(results, record)  # one cell short: the seeds column says so
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    (anchors / "tsml_MiniROCKET_accuracy.csv").write_text(
        "Resamples:,0,1\nECG200,0.91,0.9\nWine,0.85,0.8\n")
    (anchors / "tloss_results_ucr.csv").write_text(
        ',Z-Normalized,Ours (combined)\nECG200,Y,0.9\nWine,Y,X\n')
    for extra in ([], ["--anchors-dir", str(anchors)]):
        out_dir = tmp_path / f"summary{len(extra)}"
        assert summarize_main([str(results), "--out-dir", str(out_dir), *extra]) == 0
        text = (out_dir / "summary.md").read_text()
        header = "| dataset | seeds | vqvae | bt_g0.5 | bt_g1 | raw_svc | raw_1nn | minirocket"
        assert header in text
        assert "win / tie / loss" in text and "bt_g1 vs vqvae" in text
        assert "vqvae vs raw_svc" in text and "### codebook_perplexity" in text
        assert "*mean, equal-length (n=2)*" in text and "*mean, all (n=3)*" in text
        assert ("MiniROCKET (published)" in text) == bool(extra)
        for png in ("accuracy_vs_gamma.png", "accuracy_vs_fit_time.png"):
            assert (out_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    row = next(line for line in text.splitlines() if line.startswith("| ECG200 |"))
    assert row.startswith("| ECG200 | 2 |") and row.rstrip(" |").endswith("0.910 | 0.900")
    assert "| Wine | 1–2 |" in text


def test_comparison_of_identical_models_is_all_ties_without_a_p_value():
    import pandas as pd

    a = pd.Series([0.8, 0.9, 0.7])
    tie = paired_comparison(a, a.copy())
    assert (tie["wins"], tie["ties"], tie["losses"]) == (0, 3, 0) and np.isnan(tie["p"])
    one = paired_comparison(pd.Series([0.9]), pd.Series([0.8]))
    assert (one["n"], one["wins"]) == (1, 1) and 0.0 <= one["p"] <= 1.0
    better = paired_comparison(a + 0.1, a)
    assert better["wins"] == 3 and better["mean_diff"] == pytest.approx(0.1)


def test_budget_report_compares_only_cells_run_at_both_budgets(tmp_path, rng, capsys):
    from benchmarks.compare import main as compare_main

    records = [r for r in synthetic_records(rng) if r["family"] != "baseline"]
    results = tmp_path / "results.jsonl"
    for record in records:
        append_record(results, record)
        longer = dict(record, params=dict(record["params"], max_steps=4),
                      svc_linear=record["svc_linear"] - 0.1, timestamp="2026-01-02T00:00:00+00:00")
        if record["dataset"] != "Wine":  # Wine only at 2 steps: left out of the comparison
            append_record(results, longer)
    out = tmp_path / "budget.md"
    assert compare_main([str(results), "--out", str(out)]) == 0
    text = out.read_text()
    assert text == capsys.readouterr().out
    assert "## max_steps: 2 vs 4 (12 cells, 2 datasets, seeds [0, 1])" in text
    assert "| vqvae | 2 |" in text and "| 2 / 0 / 0 | +0.100 |" in text
    assert "| Wine |" not in text


def test_budget_report_refuses_one_budget_or_other_differences(tmp_path, rng, capsys):
    from benchmarks.compare import main as compare_main

    results = tmp_path / "results.jsonl"
    records = [r for r in synthetic_records(rng) if r["family"] != "baseline"]
    for record in records:
        append_record(results, record)
    assert compare_main([str(results)]) == 2
    assert "one value of max_steps only" in capsys.readouterr().err
    append_record(results, dict(records[0], params={"max_steps": 4, "hidden_dim": 8}))
    assert compare_main([str(results)]) == 2
    assert "differ in more than max_steps" in capsys.readouterr().err


def test_any_parameter_is_compared_and_records_without_it_count_at_its_default(tmp_path, rng,
                                                                               capsys):
    from benchmarks.compare import main as compare_main

    results = tmp_path / "results.jsonl"
    for record in (r for r in synthetic_records(rng) if r["family"] != "baseline"):
        append_record(results, record)  # written before center_latents existed
        centred = dict(record, params=dict(record["params"], center_latents=True),
                       svc_linear=record["svc_linear"] + 0.05)
        append_record(results, centred)
    assert compare_main([str(results), "--param", "center_latents"]) == 0
    text = capsys.readouterr().out
    assert "## center_latents: False vs True (18 cells, 3 datasets, seeds [0, 1])" in text
    assert "| 0 / 0 / 3 | -0.050 |" in text
    assert compare_main([str(results), "--param", "no_such_param"]) == 2
    assert "'no_such_param' is not a parameter" in capsys.readouterr().err


def test_every_readout_of_a_token_cell_is_scored_by_its_probes(sweep):
    from btvqvae.readouts import READOUTS

    out, _ = sweep
    for record in read_records(out):
        if record["family"] == "baseline":
            assert record["readouts"] is None
            continue
        assert set(record["readouts"]) == set(READOUTS)
        for name, scores in record["readouts"].items():
            assert scores["dim"] > 0
            if name in ("sequence", "decoded"):  # 3-D: MiniRocket, None below 9 steps
                assert "svc" not in scores and "ridge" not in scores
                if name == "decoded":  # the series' own length, 24
                    assert 0.0 <= scores["minirocket"] <= 1.0
                continue
            assert 0.0 <= scores["svc"] <= 1.0 and 0.0 <= scores["ridge"] <= 1.0


def test_readout_report_compares_every_readout_with_the_baselines(sweep, tmp_path):
    from benchmarks.readouts import main as readouts_main

    out, _ = sweep
    report = tmp_path / "readouts.md"
    assert readouts_main([str(out), "--out", str(report)]) == 0
    text = report.read_text()
    for name in ("tokens", "embedding", "histogram", "pooled", "latent (continuous)",
                 "vqvae (", "bt_g1 (", "raw_svc", "minirocket"):
        assert name in text, name
    assert "best probe beats raw" in text


def test_views_report_pairs_each_configuration_with_the_reference(sweep, tmp_path, capsys):
    import pandas as pd

    from benchmarks.readouts import load_frame
    from benchmarks.views import main as views_main
    from benchmarks.views import paired_frame, report

    out, _ = sweep
    df = load_frame([out])
    vq = next(c for c in df["config"].unique() if c.startswith("vqvae"))
    text = report(df, vq)
    assert "## bt_g1" in text and "best discrete read-out" in text
    assert "Δ accuracy on embedding" in text
    # A configuration paired with an exact copy of itself: every read-out ties.
    twin = df[df["config"] == vq].assign(config="twin")
    both = pd.concat([df, twin])
    section = report(both, vq).split("## twin")[1].split("## ")[0]
    records = re.findall(r"\| (\d+) / (\d+) / (\d+) \|", section)
    assert records and all(w == "0" and t != "0" and loss == "0" for w, t, loss in records)
    assert "+0.000" in section and "-0." not in section
    assert len(paired_frame(both, "twin", vq)) == 2 * len(twin)
    # Only cells both ran are paired: drop one seed of the twin and it drops from both.
    seeds = sorted(twin["seed"].unique())
    if len(seeds) > 1:
        part = paired_frame(pd.concat([df, twin[twin["seed"] != seeds[0]]]), "twin", vq)
        assert seeds[0] not in set(part["seed"])
    assert views_main([str(out), "--reference", "nope"]) == 2
    assert "not in the results" in capsys.readouterr().err
    target = tmp_path / "views.md"
    assert views_main([str(out), "--reference", vq, "--out", str(target)]) == 0
    assert target.read_text().startswith("# Each configuration vs")


def test_reports_select_seeds_and_the_equal_length_datasets(sweep, tmp_path):
    import pandas as pd

    from benchmarks.readouts import main as readouts_main
    from benchmarks.readouts import select

    df = pd.DataFrame({"dataset": ["A", "A", "B"], "seed": [0, 1, 0],
                       "irregular": [False, False, True]})
    assert list(select(df, seeds=[0])["dataset"]) == ["A", "B"]
    assert list(select(df, equal_length=True)["seed"]) == [0, 1]
    assert list(select(df, [1], equal_length=True)["dataset"]) == ["A"]
    assert list(select(df)["dataset"]) == ["A", "A", "B"]
    out, _ = sweep
    report = tmp_path / "readouts.md"
    assert readouts_main([str(out), "--seeds", "0", "--equal-length", "--out", str(report)]) == 0
    assert report.read_text().startswith("# Read-outs of the token models (")
    assert "seeds 0)" in report.read_text().splitlines()[0]


def test_a_readout_missing_on_some_seeds_is_not_averaged_over_the_others():
    import pandas as pd

    from benchmarks.readouts import dataset_means

    rows = [{"dataset": "A", "config": "c", "readout": r, "probe": "svc", "seed": s, "accuracy": a}
            for r, s, a in (("embedding", 0, 0.6), ("embedding", 1, 0.8), ("bag", 1, 0.9))]
    rows.append({"dataset": "B", "config": "c", "readout": "bag", "probe": "svc", "seed": 0,
                 "accuracy": 0.7})
    means = dataset_means(pd.DataFrame(rows))
    assert means.loc["A", ("c", "embedding", "svc")] == pytest.approx(0.7)
    assert pd.isna(means.loc["A", ("c", "bag", "svc")])  # scored on seed 1 of 0 and 1
    assert means.loc["B", ("c", "bag", "svc")] == pytest.approx(0.7)


def test_readout_report_says_on_how_many_datasets_a_skipped_probe_was_run():
    import pandas as pd

    from benchmarks.readouts import report

    base = {"seed": 0, "irregular": False, "fit_seconds": 1.0, "chance": float("nan"),
            "n_test": 10}
    rows = [dict(base, dataset=d, config="raw_svc", readout="—", probe="own", accuracy=0.5)
            for d in ("A", "B")]
    for d, svc in (("A", 0.9), ("B", None)):  # B: too many training series for the SVC
        for readout in ("embedding", "pooled"):
            rows.append(dict(base, dataset=d, config="vq", readout=readout, probe="ridge",
                             accuracy=0.7))
            if readout == "embedding" or svc is not None:
                rows.append(dict(base, dataset=d, config="vq", readout=readout, probe="svc",
                                 accuracy=0.8 if readout == "embedding" else svc))
    text = report(pd.DataFrame(rows))
    assert "| vq | embedding | 0.800 | 0.700 | — | 2/2" in text
    assert "| vq | pooled | 0.900 (1) | 0.700 | — | 2/2" in text


def test_a_dead_cells_signal_is_named_and_only_sigkill_suggests_memory():
    from benchmarks.cells import _signal_reason

    assert _signal_reason(0) == "" and _signal_reason(1) == ""
    assert _signal_reason(-15) == " (killed by SIGTERM)"
    assert _signal_reason(-9) == " (killed by SIGKILL: out of memory?)"


def test_token_sequence_scores_the_readouts_of_one_tokenizer_and_reports(tmp_path):
    import torch

    from benchmarks.sequence_report import report
    from benchmarks.token_sequence import CORE, run_dataset

    tiny = {"hidden_dim": 8, "n_res_blocks": 1, "max_steps": 5, "n_quantizers": 2,
            "downsampled_width": 16}
    chosen = ["embedding_svc", "sequence_minirocket", "stacked_minirocket", "sequence_hydra",
              "decoded_minirocket", "decoded+sequence_minirocket"]  # MultiRocket compiles slowly
    threads = torch.get_num_threads()
    record = run_dataset("GunPoint", 0, "per-dataset", None, params=tiny, readouts=chosen)
    assert torch.get_num_threads() == threads  # put back after aeon's Hydra
    assert list(record["readouts"]) == chosen
    assert all(0 <= r["accuracy"] <= 1 and r["seconds"] >= 0
               for r in record["readouts"].values())
    assert record["n_quantizers"] == 2 and record["tokenizer"] == "trained"
    small = run_dataset("GunPoint", 1, "per-dataset", None, large=10, params=tiny,
                        readouts=chosen)
    assert set(small["readouts"]) == set(CORE) & set(chosen)
    again = run_dataset("GunPoint", 0, "per-dataset", None, params=tiny,
                        readouts=["decoded_minirocket"])
    assert again["embedding_sha256"] == record["embedding_sha256"]
    path = tmp_path / "cells.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (record, small, again)))
    text = report([path])
    assert "## Tokenizer: per-dataset" in text and "disagree: 0." in text
    assert "| stacked_minirocket | 1 | 1 |" in text  # GunPoint, seed 0 only
    assert "| decoded_minirocket | 1 | 2 |" in text  # both seeds, the rerun not counted
    again["readouts"]["decoded_minirocket"]["accuracy"] += 0.5
    path.write_text("".join(json.dumps(r) + "\n" for r in (record, small, again)))
    assert "disagree: 1 (per-dataset GunPoint decoded_minirocket 0)" in report([path])


def test_stage_channels_are_the_stage_codes_and_sum_to_the_sequence():
    from benchmarks.token_sequence import stage_channels
    from btvqvae import VQVAETransformer

    from ._helpers import toy_series

    X, _ = toy_series(n=8, length=32)
    est = VQVAETransformer(hidden_dim=8, n_res_blocks=1, max_steps=3, n_quantizers=3,
                           random_state=0).fit(X)
    d, f, t = est.latent_shape_
    stacked = stage_channels(est, X)
    assert stacked.shape == (8, 3 * d * f, t)
    summed = stacked.reshape(8, 3, d * f, t).sum(axis=1)
    np.testing.assert_allclose(summed, est.encode(X, "embedding").reshape(8, d * f, t),
                               rtol=1e-5, atol=1e-5)
