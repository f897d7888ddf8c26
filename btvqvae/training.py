"""Training glue: the private skorch net that trains and runs a (Barlow Twins) VQ-VAE.

The estimators build a :class:`VQVAENet` in ``fit``. Besides training, the net owns batched
inference: :meth:`VQVAENet.evaluating` (eval mode, no grad, the mode restored) and
:meth:`VQVAENet.encode` / :meth:`VQVAENet.decode`, which scale, batch under a memory budget,
move to the device and apply a read-out of :mod:`btvqvae.readouts`. Nothing here is public
API except the callbacks, which users may pass through ``callbacks=``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from functools import partial

import numpy as np
import torch
from scipy import sparse
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, LRScheduler, PassthroughScoring
from skorch.dataset import unpack_data

from .nn.losses import LOSS_COMPONENTS, vqvae_loss
from .readouts import READOUTS

__all__ = ["LOSS_COMPONENTS", "NonFiniteLossError", "ProgressBar", "VQVAENet", "autocast",
           "cosine_schedule"]

PRECISIONS = ("float32", "bfloat16")


def autocast(device, precision: str):
    """Mixed-precision context for ``precision="bfloat16"``, a no-op for ``"float32"``.

    Convolutions and matrix products run in bfloat16; the STFT, the codebook distances and
    the losses stay in float32 (see the modules).
    """
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)

#: Activations per inference batch (values): keeps transform's memory flat for long inputs.
INFERENCE_BUDGET = 2**21


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


class VQVAENet(NeuralNet):
    """skorch net whose module returns a :class:`~btvqvae.nn.model.VQVAEOutput`.

    Training: :meth:`get_loss` is :func:`btvqvae.nn.losses.vqvae_loss` with the loss weights
    held here together (β ``commitment_weight``, γ ``gamma``, λ ``lambd``), each component
    recorded per batch in ``history`` (:data:`LOSS_COMPONENTS`). ``generator`` feeds every
    random draw of a training step (augmentations, view choice, codebook initialisation).

    Inference: series in the estimator's units go in, are standardised with ``input_mean``
    and ``input_scale`` (None until an estimator sets them) and come out as the features of
    a read-out; ``output`` names the read-out the estimator's ``transform`` returns.
    """

    def __init__(self, module, *args, commitment_weight=1.0, gamma=0.0, lambd=0.005,
                 generator=None, precision="float32", input_mean=None, input_scale=None,
                 output="embedding", **kwargs):
        super().__init__(module, *args, **kwargs)
        self.commitment_weight = commitment_weight
        self.gamma = gamma
        self.lambd = lambd
        self.generator = generator
        self.precision = precision
        self.input_mean = input_mean
        self.input_scale = input_scale
        self.output = output

    @property
    def _default_callbacks(self):
        # skorch's defaults print a table and score a validation split we do not hold out.
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ]

    # -- training ---------------------------------------------------------------------------
    def get_loss(self, y_pred, y_true=None, X=None, training=False):
        loss, parts = vqvae_loss(y_pred, commitment_weight=self.commitment_weight,
                                 gamma=self.gamma, lambd=self.lambd)
        if training:
            for name, value in parts.items():
                self.history.record_batch(name, float(value.detach()))
        return loss

    def _forward_kwargs(self) -> dict:
        kwargs = {"generator": self.generator}
        if hasattr(self.module_, "projector"):
            kwargs["barlow_twins"] = self.gamma > 0
        return kwargs

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, _ = unpack_data(batch)
        Xi = Xi.to(self.device, non_blocking=True)
        with autocast(self.device, self.precision):
            y_pred = self.module_(Xi, **self._forward_kwargs())
        loss = self.get_loss(y_pred, X=Xi, training=True)
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"the training loss became {float(loss.detach())} in epoch {len(self.history)} "
                f"(batch {len(self.history[-1, 'batches'])}); lower `lr`, check the input "
                "scale, or keep the model in float32"
            )
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    # -- inference --------------------------------------------------------------------------
    @contextlib.contextmanager
    def evaluating(self) -> Iterator[torch.nn.Module]:
        """The module in eval mode, without gradients, in the net's precision; the previous
        mode is restored afterwards, so the codebook and BatchNorm statistics never move."""
        module = self.module_
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad(), autocast(self.device, self.precision):
                yield module
        finally:
            module.train(was_training)

    def _batch_size(self) -> int:
        """Cases per inference batch: as many as the memory budget allows, at most 512."""
        per_case = max(1, self.module_.activations_per_case)
        return int(max(1, min(512, INFERENCE_BUDGET // per_case)))

    def _batches(self, n: int) -> Iterator[slice]:
        step = self._batch_size()
        for start in range(0, n, step):
            yield slice(start, min(n, start + step))

    def _run(self, fn, batch: torch.Tensor) -> torch.Tensor:
        """``fn`` on ``batch`` padded with zeros to the fixed batch size, padding dropped.

        Convolution kernels pick their algorithm by batch size, which moves float32 results
        by rounding; one size for every batch makes each series' output independent of the
        call it came in (sklearn's subset invariance), at the cost of a padded last batch.
        """
        n, size = len(batch), self._batch_size()
        if n < size:
            batch = torch.cat([batch, batch.new_zeros(size - n, *batch.shape[1:])])
        return fn(batch)[:n]

    def _scaled(self, X: np.ndarray) -> torch.Tensor:
        # in float64: a tiny input_scale would overflow float32 arithmetic
        X = (X.astype(np.float64) - self.input_mean) / self.input_scale
        return torch.from_numpy(X.astype(np.float32)).to(self.device)

    def encode(self, X: np.ndarray, output: str | None = None
               ) -> np.ndarray | sparse.csr_matrix:
        """Series ``(n, C, L)`` in input units → features of read-out ``output``.

        Code ids come back as int64, other features in X's float dtype, ``(n, *shape)`` for a
        read-out with a ``shape``; a sparse read-out's word counts as a CSR matrix.
        """
        readout = READOUTS[self.output if output is None else output]
        if readout.sparse:
            return self._count_words(readout, X)
        shape = ((readout.n_features(self.module_),) if readout.shape is None
                 else readout.shape(self.module_))
        out = np.empty((len(X), *shape), dtype=np.int64 if readout.integer else X.dtype)
        with self.evaluating() as module:
            for part in self._batches(len(X)):
                features = self._run(partial(readout.encode, module), self._scaled(X[part]))
                out[part] = (features if readout.integer else features.float()).cpu().numpy()
        if readout.series:  # decoded series, back in the input's units
            out[:] = out.astype(np.float64) * self.input_scale + self.input_mean
        return out

    def _count_words(self, readout, X: np.ndarray) -> sparse.csr_matrix:
        """Each batch's word columns → unique (row, column, count) triplets → one CSR matrix,
        without ever holding a dense row of the ``n_features`` columns."""
        width = readout.n_features(self.module_)
        empty = np.empty(0, dtype=np.int64)
        rows, cols, counts = [empty], [empty], [empty]
        with self.evaluating() as module:
            for part in self._batches(len(X)):
                words = self._run(partial(readout.encode, module), self._scaled(X[part]))
                words = words.cpu().numpy()  # (b, n_words): a column per word occurrence
                keys, n = np.unique(words + width * np.arange(len(words))[:, None],
                                    return_counts=True)  # row-major keys of (row, column)
                rows.append(part.start + keys // width)
                cols.append(keys % width)
                counts.append(n)
        values = np.concatenate(counts).astype(X.dtype)
        return sparse.csr_matrix((values, (np.concatenate(rows), np.concatenate(cols))),
                                 shape=(len(X), width))

    def decode(self, Z: np.ndarray, output: str | None = None) -> np.ndarray:
        """Features of a decodable read-out → float64 series ``(n, C, L)`` in input units."""
        name = self.output if output is None else output
        readout = READOUTS[name]
        if readout.decode is None:
            raise ValueError(f"output={name!r} cannot be decoded ({readout.summary})")
        module = self.module_
        series = [np.empty((0, module.n_channels, module.n_timepoints))]
        with self.evaluating() as module:
            for part in self._batches(len(Z)):
                zb = torch.as_tensor(Z[part]).to(self.device)
                decoded = self._run(partial(readout.decode, module), zb)
                series.append(decoded.float().cpu().numpy().astype(np.float64))
        return np.concatenate(series) * self.input_scale + self.input_mean

    def __setstate__(self, state):
        super().__setstate__(state)
        # Nets pickled before the loss weights and the scaling moved here: λ was the
        # module's; the estimator that owns the net restores the scaling.
        if "lambd" not in self.__dict__:
            self.lambd = getattr(self.module_, "lambd", 0.005)
        for name, default in (("input_mean", None), ("input_scale", None),
                              ("output", "embedding")):
            self.__dict__.setdefault(name, default)


def cosine_schedule(total_steps: int) -> LRScheduler:
    """Per-batch cosine decay of the learning rate to 0 over ``total_steps`` (reference)."""
    return LRScheduler(policy="CosineAnnealingLR", T_max=max(1, total_steps), eta_min=0.0,
                       step_every="batch", event_name=None)


class ProgressBar(Callback):
    """A progress bar over training steps (tqdm when installed, else one line per epoch)."""

    def __init__(self, total_steps: int):
        self.total_steps = total_steps

    def on_train_begin(self, net, **kwargs):
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is an optional extra
            self.bar_ = None
        else:
            self.bar_ = tqdm(total=self.total_steps, desc=type(net.module_).__name__,
                             unit="step", leave=True)

    def on_batch_end(self, net, training=False, **kwargs):
        if training and self.bar_ is not None:
            self.bar_.update(1)
            self.bar_.set_postfix(loss=f"{net.history[-1, 'batches', -1, 'train_loss']:.4f}",
                                  refresh=False)

    def on_epoch_end(self, net, **kwargs):
        if self.bar_ is None:
            print(f"epoch {len(net.history)}: loss {net.history[-1, 'train_loss']:.4f}")

    def on_train_end(self, net, **kwargs):
        if self.bar_ is not None:
            self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)  # a closed tqdm bar holds a lock and a stream
        return state


def n_epochs_for(n_samples: int, batch_size: int, max_steps: int | None,
                 max_epochs: int | None) -> tuple[int, int]:
    """Epochs and total steps for a budget given in steps and/or epochs (the smaller wins)."""
    steps_per_epoch = math.ceil(n_samples / batch_size)
    epochs = []
    if max_steps is not None:
        epochs.append(math.ceil(max_steps / steps_per_epoch))
    if max_epochs is not None:
        epochs.append(max_epochs)
    n_epochs = max(1, min(epochs))
    return n_epochs, n_epochs * steps_per_epoch
