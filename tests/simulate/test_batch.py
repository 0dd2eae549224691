"""Batches of independent spheres: each particle against its own run, Crank's series, conservation."""

import numpy as np
import pytest

import socscope as ss
from socscope.constants import F
from socscope.errors import ProtocolError
from socscope.geometry import Sphere
from socscope.numerics import SolverOptions
from socscope.numerics.analytic import sphere_constant_flux

RADII = (0.5e-6, 1e-6, 2e-6)
PROTOCOL = ["Charge at C/3 for 30 minutes", "Rest for 10 minutes", "Discharge at C/3 for 10 minutes"]
TIMES = np.arange(60.0, 3001.0, 60.0)


def _batch_and_singles(mat, rtol):
    opts = SolverOptions(rtol=rtol, atol=rtol * 1e-2)
    batch = ss.simulate_particles(mat, [Sphere(r) for r in RADII], PROTOCOL, n_cells=20, initial_theta=0.9,
                                  output_times=TIMES, solver=opts)
    singles = [ss.simulate_particle(mat, Sphere(r), PROTOCOL, n_cells=20, initial_theta=0.9, output_times=TIMES,
                                    solver=opts, kinetics="none") for r in RADII]
    return batch, singles


def test_each_particle_of_a_batch_converges_to_its_own_single_run(ni88):
    """The batch shares one step sequence (error control over every particle); each
    particle alone gets its own. Both converge to the same solution as the tolerance
    tightens, and one particle in a batch is the single run itself."""
    diffs = []
    for rtol in (1e-7, 1e-9):
        batch, singles = _batch_and_singles(ni88, rtol)
        diffs.append(max(np.abs(batch.theta.values[:, p] - s.theta.values).max() for p, s in enumerate(singles)))
    # time errors of two differently stepped runs: measured 8.4e-6 at rtol 1e-7 and
    # 3.8e-7 at 1e-9 (×22, the tol^(2/3) of BDF2 with per-step control); at
    # least ×10 shows they converge together, and 1e-6 bounds the tight run
    assert diffs[1] < diffs[0] / 10
    assert diffs[1] < 1e-6
    one = ss.simulate_particles(ni88, [Sphere(2e-6)], PROTOCOL[:1], n_cells=20, initial_theta=0.9, output_times=TIMES)
    alone = ss.simulate_particle(ni88, Sphere(2e-6), PROTOCOL[:1], n_cells=20, initial_theta=0.9, output_times=TIMES,
                                 kinetics="none")
    # the same system, the same steps: identical (measured: bit for bit)
    np.testing.assert_array_equal(one.theta.values[:, 0], alone.theta.values)


def test_batch_conserves_lithium_and_every_particle_runs_at_the_same_c_rate(ni88):
    batch, _ = _batch_and_singles(ni88, 1e-5)
    li = batch.lithium.values
    # the inventory is updated from the same fluxes that define the charge: round-off (measured 9e-15)
    np.testing.assert_allclose(li[0] - li, batch.charge.values / F, rtol=0, atol=1e-12 * li[0])
    # every particle takes its share of the volume, so every mean θ moves alike (measured 1.1e-14 apart)
    m = batch.theta_particle_mean.values
    assert np.ptp(m, axis=1).max() < 1e-12
    # net 20 minutes of C/3 on the 210 mAh/g basis move θ by (210/3 mA/g × 1/3 h) / theoretical capacity
    expected = 0.9 - ni88.capacity / 3.0 * (1200.0 / 3600.0) / ni88.theoretical_capacity
    assert m[-1, 0] == pytest.approx(expected, rel=0, abs=1e-12)


def test_constant_d_batch_matches_crank_for_every_particle_at_second_order(const_mat):
    """Crank eq. 6.44 per particle: each sphere's flux is its share of the current over its surface."""
    errors = []
    for n in (25, 50):
        ds = ss.simulate_particles(const_mat, [Sphere(r) for r in RADII], ["Charge at 1C for 30 minutes"], n_cells=n,
                                   initial_theta=0.9, output_times=np.arange(60.0, 1801.0, 60.0),
                                   solver=SolverOptions(rtol=1e-9, atol=1e-11))
        current = float(ds.current[1])
        v_total = sum(Sphere(r).volume for r in RADII)
        err = []
        for p, r in enumerate(RADII):
            q = current / v_total * (r / 3) / (F * const_mat.c_max)  # I_p / (A_p F c_max) with I_p ∝ V_p
            exact = sphere_constant_flux(r, ds.time.values[1:], radius=r, diffusivity=float(const_mat.D(0.5)), flux=q, theta0=0.9)
            err.append(np.abs(ds.theta_particle_surface.values[1:, p] - exact).max())
        errors.append(np.array(err))
    # spatial error of the surface value, ∝ (R/n)²: measured 1.5e-6, 5.9e-6, 2.4e-5 at 50 shells
    # (the 5.8e-6 of the single-sphere validation for 1 µm), ×4.0 from 25 to 50 shells
    assert np.all(errors[1] < 3e-5)
    assert np.all(errors[0] / errors[1] > 3.5)  # order > 1.8


def test_a_surface_that_fills_names_the_step_and_the_fix(ni88):
    # a 2 µm Ni-rich particle cannot take 1C back in after a C/3 charge: its
    # surface fills (D near θ = 1 is tiny); without kinetics there is no voltage
    # cut-off, so the fix is a surface condition
    prot = ["Charge at C/3 for 30 minutes", "Rest for 10 minutes", "Discharge at 1C for 5 minutes"]
    with pytest.raises(ProtocolError, match=r"surface became fully lithiated.*'Discharge at 1C until surface "
                                            r"theta 0.99'"):
        ss.simulate_particles(ni88, [Sphere(r) for r in RADII], prot, n_cells=20, initial_theta=0.9)
