"""Linear operators acting on the Kirchhoff potential, and their Newton solves.

The semi-discrete systems socscope integrates have the form

    V du/dt = A K(u) + b

with ``A`` a constant sparse matrix (graph Laplacian plus boundary terms),
``K`` the Kirchhoff potential and ``b`` a constant source. An implicit step
needs solves with the iteration matrix ``c V − h A diag(D(u))``.

Two implementations share one interface:

* :class:`TridiagonalOperator` — radial (1D) grids, single or batched: the
  whole batch is one tridiagonal system with zero couplings between
  particles, solved by LAPACK's banded solver in O(n).
* :class:`SparseOperator` — any grid: sparse LDLᵀ (QDLDL), factorised on
  request so that an integrator can reuse one factorisation for several
  Newton iterations (simplified Newton).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from ..errors import SolverError

__all__ = ["TridiagonalOperator", "SparseOperator", "IC0Operator", "make_operator", "ldl_factor"]


def ldl_factor(upper: sp.csc_matrix, previous=None):
    """LDLᵀ factorisation (qdldl) of a symmetric matrix given by its upper triangle.

    ``previous`` (a factorisation of a matrix with the same pattern) is
    updated in place, which reuses its ordering and symbolic analysis.
    The result has ``solve(rhs)``.
    """
    import qdldl

    try:
        if previous is not None:
            previous.update(upper, upper=True)
            return previous
        return qdldl.Solver(upper, upper=True)
    except RuntimeError as exc:  # qdldl: "... not quasi-definite" when a pivot vanishes in round-off
        raise SolverError(
            f"a sparse matrix cannot be factorised ({exc}): a pivot vanished in round-off, which happens when "
            "some coefficients (conductances, transport coefficients) dwarf others by more than double precision "
            "holds; bring them closer together (in an electrode: sigma_cb near 1e4 S/m, contact or conductance "
            "factors not far below 1)"
        ) from None


class TridiagonalOperator:
    """``A`` with non-zeros only on the three central diagonals.

    Parameters
    ----------
    matrix : scipy.sparse matrix, shape (n, n)
        Must be tridiagonal.
    """

    reuses_factorisation = False

    def __init__(self, matrix: sp.spmatrix):
        m = sp.csr_matrix(matrix)
        n = m.shape[0]
        self.n = n
        self.diag = m.diagonal().copy()
        self.upper = m.diagonal(1).copy() if n > 1 else np.zeros(0)
        self.lower = m.diagonal(-1).copy() if n > 1 else np.zeros(0)
        coo = m.tocoo()
        if np.any(np.abs(coo.row - coo.col) > 1):
            raise ValueError("TridiagonalOperator needs a tridiagonal matrix")
        self.col_sums = np.asarray(m.sum(axis=0)).ravel()
        self._ab = np.zeros((3, n))

    def matvec(self, k: np.ndarray) -> np.ndarray:
        out = self.diag * k
        if self.n > 1:
            out[:-1] += self.upper * k[1:]
            out[1:] += self.lower * k[:-1]
        return out

    def factorise(self, mass_coef: np.ndarray, h: float, d: np.ndarray) -> None:
        """Prepare solves with ``diag(mass_coef) − h A diag(d)``."""
        ab = self._ab
        ab[1] = mass_coef - h * self.diag * d
        if self.n > 1:
            ab[0, 1:] = -h * self.upper * d[1:]
            ab[2, :-1] = -h * self.lower * d[:-1]
        self._fact = ab.copy()

    def add_to_factorised(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        """Add ``values`` at ``(rows, cols)`` (within the band) of the matrix just prepared by :meth:`factorise`."""
        if np.any(np.abs(rows - cols) > 1):
            raise ValueError("TridiagonalOperator: entries must lie on the three central diagonals")
        np.add.at(self._fact, (1 + rows - cols, cols), values)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return sla.solve_banded((1, 1), self._fact, rhs, overwrite_ab=False, check_finite=False)


class SparseOperator:
    """General sparse symmetric ``A`` with factorisation reuse.

    Solves ``(diag(c) − h A diag(d)) δ = r`` through the symmetric positive
    definite form ``(diag(c/d) − h A) z = r``, ``δ = z / d`` (``A`` is a
    symmetric graph Laplacian minus a non-negative diagonal, ``c, d > 0``).
    That matrix changes from one Newton iteration or time step to the next
    only in its diagonal ``s = c/(h d)``. A factorisation made at ``s_old`` is
    therefore a preconditioner for conjugate gradients whose condition
    number is at most ``max(s/s_old, 1) / min(s/s_old, 1)`` (a Rayleigh-quotient
    bound), so the operator refactorises only when that ratio exceeds
    ``refactor_ratio`` and otherwise solves by a few preconditioned CG
    iterations; it also refactorises when CG starts to need many iterations. Factorisations use QDLDL (sparse LDLᵀ with AMD ordering,
    symbolic analysis done once; :func:`ldl_factor`).

    Parameters
    ----------
    matrix : scipy.sparse matrix, shape (n, n)
        Symmetric; its pattern must contain the diagonal.
    refactor_ratio : float
        Largest tolerated bound on the condition number; beyond it the
        operator refactorises before solving.
    max_cg : int
        Refactorise before the next solve when the last one needed more CG
        iterations than this (the bound is pessimistic when only the few
        cells at a moving front change, so the observed count decides).
    cg_rtol : float
        Relative residual at which CG stops. Newton needs only an inexact
        linear solve (its convergence rate then equals the forcing term), and
        Li conservation is restored exactly by the integrator's projection,
        so 1e-2 is enough; measured fastest on the P2 benchmark among
        1e-1 … 1e-3 with identical reported quantities to 1e-5.
    """

    reuses_factorisation = True

    def __init__(self, matrix: sp.spmatrix, *, refactor_ratio: float = 1e6, max_cg: int = 4,
                 cg_rtol: float = 1e-2):
        m = sp.csc_matrix(matrix, dtype=float)
        m = (m + sp.identity(m.shape[0], format="csc") * 0.0).tocsc()
        m.sort_indices()
        if abs(m - m.T).max() > 1e-12 * abs(m).max():
            raise ValueError("SparseOperator needs a symmetric matrix")
        self.n = m.shape[0]
        self.matrix = m
        self.csr = m.tocsr()
        rows = m.indices
        cols = np.repeat(np.arange(self.n), np.diff(m.indptr))
        self._diag_pos = np.nonzero(rows == cols)[0]
        if self._diag_pos.size != self.n:
            raise ValueError("SparseOperator: pattern must contain the diagonal")
        self.col_sums = np.asarray(m.sum(axis=0)).ravel()
        self.refactor_ratio = refactor_ratio
        self.max_cg = max_cg
        self._last_cg = 0
        self.cg_rtol = cg_rtol
        self._fact = None
        self._s_fact = None
        self._h = None
        self.n_factor = 0
        self.n_cg = 0

    def matvec(self, k: np.ndarray) -> np.ndarray:
        return self.csr @ k

    def _assemble(self, s: np.ndarray) -> sp.csc_matrix:
        data = -self.matrix.data.copy()
        data[self._diag_pos] += s
        return sp.csc_matrix((data, self.matrix.indices, self.matrix.indptr), shape=self.matrix.shape)

    def _factor(self, s: np.ndarray) -> None:
        self._fact = ldl_factor(sp.triu(self._assemble(s), format="csc"), self._fact)
        self._s_fact = s.copy()
        self._last_cg = 0
        self.n_factor += 1

    def factorise(self, mass_coef: np.ndarray, h: float, d: np.ndarray) -> None:
        """Prepare solves with ``diag(mass_coef) − h A diag(d)``."""
        s = mass_coef / (h * d)
        self._s = s
        self._d = d
        self._h = h
        if self._s_fact is None:
            self._factor(s)
            return
        if self._last_cg > self.max_cg:
            self._factor(s)
            return
        ratio = s / self._s_fact
        # the unchanged −A part pins one end of the bound at 1
        if max(ratio.max(), 1.0) / min(ratio.min(), 1.0) > self.refactor_ratio:
            self._factor(s)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Solve the prepared system (exactly, or by preconditioned CG)."""
        b = rhs / self._h
        s = self._s
        prec = self._fact.solve
        if self._s_fact is s or np.array_equal(self._s_fact, s):
            z = prec(b)
            return z / self._d
        # preconditioned conjugate gradients on (diag(s) − A) z = b; inner
        # products as plain reductions: BLAS dot/norm start threads whose
        # synchronisation costs more than these short vectors' arithmetic
        csr = self.csr
        bnorm = np.sqrt(_dot(b, b))
        if bnorm == 0.0:
            return np.zeros_like(b)
        z = prec(b)
        r = b - (s * z - csr @ z)
        self._last_cg = 0
        if np.sqrt(_dot(r, r)) <= self.cg_rtol * bnorm:
            return z / self._d
        y = prec(r)
        p = y.copy()
        ry = _dot(r, y)
        for _ in range(200):
            ap = s * p - csr @ p
            alpha = ry / _dot(p, ap)
            z += alpha * p
            r -= alpha * ap
            self.n_cg += 1
            self._last_cg += 1
            if np.sqrt(_dot(r, r)) <= self.cg_rtol * bnorm:
                break
            y = prec(r)
            ry_new = _dot(r, y)
            p = y + (ry_new / ry) * p
            ry = ry_new
        return z / self._d


class IC0Operator:
    """General sparse symmetric ``A`` solved by compiled incomplete-Cholesky CG.

    Solves ``(diag(c) − h A diag(d)) δ = r`` through the symmetric M-matrix
    form ``(diag(c/(h d)) − A) z = r/h``, ``δ = z/d``, refactorising the
    incomplete Cholesky factor (O(nnz)) for every system: modified IC(0)
    (dropped fill moved to the diagonal, relaxation ``omega``), falling back
    to plain IC(0) if a pivot fails. Needs numba.

    Parameters
    ----------
    matrix : scipy.sparse matrix, shape (n, n)
        Symmetric, with non-negative off-diagonals and non-positive column
        sums (a graph Laplacian minus a non-negative diagonal).
    cg_rtol : float
        Relative residual at which CG stops. Newton needs only an inexact
        solve (its convergence rate then equals this forcing term) and the
        integrator's projection restores Li conservation exactly.
    omega : float
        Share of the dropped fill moved to the diagonal (0: plain IC(0)).
        0.95 cut CG iterations on benchmark P2 by 20 % (1.0 by 7 %).
    """

    reuses_factorisation = False

    def __init__(self, matrix: sp.spmatrix, *, cg_rtol: float = 1e-3, max_iter: int = 500, omega: float = 0.95):
        m = sp.csr_matrix(matrix, dtype=float)
        m = (m + sp.identity(m.shape[0], format="csr") * 0.0).tocsr()
        m.sort_indices()
        if abs(m - m.T).max() > 1e-12 * abs(m).max():
            raise ValueError("IC0Operator needs a symmetric matrix")
        self.n = m.shape[0]
        self.csr = m
        neg = (-m).tocsr()
        neg.sort_indices()
        self._m = (neg.indptr.astype(np.int64), neg.indices.astype(np.int64), neg.data.copy())
        # lower-triangle pattern (columns sorted, diagonal last) and where
        # each of its entries sits in the full matrix
        rows = np.repeat(np.arange(self.n), np.diff(neg.indptr))
        keep = neg.indices <= rows
        self._l_indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=self.n))]).astype(np.int64)
        self._l_indices = neg.indices[keep].astype(np.int64)
        self._l_pos = np.nonzero(keep)[0].astype(np.int64)
        self._l_data = np.empty(self._l_indices.size)
        self._inv_diag = np.empty(self.n)
        # column view of the strictly lower pattern, for the right-looking MIC(0)
        strict = np.nonzero(self._l_indices != np.repeat(np.arange(self.n), np.diff(self._l_indptr)))[0]
        l_rows = np.repeat(np.arange(self.n), np.diff(self._l_indptr))[strict]
        l_cols = self._l_indices[strict]
        order = np.lexsort((l_rows, l_cols))
        self._col_rows = l_rows[order].astype(np.int64)
        self._col_pos = strict[order].astype(np.int64)
        self._col_ptr = np.concatenate([[0], np.cumsum(np.bincount(l_cols, minlength=self.n))]).astype(np.int64)
        self.col_sums = np.asarray(m.sum(axis=0)).ravel()
        self.cg_rtol = cg_rtol
        self.max_iter = max_iter
        self.omega = omega
        self.n_factor = 0
        self.n_cg = 0

    def matvec(self, k: np.ndarray) -> np.ndarray:
        return self.csr @ k

    def factorise(self, mass_coef: np.ndarray, h: float, d: np.ndarray) -> None:
        """Prepare solves with ``diag(mass_coef) − h A diag(d)``."""
        from ._sparse_kernel import ic0_factor, mic0_factor

        self._s = mass_coef / (h * d)
        self._d = d
        self._h = h
        ok = self.omega > 0 and mic0_factor(
            self.n, *self._m, self._s, self._l_indptr, self._l_indices, self._l_pos,
            self._col_ptr, self._col_rows, self._col_pos, self.omega, self._l_data, self._inv_diag,
        )
        if not ok:
            ic0_factor(self.n, *self._m, self._s, self._l_indptr, self._l_indices, self._l_pos, self._l_data,
                       self._inv_diag)
        self.n_factor += 1

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        from ._sparse_kernel import ic0_pcg

        z, it = ic0_pcg(self.n, *self._m, self._s, np.ascontiguousarray(rhs / self._h),
                        self._l_indptr, self._l_indices, self._l_data, self._inv_diag, self.cg_rtol,
                        self.max_iter)
        self.n_cg += it
        return z / self._d


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product without BLAS (see :meth:`SparseOperator.solve`)."""
    return float(np.multiply(a, b).sum())


def is_tridiagonal(matrix: sp.spmatrix) -> bool:
    coo = sp.coo_matrix(matrix)
    return bool(np.all(np.abs(coo.row - coo.col) <= 1))


def make_operator(matrix: sp.spmatrix):
    """Pick the fastest operator for ``matrix``: tridiagonal if it is, else
    compiled IC(0)-CG when numba is available, else LDLᵀ with PCG reuse."""
    from ._tridiag_kernel import HAVE_NUMBA

    if is_tridiagonal(matrix):
        return TridiagonalOperator(matrix)
    if HAVE_NUMBA:
        return IC0Operator(matrix)
    return SparseOperator(matrix)
