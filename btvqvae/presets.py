"""Named parameter sets: the thesis' reference configuration, one call away from the defaults.

>>> from btvqvae import BarlowTwinsVQVAETransformer
>>> from btvqvae.presets import reference_params
>>> thesis_model = BarlowTwinsVQVAETransformer(**reference_params("bt"), gamma=1.0)
"""

from __future__ import annotations

__all__ = ["reference_params"]

_REFERENCE_COMMON = dict(
    n_fft=8, hidden_dim=64, codebook_size=32, code_dim=None, n_res_blocks=4,
    downsampled_width=8, commitment_weight=1.0, ema_decay=0.8, kmeans_init=False,
    dead_code_threshold=0.0, center_latents=False, n_quantizers=1, quantizer_dropout=False,
    max_steps=None, max_epochs=1500,
    batch_size=128, lr=1e-3, weight_decay=1e-3, precision="float32",
)

_REFERENCE_BT = dict(
    lambd=0.005, projector_dims=(4096, 4096, 4096), augmentations="reference",
    recon_target="random_view", view_batchnorm="joint",
)


def reference_params(model: str = "bt", *, frozen_projector: bool = False) -> dict:
    """Parameters reproducing the reference code (SPEC §3–5) for ``"vqvae"`` or ``"bt"``.

    ``frozen_projector=True`` also reproduces the reference's defect of never optimising the
    projector; by default it trains, as the method describes.
    """
    if model == "vqvae":
        return dict(_REFERENCE_COMMON)
    if model == "bt":
        return {**_REFERENCE_COMMON, **_REFERENCE_BT, "train_projector": not frozen_projector}
    raise ValueError(f"model must be 'vqvae' or 'bt', got {model!r}")
