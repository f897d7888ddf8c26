"""Pretrain a tokenizer for ``VQVAETransformer(init=...)``: ``python -m benchmarks.pretrain``.

The corpus is exactly the TRAIN splits of the dataset folders under ``--data-dir`` (UCR-2018
tsv layout; the labels in column 0 are dropped unread), less the datasets named by
``--exclude`` (a dataset-level cross-validation fold). Each series has its NaN padding trimmed
and interior gaps interpolated, is resampled to ``--length`` points and normalised by its own
mean and standard deviation, exactly as :class:`btvqvae.nn.instance.InstanceTokenizer` does
at inference. Batches are balanced across datasets: each draws a dataset uniformly, then one
of its series uniformly, so the corpus' large datasets do not drown the small ones.

Training is the estimator's (AdamW, per-step cosine schedule to 0, the VQ-VAE loss, k-means
codebook initialisation on the first batch), for ``--steps`` steps, seeded by ``--seed``.
Every ``--checkpoint-every`` steps the state (weights, optimizer, schedule, both random
streams) goes to ``OUT/checkpoint.pt``; the same command resumes from it (``--stop-after``
ends a run early on purpose, for a machine that is only lent for a while). ``--save-at`` also
writes the tokenizer as it stands at those steps (``OUT/step<k>/``), for budget curves.

OUT ends up holding ``card.json`` (architecture, length, sha256 of the weights, corpus,
budget, seed, command, machine, versions, time) and ``weights.pt``: a folder that
``VQVAETransformer(init=OUT)`` loads through the same checks as the shipped tokenizers.

    python -m benchmarks.pretrain --data-dir ../shared/data/pretrain ../shared/data/ucr \\
        --steps 3000 --seed 0 --out btvqvae/weights/ucr-v1
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from btvqvae._version import __version__
from btvqvae.nn.instance import instance_normalize, resample
from btvqvae.nn.losses import vqvae_loss
from btvqvae.pretrained import ARCHITECTURE, build_core, save_tokenizer

#: The shipped tokenizer's core: the estimator's default architecture at length 256
#: (whose downsampling rule gives 2 blocks there).
DEFAULT_ARCHITECTURE = {"n_fft": 8, "hidden_dim": 32, "codebook_size": 32, "code_dim": None,
                        "n_res_blocks": 2, "n_quantizers": 8, "n_downsampling": 2}
CHECKPOINT = "checkpoint.pt"


# ------------------------------------------------------------------------------ the corpus
def read_train_split(folder: Path) -> list[np.ndarray]:
    """The TRAIN series of one UCR-2018 folder, NaN padding trimmed, gaps interpolated."""
    file = folder / f"{folder.name}_TRAIN.tsv"
    rows = np.loadtxt(file, delimiter="\t", ndmin=2)[:, 1:]  # column 0: the label, unused
    series = []
    for row in rows:
        seen = np.flatnonzero(~np.isnan(row))
        if len(seen) == 0:
            continue
        row = row[: seen[-1] + 1]  # trailing NaN is padding
        gaps = np.isnan(row)
        if gaps.any():  # interior NaN: missing values, filled from their neighbours
            row = row.copy()
            row[gaps] = np.interp(np.flatnonzero(gaps), np.flatnonzero(~gaps), row[~gaps])
        series.append(row)
    return series


def find_datasets(data_dirs, exclude=()) -> list[Path]:
    """Every dataset folder with a TRAIN split under ``data_dirs``, less ``exclude``."""
    excluded = {name.lower() for name in exclude}
    found = {}
    for data_dir in data_dirs:
        for folder in sorted(Path(data_dir).iterdir()):
            if (folder / f"{folder.name}_TRAIN.tsv").is_file() \
                    and folder.name.lower() not in excluded:
                found.setdefault(folder.name, folder)
    unknown = excluded - {name.lower() for name in found} - {
        p.name.lower() for d in data_dirs for p in Path(d).iterdir()}
    if unknown:
        raise SystemExit(f"--exclude names datasets not found: {sorted(unknown)}")
    return [found[name] for name in sorted(found)]


def prepare(series: list[np.ndarray], length: int) -> torch.Tensor:
    """Series of any lengths → ``(n, 1, length)`` float32, resampled and normalised."""
    out = torch.empty(len(series), 1, length)
    by_length: dict[int, list[int]] = {}
    for i, s in enumerate(series):
        by_length.setdefault(len(s), []).append(i)
    for n, rows in by_length.items():
        x = torch.from_numpy(np.stack([series[i] for i in rows])).double()[:, None]
        x, _, _ = instance_normalize(x)  # in float64, then resampled as inference does
        out[rows] = resample(x.float(), length) if n > 1 else x.float().expand(-1, -1, length)
    return out


def load_corpus(folders, length: int) -> tuple[torch.Tensor, np.ndarray, dict]:
    """``(series (n, 1, length), dataset index per series, {name: n_series})``."""
    parts, owner, sizes = [], [], {}
    for k, folder in enumerate(folders):
        series = read_train_split(folder)
        parts.append(prepare(series, length))
        owner.append(np.full(len(series), k))
        sizes[folder.name] = len(series)
    return torch.cat(parts), np.concatenate(owner), sizes


def balanced_batch(owner_rows: list[np.ndarray], batch_size: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Row ids: a dataset uniformly, then one of its series uniformly, ``batch_size`` times."""
    datasets = rng.integers(len(owner_rows), size=batch_size)
    return np.array([rows[rng.integers(len(rows))] for rows in
                     (owner_rows[d] for d in datasets)])


# ------------------------------------------------------------------------------ the output
def write_tokenizer(out: Path, core, card: dict) -> None:
    """``card.json`` + ``weights.pt`` through :func:`btvqvae.pretrained.save_tokenizer`."""
    extra = {k: v for k, v in card.items() if k not in ("name", "length", "architecture")}
    save_tokenizer(core, out, length=card["length"], name=card["name"], **extra)


def cpu_model() -> str:
    """The CPU's model name (results are bit-identical only on one CPU)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    return {"platform": platform.platform(), "processor": cpu_model(), "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "torch": torch.__version__}


# ----------------------------------------------------------------------------- training
def train(args) -> Path:
    out = Path(args.out)
    folders = find_datasets(args.data_dir, args.exclude)
    if not folders:
        raise SystemExit(f"no dataset folder with a *_TRAIN.tsv under {args.data_dir}")
    if args.max_datasets:
        keep = np.random.default_rng(args.seed).permutation(len(folders))[: args.max_datasets]
        folders = [folders[i] for i in sorted(keep)]
    corpus, owner, sizes = load_corpus(folders, args.length)
    owner_rows = [np.flatnonzero(owner == k) for k in range(len(folders))]
    print(f"corpus: {len(folders)} datasets, {len(corpus)} series at length {args.length}",
          flush=True)

    arch = dict(DEFAULT_ARCHITECTURE, hidden_dim=args.hidden_dim)
    core = _new_core(arch, args)
    optimizer = torch.optim.AdamW(core.parameters(), lr=args.lr, weight_decay=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps,
                                                          eta_min=0.0)
    rng = np.random.default_rng(args.seed)
    generator = torch.Generator().manual_seed(args.seed + 2)
    settings = {k: v for k, v in vars(args).items()
                if k not in ("checkpoint_every", "save_at", "stop_after", "torch_threads")}
    step, seconds, losses = 0, 0.0, []
    checkpoint = out / CHECKPOINT
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        if state["settings"] != settings:
            raise SystemExit(f"{checkpoint} was written with other settings; remove it or "
                             "rerun with those")
        core.load_state_dict(state["core"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        rng.bit_generator.state = state["rng"]
        generator.set_state(state["generator"])
        step, seconds, losses = state["step"], state["seconds"], state["losses"]
        print(f"resumed at step {step}", flush=True)

    card = {
        "name": out.name,
        "architecture": {k: arch[k] for k in ARCHITECTURE}, "length": args.length,
        "corpus": {"data_dirs": [str(d) for d in args.data_dir], "split": "TRAIN",
                   "labels_used": False, "excluded": sorted(args.exclude),
                   "n_datasets": len(folders), "n_series": int(len(corpus)),
                   "datasets": sizes, "sampling": "balanced: dataset uniform, then series"},
        "training": {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
                     "barlow_twins": {"gamma": args.gamma, "lambd": 0.005,
                                      "projector_dims": [512, 512], "views": "package default",
                                      "recon_target": "clean"} if args.gamma else None,
                     "weight_decay": 1e-3, "schedule": "cosine to 0 per step",
                     "ema_decay": 0.8, "kmeans_init": True, "seed": args.seed},
        "command": "python -m benchmarks.pretrain " + shlex.join(sys.argv[1:]),
        "btvqvae_version": __version__, "machine": machine(),
    }
    bar = _progress(args.steps, step)
    core.train()
    last = min(args.steps, step + args.stop_after) if args.stop_after else args.steps
    while step < last:
        start = time.perf_counter()
        batch = corpus[balanced_batch(owner_rows, args.batch_size, rng)]
        if args.gamma:
            output = core(batch, generator, barlow_twins=True)
        else:
            output = core(batch, generator)
        loss, _ = vqvae_loss(output, commitment_weight=1.0, gamma=args.gamma, lambd=0.005)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        step += 1
        seconds += time.perf_counter() - start
        losses.append(float(loss.detach()))
        if not np.isfinite(losses[-1]):
            raise SystemExit(f"the loss became {losses[-1]} at step {step}; lower --lr")
        bar(step, losses[-1])
        if step in args.save_at:
            snapshot = dict(card, name=f"{out.name}-step{step}",
                            training=dict(card["training"], stopped_at=step))
            write_tokenizer(out / f"step{step}", _plain(core, arch, args), snapshot)
            core.train()
        if step % args.checkpoint_every == 0 or step == last:
            out.mkdir(parents=True, exist_ok=True)
            torch.save({"settings": settings, "core": core.state_dict(),
                        "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                        "rng": rng.bit_generator.state, "generator": generator.get_state(),
                        "step": step, "seconds": seconds, "losses": losses},
                       checkpoint.with_suffix(".tmp"))
            os.replace(checkpoint.with_suffix(".tmp"), checkpoint)
    if step < args.steps:
        print(f"stopped at step {step} of {args.steps}; rerun the command to resume",
              flush=True)
        return out
    card["training"].update(seconds=round(seconds, 1),
                            final_loss=float(np.mean(losses[-50:])))
    write_tokenizer(out, _plain(core, arch, args), card)
    checkpoint.unlink(missing_ok=True)  # the tokenizer is the result; nothing to resume
    print(f"wrote {out} after {seconds:.0f} s of training", flush=True)
    return out


def _new_core(arch: dict, args):
    """The model trained: the plain core, or with ``--gamma`` the Barlow Twins VQ-VAE around
    the same core (the estimator's default views, projector and clean reconstruction)."""
    generator = torch.Generator().manual_seed(args.seed)
    if not args.gamma:
        return build_core(arch, args.length, generator=generator, kmeans_init=True,
                          ema_decay=0.8)
    from btvqvae.augmentations import make_augmenter
    from btvqvae.nn.model import BarlowTwinsVQVAE

    return BarlowTwinsVQVAE(1, args.length, projector_dims=(512, 512), recon_target="clean",
                            augmenter=make_augmenter(None), generator=generator,
                            kmeans_init=True, ema_decay=0.8,
                            **{k: arch[k] for k in ARCHITECTURE})


def _plain(core, arch: dict, args):
    """The tokenizer's core in eval mode: a Barlow Twins model loses its projector, which
    tokenizing never uses."""
    if not args.gamma:
        return core.eval()
    plain = build_core(arch, args.length)
    state = {k: v for k, v in core.state_dict().items() if not k.startswith("projector.")}
    plain.load_state_dict(state)
    return plain.eval()


def _progress(total: int, start: int):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the plain fallback: a line every 100 steps
        return lambda step, loss: step % 100 == 0 and print(f"step {step}/{total}: {loss:.4f}",
                                                           flush=True)
    bar = tqdm(total=total, initial=start, unit="step", mininterval=5.0)

    def update(step, loss):
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        if step == total:
            bar.close()
    return update


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", nargs="+", required=True,
                   help="folders of UCR-2018 dataset folders; only *_TRAIN.tsv is read")
    p.add_argument("--exclude", nargs="*", default=[], help="dataset names left out")
    p.add_argument("--max-datasets", type=int, default=0,
                   help="keep a seeded random subset of this many datasets (0: all)")
    p.add_argument("--out", required=True, help="output folder (card.json, weights.pt)")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--length", type=int, default=256)
    p.add_argument("--hidden-dim", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gamma", type=float, default=0.0,
                   help="> 0: pretrain the Barlow Twins VQ-VAE with this weight γ")
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--save-at", type=int, nargs="*", default=[])
    p.add_argument("--stop-after", type=int, default=0,
                   help="stop (checkpointed) after this many steps of this run; 0: run to the end")
    p.add_argument("--torch-threads", type=int, default=0, help="0: torch's default")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    args.exclude = sorted(args.exclude)
    args.save_at = set(args.save_at)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    train(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
