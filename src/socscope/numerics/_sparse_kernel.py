"""Compiled incomplete-Cholesky conjugate gradients for ``(diag(s) − A) z = b``.

``A`` is a symmetric graph Laplacian minus a non-negative diagonal, so
``diag(s) − A`` (``s > 0``) is a symmetric, diagonally dominant M-matrix:
its incomplete Cholesky factorisation with zero fill, IC(0), exists and is
stable. Each Newton iteration of a 2D particle needs one such solve; with
IC(0) the factorisation costs O(nnz) and is redone for every system (no
reuse heuristics), and CG needs few iterations because Newton only asks for
a modest relative residual.
"""

from __future__ import annotations

import numpy as np

from ._kernel_cache import cached_njit

__all__ = ["ic0_factor", "ic0_pcg"]


@cached_njit
def ic0_factor(n, m_indptr, m_indices, m_data, s, l_indptr, l_indices, l_pos, l_data, inv_diag):
    """IC(0) of ``diag(s) + M_off`` into the lower-triangular CSR pattern ``l_*``.

    Parameters
    ----------
    m_indptr, m_indices, m_data : CSR of ``−A`` (full, symmetric, sorted).
    s : ndarray
        Diagonal added to ``−A``.
    l_indptr, l_indices : CSR pattern of the lower triangle (diagonal last
        in each row, columns sorted).
    l_pos : ndarray
        Position in ``m_data`` of every entry of the lower pattern.
    l_data : ndarray
        Output values.
    inv_diag : ndarray
        Output: reciprocals of the factor's diagonal (the triangular solves
        multiply instead of dividing).
    """
    for i in range(n):
        start = l_indptr[i]
        end = l_indptr[i + 1]  # the last entry is the diagonal
        for p in range(start, end):
            k = l_indices[p]
            v = m_data[l_pos[p]]
            if k == i:
                v += s[i]
            # subtract Σ_j L[i, j] L[k, j] over common columns j < k
            pi = start
            pk = l_indptr[k]
            ek = l_indptr[k + 1] - 1  # exclude k's diagonal
            while pi < p and pk < ek:
                ci = l_indices[pi]
                ck = l_indices[pk]
                if ci == ck:
                    v -= l_data[pi] * l_data[pk]
                    pi += 1
                    pk += 1
                elif ci < ck:
                    pi += 1
                else:
                    pk += 1
            if k == i:
                l_data[p] = np.sqrt(v)
                inv_diag[i] = 1.0 / l_data[p]
            else:
                l_data[p] = v * inv_diag[k]


@cached_njit
def _apply_prec(n, l_indptr, l_indices, l_data, inv_diag, r, out):
    # forward: L y = r
    for i in range(n):
        acc = r[i]
        end = l_indptr[i + 1] - 1
        for p in range(l_indptr[i], end):
            acc -= l_data[p] * out[l_indices[p]]
        out[i] = acc * inv_diag[i]
    # backward: Lᵀ z = y (column sweep over the rows of L)
    for i in range(n - 1, -1, -1):
        end = l_indptr[i + 1] - 1
        out[i] *= inv_diag[i]
        zi = out[i]
        for p in range(l_indptr[i], end):
            out[l_indices[p]] -= l_data[p] * zi


@cached_njit
def ic0_pcg(n, m_indptr, m_indices, m_data, s, b, l_indptr, l_indices, l_data, inv_diag, rtol, max_iter):
    """Solve ``(diag(s) + M_off) z = b`` by IC(0)-preconditioned CG.

    Returns
    -------
    z : ndarray
    iterations : int
    """
    z = np.zeros(n)
    r = b.copy()
    bnorm = 0.0
    for i in range(n):
        bnorm += b[i] * b[i]
    bnorm = np.sqrt(bnorm)
    if bnorm == 0.0:
        return z, 0
    y = np.zeros(n)
    _apply_prec(n, l_indptr, l_indices, l_data, inv_diag, r, y)
    p = y.copy()
    ap = np.empty(n)
    ry = 0.0
    for i in range(n):
        ry += r[i] * y[i]
    it = 0
    while it < max_iter:
        for i in range(n):
            acc = s[i] * p[i]
            for q in range(m_indptr[i], m_indptr[i + 1]):
                acc += m_data[q] * p[m_indices[q]]
            ap[i] = acc
        pap = 0.0
        for i in range(n):
            pap += p[i] * ap[i]
        alpha = ry / pap
        rr = 0.0
        for i in range(n):
            z[i] += alpha * p[i]
            r[i] -= alpha * ap[i]
            rr += r[i] * r[i]
        it += 1
        if np.sqrt(rr) <= rtol * bnorm:
            break
        _apply_prec(n, l_indptr, l_indices, l_data, inv_diag, r, y)
        ry_new = 0.0
        for i in range(n):
            ry_new += r[i] * y[i]
        beta = ry_new / ry
        ry = ry_new
        for i in range(n):
            p[i] = y[i] + beta * p[i]
    return z, it


@cached_njit
def mic0_factor(n, m_indptr, m_indices, m_data, s, l_indptr, l_indices, l_pos, col_ptr, col_rows, col_pos,
                omega, l_data, inv_diag):
    """Modified IC(0): right-looking, with dropped fill moved to the diagonal.

    Where exact elimination of column ``j`` would update an entry ``(i, k)``
    outside the pattern, ``omega`` times that update is subtracted from the
    diagonals ``(i, i)`` and ``(k, k)`` instead of being dropped, so that
    ``L Lᵀ`` keeps the row sums of the matrix (for ``omega = 1``). For
    Laplacian-like matrices this cuts conjugate-gradient iterations well
    below plain IC(0). Returns False (and leaves a usable IC(0) factor
    undone) if a pivot is not positive; the caller then uses ``ic0_factor``.

    ``col_ptr, col_rows, col_pos`` list, for every column ``j``, the rows
    ``i > j`` of the lower pattern and their positions in ``l_data``.
    """
    for p in range(l_indices.size):
        l_data[p] = m_data[l_pos[p]]
    for i in range(n):
        l_data[l_indptr[i + 1] - 1] += s[i]
    for j in range(n):
        djj = l_data[l_indptr[j + 1] - 1]
        if not djj > 0.0:
            return False
        ljj = np.sqrt(djj)
        l_data[l_indptr[j + 1] - 1] = ljj
        inv_diag[j] = 1.0 / ljj
        c0 = col_ptr[j]
        c1 = col_ptr[j + 1]
        for q in range(c0, c1):
            l_data[col_pos[q]] *= inv_diag[j]
        for qa in range(c0, c1):
            i = col_rows[qa]
            lij = l_data[col_pos[qa]]
            # diagonal of row i
            l_data[l_indptr[i + 1] - 1] -= lij * lij
            for qb in range(c0, c1):
                k = col_rows[qb]
                if k >= i:
                    continue
                upd = lij * l_data[col_pos[qb]]
                # is (i, k) in the pattern of row i?
                found = -1
                for p in range(l_indptr[i], l_indptr[i + 1] - 1):
                    if l_indices[p] == k:
                        found = p
                        break
                if found >= 0:
                    l_data[found] -= upd
                else:
                    l_data[l_indptr[i + 1] - 1] -= omega * upd
                    l_data[l_indptr[k + 1] - 1] -= omega * upd
    return True


def warm_up_arguments() -> dict:
    """Arguments of the three kernels with the types :class:`~socscope.numerics.linear.IC0Operator` passes.

    A 1×1 system ``(s + 1) z = b``; ``tests/numerics/test_kernel_cache.py`` checks that a 2D
    particle run compiles these signatures.
    """
    i8 = np.int64
    m = (np.array([0, 1], dtype=i8), np.array([0], dtype=i8), np.ones(1))
    lower = (np.array([0, 1], dtype=i8), np.array([0], dtype=i8))
    l_pos = np.array([0], dtype=i8)
    col = (np.array([0, 0], dtype=i8), np.zeros(0, dtype=i8), np.zeros(0, dtype=i8))
    s = np.ones(1)
    return {
        "mic0_factor": (1, *m, s, *lower, l_pos, *col, 0.95, np.empty(1), np.empty(1)),
        "ic0_factor": (1, *m, s, *lower, l_pos, np.empty(1), np.empty(1)),
        "ic0_pcg": (1, *m, s, np.ones(1), *lower, np.ones(1), np.ones(1), 1e-3, 500),
    }


def warm_up() -> None:
    """Compile (or load) the kernels of a 2D particle run with the signatures it uses."""
    for name, args in warm_up_arguments().items():
        globals()[name](*args)
