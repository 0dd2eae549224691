"""The recorded current integrates to the Li inventory's change in every step type (issue 21, item 9).

``current`` is the mean over the interval that ends at each sample, so its
piecewise-constant integral ``Σ current_k (t_k − t_{k−1})`` over a step is
the charge the step passed; ``F`` times the inventory's change must equal it
to 1e-9 relative, holds included.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.constants import F

# every step type: constant current (by time, by a voltage cut-off, by a surface condition),
# rest, surface-θ hold (by time, by a mean-θ condition), voltage hold (ended by a current cut-off)
PROTOCOL = [
    "Charge at 1C for 10 minutes",
    "Rest for 5 minutes",
    "Hold surface theta at 0.9 for 30 minutes",
    "Charge at C/2 until 4.2 V",
    "Hold at 4.2 V until C/50",
    "Discharge at 1C until surface theta 0.95",
    "Hold surface theta at 0.6 until mean theta 0.7",
]
KINDS = ["charge", "rest", "hold_theta", "charge", "hold_voltage", "discharge", "hold_theta"]


@pytest.fixture(scope="module", params=["sphere", "disc"])
def run(request):
    if request.param == "sphere":
        geo, kw = ss.geometry.Sphere(1e-6), {"n_cells": 30}
    else:
        geo, kw = ss.geometry.Disc(2e-6), {"resolution": 0.2e-6}
    # 60 s samples: far coarser than the holds' early transients, where a quadrature of sampled
    # instantaneous currents misses by 1e-3 of the step's charge
    return ss.simulate_particle("nmc811-chen2020", geo, PROTOCOL, initial_theta=0.85, output_interval=60, **kw)


def _each_step_integrates_to_its_inventory_change(ds, n_steps):
    """Check ``Σ current Δt`` against ``F ΔLi`` step by step; returns the running integral."""
    t, i, li = ds.time.values, ds.current.values, ds.lithium.values
    integral = np.concatenate(([0.0], np.cumsum(i[1:] * np.diff(t))))  # piecewise constant, value at the end
    total = F * li[0]
    for k in range(n_steps):
        a, b = _step_bounds(ds, k)
        passed = integral[b] - integral[a]
        delithiated = F * (li[a] - li[b])
        # 1e-9 of the step's charge (the bound; measured 1e-13 or less), with a floor of
        # 1e-12 of the whole inventory for the rest, which passes nothing (round-off, measured 1e-28 mol)
        assert abs(passed - delithiated) <= 1e-9 * abs(delithiated) + 1e-12 * total, (k, passed, delithiated)
    return integral


def _step_bounds(ds, k):
    """Sample indices of the start (the previous step's last sample) and end of step ``k``."""
    sel = np.flatnonzero(ds.step.values == k)
    return max(sel[0] - 1, 0), sel[-1]


def test_inventory_matches_the_integral_of_the_recorded_current_in_every_step(run):
    ds = run
    assert list(ds.step_kind.values) == KINDS
    assert list(ds.step_end_reason.values)[3:] == ["voltage=4.2", "c_rate=0.02", "theta_surface=0.95",
                                                   "theta_mean=0.7"]
    integral = _each_step_integrates_to_its_inventory_change(ds, len(PROTOCOL))
    # the recorded charge is the same integral
    assert np.max(np.abs(integral - ds.charge.values)) <= 1e-9 * np.max(np.abs(ds.charge.values))


def test_constant_current_and_rest_record_the_imposed_current_exactly(run):
    ds = run
    for k, expected in ((0, None), (1, 0.0)):
        a, b = _step_bounds(ds, k)
        i = ds.current.values[a + 1:b + 1]
        ref = ds.current_instant.values[b] if expected is None else expected
        assert np.all(i == ref) and np.all(ds.current_instant.values[a + 1:b + 1] == ref)


def test_the_interval_mean_is_the_flux_of_the_states(run):
    """In holds the interval mean lies between the instantaneous currents at the interval's ends.

    A decaying hold current is monotone over each interval, so its mean lies between the two end
    values (and near their average where the current changes slowly): the recorded mean is the
    surface flux, not a quantity of its own.
    """
    ds = run
    for k in (2, 4, 6):
        a, b = _step_bounds(ds, k)
        mean = ds.current.values[a + 1:b + 1]
        inst = ds.current_instant.values[a + 1:b + 1]
        lo, hi = np.minimum(inst[:-1], inst[1:]), np.maximum(inst[:-1], inst[1:])
        inner = mean[1:]  # intervals with both ends inside the hold
        # 1e-3 of the current's scale: the instantaneous current carries the integrator's local error
        # (rtol 1e-5) and the interpolation of the samples
        slack = 1e-3 * np.abs(inst).max()
        assert np.all((inner >= lo - slack) & (inner <= hi + slack)), k
        slow = np.abs(inst[1:] - inst[:-1]) < 0.05 * np.abs(inner)
        # where the current changes by < 5 % over the interval, the mean is within 1 % of the trapezoid
        # (the trapezoid's error is a fraction of the change; measured < 0.3 %)
        assert np.all(np.abs(inner[slow] - 0.5 * (inst[1:] + inst[:-1])[slow]) <= 1e-2 * np.abs(inner[slow]))


# -- network electrodes: the same definition (issue 21, item 9) ------------------------------------------------

# every step type an electrode runs: constant current (by time, by a voltage cut-off), rest (the particles
# still exchange Li through the network), voltage hold (by time, by a current cut-off)
ELECTRODE_PROTOCOL = [
    "Charge at C/5 for 30 minutes",
    "Rest for 20 minutes",
    "Charge at C/5 until 4.0 V",
    "Hold at 4.2 V for 20 minutes",
    "Hold at 4.1 V until C/50",
    "Discharge at C/2 for 10 minutes",
]


@pytest.fixture(scope="module")
def electrode_run():
    from socscope.geometry.electrode import layered_layout
    from socscope.simulate.electrode import simulate_electrode

    # a resistive layout: in its holds the particles behind NMC contacts carry currents of their own
    lay = layered_layout(n_columns=3, n_layers=2, radius=2.5e-6)
    return simulate_electrode("nmc532", lay, ELECTRODE_PROTOCOL, n_shells=8, output_interval=300,
                              observables=False)


def test_an_electrodes_inventory_matches_the_integral_of_its_recorded_current(electrode_run):
    ds = electrode_run
    assert list(ds.step_kind.values) == ["charge", "rest", "charge", "hold_voltage", "hold_voltage", "discharge"]
    _each_step_integrates_to_its_inventory_change(ds, len(ELECTRODE_PROTOCOL))
    t, li = ds.time.values, ds.lithium.values
    # the holds pass charge, and the instantaneous currents' quadrature at these 5-minute samples does not
    # meet the bound there (it is what `current` recorded before): the test tells the two apart
    inst = ds.current_instant.values
    a, b = _step_bounds(ds, 3)
    trapezoid = np.sum(0.5 * (inst[a + 1:b + 1] + inst[a:b]) * np.diff(t[a:b + 1]))
    assert abs(trapezoid - F * (li[a] - li[b])) > 1e-6 * abs(F * (li[a] - li[b]))


def test_an_electrodes_instantaneous_current_is_kirchhoffs(electrode_run):
    ds = electrode_run
    hold = np.isin(ds.step.values, (3, 4))
    inst = ds.current_instant.values[hold]
    # the collector's current law holds to 1e-9 of the current in solve_potential; 1e-8 leaves room
    assert_allclose(ds.particle_current.values[hold].sum(axis=1), inst, rtol=0, atol=1e-8 * np.abs(inst).max())
    charge = np.isin(ds.step.values, (0, 2, 5))
    assert np.all(ds.current.values[charge] == ds.current_instant.values[charge])


# -- current cut-offs are located where the current crosses them ---------------------------------------------------

@pytest.mark.parametrize("geometry, hold", [
    ("sphere", "Hold surface theta at 0.4 until C/50"),
    ("sphere", "Hold at 4.1 V until C/50"),
    ("disc", "Hold surface theta at 0.4 until C/50"),
    ("disc", "Hold at 4.1 V until C/50"),
])
def test_a_current_cut_off_ends_the_hold_at_the_cut_off(geometry, hold):
    geo, kw = ((ss.geometry.Sphere(1e-6), {"n_cells": 20}) if geometry == "sphere"
               else (ss.geometry.Disc(1e-6), {"resolution": 0.2e-6}))
    ds = ss.simulate_particle("nmc811-chen2020", geo, ["Charge at 1C for 5 minutes", hold], initial_theta=0.9,
                              output_interval=None, **kw)
    one_c = float(ds.current.values[1])  # the 1C charge
    end = float(ds.current_instant.values[-1])
    # the event is |I|/cut − 1, located to the solver's event tolerance 1e-7 (a step that crossed it
    # earlier ended up to 30 % below the cut-off: the absolute tolerance exceeded the ~1e-13 A current)
    assert abs(end / (one_c / 50) - 1.0) < 1e-6, (end, one_c / 50)
    assert ds.current_instant.values[0] == 0.0  # the rested start passes no current


def test_an_electrodes_current_cut_off_is_located(electrode_run):
    ds = electrode_run
    k = 4  # "Hold at 4.1 V until C/50"
    end = abs(float(ds.current_instant.values[ds.step.values == k][-1]))  # it follows the 4.2 V hold: Li goes back in
    one_c = abs(float(ds.current.values[ds.step.values == 5][-1])) * 2  # step 5 runs at C/2
    assert abs(end / (one_c / 50) - 1.0) < 1e-6, (end, one_c / 50)
