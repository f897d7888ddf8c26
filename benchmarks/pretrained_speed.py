"""Speed of the shipped tokenizer against per-dataset training: ``python -m
benchmarks.pretrained_speed --out benchmarks/results/pretrained/speed.json``.

Measured in one run, at a fixed torch thread count (``--torch-threads``, default 2):

- ``gunpoint_zero_fit``: wall time of ``VQVAETransformer(init="pretrained", max_steps=0)``
  ``.fit(X_train).transform(X_train)`` on aeon's bundled GunPoint TRAIN split (50 series),
  best of ``--repeats`` after one warm-up call;
- ``transform``: ``transform`` throughput (series/s, ``output="tokens"``) of the pretrained
  tokenizer and of a per-dataset model at today's defaults (fitted 20 steps: the speed of
  ``transform`` does not depend on training), on the same N series, for each length in
  ``--lengths``, best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch


def _best(fn, repeats: int) -> float:
    fn()  # warm-up: first calls allocate and pick kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _series(n: int, length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, length)
    return np.sin(t + rng.uniform(0, 6.3, (n, 1, 1))) + 0.1 * rng.standard_normal((n, 1, length))


def measure(n: int, lengths, repeats: int, init: str = "pretrained") -> dict:
    from aeon.datasets import load_gunpoint

    from btvqvae import VQVAETransformer

    X, _ = load_gunpoint(split="train")
    zero_fit = _best(lambda: VQVAETransformer(init=init, max_steps=0).fit(X)
                     .transform(X), repeats)
    rows = []
    for length in lengths:
        data = _series(n, length)
        pretrained = VQVAETransformer(init=init, max_steps=0,
                                      output="tokens").fit(data[:64])
        own = VQVAETransformer(max_steps=20, output="tokens", random_state=0).fit(data[:256])
        row = {"length": length, "n": n}
        for name, est in (("pretrained", pretrained), ("per_dataset", own)):
            seconds = _best(lambda est=est, data=data: est.transform(data), repeats)
            row[name] = {"series_per_s": n / seconds, "n_tokens": int(est.n_tokens_)}
        rows.append(row)
    return {"gunpoint_zero_fit_seconds": zero_fit, "transform": rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path)
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--lengths", type=int, nargs="+", default=[96, 150, 500])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--torch-threads", type=int, default=2)
    p.add_argument("--init", default="pretrained", help="the tokenizer measured")
    args = p.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    result = measure(args.n, args.lengths, args.repeats, args.init)
    result["machine"] = {"processor": platform.processor() or platform.machine(),
                         "torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
