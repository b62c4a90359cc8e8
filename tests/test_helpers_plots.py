"""Every figure function returns a figure with the expected panels, without downloading anything."""
import numpy as np
import pytest
import torch

from helpers import (plot_decoder_grid, plot_history, plot_latent, plot_latent_3d, plot_reconstructions,
                     plot_tsne, show_digits, show_grid)

x = torch.rand(20, 1, 28, 28)
y = torch.arange(20) % 10


def test_show_digits_draws_one_panel_per_digit_with_its_label():
    fig = show_digits(x, y, n=6)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes] == ["0", "1", "2", "3", "4", "5"]


def test_show_grid_tiles_images_into_one_panel():
    fig = show_grid(x.reshape(20, 784), nrow=5)
    assert len(fig.axes) == 1
    assert fig.axes[0].images[0].get_array().shape == (4 * 28, 5 * 28)


def test_plot_reconstructions_draws_a_row_per_entry():
    fig = plot_reconstructions({"original": x, "noisy": x * 0.5, "reconstruction": x.reshape(20, 784)}, n=8)
    assert len(fig.axes) == 3 * 8


def test_plot_history_draws_train_and_validation_curves_per_model():
    one = {"train": [3.0, 2.0, 1.0], "val": [3.5, 2.5, 1.5]}
    fig = plot_history({"mse": one, "bce": {"train": [1.0, 0.5], "val": []}})
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 3
    assert len(plot_history(one).axes[0].lines) == 2


def test_plot_latent_colors_points_by_class():
    fig = plot_latent(torch.randn(20, 2), y, title="latent")
    (ax,) = fig.axes
    assert ax.get_title() == "latent" and len(ax.collections[0].get_offsets()) == 20
    with pytest.raises(ValueError, match="at least 2"):
        plot_latent(torch.randn(20, 1), y)


def test_plot_latent_draws_into_a_given_axis():
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot_latent(torch.randn(20, 2), y, ax=right) is fig
    assert len(right.collections) == 1 and len(left.collections) == 0


def test_plot_decoder_grid_decodes_every_grid_point_once():
    decoded = []

    def decode(z):
        decoded.append(z)
        return torch.sigmoid(z.sum(1, keepdim=True)).expand(len(z), 784)

    fig = plot_decoder_grid(decode, (-2, 2), (-1, 1), n=7)
    assert len(fig.axes) == 1 and decoded[0].shape == (49, 2)
    assert fig.axes[0].images[0].get_array().shape == (7 * 28, 7 * 28)
    # top-left corner is (x min, y max), as on a scatter plot
    assert decoded[0][0].tolist() == [-2.0, 1.0]


def test_plot_decoder_grid_maps_grid_points_through_to_latent():
    fig = plot_decoder_grid(lambda z: torch.zeros(len(z), 784), (0, np.pi), (-np.pi, np.pi), n=4,
                            to_latent=lambda s: torch.cat([s, torch.ones(len(s), 1)], dim=1))
    assert len(fig.axes) == 1


def test_plot_latent_3d_is_an_interactive_figure_with_a_trace_per_class():
    fig = plot_latent_3d(torch.randn(20, 3), y)
    assert len(fig.data) == 10 and fig.data[0].type == "scatter3d"


def test_plot_tsne_shows_each_representation_side_by_side():
    rng = np.random.default_rng(0)
    fig = plot_tsne({"pixels": rng.normal(size=(60, 784)), "latent": torch.randn(60, 10)}, np.arange(60) % 10, n=60)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["pixels", "latent"]
    assert len(panels[0].collections[0].get_offsets()) == 60


def test_a_returned_figure_shows_as_an_image_in_a_fresh_jupyter_kernel():
    # Built without pyplot, a figure only displays once the inline backend is loaded (plots._load_backend).
    import os

    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import torch\nfrom helpers import show_digits\nshow_digits(torch.rand(2, 784))")]
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}  # the kernel's own backend
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute(env=env)
    (output,) = notebook.cells[0].outputs
    assert "image/png" in output["data"]
