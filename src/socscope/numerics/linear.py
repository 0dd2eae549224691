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
* :class:`SparseOperator` — any grid: sparse LU (SuperLU), factorised on
  request so that an integrator can reuse one factorisation for several
  Newton iterations (simplified Newton).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["TridiagonalOperator", "SparseOperator", "make_operator"]


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

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return sla.solve_banded((1, 1), self._fact, rhs, overwrite_ab=False, check_finite=False)


class SparseOperator:
    """General sparse ``A`` (compressed sparse column) with SuperLU solves.

    Parameters
    ----------
    matrix : scipy.sparse matrix, shape (n, n)
        Its sparsity pattern must contain the diagonal.
    """

    reuses_factorisation = True

    def __init__(self, matrix: sp.spmatrix):
        m = sp.csc_matrix(matrix, dtype=float)
        m = (m + sp.identity(m.shape[0], format="csc") * 0.0).tocsc()
        m.sort_indices()
        self.n = m.shape[0]
        self.matrix = m
        self.csr = m.tocsr()
        counts = np.diff(m.indptr)
        self._col_of_entry = np.repeat(np.arange(self.n), counts)
        self._diag_pos = np.empty(self.n, dtype=np.intp)
        rows = m.indices
        for j in range(self.n):
            seg = slice(m.indptr[j], m.indptr[j + 1])
            hit = np.nonzero(rows[seg] == j)[0]
            self._diag_pos[j] = m.indptr[j] + hit[0]
        self.col_sums = np.asarray(m.sum(axis=0)).ravel()
        self._lu = None

    def matvec(self, k: np.ndarray) -> np.ndarray:
        return self.csr @ k

    def factorise(self, mass_coef: np.ndarray, h: float, d: np.ndarray) -> None:
        """Factorise ``diag(mass_coef) − h A diag(d)`` with SuperLU."""
        data = -h * self.matrix.data * d[self._col_of_entry]
        data[self._diag_pos] += mass_coef
        jac = sp.csc_matrix((data, self.matrix.indices, self.matrix.indptr), shape=self.matrix.shape)
        # The matrix is diagonally dominant by columns (column sums of A are
        # <= 0 and D > 0), so no pivoting is needed; MMD on A+Aᵀ suits the
        # structurally symmetric pattern of a finite-volume graph.
        self._lu = spla.splu(jac, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                             options={"SymmetricMode": True})

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return self._lu.solve(rhs)


def is_tridiagonal(matrix: sp.spmatrix) -> bool:
    coo = sp.coo_matrix(matrix)
    return bool(np.all(np.abs(coo.row - coo.col) <= 1))


def make_operator(matrix: sp.spmatrix):
    """Pick the fastest operator for ``matrix`` (tridiagonal if it is)."""
    if is_tridiagonal(matrix):
        return TridiagonalOperator(matrix)
    return SparseOperator(matrix)
