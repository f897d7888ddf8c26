"""Discrete token representations of time series with (Barlow Twins) STFT VQ-VAEs."""

from ._version import __version__
from .estimators import BarlowTwinsVQVAETransformer, VQVAETransformer

__all__ = ["BarlowTwinsVQVAETransformer", "VQVAETransformer", "__version__"]
