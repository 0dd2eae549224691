"""Refinement studies: the observed order of the particle solver.

* sphere, constant D: second order against Crank's series (three meshes);
* sphere, ni88-xu2022 (D over four orders of magnitude): second order by
  self-convergence, shell averages restricted to the coarsest mesh;
* disc, constant D: first order or better against the Bessel series (a
  least-squares slope over nine resolutions, because the staircase area
  error jumps irregularly with the resolution);
* masks (an L shape, a hexagon): first order or better by self-convergence,
  each pixel split into f × f cells (f = 1, 2, 4) and compared by pixel
  averages — the mask is exactly the particle at every f.

Time errors are made negligible against the space errors with tight solver
tolerances where the space errors are small.
"""

from __future__ import annotations

import numpy as np
import pytest

import socscope as ss
from socscope.constants import F
from socscope.geometry import Disc, Mask, Sphere
from socscope.numerics import SolverOptions
from socscope.numerics.analytic import disc_constant_flux, sphere_constant_flux

D_CONST = 1e-15  # m²/s, the diffusivity of the const_mat fixture (tests/conftest.py)
THETA0 = 0.97
R = 1e-6  # m
CHARGE = ["Charge at 1C for 30 minutes"]





def observed_orders(errors, factor=2.0):
    errors = np.asarray(errors)
    return np.log(errors[:-1] / errors[1:]) / np.log(factor)


# ----------------------------------------------------------------- sphere
def test_sphere_is_second_order_against_the_series(const_mat):
    errors = []
    for n in (25, 50, 100):
        model = ss.simulate.ParticleModel(const_mat, Sphere(R), n_cells=n)
        # rtol 1e-8: time error ≲ 1e-8, far below the space error (≥ 1.5e-6)
        ds = model.run(CHARGE, initial_theta=THETA0, output_interval=None,
                       solver=SolverOptions(rtol=1e-8, atol=1e-10))
        q = float(ds.current[0]) / (F * model.n_l * model.grid.total_boundary_area)
        t = float(ds.time[-1])
        ref = sphere_constant_flux(ds.r.values, t, radius=R, diffusivity=D_CONST, flux=q, theta0=THETA0)
        errors.append(np.abs(ds.theta.values[-1] - ref).max())
    orders = observed_orders(errors)
    # measured 2.00 and 2.00 (errors 2.4e-5, 5.9e-6, 1.5e-6)
    assert np.all(orders > 1.8), (errors, orders)


@pytest.mark.slow
def test_sphere_is_second_order_with_a_steep_diffusivity(ni88):
    coarse = 25
    meshes = (50, 100, 200, 400)
    shells, surface = [], []
    for n in meshes:
        ds = ss.simulate_particle(ni88, Sphere(R), ["Charge at 1C for 20 minutes"], n_cells=n,
                                  output_interval=None, solver=SolverOptions(rtol=1e-8, atol=1e-10))
        v = Sphere(R).mesh(n_cells=n).volumes.reshape(coarse, n // coarse)
        th = ds.theta.values[-1].reshape(coarse, n // coarse)
        shells.append((th * v).sum(axis=1) / v.sum(axis=1))  # averages over the coarse shells
        surface.append(float(ds.theta_surface[-1]))
    field_orders = observed_orders([np.abs(a - b).max() for a, b in zip(shells[:-1], shells[1:])])
    surface_orders = observed_orders(np.abs(np.diff(surface)))
    # measured 2.13, 2.13 (averages over R/25 shells) and 2.00, 2.00 (surface
    # θ): the Kirchhoff face flux keeps second order across the front where D
    # changes by four orders of magnitude. (Pointwise, where the profile meets
    # the pristine core with D ≈ 3e-18, the finest meshes are not yet
    # asymptotic: averages over R/50 shells give 3.3 then 0.7.)
    assert np.all(field_orders > 1.8), field_orders
    assert np.all(surface_orders > 1.8), surface_orders


# ----------------------------------------------------------------- disc
@pytest.mark.slow
def test_cartesian_disc_is_first_order_or_better_against_the_series(const_mat):
    fractions = np.geomspace(8, 48, 9)  # resolutions R/8 … R/48
    errors = []
    for f in fractions:
        model = ss.simulate.ParticleModel(const_mat, Disc(2 * R), resolution=R / f, mesh_method="cartesian")
        ds = model.run(CHARGE, initial_theta=THETA0, output_interval=None)
        g = model.grid
        q = float(ds.current[0]) / (F * model.n_l * g.total_boundary_area)
        idx = g.image_index
        theta = np.empty(g.n_cells)
        theta[idx[idx >= 0]] = ds.theta.values[-1][idx >= 0]
        r = np.minimum(np.hypot(*g.cell_xy.T), R)
        ref = disc_constant_flux(r, float(ds.time[-1]), radius=R, diffusivity=D_CONST, flux=q, theta0=THETA0)
        errors.append(np.abs(theta - ref).max())
    slope = np.polyfit(np.log(fractions), np.log(errors), 1)[0]
    # least-squares order over the nine meshes: measured 1.30 (the staircase
    # area error makes single ratios scatter between −0.1 and 3); promised ≥ 0.8
    assert -slope >= 0.8, (errors, slope)
    # and refinement pays: R/48 is 15 times better than R/8 (1.1e-3 vs 1.8e-2)
    assert errors[-1] < errors[0] / 5


# ----------------------------------------------------------------- masks
def _l_shape(n=16):
    img = np.ones((n, n), dtype=bool)
    img[n // 2:, n // 2:] = False
    return img


def _hexagon(n=20):
    yy, xx = np.mgrid[0:n, 0:n] + 0.5 - n / 2
    r = n / 2 - 0.5
    return (np.abs(yy) <= r * np.sqrt(3) / 2) & (np.abs(yy) / np.sqrt(3) + np.abs(xx) <= r)


def _pixel_averages(ds, f):
    th = ds.theta.values[-1]
    ny, nx = th.shape
    avg = th.reshape(ny // f, f, nx // f, f).mean(axis=(1, 3))
    return avg[1:-1, 1:-1]  # drop the one-pixel padding of the grid


def _mask_order(material, img, solver):
    p = 0.1e-6
    geo = Mask(img, p)
    avgs = {}
    for f in (1, 2, 4):
        ds = ss.simulate_particle(material, geo, ["Charge at 1C for 20 minutes"], resolution=p / f,
                                  output_interval=None, solver=solver)
        avgs[f] = _pixel_averages(ds, f)
        assert np.all(np.isfinite(avgs[f][img]))
    d12 = np.abs(avgs[1] - avgs[2])[img].max()
    d24 = np.abs(avgs[2] - avgs[4])[img].max()
    return np.log2(d12 / d24), d12, d24


@pytest.mark.parametrize(
    "shape, measured",
    [("L", 2.23), ("hexagon", 1.40)],
)
def test_mask_is_first_order_or_better(const_mat, shape, measured):
    img = _l_shape() if shape == "L" else _hexagon()
    # rtol 1e-6: the time error is common to the three meshes and cancels
    # in the differences (orders identical to 3 digits at rtol 1e-8)
    order, d12, d24 = _mask_order(const_mat, img, SolverOptions(rtol=1e-6, atol=1e-8))
    # three-mesh estimate log2(|u1 − u2| / |u2 − u4|) of pixel averages:
    # measured 2.23 (L) and 1.40 (hexagon, with its staircase corners); promised ≥ 0.8
    assert order >= 0.8, (d12, d24, order)
    # and close to what it was when measured: the estimate is reproducible to
    # 3 digits across solver tolerances (above), so ±0.3 only leaves room for
    # platform round-off while still flagging a change of the scheme's order
    assert order == pytest.approx(measured, abs=0.3)


@pytest.mark.slow
def test_mask_with_a_steep_diffusivity_is_first_order_or_better(ni88):
    order, d12, d24 = _mask_order(ni88, _l_shape(), None)
    # measured 1.90 at the default tolerances (differences 7.7e-3 and 2.1e-3,
    # far above the time error); promised ≥ 0.8
    assert order >= 0.8, (d12, d24, order)


def test_polar_disc_is_second_order_against_the_series(const_mat):
    errors = []
    fractions = (10, 20, 40)
    for f in fractions:
        model = ss.simulate.ParticleModel(const_mat, Disc(2 * R), resolution=R / f)
        assert model.grid.kind == "polar"
        ds = model.run(CHARGE, initial_theta=THETA0, output_interval=None, solver=SolverOptions(rtol=1e-8, atol=1e-10))
        q = float(ds.current[0]) / (F * model.n_l * model.grid.total_boundary_area)
        r = np.hypot(ds.cell_x.values, ds.cell_y.values)
        ref = disc_constant_flux(r, float(ds.time[-1]), radius=R, diffusivity=D_CONST, flux=q, theta0=THETA0)
        errors.append(np.abs(ds.theta_cell.values[-1] - ref).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # boundary-fitted rings: the radially symmetric solution is resolved like
    # the sphere's, second order (measured 2.65e-4, 6.6e-5, 1.66e-5: order
    # 2.00; the margin of 0.2 is for the centre cell)
    assert np.all(orders > 1.8), (errors, orders)
