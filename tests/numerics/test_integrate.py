"""The BDF2 integrator: accuracy against an exact linear solution, events, outputs, options."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.optimize import brentq

import socscope as ss
from socscope.errors import SolverError
from socscope.geometry import Disc, Sphere
from socscope.numerics import (
    Event,
    KirchhoffTable,
    Segment,
    SolverOptions,
    integrate_segment,
    laplacian_matrix,
    make_operator,
)
from socscope.numerics._tridiag_kernel import HAVE_NUMBA
from socscope.numerics.linear import TridiagonalOperator

D = 1e-15  # m²/s
U0 = 0.9
UB = 0.3
T_END = 600.0  # s: D t / R² = 0.6 for R = 1 µm, most of the relaxation
OUT = np.array([50.0, 150.0, 300.0, 600.0])

NO_KERNEL = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed: 'auto' runs the interpreted "
                               "integrator, so there is no compiled engine to compare")


def options(engine="auto", **kw):
    return SolverOptions(engine=engine, **kw)


def constant_table():
    return KirchhoffTable.from_function(lambda u: np.full(np.shape(u), D), n_intervals=10)


class Relaxation:
    """V du/dt = D (L − G) u + D G u_b: a particle relaxing to a held surface value.

    Linear (constant D), so the exact solution is a matrix exponential.
    """

    def __init__(self, grid):
        self.grid = grid
        self.g = np.bincount(grid.boundary_cell, weights=grid.boundary_area / grid.boundary_distance,
                             minlength=grid.n_cells)
        self.a = laplacian_matrix(grid, fmt="csr") - sp.diags(self.g)
        self.b = self.g * D * UB
        self.m = D * self.a.toarray() / grid.volumes[:, None]
        self.u0 = np.full(grid.n_cells, U0)

    def exact(self, t):
        return UB + sla.expm(self.m * t) @ (self.u0 - UB)

    def segment(self):
        return Segment(make_operator(self.a), self.b)

    def run(self, t0, t1, u0=None, **kw):
        return integrate_segment(self.segment(), self.grid.volumes, constant_table(),
                                 self.u0 if u0 is None else u0, t0, t1, **kw)


PROBLEMS = {
    "sphere": lambda: Relaxation(Sphere(1e-6).mesh(n_cells=10)),
    "disc": lambda: Relaxation(Disc(2e-6).mesh(2e-7)),
}


@pytest.fixture(params=sorted(PROBLEMS), scope="module")
def problem(request):
    return PROBLEMS[request.param]()


# only radial (tridiagonal) systems run in the compiled kernel: the disc runs the interpreted one either way
@pytest.mark.parametrize("name, engine", [("sphere", "python"), pytest.param("sphere", "auto", marks=NO_KERNEL),
                                          ("disc", "python")])
def test_error_decreases_with_tolerance(name, engine):
    problem = PROBLEMS[name]()
    assert isinstance(problem.segment().operator, TridiagonalOperator) == (name == "sphere")
    exact = [problem.exact(t) for t in OUT]
    errors = []
    for rtol in (1e-3, 1e-5, 1e-7):
        res = problem.run(0.0, T_END, output_times=OUT, options=options(engine, rtol=rtol, atol=rtol * 1e-2))
        assert res.t == list(OUT)
        assert res.t_end == T_END and res.event is None
        errors.append(max(np.abs(u - e).max() for u, e in zip(res.u, exact)))
    # BDF2 with error-per-step control: global error ∝ tol^(2/3), i.e. ×21 per
    # factor 100 in tolerance (measured ×16–21); demand at least ×10
    assert errors[1] < errors[0] / 10
    assert errors[2] < errors[1] / 10
    # and the error is of the size the tolerance asks for: measured 2.5e-3 /
    # 6.5e-6 (sphere) and 1.8e-3 / 5.7e-6 (disc) at rtol 1e-3 / 1e-7, i.e.
    # 2–65 × rtol since the global error grows as tol^(2/3); the bounds leave
    # a factor 4 and 15 for step-sequence differences between platforms
    assert errors[0] < 1e-2 and errors[2] < 1e-4


@NO_KERNEL
def test_compiled_and_interpreted_engines_agree():
    p = Relaxation(Sphere(1e-6).mesh(n_cells=10))
    a = p.run(0.0, T_END, output_times=OUT, options=options("python", rtol=1e-5, atol=1e-7))
    b = p.run(0.0, T_END, output_times=OUT, options=options("auto", rtol=1e-5, atol=1e-7))
    assert (a.n_steps, a.n_rejected) == (b.n_steps, b.n_rejected)
    # the same algorithm in the same floating-point order up to compiler
    # reassociation: agreement far below the tolerance
    assert_allclose(np.array(a.u), np.array(b.u), rtol=0, atol=1e-12)


def test_outputs_match_a_run_that_steps_through_them(problem):
    opts = options(rtol=1e-6, atol=1e-8)
    dense = problem.run(0.0, T_END, output_times=OUT, options=opts)
    stepped, t, u = [], 0.0, problem.u0
    for t_next in OUT:
        r = problem.run(t, t_next, u0=u, options=opts)
        assert r.t_end == t_next
        stepped.append(r.u_end)
        t, u = t_next, r.u_end
    # two independently controlled runs differ by their global time errors,
    # each ≈ 25 × rtol here (test above): 5e-5 = 50 × rtol
    assert_allclose(np.array(dense.u), np.array(stepped), rtol=0, atol=5e-5)
    # the output at the end time is the end state itself
    assert_allclose(dense.u[-1], dense.u_end, rtol=0, atol=1e-15)


def test_event_located_to_event_tol(problem):
    vol = problem.grid.volumes
    target = 0.5

    def mean_minus_target(u):
        return float(u @ vol / vol.sum() - target)

    opts = options(rtol=1e-7, atol=1e-9)
    res = problem.run(0.0, T_END, events=[Event("mean=0.5", mean_minus_target)], options=opts)
    assert res.event == "mean=0.5"
    # located until |g| <= event_tol (default 1e-7)
    assert abs(mean_minus_target(res.u_end)) <= opts.event_tol
    t_exact = brentq(lambda t: problem.exact(t) @ vol / vol.sum() - target, 1.0, T_END, xtol=1e-10)
    # the crossing time is right up to the time error of the state (~1e-5 in
    # θ at this tolerance) divided by the rate of the mean (≳ 3e-4 per s)
    assert res.t_end == pytest.approx(t_exact, abs=0.1)


def test_event_already_on_the_right_side_is_not_triggered(problem):
    # g has the same sign all the way: the segment runs to its end
    res = problem.run(0.0, 100.0, events=[Event("never", lambda u: float(u.min() - 0.01))])
    assert res.event is None and res.t_end == 100.0


def test_flux_segment_conserves_the_inventory():
    g = Disc(2e-6).mesh(2e-7)
    lap = laplacian_matrix(g, fmt="csr")
    w = np.bincount(g.boundary_cell, weights=g.boundary_area, minlength=g.n_cells) / g.total_boundary_area
    rate = 1e-4  # outward, per unit of the mean per second
    b = -rate * g.total_volume * w
    seg = Segment(make_operator(lap), b, blocks=np.array([0, g.n_cells]))
    table = KirchhoffTable.from_function(lambda u: 1e-15 * (1 + 10 * np.asarray(u) ** 2))
    u0 = np.full(g.n_cells, 0.95)
    res = integrate_segment(seg, g.volumes, table, u0, 0.0, 2000.0, output_times=[333.0, 1000.0, 1777.0])
    for t, u in zip(res.t + [res.t_end], res.u + [res.u_end]):
        # the inventory is linear in time and the projection restores it each
        # step (interpolated outputs lie on the same line): round-off only
        assert_allclose(u @ g.volumes, u0 @ g.volumes + t * b.sum(), rtol=1e-12)


def test_leaving_the_physical_range_raises_solver_error():
    g = Sphere(1e-6).mesh(n_cells=10)
    lap = laplacian_matrix(g, fmt="csr")
    b = np.zeros(g.n_cells)
    b[-1] = -1e-18 * 0.5 / 10  # far more outflow than diffusion can feed
    seg = Segment(make_operator(lap), b, blocks=np.array([0, g.n_cells]))
    table = KirchhoffTable.from_function(lambda u: np.full(np.shape(u), 1e-17))
    with pytest.raises(SolverError, match="time step fell below"):
        integrate_segment(seg, g.volumes, table, np.full(g.n_cells, 0.5), 0.0, 1e6,
                          options=SolverOptions(min_step=1e-6))


# ----------------------------------------------------------- via the particle model
GEOMETRIES = {
    "sphere": (Sphere(1e-6), dict(n_cells=30)),
    "disc": (Disc(1e-6), dict(resolution=0.05e-6)),
}


@pytest.mark.parametrize("shape", sorted(GEOMETRIES))
def test_until_mean_theta(ni88, shape):
    geo, kw = GEOMETRIES[shape]
    ds = ss.simulate_particle(ni88, geo, ["Charge at 1C until mean theta 0.6"], **kw)
    assert list(ds.step_end_reason.values) == ["theta_mean=0.6"]
    # event_tol = 1e-7 on g = mean θ − 0.6
    assert abs(float(ds.theta_mean[-1]) - 0.6) < 1e-6
    # the mean falls at exactly the C-rate: 1C on the practical capacity
    # removes capacity/theoretical of the sites per hour
    rate = ni88.capacity / ni88.theoretical_capacity / 3600.0
    assert float(ds.step_end_time[0]) == pytest.approx((0.97 - 0.6) / rate, abs=1e-6 / rate)


@pytest.mark.parametrize("shape", sorted(GEOMETRIES))
def test_until_surface_theta(ni88, shape):
    geo, kw = GEOMETRIES[shape]
    ds = ss.simulate_particle(ni88, geo, ["Charge at 1C until surface theta 0.5"], **kw)
    assert list(ds.step_end_reason.values) == ["theta_surface=0.5"]
    # on charge the event watches the lowest surface value
    assert abs(float(ds.theta_surface_min[-1]) - 0.5) < 1e-6
    assert float(ds.theta_mean[-1]) > 0.5
    ds = ss.simulate_particle(
        ni88, geo, ["Charge at 1C for 30 minutes", "Discharge at 1C until surface theta 0.8"], **kw
    )
    assert list(ds.step_end_reason.values) == ["duration", "theta_surface=0.8"]
    # on discharge, the highest
    assert abs(float(ds.theta_surface_max[-1]) - 0.8) < 1e-6


def test_model_outputs_match_a_protocol_that_steps_through_them(ni88):
    geo, kw = GEOMETRIES["disc"]
    opts = SolverOptions(rtol=1e-6, atol=1e-8)
    times = [300.0, 600.0, 900.0, 1200.0]
    a = ss.simulate_particle(ni88, geo, ["Charge at 1C for 20 minutes"], output_times=times, solver=opts, **kw)
    b = ss.simulate_particle(ni88, geo, ["Charge at 1C for 5 minutes"] * 4, output_interval=None, solver=opts, **kw)
    assert list(a.time.values) == [0.0] + times
    assert list(b.time.values) == [0.0] + times
    # different step sequences, each within its time tolerance: measured
    # difference 6e-6 at rtol = 1e-6; 5e-5 = 50 rtol as above
    np.testing.assert_allclose(a.theta.values, b.theta.values, rtol=0, atol=5e-5)
    np.testing.assert_allclose(a.charge.values, b.charge.values, rtol=1e-12)


def test_output_interval_grid(ni88):
    ds = ss.simulate_particle(ni88, Sphere(1e-6), ["Charge at 1C for 10 minutes", "Rest for 5 minutes"],
                              n_cells=10, output_interval=120.0)
    # every multiple of the interval plus every step end
    assert list(ds.time.values) == [0.0, 120.0, 240.0, 360.0, 480.0, 600.0, 720.0, 840.0, 900.0]


# ----------------------------------------------------------- options
@pytest.mark.parametrize(
    "name, value",
    [
        ("rtol", 0.0), ("rtol", -1e-4), ("rtol", float("nan")), ("atol", float("inf")),
        ("atol", 0.0), ("newton_tol", -0.1), ("first_step", 0.0), ("max_step", -1.0),
        ("min_step", float("nan")), ("event_tol", 0.0),
    ],
)
def test_solver_options_reject_bad_values(name, value):
    with pytest.raises(ValueError) as info:
        SolverOptions(**{name: value})
    msg = str(info.value)
    assert name in msg and repr(value) in msg


def test_solver_options_reject_an_unknown_norm():
    with pytest.raises(ValueError, match="'l2'"):
        SolverOptions(norm="l2")



@pytest.mark.parametrize("kwargs", [dict(max_newton=0), dict(min_step=10.0, max_step=1.0)])
def test_solver_options_reject_inconsistent_limits(kwargs):
    with pytest.raises(ValueError):
        SolverOptions(**kwargs)
