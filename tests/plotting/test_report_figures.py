"""The figures the report draws for sweeps, optical batches, populations and SP-ICP-OES calibrations,
against stored reference images (tests/plotting/baseline/), with the same pinned style and
tolerance as test_baselines.py; and what each draws is the data it was given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("matplotlib")

from test_baselines import BASELINE, DPI, TOL, _check, pinned_style  # noqa: F401  the fixture, used below

pytestmark = pytest.mark.usefixtures("pinned_style")


@pytest.fixture
def sweep_points():
    """Three c-rates × two alphas; the point at c_rate 4, alpha 5 failed."""
    rows = []
    for c in (0.5, 1.0, 4.0):
        for a in (1, 5):
            failed = c == 4.0 and a == 5
            rows.append({"c_rate": c, "alpha": a, "status": "failed" if failed else "done",
                         "final_theta_mean": np.nan if failed else 0.95 - 0.02 * c - 0.001 * a,
                         "final_theta_std": np.nan if failed else 0.01 * c * (1 + a / 10)})
    return pd.DataFrame(rows)


def test_sweep_outputs_against_the_axes(sweep_points, tmp_path):
    from socscope.plotting import plot_sweep_outputs

    fig = plot_sweep_outputs(sweep_points, axes=["c_rate", "alpha"], outputs=["final_theta_mean", "final_theta_std"],
                             labels={"final_theta_mean": "final mean θ"})
    left = fig.axes[0]
    assert [line.get_label() for line in left.lines] == ["alpha = 1", "alpha = 5", "failed"]
    # the lines are the table's values, the failed point a gap
    assert_allclose(left.lines[0].get_ydata(), [0.939, 0.929, 0.869], rtol=1e-12)
    assert np.isnan(left.lines[1].get_ydata()[-1]) and left.get_xscale() == "linear"  # 0.5..4: a factor 8
    assert left.get_ylabel() == "final mean θ" and fig.axes[1].get_ylabel() == "final_theta_std"
    _check(fig, "sweep_outputs.png", tmp_path)


def test_sweep_outputs_log_axis_and_one_axis():
    from socscope.errors import ParameterError
    from socscope.plotting import plot_sweep_outputs

    pts = pd.DataFrame({"radius_um": [0.1, 1.0, 10.0], "status": ["done"] * 3, "y": [1.0, 2.0, 3.0]})
    fig = plot_sweep_outputs(pts, axes=["radius_um"], outputs=["y"])
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[0].lines) == 1  # a factor 100: log
    with pytest.raises(ParameterError, match="at least one axis and one output"):
        plot_sweep_outputs(pts, axes=[], outputs=["y"])


def test_batch_summary(tmp_path):
    from socscope.plotting import plot_batch_summary

    table = pd.DataFrame({
        "movie": ["/data/cell_a.tif", "/data/cell_b.tif", "/data/broken.tif"],
        "status": ["done", "done", "failed"], "particles": [4.0, 6.0, np.nan],
        "half_cycle_0_asynchrony_index": [0.4, 1.6, np.nan], "half_cycle_1_asynchrony_index": [0.8, 1.2, np.nan]})
    fig = plot_batch_summary(table)
    left, right = fig.axes
    assert [p.get_height() for p in left.patches] == [4.0, 6.0]
    assert [t.get_text() for t in left.get_xticklabels()] == ["cell_a.tif", "cell_b.tif", "broken.tif"]
    assert left.get_xticklabels()[2].get_color() == "tab:red"
    assert_allclose(right.lines[1].get_ydata()[:2], [0.8, 1.2], rtol=1e-12)  # half cycle 1 (line 0 is half cycle 0)
    _check(fig, "batch_summary.png", tmp_path)


def test_population(tmp_path):
    import xarray as xr

    from socscope.plotting import plot_population

    rng = np.random.default_rng(5)
    n = 200
    iso = np.zeros(n, bool)
    iso[:14] = True
    dol = np.where(iso, 0.95, 0.25 + 0.01 * rng.standard_normal(n))
    ds = xr.Dataset({"dol": ("particle", dol), "diameter_um": ("particle", rng.lognormal(np.log(5), 0.3, n)),
                     "isolated": ("particle", iso)})
    fig = plot_population(ds)
    left, right = fig.axes
    # every particle once, in its colour: 186 connected, 14 isolated
    assert [np.asarray(line.get_xdata()).size for line in right.lines] == [186, 14]
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["connected (186)", "isolated (14)"]
    assert fig._suptitle.get_text() == "200 particles, 7.0 % isolated"
    _check(fig, "population.png", tmp_path)


def test_calibration_as_the_report_draws_it(tmp_path):
    from socscope.analysis.spicp import calibrate
    from socscope.plotting.spicp import plot_calibration

    # three references on the line 0.01 + 0.05 · DOL exactly: the fit returns it
    dol = np.array([1.0, 0.6, 0.2])
    cal = calibrate(dol, 0.01 + 0.05 * dol, np.full(3, 4e-4), sigma_ratio=np.full(3, 4e-3),
                    n_particles=np.full(3, 300))
    assert_allclose([cal.intercept, cal.slope], [0.01, 0.05], rtol=1e-9)  # exact data: round-off only
    fig = plot_calibration(cal)
    _check(fig, "spicp_calibration.png", tmp_path)


def test_a_sweep_figure_without_a_line_fails_the_comparison(sweep_points, tmp_path):
    from matplotlib.testing.compare import compare_images

    from socscope.plotting import plot_sweep_outputs
    from socscope.plotting._common import save_figure

    fig = plot_sweep_outputs(sweep_points, axes=["c_rate", "alpha"], outputs=["final_theta_mean", "final_theta_std"],
                             labels={"final_theta_mean": "final mean θ"})
    fig.axes[1].lines[0].remove()  # the alpha = 1 line of the right panel lost
    broken = save_figure(fig, tmp_path / "broken.png", dpi=DPI)
    err = compare_images(str(BASELINE / "sweep_outputs.png"), str(broken), tol=TOL, in_decorator=True)
    assert err is not None and err["rms"] > TOL
