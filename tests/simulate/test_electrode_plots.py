"""Electrode figures draw what the result holds."""

import numpy as np
import pytest

import socscope as ss
from socscope.geometry import layered_layout

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def run():
    return ss.simulate_electrode(ss.materials.get("nmc532"), layered_layout(n_columns=3, n_layers=2),
                                 ["Charge at C/5 for 2 hours", "Discharge at C/5 for 1 hour"], n_shells=8,
                                 output_interval=600)


def test_particle_traces_one_panel_per_half_cycle(run, tmp_path):
    from socscope.plotting import plot_particle_traces, save_figure

    axes = plot_particle_traces(run)
    assert len(axes) == 2
    top = int(run.top.values.sum())
    assert all(len(a.lines) == top for a in axes)  # the top layer, one line each
    assert "charge" in axes[0].get_title() and "discharge" in axes[1].get_title()
    save_figure(axes[0].figure, tmp_path / "traces.png")
    assert (tmp_path / "traces.png").stat().st_size > 1000


def test_particle_traces_titles_give_the_index_of_the_drawn_particles(run):
    from socscope.observe import asynchrony_of
    from socscope.plotting import plot_particle_traces

    drawn = [0, 2, 4]
    axes = plot_particle_traces(run, particles=drawn)
    assert all(len(a.lines) == 3 for a in axes)
    want = asynchrony_of(run, drawn).asynchrony_index.to_numpy()
    for a, v in zip(axes, want):
        assert f"index (drawn) {v:.2f}" in a.get_title()
    # by default: the index of all particles, as stored
    assert f"index {run.asynchrony_index.values[0]:.2f}" in plot_particle_traces(run)[0].get_title()


def test_dol_histogram_counts_every_particle(run):
    from socscope.plotting import plot_dol_histogram

    ax = plot_dol_histogram(run, times=[0.0, float(run.time.values[-1])])
    assert len(ax.patches) == 2  # one step outline per time
    for patch, j in zip(ax.patches, (0, -1)):
        counts = np.histogram(run.theta_particle_mean.values[j], bins=np.linspace(0, 1, 31))[0]
        heights = patch.get_path().vertices[:, 1]
        # the outline climbs to every bin's count: its tallest point is the fullest bin,
        # and at t = 0 every particle (same θ) sits in one bin
        assert heights.max() == counts.max()
    assert ax.patches[0].get_path().vertices[:, 1].max() == run.sizes["particle"]


def test_asynchrony_plot_one_line_per_run(run):
    from socscope.plotting import plot_asynchrony

    ax = plot_asynchrony({"a": run, "b": run})
    assert len(ax.lines) == 3  # two runs and the threshold
