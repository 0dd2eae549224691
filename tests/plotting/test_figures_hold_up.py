"""Figures stay readable: strip-shaped movies, the electrode figures' colour bar and overlapping histograms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

from socscope.plotting.optical import plot_differential_images, plot_particle_map

SHAPES = {"wide strip": (30, 300), "tall strip": (300, 30), "square": (96, 96)}


def _image(h, w):
    y, x = np.mgrid[:h, :w]
    lab = np.zeros((h, w), int)
    r = min(h, w) * 0.3
    for k, (fy, fx) in enumerate([(0.3, 0.2), (0.6, 0.5), (0.5, 0.8)]):
        lab[(y - fy * h) ** 2 + (x - fx * w) ** 2 < r**2] = k + 1
    return lab * 1.0 + 0.05 * np.sin(x / 4.0), lab


def _drawn(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer(), fig.bbox


def _inside(box, frame, slack=1.0):
    return (box.x0 >= frame.x0 - slack and box.y0 >= frame.y0 - slack and box.x1 <= frame.x1 + slack
            and box.y1 <= frame.y1 + slack)


def _tick_labels_overlap(ax, renderer) -> bool:
    for axis in (ax.xaxis, ax.yaxis):
        boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
        if any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]):
            return True
    return False


@pytest.mark.parametrize("shape", SHAPES)
def test_differential_images_fit_their_figure(shape):
    import matplotlib.pyplot as plt

    img, _ = _image(*SHAPES[shape])
    axes = plot_differential_images(np.stack([img * s for s in (-1, 0.5, 1, 2, 0.2)]),
                                    titles=[f"{k} min" for k in range(5)], pixel_size_nm=100)
    fig = axes[0].figure
    w_in, h_in = fig.get_size_inches()
    assert 2 < w_in <= 16 and 2 < h_in <= 16  # never a sliver, never a tower
    renderer, frame = _drawn(fig)
    colorbar = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert len(colorbar) == 1
    for ax in fig.axes:  # the panels and the colour bar, with titles, ticks and labels: all inside the figure
        assert _inside(ax.get_tightbbox(renderer), frame), (shape, ax.get_title() or ax.get_label())
    for ax in axes:
        assert not _tick_labels_overlap(ax, renderer), (shape, ax.get_title())
    # the colour bar is as long as the panels are tall (beside) or wide (below), within 2 %... at least 60 %
    panels = mpl.transforms.Bbox.union([a.get_position() for a in axes])
    cb = colorbar[0].get_position()
    along = cb.width / panels.width if cb.width > cb.height else cb.height / panels.height
    assert along > 0.6
    plt.close(fig)


@pytest.mark.parametrize("shape", SHAPES)
def test_particle_map_title_and_labels_fit(shape):
    import matplotlib.pyplot as plt

    img, lab = _image(*SHAPES[shape])
    ax = plot_particle_map(img, lab, pixel_size_nm=100)
    renderer, frame = _drawn(ax.figure)
    assert _inside(ax.get_tightbbox(renderer), frame), shape
    assert _inside(ax.title.get_window_extent(renderer), frame), shape
    assert not _tick_labels_overlap(ax, renderer), shape
    plt.close(ax.figure)


def test_particle_traces_have_the_colour_bar_they_promise(electrode):
    import matplotlib.pyplot as plt

    from socscope.plotting import plot_particle_traces

    axes = plot_particle_traces(electrode)
    fig = axes[0].figure
    [cb] = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert "electrical distance" in cb.get_ylabel()
    dist = electrode.electrical_distance.values[np.asarray(electrode.top.values, bool)]
    # the colour bar spans the drawn particles' distances, and the line colours follow them
    lo, hi = cb.get_ylim()
    np.testing.assert_allclose([lo, hi], [dist.min(), dist.max()], rtol=1e-12)  # the norm is set from them
    renderer, frame = _drawn(fig)
    assert _inside(cb.get_tightbbox(renderer), frame)
    assert len(plot_particle_traces(electrode, colorbar=False)[0].figure.axes) == len(axes)
    plt.close("all")


def test_histograms_do_not_hide_each_other(electrode):
    import matplotlib.pyplot as plt

    from socscope.plotting import plot_dol_histogram

    ax = plot_dol_histogram(electrode)
    assert len(ax.patches) == electrode.sizes["step_index"]
    faces = [p.get_facecolor() for p in ax.patches]
    edges = [p.get_edgecolor() for p in ax.patches]
    assert all(f[3] < 0.5 for f in faces)  # see-through fills: one behind another still shows
    assert all(e[3] == 1.0 for e in edges)  # opaque outlines
    assert len({tuple(np.round(e, 3)) for e in edges}) == len(edges)  # each time its own colour
    # where outlines coincide, each later one is thinner and drawn above: the earlier shows around it
    widths = [p.get_linewidth() for p in ax.patches]
    orders = [p.get_zorder() for p in ax.patches]
    assert all(a > b for a, b in itertools.pairwise(widths)) and all(a < b for a, b in itertools.pairwise(orders))
    plt.close(ax.figure)
