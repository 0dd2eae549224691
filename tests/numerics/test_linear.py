"""Tridiagonal and sparse operators: solves against scipy's direct solver."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.testing import assert_allclose

from socscope.numerics import SparseOperator, TridiagonalOperator, make_operator
from socscope.numerics._tridiag_kernel import HAVE_NUMBA
from socscope.numerics.linear import IC0Operator


def random_tridiagonal(rng, n):
    """Diagonally dominant, non-symmetric tridiagonal matrix."""
    lower = rng.uniform(0.1, 1.0, n - 1)
    upper = rng.uniform(0.1, 1.0, n - 1)
    diag = -(np.concatenate([[0], lower]) + np.concatenate([upper, [0]])) - rng.uniform(0.0, 0.5, n)
    return sp.diags([lower, diag, upper], [-1, 0, 1], format="csr")


def random_laplacian(rng, n, density=0.05, sink=True):
    """Symmetric graph Laplacian of a random connected graph, minus a non-negative diagonal."""
    w = sp.random(n, n, density=density, random_state=np.random.RandomState(rng.integers(2**31)))
    w = sp.triu(w, k=1)
    chain = sp.diags(rng.uniform(0.5, 1.5, n - 1), 1)  # keep the graph connected
    w = (w + chain).tocsr()
    w = w + w.T
    lap = w - sp.diags(np.asarray(w.sum(axis=1)).ravel())
    if sink:
        lap = lap - sp.diags(np.where(rng.uniform(size=n) < 0.1, rng.uniform(0, 1, n), 0.0))
    return sp.csc_matrix(lap)


def iteration_matrix(a, c, h, d):
    return (sp.diags(c) - h * a @ sp.diags(d)).tocsc()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 2, 7, 200])
def test_tridiagonal_solve_matches_spsolve(seed, n):
    rng = np.random.default_rng(seed)
    a = random_tridiagonal(rng, n) if n > 1 else sp.csr_matrix([[-0.7]])
    op = TridiagonalOperator(a)
    c = rng.uniform(0.5, 2.0, n)
    d = rng.uniform(0.1, 10.0, n)
    h = 0.3
    rhs = rng.normal(size=n)
    op.factorise(c, h, d)
    x = op.solve(rhs)
    ref = spla.spsolve(iteration_matrix(sp.csr_matrix(a), c, h, d), rhs)
    # both are direct LU solves of a well-conditioned (diagonally dominant)
    # system: agreement to a few ulp times the condition number (< 1e3)
    assert_allclose(x, np.atleast_1d(ref), rtol=1e-11, atol=1e-12)
    # the mat-vec is the matrix product
    k = rng.normal(size=n)
    assert_allclose(op.matvec(k), a @ k, rtol=1e-14, atol=1e-14)


def test_tridiagonal_operator_rejects_a_wider_band():
    a = sp.diags([np.ones(4), -2 * np.ones(5), np.ones(4), np.ones(3)], [-1, 0, 1, 2])
    with pytest.raises(ValueError, match="tridiagonal"):
        TridiagonalOperator(a)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sparse_solve_matches_spsolve(seed):
    rng = np.random.default_rng(seed)
    n = 300
    a = random_laplacian(rng, n)
    op = SparseOperator(a)
    c = rng.uniform(0.5, 2.0, n)
    d = rng.uniform(0.1, 10.0, n)
    h = 0.05
    rhs = rng.normal(size=n)
    op.factorise(c, h, d)
    x = op.solve(rhs)
    ref = spla.spsolve(iteration_matrix(a, c, h, d), rhs)
    # a fresh factorisation is a direct solve: round-off times a condition
    # number below ~1e4 for these diagonally dominant systems
    assert_allclose(x, ref, rtol=1e-9, atol=1e-11)
    assert op.n_factor == 1
    k = rng.normal(size=n)
    assert_allclose(op.matvec(k), a @ k, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_reuses_the_factorisation_and_pcg_converges(seed):
    rng = np.random.default_rng(seed)
    n = 300
    a = random_laplacian(rng, n)
    # a tight CG tolerance exposes the PCG answer itself; max_cg high so that
    # the iteration count does not trigger the (separate) refactorisation rule
    op = SparseOperator(a, cg_rtol=1e-12, max_cg=1000)
    c = rng.uniform(0.5, 2.0, n)
    d = rng.uniform(0.1, 10.0, n)
    h = 0.05
    op.factorise(c, h, d)
    op.solve(rng.normal(size=n))
    assert op.n_factor == 1
    for step in range(3):
        d = d * (1.0 + 0.05 * rng.uniform(-1, 1, n))  # a Newton iteration's small change
        op.factorise(c, h, d)
        rhs = rng.normal(size=n)
        x = op.solve(rhs)
        ref = spla.spsolve(iteration_matrix(a, c, h, d), rhs)
        # CG stopped at relative residual 1e-12; the error is at most that
        # times the condition number (< 1e4 here)
        assert_allclose(x, ref, rtol=1e-7, atol=1e-9)
    # the old factorisation served as preconditioner: no refactorisation, some CG iterations
    assert op.n_factor == 1
    assert op.n_cg > 0


def test_sparse_default_cg_meets_its_residual_contract():
    rng = np.random.default_rng(5)
    n = 400
    a = random_laplacian(rng, n)
    op = SparseOperator(a)  # cg_rtol = 1e-2
    c = rng.uniform(0.5, 2.0, n)
    d = rng.uniform(0.1, 10.0, n)
    h = 0.05
    op.factorise(c, h, d)
    d2 = d * (1.0 + 0.3 * rng.uniform(-1, 1, n))
    op.factorise(c, h, d2)
    rhs = rng.normal(size=n)
    x = op.solve(rhs)
    res = iteration_matrix(a, c, h, d2) @ x - rhs
    # the documented inexact solve: residual at most cg_rtol = 1e-2 of the
    # right-hand side (the preconditioned CG norm equals the system residual / h)
    assert np.linalg.norm(res) <= 1e-2 * np.linalg.norm(rhs) * (1 + 1e-9)
    assert op.n_factor == 1


def test_sparse_refactorises_when_the_diagonal_changes_a_lot():
    rng = np.random.default_rng(7)
    n = 200
    a = random_laplacian(rng, n)
    op = SparseOperator(a, refactor_ratio=100.0)
    c = rng.uniform(0.5, 2.0, n)
    d = rng.uniform(0.1, 10.0, n)
    h = 0.05
    op.factorise(c, h, d)
    d2 = d.copy()
    d2[::3] *= 1e4  # bound max(ratio)/min(ratio) = 1e4 > refactor_ratio
    op.factorise(c, h, d2)
    assert op.n_factor == 2
    rhs = rng.normal(size=n)
    x = op.solve(rhs)
    ref = spla.spsolve(iteration_matrix(a, c, h, d2), rhs)
    # refactorised (through the numeric update of the old symbolic analysis):
    # a direct solve again, agreement to round-off times the condition number
    assert_allclose(x, ref, rtol=1e-8, atol=1e-10)


def test_sparse_zero_right_hand_side_gives_zero():
    rng = np.random.default_rng(3)
    a = random_laplacian(rng, 50)
    op = SparseOperator(a)
    c, d = np.ones(50), np.ones(50)
    op.factorise(c, 0.1, d)
    op.factorise(c, 0.1, d * 1.01)
    assert np.all(op.solve(np.zeros(50)) == 0.0)


def test_sparse_operator_rejects_a_non_symmetric_matrix():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="symmetric"):
        SparseOperator(random_tridiagonal(rng, 20))


def test_make_operator_picks_by_structure():
    rng = np.random.default_rng(0)
    assert isinstance(make_operator(random_tridiagonal(rng, 10)), TridiagonalOperator)
    expected = IC0Operator if HAVE_NUMBA else SparseOperator
    assert isinstance(make_operator(random_laplacian(rng, 30)), expected)


@pytest.mark.skipif(not HAVE_NUMBA, reason="IC0Operator needs numba")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ic0_operator_solves_to_its_tolerance(seed):
    rng = np.random.default_rng(seed)
    n = 400
    a = random_laplacian(rng, n)
    c = rng.uniform(0.5, 2.0, n)
    d = rng.uniform(0.1, 10.0, n)
    h = 0.3
    op = IC0Operator(a, cg_rtol=1e-12)
    op.factorise(c, h, d)
    rhs = rng.normal(size=n)
    jac = sp.diags(c) - h * a @ sp.diags(d)
    exact = spla.spsolve(jac.tocsc(), rhs)
    # CG stops at a 1e-12 relative residual of the symmetric form; the
    # condition number of these random systems is < 1e3, so 1e-9 on δ
    assert_allclose(op.solve(rhs), exact, rtol=1e-9, atol=1e-12 * np.abs(exact).max())
    assert op.n_cg < 200  # IC(0) keeps CG short (an unpreconditioned run needs ~n)


@pytest.mark.skipif(not HAVE_NUMBA, reason="IC0Operator needs numba")
def test_ic0_is_exact_on_a_tree():
    # a chain has no fill: IC(0) is the exact Cholesky factor and CG stops
    # after one iteration
    rng = np.random.default_rng(5)
    w = rng.uniform(0.5, 1.5, 49)
    a = sp.diags([w, -(np.concatenate([[0], w]) + np.concatenate([w, [0]])), w], [-1, 0, 1], format="csr")
    op = IC0Operator(a, cg_rtol=1e-12)
    c, d = rng.uniform(1, 2, 50), rng.uniform(1, 2, 50)
    op.factorise(c, 0.1, d)
    rhs = rng.normal(size=50)
    exact = spla.spsolve((sp.diags(c) - 0.1 * a @ sp.diags(d)).tocsc(), rhs)
    assert_allclose(op.solve(rhs), exact, rtol=1e-10)
    assert op.n_cg == 1


def test_sparse_refactorises_after_a_slow_cg_solve():
    rng = np.random.default_rng(11)
    n = 300
    a = random_laplacian(rng, n)
    op = SparseOperator(a, cg_rtol=1e-12, max_cg=2)
    c = rng.uniform(0.5, 2.0, n)
    d = rng.uniform(0.1, 10.0, n)
    op.factorise(c, 0.05, d)
    d = d * (1.0 + 0.2 * rng.uniform(-1, 1, n))
    op.factorise(c, 0.05, d)
    op.solve(rng.normal(size=n))
    assert op.n_factor == 1 and op.n_cg > 2  # a 1e-12 residual takes more than 2 CG iterations
    op.factorise(c, 0.05, d * 1.001)
    # the observed iteration count decides: the next system is factorised afresh
    assert op.n_factor == 2


@pytest.mark.skipif(not HAVE_NUMBA, reason="IC0Operator needs numba")
def test_modified_ic0_needs_fewer_iterations_on_a_grid():
    # a 2D grid Laplacian plus a small mass term, as a disc's iteration matrix
    from socscope.geometry import Disc
    from socscope.numerics import laplacian_matrix

    g = Disc(2e-6).mesh(1e-6 / 40)
    a = laplacian_matrix(g) / g.face_trans.max()
    rng = np.random.default_rng(3)
    c = 1e-3 * rng.uniform(0.5, 2.0, g.n_cells)
    d = np.ones(g.n_cells)
    rhs = rng.normal(size=g.n_cells)
    its = {}
    for omega in (0.0, 0.95):
        op = IC0Operator(a, cg_rtol=1e-8, omega=omega)
        op.factorise(c, 1.0, d)
        z = op.solve(rhs)
        # both solve the system to the CG tolerance
        jac = sp.diags(c) - a
        assert np.linalg.norm(jac @ z - rhs) <= 1e-7 * np.linalg.norm(rhs)
        its[omega] = op.n_cg
    # dropped fill moved to the diagonal keeps the row sums: measured 64
    # against 108 iterations here
    assert its[0.95] < 0.8 * its[0.0], its
