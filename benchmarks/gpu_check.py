"""The GPU path, verified (issue 22): ``device="cuda"`` against the CPU on one machine.

    python -m benchmarks.gpu_check                      # needs a GPU; about 8 minutes at most
    python -m benchmarks.gpu_check --dry-run --out /tmp/gpu_check.json   # CPU only, seconds

What it checks, all written to one JSON file (``--out``) and summed up on stdout:

- **tests**: ``pytest -m cuda`` in a subprocess (the tests that need a GPU, in
  ``tests/test_cuda.py``): exit code and passed / failed / skipped counts.
- **agreement**: each estimator (VQ-VAE, BT-VQVAE) at its defaults, ``random_state=0``, is
  fitted on aeon's bundled GunPoint on the CPU and on the GPU. On the test split: the share
  of token positions where the two models agree; the CPU model's tokens decoded by the CPU
  model, by the GPU model and by a copy of the CPU model loaded onto the GPU (max absolute
  difference and MSE against the CPU decoding: the last isolates the device, the second
  adds the training); the share of tokens the CPU model and its GPU copy agree on; the test
  accuracy of a linear SVC (``btvqvae.evaluation.probe_accuracies``) on each embedding.
- **speed**: fit seconds and ``transform`` throughput (series/s, embedding output, GunPoint's
  test split tiled) on each device, after a warm-up, with ``torch.cuda.synchronize()``
  around every timed call on the GPU.
- **machine**: torch, CUDA and cuDNN versions, the GPU's name, TF32 settings, CPU count.

``--dry-run`` runs every step with the CPU standing in for the GPU, a few training steps
and a few series, so CI checks this script without a GPU. Without it and without a GPU the
script stops with exit code 2. It exits 1 when the CUDA tests fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import torch
from aeon.datasets import load_gunpoint

import btvqvae
from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer
from btvqvae.evaluation import probe_accuracies

ROOT = Path(__file__).resolve().parents[1]  # the repository: tests/ and pyproject.toml
ESTIMATORS = {"vqvae": VQVAETransformer, "bt": BarlowTwinsVQVAETransformer}
# (training steps, train/test series, series timed in transform, pytest target)
FULL = {"max_steps": None, "n_series": None, "n_throughput": 16384, "tests": "tests"}
DRY = {"max_steps": 3, "n_series": 16, "n_throughput": 64, "tests": "tests/test_cuda.py"}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def machine(gpu: str) -> dict:
    facts = {"torch": torch.__version__, "btvqvae": btvqvae.__version__,
             "python": platform.python_version(), "platform": platform.platform(),
             "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
             "cuda_available": torch.cuda.is_available(), "cuda": torch.version.cuda,
             "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if gpu.startswith("cuda"):
        facts.update(gpu=torch.cuda.get_device_name(gpu), cudnn=torch.backends.cudnn.version(),
                     gpu_memory_gib=torch.cuda.get_device_properties(gpu).total_memory / 2**30,
                     tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
                     tf32_cudnn=torch.backends.cudnn.allow_tf32)
    return facts


def run_cuda_tests(target: str) -> dict:
    """``pytest -m cuda`` in a fresh process; the counts come from its JUnit XML report."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p", "no:cacheprovider",
               f"--junitxml={report}", target]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if report.exists():
            suite = ET.parse(report).getroot()
            suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
            counts = {key: int(suite.get(key, 0)) for key in counts}
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    # exit code 5: nothing collected, a failure of the check itself
    return {"command": " ".join(cmd[1:]), "returncode": done.returncode, "seconds": seconds,
            **counts, "ok": done.returncode == 0 and counts["failures"] + counts["errors"] == 0,
            "output_tail": (done.stdout + done.stderr)[-3000:]}


def gunpoint(n_series: int | None):
    X_train, y_train = load_gunpoint(split="train")
    X_test, y_test = load_gunpoint(split="test")
    if n_series:  # the first rows hold both classes
        X_train, y_train, X_test, y_test = (a[:n_series] for a in (X_train, y_train,
                                                                   X_test, y_test))
    return X_train, y_train, X_test, y_test


def timed_fit(cls, device: str, X, max_steps: int | None):
    params = {"device": device, "random_state": 0}
    if max_steps is not None:
        params["max_steps"] = max_steps
    est = cls(**params)
    _sync(device)
    start = time.perf_counter()
    est.fit(X)
    _sync(device)
    return est, time.perf_counter() - start


def throughput(est, X, device: str, n: int) -> float:
    """Series per second of ``transform`` on n series (X tiled), after a warm-up call."""
    X_big = np.tile(X, (-(-n // len(X)), 1, 1))[:n]
    est.transform(X_big[:256])
    _sync(device)
    start = time.perf_counter()
    est.transform(X_big)
    _sync(device)
    return n / (time.perf_counter() - start)


def _difference(a: np.ndarray, b: np.ndarray) -> dict:
    return {"max_abs": float(np.max(np.abs(a - b))), "mse": float(np.mean((a - b) ** 2))}


def compare(name: str, data, gpu: str, budget: dict, tmp: Path) -> dict:
    """Fit one estimator on both devices and compare tokens, decodings, accuracy and speed."""
    X_train, y_train, X_test, y_test = data
    cls = ESTIMATORS[name]
    fitted = {}
    result = {"device_": {}, "fit_seconds": {}, "transform_series_per_s": {}, "svc_linear": {}}
    for side, device in (("cpu", "cpu"), ("gpu", gpu)):
        timed_fit(cls, device, X_train[:8], max_steps=2)  # warm-up: allocations, cuDNN
        est, seconds = timed_fit(cls, device, X_train, budget["max_steps"])
        fitted[side] = est
        result["fit_seconds"][side] = seconds
        result["svc_linear"][side] = probe_accuracies(
            est.transform(X_train), y_train, est.transform(X_test), y_test,
            knn_k=())["svc_linear"]
        result["transform_series_per_s"][side] = throughput(est, X_test, device,
                                                            budget["n_throughput"])
        result["device_"][side] = est.device_
    cpu, gpu_est = fitted["cpu"], fitted["gpu"]
    # the CPU model's weights on the GPU: what the device alone changes
    cpu.save(tmp / name)
    moved = cls.load(tmp / name, device=gpu)
    result["moved_device_"] = moved.device_
    tokens = {"cpu": cpu.encode(X_test, output="tokens"),
              "gpu": gpu_est.encode(X_test, output="tokens"),
              "moved": moved.encode(X_test, output="tokens")}
    result["token_agreement"] = {
        "cpu_vs_gpu_fit": float(np.mean(tokens["cpu"] == tokens["gpu"])),
        "cpu_vs_cpu_model_on_gpu": float(np.mean(tokens["cpu"] == tokens["moved"]))}
    for est in (cpu, gpu_est, moved):
        est.set_params(output="tokens")
    reference = cpu.inverse_transform(tokens["cpu"])
    result["decoding_cpu_tokens"] = {
        "gpu_fit_vs_cpu": _difference(gpu_est.inverse_transform(tokens["cpu"]), reference),
        "cpu_model_on_gpu_vs_cpu": _difference(moved.inverse_transform(tokens["cpu"]),
                                               reference),
        "cpu_reconstruction_mse": float(np.mean((reference - X_test) ** 2))}
    result["fit_speedup"] = result["fit_seconds"]["cpu"] / result["fit_seconds"]["gpu"]
    result["transform_speedup"] = (result["transform_series_per_s"]["gpu"]
                                   / result["transform_series_per_s"]["cpu"])
    return result


def report(results: dict) -> str:
    lines = [f"machine: {results['machine'].get('gpu', 'no GPU (dry run)')}, torch "
             f"{results['machine']['torch']}, CUDA {results['machine']['cuda']}, "
             f"{results['machine']['cpu_count']} CPUs"]
    t = results["cuda_tests"]
    lines.append(f"pytest -m cuda: {'ok' if t['ok'] else 'FAILED'} (exit {t['returncode']}): "
                 f"{t['passed']} passed, {t['failures'] + t['errors']} failed, "
                 f"{t['skipped']} skipped")
    for name, r in results["estimators"].items():
        tok, dec = r["token_agreement"], r["decoding_cpu_tokens"]
        lines += [
            f"{name}: fit {r['fit_seconds']['cpu']:.1f} s CPU / {r['fit_seconds']['gpu']:.1f} s"
            f" GPU; transform {r['transform_series_per_s']['cpu']:.0f} / "
            f"{r['transform_series_per_s']['gpu']:.0f} series/s",
            f"  tokens equal: CPU vs GPU fit {100 * tok['cpu_vs_gpu_fit']:.1f} %, CPU model "
            f"on GPU {100 * tok['cpu_vs_cpu_model_on_gpu']:.2f} %",
            f"  CPU tokens decoded, max |diff| (MSE): GPU fit "
            f"{dec['gpu_fit_vs_cpu']['max_abs']:.3g} ({dec['gpu_fit_vs_cpu']['mse']:.3g}), "
            f"CPU model on GPU {dec['cpu_model_on_gpu_vs_cpu']['max_abs']:.3g} "
            f"({dec['cpu_model_on_gpu_vs_cpu']['mse']:.3g})",
            f"  linear SVC on the embedding: {r['svc_linear']['cpu']:.3f} CPU, "
            f"{r['svc_linear']['gpu']:.3f} GPU"]
    lines.append(f"total {results['seconds']:.0f} s")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/gpu_check.json"))
    parser.add_argument("--dry-run", action="store_true",
                        help="the CPU stands in for the GPU; tiny budgets (checks the script)")
    args = parser.parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        print("gpu_check: no CUDA device is available (torch.cuda.is_available() is False, "
              f"torch {torch.__version__}); run it on a GPU machine, or pass --dry-run",
              file=sys.stderr)
        return 2
    budget, gpu = (DRY, "cpu") if args.dry_run else (FULL, "cuda")
    start = time.perf_counter()
    results = {"dry_run": args.dry_run, "dataset": "GunPoint", "budget": budget,
               "machine": machine(gpu), "cuda_tests": run_cuda_tests(budget["tests"])}
    print(f"cuda tests done in {results['cuda_tests']['seconds']:.0f} s", flush=True)
    data = gunpoint(budget["n_series"])
    results["n_train"], results["n_test"] = len(data[0]), len(data[2])
    results["estimators"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ESTIMATORS:
            results["estimators"][name] = compare(name, data, gpu, budget, Path(tmp))
            print(f"{name} done", flush=True)
    results["seconds"] = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    print(f"written to {args.out}")
    return 0 if results["cuda_tests"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
