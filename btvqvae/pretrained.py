"""Pretrained tokenizers: named weights that ship with the package, with their model card.

A pretrained tokenizer is a folder holding ``card.json`` and ``weights.pt``. The card says
what the weights are (the architecture of the single-channel core, the length series are
resampled to, the sha256 of the weights) and where they come from (corpus, budget, seed,
command, machine, package version) and what they scored; the weights are the core's state
dict. The tokenizers that ship live under ``btvqvae/weights/<name>/``;
``benchmarks/pretrain.py`` writes the same layout anywhere.

Use one through the estimator, as torchvision's ``weights=`` does::

    VQVAETransformer(init="pretrained")           # the default shipped tokenizer
    VQVAETransformer(init="ucr-v1")               # a shipped tokenizer by name
    VQVAETransformer(init="path/to/my-tokenizer") # a folder written by benchmarks.pretrain

Loading trusts nothing it reads: the card is validated, the weights must match its sha256
and hold finite tensors of exactly the core's keys, shapes and dtypes
(:class:`~btvqvae.persistence.CorruptModelError` otherwise).
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ._weights import CorruptModelError, load_state, read_weights
from .nn.encoder import downsampling_strides
from .nn.instance import MIN_SPREAD, InstanceTokenizer
from .nn.model import ARCHITECTURE, VQVAE
from .nn.stft import n_frames

__all__ = ["DEFAULT", "CARD_FILE", "WEIGHTS_FILE", "PretrainedTokenizer", "available",
           "build_core", "check_init", "instance_module", "load_pretrained", "memory_params",
           "record_problem", "restore_levels", "save_tokenizer"]

#: The tokenizer ``init="pretrained"`` means.
DEFAULT = "ucr-v1"
FORMAT = "btvqvae-pretrained"
FORMAT_VERSION = 1
CARD_FILE, WEIGHTS_FILE = "card.json", "weights.pt"
_SHIPPED = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class PretrainedTokenizer:
    """A loaded pretrained tokenizer: its card, its weights and where they came from."""

    name: str
    architecture: dict
    length: int | None
    weights_sha256: str
    card: dict = field(repr=False)
    state: dict = field(repr=False)
    source: str = ""

    def core(self) -> VQVAE:
        """A fresh single-channel core holding the pretrained weights (eval mode)."""
        model = build_core(self.architecture, self.length or 256)
        load_state(model, self.state, self.source)
        return model.eval()

    def check_estimator(self, estimator) -> None:
        """Refuse architecture parameters that contradict the card (a parameter left at its
        default takes the card's value) and series too short for a native-length core."""
        defaults = inspect.signature(type(estimator).__init__).parameters
        for name in ARCHITECTURE:
            if name not in defaults:
                continue
            value, theirs = getattr(estimator, name), self.architecture[name]
            if value != defaults[name].default and value != theirs:
                raise ValueError(
                    f"{name}={value!r} differs from the pretrained tokenizer {self.name!r}, "
                    f"whose {name} is {theirs!r}; leave {name} at its default with init (it "
                    "then takes the tokenizer's), or init=None")
        if self.length is None:
            shortest = self.shortest_series()
            if estimator.n_timepoints_ < shortest:
                raise ValueError(
                    f"X has {estimator.n_timepoints_} timepoints; the pretrained tokenizer "
                    f"{self.name!r} runs at the series' own length and needs at least "
                    f"{shortest}; resample or pad the series")

    def shortest_series(self) -> int:
        """Fewest timepoints the core takes: 1 when resampling, else what its strides need."""
        if self.length is not None:
            return 1
        n_fft, blocks = self.architecture["n_fft"], self.architecture["n_downsampling"]
        return next(n for n in range(1, 1 << 20) if all(
            s == 2 for s in downsampling_strides(n_frames(n, n_fft), blocks)))

    @property
    def record(self) -> dict:
        """What a fitted estimator keeps of it (``pretrained_``): enough to rebuild the
        architecture without the files."""
        return {"name": self.name, "architecture": dict(self.architecture),
                "length": self.length, "weights_sha256": self.weights_sha256}


def available() -> list[str]:
    """Names of the pretrained tokenizers that ship with this package."""
    if not _SHIPPED.is_dir():
        return []
    return sorted(p.name for p in _SHIPPED.iterdir() if (p / CARD_FILE).is_file())


def build_core(architecture: dict, n_timepoints: int, *, generator: torch.Generator | None = None,
               **training) -> VQVAE:
    """The single-channel core of ``architecture`` for ``n_timepoints`` (untrained).

    ``training`` passes the quantizer's training options (``ema_decay``,
    ``dead_code_threshold``, ``quantizer_dropout``, ``kmeans_init``).
    """
    return VQVAE(1, n_timepoints, generator=generator,
                 **{k: architecture[k] for k in ARCHITECTURE}, **training)


def instance_module(record: dict, n_channels: int, n_timepoints: int, *,
                    generator: torch.Generator | None = None, **training) -> InstanceTokenizer:
    """The module of a fitted estimator with a pretrained tokenizer (``record`` is its
    ``pretrained_``), untrained: the caller loads the weights."""
    length = record["length"]
    core = build_core(record["architecture"], length or n_timepoints, generator=generator,
                      **training)
    return InstanceTokenizer(core, n_channels, n_timepoints, length)


def restore_levels(decoded: np.ndarray, X: np.ndarray, mean: float, scale: float) -> np.ndarray:
    """Give series decoded at level 0 and spread 1 (in units ``mean + scale·x``) each
    channel's level and spread of ``X`` back, as :class:`InstanceTokenizer` measured them."""
    scaled = (np.asarray(X, dtype=np.float64) - mean) / scale
    level = scaled.mean(axis=-1, keepdims=True)
    spread = np.maximum(scaled.std(axis=-1, keepdims=True), MIN_SPREAD)
    shape = (np.asarray(decoded, dtype=np.float64) - mean) / scale
    return (level + spread * shape) * scale + mean


def check_init(init, *, center_latents: bool, max_steps) -> None:
    """The estimator's ``init`` and what it rules out (checked at ``fit``)."""
    if init is not None and not isinstance(init, (str, os.PathLike)):
        raise TypeError(f"init must be None, 'pretrained', the name of a shipped tokenizer "
                        f"or a folder path, got {type(init).__name__}")
    if init is not None and center_latents:
        raise ValueError("center_latents=True cannot be used with init: a pretrained "
                         "tokenizer's codes are shared by series of every length and "
                         "alignment; set center_latents=False")
    if init is None and max_steps == 0:
        raise ValueError("max_steps=0 trains nothing, which only a pretrained tokenizer can "
                         "do: pass init='pretrained' or max_steps >= 1")


def memory_params(record: dict, n_timepoints: int) -> dict:
    """The arguments of ``check_memory`` that a tokenizer's architecture fixes."""
    arch = record["architecture"]
    return dict(n_timepoints=record["length"] or n_timepoints, n_fft=arch["n_fft"],
                hidden_dim=arch["hidden_dim"], code_dim=arch["code_dim"],
                codebook_size=arch["codebook_size"], n_res_blocks=arch["n_res_blocks"],
                n_downsampling=arch["n_downsampling"])


def record_problem(value) -> str | None:
    if not isinstance(value, dict) or set(value) != {"name", "architecture", "length",
                                                     "weights_sha256"}:
        return "must name a tokenizer's name, architecture, length and weights_sha256"
    arch = value["architecture"]
    if not isinstance(arch, dict) or set(arch) != set(ARCHITECTURE) or not all(
            _is_int(v, 1) or (k == "code_dim" and v is None) for k, v in arch.items()):
        return f"must hold an architecture of ints {ARCHITECTURE}"
    if value["length"] is not None and not _is_int(value["length"], 1):
        return "must have a length that is null or an int >= 1"
    return None


def _resolve(init: str | os.PathLike) -> tuple[str, Path]:
    if isinstance(init, str) and init == "pretrained":
        init = DEFAULT
    if isinstance(init, str) and init in available():
        return init, _SHIPPED / init
    path = Path(init).expanduser()
    if not (path / CARD_FILE).is_file():
        names = ", ".join(repr(n) for n in ["pretrained", *available()])
        raise ValueError(f"init={str(init)!r} is neither a shipped tokenizer ({names}) nor a "
                         f"folder holding {CARD_FILE} and {WEIGHTS_FILE} (as "
                         "benchmarks.pretrain writes); pass one of those, or init=None to "
                         "train from scratch")
    return path.name, path


def _is_int(value, minimum: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) \
        and value >= minimum


def _check_card(card, file: Path) -> None:
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise CorruptModelError(f"{file} is not a btvqvae tokenizer card "
                                f"(expected \"format\": \"{FORMAT}\")")
    if card.get("format_version") != FORMAT_VERSION:
        raise CorruptModelError(f"{file}: format_version {card.get('format_version')!r} is not "
                                f"{FORMAT_VERSION}, the one this btvqvae reads")
    arch = card.get("architecture")
    if not isinstance(arch, dict) or set(arch) != set(ARCHITECTURE):
        raise CorruptModelError(f"{file}: 'architecture' must hold exactly {ARCHITECTURE}")
    for key in ARCHITECTURE:
        value = arch[key]
        if key == "code_dim" and value is None:
            continue
        if not _is_int(value, 1):
            raise CorruptModelError(f"{file}: architecture {key} = {value!r} must be an int >= 1")
    if arch["n_fft"] % 2:
        raise CorruptModelError(f"{file}: architecture n_fft must be even")
    length = card.get("length")
    if length is not None and not _is_int(length, 8):
        raise CorruptModelError(f"{file}: length = {length!r} must be null or an int >= 8")
    if not isinstance(card.get("weights_sha256"), str):
        raise CorruptModelError(f"{file}: weights_sha256 is missing")


def load_pretrained(init: str | os.PathLike) -> PretrainedTokenizer:
    """Read and verify a pretrained tokenizer: ``"pretrained"``, a shipped name or a folder."""
    name, path = _resolve(init)
    file = path / CARD_FILE
    try:
        card = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptModelError(f"{file} is not valid JSON: {exc}") from None
    _check_card(card, file)
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        raise FileNotFoundError(f"{path} has {CARD_FILE} but no {WEIGHTS_FILE}")
    state = read_weights(weights, card, CARD_FILE)
    tokenizer = PretrainedTokenizer(
        name=card.get("name", name), architecture=dict(card["architecture"]),
        length=card.get("length"), weights_sha256=card["weights_sha256"], card=card,
        state=state, source=str(weights))
    tokenizer.core()  # checks every key, shape, dtype and value against the architecture
    return tokenizer


def save_tokenizer(core: VQVAE, path: str | os.PathLike, *, length: int | None,
                   name: str | None = None, **card) -> Path:
    """Write ``core`` (a single-channel :class:`~btvqvae.nn.model.VQVAE`) as a tokenizer
    folder that ``init=path`` loads: ``weights.pt`` and ``card.json``.

    ``card`` adds free-form entries to the card (corpus, training recipe, metrics...).
    """
    if core.n_channels != 1:
        raise ValueError(f"a tokenizer's core takes one channel, not {core.n_channels}")
    path = Path(path).expanduser()
    if core.center_latents:
        raise ValueError("a core with center_latents cannot be a tokenizer")
    architecture = {k: core.architecture[k] for k in ARCHITECTURE}
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in core.state_dict().items()}, buffer)
    data = buffer.getvalue()
    document = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "name": name or path.name, "architecture": architecture, "length": length,
                **card, "weights_sha256": hashlib.sha256(data).hexdigest()}
    path.mkdir(parents=True, exist_ok=True)
    (path / WEIGHTS_FILE).write_bytes(data)
    (path / CARD_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
