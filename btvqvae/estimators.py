"""The public scikit-learn estimators: ``VQVAETransformer`` and ``BarlowTwinsVQVAETransformer``.

Both share :class:`_BaseVQVAETransformer`, which validates input, learns the global scaling,
builds the private skorch net and implements the output modes; the subclasses only say which
torch module to build and which extra loss weights the net needs.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._validation import check_choice, check_float, check_int, check_series
from .augmentations import make_augmenter
from .nn.model import RECON_TARGETS, BarlowTwinsVQVAE, VQVAE
from .preprocessing import safe_scale
from .training import (PRECISIONS, ProgressBar, VQVAENet, autocast, cosine_schedule,
                       n_epochs_for)

__all__ = ["VQVAETransformer", "BarlowTwinsVQVAETransformer"]

OUTPUTS = ("embedding", "tokens", "histogram")
DEVICES = ("cpu", "cuda", "auto")
# Activations per inference batch (values): keeps transform's memory flat for long inputs.
_INFERENCE_BUDGET = 2**21


def _resolve_device(device: str) -> str:
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ValueError(f"device must be 'cpu', 'cuda' (optionally 'cuda:N') or 'auto', "
                         f"got {device!r}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"device={device!r} was requested but CUDA is not available; "
                      "training on the CPU instead.", UserWarning, stacklevel=3)
        return "cpu"
    return device


def _seed_from(random_state) -> int:
    """A 63-bit seed from ``random_state`` without drawing from numpy's global RNG."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


class _BaseVQVAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Shared machinery; see the subclasses for the parameters."""

    # -- hooks for subclasses ---------------------------------------------------------------
    def _check_extra_params(self) -> None:
        """Validate the subclass' own parameters."""

    def _build_module(self, n_channels: int, n_timepoints: int, generator: torch.Generator,
                      common: dict) -> torch.nn.Module:
        return VQVAE(n_channels, n_timepoints, generator=generator, **common)

    def _net_kwargs(self) -> dict:
        return {}

    # -- fitting ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        check_int("n_fft", self.n_fft, 4)
        check_int("hidden_dim", self.hidden_dim, 1)
        check_int("codebook_size", self.codebook_size, 1)
        check_int("code_dim", self.code_dim, 1, allow_none=True)
        check_int("n_res_blocks", self.n_res_blocks, 0)
        check_int("downsampled_width", self.downsampled_width, 1)
        check_float("commitment_weight", self.commitment_weight, 0.0)
        check_float("ema_decay", self.ema_decay, 0.0, 1.0)
        check_float("dead_code_threshold", self.dead_code_threshold, 0.0)
        check_int("max_steps", self.max_steps, 1, allow_none=True)
        check_int("max_epochs", self.max_epochs, 1, allow_none=True)
        if self.max_steps is None and self.max_epochs is None:
            raise ValueError("set max_steps or max_epochs (or both) to bound training")
        check_int("batch_size", self.batch_size, 1)
        check_float("lr", self.lr, 0.0, low_open=True)
        check_float("weight_decay", self.weight_decay, 0.0)
        check_choice("output", self.output, OUTPUTS)
        check_choice("precision", self.precision, PRECISIONS)
        check_int("verbose", self.verbose, 0)
        for name in ("kmeans_init", "center_latents"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {value!r}")
        self._check_extra_params()

    def _module_params(self) -> dict:
        return dict(n_fft=self.n_fft, hidden_dim=self.hidden_dim,
                    codebook_size=self.codebook_size, code_dim=self.code_dim,
                    n_res_blocks=self.n_res_blocks, downsampled_width=self.downsampled_width,
                    ema_decay=self.ema_decay, kmeans_init=bool(self.kmeans_init),
                    dead_code_threshold=self.dead_code_threshold,
                    center_latents=bool(self.center_latents))

    def fit(self, X, y=None):
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
        self.dtype_ = X.dtype
        self.mean_ = float(X.mean(dtype=np.float64))
        self.scale_ = safe_scale(self.mean_, float(X.std(dtype=np.float64)))
        self.device_ = _resolve_device(self.device)

        seed = _seed_from(self.random_state)
        init_gen = torch.Generator().manual_seed(seed)
        module = self._build_module(self.n_channels_, self.n_timepoints_, init_gen,
                                    self._module_params())
        n_epochs, total_steps = n_epochs_for(len(X), self.batch_size, self.max_steps,
                                             self.max_epochs)
        callbacks = [("lr_schedule", cosine_schedule(total_steps))]
        if self.verbose:
            callbacks.append(("progress", ProgressBar(total_steps)))
        callbacks += list(self.callbacks or [])
        self.net_ = self._make_net(module, seed, max_epochs=n_epochs, callbacks=callbacks)
        self.n_tokens_ = module.n_tokens
        self.latent_shape_ = module.latent_shape
        X_train = torch.from_numpy(self._scale(X).astype(np.float32, copy=False))
        # Callbacks such as btvqvae.monitoring.Monitor evaluate this estimator mid-training.
        self.net_.owner_ = self
        try:
            self.net_.fit(X_train, None)  # skorch ends quietly on Ctrl-C: the model stays usable
        finally:
            del self.net_.owner_
        self.net_.module_.eval()

        self.loss_curve_ = [float(v) for v in self.net_.history[:, "train_loss"]]
        self.n_iter_ = len(self.net_.history)
        tokens = self._encode(X, "tokens")
        counts = np.bincount(tokens.ravel(), minlength=self.codebook_size)
        self.codebook_usage_ = counts / counts.sum()
        used = self.codebook_usage_[self.codebook_usage_ > 0]
        self.perplexity_ = float(np.exp(-(used * np.log(used)).sum()))
        return self

    def _make_net(self, module: torch.nn.Module, seed: int, *, max_epochs: int = 1,
                  callbacks=None) -> VQVAENet:
        """The private skorch net around ``module`` (used by fit and by persistence.load)."""
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
            **self._net_kwargs(),
        )

    # -- persistence ------------------------------------------------------------------------
    def save(self, path):
        """Save the fitted estimator to the folder ``path`` (``params.json`` + ``weights.pt``).

        Unlike pickle, the files load across package versions that keep the architecture; see
        :func:`btvqvae.persistence.save`. Load them back with :meth:`load`.
        """
        from .persistence import save  # persistence sits above this module

        return save(self, path)

    @classmethod
    def load(cls, path, device=None):
        """Load an estimator written by :meth:`save` (see :func:`btvqvae.persistence.load`)."""
        from .persistence import load

        estimator = load(path, device=device)
        if not isinstance(estimator, cls):
            raise TypeError(f"{path} holds a {type(estimator).__name__}, not a {cls.__name__}; "
                            "load it with btvqvae.persistence.load or with that class")
        return estimator

    def _scale(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_) / self.scale_

    # -- transforming -----------------------------------------------------------------------
    @property
    def _n_features_out(self) -> int:
        if self.output == "tokens":
            return self.n_tokens_
        if self.output == "histogram":
            return self.codebook_size
        return self.n_tokens_ * self.latent_shape_[0]

    def _batches(self, n: int):
        per_case = self.hidden_dim * self.n_channels_ * self.net_.module_.stft_shape[0] * \
            self.net_.module_.stft_shape[1]
        step = int(max(1, min(4096, _INFERENCE_BUDGET // max(per_case, 1))))
        for start in range(0, n, step):
            yield slice(start, min(n, start + step))

    def _encode(self, X: np.ndarray, output: str) -> np.ndarray:
        """Validated 3-D X → output array, batched, eval mode, no grad, state untouched."""
        module = self.net_.module_
        was_training = module.training
        module.eval()
        device = self.net_.device
        n_tokens, code_dim, k = self.n_tokens_, self.latent_shape_[0], self.codebook_size
        if output == "tokens":
            out = np.empty((len(X), n_tokens), dtype=np.int64)
        else:
            width = k if output == "histogram" else n_tokens * code_dim
            out = np.empty((len(X), width), dtype=X.dtype)
        try:
            with torch.no_grad(), autocast(device, self.precision):
                for part in self._batches(len(X)):
                    xb = torch.from_numpy(self._scale(X[part]).astype(np.float32, copy=False))
                    _, z = module.encode(xb.to(device))
                    idx = module.quantizer(z).indices.reshape(len(xb), -1)  # (b, n_tokens)
                    if output == "tokens":
                        out[part] = idx.cpu().numpy()
                    elif output == "histogram":
                        counts = torch.zeros(len(xb), k, device=idx.device)
                        counts.scatter_add_(1, idx, torch.ones_like(idx, dtype=counts.dtype))
                        out[part] = (counts / n_tokens).cpu().numpy()
                    else:
                        z_q = module.quantizer.lookup(idx.reshape(len(xb), *self.latent_shape_[1:]))
                        out[part] = z_q.reshape(len(xb), -1).float().cpu().numpy()
        finally:
            module.train(was_training)
        return out

    def transform(self, X):
        """Encode series into the representation chosen by ``output``.

        Returns
        -------
        Z : ndarray of shape (n_cases, n_features_out)
            ``"embedding"``: flattened quantized vectors ``(code_dim, freq, time)`` in X's float
            dtype; ``"tokens"``: int64 code ids ``(freq, time)``; ``"histogram"``: each code's
            share of the series' tokens.
        """
        return self.encode(X, output=self.output)

    def encode(self, X, output: str | None = None):
        """Like :meth:`transform`, with the output mode given here instead of ``output``."""
        check_is_fitted(self)
        output = self.output if output is None else output
        check_choice("output", output, OUTPUTS)
        X = check_series(self, X, reset=False)
        return self._encode(X, output)

    def inverse_transform(self, Z):
        """Decode ``"embedding"`` or ``"tokens"`` output back to series.

        Parameters
        ----------
        Z : array-like of shape (n_cases, n_features_out)
            Output of :meth:`transform` (possibly edited: any code ids in
            ``[0, codebook_size)``, any finite embedding).

        Returns
        -------
        X : ndarray
            Series in the rank, dtype and scale of the training input.
        """
        check_is_fitted(self)
        if self.output == "histogram":
            raise ValueError("output='histogram' discards token order and cannot be decoded; "
                             "use output='tokens' or 'embedding' to reconstruct series")
        return self._decode(Z, self.output)

    def reconstruct(self, X):
        """Encode and decode X, whatever ``output`` is: ``inverse_transform(transform(X))``."""
        return self._decode(self.encode(X, output="tokens"), "tokens")

    def _decode(self, Z, kind: str) -> np.ndarray:
        module = self.net_.module_
        code_dim, f, w = self.latent_shape_
        Z = np.asarray(Z)
        width = self.n_tokens_ if kind == "tokens" else self.n_tokens_ * code_dim
        if Z.ndim != 2 or Z.shape[1] != width:
            raise ValueError(f"Z must have shape (n_cases, {width}) as produced by transform "
                             f"with output={kind!r}, got {Z.shape}")
        if kind == "tokens":
            if not np.issubdtype(Z.dtype, np.integer):
                if not np.all(np.isfinite(Z)) or not np.all(Z == np.round(Z)):
                    raise ValueError("tokens must be integer code ids")
            if Z.size and (Z.min() < 0 or Z.max() >= self.codebook_size):
                raise ValueError(f"token ids must lie in [0, {self.codebook_size}), got range "
                                 f"[{Z.min()}, {Z.max()}]")
        elif not np.all(np.isfinite(Z)):
            raise ValueError("Z contains NaN or infinity")
        was_training = module.training
        module.eval()
        series = []
        try:
            with torch.no_grad(), autocast(self.net_.device, self.precision):
                for part in self._batches(len(Z)):
                    zb = torch.as_tensor(Z[part]).to(self.net_.device)
                    if kind == "tokens":
                        z_q = module.quantizer.lookup(zb.long().reshape(-1, f, w))
                    else:
                        z_q = zb.float().reshape(-1, code_dim, f, w)
                    series.append(module.decode(z_q)[1].float().cpu().numpy().astype(np.float64))
        finally:
            module.train(was_training)
        X = np.concatenate(series) if series else np.empty((0, self.n_channels_,
                                                             self.n_timepoints_))
        X = (X * self.scale_ + self.mean_).astype(self.dtype_, copy=False)
        return X[:, 0, :] if self.input_ndim_ == 2 else X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        preserved = [] if self.output == "tokens" else ["float64", "float32"]
        tags.transformer_tags.preserves_dtype = preserved
        return tags

    def __setstate__(self, state):
        super().__setstate__(state)
        # A model trained on a GPU loads on a CPU-only machine: skorch maps its tensors to
        # the CPU; keep our record of the device in step.
        if getattr(self, "device_", "cpu").startswith("cuda") and not torch.cuda.is_available():
            self.device_ = "cpu"


_COMMON_PARAMS_DOC = """
    n_fft : int, default=8
        STFT size; ``n_fft // 2 + 1`` frequency rows, hop ``n_fft // 4``.
    hidden_dim : int, default=32
        Width of every convolution (reference 64).
    codebook_size : int, default=32
        Number of codes K.
    code_dim : int or None, default=None
        Dimension of a code; None uses ``hidden_dim`` (reference).
    n_res_blocks : int, default=2
        Residual blocks in the encoder and in the decoder (reference 4).
    downsampled_width : int, default=8
        Target width w of the downsampling rule: ``max(1, floor(log2(round(L / (log2(n_fft)
        - 1) / w))))`` time-halving blocks.
    commitment_weight : float, default=1.0
        β, weight of ``MSE(z, sg[z_q])``.
    ema_decay : float, default=0.8
        Decay of the EMA codebook update.
    kmeans_init : bool, default=True
        Initialise the codebook with k-means on the first training batch (reference: N(0, 1)
        codes).
    dead_code_threshold : float, default=0.0
        Move codes whose EMA usage falls below this onto random encoder outputs (0 = off).
    center_latents : bool, default=False
        Quantize each latent's deviation from the running mean of its (frequency, time)
        position, and add the mean back when decoding (reference: False). Meant for aligned
        datasets whose series all map to one token sequence (``evaluate``'s
        ``distinct_sequences`` near 0): there the codes are spent on the shared shape.
    max_steps : int or None, default=250
        Training budget in optimizer steps, rounded up to whole epochs (the reference trains
        1500 epochs on a GPU). On 12 development datasets, 250 steps gave the linear-SVC
        accuracy of 500 (no significant difference) in 34–41 % of the fit time, with an
        11–17 % larger reconstruction error (``benchmarks/results/budget.md``).
    max_epochs : int or None, default=None
        Training budget in epochs; with both set, the smaller budget wins.
    batch_size : int, default=128
    lr : float, default=1e-3
        AdamW learning rate, decayed to 0 by a per-step cosine schedule.
    weight_decay : float, default=1e-3
    precision : {"float32", "bfloat16"}, default="float32"
        "bfloat16" runs convolutions and matrix products in bfloat16 (autocast) in training
        and inference, for CPUs with native bf16 (AVX512-BF16/AMX) and GPUs; on this
        project's machine ``benchmarks.speed`` measured transform at 1.2x the float32 rate
        with 99.46 % of tokens equal. STFTs, codebook distances and losses stay in float32.
    output : {"embedding", "tokens", "histogram"}, default="embedding"
        What :meth:`transform` returns: the flattened quantized vectors (the thesis' Z), the
        code ids, or each code's share of a series' tokens.
    callbacks : list of skorch callbacks or (name, callback) pairs, or None
        Extra callbacks of the training net, e.g. :class:`btvqvae.monitoring.Monitor`.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and encode; "cuda" without a GPU warns and uses the CPU.
    verbose : int, default=0
        1 shows a progress bar while training.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the codebook, shuffling and augmentations. A fixed value gives
        bit-identical tokens on the CPU; global RNGs are never touched.
"""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained net; ``net_.module_`` is the torch module, ``net_.history`` holds per-epoch
        and per-batch losses (``time_mse``, ``tf_mse``, ``commitment``, ``barlow_twins``).
    mean_, scale_ : float
        Global mean and standard deviation of the training series (SPEC §1 scaling).
    n_channels_, n_timepoints_ : int
        Shape of one training series.
    n_features_in_ : int
        Timepoints per channel seen in fit.
    n_tokens_ : int
        Tokens per series (frequency rows × latent width).
    latent_shape_ : tuple of int
        ``(code_dim, freq, time)`` of the quantized latents.
    codebook_usage_ : ndarray of shape (codebook_size,)
        Share of the training tokens each code received.
    perplexity_ : float
        ``exp(entropy(codebook_usage_))``, between 1 and ``codebook_size``.
    loss_curve_ : list of float
        Mean training loss of each epoch.
    n_iter_ : int
        Epochs trained.
    device_ : str
        Device actually used.
"""


class VQVAETransformer(_BaseVQVAETransformer):
    __doc__ = f"""STFT VQ-VAE that turns time series into discrete tokens (SPEC §1–3).

    Series are scaled by one global mean/std, short-time Fourier transformed, encoded by a
    convolutional encoder and quantized against an EMA codebook; a mirrored decoder and the
    inverse STFT reconstruct them.

    The defaults are a CPU-sized configuration chosen on the development panel; the thesis'
    reference configuration is ``VQVAETransformer(**btvqvae.presets.reference_params("vqvae"))``.

    Parameters
    ----------{_COMMON_PARAMS_DOC}{_ATTRIBUTES_DOC}
    Examples
    --------
    >>> from aeon.datasets import load_gunpoint
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> from btvqvae import VQVAETransformer
    >>> X, y = load_gunpoint(split="train")
    >>> clf = make_pipeline(VQVAETransformer(max_steps=20, random_state=0), SVC()).fit(X, y)
    """

    def __init__(self, *, n_fft=8, hidden_dim=32, codebook_size=32, code_dim=None,
                 n_res_blocks=2, downsampled_width=8, commitment_weight=1.0, ema_decay=0.8,
                 kmeans_init=True, dead_code_threshold=0.0, center_latents=False, max_steps=250,
                 max_epochs=None, batch_size=128, lr=1e-3, weight_decay=1e-3, precision="float32",
                 output="embedding", callbacks=None, device="cpu", verbose=0,
                 random_state=None):
        self.n_fft = n_fft
        self.hidden_dim = hidden_dim
        self.codebook_size = codebook_size
        self.code_dim = code_dim
        self.n_res_blocks = n_res_blocks
        self.downsampled_width = downsampled_width
        self.commitment_weight = commitment_weight
        self.ema_decay = ema_decay
        self.kmeans_init = kmeans_init
        self.dead_code_threshold = dead_code_threshold
        self.center_latents = center_latents
        self.max_steps = max_steps
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.precision = precision
        self.output = output
        self.callbacks = callbacks
        self.device = device
        self.verbose = verbose
        self.random_state = random_state


class BarlowTwinsVQVAETransformer(_BaseVQVAETransformer):
    __doc__ = f"""Barlow-Twins-regularised STFT VQ-VAE (BT-VQVAE, SPEC §4–5).

    Two augmented views of each series pass through the shared encoder; a Barlow Twins loss on
    their max-pooled, projected pre-quantization latents is added to the VQ-VAE loss with
    weight ``gamma``. Encoding, decoding and the output modes are those of
    :class:`VQVAETransformer`. The reference configuration is
    ``BarlowTwinsVQVAETransformer(**btvqvae.presets.reference_params("bt"))``.

    Parameters
    ----------
    gamma : float, default=1.0
        Weight γ of the Barlow Twins loss; 0 trains a plain VQ-VAE on augmented data.
    lambd : float, default=0.005
        Weight λ of the off-diagonal (redundancy-reduction) term.
    projector_dims : tuple of int, default=(512, 512)
        Widths of the projector MLP (reference ``(4096, 4096, 4096)``).
    augmentations : None, "reference", "none", list or :class:`~btvqvae.augmentations.Augmenter`
        How the two views are made, independently per view. None is the package default:
        amplitude, flip, slope, stft_phase, jitter in the reference order and strengths, the
        slope scaled to the series length; "reference" uses the unscaled slope. A list names
        a subset and order, items being names, ``(name, params)`` pairs or callables.
    recon_target : {{"random_view", "first_view", "clean"}}, default="clean"
        What the VQ-VAE branch reconstructs: the un-augmented series, a view chosen at random
        per step (reference code) or the first view (thesis text).
    train_projector : bool, default=True
        Optimise the projector; False reproduces the reference, whose projector stayed random.
{_COMMON_PARAMS_DOC}{_ATTRIBUTES_DOC}
    Examples
    --------
    >>> from aeon.datasets import load_gunpoint
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.svm import SVC
    >>> from btvqvae import BarlowTwinsVQVAETransformer
    >>> X, y = load_gunpoint(split="train")
    >>> clf = Pipeline([("bt", BarlowTwinsVQVAETransformer(gamma=1.0, max_steps=20,
    ...                                                     random_state=0)),
    ...                 ("svc", SVC())]).fit(X, y)
    """

    def __init__(self, *, gamma=1.0, lambd=0.005, projector_dims=(512, 512),
                 augmentations=None, recon_target="clean", train_projector=True,
                 n_fft=8, hidden_dim=32, codebook_size=32, code_dim=None, n_res_blocks=2,
                 downsampled_width=8, commitment_weight=1.0, ema_decay=0.8, kmeans_init=True,
                 dead_code_threshold=0.0, center_latents=False, max_steps=250, max_epochs=None,
                 batch_size=128, lr=1e-3, weight_decay=1e-3, precision="float32",
                 output="embedding", callbacks=None, device="cpu", verbose=0, random_state=None):
        self.gamma = gamma
        self.lambd = lambd
        self.projector_dims = projector_dims
        self.augmentations = augmentations
        self.recon_target = recon_target
        self.train_projector = train_projector
        self.n_fft = n_fft
        self.hidden_dim = hidden_dim
        self.codebook_size = codebook_size
        self.code_dim = code_dim
        self.n_res_blocks = n_res_blocks
        self.downsampled_width = downsampled_width
        self.commitment_weight = commitment_weight
        self.ema_decay = ema_decay
        self.kmeans_init = kmeans_init
        self.dead_code_threshold = dead_code_threshold
        self.center_latents = center_latents
        self.max_steps = max_steps
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.precision = precision
        self.output = output
        self.callbacks = callbacks
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def _check_extra_params(self) -> None:
        check_float("gamma", self.gamma, 0.0)
        check_float("lambd", self.lambd, 0.0)
        dims = self.projector_dims
        if (not isinstance(dims, (tuple, list)) or not dims
                or not all(isinstance(d, (int, np.integer)) and d >= 1 for d in dims)):
            raise ValueError(f"projector_dims must be a non-empty sequence of positive ints, "
                             f"got {dims!r}")
        check_choice("recon_target", self.recon_target, RECON_TARGETS)
        if not isinstance(self.train_projector, (bool, np.bool_)):
            raise TypeError(f"train_projector must be a bool, got {self.train_projector!r}")
        make_augmenter(self.augmentations)  # raises a clear error for an unknown spec

    def _build_module(self, n_channels, n_timepoints, generator, common):
        return BarlowTwinsVQVAE(
            n_channels, n_timepoints, projector_dims=tuple(int(d) for d in self.projector_dims),
            lambd=self.lambd, recon_target=self.recon_target,
            augmenter=make_augmenter(self.augmentations), generator=generator, **common)

    def _net_kwargs(self) -> dict:
        kwargs = {"gamma": self.gamma}
        if not self.train_projector:
            # The reference never handed the projector to its optimizer: freeze it.
            kwargs["optimizer__param_groups"] = [("projector.*", {"lr": 0.0,
                                                                 "weight_decay": 0.0})]
        return kwargs
