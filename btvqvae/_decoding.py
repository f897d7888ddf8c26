"""Decoding, the way back from features to series, shared by both estimators.

:class:`DecodingMixin` gives :class:`~btvqvae._base.BaseVQVAETransformer` its
``inverse_transform`` and ``reconstruct``: it checks the features against the fitted read-out
and hands them to the net (:meth:`btvqvae.training.VQVAENet.decode`), which undoes the scaling.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from ._validation import DataTypeError, as_array, check_series, check_token_ids
from .pretrained import restore_levels
from .readouts import READOUTS

__all__ = ["DecodingMixin"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


class DecodingMixin:
    """``inverse_transform`` and ``reconstruct`` of a fitted btvqvae estimator."""

    def inverse_transform(self, Z: ArrayLike) -> np.ndarray:
        """Decode ``"embedding"``, ``"tokens"``, ``"latent"`` or ``"sequence"`` output to series.

        Parameters
        ----------
        Z : array-like of shape (n_cases, n_features_out)
            Output of :meth:`transform` (possibly edited: any code ids in
            ``[0, codebook_size)``, any finite embedding); ``"sequence"`` output is 3-D,
            ``(n_cases, code_dim * freq, time)``.

        Returns
        -------
        X : ndarray
            Series in the rank, dtype and scale of the training input.
        """
        check_is_fitted(self)
        if READOUTS[self.output].decode is None:
            decodable = [name for name, r in READOUTS.items() if r.decode is not None]
            raise ValueError(f"output={self.output!r} cannot be decoded "
                             f"({READOUTS[self.output].summary}); use output= one of "
                             f"{decodable} to reconstruct series")
        return self._decode(Z, self.output)

    def reconstruct(self, X: ArrayLike) -> np.ndarray:
        """Encode and decode X, whatever ``output`` is: ``inverse_transform(transform(X))``.

        With a pretrained tokenizer (``init``), whose tokens hold each channel's shape but
        not its level and spread, the decoded series get X's own level and spread back.
        """
        check_is_fitted(self)
        X = check_series(self, X, reset=False)
        self._check_scaled_range(X)
        decoded = self._decode(self.net_.encode(X, "tokens"), "tokens")
        if getattr(self, "pretrained_", None) is None:
            return decoded
        restored = restore_levels(decoded.reshape(X.shape), X, self.mean_, self.scale_)
        restored = restored.astype(self.dtype_)
        return restored[:, 0, :] if self.input_ndim_ == 2 else restored

    def _decode(self, Z: ArrayLike, output: str) -> np.ndarray:
        readout = READOUTS[output]
        module = self.net_.module_
        shape = ((readout.n_features(module),) if readout.shape is None
                 else tuple(readout.shape(module)))
        Z = np.asarray(as_array(Z, name="Z"))
        if Z.shape[1:] != shape:
            expected = ", ".join(map(str, ("n_cases", *shape)))
            raise ValueError(f"Z must have shape ({expected}) as produced by transform "
                             f"with output={output!r}, got {Z.shape}")
        if readout.integer and Z.size:
            Z, _ = check_token_ids(Z, self.net_.module_.codebook_size, whole_floats=True)
        else:
            if Z.dtype.kind not in "iuf":
                raise DataTypeError(f"Z holds {Z.dtype} values; inverse_transform takes the "
                                    f"real {output} features transform returns")
            if not np.all(np.isfinite(Z)):
                raise ValueError("Z contains NaN or infinity")
            if Z.size and float(np.max(np.abs(Z))) > _FLOAT32_MAX:
                raise ValueError(f"Z holds values beyond float32's range ({_FLOAT32_MAX:.3g}), "
                                 "which the decoder computes in")
        X = self.net_.decode(Z, output).astype(self.dtype_, copy=False)
        return X[:, 0, :] if self.input_ndim_ == 2 else X
