import copy
import subprocess
import sys
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402
from skorch.history import History  # noqa: E402

from btvqvae import BarlowTwinsVQVAETransformer  # noqa: E402
from btvqvae.augmentations import REFERENCE_AUGMENTATIONS  # noqa: E402
from btvqvae.evaluation import codebook_perplexity  # noqa: E402
from btvqvae.plotting import (  # noqa: E402
    plot_augmentations,
    plot_codebook_usage,
    plot_latent_map,
    plot_monitored_metrics,
    plot_reconstruction,
    plot_reconstruction_stft,
    plot_token_grid,
    plot_tokens,
    plot_training_history,
    plot_views,
)

N_TIMEPOINTS = 32
CODEBOOK_SIZE = 8


class RecordOddEpochs(Callback):
    """Stands in for a monitoring callback: records two metrics on epochs 1 and 3 only."""

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch % 2:
            net.history.record("monitor_knn_1", 0.5 + 0.1 * epoch)
            net.history.record("monitor_perplexity", float(epoch))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 10)
    freq = np.repeat([1, 2, 3], 10)[:, None]
    t = np.linspace(0, 1, N_TIMEPOINTS)
    X = np.sin(2 * np.pi * freq * t) + 0.1 * rng.standard_normal((30, N_TIMEPOINTS))
    return X, y


@pytest.fixture(scope="module")
def est(data):
    X, _ = data
    return BarlowTwinsVQVAETransformer(
        hidden_dim=8, n_res_blocks=1, codebook_size=CODEBOOK_SIZE, projector_dims=(16, 16),
        max_epochs=3, batch_size=16, callbacks=[RecordOddEpochs()], random_state=0,
    ).fit(X)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def assert_renders(fig_or_ax, tmp_path, name="figure"):
    """Save to PNG and check the file is substantial and not a single colour."""
    fig = fig_or_ax if hasattr(fig_or_ax, "savefig") else fig_or_ax.figure
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=80)
    assert path.exists() and path.stat().st_size > 5_000
    assert mpimg.imread(path).std() > 0


def fake_estimator(rows):
    history = History()
    for row in rows:
        history.append(row)
    return SimpleNamespace(net_=SimpleNamespace(history=history))


def run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


# ---------------------------------------------------------------------------- import
def test_importing_plotting_does_not_import_matplotlib():
    result = run_python("import sys, btvqvae.plotting\n"
                        "print('matplotlib' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_missing_matplotlib_raises_import_error_naming_the_extra():
    code = ("import sys\n"
            "sys.modules['matplotlib'] = None\n"
            "from btvqvae import plotting as P\n"
            "calls = [lambda: P.plot_views([0.0, 1.0, 2.0, 1.0]),\n"
            "         lambda: P.plot_token_grid([0, 1, 1, 0], (2, 2)),\n"
            "         lambda: P.plot_codebook_usage([0, 1, 1])]\n"
            "for call in calls:\n"
            "    try:\n"
            "        call()\n"
            "    except ImportError as exc:\n"
            "        print(exc)\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("pip install btvqvae[plot]") == 3


# -------------------------------------------------------------------- reconstruction
def test_reconstruction_plot_overlays_series_and_its_decoding(est, data, tmp_path):
    X, _ = data
    ax = plot_reconstruction(est, X, index=4)
    original, recon = ax.get_lines()
    expected = est.inverse_transform(est.transform(X[4:5]))[0]
    np.testing.assert_allclose(original.get_ydata(), X[4])
    np.testing.assert_allclose(recon.get_ydata(), expected, rtol=1e-5, atol=1e-6)
    assert "MSE" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["original", "reconstruction"]
    assert_renders(ax, tmp_path)


def test_reconstruction_of_histogram_estimator_decodes_tokens_without_changing_it(est, data):
    X, _ = data
    hist = copy.copy(est).set_params(output="histogram")
    recon = plot_reconstruction(hist, X, index=-1).get_lines()[1].get_ydata()
    expected = est.inverse_transform(est.transform(X[-1:]))[0]
    np.testing.assert_allclose(recon, expected, rtol=1e-5, atol=1e-6)
    assert hist.output == "histogram"


def test_reconstruction_stft_shows_three_magnitude_panels_on_one_scale(est, data, tmp_path):
    X, _ = data
    fig = plot_reconstruction_stft(est, X, index=2)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 3 and len(fig.axes) == 4  # + one shared colorbar
    spec = torch.stft(torch.as_tensor(X[2]), est.n_fft, hop_length=est.n_fft // 4,
                      window=torch.ones(est.n_fft, dtype=torch.float64), center=True,
                      pad_mode="constant", return_complex=True).abs().numpy()
    image = panels[0].get_images()[0]
    np.testing.assert_allclose(image.get_array(), spec, rtol=1e-6, atol=1e-9)
    assert image.get_array().shape == (est.n_fft // 2 + 1, 1 + N_TIMEPOINTS // 2)
    assert len({im.get_clim() for ax in panels for im in ax.get_images()}) == 1
    assert_renders(fig, tmp_path)


def test_reconstruction_rejects_out_of_range_case_or_channel(est, data):
    X, _ = data
    with pytest.raises(IndexError, match="index=30"):
        plot_reconstruction(est, X, index=30)
    with pytest.raises(IndexError, match="channel=1"):
        plot_reconstruction_stft(est, X, channel=1)
    with pytest.raises(ValueError, match="2-D"):
        plot_reconstruction(est, X[0])


def test_multi_panel_functions_refuse_a_figure_that_already_has_axes(est, data):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="empty Figure"):
        plot_reconstruction_stft(est, data[0], fig=fig)
    with pytest.raises(ValueError, match="empty Figure"):
        plot_augmentations(np.zeros(16), fig=fig)


def test_single_panel_functions_draw_into_the_given_axes(est, data):
    X, y = data
    fig, axes = plt.subplots(1, 3)
    assert plot_reconstruction(est, X, ax=axes[0]) is axes[0]
    assert plot_codebook_usage(est, ax=axes[1]) is axes[1]
    assert plot_views(X[0], random_state=0, ax=axes[2]) is axes[2]


# -------------------------------------------------------------------------- codebook
def test_codebook_usage_of_estimator_has_a_bar_per_code_and_perplexity_title(est, tmp_path):
    ax = plot_codebook_usage(est)
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, est.codebook_usage_)
    assert "perplexity" in ax.get_title() and f"{est.perplexity_:.2f}" in ax.get_title()
    assert_renders(ax, tmp_path)


def test_codebook_usage_of_tokens_marks_unused_codes():
    tokens = np.array([[0, 0, 1], [3, 3, 3]])
    ax = plot_codebook_usage(tokens, codebook_size=5)
    assert len(ax.patches) == 5
    assert f"{codebook_perplexity(tokens, 5):.2f}" in ax.get_title()
    unused = [line for line in ax.get_lines() if line.get_label() == "unused code"]
    assert list(unused[0].get_xdata()) == [2, 4]


def test_codebook_usage_rejects_unfitted_estimator_and_float_tokens():
    with pytest.raises(NotFittedError):
        plot_codebook_usage(BarlowTwinsVQVAETransformer())
    with pytest.raises(ValueError, match="integer code ids"):
        plot_codebook_usage(np.array([0.5, 1.0]))


# -------------------------------------------------------------------------- training
def test_training_history_draws_epoch_means_of_each_loss_component(est, tmp_path):
    ax = plot_training_history(est)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"time_mse", "tf_mse", "commitment", "barlow_twins",
                          "train_loss (total)"}
    history = est.net_.history
    expected = [np.mean([b["tf_mse"] for b in batches]) for batches in history[:, "batches"]]
    np.testing.assert_allclose(lines["tf_mse"].get_ydata(), expected)
    np.testing.assert_allclose(lines["train_loss (total)"].get_ydata(),
                               history[:, "train_loss"])
    assert list(lines["tf_mse"].get_xdata()) == [1, 2, 3]
    assert_renders(ax, tmp_path)


def test_training_history_leaves_out_components_that_are_zero_throughout():
    batch = {"time_mse": 1.0, "tf_mse": 2.0, "commitment": 0.5, "barlow_twins": 0.0}
    rows = [{"epoch": e, "batches": [batch, batch], "train_loss": 3.5} for e in (1, 2)]
    ax = plot_training_history(fake_estimator(rows))
    labels = [line.get_label() for line in ax.get_lines()]
    assert "barlow_twins" not in labels and "time_mse" in labels


def test_training_history_rejects_unrecorded_component_and_unfitted_estimator(est):
    with pytest.raises(ValueError, match="no batch of the history records 'kl'"):
        plot_training_history(est, components=("kl",))
    with pytest.raises(NotFittedError):
        plot_training_history(BarlowTwinsVQVAETransformer())


def test_monitored_metrics_draw_only_the_epochs_they_were_recorded(est, tmp_path):
    ax = plot_monitored_metrics(est)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"knn_1", "perplexity"}
    assert list(lines["knn_1"].get_xdata()) == [1, 3]
    np.testing.assert_allclose(lines["knn_1"].get_ydata(), [0.6, 0.8])
    assert_renders(ax, tmp_path)
    chosen = plot_monitored_metrics(est, metrics=["monitor_perplexity"])
    assert [line.get_label() for line in chosen.get_lines()] == ["perplexity"]


def test_monitored_metrics_explain_how_to_record_them():
    rows = [{"epoch": 1, "batches": [], "train_loss": 1.0}]
    with pytest.raises(ValueError, match=r"btvqvae\.monitoring\.Monitor"):
        plot_monitored_metrics(fake_estimator(rows))
    rows[0]["monitor_knn_1"] = 0.7
    with pytest.raises(ValueError, match="'svc' was not recorded"):
        plot_monitored_metrics(fake_estimator(rows), metrics=["svc"])


# --------------------------------------------------------------------------- latents
def test_latent_map_colours_each_class_and_names_it_in_the_legend(est, data, tmp_path):
    X, y = data
    ax = plot_latent_map(est.transform(X), y)
    assert len(ax.collections) == 3
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(X)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    assert ax.get_xlabel().startswith("PC 1")
    assert_renders(ax, tmp_path)


def test_latent_map_tsne_works_with_fewer_samples_than_the_default_perplexity(rng):
    ax = plot_latent_map(rng.standard_normal((6, 4)), method="tsne", random_state=0)
    assert ax.collections[0].get_offsets().shape == (6, 2)
    assert ax.get_legend() is None


def test_latent_map_with_many_classes_uses_a_colorbar(rng):
    ax = plot_latent_map(rng.standard_normal((50, 3)), np.arange(50) % 25)
    assert ax.get_legend() is None and len(ax.figure.axes) == 2


def test_latent_map_rejects_unknown_method_and_mismatched_labels(rng):
    Z = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="'pca' or 'tsne'"):
        plot_latent_map(Z, method="umap")
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        plot_latent_map(Z, np.zeros(9))


# --------------------------------------------------------------------- augmentations
@pytest.mark.parametrize("shape", [(64,), (1, 64), (1, 1, 64)])
def test_augmentation_figure_has_a_panel_per_reference_augmentation(shape, tmp_path):
    x = np.sin(np.linspace(0, 4 * np.pi, 64)).reshape(shape)
    fig = plot_augmentations(x, random_state=0)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == len(REFERENCE_AUGMENTATIONS) + 2
    assert titles[0] == "original" and titles[-1] == "all, in order"
    for name, title in zip(REFERENCE_AUGMENTATIONS, titles[1:]):
        assert title.startswith(name)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), x.ravel())
    assert_renders(fig, tmp_path)


def test_augmentation_figure_is_reproducible_for_a_fixed_random_state():
    x = np.cos(np.linspace(0, 3, 40))
    a, b = (plot_augmentations(x, random_state=7) for _ in range(2))
    for ax_a, ax_b in zip(a.axes, b.axes):
        np.testing.assert_array_equal(ax_a.get_lines()[-1].get_ydata(),
                                      ax_b.get_lines()[-1].get_ydata())


def test_augmentation_panels_follow_the_given_steps_and_flag_unchanged_ones():
    x = np.arange(10.0)
    fig = plot_augmentations(x, [("flip", {"p": 0.0}), ("flip", {"p": 1.0})],
                             show_composed=False)
    assert len(fig.axes) == 3
    assert "unchanged" in fig.axes[1].get_title()
    assert "unchanged" not in fig.axes[2].get_title()
    np.testing.assert_array_equal(fig.axes[2].get_lines()[-1].get_ydata(), x[::-1])


def test_views_overlay_the_series_with_two_different_augmented_views(tmp_path):
    x = np.sin(np.linspace(0, 4 * np.pi, 64))[None, None]
    ax = plot_views(x, random_state=0)
    original, view_a, view_b = ax.get_lines()
    assert [line.get_label() for line in ax.get_lines()] == ["original", "view A", "view B"]
    np.testing.assert_allclose(original.get_ydata(), x.ravel())
    assert not np.allclose(view_a.get_ydata(), view_b.get_ydata())
    assert_renders(ax, tmp_path)


def test_views_take_the_augmentations_of_an_estimator(est):
    x = np.linspace(0, 1, 16)
    ax = plot_views(x, copy.copy(est).set_params(augmentations="none"), random_state=0)
    for line in ax.get_lines():
        np.testing.assert_allclose(line.get_ydata(), x)


def test_views_reject_more_than_one_series_and_bad_channel():
    with pytest.raises(ValueError, match="one series"):
        plot_views(np.zeros((2, 1, 16)))
    with pytest.raises(IndexError, match="channel=2"):
        plot_views(np.zeros((2, 16)), channel=2)


# ---------------------------------------------------------------------------- tokens
def test_token_plot_shows_the_estimators_tokens_on_the_latent_grid(est, data, tmp_path):
    X, _ = data
    ax = plot_tokens(est, X[5], annotate=True)  # 320 cells: more than annotated by default
    n_stages, n_freq, n_time = est.token_shape_  # the default residual quantizer
    grid = ax.get_images()[0].get_array()
    expected = est.encode(X[5:6], output="tokens").reshape(n_stages * n_freq, n_time)
    np.testing.assert_array_equal(grid, expected)
    assert ax.get_images()[0].get_cmap().N == CODEBOOK_SIZE
    assert sorted(int(t.get_text()) for t in ax.texts) == sorted(expected.ravel())
    assert len(ax.figure.axes) == 2  # the colorbar
    assert_renders(ax, tmp_path)


def test_large_token_grid_is_not_annotated_and_gets_one_colour_per_code(rng):
    tokens = rng.integers(0, 40, size=5 * 100)
    ax = plot_token_grid(tokens, (5, 100), codebook_size=40)
    assert not ax.texts
    assert ax.get_images()[0].get_cmap().N == 40


def test_token_grid_rejects_bad_tokens_and_shapes():
    with pytest.raises(ValueError, match="cannot fill a 2 x 3 grid"):
        plot_token_grid(np.arange(5), (2, 3))
    with pytest.raises(ValueError, match="must lie in"):
        plot_token_grid(np.array([0, 1, 2, 9]), (2, 2), codebook_size=4)
    with pytest.raises(ValueError, match="integer code ids"):
        plot_token_grid(np.zeros(4), (2, 2))
    with pytest.raises(ValueError, match="two positive ints"):
        plot_token_grid(np.arange(4), (4,))
