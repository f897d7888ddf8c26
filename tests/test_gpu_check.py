"""benchmarks.gpu_check runs end to end without a GPU (--dry-run) and refuses to pretend."""

import json
import math

import pytest
import torch

from benchmarks import gpu_check


def test_dry_run_writes_every_measurement_and_identical_models_agree(tmp_path, capsys):
    out = tmp_path / "nested" / "gpu_check.json"
    assert gpu_check.main(["--dry-run", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert {"dry_run", "dataset", "budget", "machine", "cuda_tests", "n_train", "n_test",
            "estimators", "seconds"} <= set(results)
    assert results["dry_run"] is True and results["n_train"] == results["n_test"] == 16
    assert {"torch", "cuda", "cpu_count", "cuda_available"} <= set(results["machine"])

    tests = results["cuda_tests"]
    assert tests["ok"] and tests["returncode"] == 0 and "-m cuda" in tests["command"]
    assert tests["tests"] > 0 and tests["failures"] == tests["errors"] == 0
    if not torch.cuda.is_available():
        assert tests["skipped"] == tests["tests"] and tests["passed"] == 0

    assert set(results["estimators"]) == {"vqvae", "bt"}
    for r in results["estimators"].values():
        assert r["device_"] == {"cpu": "cpu", "gpu": "cpu"} and r["moved_device_"] == "cpu"
        for side in ("cpu", "gpu"):
            assert r["fit_seconds"][side] > 0 and r["transform_series_per_s"][side] > 0
            assert 0.0 <= r["svc_linear"][side] <= 1.0
        # the CPU stands in for the GPU: the same fit twice, so everything must match
        assert r["token_agreement"] == {"cpu_vs_gpu_fit": 1.0, "cpu_vs_cpu_model_on_gpu": 1.0}
        decoding = r["decoding_cpu_tokens"]
        for pair in ("gpu_fit_vs_cpu", "cpu_model_on_gpu_vs_cpu"):
            assert decoding[pair] == {"max_abs": 0.0, "mse": 0.0}
        assert math.isfinite(decoding["cpu_reconstruction_mse"])
        assert r["svc_linear"]["cpu"] == r["svc_linear"]["gpu"]
        assert r["fit_speedup"] > 0 and r["transform_speedup"] > 0

    printed = capsys.readouterr().out
    assert "pytest -m cuda: ok" in printed and "linear SVC" in printed and str(out) in printed


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without a GPU")
def test_without_a_gpu_and_without_dry_run_it_stops_with_a_clear_message(tmp_path, capsys):
    out = tmp_path / "gpu_check.json"
    assert gpu_check.main(["--out", str(out)]) == 2
    assert "no CUDA device is available" in capsys.readouterr().err
    assert not out.exists()
