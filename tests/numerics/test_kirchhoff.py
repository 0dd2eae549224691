"""Checks of the Kirchhoff table K(u) = ∫ D: slopes, values, inverse, extension."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import quad

from socscope.numerics import KirchhoffTable


def logistic_d(u):
    """A material-like diffusivity: 1e-18 near u = 1, 1e-14 below u ≈ 0.8 (4 orders)."""
    u = np.asarray(u, dtype=float)
    return 1e-18 + (1e-14 - 1e-18) / (1.0 + np.exp((u - 0.8) / 0.03))


def exp_d(u):
    return 1e-15 * np.exp(3.0 * np.asarray(u, dtype=float))


def exp_k(u):
    """Exact ∫_0^u of exp_d."""
    return 1e-15 * (np.exp(3.0 * np.asarray(u, dtype=float)) - 1.0) / 3.0


@pytest.fixture(scope="module")
def logistic_table():
    return KirchhoffTable.from_function(logistic_d)


def test_constant_d_gives_exactly_linear_k():
    d = 2.5e-15
    table = KirchhoffTable.from_function(lambda u: np.full(np.shape(u), d), n_intervals=50)
    u = np.linspace(-0.3, 1.4, 1001)  # inside and outside [0, 1]
    k, dk = table.evaluate(u)
    # a cubic Hermite interpolant of a linear function is that function; only
    # the rounding of the node sums (50 additions) remains: 1e-14 relative
    assert_allclose(k, d * u, rtol=1e-13, atol=1e-14 * d)
    assert_allclose(dk, d, rtol=1e-13)
    assert_allclose(table.inverse(k), u, rtol=0, atol=1e-12)  # K⁻¹ of a line: round-off


def test_slope_equals_d_at_the_nodes(logistic_table):
    t = logistic_table
    nodes = np.linspace(t.lo, t.hi, t.n_intervals + 1)
    _, dk = t.evaluate(nodes)
    # the Hermite slopes are D itself; the node coordinate is recomputed from
    # (u - lo)/h, which is exact to a few ulp, so 1e-9 relative is plenty even
    # where D changes by 1/0.03 per unit u
    assert_allclose(dk, logistic_d(nodes), rtol=1e-9)


def test_node_values_are_the_integral_of_d():
    t = KirchhoffTable.from_function(exp_d, n_intervals=200)
    nodes = np.linspace(0.0, 1.0, 201)
    # 4-point Gauss–Legendre per interval: error ~ h^8 D^(8) ≈ 1e-18 relative;
    # 1e-13 allows for the rounding of 200 partial sums
    assert_allclose(t.k, exp_k(nodes), rtol=1e-13, atol=1e-30)


def test_k_between_nodes_matches_quadrature(logistic_table):
    u = np.random.default_rng(1).uniform(0.0, 1.0, 200)
    exact = np.array([quad(logistic_d, 0.0, x, points=[0.8], epsabs=0, epsrel=1e-12, limit=200)[0] for x in u])
    k, _ = logistic_table.evaluate(u)
    # cubic Hermite error ≤ h⁴/384 max|K''''| with h = 2.5e-4 and
    # |K''''| = |D'''| ≤ ~1e-14/0.03³: ~1e-20, far below 1e-10 of K's scale (~2e-15)
    assert_allclose(k, exact, rtol=1e-10, atol=1e-25)


def test_derivative_matches_finite_difference_between_nodes(logistic_table):
    t = logistic_table
    h = (t.hi - t.lo) / t.n_intervals
    u = t.lo + (np.arange(50, 3950, 97) + 0.37) * h  # strictly inside intervals
    eps = 1e-3 * h
    kp, _ = t.evaluate(u + eps)
    km, _ = t.evaluate(u - eps)
    _, dk = t.evaluate(u)
    fd = (kp - km) / (2 * eps)
    # central difference of a cubic: error eps²/6 |K'''| ≤ (2.5e-7)² /6 × 1e-14/0.03²
    # ≈ 1e-22 absolute, plus cancellation ~1e-16 K / eps ≈ 1e-21; 1e-6 relative is safe
    assert_allclose(fd, dk, rtol=1e-6)
    # and the interpolated slope is D itself to the Hermite derivative error
    # h³/24 |D'''| ≈ 4e-25, i.e. < 1e-8 relative even at D = 1e-18
    assert_allclose(dk, logistic_d(u), rtol=1e-6)


def test_inverse_round_trips_over_four_orders_of_d(logistic_table):
    u = np.concatenate([np.linspace(0.0, 1.0, 2001), [1e-9, 1 - 1e-9, 0.8, 0.95, 0.999]])
    k, _ = logistic_table.evaluate(u)
    # three Newton steps from a guess within one node spacing: quadratic
    # convergence reaches round-off (1e-12 in u) even where D = 1e-18
    assert_allclose(logistic_table.inverse(k), u, rtol=0, atol=1e-12)


def test_linear_extension_outside_the_table(logistic_table):
    t = logistic_table
    below = np.array([-0.5, -0.01, -1e-6])
    above = np.array([1 + 1e-6, 1.02, 1.7])
    kb, db = t.evaluate(below)
    ka, da = t.evaluate(above)
    # the extension is exactly the end value plus the end slope times the distance
    assert_allclose(kb, t.k[0] + t.d[0] * (below - t.lo), rtol=1e-14)
    assert_allclose(db, t.d[0], rtol=0)
    assert_allclose(ka, t.k[-1] + t.d[-1] * (above - t.hi), rtol=1e-14)
    assert_allclose(da, t.d[-1], rtol=0)
    # continuity at the ends (C1): values and slopes join to round-off (measured 0 for all
    # four; 1e-14 allows a few ulp of the interpolant's arithmetic at the end node)
    k_lo, d_lo = t.evaluate(np.array([t.lo]))
    k_hi, d_hi = t.evaluate(np.array([t.hi]))
    assert_allclose(k_lo, t.k[0], atol=1e-30)
    assert_allclose(k_hi, t.k[-1], rtol=1e-14)
    assert_allclose(d_hi, t.d[-1], rtol=1e-14)
    # the inverse follows the same lines
    assert_allclose(t.inverse(np.concatenate([kb, ka])), np.concatenate([below, above]), atol=1e-12)


def test_evaluate_keeps_the_shape_of_its_input(logistic_table):
    u = np.full((3, 4), 0.5)
    k, dk = logistic_table.evaluate(u)
    assert k.shape == dk.shape == (3, 4)


@pytest.mark.parametrize("bad", [0.0, -1e-15, np.nan])
def test_non_positive_or_nan_diffusivity_is_rejected(bad):
    def d(u):
        u = np.asarray(u, dtype=float)
        return np.where(u > 0.5, bad, 1e-15)

    with pytest.raises(ValueError, match=r"> 0") as info:
        KirchhoffTable.from_function(d)
    # the message names the bad value
    assert repr(float(bad)) in str(info.value) or str(bad) in str(info.value)
