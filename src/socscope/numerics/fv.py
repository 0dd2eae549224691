"""Finite-volume grids as graphs: cells, faces and boundary elements.

A :class:`FVGrid` is everything a conservative finite-volume scheme needs and
nothing about batteries: cell volumes, the faces between cells with their
transmissibility (face area / distance between the two cell centres), and the
boundary elements through which a flux enters or leaves (their area, the cell
they belong to, the distance from that cell's centre to the boundary, and
where they are on the boundary).

Several grids are joined into one block-diagonal system by :func:`stack_grids`,
which is how many independent particles are solved together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["FVGrid", "stack_grids", "laplacian_matrix"]


@dataclass(frozen=True, eq=False)
class FVGrid:
    """A finite-volume grid described as a graph.

    Parameters
    ----------
    volumes : ndarray, shape (n,)
        Cell volumes [m³] (in 2D: area times the slab thickness).
    face_cells : ndarray of int, shape (m, 2)
        The two cells each interior face separates.
    face_trans : ndarray, shape (m,)
        Transmissibility of each face, area / centre distance [m].
    boundary_cell : ndarray of int, shape (k,)
        Cell each boundary element belongs to.
    boundary_area : ndarray, shape (k,)
        Area of each boundary element [m²].
    boundary_distance : ndarray, shape (k,)
        Distance from the owning cell's centre to the boundary [m].
    boundary_angle : ndarray, shape (k,)
        Polar angle of the element about the particle centre [rad], in (-π, π].
    boundary_xy : ndarray, shape (k, 2)
        Position of each element [m] (radial grids: (R, 0)).
    cell_xy : ndarray, shape (n, 2)
        Cell-centre positions [m] (radial grids: (r, 0)).
    kind : {"radial", "cartesian"}
        How the cells map back to space.
    boundary_distance_cells : ndarray, shape (n,)
        Distance of each cell centre from the nearest active boundary [m].
    image_index : ndarray of int or None
        For Cartesian grids, an (ny, nx) map from pixels to cell numbers (-1 outside).
    x, y : ndarray or None
        Pixel-centre coordinates of ``image_index`` [m].
    """

    volumes: np.ndarray
    face_cells: np.ndarray
    face_trans: np.ndarray
    boundary_cell: np.ndarray
    boundary_area: np.ndarray
    boundary_distance: np.ndarray
    boundary_angle: np.ndarray
    boundary_xy: np.ndarray
    cell_xy: np.ndarray
    kind: str
    boundary_distance_cells: np.ndarray
    image_index: np.ndarray | None = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.volumes.size)

    @property
    def total_volume(self) -> float:
        """Sum of the cell volumes [m³]."""
        return float(self.volumes.sum())

    @property
    def total_boundary_area(self) -> float:
        """Sum of the boundary-element areas [m²]."""
        return float(self.boundary_area.sum())


def laplacian_matrix(grid: FVGrid, *, fmt: str = "csc") -> sp.spmatrix:
    """Graph Laplacian ``L`` with ``(L u)_i = Σ_f T_f (u_j − u_i)``.

    Column sums are exactly zero (the diagonal is minus the sum of the
    off-diagonal entries of its column), so ``1ᵀ L u = 0`` for every ``u``:
    interior fluxes cancel in the total and the scheme is conservative.

    Parameters
    ----------
    grid : FVGrid
    fmt : str
        scipy.sparse format of the result.

    Returns
    -------
    scipy.sparse matrix, shape (n, n)
    """
    n = grid.n_cells
    i, j = grid.face_cells[:, 0], grid.face_cells[:, 1]
    t = grid.face_trans
    rows = np.concatenate([i, j, i, j])
    cols = np.concatenate([j, i, i, j])
    vals = np.concatenate([t, t, -t, -t])
    return sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).asformat(fmt)


def stack_grids(grids: list[FVGrid]) -> tuple[FVGrid, np.ndarray]:
    """Join independent grids into one block-diagonal grid.

    Parameters
    ----------
    grids : list of FVGrid
        Grids of the same ``kind``.

    Returns
    -------
    grid : FVGrid
        The joined grid; cells of grid ``b`` are numbered
        ``offsets[b]:offsets[b+1]``.
    offsets : ndarray of int, shape (len(grids) + 1,)
    """
    if not grids:
        raise ValueError("stack_grids needs at least one grid")
    kinds = {g.kind for g in grids}
    if len(kinds) != 1:
        raise ValueError(f"cannot stack grids of different kinds {sorted(kinds)}")
    sizes = np.array([g.n_cells for g in grids])
    offsets = np.concatenate([[0], np.cumsum(sizes)])

    def cat(name):
        return np.concatenate([getattr(g, name) for g in grids])

    face_cells = np.concatenate([g.face_cells + o for g, o in zip(grids, offsets[:-1])])
    boundary_cell = np.concatenate([g.boundary_cell + o for g, o in zip(grids, offsets[:-1])])
    joined = FVGrid(
        volumes=cat("volumes"),
        face_cells=face_cells.reshape(-1, 2),
        face_trans=cat("face_trans"),
        boundary_cell=boundary_cell,
        boundary_area=cat("boundary_area"),
        boundary_distance=cat("boundary_distance"),
        boundary_angle=cat("boundary_angle"),
        boundary_xy=np.concatenate([g.boundary_xy for g in grids]).reshape(-1, 2),
        cell_xy=np.concatenate([g.cell_xy for g in grids]).reshape(-1, 2),
        kind=grids[0].kind,
        boundary_distance_cells=cat("boundary_distance_cells"),
    )
    return joined, offsets
