"""Steep σ(θ): the network runs, or fails with one message naming σ (never a raw solver error)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.constants import F
from socscope.errors import ProtocolError
from socscope.geometry.electrode import layered_layout
from socscope.materials import Material, Property
from socscope.simulate.electrode import simulate_electrode

CYCLE = ["Charge at C/20 for 20 hours or until 4.3 V after 1 hour", "Discharge at C/20 until 2.5 V"]


def _scaled(factor):
    """NMC532 of [002] with σ(θ) times ``factor`` (1e-3: 2e-7 S/m pristine, 1e-3 S/m at θ = 0.3)."""
    # the σ(θ) the factors were set on: pristine 1.9e-6 S/cm (Amin & Chiang's figure), pinned
    mat = ss.materials.get("nmc532-sharma2022", sigma="amin-chiang-figure")
    s = mat.sigma
    sigma = Property("sigma", "S/m", lambda th: factor * np.asarray(s(th)), source=f"{s.source} x {factor:g}",
                     valid_range=s.valid_range, dfunc=lambda th: factor * np.asarray(s.derivative(th)))
    return Material(name=f"{mat.name} sigma x{factor:g}", description=mat.description, source=mat.source,
                    c_max=mat.c_max, density=mat.density, capacity=mat.capacity, molar_mass=mat.molar_mass,
                    U=mat.U, D=mat.D, i0=mat.i0, sigma=sigma)


def _layout():
    # [002] Fig. 4a: 5 columns x 3 layers, the carbon on the left column
    return layered_layout(5, 3, radius=3.5e-6, coverage=0.5, carbon_columns=(0,), contact_fraction=0.1)


def test_sigma_times_1e_3_fails_naming_sigma():
    # the carbon-wired column alone must carry the cell's current at θ = 0.99 (5 x its own C/20),
    # its surfaces saturate, and the others lie behind 2e-7 S/m contacts: no collector voltage
    # within a cycler's compliance passes the current
    mat = _scaled(1e-3)
    assert mat.sigma(np.array([0.99]))[0] / mat.sigma(np.array([0.3]))[0] < 1e-3
    with pytest.raises(ProtocolError, match=r"cannot pass .* sigma of .* spans 2\.16e-07") as info:
        simulate_electrode(mat, _layout(), CYCLE, n_shells=8, initial_theta=0.99, output_interval=1800)
    assert "\n" not in str(info.value)


def test_a_low_but_passable_sigma_runs_the_cycle_and_conserves_li():
    # 1e-6 S/m pristine (the lowest of SPEC's range for pristine NMC, 1e-8 S/cm), 5e-3 S/m delithiated
    mat = _scaled(4.5e-3)
    ds = simulate_electrode(mat, _layout(), CYCLE, n_shells=8, initial_theta=0.99, output_interval=1800)
    assert list(ds.step_end_reason.values) == ["voltage=4.3", "voltage=2.5"]
    assert float(ds.step_capacity[0]) > 10.0  # mAh/g: the charge ran, not ended at once
    # Li removed = charge passed (galvanostatic steps: Q = I t exactly), to the solver's round-off
    li = ds.lithium.values
    assert_allclose(F * (li[0] - li[-1]), float(ds.charge[-1]), rtol=1e-9, atol=1e-9 * abs(F * li[0]))
