"""The public scikit-learn estimators: ``VQVAETransformer`` and ``BarlowTwinsVQVAETransformer``.

Both share :class:`~btvqvae._base.BaseVQVAETransformer` (validation, scaling, the private
skorch net, the output modes); each class here stores its parameters, documents them and
says which torch module to build and which extra loss weights the net needs.
"""

from __future__ import annotations

from ._base import BaseVQVAETransformer
from ._validation import check_bool, check_choice, check_float, check_int_sequence
from .augmentations import make_augmenter
from .nn.model import RECON_TARGETS, VIEW_BATCHNORMS, BarlowTwinsVQVAE

__all__ = ["VQVAETransformer", "BarlowTwinsVQVAETransformer"]


class VQVAETransformer(BaseVQVAETransformer):
    """STFT VQ-VAE that turns time series into discrete tokens (SPEC §1–3).

    Series are scaled by one global mean/std, short-time Fourier transformed, encoded by a
    convolutional encoder and quantized against an EMA codebook; a mirrored decoder and the
    inverse STFT reconstruct them.

    The defaults are a CPU-sized configuration chosen on the development panel; the thesis'
    reference configuration is ``VQVAETransformer(**btvqvae.presets.reference_params("vqvae"))``.

    Parameters
    ----------
    init : None, "pretrained", str or path-like, default=None
        None trains from scratch (the thesis' way). ``"pretrained"``, a name in
        :func:`btvqvae.pretrained.available` or a folder written by ``benchmarks.pretrain``
        starts from that tokenizer: one vocabulary for every dataset, any length and number
        of channels, each channel normalised by its own mean and spread
        (:mod:`btvqvae.pretrained`). Then ``max_steps=0`` trains nothing and ``max_steps > 0``
        fine-tunes; architecture parameters left at their defaults take the tokenizer's.
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
    downsampled_width : int, default=32
        Target width w of the rule ``max(1, floor(log2(round(L / (log2(n_fft) - 1) / w))))``
        for the time-halving blocks: larger w, a finer token grid (reference 8).
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
        position, added back when decoding (reference: False); for aligned datasets whose
        series all map to one token sequence (``evaluate``'s ``distinct_sequences`` near 0).
    n_quantizers : int, default=8
        Residual quantization stages S: stage s quantizes what stages < s left of each
        latent with its own codebook of ``codebook_size`` codes, and the decoder sees the sum
        of the stage codes. A series then has ``S × freq × time`` tokens. 1 is the reference
        (a single codebook). Each stage refines the codes of the ones before, so more stages
        give tokens that keep more of the signal (lower reconstruction error, fewer series
        sharing one token sequence) at the cost of more tokens per series; how the default
        compares with one codebook is in ``benchmarks/results/rvq/readouts.md``.
    quantizer_dropout : bool, default=False
        With ``n_quantizers > 1``, train each batch on a random number of the first stages,
        so that the first stages alone still decode.
    max_steps : int or None, default=250
        Training budget in optimizer steps, rounded up to whole epochs (the reference trains
        1500 epochs on a GPU). More steps keep lowering the reconstruction error but need not
        raise probe accuracy (``benchmarks/results/budget.md``): raise it when you decode
        tokens.
    max_epochs : int or None, default=None
        Training budget in epochs; with both set, the smaller budget wins.
    batch_size : int, default=128
    lr : float, default=1e-3
        AdamW learning rate, decayed to 0 by a per-step cosine schedule.
    weight_decay : float, default=1e-3
    precision : {"float32", "bfloat16"}, default="float32"
        "bfloat16" runs convolutions and matrix products in bfloat16 (autocast) in training
        and inference, meant for CPUs with native bf16 (AVX512-BF16/AMX) and GPUs. Whether it
        is faster depends on the hardware and the model size, and a few tokens may differ
        from float32's; ``python -m benchmarks.speed`` measures both
        (``benchmarks/results/rvq/speed.json``). STFTs, codebook distances and losses stay in
        float32.
    output : str, default="embedding"
        What :meth:`transform` returns: "embedding" the flattened quantized vectors (the
        thesis' Z), "tokens" the code ids, "histogram" each stage's code shares, "latent" the
        continuous latents (*not* discrete), "pooled" their time mean and max, "bag" a sparse
        bag of token words; as aeon's 3-D collections, "sequence" the embedding (n, D·F,
        time) and "decoded" the series the tokens decode to (n, C, L), for aeon classifiers.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Extra callbacks of the training net, e.g. :class:`btvqvae.monitoring.Monitor`.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and encode; "cuda" without a GPU warns and uses the CPU.
    verbose : int, default=0
        1 shows a progress bar while training.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the codebook, shuffling and augmentations. A fixed value gives
        bit-identical tokens at a fixed torch thread count on one CPU (another count or CPU
        sums floats in another order, changing some tokens); global RNGs are never touched.

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
        Tokens per series (stages × frequency rows × latent width).
    token_shape_ : tuple of int
        ``(freq, time)`` grid of one series' tokens, ``(stage, freq, time)`` with
        ``n_quantizers > 1``: ``tokens.reshape(-1, *token_shape_)``.
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
    pretrained_ : dict
        With ``init``: the tokenizer's name, architecture, length and weights' sha256.

    Examples
    --------
    >>> from aeon.datasets import load_gunpoint
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> from btvqvae import VQVAETransformer
    >>> X, y = load_gunpoint(split="train")
    >>> clf = make_pipeline(VQVAETransformer(max_steps=20, random_state=0), SVC()).fit(X, y)
    """

    def __init__(self, *, init=None, n_fft=8, hidden_dim=32, codebook_size=32, code_dim=None,
                 n_res_blocks=2, downsampled_width=32, commitment_weight=1.0, ema_decay=0.8,
                 kmeans_init=True, dead_code_threshold=0.0, center_latents=False,
                 n_quantizers=8, quantizer_dropout=False, max_steps=250, max_epochs=None,
                 batch_size=128, lr=1e-3, weight_decay=1e-3, precision="float32",
                 output="embedding", callbacks=None, device="cpu", verbose=0,
                 random_state=None):
        self.init = init
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
        self.n_quantizers = n_quantizers
        self.quantizer_dropout = quantizer_dropout
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


class BarlowTwinsVQVAETransformer(BaseVQVAETransformer):
    """Barlow-Twins-regularised STFT VQ-VAE (BT-VQVAE, SPEC §4–5).

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
    augmentations : None, "reference", "none", list or Augmenter, default=None
        How each view is made (:class:`~btvqvae.augmentations.Augmenter`). None: amplitude,
        flip, slope, stft_phase, jitter in the reference order and strengths, the slope scaled
        to the series length; "reference" uses the unscaled slope. A list names a subset and
        order, items being names, ``(name, params)`` pairs or callables. The NC-VQVAE views
        did no better (``benchmarks/results/views/screen.md``).
    recon_target : {"random_view", "first_view", "clean"}, default="clean"
        What the VQ-VAE branch reconstructs: the un-augmented series, a view chosen at random
        per step (reference code) or the first view (thesis text).
    train_projector : bool, default=True
        Optimise the projector; False reproduces the reference, whose projector stayed random.
    view_batchnorm : {"joint", "separate"}, default="joint"
        "joint" (the reference) encodes the views and the reconstruction input as one batch,
        so the encoder's BatchNorm statistics, which ``transform`` uses, are those of the
        mix; "separate" encodes the reconstruction input alone, so they are the clean series'
        (``recon_target="clean"``), and normalises the views by their own batch. Measured
        level on 12 development datasets (``benchmarks/results/views/screen_seed0.md``).

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
    downsampled_width : int, default=32
        Target width w of the rule ``max(1, floor(log2(round(L / (log2(n_fft) - 1) / w))))``
        for the time-halving blocks: larger w, a finer token grid (reference 8).
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
        position, added back when decoding (reference: False); for aligned datasets whose
        series all map to one token sequence (``evaluate``'s ``distinct_sequences`` near 0).
    n_quantizers : int, default=8
        Residual quantization stages S: stage s quantizes what stages < s left of each
        latent with its own codebook of ``codebook_size`` codes, and the decoder sees the sum
        of the stage codes. A series then has ``S × freq × time`` tokens. 1 is the reference
        (a single codebook). Each stage refines the codes of the ones before, so more stages
        give tokens that keep more of the signal (lower reconstruction error, fewer series
        sharing one token sequence) at the cost of more tokens per series; how the default
        compares with one codebook is in ``benchmarks/results/rvq/readouts.md``.
    quantizer_dropout : bool, default=False
        With ``n_quantizers > 1``, train each batch on a random number of the first stages,
        so that the first stages alone still decode.
    max_steps : int or None, default=250
        Training budget in optimizer steps, rounded up to whole epochs (the reference trains
        1500 epochs on a GPU). More steps keep lowering the reconstruction error but need not
        raise probe accuracy (``benchmarks/results/budget.md``): raise it when you decode
        tokens.
    max_epochs : int or None, default=None
        Training budget in epochs; with both set, the smaller budget wins.
    batch_size : int, default=128
    lr : float, default=1e-3
        AdamW learning rate, decayed to 0 by a per-step cosine schedule.
    weight_decay : float, default=1e-3
    precision : {"float32", "bfloat16"}, default="float32"
        "bfloat16" runs convolutions and matrix products in bfloat16 (autocast) in training
        and inference, meant for CPUs with native bf16 (AVX512-BF16/AMX) and GPUs. Whether it
        is faster depends on the hardware and the model size, and a few tokens may differ
        from float32's; ``python -m benchmarks.speed`` measures both
        (``benchmarks/results/rvq/speed.json``). STFTs, codebook distances and losses stay in
        float32.
    output : str, default="embedding"
        What :meth:`transform` returns: "embedding" the flattened quantized vectors (the
        thesis' Z), "tokens" the code ids, "histogram" each stage's code shares, "latent" the
        continuous latents (*not* discrete), "pooled" their time mean and max, "bag" a sparse
        bag of token words; as aeon's 3-D collections, "sequence" the embedding (n, D·F,
        time) and "decoded" the series the tokens decode to (n, C, L), for aeon classifiers.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Extra callbacks of the training net, e.g. :class:`btvqvae.monitoring.Monitor`.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and encode; "cuda" without a GPU warns and uses the CPU.
    verbose : int, default=0
        1 shows a progress bar while training.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the codebook, shuffling and augmentations. A fixed value gives
        bit-identical tokens at a fixed torch thread count on one CPU (another count or CPU
        sums floats in another order, changing some tokens); global RNGs are never touched.

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
        Tokens per series (stages × frequency rows × latent width).
    token_shape_ : tuple of int
        ``(freq, time)`` grid of one series' tokens, ``(stage, freq, time)`` with
        ``n_quantizers > 1``: ``tokens.reshape(-1, *token_shape_)``.
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
                 view_batchnorm="joint", n_fft=8, hidden_dim=32, codebook_size=32,
                 code_dim=None, n_res_blocks=2, downsampled_width=32, commitment_weight=1.0,
                 ema_decay=0.8, kmeans_init=True, dead_code_threshold=0.0,
                 center_latents=False, n_quantizers=8, quantizer_dropout=False, max_steps=250,
                 max_epochs=None, batch_size=128, lr=1e-3, weight_decay=1e-3,
                 precision="float32", output="embedding", callbacks=None, device="cpu",
                 verbose=0, random_state=None):
        self.gamma = gamma
        self.lambd = lambd
        self.projector_dims = projector_dims
        self.augmentations = augmentations
        self.recon_target = recon_target
        self.train_projector = train_projector
        self.view_batchnorm = view_batchnorm
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
        self.n_quantizers = n_quantizers
        self.quantizer_dropout = quantizer_dropout
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
        check_int_sequence("projector_dims", self.projector_dims)
        check_choice("recon_target", self.recon_target, RECON_TARGETS)
        check_bool("train_projector", self.train_projector)
        check_choice("view_batchnorm", self.view_batchnorm, VIEW_BATCHNORMS)
        make_augmenter(self.augmentations)  # raises a clear error for an unknown spec

    def _memory_params(self) -> dict:
        views = 2 + (self.recon_target == "clean")
        return {"projector_dims": check_int_sequence("projector_dims", self.projector_dims),
                "n_views": views}

    def _new_module(self, generator):
        return BarlowTwinsVQVAE(
            self.n_channels_, self.n_timepoints_,
            projector_dims=check_int_sequence("projector_dims", self.projector_dims),
            recon_target=self.recon_target, augmenter=make_augmenter(self.augmentations),
            view_batchnorm=self.view_batchnorm, generator=generator, **self._module_params())

    def _net_kwargs(self) -> dict:
        kwargs = {"gamma": self.gamma, "lambd": self.lambd}
        if not self.train_projector:
            # The reference never handed the projector to its optimizer: freeze it.
            kwargs["optimizer__param_groups"] = [("projector.*", {"lr": 0.0,
                                                                 "weight_decay": 0.0})]
        return kwargs
