"""The two-branch Barlow Twins VQ-VAE: loss assembly, projector control, views, edge cases."""

import numpy as np
import pytest
import torch
from aeon.datasets import load_gunpoint
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC
from skorch.callbacks import Callback

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer
from btvqvae.augmentations import Augmenter
from btvqvae.nn.model import BarlowTwinsVQVAE

from ._helpers import make_tiny, toy_series


def _first_step(est):
    return est.net_.history[0, "batches", 0]


def test_without_gamma_and_augmentation_a_step_equals_the_plain_vqvae_step():
    X, _ = toy_series(n=16)
    common = dict(max_steps=1, batch_size=16, random_state=3)
    plain = make_tiny(VQVAETransformer, **common).fit(X)
    bt = make_tiny(BarlowTwinsVQVAETransformer, gamma=0.0, augmentations="none", **common).fit(X)
    for key in ("train_loss", "time_mse", "tf_mse", "commitment"):
        assert _first_step(bt)[key] == pytest.approx(_first_step(plain)[key], rel=1e-5)
    assert _first_step(bt)["barlow_twins"] == 0.0


def test_gamma_weights_the_recorded_barlow_twins_term():
    X, _ = toy_series(n=16)
    est = make_tiny(BarlowTwinsVQVAETransformer, gamma=2.5, max_steps=2).fit(X)
    step = _first_step(est)
    assert step["barlow_twins"] > 0
    expected = step["time_mse"] + step["tf_mse"] + step["commitment"] + 2.5 * step["barlow_twins"]
    assert step["train_loss"] == pytest.approx(expected, rel=1e-5)


class _SnapshotProjector(Callback):
    def on_train_begin(self, net, **kwargs):
        self.initial_ = _trainable_state(net.module_.projector)


def _trainable_state(projector):
    return {k: v.clone() for k, v in projector.state_dict().items()
            if v.is_floating_point() and "running" not in k}


@pytest.mark.parametrize("trainable", [True, False])
def test_projector_parameters_change_only_when_trainable(trainable):
    X, _ = toy_series(n=16)
    snapshot = _SnapshotProjector()
    est = make_tiny(BarlowTwinsVQVAETransformer, train_projector=trainable, max_steps=5,
                    callbacks=[snapshot]).fit(X)
    final = _trainable_state(est.net_.module_.projector)
    unchanged = [torch.equal(snapshot.initial_[k], final[k]) for k in final]
    assert not any(unchanged) if trainable else all(unchanged)
    # the encoder trains either way
    assert est.net_.history[-1, "train_loss"] != est.net_.history[0, "train_loss"]


def test_a_batch_of_one_sample_neither_crashes_nor_gives_nan():
    X, _ = toy_series(n=9)  # batch 8: the last batch holds one series
    est = make_tiny(BarlowTwinsVQVAETransformer, max_steps=4).fit(X)
    losses = [b["train_loss"] for e in est.net_.history for b in e["batches"]]
    assert np.all(np.isfinite(losses))
    assert np.all(np.isfinite(est.transform(X)))


def test_codebook_is_updated_once_per_step_from_one_branch():
    X, _ = toy_series(n=8)
    est = make_tiny(BarlowTwinsVQVAETransformer, max_steps=1, ema_decay=0.8)
    est.fit(X)
    q = est.net_.module_.quantizer
    # one EMA step from the all-ones prior with B * n_tokens assigned vectors
    expected = 0.8 * est.codebook_size + 0.2 * len(X) * est.n_tokens_
    assert float(q.cluster_size.sum()) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("target", ["first_view", "clean", "random_view"])
def test_reconstruction_target_chooses_what_the_branch_reconstructs(target):
    x = torch.randn(6, 1, 40, generator=torch.Generator().manual_seed(0))
    model = BarlowTwinsVQVAE(1, 40, projector_dims=(8,), hidden_dim=4, n_res_blocks=1,
                             codebook_size=4, recon_target=target, augmenter=Augmenter(),
                             generator=torch.Generator().manual_seed(0))
    out = model(x, generator=torch.Generator().manual_seed(1))
    if target == "clean":
        assert torch.equal(out.x, x)
    else:
        assert not torch.equal(out.x, x)
    if target == "first_view":
        g = torch.Generator().manual_seed(1)
        view_a, _ = Augmenter().two_views(x, generator=g)
        torch.testing.assert_close(out.x, view_a)


def test_evaluation_mode_sees_no_augmentation():
    x = torch.randn(4, 1, 40)
    model = BarlowTwinsVQVAE(1, 40, projector_dims=(8,), hidden_dim=4, n_res_blocks=1,
                             codebook_size=4, augmenter=Augmenter(),
                             generator=torch.Generator().manual_seed(0)).eval()
    assert torch.equal(model(x).x, x)


def test_grid_search_over_gamma_in_a_pipeline():
    X, y = load_gunpoint(split="train")
    pipe = Pipeline([
        ("bt", BarlowTwinsVQVAETransformer(hidden_dim=8, n_res_blocks=1, codebook_size=8,
                                           projector_dims=(32, 32), max_steps=15,
                                           random_state=0)),
        ("svc", SVC(kernel="linear")),
    ])
    grid = {"bt__gamma": [0.0, 0.5, 1.0, 2.0]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert search.best_params_["bt__gamma"] in grid["bt__gamma"]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.score(X, y) > 0.5
    fresh = clone(search.best_estimator_)
    assert not hasattr(fresh.named_steps["bt"], "net_")


def test_without_gamma_only_the_reconstruction_branch_is_encoded():
    module = BarlowTwinsVQVAE(1, 32, hidden_dim=4, n_res_blocks=1, codebook_size=4,
                              projector_dims=(8, 8), recon_target="clean",
                              generator=torch.Generator().manual_seed(0)).train()
    sizes = []
    module.encoder.register_forward_pre_hook(lambda m, args: sizes.append(len(args[0])))
    x = torch.randn(6, 1, 32, generator=torch.Generator().manual_seed(1))
    out = module(x, generator=torch.Generator().manual_seed(2), barlow_twins=False)
    assert sizes == [6] and out.projections is None
    module(x, generator=torch.Generator().manual_seed(2), barlow_twins=True)
    assert sizes == [6, 18]  # two views and the clean series


def test_without_gamma_and_augmentation_training_follows_the_plain_vqvae():
    X, _ = toy_series(n=16)
    common = dict(max_steps=4, batch_size=8, random_state=3, output="tokens")
    plain = make_tiny(VQVAETransformer, **common).fit(X)
    bt = make_tiny(BarlowTwinsVQVAETransformer, gamma=0.0, augmentations="none", **common).fit(X)
    np.testing.assert_array_equal(bt.transform(X), plain.transform(X))


def _scale_by_ten(x, *, generator):
    return 10 * x + 3


def _first_running_mean(module):
    norm = next(m for m in module.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d))
    return norm.running_mean.clone()


@pytest.mark.parametrize("mode", ["joint", "separate"])
def test_view_batchnorm_decides_whose_statistics_inference_uses(mode):
    x = torch.randn(6, 1, 32, generator=torch.Generator().manual_seed(1))
    kwargs = dict(hidden_dim=4, n_res_blocks=1, codebook_size=4, projector_dims=(8, 8),
                  recon_target="clean", augmenter=Augmenter([_scale_by_ten]))
    module = BarlowTwinsVQVAE(1, 32, view_batchnorm=mode,
                              generator=torch.Generator().manual_seed(0), **kwargs).train()
    clean_only = BarlowTwinsVQVAE(1, 32, generator=torch.Generator().manual_seed(0),
                                  **kwargs).train()
    sizes = []
    module.encoder.register_forward_pre_hook(lambda m, args: sizes.append(len(args[0])))
    out = module(x, generator=torch.Generator().manual_seed(2))
    clean_only.encode(x)  # one BatchNorm update from the clean series alone
    same = torch.allclose(_first_running_mean(module), _first_running_mean(clean_only))
    assert same == (mode == "separate")
    assert sizes == ([6, 12] if mode == "separate" else [18])
    assert out.projections[0].shape == out.projections[1].shape == (6, 8)
    assert torch.equal(out.x, x)
    # The momenta are restored after the views' pass.
    assert all(m.momentum == 0.1 for m in module.modules()
               if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))


def test_view_batchnorm_is_checked_and_trains_through_the_estimator():
    X, _ = toy_series(n=16)
    with pytest.raises(ValueError, match="view_batchnorm"):
        make_tiny(BarlowTwinsVQVAETransformer, view_batchnorm="both").fit(X)
    est = make_tiny(BarlowTwinsVQVAETransformer, view_batchnorm="separate").fit(X)
    again = make_tiny(BarlowTwinsVQVAETransformer, view_batchnorm="separate").fit(X)
    np.testing.assert_array_equal(est.transform(X), again.transform(X))
    joint = make_tiny(BarlowTwinsVQVAETransformer).fit(X)
    assert not np.array_equal(est.transform(X), joint.transform(X))
