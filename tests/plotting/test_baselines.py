"""Quick looks and report figures against stored reference images (tests/plotting/baseline/).

A figure that loses a panel, a line, a colour bar or its labels fails here.
The style is pinned (matplotlib defaults, Agg, DejaVu Sans with the test
font settings) so the pictures do not depend on the machine's rc files.
After an intended change of a figure, write new references with
``SOCSCOPE_UPDATE_BASELINES=1 pytest tests/plotting/test_baselines.py`` and
look at them before committing.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

mpl = pytest.importorskip("matplotlib")

import socscope as ss

BASELINE = Path(__file__).parent / "baseline"
UPDATE = os.environ.get("SOCSCOPE_UPDATE_BASELINES") == "1"
# RMS difference over the pixels, on the 0-255 scale. Text rasterised by another
# FreeType, or a solver result differing in the last digits, moves a few
# anti-aliased edge pixels: RMS well below 1 here. A missing line, panel, colour
# bar or label moves thousands of pixels: RMS above 5 (the broken-figure test
# below measures it). 2 lies between.
TOL = 2.0
DPI = 50


@pytest.fixture
def pinned_style():
    from matplotlib.testing import (
        set_font_settings_for_testing,
        set_reproducibility_for_testing,
    )

    mpl.use("Agg")
    with mpl.rc_context():
        mpl.rcdefaults()
        set_font_settings_for_testing()
        set_reproducibility_for_testing()
        yield


def _check(fig, name, tmp_path):
    from matplotlib.testing.compare import compare_images

    from socscope.plotting._common import save_figure

    actual = save_figure(fig, tmp_path / name, dpi=DPI)
    expected = BASELINE / name
    if UPDATE:
        shutil.copyfile(actual, expected)
    assert expected.is_file(), f"no reference image {expected}; write it with SOCSCOPE_UPDATE_BASELINES=1"
    err = compare_images(str(expected), str(actual), tol=TOL, in_decorator=True)
    assert err is None, f"{name} differs from its reference: RMS {err['rms']:.2f} > {TOL} (diff image {err['diff']})"


@pytest.fixture(scope="module")
def particle():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ss.simulate_particle(ss.materials.get("ni88-xu2022"), ss.geometry.Disc(diameter=2e-6),
                                    ["Charge at 1C for 10 minutes", "Rest for 5 minutes"], resolution=2e-7,
                                    output_interval=150)


@pytest.fixture(scope="module")
def cycling():
    """Three cycles of a made-up cell whose capacity fades and whose discharges give back less each cycle."""
    from socscope.analysis.cycling import cycle_summary, half_cycles

    rows, q, t = [], 0.0, 0.0
    for k in range(3):
        for sign, cap in ((1, 1e-3 * (1 - 0.01 * k)), (-1, 1e-3 * (1 - 0.01 * k) * (0.97 - 0.01 * k))):
            n = 60
            dq = cap / n
            for j in range(1, n + 1):
                t += cap / 1e-3 * 3600 / n
                q += dq
                rows.append((t, (3.5 + 0.7 * j / n) if sign > 0 else (4.15 - 0.7 * j / n), sign * 1e-3, q))
            for _ in range(3):
                t += 60
                rows.append((t, rows[-1][1], 0.0, q))
    df = pd.DataFrame(rows, columns=["time_s", "voltage_V", "current_A", "capacity_Ah"])
    return df, half_cycles(df), cycle_summary(df, mass_g=8e-3)


def test_particle_quick_look(pinned_style, particle, tmp_path):
    _check(particle.socscope.plot(), "quick_look_particle.png", tmp_path)


def test_theta_maps_in_minutes(pinned_style, particle, tmp_path):
    fig = ss.plotting.plot_theta_maps(particle, times_min=[5, 10, 15])
    assert [a.get_title() for a in fig.axes[:3]] == ["t = 5 min", "t = 10 min", "t = 15 min"]
    _check(fig, "theta_maps_minutes.png", tmp_path)


def test_electrode_quick_look(pinned_style, electrode, tmp_path):
    _check(electrode.socscope.plot(), "quick_look_electrode.png", tmp_path)


def test_capacity_and_efficiency_against_cycle(pinned_style, cycling, tmp_path):
    _, _, cycles = cycling
    top, bottom = ss.plotting.plot_capacity_efficiency(cycles)
    # what is drawn is the table: CE in percent against cycle number
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), 100 * cycles.coulombic_efficiency, rtol=1e-12)
    assert [line.get_label() for line in top.lines] == ["charge", "discharge"]
    _check(top.figure, "capacity_efficiency.png", tmp_path)


def test_voltage_capacity_names_every_cycle(pinned_style, cycling, tmp_path):
    df, half, _ = cycling
    ax = ss.plotting.plot_voltage_capacity(df, half, mass_g=8e-3)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cycle 0", "cycle 1", "cycle 2"]
    _check(ax.figure, "voltage_capacity_cycles.png", tmp_path)


def test_a_broken_figure_fails_the_comparison(pinned_style, particle, tmp_path):
    from matplotlib.testing.compare import compare_images

    from socscope.plotting._common import save_figure

    fig = particle.socscope.plot()
    fig.axes[-1].lines[0].remove()  # the voltage curve lost
    broken = save_figure(fig, tmp_path / "broken.png", dpi=DPI)
    err = compare_images(str(BASELINE / "quick_look_particle.png"), str(broken), tol=TOL, in_decorator=True)
    assert err is not None and err["rms"] > 2 * TOL


@pytest.mark.parametrize("shape", [(24, 240), (240, 24)], ids=["wide", "tall"])
def test_strip_shaped_differential_images(pinned_style, shape, tmp_path):
    from socscope.plotting.optical import plot_differential_images

    h, w = shape
    y, x = np.mgrid[:h, :w]
    frames = np.stack([np.sin(x / (4.0 + k)) * np.cos(y / 5.0) * (k + 1) / 4 for k in range(4)])
    frames[:, : h // 6, : w // 6] = np.nan  # undefined pixels: light grey
    axes = plot_differential_images(frames, titles=[f"{5 * k} min" for k in range(4)], pixel_size_nm=100)
    _check(axes[0].figure, f"differential_{'wide' if h < w else 'tall'}.png", tmp_path)
