"""The VQ-VAE and the two-branch Barlow Twins VQ-VAE as torch modules (SPEC §2–4).

Forward passes return small named results, which :func:`btvqvae.nn.losses.vqvae_loss` turns
into the training loss. The modules also own the way between series, latents, token ids and
code vectors (:meth:`VQVAE.latents`, :meth:`~VQVAE.tokens`, :meth:`~VQVAE.token_vectors`,
:meth:`~VQVAE.decode_tokens`, :meth:`~VQVAE.decode_latents`): code outside ``nn/`` never
touches the quantizer. With ``n_quantizers`` S > 1 the quantizer is residual and every token
grid gains a leading stage axis: ``(F, T')`` becomes ``(S, F, T')``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from .decoder import Decoder
from .encoder import Encoder, downsampling_strides, n_downsampling_blocks
from .layers import reset_parameters
from .projector import Projector
from .quantizer import Quantized, ResidualVectorQuantizer, make_quantizer
from .stft import istft, n_frames, n_freqs, stft

__all__ = ["ARCHITECTURE", "VQVAE", "BarlowTwinsVQVAE", "VQVAEOutput", "BarlowTwinsOutput",
           "RECON_TARGETS", "VIEW_BATCHNORMS", "frozen_running_stats", "token_grid"]

RECON_TARGETS = ("random_view", "first_view", "clean")
#: What fixes the shapes of a VQVAE's weights at any length (``VQVAE.architecture``).
ARCHITECTURE = ("n_fft", "hidden_dim", "codebook_size", "code_dim", "n_res_blocks",
                "n_quantizers", "n_downsampling")
VIEW_BATCHNORMS = ("joint", "separate")


def token_grid(latent_shape: Sequence[int], n_quantizers: int) -> tuple[int, ...]:
    """The token grid of latents ``(D, F, T')``: ``(F, T')``, or ``(S, F, T')`` for S > 1."""
    grid = tuple(latent_shape[1:])
    return grid if n_quantizers == 1 else (n_quantizers, *grid)


@contextmanager
def frozen_running_stats(module: nn.Module):
    """Inside the block, training-mode BatchNorms of ``module`` normalise by the batch but
    leave their running statistics as they are (momentum 0)."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
             and m.momentum is not None]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in zip(norms, saved, strict=True):
            m.momentum = momentum


@dataclass
class VQVAEOutput:
    x: torch.Tensor          # (B, C, L) the series the branch reconstructs
    x_hat: torch.Tensor      # (B, C, L)
    u: torch.Tensor          # (B, 2C, F, T)
    u_hat: torch.Tensor      # (B, 2C, F, T)
    quantized: Quantized     # z_q (B, D, F, T'), indices (B, F, T') / (B, S, F, T'), commitment


@dataclass
class BarlowTwinsOutput(VQVAEOutput):
    # projector outputs of the two views, (B, P) each; None when the BT term is skipped
    projections: tuple[torch.Tensor, torch.Tensor] | None = None


class TwoViews(Protocol):
    def two_views(self, x: torch.Tensor, *, generator: torch.Generator | None
                  ) -> tuple[torch.Tensor, torch.Tensor]: ...


class VQVAE(nn.Module):
    """STFT → encoder → EMA vector quantizer (one or S residual stages) → decoder → iSTFT.

    Parameters
    ----------
    n_channels, n_timepoints : int
        Shape of one input series.
    n_fft : int
        STFT size (reference 8).
    hidden_dim : int
        Convolution width d (reference 64).
    codebook_size : int
        Number of codes K (reference 32).
    code_dim : int or None
        Code dimension; None uses ``hidden_dim`` (reference).
    n_res_blocks : int
        Residual blocks in encoder and decoder (reference 4).
    downsampled_width : int
        Target width w of the downsampling rule (reference 8).
    ema_decay, kmeans_init, dead_code_threshold
        See :class:`~btvqvae.nn.quantizer.VectorQuantizer`.
    center_latents : bool
        Quantize each latent's deviation from the running mean of its (frequency, time)
        position (``center_shape`` of the quantizer, first stage only); False is the reference.
    n_quantizers : int
        Quantizer stages S. 1 (reference) is one :class:`~btvqvae.nn.quantizer.VectorQuantizer`,
        laid out as in models saved before residual stages existed; S > 1 is a
        :class:`~btvqvae.nn.quantizer.ResidualVectorQuantizer` and S tokens per grid cell.
    quantizer_dropout : bool
        With S > 1, train each batch on a random number 1..S of leading stages (drawn from the
        forward's generator), so that coarser prefixes of the tokens decode too.
    n_downsampling : int or None
        Time-halving blocks of the encoder; None applies the rule of ``downsampled_width``.
        A fixed count keeps the weights' meaning at any length (a pretrained model's strides).
    generator : torch.Generator or None
        Source of the initial weights and codes (global RNG untouched).
    """

    def __init__(self, n_channels: int, n_timepoints: int, *, n_fft: int = 8,
                 hidden_dim: int = 64, codebook_size: int = 32, code_dim: int | None = None,
                 n_res_blocks: int = 4, downsampled_width: int = 8, ema_decay: float = 0.8,
                 kmeans_init: bool = False, dead_code_threshold: float = 0.0,
                 center_latents: bool = False, n_quantizers: int = 1,
                 quantizer_dropout: bool = False, n_downsampling: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__()
        stages = dict(n_quantizers=n_quantizers, codebook_size=codebook_size, decay=ema_decay,
                      kmeans_init=kmeans_init, dead_code_threshold=dead_code_threshold,
                      dropout=quantizer_dropout)
        with torch.random.fork_rng(devices=[]):  # layer constructors draw from the global RNG
            self._build(n_channels, n_timepoints, n_fft, hidden_dim, code_dim, n_res_blocks,
                        downsampled_width, center_latents, stages, n_downsampling)
        generator = generator if generator is not None else torch.Generator()
        reset_parameters(self.encoder, generator)
        reset_parameters(self.decoder, generator)
        self.quantizer.reset_codebook(generator)

    def _build(self, n_channels, n_timepoints, n_fft, hidden_dim, code_dim, n_res_blocks,
               downsampled_width, center_latents, stages, n_downsampling):
        self.n_channels, self.n_timepoints, self.n_fft = n_channels, n_timepoints, n_fft
        n_blocks = n_downsampling if n_downsampling is not None else \
            n_downsampling_blocks(n_timepoints, n_fft, downsampled_width)
        self.n_downsampling = n_blocks
        # what fixes the weights' shapes at any length (a pretrained tokenizer's card)
        self.architecture = dict(n_fft=n_fft, hidden_dim=hidden_dim,
                                 codebook_size=stages["codebook_size"], code_dim=code_dim,
                                 n_res_blocks=n_res_blocks,
                                 n_quantizers=stages["n_quantizers"], n_downsampling=n_blocks)
        code_dim = hidden_dim if code_dim is None else code_dim
        self.stft_shape = (n_freqs(n_fft), n_frames(n_timepoints, n_fft))
        strides = downsampling_strides(self.stft_shape[1], n_blocks)
        self.latent_shape = (code_dim, self.stft_shape[0], self._width_after(strides))
        self.encoder = Encoder(2 * n_channels, hidden_dim, strides, n_res_blocks, code_dim)
        self.quantizer = make_quantizer(dim=code_dim, **stages, center_shape=(
            self.latent_shape[1:] if center_latents else None))
        self.decoder = Decoder(2 * n_channels, hidden_dim, strides, n_res_blocks, code_dim)

    def _width_after(self, strides: Sequence[int]) -> int:
        width = self.stft_shape[1]
        for stride in strides:
            width //= stride
        return width

    @property
    def n_quantizers(self) -> int:
        """Quantizer stages S (1 unless the quantizer is residual)."""
        if isinstance(self.quantizer, ResidualVectorQuantizer):
            return self.quantizer.n_quantizers
        return 1

    @property
    def center_latents(self) -> bool:
        """Whether the first stage quantizes deviations from per-position means."""
        return bool(self.quantizer.centered)

    @property
    def token_shape(self) -> tuple[int, ...]:
        """Token grid of one series: ``(F, T')``, or ``(S, F, T')`` with S > 1 stages."""
        return token_grid(self.latent_shape, self.n_quantizers)

    @property
    def n_tokens(self) -> int:
        """Tokens per series: stages × frequency rows × latent width."""
        return math.prod(self.token_shape)

    @property
    def codebook_size(self) -> int:
        return self.quantizer.codebook_size

    @property
    def activations_per_case(self) -> int:
        """Values of the widest activation per series: sizes inference batches."""
        width = max(m.out_channels for m in self.encoder.modules() if isinstance(m, nn.Conv2d))
        return width * self.n_channels * self.stft_shape[0] * self.stft_shape[1]

    # -- indices <-> vectors: the one way between series, latents and tokens ----------------
    def code_vectors(self) -> torch.Tensor:
        """Every stage's codebook, ``(S, K, D)``: the vocabulary (without position means)."""
        stages = getattr(self.quantizer, "stages", [self.quantizer])
        return torch.stack([stage.codebook for stage in stages])

    @torch.no_grad()
    def code_decodings(self, stage: int = 0) -> torch.Tensor:
        """What each code of ``stage`` decodes to when it alone fills the token grid,
        ``(K, C, L)``: a picture of the vocabulary."""
        codes = self.code_vectors()[stage]  # (K, D)
        grid = codes[:, :, None, None].expand(-1, -1, *self.latent_shape[1:])  # (K, D, F, T')
        return self.decode_latents(grid.contiguous())

    def latents(self, x: torch.Tensor) -> torch.Tensor:
        """Series ``(B, C, L)`` → continuous pre-quantization latents ``z`` ``(B, D, F, T')``."""
        return self.encode(x)[1]

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Series ``(B, C, L)`` → code ids ``(B, *token_shape)``: ``(B, F, T')`` or
        ``(B, S, F, T')`` (the codebook moves only in training; every stage is used)."""
        return self.quantizer(self.latents(x)).indices

    def token_vectors(self, indices: torch.Tensor) -> torch.Tensor:
        """Code ids ``(B, *token_shape)`` → quantized latents ``z_q`` ``(B, D, F, T')``.

        With stages, ``z_q`` is the sum of the stage codes; ``(B, s, F, T')`` with s < S gives
        the coarser latent of the first s stages.
        """
        return self.quantizer.lookup(indices)

    def decode_tokens(self, indices: torch.Tensor) -> torch.Tensor:
        """Code ids ``(B, *token_shape)`` → reconstructed series ``(B, C, L)``."""
        return self.decode_latents(self.token_vectors(indices))

    def decode_latents(self, z_q: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, D, F, T')`` (quantized or not) → reconstructed series ``(B, C, L)``."""
        return self.decode(z_q)[1]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Series ``(B, C, L)`` → (STFT image ``u``, pre-quantization latents ``z``)."""
        u = stft(x, self.n_fft)  # (B, 2C, F, T)
        return u, self.encoder(u)  # (B, D, F, T')

    def decode(self, z_q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantized latents ``(B, D, F, T')`` → (``û``, ``x̂``)."""
        u_hat = self.decoder(z_q, self.stft_shape)
        # The inverse STFT has no bf16/fp16 kernel; decode the image in its own precision.
        return u_hat, istft(u_hat.float(), self.n_fft, self.n_timepoints)

    def _branch(self, x, u, z, generator) -> VQVAEOutput:
        quantized = self.quantizer(z, generator)
        u_hat, x_hat = self.decode(quantized.z_q)
        return VQVAEOutput(x=x, x_hat=x_hat, u=u, u_hat=u_hat, quantized=quantized)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VQVAEOutput:
        u, z = self.encode(x)
        return self._branch(x, u, z, generator)


class BarlowTwinsVQVAE(VQVAE):
    """Two augmented views through the shared encoder; Barlow Twins loss on pre-quantized z.

    By default (``view_batchnorm="joint"``) both views and, for ``recon_target="clean"``,
    the clean series go through the encoder as one batch, so every BatchNorm normalises over
    the mix and updates once per step. ``"separate"`` encodes the reconstruction input alone
    (its batch sets the running statistics that inference uses) and then the two views as
    one batch normalised by their own statistics, which leave the running ones untouched.
    Only the reconstruction branch is quantized and decoded. Without the Barlow Twins term
    (``barlow_twins=False``, the net's γ = 0) only that branch is encoded at all.

    Parameters
    ----------
    projector_dims : sequence of int
        Projector widths (reference ``(4096, 4096, 4096)``).
    recon_target : {"random_view", "first_view", "clean"}
        What the VQ-VAE branch reconstructs: a view chosen at random each step (reference
        code), the first view (thesis text) or the un-augmented series.
    augmenter : object with ``two_views(x, generator=...)`` or None
        Makes the two views; None uses the series itself for both.
    view_batchnorm : {"joint", "separate"}
        Whether the encoder's BatchNorms see the views and the reconstruction input as one
        batch or the reconstruction input alone (see above).
    **kwargs
        Passed to :class:`VQVAE` (``codebook_size``, ``n_quantizers``, ``quantizer_dropout``...).
    """

    def __init__(self, n_channels: int, n_timepoints: int, *,
                 projector_dims: Sequence[int] = (4096, 4096, 4096),
                 recon_target: str = "random_view", augmenter: TwoViews | None = None,
                 view_batchnorm: str = "joint", generator: torch.Generator | None = None,
                 **kwargs):
        generator = generator if generator is not None else torch.Generator()
        super().__init__(n_channels, n_timepoints, generator=generator, **kwargs)
        if recon_target not in RECON_TARGETS:
            raise ValueError(f"recon_target must be one of {RECON_TARGETS}, got {recon_target!r}")
        if view_batchnorm not in VIEW_BATCHNORMS:
            raise ValueError(f"view_batchnorm must be one of {VIEW_BATCHNORMS}, "
                             f"got {view_batchnorm!r}")
        self.recon_target, self.augmenter = recon_target, augmenter
        self.view_batchnorm = view_batchnorm
        with torch.random.fork_rng(devices=[]):
            self.projector = Projector(self.latent_shape[0], projector_dims)
        reset_parameters(self.projector, generator)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None,
                barlow_twins: bool = True) -> BarlowTwinsOutput:
        b = x.shape[0]
        if self.training and self.augmenter is not None:
            x_a, x_b = self.augmenter.two_views(x, generator=generator)
        else:
            x_a, x_b = x, x
        inputs = [x_a, x_b] + ([x] if self.recon_target == "clean" else [])
        if self.recon_target == "clean":
            pick = 2
        elif self.recon_target == "first_view":
            pick = 0
        else:
            pick = int(torch.randint(2, (1,), generator=generator))
        if not barlow_twins:
            # γ = 0: the views are still drawn (same random stream), but only the
            # reconstruction branch is encoded: a plain VQ-VAE on augmented data.
            u, z = self.encode(inputs[pick])  # (B, 2C, F, T), (B, D, F, T')
            out = self._branch(inputs[pick], u, z, generator)
            return BarlowTwinsOutput(**vars(out), projections=None)
        if self.view_batchnorm == "separate":
            u, z = self.encode(inputs[pick])  # (B, 2C, F, T), (B, D, F, T')
            out = self._branch(inputs[pick], u, z, generator)
            with frozen_running_stats(self.encoder):
                _, z_views = self.encode(torch.cat(inputs[:2]))  # (2B, D, F, T')
        else:
            u, z = self.encode(torch.cat(inputs))  # (nB, 2C, F, T), (nB, D, F, T')
            part = slice(pick * b, (pick + 1) * b)
            out = self._branch(inputs[pick], u[part], z[part], generator)
            z_views = z[: 2 * b]  # (2B, D, F, T')
        projections = None
        # BatchNorm in the projector and the batch standardisation need two or more samples.
        if b > 1:
            p = self.projector(z_views)  # (2B, P)
            projections = (p[:b], p[b:])
        return BarlowTwinsOutput(**vars(out), projections=projections)
