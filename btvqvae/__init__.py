"""Discrete token representations of time series with (Barlow Twins) STFT VQ-VAEs."""

from ._storage import CorruptModelError
from ._validation import DataTypeError
from ._version import __version__
from .datasets import DatasetNotFoundError, load_ucr
from .estimators import BarlowTwinsVQVAETransformer, VQVAETransformer
from .training import NonFiniteLossError

__all__ = [
    "BarlowTwinsVQVAETransformer", "CorruptModelError", "DataTypeError",
    "DatasetNotFoundError", "NonFiniteLossError", "VQVAETransformer", "__version__",
    "load_ucr",
]
