"""Holds and cut-offs agree on which voltages a particle can reach."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.constants import F
from socscope.errors import ProtocolError


def _run(protocol, theta0=0.5):
    return ss.simulate_particle("nmc532", ss.geometry.Sphere(3.5e-6), protocol, initial_theta=theta0,
                                n_cells=16, output_interval=600)


def test_a_hold_at_a_voltage_a_discharge_ends_at_is_accepted():
    # NMC532's OCP ends at 2.82 V: a C/20 discharge reaches 2.5 V through its overpotential, and a hold
    # at 2.5 V (before: refused as outside the OCP range) now runs with the surface saturated
    ds = _run(["Discharge at C/20 until 2.5 V", "Hold at 2.5 V for 1 hour"])
    assert list(ds.step_end_reason.values) == ["voltage=2.5", "duration"]
    hold = ds.step.values == 1
    assert_allclose(ds.voltage.values[hold], 2.5, rtol=0, atol=0)  # the held voltage is the recorded one
    cur = ds.current.values[hold]
    # lithiating (discharge sign); once the particle has filled the current is round-off of the
    # K(θ) differences, 1e-15 A against 3e-12 A at the start of the hold
    assert cur[0] < 0 and np.all(cur <= 1e-3 * abs(cur[0]))
    assert ds.theta_mean.values[-1] > ds.theta_mean.values[hold][0]  # the hold puts Li back
    # the charge passed is what left the particle (no imposed current in a hold): to round-off
    li = ds.lithium.values
    assert_allclose(F * (li[0] - li[-1]), ds.charge.values[-1], rtol=1e-12, atol=1e-12 * F * li[0])


def test_holds_and_cut_offs_are_refused_beyond_the_same_bound():
    lo = float(ss.materials.get("nmc532").U(np.array([1.0]))[0])
    beyond = round(lo - 0.6, 2)  # more than the 0.5 V a cut-off under current may lie beyond the OCP
    for sentence in (f"Discharge at C/20 until {beyond} V", f"Hold at {beyond} V for 1 hour"):
        with pytest.raises(ProtocolError, match="outside the open-circuit potential range"):
            _run([sentence])


def test_an_electrode_names_the_range_it_can_hold():
    lay = ss.geometry.layered_layout(2, 1, radius=3.5e-6)
    with pytest.raises(ProtocolError, match="an electrode holds voltages inside"):
        ss.simulate_electrode("nmc532", lay, ["Hold at 2.5 V for 1 hour"], n_shells=6)
