"""Training speed, inference throughput and transform memory on this machine (issue 6).

    python -m benchmarks.speed --out benchmarks/results/speed.json
    python -m benchmarks.speed --quick                  # smaller sizes, a smoke run

Everything is measured in one run, so ratios compare like with like on a noisy machine:

- **matmul peak**: best GFLOP/s of a 2048² matrix product in float32 and bfloat16.
- **training step**: median wall time of an optimizer step inside ``fit`` (data loading,
  augmentation, forward, loss, backward, AdamW) for the reference configuration
  (:func:`btvqvae.presets.reference_params`, projector 4096³, float32) and for the defaults,
  both BT-VQVAE at batch 128 and length 140 (ECG5000's shape).
- **inference**: ``transform`` throughput (tokens) in series/s, the FLOPs of one series'
  forward pass counted by ``torch.utils.flop_counter``, the achieved FLOP/s against the
  matmul peak of the same precision, and how often bfloat16 tokens equal float32 tokens.
- **memory**: peak RSS (``/usr/bin/time -v``) of a fresh process that transforms N series of
  length 512 in ``"tokens"`` mode, against the size of its input and output.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils.flop_counter import FlopCounterMode

import btvqvae
from btvqvae import BarlowTwinsVQVAETransformer
from btvqvae.presets import reference_params


class _StepTimer(Callback):
    """Wall time of every training step (on_batch_begin → on_batch_end)."""

    def on_train_begin(self, net, **kwargs):
        self.times_ = []

    def on_batch_begin(self, net, training=False, **kwargs):
        self.start_ = time.perf_counter()

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.times_.append(time.perf_counter() - self.start_)


def _series(n: int, length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, length)
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    return (np.sin(t + phase) + 0.3 * rng.standard_normal((n, 1, length))).astype(np.float32)


def matmul_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def train_step_ms(params: dict, n_steps: int, batch: int = 128, length: int = 140) -> dict:
    timer = _StepTimer()
    X = _series(batch * n_steps, length)
    est = BarlowTwinsVQVAETransformer(**{**params, "max_steps": n_steps, "max_epochs": None,
                                         "batch_size": batch, "callbacks": [timer],
                                         "random_state": 0})
    est.fit(X)
    steps = timer.times_[2:] or timer.times_  # the first steps pay for allocations
    return {"median_ms": 1e3 * statistics.median(steps), "steps_timed": len(steps)}


def inference(params: dict, n: int, length: int, peaks: dict) -> dict:
    X = _series(n, length, seed=1)
    est = BarlowTwinsVQVAETransformer(**{**params, "max_steps": 20, "output": "tokens",
                                         "random_state": 0}).fit(X[:512])
    module = est.net_.module_
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        _, z = module.encode(torch.from_numpy(X[:1]))
        module.quantizer(z)
    flops_per_series = counter.get_total_flops()
    result = {"flops_per_series": flops_per_series}
    tokens = {}
    for precision in ("float32", "bfloat16"):
        est.set_params(precision=precision)
        est.transform(X[:256])  # warm-up
        start = time.perf_counter()
        tokens[precision] = est.transform(X)
        seconds = time.perf_counter() - start
        achieved = flops_per_series * n / seconds / 1e9
        result[precision] = {"series_per_s": n / seconds, "gflops": achieved,
                             "fraction_of_peak": achieved / peaks[precision]}
    result["bf16_token_agreement"] = float(np.mean(tokens["float32"] == tokens["bfloat16"]))
    return result


def _memory_child(model_dir: str, n: int, length: int) -> None:
    """Run inside /usr/bin/time: load a saved model, transform n series to tokens."""
    est = BarlowTwinsVQVAETransformer.load(model_dir)
    X = np.empty((n, 1, length), dtype=np.float32)
    for start in range(0, n, 10_000):  # fill without a second full-size temporary
        X[start:start + 10_000] = _series(min(10_000, n - start), length, seed=start)
    tokens = est.transform(X)
    print(json.dumps({"input_mb": X.nbytes / 2**20, "output_mb": tokens.nbytes / 2**20,
                      "shape": list(tokens.shape)}))


def memory(n: int, length: int) -> dict:
    """Peak RSS of a fresh process that loads a default model and transforms n series."""
    with tempfile.TemporaryDirectory() as tmp:
        est = BarlowTwinsVQVAETransformer(max_steps=5, output="tokens", random_state=0)
        est.fit(_series(256, length)).save(Path(tmp) / "model")
        baseline = subprocess.run(
            ["/usr/bin/time", "-v", sys.executable, "-c", "import btvqvae, torch"],
            capture_output=True, text=True, check=True)
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "benchmarks.speed",
               "--memory-child", str(Path(tmp) / "model"), str(n), str(length)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    sizes = json.loads(done.stdout.strip().splitlines()[-1])
    peak_mb, import_mb = _max_rss_mb(done.stderr), _max_rss_mb(baseline.stderr)
    budget = sizes["input_mb"] + sizes["output_mb"] + 500
    return {"n_series": n, "length": length, **sizes, "peak_rss_mb": peak_mb,
            "import_rss_mb": import_mb, "budget_mb": budget, "within_budget": peak_mb < budget}


def _max_rss_mb(time_v_output: str) -> float:
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_v_output)[1]) / 1024


def machine() -> dict:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip()
                     for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model or platform.processor(), "cores": torch.get_num_threads(),
            "platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "btvqvae": btvqvae.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--train-steps", type=int, default=8, help="steps timed per config")
    parser.add_argument("--inference-n", type=int, default=8192)
    parser.add_argument("--memory-n", type=int, default=200_000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        model_dir, n, length = args.memory_child
        _memory_child(model_dir, int(n), int(length))
        return 0
    if args.quick:
        args.train_steps, args.inference_n, args.memory_n = 4, 1024, 20_000

    results = {"machine": machine()}
    peaks = {"float32": matmul_peak(torch.float32), "bfloat16": matmul_peak(torch.bfloat16)}
    results["matmul_peak_gflops"] = peaks
    print(f"matmul peak: fp32 {peaks['float32']:.0f} GFLOP/s, bf16 {peaks['bfloat16']:.0f}",
          flush=True)

    configs = {"reference": reference_params("bt"), "default": {}}
    steps = {name: train_step_ms(params, args.train_steps) for name, params in configs.items()}
    steps["speedup"] = steps["reference"]["median_ms"] / steps["default"]["median_ms"]
    results["train_step_bt_batch128_length140"] = steps
    print(f"training step (BT, batch 128, L=140): reference {steps['reference']['median_ms']:.0f}"
          f" ms, default {steps['default']['median_ms']:.0f} ms, {steps['speedup']:.1f}x",
          flush=True)

    inf = inference({}, args.inference_n, 140, peaks)
    results["inference_default_length140"] = inf
    for precision in ("float32", "bfloat16"):
        r = inf[precision]
        print(f"transform ({precision}): {r['series_per_s']:.0f} series/s, {r['gflops']:.1f} "
              f"GFLOP/s = {100 * r['fraction_of_peak']:.0f} % of the {precision} matmul peak",
              flush=True)
    print(f"bf16 tokens equal fp32 tokens at {100 * inf['bf16_token_agreement']:.2f} % of "
          "positions", flush=True)

    if not args.skip_memory:
        mem = memory(args.memory_n, 512)
        results["transform_memory"] = mem
        print(f"transform memory: {mem['n_series']} series x 512 -> peak RSS "
              f"{mem['peak_rss_mb']:.0f} MB (input {mem['input_mb']:.0f} MB + output "
              f"{mem['output_mb']:.0f} MB + 500 MB = {mem['budget_mb']:.0f} MB budget; "
              f"importing btvqvae and torch alone: {mem['import_rss_mb']:.0f} MB)",
              flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
