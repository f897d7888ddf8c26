"""Figures for fitted estimators, their tokens, latents, training curves and augmentations.

matplotlib is an optional dependency (``pip install btvqvae[plot]``) and is imported inside the
functions, so ``import btvqvae.plotting`` works without it. Every function draws into the
``ax=`` (one panel) or ``fig=`` (several panels) it is given, or into a new figure, and returns
that ``Axes`` or ``Figure``; nothing is shown or saved.

The figures live in modules by theme and are all importable from here:
:mod:`~btvqvae.plotting.reconstruction` (a series against its reconstruction, in time and
STFT), :mod:`~btvqvae.plotting.tokens` (codebook usage, token grids),
:mod:`~btvqvae.plotting.vocabulary` (what a pretrained tokenizer's codes decode to),
:mod:`~btvqvae.plotting.training` (losses and monitored metrics per epoch),
:mod:`~btvqvae.plotting.latents` (a 2-D map of latents) and
:mod:`~btvqvae.plotting.augmentations` (augmentations and Barlow Twins views).
"""

from __future__ import annotations

from .augmentations import plot_augmentations, plot_views
from .latents import plot_latent_map
from .reconstruction import plot_reconstruction, plot_reconstruction_stft
from .tokens import plot_codebook_usage, plot_token_grid, plot_tokens
from .training import plot_monitored_metrics, plot_training_history
from .vocabulary import plot_vocabulary

__all__ = [
    "plot_augmentations", "plot_codebook_usage", "plot_latent_map", "plot_monitored_metrics",
    "plot_reconstruction", "plot_reconstruction_stft", "plot_token_grid", "plot_tokens",
    "plot_training_history", "plot_views", "plot_vocabulary",
]
