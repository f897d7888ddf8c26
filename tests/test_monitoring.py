import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer
from btvqvae.evaluation import EVALUATE_KEYS, evaluate
from btvqvae.monitoring import Monitor
from btvqvae.training import VQVAENet

TINY = dict(hidden_dim=8, n_res_blocks=1, codebook_size=8, max_epochs=4, batch_size=16,
            random_state=0)
FAST = {"n_repeats": 1}
KEYS = [f"monitor_{key}" for key in EVALUATE_KEYS]
INITIAL_KEYS = [f"monitor_initial_{key}" for key in EVALUATE_KEYS]


def _sines_and_squares(n, seed):
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, 32)
    y = np.arange(n) % 2
    wave = np.sin(2 * np.pi * 3 * t + rng.uniform(0, 2 * np.pi, (n, 1)))  # (n, 32)
    X = np.where(y[:, None] == 0, wave, np.sign(wave)) + 0.1 * rng.standard_normal((n, 32))
    return X[:, None, :], y


@pytest.fixture(scope="module")
def data():
    X_train, y_train = _sines_and_squares(40, seed=1)
    X_test, y_test = _sines_and_squares(40, seed=2)
    return X_train, y_train, X_test, y_test


class TrainingFlags(Callback):
    """Records ``module.training`` at the start of every training batch, per epoch."""

    def initialize(self):
        self.flags_ = {}
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.flags_.setdefault(len(net.history), []).append(net.module_.training)


class LeakyEvaluation(Callback):
    """What the reference did: push the data through the model in *training* mode."""

    def __init__(self, X):
        self.X = X

    def on_epoch_end(self, net, **kwargs):
        with torch.no_grad():
            net.module_(torch.as_tensor(self.X, dtype=torch.float32))


class StopAfter(Callback):
    """Interrupts training after ``epoch`` epochs, as Ctrl-C would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def _statistics(module):
    """Deep copies of the quantizer buffers and every BatchNorm's running statistics."""
    names = ("codebook", "cluster_size", "embed_avg", "running_mean", "running_var",
             "num_batches_tracked")
    state = {k: v.clone() for k, v in module.state_dict().items() if k.endswith(names)}
    assert any(k.endswith("running_mean") for k in state)  # the model has BatchNorms
    assert any(k.endswith("codebook") for k in state)
    return state


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    changed = [k for k in a if not torch.equal(a[k], b[k])]
    assert not changed, f"changed: {changed}"


def _monitored_keys(row):
    return sorted(k for k in row if k.startswith("monitor_"))


@pytest.mark.parametrize("training", [False, True])
def test_evaluate_leaves_codebook_and_batchnorm_statistics_untouched(data, training):
    X_train, y_train, X_test, y_test = data
    est = VQVAETransformer(**TINY).fit(X_train)
    module = est.net_.module_
    module.train(training)  # True: as in the middle of training
    before = copy.deepcopy(module.state_dict())
    statistics = _statistics(module)

    evaluate(est, X_train, y_train, X_test, y_test, n_repeats=1, random_state=0)

    _assert_same_state(statistics, _statistics(module))
    _assert_same_state(before, module.state_dict())
    assert module.training is training
    assert all(m.training is training for m in module.modules())


@pytest.fixture(scope="module")
def monitored(data):
    X_train, y_train, X_test, y_test = data
    monitor = Monitor(X_train, y_train, X_test, y_test, epochs=(0, 2), evaluate_kwargs=FAST)
    flags = TrainingFlags()
    est = VQVAETransformer(callbacks=[monitor, flags], **TINY).fit(X_train)
    return est, monitor, flags


def test_metrics_are_recorded_at_exactly_the_scheduled_epochs(monitored):
    est, monitor, _ = monitored
    history = est.net_.history
    assert len(history) == 4
    assert _monitored_keys(history[0]) == sorted(INITIAL_KEYS)  # epoch 0, before training
    assert _monitored_keys(history[1]) == sorted(KEYS)          # epoch 2
    assert _monitored_keys(history[2]) == []                    # epoch 3: not scheduled
    assert _monitored_keys(history[3]) == sorted(KEYS)          # epoch 4: the last
    assert [row["epoch"] for row in monitor.monitor_history_] == [0, 2, 4]


def test_history_and_monitor_history_hold_the_same_metrics(monitored):
    est, monitor, _ = monitored
    initial, second, last = monitor.monitor_history_
    history = est.net_.history
    for key in EVALUATE_KEYS:
        np.testing.assert_equal(history[0, f"monitor_initial_{key}"], initial[key])
        np.testing.assert_equal(history[1, f"monitor_{key}"], second[key])
        np.testing.assert_equal(history[3, f"monitor_{key}"], last[key])
    assert initial["codebook_size"] == 8 and initial["embedding_dim"] > 0
    assert 0.0 <= last["svc_linear"] <= 1.0


def test_module_trains_in_training_mode_after_each_evaluation(monitored):
    _, _, flags = monitored
    assert sorted(flags.flags_) == [1, 2, 3, 4]
    assert all(all(epoch_flags) for epoch_flags in flags.flags_.values())


def test_fitted_estimator_with_a_monitor_pickles_and_clones(monitored, data):
    est, _, _ = monitored
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.encode(data[2], "tokens"),
                                  est.encode(data[2], "tokens"))
    assert isinstance(clone(est).callbacks[0], Monitor)


@pytest.mark.parametrize("make", [
    lambda **kw: VQVAETransformer(**TINY, **kw),
    lambda **kw: BarlowTwinsVQVAETransformer(projector_dims=(8, 8), **TINY, **kw),
], ids=["vqvae", "bt-vqvae"])
def test_monitoring_does_not_change_training(data, make):
    X_train, y_train, X_test, y_test = data
    monitor = Monitor(X_train, y_train, X_test, y_test, every=1, evaluate_kwargs=FAST)
    plain = make().fit(X_train)
    watched = make(callbacks=[monitor]).fit(X_train)

    assert [row["epoch"] for row in monitor.monitor_history_] == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(watched.encode(X_test, "tokens"),
                                  plain.encode(X_test, "tokens"))
    _assert_same_state(plain.net_.module_.state_dict(), watched.net_.module_.state_dict())
    assert watched.loss_curve_ == plain.loss_curve_


def test_a_training_mode_evaluation_would_be_caught(data):
    # The check above is sensitive: the reference's leak changes the trained model.
    X_train = data[0]
    plain = VQVAETransformer(**TINY).fit(X_train)
    leaky = VQVAETransformer(callbacks=[LeakyEvaluation(X_train)], **TINY).fit(X_train)
    sizes = [est.net_.module_.state_dict()["quantizer.stages.0.cluster_size"]
             for est in (plain, leaky)]
    assert not torch.equal(*sizes)  # the default residual quantizer's first stage moved


def test_every_schedules_multiples_starting_at_epoch_zero(data):
    X_train, y_train, X_test, y_test = data
    monitor = Monitor(X_train, y_train, X_test, y_test, epochs=(), every=3, at_end=False,
                      evaluate_kwargs=FAST)
    est = VQVAETransformer(callbacks=[monitor], **TINY).fit(X_train)
    assert [row["epoch"] for row in monitor.monitor_history_] == [0, 3]
    assert [len(_monitored_keys(row)) for row in est.net_.history] == [len(KEYS), 0,
                                                                       len(KEYS), 0]


def test_thesis_schedule_is_every_300_epochs_plus_the_last():
    monitor = Monitor(None, None, None, None, every=300).initialize()
    scheduled = [e for e in range(1300) if monitor.is_scheduled(e)]
    assert scheduled == [0, 300, 600, 900, 1200]  # the last epoch comes from at_end=True
    assert monitor.at_end


def test_interrupted_training_is_evaluated_where_it_stopped(data):
    X_train, y_train, X_test, y_test = data
    monitor = Monitor(X_train, y_train, X_test, y_test, epochs=(), evaluate_kwargs=FAST)
    est = VQVAETransformer(callbacks=[StopAfter(2), monitor], **TINY).fit(X_train)
    assert [row["epoch"] for row in monitor.monitor_history_] == [2]
    assert [len(_monitored_keys(row)) for row in est.net_.history] == [0, len(KEYS)]


def test_monitor_without_a_btvqvae_estimator_fails_before_training(data):
    X_train, y_train, X_test, y_test = data
    module = VQVAETransformer(**TINY).fit(X_train).net_.module_
    flags = TrainingFlags()
    net = VQVAENet(module, criterion=torch.nn.MSELoss, max_epochs=1, train_split=None,
                   verbose=0,
                   callbacks=[Monitor(X_train, y_train, X_test, y_test), flags])
    with pytest.raises(RuntimeError, match="callbacks=\\[Monitor"):
        net.fit(torch.as_tensor(X_train, dtype=torch.float32), None)
    assert flags.flags_ == {}


@pytest.mark.parametrize("params, error, match", [
    (dict(epochs=(-1,)), ValueError, "non-negative"),
    (dict(epochs=3), TypeError, "iterable"),
    (dict(epochs=(e for e in (0, 2))), TypeError, "list or a tuple"),
    (dict(every=0), ValueError, "every"),
    (dict(at_end="yes"), TypeError, "at_end"),
    (dict(evaluate_kwargs={"n_repeat": 1}), TypeError, "n_repeats"),
])
def test_invalid_schedule_fails_before_training(data, params, error, match):
    X_train, y_train, X_test, y_test = data
    flags = TrainingFlags()
    monitor = Monitor(X_train, y_train, X_test, y_test, **params)
    with pytest.raises(error, match=match):
        VQVAETransformer(callbacks=[flags, monitor], **TINY).fit(X_train)
    assert not getattr(flags, "flags_", {})
