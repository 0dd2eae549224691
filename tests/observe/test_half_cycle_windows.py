"""Half-cycles of an electrode run: where each starts and ends, so onsets, dips and losses are measured there."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.geometry.electrode import identical_wired_layout, layered_layout
from socscope.observe import cycler_record, split_half_cycles
from socscope.observe.electrode import cell_half_cycles

RADIUS = 2.5e-6


def _run(protocol, layout=None, **kw):
    lay = identical_wired_layout(2, RADIUS) if layout is None else layout
    return ss.simulate.simulate_electrode("nmc532", lay, protocol, n_shells=6, **kw)


def test_split_ignores_to_and_fro_below_min_reversal():
    s = [0.0, 0.5, 0.5 - 1e-8, 0.5 + 1e-9, 1.0, 0.4]
    assert split_half_cycles(s, min_reversal=1e-6).tolist() == [0, 0, 0, 0, 0, 1]
    # without it every wiggle is a turn
    assert split_half_cycles(s).tolist() == [0, 0, 1, 2, 2, 3]
    # a rest at the turning point stays with the half-cycle it ends
    assert split_half_cycles([0.0, 1.0, 1.0, 1.0, 0.5], tolerance=1e-9).tolist() == [0, 0, 0, 0, 1]


def test_discharge_is_measured_from_the_turning_point():
    # two identical particles: each follows the cell, so its 10/50/90 % points are
    # the cell's own, in SOC (the discharge runs from SOC q back to 0)
    ds = _run(["Charge at C/5 for 1 hour", "Discharge at C/5 for 1 hour"], output_interval=600)
    soc_top = float(ds.theta_mean[0] - ds.theta_mean.min())
    # C/5 for an hour on the C-rate basis, as a share of the sites (theoretical capacity)
    q = ds.attrs["c_rate_basis_mAh_g"] / 5 * 3600 / ds.attrs["material_theoretical_capacity_C_kg"]
    assert_allclose(soc_top, q, rtol=1e-6)
    # identical particles move with the cell: 10 % of the discharge at 0.9 q, 50 % at 0.5 q. Their θ is
    # the cell's and linear in time at constant current, so the interpolated crossings are exact:
    # measured 3e-14 relative; 1e-9 leaves room for round-off (the bug read 17 % off)
    assert_allclose(ds.onset_soc.values[1], 0.9 * soc_top, rtol=1e-9)
    assert_allclose(ds.midpoint_soc.values[1], 0.5 * soc_top, rtol=1e-9)
    assert_allclose(ds.width_soc.values[1], 0.8 * soc_top, rtol=1e-9)
    # and at the matching times: 3600 s + 10 % of the hour
    assert_allclose(ds.onset_time.values[1], 3600 + 360, rtol=1e-9)


def test_onset_time_after_a_rest_counts_from_the_current():
    ds = _run(["Rest for 30 minutes", "Charge at C/5 for 1 hour"], output_interval=600)
    # 10 % of a constant-current charge is 6 minutes into it (exact as above: measured 2e-14)
    assert_allclose(ds.onset_time.values[0], 1800 + 360, rtol=1e-9)
    lay = layered_layout(3, 2, radius=RADIUS)
    ds = _run(["Rest for 30 minutes", "Charge at C/5 for 1 hour"], layout=lay, output_interval=600)
    assert np.nanmin(ds.onset_time.values[0]) > 1800


def test_relaxation_in_a_rest_is_not_a_dip():
    ds = _run(["Charge at 2C for 10 minutes", "Rest for 30 minutes"], output_interval=60)
    # the voltage falls by ~20 mV in the rest, with no current: not a switching event
    v = ds.voltage.values
    assert v[ds.step.values == 0][-1] - v[-1] > 0.015
    assert ds.voltage_dips.values.tolist() == [0]


def test_a_hold_near_equilibrium_adds_no_half_cycle():
    ds = _run(["Charge at C/2 for 20 minutes", "Rest for 2 hours", "Hold at 3.70 V for 1 hour"],
              layout=layered_layout(3, 2, radius=RADIUS), output_interval=120)
    hc = cell_half_cycles(ds)
    assert hc.max() <= 1
    assert cycler_record(ds).cycle.max() == 0


@pytest.mark.parametrize("protocol", [
    ["Charge at C/5 for 30 minutes", "Hold at 3.6 V for 30 minutes"],
    ["Hold at 3.9 V for 30 minutes", "Discharge at C/5 until 3.5 V"],
])
def test_capacity_loss_with_voltage_holds(protocol):
    ds = _run(protocol, output_interval=300)
    cap = ds.step_capacity.values
    assert cap[0] > 0 > cap[1]
    assert_allclose(float(ds.capacity_not_recovered), 1 + cap[1] / cap[0], rtol=1e-12)


def test_fits_run_over_a_hold_whose_soc_wobbles():
    # a constant-current charge, a hold whose SOC wobbles by 4e-7 (solver noise, below the
    # 1e-6 a turn needs), then a discharge: one charge, one discharge, both fitted
    import xarray as xr

    from socscope.observe import electrode_transitions

    k = np.arange(30)
    soc = np.r_[np.linspace(0, 0.3, 30), 0.3 + 4e-7 * (k % 2)]
    soc = np.r_[soc, soc[-1] - np.linspace(0.001, 0.3, 20)]
    occupancy = np.column_stack([0.99 - soc, 0.99 - soc])
    ds = xr.Dataset({"theta_mean": ("time", 0.99 - soc), "theta_particle_mean": (("time", "particle"), occupancy)},
                    coords={"time": np.arange(soc.size) * 60.0, "particle": [0, 1]})
    for method in ("fit", "crossing"):
        table = electrode_transitions(ds, method=method)
        assert sorted(set(table.half_cycle)) == [0, 1]
        # a particle that follows the cell has its midpoint half way through each half-cycle: a
        # logistic fitted to a ramp is off by 1.9e-4 (measured), the crossings by the 4e-7 wobble
        assert_allclose(table.midpoint_soc, 0.15, atol=1e-3)
