"""Run the thesis' evaluation protocol while a model trains (SPEC §6, last points).

:class:`Monitor` is a skorch callback for the ``callbacks=`` parameter of the btvqvae
estimators. At scheduled epochs it calls :func:`btvqvae.evaluation.evaluate` on a
:class:`NetView`: a small transformer made from what the training net holds (the module, the
input scaling and the output mode the estimator gave it), as skorch callbacks work from the
net alone. The estimator itself is never touched. Evaluation runs inside the net's
``evaluating()`` context (eval mode, ``torch.no_grad``): the codebook, its EMA statistics and
the BatchNorm running statistics do not move, so training with and without a monitor gives
identical models.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np
from sklearn.utils import check_consistent_length
from skorch.callbacks import Callback

from ._validation import as_collection
from .evaluation import EVALUATE_KEYS, evaluate

__all__ = ["Monitor", "NetView"]

_EVALUATE_OPTIONS = tuple(
    name for name, p in inspect.signature(evaluate).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
)


class NetView:
    """The transformer API of a training :class:`~btvqvae.training.VQVAENet`, for evaluation.

    ``transform``, ``encode``, ``reconstruct`` and ``inverse_transform`` behave like the
    estimator's that built the net, on the model as it is now; ``scale_`` and
    ``codebook_size`` are the net's.
    """

    def __init__(self, net):
        if getattr(net, "input_scale", None) is None or not hasattr(net, "encode"):
            raise RuntimeError(
                "Monitor evaluates a net built by a btvqvae estimator (it holds the input "
                "scaling), but this net has none; pass the monitor through the estimator's "
                "parameter, e.g. VQVAETransformer(callbacks=[Monitor(X_train, y_train, "
                "X_test, y_test)])"
            )
        self.net = net
        self.scale_ = net.input_scale
        self.codebook_size = net.module_.codebook_size

    def encode(self, X, output: str | None = None) -> np.ndarray:
        return self.net.encode(as_collection(X)[0], output)

    def transform(self, X) -> np.ndarray:
        return self.encode(X)

    def inverse_transform(self, Z) -> np.ndarray:
        return self.net.decode(np.asarray(Z), None)

    def reconstruct(self, X) -> np.ndarray:
        return self.net.decode(self.encode(X, "tokens"), "tokens")


class Monitor(Callback):
    """Evaluate the estimator being trained at scheduled epochs (SPEC §6, thesis ch. 5).

    An epoch is scheduled when it is listed in ``epochs``, when it is a multiple of ``every``,
    or, with ``at_end``, when it is the last one trained. Epoch ``e >= 1`` is evaluated
    after its training pass (``on_epoch_end``); epoch 0 is the untrained model, evaluated in
    ``on_train_begin``. The thesis' schedule (epochs 0, 300, 600, 900, 1200 and the last)
    is ``Monitor(..., every=300)``.

    Each evaluation runs :func:`btvqvae.evaluation.evaluate` with the module in eval mode
    under ``torch.no_grad`` and puts the module back in the mode it was in: the codebook,
    its EMA statistics, the BatchNorm running statistics and every random generator of the
    training are untouched.

    Parameters
    ----------
    X_train, y_train : array-like
        Series and labels the probes are fitted on (usually the training split).
    X_test, y_test : array-like
        Held-out series and labels the metrics are computed on.
    epochs : iterable of int, default=(0,)
        Epochs to evaluate; 0 is before any training. Epochs beyond the last are ignored.
    every : int or None, default=None
        Also evaluate every ``every`` epochs, starting with epoch 0.
    at_end : bool, default=True
        Also evaluate the final model: after the last epoch, or wherever training stopped
        (early stopping, Ctrl-C).
    prefix : str, default="monitor_"
        Prefix of the keys recorded in ``net.history``.
    evaluate_kwargs : dict or None, default=None
        Keyword arguments of :func:`~btvqvae.evaluation.evaluate` (``n_clusters``,
        ``n_repeats``, ``variance``, ``random_state``). ``random_state`` defaults to 0 so that
        repeated evaluations are comparable and numpy's global RNG is never drawn from.

    Attributes
    ----------
    monitor_history_ : list of dict
        One entry per evaluation, in order: ``{"epoch": e, <key>: value, ...}`` with the
        keys of :data:`~btvqvae.evaluation.EVALUATE_KEYS`. Reset when training starts.

    Notes
    -----
    **Where results go in** ``net.history``: the metrics of epoch ``e >= 1`` are recorded in
    that epoch's row as ``prefix + key`` (``net.history[e - 1]``, whose ``"epoch"`` is
    ``e``). Epoch 0 has no row of its own; its metrics are recorded in the first row as
    ``prefix + "initial_" + key`` so they cannot be mistaken for those of epoch 1. Rows of
    unscheduled epochs hold no monitor keys. ``monitor_history_`` holds the same numbers as
    one list, epoch 0 included.

    The evaluated object is a :class:`NetView` of the net being trained, which needs the
    input scaling a btvqvae estimator gives its net: the callback works only through the
    ``callbacks`` parameter of a btvqvae estimator.

    Examples
    --------
    >>> from aeon.datasets import load_gunpoint
    >>> from btvqvae import VQVAETransformer
    >>> from btvqvae.monitoring import Monitor
    >>> X_train, y_train = load_gunpoint(split="train")
    >>> X_test, y_test = load_gunpoint(split="test")
    >>> monitor = Monitor(X_train, y_train, X_test, y_test, every=2,
    ...                   evaluate_kwargs={"n_repeats": 1})
    >>> est = VQVAETransformer(max_epochs=4, hidden_dim=8, n_res_blocks=1, random_state=0,
    ...                        callbacks=[monitor]).fit(X_train)
    >>> [row["epoch"] for row in monitor.monitor_history_]
    [0, 2, 4]
    >>> knn_1 = est.net_.history[:, "monitor_knn_1"]  # epochs 2 and 4
    """

    def __init__(self, X_train, y_train, X_test, y_test, *, epochs=(0,), every=None,
                 at_end=True, prefix="monitor_", evaluate_kwargs=None):
        self.X_train = X_train
        self.y_train = y_train
        self.X_test = X_test
        self.y_test = y_test
        self.epochs = epochs
        self.every = every
        self.at_end = at_end
        self.prefix = prefix
        self.evaluate_kwargs = evaluate_kwargs

    # -- set-up -----------------------------------------------------------------------------
    def initialize(self):
        self._check_params()
        self.monitor_history_ = []
        self.pending_initial_ = None
        return self

    def _check_params(self) -> None:
        epochs = self.epochs
        if isinstance(epochs, (str, bytes)) or not hasattr(epochs, "__iter__") \
                or iter(epochs) is epochs:  # a generator would be used up after one epoch
            raise TypeError(f"epochs must be an iterable of ints such as a list or a tuple, "
                            f"got {epochs!r}")
        for e in epochs:
            if not isinstance(e, numbers.Integral) or isinstance(e, bool) or e < 0:
                raise ValueError(f"epochs must hold non-negative ints (0 = before training), "
                                 f"got {e!r} in {epochs!r}")
        every = self.every
        if every is not None and (not isinstance(every, numbers.Integral)
                                  or isinstance(every, bool) or every < 1):
            raise ValueError(f"every must be a positive int or None, got {every!r}")
        if not isinstance(self.at_end, bool):
            raise TypeError(f"at_end must be a bool, got {self.at_end!r}")
        if not isinstance(self.prefix, str):
            raise TypeError(f"prefix must be a str, got {self.prefix!r}")
        unknown = set(self.evaluate_kwargs or {}) - set(_EVALUATE_OPTIONS)
        if unknown:
            raise TypeError(f"evaluate_kwargs has unknown keys {sorted(unknown)}; evaluate "
                            f"accepts {list(_EVALUATE_OPTIONS)}")
        check_consistent_length(self.X_train, self.y_train)
        check_consistent_length(self.X_test, self.y_test)

    def is_scheduled(self, epoch: int) -> bool:
        """Whether ``epoch`` is listed in ``epochs`` or is a multiple of ``every``."""
        listed = any(int(e) == epoch for e in self.epochs)
        return listed or (self.every is not None and epoch % self.every == 0)

    # -- skorch hooks -----------------------------------------------------------------------
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        NetView(net)  # fail before training, not after the first scheduled epoch
        if len(net.history) == 0 and self.is_scheduled(0):
            self.pending_initial_ = self._evaluate(net, epoch=0)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        self._flush_initial(net)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        epoch = len(net.history)
        if self.is_scheduled(epoch):
            self._record(net, self._evaluate(net, epoch), self.prefix)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._flush_initial(net)
        epoch = len(net.history)
        done = self.monitor_history_ and self.monitor_history_[-1]["epoch"] == epoch
        if self.at_end and not done:
            metrics = self._evaluate(net, epoch)
            if epoch > 0:
                self._record(net, metrics, self.prefix)

    # -- helpers ----------------------------------------------------------------------------
    def _flush_initial(self, net) -> None:
        if self.pending_initial_ is not None and len(net.history) > 0:
            self._record(net, self.pending_initial_, self.prefix + "initial_")
            self.pending_initial_ = None

    @staticmethod
    def _record(net, metrics: dict[str, Any], prefix: str) -> None:
        for key in EVALUATE_KEYS:
            net.history.record(prefix + key, metrics[key])

    def _evaluate(self, net, epoch: int) -> dict[str, Any]:
        kwargs = {"random_state": 0, **(self.evaluate_kwargs or {})}
        with net.evaluating():
            metrics = evaluate(NetView(net), self.X_train, self.y_train, self.X_test,
                               self.y_test, **kwargs)
        self.monitor_history_.append({"epoch": epoch, **metrics})
        return metrics

    def __repr__(self) -> str:
        # The data would flood an estimator's repr; show how many series it holds instead.
        def n_cases(X):
            return len(X) if hasattr(X, "__len__") else X

        return (f"{type(self).__name__}(n_train={n_cases(self.X_train)}, "
                f"n_test={n_cases(self.X_test)}, epochs={self.epochs!r}, every={self.every!r}, "
                f"at_end={self.at_end!r}, prefix={self.prefix!r})")
