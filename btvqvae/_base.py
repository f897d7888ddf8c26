"""The scikit-learn façade shared by both estimators: validate, delegate, fitted attributes.

:class:`BaseVQVAETransformer` checks parameters and input, learns the global scaling, builds
the torch module and the private skorch net (:class:`~btvqvae.training.VQVAENet`) and hands
inference to the net, which applies a read-out of :mod:`btvqvae.readouts`. The subclasses in
:mod:`btvqvae.estimators` say which module to build and which loss weights the net needs.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from . import _storage
from ._decoding import DecodingMixin
from ._random import seed_from
from ._validation import (
    available_device,
    check_bool,
    check_callbacks,
    check_choice,
    check_float,
    check_int,
    check_memory,
    check_series,
    non_finite_tensors,
    resolve_device,
)
from .nn.model import VQVAE
from .preprocessing import global_mean_std, safe_scale
from .pretrained import (
    check_init,
    instance_module,
    load_pretrained,
    memory_params,
)
from .readouts import READOUTS
from .training import (
    PRECISIONS,
    NonFiniteLossError,
    ProgressBar,
    VQVAENet,
    cosine_schedule,
    n_epochs_for,
)

__all__ = ["BaseVQVAETransformer"]

OUTPUTS = tuple(READOUTS)
#: Parameters added after models were first saved, with the value that reproduces the
#: models saved before them (whatever today's default): used when a pickle or a saved
#: folder lacks the parameter.
LEGACY_VALUES = {"n_quantizers": 1, "quantizer_dropout": False}
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class BaseVQVAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, DecodingMixin,
                           BaseEstimator):
    """Shared machinery of the two estimators; see them for the parameters."""

    _legacy_values = LEGACY_VALUES  # read by persistence for folders saved before a parameter

    # -- what a subclass says ---------------------------------------------------------------
    def _check_extra_params(self) -> None:
        """Validate the subclass' own parameters."""

    def _new_module(self, generator: torch.Generator) -> torch.nn.Module:
        """The untrained torch module for series of the fitted shape."""
        record = getattr(self, "pretrained_", None)
        if record is not None:
            return self._instance_module(record, generator)
        return VQVAE(self.n_channels_, self.n_timepoints_, generator=generator,
                     **self._module_params())

    def _instance_module(self, record: dict, generator: torch.Generator) -> torch.nn.Module:
        """The pretrained tokenizer's architecture around series of the fitted shape."""
        return instance_module(record, self.n_channels_, self.n_timepoints_,
                               generator=generator, ema_decay=self.ema_decay,
                               dead_code_threshold=self.dead_code_threshold,
                               quantizer_dropout=bool(self.quantizer_dropout))

    def _net_kwargs(self) -> dict:
        """Loss weights and optimizer settings of the subclass, for :class:`VQVAENet`."""
        return {}

    def _memory_params(self) -> dict:
        """What the subclass adds to the memory estimate (projector, views per series)."""
        return {}

    # -- parameters -------------------------------------------------------------------------
    def _check_params(self) -> None:
        check_int("n_fft", self.n_fft, 4)
        if self.n_fft % 2:
            raise ValueError(f"n_fft must be even (the one-sided STFT and its inverse pair "
                             f"n_fft // 2 + 1 rows with n_fft samples), got {self.n_fft}; use "
                             f"{self.n_fft - 1} or {self.n_fft + 1}")
        check_int("hidden_dim", self.hidden_dim, 1)
        check_int("codebook_size", self.codebook_size, 1)
        check_int("code_dim", self.code_dim, 1, allow_none=True)
        check_int("n_res_blocks", self.n_res_blocks, 0)
        check_int("downsampled_width", self.downsampled_width, 1)
        check_float("commitment_weight", self.commitment_weight, 0.0)
        check_float("ema_decay", self.ema_decay, 0.0, 1.0)
        check_float("dead_code_threshold", self.dead_code_threshold, 0.0)
        init = getattr(self, "init", None)
        check_init(init, center_latents=self.center_latents, max_steps=self.max_steps)
        check_int("max_steps", self.max_steps, 0 if init is not None else 1, allow_none=True)
        check_int("max_epochs", self.max_epochs, 1, allow_none=True)
        if self.max_steps is None and self.max_epochs is None:
            raise ValueError("set max_steps or max_epochs (or both) to bound training")
        check_int("batch_size", self.batch_size, 1)
        check_float("lr", self.lr, 0.0, low_open=True)
        check_float("weight_decay", self.weight_decay, 0.0)
        check_choice("output", self.output, OUTPUTS)
        check_choice("precision", self.precision, PRECISIONS)
        check_int("verbose", self.verbose, 0, allow_bool=True)
        check_bool("kmeans_init", self.kmeans_init)
        check_bool("center_latents", self.center_latents)
        check_int("n_quantizers", self.n_quantizers, 1)
        check_bool("quantizer_dropout", self.quantizer_dropout)
        check_callbacks(self.callbacks)
        resolve_device(self.device, check_only=True)
        self._check_extra_params()

    def _module_params(self) -> dict:
        return dict(n_fft=self.n_fft, hidden_dim=self.hidden_dim,
                    codebook_size=self.codebook_size, code_dim=self.code_dim,
                    n_res_blocks=self.n_res_blocks, downsampled_width=self.downsampled_width,
                    ema_decay=self.ema_decay, kmeans_init=bool(self.kmeans_init),
                    dead_code_threshold=self.dead_code_threshold,
                    center_latents=bool(self.center_latents),
                    n_quantizers=int(self.n_quantizers),
                    quantizer_dropout=bool(self.quantizer_dropout))

    def _make_net(self, module: torch.nn.Module, seed: int, *, max_epochs: int = 1,
                  callbacks=None) -> VQVAENet:
        return VQVAENet(
            module,
            criterion=torch.nn.MSELoss,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed + 1),
            callbacks=callbacks,
            device=self.device_,
            verbose=self.verbose,
            commitment_weight=self.commitment_weight,
            generator=torch.Generator().manual_seed(seed + 2),
            precision=self.precision,
            input_mean=self.mean_,
            input_scale=self.scale_,
            output=self.output,
            **self._net_kwargs(),
        )

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, X: ArrayLike, y: Any = None) -> BaseVQVAETransformer:
        """Learn the scaling, the codebook and the encoder/decoder from series X.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
            Training series (float32 or float64; other numbers are converted to float64).
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        X = check_series(self, X, reset=True)
        tokenizer = self._load_pretrained()
        self._check_size(len(X))
        self.dtype_ = X.dtype
        mean, std = global_mean_std(X)
        self.mean_, self.scale_ = mean, safe_scale(mean, std)
        self._check_scaled_range(X)
        self.device_ = resolve_device(self.device)

        seed = seed_from(self.random_state)
        module = self._new_module(torch.Generator().manual_seed(seed))
        if tokenizer is not None:
            _storage.load_state(module.core, tokenizer.state, tokenizer.source)
        self.n_tokens_ = module.n_tokens
        self.latent_shape_ = module.latent_shape
        self.token_shape_ = module.token_shape
        if self.max_steps == 0:  # a pretrained tokenizer as it is: nothing to train
            self.net_ = self._make_net(module, seed).initialize()
        else:
            n_epochs, total_steps = n_epochs_for(len(X), self.batch_size, self.max_steps,
                                                 self.max_epochs)
            callbacks = [("lr_schedule", cosine_schedule(total_steps))]
            if self.verbose:
                callbacks.append(("progress", ProgressBar(total_steps)))
            callbacks += list(self.callbacks or [])
            self.net_ = self._make_net(module, seed, max_epochs=n_epochs, callbacks=callbacks)
            X_train = torch.from_numpy(((X.astype(np.float64) - self.mean_) / self.scale_
                                        ).astype(np.float32))
            self.net_.fit(X_train, None)  # skorch ends quietly on Ctrl-C: the model is usable
        self.net_.module_.eval()
        self._check_finite_model(X)

        self.loss_curve_ = [float(v) for v in self.net_.history[:, "train_loss"]] \
            if len(self.net_.history) else []
        self.n_iter_ = len(self.net_.history)
        tokens = self.net_.encode(X, "tokens")
        counts = np.bincount(tokens.ravel(), minlength=self.net_.module_.codebook_size)
        self.codebook_usage_ = counts / counts.sum()
        used = self.codebook_usage_[self.codebook_usage_ > 0]
        self.perplexity_ = float(np.exp(-(used * np.log(used)).sum()))
        return self

    def _load_pretrained(self):
        """Read ``init``'s tokenizer, check the parameters and X against it and record it as
        ``pretrained_``; None (and no ``pretrained_``) without ``init``."""
        self.__dict__.pop("pretrained_", None)
        if getattr(self, "init", None) is None:
            return None
        tokenizer = load_pretrained(self.init)
        tokenizer.check_estimator(self)
        self.pretrained_ = tokenizer.record
        return tokenizer

    def _check_size(self, n_cases: int) -> None:
        """Refuse, before anything is allocated, what the series' shape makes absurd."""
        record = getattr(self, "pretrained_", None)
        if record is not None:  # the tokenizer's architecture, at the length it runs at
            check_memory(**memory_params(record, self.n_timepoints_), n_cases=n_cases,
                         n_channels=self.n_channels_, batch_size=self.batch_size)
            return
        longest = max(8, 2 * self.n_timepoints_)
        if self.n_fft > longest:
            raise ValueError(f"n_fft={self.n_fft} is more than twice as long as the series "
                             f"({self.n_timepoints_} timepoints): its STFT would be mostly "
                             f"padding; use n_fft <= {longest}")
        check_memory(n_channels=self.n_channels_, n_timepoints=self.n_timepoints_,
                     n_cases=n_cases, n_fft=self.n_fft, hidden_dim=self.hidden_dim,
                     code_dim=self.code_dim, codebook_size=self.codebook_size,
                     n_res_blocks=self.n_res_blocks, downsampled_width=self.downsampled_width,
                     batch_size=self.batch_size, **self._memory_params())

    def _check_scaled_range(self, X: np.ndarray) -> None:
        """Refuse series that leave float32's range once standardised (the model's dtype)."""
        # max and -min instead of abs(X): no copy of X (transform's memory budget)
        peak = max(float(X.max()), -float(X.min())) if X.size else 0.0
        bound = (peak + abs(self.mean_)) / self.scale_
        if bound > _FLOAT32_MAX:
            peak = float(np.max(np.abs((X.astype(np.float64) - self.mean_) / self.scale_)))
            if peak > _FLOAT32_MAX:
                raise ValueError(
                    f"X reaches {peak:.3g} training standard deviations from the training "
                    f"mean, beyond float32's range ({_FLOAT32_MAX:.3g}) the model computes "
                    "in; rescale these series like the training data, or refit on data of "
                    "their scale")

    def _check_finite_model(self, X: np.ndarray) -> None:
        """Never return a diverged model: the last update may have made weights NaN/inf, or
        left them finite but so large that the activations overflow (e.g. ``lr=1e30``), which
        a few training series through encoder and decoder show."""
        hint = "lower `lr`, check the input scale, or keep the model in float32"
        bad = non_finite_tensors(self.net_.module_.state_dict())
        if bad:
            raise NonFiniteLossError(
                f"training diverged: after the last update {len(bad)} weight tensors hold "
                f"NaN or infinity (e.g. {bad[0]}); {hint}")
        with self.net_.evaluating() as module:  # one small batch, unpadded: cheap
            x = self.net_._scaled(X[:8])
            outputs = {"latents": module.latents(x),
                       "reconstructions": module.decode_tokens(module.tokens(x))}
        broken = [what for what, value in outputs.items() if not torch.isfinite(value).all()]
        if broken:
            raise NonFiniteLossError(
                f"training diverged: the weights are finite but the model's "
                f"{' and '.join(broken)} of the training series are NaN or infinite "
                f"(its activations overflow); {hint} (lr={self.lr!r})")

    # -- persistence ------------------------------------------------------------------------
    def _restore_net(self, state: Mapping[str, torch.Tensor], source: str = "the state") -> None:
        """Restore hook of :mod:`btvqvae.persistence`: rebuild ``net_`` from a state dict.

        The parameters and the fitted attributes (``mean_``, ``n_timepoints_``, ``device_``,
        ...) must already be set. The module is rebuilt from them, ``state`` is checked
        against it key by key (a mismatch raises ``ValueError`` naming ``source``) and
        loaded; the net is fresh (new optimizer, no callbacks, empty history), in eval mode.
        """
        module = self._new_module(torch.Generator().manual_seed(0))
        _storage.load_state(module, state, source)
        self.net_ = self._make_net(module, seed=0).initialize()
        self.net_.module_.eval()
        self.token_shape_ = module.token_shape

    def save(self, path: str | os.PathLike) -> Path:
        """Save the fitted estimator to the folder ``path`` (``params.json`` + ``weights.pt``).

        Unlike pickle, the files load across package versions that keep the architecture; see
        :func:`btvqvae.persistence.save`. Load them back with :meth:`load`.
        """
        return _storage.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None
             ) -> BaseVQVAETransformer:
        """Load an estimator written by :meth:`save` (see :func:`btvqvae.persistence.load`)."""
        estimator = _storage.load(path, _storage.estimator_classes(BaseVQVAETransformer),
                                  device=device)
        if not isinstance(estimator, cls):
            raise TypeError(f"{path} holds a {type(estimator).__name__}, not a {cls.__name__}; "
                            "load it with btvqvae.persistence.load or with that class")
        return estimator

    # -- transforming -----------------------------------------------------------------------
    @property
    def _n_features_out(self) -> int:
        return READOUTS[self.output].n_features(self.net_.module_)

    def transform(self, X: ArrayLike) -> np.ndarray | csr_matrix:
        """Encode series into the representation chosen by ``output``.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)
            Series of the length and channels seen in :meth:`fit`.

        Returns
        -------
        Z : ndarray or scipy.sparse.csr_matrix of shape (n_cases, n_features_out)
            ``"embedding"``: flattened quantized vectors ``(code_dim, freq, time)`` in X's float
            dtype; ``"tokens"``: int64 code ids ``(freq, time)`` (``(stage, freq, time)`` with
            ``n_quantizers > 1``); ``"histogram"``: each code's share of the series' tokens,
            per stage; ``"latent"``: continuous latents ``(code_dim, freq, time)``;
            ``"pooled"``: time mean then time max of z_q ``(code_dim, freq)``; ``"bag"``: a
            CSR matrix of code and consecutive-pair counts per (stage, freq) over a time
            pyramid, in X's float dtype (:mod:`btvqvae.readouts`, ``get_feature_names_out``);
            ``"sequence"``: the embedding as a 3-D collection ``(n_cases, code_dim * freq,
            time)``; ``"decoded"``: the series the tokens decode to, ``(n_cases, n_channels,
            n_timepoints)`` in X's units; both for time-series classifiers such as aeon's.
        """
        return self.encode(X, output=self.output)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output features: ``"<estimator><i>"``, or the words of ``"bag"``.

        A 3-D output (``"sequence"``, ``"decoded"``) has no per-feature names: ValueError.
        """
        names = super().get_feature_names_out(input_features)  # checks the fit and the input
        if READOUTS[self.output].shape is not None:
            raise ValueError(f"output={self.output!r} returns a 3-D collection (n_cases, "
                             "channels, timepoints), which has no per-feature names; use a "
                             "2-D output such as 'embedding' for get_feature_names_out")
        words = READOUTS[self.output].feature_names
        return names if words is None else np.asarray(words(self.net_.module_), dtype=object)

    def encode(self, X: ArrayLike, output: str | None = None) -> np.ndarray | csr_matrix:
        """Like :meth:`transform`, with the output mode given here instead of ``output``."""
        check_is_fitted(self)
        output = self.output if output is None else output
        check_choice("output", output, OUTPUTS)
        X = check_series(self, X, reset=False)
        self._check_scaled_range(X)
        return self.net_.encode(X, output)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        preserved = [] if READOUTS[self.output].integer else ["float64", "float32"]
        tags.transformer_tags.preserves_dtype = preserved
        return tags

    def __setstate__(self, state):
        super().__setstate__(state)
        # Pickled before a parameter existed: it takes the value that reproduces what the
        # code did then (LEGACY_VALUES), else its default.
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if param.default is not inspect.Parameter.empty and name not in self.__dict__:
                setattr(self, name, LEGACY_VALUES.get(name, param.default))
        # A model trained on a GPU loads on a CPU-only machine: skorch maps its tensors to
        # the CPU; keep our record of the device in step.
        if hasattr(self, "device_"):
            self.device_ = available_device(self.device_)
        net = self.__dict__.get("net_")
        if net is not None and "token_shape_" not in self.__dict__:
            self.token_shape_ = net.module_.token_shape  # pickled before it was recorded
        if net is not None and getattr(net, "input_scale", None) is None:
            # pickled before the net held the scaling (btvqvae <= b6cbf14)
            net.input_mean, net.input_scale, net.output = self.mean_, self.scale_, self.output
