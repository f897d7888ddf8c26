"""Vector quantizer with an exponential-moving-average codebook (SPEC §3).

Buffers (all saved in the state dict):

``codebook``      ``(K, D)`` the code vectors, initialised N(0, 1).
``cluster_size``  ``(K,)`` EMA of how many vectors each code received (starts at 1, so an
                  unused code keeps its vector instead of being divided by ~0).
``embed_avg``     ``(K, D)`` EMA of the sum of vectors assigned to each code.
``initialized``   whether the optional k-means initialisation has run.
``latent_mean``   ``(D, F, T)`` only with ``center_shape``: EMA mean of the latents at each
                  position, subtracted before the nearest-code search and added back to the
                  codes (a token then means "this deviation from the usual latent here").

The buffers change only in training mode; evaluation never moves the codebook.

:class:`ResidualVectorQuantizer` stacks S such quantizers: stage s quantizes what stages < s
left over, and the quantized latent is the sum of the stage codes (SoundStream, EnCodec).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Quantized", "ResidualVectorQuantizer", "VectorQuantizer", "kmeans",
           "make_quantizer"]


@dataclass
class Quantized:
    z_q: torch.Tensor         # (B, D, F, T) straight-through quantized latents
    indices: torch.Tensor     # (B, F, T) code ids in [0, K); (B, S, F, T) for S stages
    commitment: torch.Tensor  # scalar MSE(z, sg[z_q])


def _nearest(flat: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Index of the nearest code (squared Euclidean) for each row of ``flat`` ``(N, D)``."""
    # ||f - c||² = ||f||² - 2 f·c + ||c||²; the first term does not change the argmin.
    scores = torch.addmm((codebook * codebook).sum(1), flat, codebook.t(), alpha=-2.0)  # (N, K)
    return scores.min(dim=1).indices  # the first minimum, as argmin; faster on CPU


def kmeans(data: torch.Tensor, k: int, n_iter: int, generator: torch.Generator) -> torch.Tensor:
    """Lloyd's k-means on ``(N, D)`` rows, seeded by ``generator``; returns ``(k, D)`` centres.

    Starting centres are distinct random rows (drawn with replacement when N < k); a centre
    that loses all its points keeps its previous position.
    """
    n = data.shape[0]
    if n >= k:
        start = torch.randperm(n, generator=generator)[:k]
    else:
        start = torch.randint(n, (k,), generator=generator)
    centres = data[start.to(data.device)].clone()
    for _ in range(n_iter):
        assign = _nearest(data, centres)
        sums = torch.zeros_like(centres).index_add_(0, assign, data)
        counts = torch.bincount(assign, minlength=k).to(data.dtype)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


class VectorQuantizer(nn.Module):
    """Nearest-code quantizer with straight-through gradients and an EMA codebook.

    Parameters
    ----------
    codebook_size : int
        Number of codes K.
    dim : int
        Code dimension D (channels of the encoder output).
    decay : float
        EMA decay of the codebook statistics (reference 0.8).
    eps : float
        Laplace smoothing of the cluster sizes (reference 1e-5).
    kmeans_init : bool
        Replace the N(0, 1) codes by k-means centres of the first training batch.
    kmeans_iters : int
        Lloyd iterations of that initialisation.
    dead_code_threshold : float
        After each update, codes whose EMA cluster size is below this value are moved onto
        random encoder outputs of the batch. 0 disables it (reference behaviour).
    center_shape : (F, T) or None
        Latent grid size; when given, quantize each latent's deviation from the EMA mean of
        its grid position (first training batch, then the codebook's decay) instead of the
        latent itself. None is the reference behaviour.
    """

    def __init__(self, codebook_size: int, dim: int, *, decay: float = 0.8, eps: float = 1e-5,
                 kmeans_init: bool = False, kmeans_iters: int = 10,
                 dead_code_threshold: float = 0.0,
                 center_shape: tuple[int, int] | None = None):
        super().__init__()
        self.codebook_size, self.dim = codebook_size, dim
        self.decay, self.eps = decay, eps
        self.kmeans_init, self.kmeans_iters = kmeans_init, kmeans_iters
        self.dead_code_threshold = dead_code_threshold
        self.register_buffer("codebook", torch.zeros(codebook_size, dim))
        self.register_buffer("cluster_size", torch.ones(codebook_size))
        self.register_buffer("embed_avg", torch.zeros(codebook_size, dim))
        self.register_buffer("initialized", torch.tensor(not kmeans_init))
        self.centered = center_shape is not None
        if self.centered:
            self.register_buffer("latent_mean", torch.zeros(dim, *center_shape))
            self.register_buffer("mean_initialized", torch.tensor(False))

    def reset_codebook(self, generator: torch.Generator) -> None:
        """Draw the codes from N(0, 1) with ``generator`` and reset the EMA statistics."""
        codes = torch.randn(self.codebook_size, self.dim, generator=generator)
        self._set_codes(codes.to(self.codebook.device))
        self.initialized.fill_(not self.kmeans_init)
        if self.centered:
            self.latent_mean.zero_()
            self.mean_initialized.fill_(False)

    @torch.no_grad()
    def _set_codes(self, codes: torch.Tensor) -> None:
        self.codebook.copy_(codes)
        self.embed_avg.copy_(codes)
        self.cluster_size.fill_(1.0)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Code ids ``(B, F, T)`` → code vectors ``(B, D, F, T)`` (plus the position means)."""
        codes = F.embedding(indices, self.codebook).permute(0, 3, 1, 2)
        return codes + self.latent_mean if self.centered else codes

    def forward(self, z: torch.Tensor, generator: torch.Generator | None = None) -> Quantized:
        indices, codes = self.quantize(z, generator)
        commitment = F.mse_loss(z, codes.detach())
        z_q = z + (codes - z).detach()  # straight-through estimator
        return Quantized(z_q=z_q, indices=indices, commitment=commitment)

    def quantize(self, z: torch.Tensor, generator: torch.Generator | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Latents ``(B, D, F, T)`` → (code ids ``(B, F, T)``, code vectors ``(B, D, F, T)``).

        No gradient flows through the result. In training mode the buffers update first
        (position mean, k-means initialisation, EMA, dead-code restarts), drawing from
        ``generator``; the vectors are the updated codes.
        """
        b, d, f, t = z.shape
        target = z.detach().float()
        if self.centered:
            if self.training:
                self._update_mean(target)
            target = target - self.latent_mean
        flat = target.permute(0, 2, 3, 1).reshape(-1, d)  # (B*F*T, D)
        indices = self._nearest_updating(flat, generator).reshape(b, f, t)
        return indices, self.lookup(indices).to(z.dtype)  # (B, F, T), (B, D, F, T)

    def quantize_rows(self, rows: torch.Tensor, generator: torch.Generator | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """Float vectors ``(N, D)`` → (code ids ``(N,)``, code vectors ``(N, D)``).

        :meth:`quantize` without the grid: no permutation to and from ``(B, D, F, T)``,
        which is what the residual stages, chained, spend most of their time on. Only for an
        uncentred quantizer (centring needs the grid positions).
        """
        if self.centered:
            raise ValueError("a centred quantizer needs the grid: use quantize(z)")
        indices = self._nearest_updating(rows, generator)
        return indices, F.embedding(indices, self.codebook)

    def _nearest_updating(self, flat: torch.Tensor, generator: torch.Generator | None
                          ) -> torch.Tensor:
        """Nearest code of each row; in training, k-means init runs before, the EMA after."""
        if self.training and not bool(self.initialized):
            self._kmeans_init(flat, generator)
        indices = _nearest(flat, self.codebook)  # (N,)
        if self.training:
            self._ema_update(flat, indices, generator)
        return indices

    @torch.no_grad()
    def _update_mean(self, z: torch.Tensor) -> None:
        batch_mean = z.mean(dim=0)  # (D, F, T)
        if bool(self.mean_initialized):
            self.latent_mean.mul_(self.decay).add_(batch_mean, alpha=1 - self.decay)
        else:
            self.latent_mean.copy_(batch_mean)
            self.mean_initialized.fill_(True)

    @torch.no_grad()
    def _kmeans_init(self, flat: torch.Tensor, generator: torch.Generator | None) -> None:
        generator = generator if generator is not None else torch.Generator()
        self._set_codes(kmeans(flat, self.codebook_size, self.kmeans_iters, generator))
        self.initialized.fill_(True)

    @torch.no_grad()
    def _ema_update(self, flat: torch.Tensor, indices: torch.Tensor,
                    generator: torch.Generator | None) -> None:
        counts = torch.bincount(indices, minlength=self.codebook_size).to(flat.dtype)  # (K,)
        sums = torch.zeros_like(self.embed_avg).index_add_(0, indices, flat)  # (K, D)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_avg.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (total + self.codebook_size * self.eps) * total
        self.codebook.copy_(self.embed_avg / smoothed[:, None])
        if self.dead_code_threshold > 0:
            self._restart_dead_codes(flat, generator)

    @torch.no_grad()
    def _restart_dead_codes(self, flat: torch.Tensor, generator: torch.Generator | None) -> None:
        dead = torch.nonzero(self.cluster_size < self.dead_code_threshold).flatten()
        if dead.numel() == 0:
            return
        generator = generator if generator is not None else torch.Generator()
        pick = torch.randint(flat.shape[0], (dead.numel(),), generator=generator)
        new = flat[pick.to(flat.device)]
        self.codebook[dead] = new
        self.embed_avg[dead] = new
        self.cluster_size[dead] = 1.0


class ResidualVectorQuantizer(nn.Module):
    """S :class:`VectorQuantizer` stages, each quantizing the residual the earlier ones left.

    Stage 0 quantizes the latent (its deviation from the position mean with ``center_shape``),
    stage s the remainder ``z - Σ_{j<s} codes_j``; each stage keeps its own EMA codebook,
    k-means initialisation and dead-code restarts. ``z_q = Σ_s codes_s`` with one
    straight-through gradient and one commitment term ``MSE(z, sg[z_q])``. Indices are
    ``(B, S, F, T)``; the first s stages alone already give a coarser ``z_q`` (:meth:`lookup`
    accepts any leading number of stages).

    Parameters
    ----------
    n_quantizers : int
        Number of stages S.
    codebook_size, dim, decay, eps, kmeans_init, kmeans_iters, dead_code_threshold
        Per stage, see :class:`VectorQuantizer`.
    center_shape : (F, T) or None
        Centring of stage 0 only; later stages quantize residuals, which have no mean to keep.
    dropout : bool
        Quantizer dropout: in training, each batch uses only the first s stages, s drawn
        uniformly from 1..S with the ``generator`` passed to :meth:`forward`; the unused
        stages neither update nor contribute. Without a generator, and in evaluation, every
        stage is used.
    """

    def __init__(self, n_quantizers: int, codebook_size: int, dim: int, *, decay: float = 0.8,
                 eps: float = 1e-5, kmeans_init: bool = False, kmeans_iters: int = 10,
                 dead_code_threshold: float = 0.0,
                 center_shape: tuple[int, int] | None = None, dropout: bool = False):
        super().__init__()
        if n_quantizers < 1:
            raise ValueError(f"n_quantizers must be at least 1, got {n_quantizers}")
        self.n_quantizers, self.codebook_size, self.dim = n_quantizers, codebook_size, dim
        self.dropout = dropout
        self.stages = nn.ModuleList(
            VectorQuantizer(codebook_size, dim, decay=decay, eps=eps, kmeans_init=kmeans_init,
                            kmeans_iters=kmeans_iters, dead_code_threshold=dead_code_threshold,
                            center_shape=center_shape if s == 0 else None)
            for s in range(n_quantizers))

    @property
    def centered(self) -> bool:
        return self.stages[0].centered

    def reset_codebook(self, generator: torch.Generator) -> None:
        """Reset every stage in order, all drawing from ``generator``."""
        for stage in self.stages:
            stage.reset_codebook(generator)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Code ids ``(B, s, F, T)``, s ≤ S → the sum of the first s stages' codes ``(B, D, F, T)``.

        Stage 0's codes carry the position means, so the sum is a latent again.
        """
        if indices.dim() != 4 or not 1 <= indices.shape[1] <= self.n_quantizers:
            raise ValueError(f"indices must have shape (B, s, F, T) with 1 <= s <= "
                             f"{self.n_quantizers} stages, got {tuple(indices.shape)}")
        b, _, f, t = indices.shape
        first = self.stages[0]
        # summed as rows (B·F·T, D) in stage order: the grid's sums to the bit, without a
        # permuted operand per stage (a centred stage 0 adds its means on the grid)
        if first.centered:
            total = first.lookup(indices[:, 0]).permute(0, 2, 3, 1).reshape(b * f * t, -1)
        else:
            total = F.embedding(indices[:, 0].reshape(-1), first.codebook)
        for s in range(1, indices.shape[1]):
            total.add_(F.embedding(indices[:, s].reshape(-1), self.stages[s].codebook))
        # left permuted, as the per-stage sum was: the decoder's convolutions round by layout
        return total.view(b, f, t, -1).permute(0, 3, 1, 2)

    def forward(self, z: torch.Tensor, generator: torch.Generator | None = None) -> Quantized:
        b, d, f, t = z.shape
        grid = z.detach().float()  # (B, D, F, T)
        # the stages chain on rows (B·F·T, D), one permutation in and one out; the sums run
        # in the same order as on the grid, so the result is the same to the bit
        # (a copy always: the stages subtract in place, and a reshape could be a view of z)
        residual = grid.permute(0, 2, 3, 1).clone(memory_format=torch.contiguous_format)
        residual = residual.view(-1, d)
        total = torch.zeros_like(residual)
        indices = []
        for stage in self.stages[: self._n_used(generator)]:
            if stage.centered:  # stage 0 only: its position means need the grid
                ids, codes = stage.quantize(grid, generator)  # (B, F, T), (B, D, F, T)
                ids, codes = ids.reshape(-1), codes.permute(0, 2, 3, 1).reshape(-1, d)
            else:
                ids, codes = stage.quantize_rows(residual, generator)  # (N,), (N, D)
            residual.sub_(codes)  # in place: a fresh tensor that no stage keeps
            total.add_(codes)
            indices.append(ids.reshape(b, f, t))
        codes = total.reshape(b, f, t, d).permute(0, 3, 1, 2).contiguous().to(z.dtype)
        commitment = F.mse_loss(z, codes)
        z_q = z + (codes - z).detach()  # straight-through estimator on the sum
        return Quantized(z_q=z_q, indices=torch.stack(indices, dim=1), commitment=commitment)

    def _n_used(self, generator: torch.Generator | None) -> int:
        if not (self.training and self.dropout and generator is not None):
            return self.n_quantizers
        return int(torch.randint(1, self.n_quantizers + 1, (1,), generator=generator))


def make_quantizer(n_quantizers: int, codebook_size: int, dim: int, *, dropout: bool = False,
                   **kwargs) -> VectorQuantizer | ResidualVectorQuantizer:
    """One :class:`VectorQuantizer` for S = 1 (the reference, and the state-dict layout of
    models saved before residual stages), else a :class:`ResidualVectorQuantizer`.

    ``kwargs`` are the per-stage options of :class:`VectorQuantizer`; ``dropout`` (quantizer
    dropout) means nothing for a single stage and is ignored there.
    """
    if n_quantizers == 1:
        return VectorQuantizer(codebook_size, dim, **kwargs)
    return ResidualVectorQuantizer(n_quantizers, codebook_size, dim, dropout=dropout, **kwargs)
