"""Checks of the constant-flux series solutions against their defining properties."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.special import erfc, j0, j1, roots_legendre

from socscope.errors import ParameterError
from socscope.numerics.analytic import (
    SeriesTruncationWarning,
    disc_constant_flux,
    disc_eigenvalues,
    disc_mean,
    disc_tail_bound,
    sphere_constant_flux,
    sphere_eigenvalues,
    sphere_mean,
    sphere_tail_bound,
)

# A cathode-like particle: R²/D = 2500 s and q R / D = 0.1, so that the
# variation of θ is a sizeable fraction of θ0 and unit mistakes cannot hide.
R = 5e-6  # m
D = 1e-14  # m²/s
Q = 2e-10  # m/s
THETA0 = 0.9
SCALE = Q * R / D  # θ per unit of the dimensionless bracket
PARAMS = dict(radius=R, diffusivity=D, flux=Q, theta0=THETA0)

GEOMETRIES = {
    # name: (solution, exact mean, number of dimensions)
    "sphere": (sphere_constant_flux, sphere_mean, 3),
    "disc": (disc_constant_flux, disc_mean, 2),
}


def time_of(tau):
    """Physical time [s] of the dimensionless time D t / R²."""
    return np.asarray(tau) * R**2 / D


def parabola(x, tau, dim):
    """Quasi-steady solution: the series dropped."""
    return THETA0 - SCALE * (dim * tau + 0.5 * x**2 - dim / (2.0 * (dim + 2)))


@pytest.fixture(params=sorted(GEOMETRIES))
def geometry(request):
    return GEOMETRIES[request.param]


# --------------------------------------------------------------------------
# eigenvalues and truncation bounds
# --------------------------------------------------------------------------


def test_sphere_eigenvalues_solve_tan_alpha_equals_alpha():
    n = np.arange(1, 2001)
    a = sphere_eigenvalues(2000)
    assert np.all((a > n * np.pi) & (a < n * np.pi + np.pi / 2))
    # sin α - α cos α has slope α sin α ≈ ±α² at the root, so a residual of a
    # few ulp of α·1 means the root is correct to a few ulp.
    assert np.all(np.abs(np.sin(a) - a * np.cos(a)) <= 1e-12 * a**2)
    # Large-n asymptotics α = p - 1/p - 2/(3p³) - 13/(15p⁵) - ..., p = (n + 1/2)π;
    # the next term, 146/(105 p⁷), is < 5e-13 for n >= 20, and rounding of
    # α itself is a few ulp (rtol 1e-15).
    p = (n[19:] + 0.5) * np.pi
    asym = p - 1 / p - 2 / (3 * p**3) - 13 / (15 * p**5)
    np.testing.assert_allclose(a[19:], asym, rtol=1e-15, atol=1e-12)
    # Known first root, 4.493409457909064 (measured: the same double); the bracketing
    # solve is good to a few ulp of 8.9e-16, and 1e-14 allows about ten of them.
    assert a[0] == pytest.approx(4.493409457909064, abs=1e-14)


def test_disc_eigenvalues_are_zeros_of_j1():
    n = np.arange(1, 2001)
    b = disc_eigenvalues(2000)
    assert np.all((b > n * np.pi) & (b < n * np.pi + np.pi / 2))
    # |J1'(β)| = |J0(β)| ≈ sqrt(2/(πβ)), so 1e-13 of residual is ~1e-12 in β.
    assert np.all(np.abs(j1(b)) < 1e-13)
    # The bound used by disc_tail_bound: |J0(β_n)| sqrt(β_n) >= 0.788.
    assert np.all(np.abs(j0(b)) * np.sqrt(b) >= 0.788)


def test_eigenvalues_are_cached_and_read_only():
    assert sphere_eigenvalues(50) is sphere_eigenvalues(50)
    assert disc_eigenvalues(50) is disc_eigenvalues(50)
    with pytest.raises(ValueError):
        sphere_eigenvalues(50)[0] = 1.0
    with pytest.raises(ParameterError, match="n_terms must be a positive integer, got 0"):
        sphere_eigenvalues(0)


@pytest.mark.parametrize("tau", [2e-4, 1e-3, 1e-2])
@pytest.mark.parametrize("n_terms", [5, 10, 20, 40])
def test_tail_bounds_bound_the_actual_truncation_error(geometry, tau, n_terms):
    solve, _, dim = geometry
    bound = (sphere_tail_bound if dim == 3 else disc_tail_bound)(tau, n_terms)
    r = np.linspace(0.0, R, 401)
    t = time_of(tau)
    # 1500 terms: reference whose own tail is below 1e-30 at these τ.
    ref = solve(r, t, **PARAMS, n_terms=1500)
    cut = solve(r, t, **PARAMS, n_terms=n_terms, tail_tol=math.inf)
    actual = np.max(np.abs(cut - ref)) / SCALE
    # The bound is rigorous; 1e-14 absorbs rounding of the two sums.
    assert actual <= bound + 1e-14


# --------------------------------------------------------------------------
# defining properties: mean, boundary flux, PDE, initial value
# --------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [1e-3, 1e-2, 0.1, 1.0])
def test_volume_mean_equals_exact_mean(geometry, tau):
    solve, mean, dim = geometry
    # Gauss-Legendre with 2000 nodes is exact for polynomials of degree 3999
    # and resolves frequencies far beyond the highest retained one
    # (α_200 ≈ 630 rad over [0, 1]).
    xg, wg = roots_legendre(2000)
    x = 0.5 * (xg + 1.0)
    w = 0.5 * wg * dim * x ** (dim - 1)  # volume weight of the unit ball
    t = time_of(tau)
    theta = solve(x * R, t, **PARAMS)
    # Every series term has zero mean, truncated or not, so the mean is exact
    # up to rounding (~1e-15); 1e-12 leaves margin for the quadrature sum.
    assert np.sum(w * theta) == pytest.approx(float(mean(t, **PARAMS)), abs=1e-12)
    expected = THETA0 - dim * Q * t / R
    # the same closed form (measured 0); 1e-15 allows another operation order (a few ulp)
    assert float(mean(t, **PARAMS)) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("tau", [1e-3, 1e-2, 0.1, 1.0])
@pytest.mark.parametrize("flux", [Q, -0.5 * Q])
def test_boundary_flux_equals_q(geometry, tau, flux):
    solve, _, _ = geometry
    params = dict(PARAMS, flux=flux)
    # Fourth-order one-sided difference; step scaled with the diffusion length
    # so that the truncation error (h⁴ θ⁽⁵⁾/5 ~ 1e-12 of q/D) and rounding
    # (eps θ / h ~ 1e-10 of q/D) both stay far below the tolerance.
    h = 1e-3 * math.sqrt(tau) * R
    r = R - h * np.arange(5)
    th = solve(r, time_of(tau), **params)
    dtheta_dr = (25 * th[0] - 48 * th[1] + 36 * th[2] - 16 * th[3] + 3 * th[4]) / (12 * h)
    assert -D * dtheta_dr == pytest.approx(flux, rel=1e-7)
    # Outflow (q > 0) leaves the surface lower than the centre.
    th_centre = solve(0.0, time_of(tau), **params)
    assert np.sign(th_centre - th[0]) == np.sign(flux)


@pytest.mark.parametrize("tau", [1e-2, 0.05, 0.2])
@pytest.mark.parametrize("x", [0.1, 0.3, 0.6, 0.9])
def test_pde_residual_is_small(geometry, tau, x):
    solve, _, dim = geometry
    # θ0 only shifts the solution, which is linear; θ0 = 0 keeps the rounding
    # of the differenced values at the size of the variation itself.
    params = dict(PARAMS, theta0=0.0)
    r0, t0 = x * R, float(time_of(tau))
    h, dt = 1e-3 * R, 1e-2 * t0
    k = np.arange(-2, 3)
    c1 = np.array([1, -8, 0, 8, -1]) / 12.0  # fourth-order first derivative
    c2 = np.array([-1, 16, -30, 16, -1]) / 12.0  # fourth-order second derivative
    th_r = solve(r0 + k * h, t0, **params)
    th_t = solve(r0, t0 + k * dt, **params)
    dth_dt = c1 @ th_t / dt
    dth_dr = c1 @ th_r / h
    d2th_dr2 = c2 @ th_r / h**2
    terms = np.array([dth_dt, D * d2th_dr2, D * (dim - 1) * dth_dr / r0])
    residual = terms[0] - terms[1] - terms[2]
    # The solution varies on the scales sqrt(τ) R in space and τ in time, so
    # the fourth-order differences err by ~(h/(sqrt(τ) R))⁴ ≤ 1e-8 and
    # ~(dt/t)⁴ = 1e-8 relative; rounding, eps θ/(dt θ_t) and eps θ/(h² θ_rr),
    # is below 1e-7 here. A wrong constant would show up at order one. Where
    # the disturbance has not yet arrived (small x at τ = 0.01) the terms are
    # exponentially small and rounding of the O(1) bracket sets the floor, so
    # they are compared with at least the rate of the mean, q/R.
    scale = max(np.max(np.abs(terms)), Q / R)
    assert abs(residual) <= 1e-6 * scale


def test_initial_value_is_exact_at_t0(geometry):
    solve, mean, _ = geometry
    r = np.linspace(0.0, R, 11)
    np.testing.assert_array_equal(solve(r, 0.0, **PARAMS), THETA0)
    assert float(mean(0.0, **PARAMS)) == THETA0


# --------------------------------------------------------------------------
# short-time and long-time limits
# --------------------------------------------------------------------------

TAU_SHORT = 1e-4


def test_short_time_interior_is_untouched(geometry):
    solve, _, _ = geometry
    x = np.linspace(0.0, 0.8, 81)
    theta = solve(x * R, time_of(TAU_SHORT), **PARAMS)
    # The disturbance reaches depth δ with weight ~ erfc(δ / (2 sqrt(D t))):
    # erfc(10) ~ 2e-45 at x = 0.8, so only rounding (~1e-16 per term) remains.
    assert abs(theta[0] - THETA0) <= 1e-10
    assert np.max(np.abs(theta - THETA0)) <= 1e-10


def test_short_time_surface_matches_plane_wall(geometry):
    solve, _, dim = geometry
    t = float(time_of(TAU_SHORT))
    depletion = THETA0 - float(solve(R, t, **PARAMS))
    plane = 2 * Q * math.sqrt(t / (math.pi * D))
    # Semi-infinite (plane-wall) result; the curvature correction is
    # (d - 1) sqrt(π τ)/4 relative: 0.89e-2 (sphere) and 0.44e-2 (disc) at
    # τ = 1e-4, so sqrt(τ) = 1e-2 bounds it for both.
    rel = depletion / plane - 1.0
    assert 0 < rel <= math.sqrt(TAU_SHORT)
    # The leading curvature correction itself, to O(τ) relative.
    assert rel == pytest.approx((dim - 1) * math.sqrt(math.pi * TAU_SHORT) / 4, abs=2 * TAU_SHORT)


def test_short_time_surface_sphere_with_curvature():
    # For the sphere, u = r (θ0 - θ) obeys the 1D equation with a Robin
    # condition; on a half-line the surface value is
    # (q R / D) [exp(τ) erfc(-sqrt τ) - 1]. The finite size only adds terms
    # of order exp(-1/τ), so the match is limited by rounding in the series
    # (~1e-14 of the bracket against a value of 0.011).
    tau = TAU_SHORT
    depletion = THETA0 - float(sphere_constant_flux(R, time_of(tau), **PARAMS))
    expected = SCALE * (math.exp(tau) * erfc(-math.sqrt(tau)) - 1.0)
    assert depletion == pytest.approx(expected, rel=1e-9)


def test_short_time_surface_disc_with_curvature():
    # For the disc the Laplace transform of the rim value is
    # (q/(D s k)) I0(kR)/I1(kR), k = sqrt(s/D); expanding I0/I1 for large kR
    # gives 2 sqrt(τ/π) + τ/2 + τ^(3/2)/(2 sqrt π) + 3τ²/16 + O(τ^(5/2)).
    # The omitted O(τ^(5/2)) ~ 1e-10 is 1e-8 of the value at τ = 1e-4.
    tau = TAU_SHORT
    depletion = THETA0 - float(disc_constant_flux(R, time_of(tau), **PARAMS))
    series = (
        2 * math.sqrt(tau / math.pi)
        + tau / 2
        + tau**1.5 / (2 * math.sqrt(math.pi))
        + 3 * tau**2 / 16
    )
    assert depletion == pytest.approx(SCALE * series, rel=1e-7)


def test_late_time_profile_is_the_parabola(geometry):
    solve, _, dim = geometry
    x = np.linspace(0.0, 1.0, 51)
    tau = 2.0
    theta = solve(x * R, time_of(tau), **PARAMS)
    # First-mode amplitude: 0.456 exp(-20.19 τ) (sphere), 0.338 exp(-14.68 τ)
    # (disc), i.e. < 1e-13 of the bracket at τ = 2; the rest is rounding.
    np.testing.assert_allclose(theta, parabola(x, tau, dim), rtol=0, atol=1e-13)


def test_late_time_approach_is_the_first_mode(geometry):
    solve, _, dim = geometry
    x = np.linspace(0.0, 1.0, 51)
    tau = 0.5
    theta = solve(x * R, time_of(tau), **PARAMS)
    if dim == 3:
        a = sphere_eigenvalues(2)
        mode = 2 * a[0] * np.sinc(a[0] * x / np.pi) / (a[0] ** 2 * np.sin(a[0]))
    else:
        a = disc_eigenvalues(2)
        mode = 2 * j0(a[0] * x) / (a[0] ** 2 * j0(a[0]))
    first = SCALE * mode * np.exp(-a[0] ** 2 * tau)
    # The second mode is below exp(-α_2² τ) ≤ exp(-49.2 · 0.5) ~ 2e-11 of
    # the bracket, while the first one is ~1e-4 of it.
    np.testing.assert_allclose(theta - parabola(x, tau, dim), first, rtol=0, atol=SCALE * 1e-10)
    assert np.max(np.abs(first)) > 1e-6


# --------------------------------------------------------------------------
# truncation warnings, broadcasting, argument checks
# --------------------------------------------------------------------------


def test_too_few_terms_for_tiny_time_warns(geometry):
    solve, _, _ = geometry
    with pytest.warns(SeriesTruncationWarning, match=r"n_terms >= \d+"):
        solve(np.linspace(0, R, 5), time_of(1e-5), **PARAMS, n_terms=20)
    # The default 200 terms suffice at τ = 1e-4.
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeriesTruncationWarning)
        solve(np.linspace(0, R, 5), time_of(1e-4), **PARAMS)


def test_warning_suggests_enough_terms(geometry):
    solve, _, dim = geometry
    tau = 1e-5
    with pytest.warns(SeriesTruncationWarning) as record:
        solve(R, time_of(tau), **PARAMS, n_terms=20)
    need = int(str(record[0].message).rsplit(">=", 1)[1])
    bound = sphere_tail_bound if dim == 3 else disc_tail_bound
    assert SCALE * bound(tau, need) <= 1e-10 < SCALE * bound(tau, need - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeriesTruncationWarning)
        solve(R, time_of(tau), **PARAMS, n_terms=need)


def test_broadcasting_matches_pointwise(geometry):
    solve, _, _ = geometry
    r = np.linspace(0.0, R, 7)
    t = time_of(np.array([[1e-3], [1e-2], [0.3]]))
    out = solve(r, t, **PARAMS)
    assert out.shape == (3, 7)
    # the same terms summed in the same order (measured 0); 1e-15 is ~9 ulp of θ ≈ 0.9 and allows
    # vectorised sums to round differently from scalar ones
    for i in range(3):
        for j in range(7):
            assert out[i, j] == pytest.approx(float(solve(r[j], t[i, 0], **PARAMS)), abs=1e-15)
    assert solve(0.5 * R, 10.0, **PARAMS).shape == ()


def test_mean_functions_accept_the_same_keywords(geometry):
    _, mean, dim = geometry
    t = np.array([0.0, 10.0, 100.0])
    # the closed form itself (measured 0); 1e-15 allows another operation order
    np.testing.assert_allclose(mean(t, **PARAMS), THETA0 - dim * Q * t / R, rtol=1e-15)
    np.testing.assert_allclose(
        mean(t, radius=R, flux=Q, theta0=THETA0), mean(t, **PARAMS), rtol=0
    )


@pytest.mark.parametrize(
    "r, t, change, name",
    [
        (1.01 * R, 1.0, {}, "r"),
        (-1e-9, 1.0, {}, "r"),
        (0.5 * R, -1.0, {}, "t"),
        (0.5 * R, np.nan, {}, "t"),
        (0.5 * R, 1.0, {"radius": 0.0}, "radius"),
        (0.5 * R, 1.0, {"diffusivity": -1.0}, "diffusivity"),
        (0.5 * R, 1.0, {"flux": np.inf}, "flux"),
        (0.5 * R, 1.0, {"n_terms": 0}, "n_terms"),
    ],
)
def test_invalid_arguments_raise(geometry, r, t, change, name):
    solve, _, _ = geometry
    # the message starts with the offending argument ("r must lie in [0, radius]", ...)
    with pytest.raises(ParameterError, match=rf"^{name} must "):
        solve(r, t, **{**PARAMS, **change})


def test_negative_time_in_mean_raises(geometry):
    _, mean, _ = geometry
    with pytest.raises(ParameterError, match=r"^t must be finite and >= 0"):
        mean(-1.0, **PARAMS)
