"""Resistor networks: graph Laplacians with a fixed pattern and fast refactorisation.

A network of ``n`` nodes joined by ``E`` edges of conductance ``G_e`` has
the weighted graph Laplacian ``(L φ)_m = Σ_{e ∋ m} G_e (φ_m − φ_other)``:
the current leaving node ``m`` through its edges. Kirchhoff's current law
with node sources ``I_m`` (current leaving the network at ``m``) reads
``L φ + I = 0``.

:class:`ConductanceNetwork` keeps the sparsity pattern of ``L`` on the nodes
that are not held (a linearised source to a fixed potential — a reaction,
say — is an edge to a held node), so that every new set of
conductances only refills the numbers and refactorises them (sparse
``LDLᵀ`` with an AMD ordering, symbolic analysis done once, via QDLDL:
:func:`~socscope.numerics.linear.ldl_factor`). Nothing here knows about batteries.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .linear import ldl_factor

__all__ = ["ConductanceNetwork", "edge_currents", "laplacian_apply", "reachable"]


def laplacian_apply(edges: np.ndarray, conductance: np.ndarray, phi: np.ndarray, n_nodes: int) -> np.ndarray:
    """``L φ``: the current leaving each node through its edges [A].

    Parameters
    ----------
    edges : ndarray of int, shape (E, 2)
    conductance : ndarray, shape (E,)
        [S].
    phi : ndarray, shape (n_nodes,)
        Node potentials [V].
    n_nodes : int

    Returns
    -------
    ndarray, shape (n_nodes,)
    """
    i_e = edge_currents(edges, conductance, phi)
    return np.bincount(edges[:, 0], weights=i_e, minlength=n_nodes) - np.bincount(
        edges[:, 1], weights=i_e, minlength=n_nodes)


def edge_currents(edges: np.ndarray, conductance: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Current through each edge from its first node to its second [A]."""
    return conductance * (phi[edges[:, 0]] - phi[edges[:, 1]])


def reachable(edges: np.ndarray, n_nodes: int, sources) -> np.ndarray:
    """Which nodes lie in a connected component that contains one of ``sources``.

    Returns
    -------
    ndarray of bool, shape (n_nodes,)
    """
    adj = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n_nodes, n_nodes))
    _, comp = csgraph.connected_components(adj, directed=False)
    return np.isin(comp, comp[np.asarray(sources, dtype=np.int64)])


class ConductanceNetwork:
    """Solves ``L x = r`` on the free nodes of a network, repeatedly.

    Parameters
    ----------
    edges : ndarray of int, shape (E, 2)
        Node pairs; no self-loops.
    n_nodes : int
    held : sequence of int
        Nodes whose potential is prescribed (their rows and columns are left
        out of the system).

    Notes
    -----
    With ``G_e > 0`` the matrix is a symmetric M-matrix, positive definite
    when every connected component of the free nodes touches a held node;
    the ``LDLᵀ`` factorisation then needs no pivoting.
    """

    def __init__(self, edges: np.ndarray, n_nodes: int, *, held=()):
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        if np.any(edges[:, 0] == edges[:, 1]):
            raise ValueError("ConductanceNetwork: an edge joins a node to itself")
        if edges.size and (edges.min() < 0 or edges.max() >= n_nodes):
            raise ValueError(f"ConductanceNetwork: node ids must lie in [0, {n_nodes - 1}]")
        self.edges = edges
        self.n_nodes = int(n_nodes)
        held = np.unique(np.asarray(held, dtype=np.int64))
        free = np.ones(self.n_nodes, dtype=bool)
        free[held] = False
        self.held = held
        self.free = np.nonzero(free)[0]
        index = np.full(self.n_nodes, -1, dtype=np.int64)
        index[self.free] = np.arange(self.free.size)
        self.index = index
        m = self.free.size
        a, b = index[edges[:, 0]], index[edges[:, 1]]
        both = (a >= 0) & (b >= 0)
        # upper-triangular pattern (diagonal + one entry per free–free edge,
        # parallel edges sharing theirs); each value's position in the CSC
        # data is found once here (keys sort column-major, as CSC stores)
        rows = np.concatenate([np.arange(m), np.minimum(a[both], b[both])])
        cols = np.concatenate([np.arange(m), np.maximum(a[both], b[both])])
        key = cols * m + rows
        keys = np.unique(key)
        pos = np.searchsorted(keys, key)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(keys // m, minlength=m))])
        pattern = sp.csc_matrix((np.zeros(keys.size), keys % m, indptr), shape=(m, m))
        self._pattern = pattern
        self._diag_pos = pos[:m]
        self._off_pos = pos[m:]
        self._both = both
        self._a, self._b = a, b
        self._solver = None
        self.n_factor = 0

    def matrix(self, conductance: np.ndarray) -> sp.csc_matrix:
        """Upper triangle of ``L`` on the free nodes (CSC)."""
        g = np.asarray(conductance, dtype=float)
        m = self.free.size
        diag = np.zeros(m)
        a, b = self._a, self._b
        ok_a, ok_b = a >= 0, b >= 0
        diag += np.bincount(a[ok_a], weights=g[ok_a], minlength=m)
        diag += np.bincount(b[ok_b], weights=g[ok_b], minlength=m)
        data = np.zeros(self._pattern.data.size)
        data[self._diag_pos] = diag
        np.add.at(data, self._off_pos, -g[self._both])
        return sp.csc_matrix((data, self._pattern.indices, self._pattern.indptr), shape=self._pattern.shape)

    def factorise(self, conductance: np.ndarray) -> None:
        """Factorise ``L`` (free nodes) for the next solves."""
        self._solver = ldl_factor(self.matrix(conductance), self._solver)
        self.n_factor += 1

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Solve the factorised system; ``rhs`` and the result are over the free nodes."""
        return self._solver.solve(rhs)
