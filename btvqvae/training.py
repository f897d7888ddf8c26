"""Training glue: the private skorch net that trains a (Barlow Twins) VQ-VAE, and callbacks.

The estimators build a :class:`VQVAENet` in ``fit``; nothing here is public API except the
callbacks, which users may pass through ``callbacks=``.
"""

from __future__ import annotations

import contextlib
import math

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, LRScheduler, PassthroughScoring
from skorch.dataset import unpack_data

__all__ = ["NonFiniteLossError", "ProgressBar", "VQVAENet", "autocast", "cosine_schedule"]

PRECISIONS = ("float32", "bfloat16")


def autocast(device, precision: str):
    """Mixed-precision context for ``precision="bfloat16"``, a no-op for ``"float32"``.

    Convolutions and matrix products run in bfloat16; the STFT, the codebook distances and
    the losses stay in float32 (see the modules).
    """
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)

#: Per-batch loss components recorded in ``net.history`` (``net.history[-1, "batches"]``).
LOSS_COMPONENTS = ("time_mse", "tf_mse", "commitment", "barlow_twins")


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


class VQVAENet(NeuralNet):
    """skorch net whose module returns a :class:`~btvqvae.nn.model.VQVAEOutput`.

    The loss ``MSE(x, x̂) + MSE(u, û) + β·commitment (+ γ·L_BT)`` is assembled in
    :meth:`get_loss` and each component is recorded per batch. ``generator`` feeds every random
    draw of a training step (augmentations, view choice, codebook initialisation).
    """

    def __init__(self, module, *args, commitment_weight=1.0, gamma=0.0, generator=None,
                 precision="float32", **kwargs):
        super().__init__(module, *args, **kwargs)
        self.commitment_weight = commitment_weight
        self.gamma = gamma
        self.generator = generator
        self.precision = precision

    @property
    def _default_callbacks(self):
        # skorch's defaults print a table and score a validation split we do not hold out.
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ]

    def get_loss(self, y_pred, y_true=None, X=None, training=False):
        time_mse = torch.nn.functional.mse_loss(y_pred.x_hat, y_pred.x.to(y_pred.x_hat.dtype))
        tf_mse = torch.nn.functional.mse_loss(y_pred.u_hat.float(), y_pred.u.float())
        commitment = y_pred.quantized.commitment.float()
        loss = time_mse + tf_mse + self.commitment_weight * commitment
        bt = getattr(y_pred, "bt_loss", None)
        if bt is not None:
            loss = loss + self.gamma * bt
        if training:
            parts = (time_mse, tf_mse, commitment, bt if bt is not None else torch.zeros(()))
            for name, value in zip(LOSS_COMPONENTS, parts):
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
