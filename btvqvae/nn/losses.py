"""Loss terms as small pure functions of tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["LOSS_COMPONENTS", "barlow_twins_loss", "cross_correlation", "off_diagonal"]

#: Named terms of the training loss, in the order they are recorded per batch.
LOSS_COMPONENTS = ("time_mse", "tf_mse", "commitment", "barlow_twins")


def off_diagonal(matrix: torch.Tensor) -> torch.Tensor:
    """The off-diagonal entries of a square matrix, flattened."""
    n = matrix.shape[0]
    return matrix.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def cross_correlation(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Batch cross-correlation ``(D, D)`` of two ``(B, D)`` embeddings.

    Each feature is standardised over the batch (biased std, ``eps`` added so a constant
    feature gives zeros instead of NaN), then ``C = ãᵀ b̃ / B``.
    """
    a = (a - a.mean(0)) / (a.std(0, unbiased=False) + eps)
    b = (b - b.mean(0)) / (b.std(0, unbiased=False) + eps)
    return a.t() @ b / a.shape[0]


def barlow_twins_loss(a: torch.Tensor, b: torch.Tensor, lambd: float = 0.005,
                      eps: float = 1e-5) -> torch.Tensor:
    """Barlow Twins objective divided by the feature dimension (thesis eq. 4.7).

    ``(Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²) / D`` with ``C`` from :func:`cross_correlation`.
    """
    # Low-precision (bf16) embeddings are correlated in float32 at least.
    dtype = torch.promote_types(a.dtype, torch.float32)
    c = cross_correlation(a.to(dtype), b.to(dtype), eps)
    on_diag = (1 - torch.diagonal(c)).pow(2).sum()
    off_diag = off_diagonal(c).pow(2).sum()
    return (on_diag + lambd * off_diag) / c.shape[0]


def vqvae_loss(out, *, commitment_weight: float = 1.0, gamma: float = 0.0,
               lambd: float = 0.005) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The training loss of a (Barlow Twins) VQ-VAE from its forward's named output.

    ``MSE(x, x̂) + MSE(u, û) + β·MSE(z, sg[z_q]) + γ·L_BT`` (thesis eq. 4.1–4.8), with
    β = ``commitment_weight``, γ = ``gamma`` and λ = ``lambd`` inside :func:`barlow_twins_loss`.
    The BT term is 0 when ``out`` carries no ``projections`` (plain VQ-VAE, γ = 0, or a batch
    of one). Terms are computed in float32 at least, whatever precision the forward ran in.

    Returns
    -------
    total : scalar tensor
    components : dict
        Each term of :data:`LOSS_COMPONENTS` before weighting.
    """
    time_mse = F.mse_loss(out.x_hat, out.x.to(out.x_hat.dtype))
    tf_mse = F.mse_loss(out.u_hat.float(), out.u.float())
    commitment = out.quantized.commitment.float()
    projections = getattr(out, "projections", None)
    if projections is None:
        bt = torch.zeros((), device=time_mse.device)
    else:
        bt = barlow_twins_loss(*projections, lambd=lambd)
    total = time_mse + tf_mse + commitment_weight * commitment + gamma * bt
    return total, dict(zip(LOSS_COMPONENTS, (time_mse, tf_mse, commitment, bt)))
