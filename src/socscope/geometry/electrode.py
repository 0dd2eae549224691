"""Electrode layouts: the electronic network a network-electrode solve runs on.

An :class:`ElectrodeLayout` is a graph. Its nodes are the current collector
(node 0), carbon-binder junctions (nodes ``1..J``) and active particles (nodes
``J+1..J+N``); its edges are the electronic links between them. Every edge is
a series of at most three resistors, each given by a geometric factor
``L/A`` [m⁻¹]: a carbon-binder segment and, for each end that is a particle,
the path through that particle's NMC::

    R_e = carbon_factor / σ_CB + nmc_factor[:, 0] / σ(θ_a) + nmc_factor[:, 1] / σ(θ_b)

so the conductances follow the state of charge of the particles they pass
through (:func:`edge_conductance`).

Geometric factors (all spheres, also in 2D cross-sections, whose particles are
spheres cut through their centres):

* **Through a particle** (:func:`nmc_path_factor`), from a circular contact
  spot of radius ``a`` on a sphere of radius ``R`` to the sphere's bulk::

      nmc_factor = 1/(4 a) + 1/(π R)

  ``1/(4σa)`` is the spreading (constriction) resistance of a disc contact on
  one body (Holm; Maxwell), so a contact between two particles of equal σ has
  the familiar Holm resistance ``1/(2σa)`` in total; ``1/(σπR)`` is the bulk
  path from the contact to the centre, a cylinder of length ``R`` and
  cross-section ``πR²``. An estimate, good when ``a ≲ R``.
* **Contact radii.** Particle–particle and particle–collector contacts of a
  packing have ``a = contact_fraction · min(R_i, R_j)`` (default 0.1, a flat
  of diameter 0.2 R pressed into each particle). A particle's carbon-binder
  coverage ``c`` sets its total contact area with carbon, ``c · 4πR²``,
  shared equally among its ``n_c`` carbon links: each is a disc of radius
  ``a = 2R √(c / n_c)``. From a label image the contact length ``ℓ`` between
  two particles is measured in pixels and ``a = ℓ / 2`` (the chord seen in
  the section is taken as the contact spot's diameter).
* **Carbon binder** (:func:`carbon_link_factor`): a strand of length ``L``
  and diameter ``carbon_width`` (default 1 µm), ``carbon_factor = L / A_cb``
  with ``A_cb = π carbon_width² / 4``. Links ending on a particle run from
  the junction to the particle's surface; every carbon length is at least
  ``carbon_width / 2``.

Factories: :func:`random_layout` (deposited packings in 2D or 3D),
:func:`layered_layout` (the cross-section of Sharma et al. (Nano Lett. 2022), Fig. 4a),
:func:`layout_from_labels` (particles and contacts from a label image),
:func:`identical_wired_layout` and :func:`ladder_layout` (checks of the
network solve).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import Delaunay, QhullError, cKDTree

from .._checks import fraction, in_range, positive_float, whole_number
from ..errors import GeometryError

#: plausible particle radii [m]: a tenth of random_layout's smallest mean radius
#: (1e-9 m; it draws down to 0.3 of the mean, a one-pixel label at 1 nm is 5.6e-10 m)
#: to ten times its largest (1e-3 m; it draws up to 4 times the mean). Outside,
#: a length was almost surely given in another unit (1 m, or nanometres as metres)
MIN_RADIUS, MAX_RADIUS = 1e-10, 1e-2

__all__ = [
    "SIGMA_CB",
    "ElectrodeLayout",
    "carbon_link_factor",
    "edge_conductance",
    "edge_particle_ends",
    "electrolyte_links",
    "identical_wired_layout",
    "ladder_layout",
    "layered_layout",
    "layout_from_labels",
    "nmc_path_factor",
    "random_layout",
    "unique_edges",
]

#: Electronic conductivity of the carbon-binder domain [S/m] (the project's model notes (docs/numerics.md), (Sharma et al., Nano Lett. 2022)).
SIGMA_CB = 1e4

#: A particle counts as seen from the top when at least this fraction of its
#: width (2D) or projected disc area (3D) is the first thing seen from above.
_TOP_VISIBLE_FRACTION = 0.25

_DEFAULT_CARBON_WIDTH = 1e-6


# ---------------------------------------------------------------------------
# geometric factors
# ---------------------------------------------------------------------------


def nmc_path_factor(particle_radius, contact_radius) -> np.ndarray:
    """Geometric factor [m⁻¹] of the path through a particle from one contact.

    ``1/(4a) + 1/(πR)``: the spreading resistance of a disc contact of radius
    ``a`` on one body plus the bulk path to the centre; divide by σ [S/m] to
    get ohms.

    Parameters
    ----------
    particle_radius : array_like
        Sphere radius ``R`` [m], > 0.
    contact_radius : array_like
        Contact-spot radius ``a`` [m], > 0 (broadcast against ``R``).

    Examples
    --------
    >>> float(nmc_path_factor(2.5e-6, 2.5e-7))  # doctest: +ELLIPSIS
    1127323.9...
    """
    r = _as_float(particle_radius, "particle_radius", "nmc_path_factor")
    a = _as_float(contact_radius, "contact_radius", "nmc_path_factor")
    try:
        np.broadcast_shapes(r.shape, a.shape)
    except ValueError:
        raise GeometryError(f"nmc_path_factor: particle_radius (shape {r.shape}) and contact_radius (shape "
                            f"{a.shape}) must have one value each per contact, or one of them a single value") from None
    if np.any(~(r > 0)) or np.any(~(a > 0)):
        raise GeometryError(
            "nmc_path_factor: particle and contact radii must be > 0 (metres), got "
            f"R = {np.min(r):g}, a = {np.min(a):g}"
        )
    return 1.0 / (4.0 * a) + 1.0 / (np.pi * r)


def carbon_link_factor(length, carbon_width: float = _DEFAULT_CARBON_WIDTH) -> np.ndarray:
    """Geometric factor ``L / A_cb`` [m⁻¹] of a carbon-binder strand.

    Parameters
    ----------
    length : array_like
        Strand length [m]; lengths below ``carbon_width / 2`` are raised to it
        (a junction touching a particle still has a strand of carbon).
    carbon_width : float
        Strand diameter [m]; ``A_cb = π carbon_width² / 4``.
    """
    w = _positive_float(carbon_width, "carbon_width", "carbon_link_factor")
    length = _as_float(length, "length", "carbon_link_factor")
    if np.any(~(np.isfinite(length) & (length >= 0))):
        bad = length[~(np.isfinite(length) & (length >= 0))].ravel()[0]
        raise GeometryError(f"carbon_link_factor: strand lengths must be finite and >= 0 (metres), got {bad:g}")
    length = np.maximum(length, 0.5 * w)
    return length / (0.25 * np.pi * w * w)


# ---------------------------------------------------------------------------
# the layout
# ---------------------------------------------------------------------------


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class ElectrodeLayout:
    """Particles, carbon-binder junctions and the electronic links between them.

    Node numbering: ``0`` = current collector, ``1..J`` = junctions,
    ``J+1..J+N`` = particles (particle ``k`` is node ``J+1+k``).

    Attributes
    ----------
    particle_radius : ndarray (N,)
        Sphere radii [m].
    particle_position : ndarray (N, dim)
        Centres [m], ``dim`` 2 or 3; the last coordinate is the height above
        the current collector (collector plane at 0).
    junction_position : ndarray (J, dim)
        Carbon-binder junction nodes [m] (may be empty, shape ``(0, dim)``).
    edges : ndarray (E, 2) int
        Node ids of each link.
    carbon_factor : ndarray (E,)
        ``L/A`` [m⁻¹] of the carbon-binder segment of each edge; its
        resistance is ``carbon_factor / σ_CB``; 0 = no carbon on the edge.
    nmc_factor : ndarray (E, 2)
        For each end that is a particle, the geometric factor [m⁻¹] of the
        path through that particle's NMC (resistance ``nmc_factor / σ(θ)``);
        0 where the end is not a particle.
    coverage : ndarray (N,)
        Fraction of each particle's surface covered by carbon binder, [0, 1].
    top : ndarray (N,) bool
        Particles visible from the top surface (what a microscope sees).
    name : str
        A short name of the layout (``"random-2d"``, ``"layered"``, ...).
    labels : ndarray (y, x) int or None
        Label image the layout was built from (label ``k`` ↔ particle
        ``k-1``), else None.
    pixel_size : float or None
        Pixel size of ``labels`` [m].

    The layout is immutable; its arrays are read-only copies. It is checked
    on creation (:meth:`validate`): at least one particle must have a path to
    the current collector.
    """

    particle_radius: np.ndarray
    particle_position: np.ndarray
    junction_position: np.ndarray
    edges: np.ndarray
    carbon_factor: np.ndarray
    nmc_factor: np.ndarray
    coverage: np.ndarray
    top: np.ndarray
    name: str = "custom"
    labels: np.ndarray | None = None
    pixel_size: float | None = None

    def __post_init__(self):
        s = object.__setattr__
        s(self, "particle_radius", _as_float(self.particle_radius, "particle_radius").ravel())
        pos = _as_float(self.particle_position, "particle_position")
        if pos.ndim == 1 and pos.size in (2, 3) and self.particle_radius.size == 1:
            pos = pos[None, :]
        s(self, "particle_position", pos)
        dim = pos.shape[1] if pos.ndim == 2 else 0
        jpos = _as_float(self.junction_position, "junction_position")
        if jpos.size == 0:
            jpos = jpos.reshape(0, dim)
        s(self, "junction_position", jpos)
        edges = np.asarray(self.edges)
        if edges.size == 0:
            edges = np.zeros((0, 2), dtype=np.int64)
        elif not np.issubdtype(edges.dtype, np.integer):
            raise GeometryError(
                f"ElectrodeLayout: edges must be integer node ids, got dtype {edges.dtype}"
            )
        s(self, "edges", edges.astype(np.int64))
        s(self, "carbon_factor", _as_float(self.carbon_factor, "carbon_factor").ravel())
        nf = _as_float(self.nmc_factor, "nmc_factor")
        if nf.size == 0:
            nf = nf.reshape(0, 2)
        s(self, "nmc_factor", nf)
        s(self, "coverage", _as_float(self.coverage, "coverage").ravel())
        top = np.asarray(self.top)
        if top.dtype != bool:
            if top.size and not np.isin(top, (0, 1)).all():
                raise GeometryError("ElectrodeLayout: top must be a boolean array (one per particle)")
            top = top.astype(bool)
        s(self, "top", top.ravel())
        if self.labels is not None:
            lab = np.asarray(self.labels)
            if lab.ndim != 2 or not np.issubdtype(lab.dtype, np.integer):
                raise GeometryError(
                    "ElectrodeLayout: labels must be a 2D integer label image (y, x), "
                    f"got shape {lab.shape} and dtype {lab.dtype}"
                )
            s(self, "labels", lab)
            if self.pixel_size is None:
                raise GeometryError("ElectrodeLayout: labels need their pixel_size (metres)")
        if self.pixel_size is not None:
            s(self, "pixel_size", _positive_float(self.pixel_size, "pixel_size", "ElectrodeLayout"))
        self.validate()
        for name in ("particle_radius", "particle_position", "junction_position", "edges",
                     "carbon_factor", "nmc_factor", "coverage", "top", "labels"):
            value = getattr(self, name)
            if value is not None:
                s(self, name, _frozen(value))
        ends = self.edges - (self.n_junctions + 1)
        ends[ends < 0] = -1
        s(self, "_ends", _frozen(ends))

    # -- sizes --------------------------------------------------------------

    @property
    def n_particles(self) -> int:
        """Number of particles ``N``."""
        return int(self.particle_radius.shape[0])

    @property
    def n_junctions(self) -> int:
        """Number of carbon-binder junctions ``J``."""
        return int(self.junction_position.shape[0])

    @property
    def n_nodes(self) -> int:
        """``1 + J + N`` (collector, junctions, particles)."""
        return 1 + self.n_junctions + self.n_particles

    @property
    def n_edges(self) -> int:
        """Number of edges ``E``."""
        return int(self.edges.shape[0])

    @property
    def dim(self) -> int:
        """Spatial dimension of the positions (2 or 3)."""
        return int(self.particle_position.shape[1])

    @property
    def particle_nodes(self) -> np.ndarray:
        """(N,) node id of each particle."""
        return np.arange(self.n_particles) + self.n_junctions + 1

    @property
    def particle_volume(self) -> np.ndarray:
        """(N,) sphere volumes [m³]."""
        return 4.0 / 3.0 * np.pi * self.particle_radius**3

    @property
    def particle_area(self) -> np.ndarray:
        """(N,) sphere surface areas [m²]."""
        return 4.0 * np.pi * self.particle_radius**2

    @property
    def isolated(self) -> np.ndarray:
        """(N,) bool: particles with no path to the current collector."""
        return self._isolated.copy()

    # -- checks -------------------------------------------------------------

    def validate(self) -> None:
        """Check shapes, values, node ids and connectivity.

        Raises
        ------
        GeometryError
            Naming the offending array, edge or value, the allowed range and
            the fix.
        """
        owner = "ElectrodeLayout"
        n = self.particle_radius.shape[0]
        if n == 0:
            raise GeometryError(f"{owner}: the layout has no particles")
        r = self.particle_radius
        bad = ~(np.isfinite(r) & (r >= MIN_RADIUS) & (r <= MAX_RADIUS))
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            raise GeometryError(
                f"{owner}: particle {k} has radius {float(r[k])!r} m; radii must be finite and within "
                f"[{MIN_RADIUS:g}, {MAX_RADIUS:g}] m (metres, e.g. 2.5e-6; check the pixel size's unit)"
            )
        pos = self.particle_position
        if pos.ndim != 2 or pos.shape[0] != n or pos.shape[1] not in (2, 3):
            raise GeometryError(
                f"{owner}: particle_position must have shape (N, 2) or (N, 3) with N = {n}, "
                f"got {pos.shape}"
            )
        dim = pos.shape[1]
        jpos = self.junction_position
        if jpos.ndim != 2 or jpos.shape[1] != dim:
            raise GeometryError(
                f"{owner}: junction_position must have shape (J, {dim}) like the particles, "
                f"got {jpos.shape}"
            )
        for name, arr in (("particle_position", pos), ("junction_position", jpos)):
            if not np.all(np.isfinite(arr)):
                raise GeometryError(f"{owner}: {name} has non-finite values")
            below = np.flatnonzero(arr[:, -1] < 0)
            if below.size:
                k = int(below[0])
                raise GeometryError(
                    f"{owner}: {name}[{k}] lies at height {arr[k, -1]:g} m, below the current collector; the "
                    "last coordinate is the height above the collector (z = 0), >= 0"
                )
        edges = self.edges
        if edges.ndim != 2 or edges.shape[1] != 2:
            raise GeometryError(f"{owner}: edges must have shape (E, 2), got {edges.shape}")
        n_edges = edges.shape[0]
        if self.carbon_factor.shape != (n_edges,):
            raise GeometryError(
                f"{owner}: carbon_factor must have shape ({n_edges},) (one per edge), "
                f"got {self.carbon_factor.shape}"
            )
        if self.nmc_factor.shape != (n_edges, 2):
            raise GeometryError(
                f"{owner}: nmc_factor must have shape ({n_edges}, 2) (one per edge end), "
                f"got {self.nmc_factor.shape}"
            )
        if self.coverage.shape != (n,):
            raise GeometryError(
                f"{owner}: coverage must have shape ({n},) (one per particle), "
                f"got {self.coverage.shape}"
            )
        if self.top.shape != (n,):
            raise GeometryError(
                f"{owner}: top must have shape ({n},) (one per particle), got {self.top.shape}"
            )
        bad = ~((self.coverage >= 0) & (self.coverage <= 1))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise GeometryError(
                f"{owner}: particle {k} has coverage {float(self.coverage[k])!r}; "
                "coverage is a surface fraction in [0, 1]"
            )
        n_nodes = 1 + jpos.shape[0] + n
        bad = (edges < 0) | (edges >= n_nodes)
        if bad.any():
            k = int(np.flatnonzero(bad.any(axis=1))[0])
            raise GeometryError(
                f"{owner}: edge {k} joins nodes {tuple(int(v) for v in edges[k])}, but node "
                f"ids run from 0 to {n_nodes - 1} (0 = collector, 1..{jpos.shape[0]} = "
                f"junctions, then the {n} particles)"
            )
        loops = edges[:, 0] == edges[:, 1]
        if loops.any():
            k = int(np.flatnonzero(loops)[0])
            raise GeometryError(f"{owner}: edge {k} joins node {int(edges[k, 0])} to itself")
        for name, arr in (("carbon_factor", self.carbon_factor), ("nmc_factor", self.nmc_factor)):
            bad = ~np.isfinite(arr) | (arr < 0)
            if bad.any():
                k = int(np.flatnonzero(bad.reshape(n_edges, -1).any(axis=1))[0])
                value = arr[k]
                raise GeometryError(
                    f"{owner}: edge {k} (nodes {int(edges[k, 0])}-{int(edges[k, 1])}) has "
                    f"{name} {np.array2string(np.asarray(value))}; geometric factors must be "
                    "finite and >= 0 (a negative resistance is not physical)"
                )
        first_particle = 1 + jpos.shape[0]
        not_particle = edges < first_particle
        bad = not_particle & (self.nmc_factor != 0)
        if bad.any():
            k, side = (int(v) for v in np.argwhere(bad)[0])
            raise GeometryError(
                f"{owner}: edge {k} has nmc_factor {self.nmc_factor[k, side]:g} at its end "
                f"{side} (node {int(edges[k, side])}), which is not a particle; set it to 0"
            )
        zero = (self.carbon_factor == 0) & (self.nmc_factor == 0).all(axis=1)
        if zero.any():
            k = int(np.flatnonzero(zero)[0])
            raise GeometryError(
                f"{owner}: edge {k} (nodes {int(edges[k, 0])}-{int(edges[k, 1])}) has zero "
                "resistance; give it a carbon or NMC factor"
            )
        lowest = None if self.labels is None else int(self.labels.min(initial=0))
        if lowest is not None and lowest < 0:
            raise GeometryError(
                f"{owner}: the label image holds {lowest}; labels are 0 (background) and 1..{n} (particle k-1)"
            )
        if self.labels is not None and int(self.labels.max(initial=0)) != n:
            raise GeometryError(
                f"{owner}: the label image has {int(self.labels.max(initial=0))} labels but "
                f"the layout has {n} particles (label k must be particle k-1)"
            )
        graph = sp.coo_matrix(
            (np.ones(n_edges), (edges[:, 0], edges[:, 1])), shape=(n_nodes, n_nodes)
        ).tocsr()
        _, comp = connected_components(graph, directed=False)
        isolated = comp[first_particle:] != comp[0]
        if isolated.all():
            raise GeometryError(
                f"{owner}: no particle has a path to the current collector (node 0); link "
                "at least one particle or carbon junction to node 0 (an edge [0, k]): give a "
                "carbon coverage > 0 where the particles meet the carbon, keep some particles "
                "connected, or (random_layout) lower isolated_fraction"
            )
        object.__setattr__(self, "_isolated", _frozen(isolated))

    # -- graph measures -----------------------------------------------------

    def _unique_edges(self, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unique node pairs (lo, hi) with the smallest weight among parallel edges."""
        return unique_edges(self.edges, self.n_nodes, weight)

    def graph_distance_to_collector(self) -> np.ndarray:
        """(N,) number of other NMC particles on each particle's best path.

        The best path to the collector is the one crossing the fewest
        particles; the particle itself is not counted (a particle with its
        own carbon or direct link to the collector has 0). ``inf`` for
        isolated particles.
        """
        lo, hi, _ = self._unique_edges(np.zeros(self.n_edges))
        first = self.n_junctions + 1
        # cost of stepping onto a node: 1 for a particle, a tie-breaking
        # epsilon otherwise (a zero weight would not count as an edge)
        eps = 1e-9
        cost_hi = np.where(hi >= first, 1.0, eps)
        cost_lo = np.where(lo >= first, 1.0, eps)
        g = sp.csr_matrix(
            (np.concatenate([cost_hi, cost_lo]), (np.concatenate([lo, hi]), np.concatenate([hi, lo]))),
            shape=(self.n_nodes, self.n_nodes),
        )
        d = dijkstra(g, directed=True, indices=0)[first:]
        out = np.full(self.n_particles, np.inf)
        ok = np.isfinite(d)
        out[ok] = np.floor(d[ok] + 0.5) - 1.0
        return out

    def electrical_distance(self, sigma_particle, sigma_cb: float = SIGMA_CB) -> np.ndarray:
        """(N,) resistance [Ω] of each particle's least-resistive path to the collector.

        Shortest path (``scipy.sparse.csgraph.dijkstra``) with edge weights
        ``1 / edge_conductance(self, sigma_particle, sigma_cb)``; the order of
        these values is the order of electrical distance to the collector.
        ``inf`` for isolated particles.

        Parameters
        ----------
        sigma_particle : array_like (N,) or float
            Electronic conductivity of each particle's NMC [S/m].
        sigma_cb : float
            Carbon-binder conductivity [S/m].
        """
        g = edge_conductance(self, sigma_particle, sigma_cb)
        if g.ndim != 1:
            raise GeometryError(
                "electrical_distance: sigma_particle must be one value per particle "
                f"(shape ({self.n_particles},)), got shape {np.shape(sigma_particle)}"
            )
        lo, hi, r = self._unique_edges(1.0 / g)
        graph = sp.csr_matrix((r, (lo, hi)), shape=(self.n_nodes, self.n_nodes))
        return dijkstra(graph, directed=False, indices=0)[self.n_junctions + 1:]

    def contact_counts(self) -> pd.DataFrame:
        """Per particle: links to other particles, to carbon and to the collector."""
        ends = self._ends
        # kind of the node at the other end: 0 collector, 1 junction, 2 particle
        kind = np.where(self.edges == 0, 0, np.where(self.edges <= self.n_junctions, 1, 2))
        other = kind[:, ::-1]
        n = self.n_particles
        counts = np.zeros((n, 3), dtype=np.int64)
        for side in (0, 1):
            m = ends[:, side] >= 0
            np.add.at(counts, (ends[m, side], other[m, side]), 1)
        return pd.DataFrame(
            {
                "n_collector_contacts": counts[:, 0],
                "n_carbon_contacts": counts[:, 1],
                "n_particle_contacts": counts[:, 2],
            },
            index=pd.RangeIndex(n, name="particle"),
        )

    def to_dataframe(self) -> pd.DataFrame:
        """Per-particle table.

        Columns ``radius_m``, ``x_m``, (``y_m``,) ``z_m`` (height above the
        collector), ``coverage``, ``top``, ``isolated``, ``n_contacts`` (all
        links), ``n_particle_contacts``, ``n_carbon_contacts``,
        ``n_collector_contacts``; index ``particle``.
        """
        pos = self.particle_position
        cols: dict[str, np.ndarray] = {"radius_m": self.particle_radius, "x_m": pos[:, 0]}
        if self.dim == 3:
            cols["y_m"] = pos[:, 1]
        cols["z_m"] = pos[:, -1]
        cols["coverage"] = self.coverage
        cols["top"] = self.top
        cols["isolated"] = self._isolated
        df = pd.DataFrame(cols, index=pd.RangeIndex(self.n_particles, name="particle"))
        counts = self.contact_counts()
        df["n_contacts"] = counts.sum(axis=1)
        return df.join(counts[["n_particle_contacts", "n_carbon_contacts", "n_collector_contacts"]])

    def disconnect(self, particles: Sequence[int] | np.ndarray) -> ElectrodeLayout:
        """A copy with every edge of the given particles removed (they become isolated).

        Parameters
        ----------
        particles : sequence of int or (N,) bool
            Particle indices ``0..N-1`` (or a mask).
        """
        idx = _indices(particles, "particles", "disconnect", self.n_particles)
        drop = np.isin(self._ends, idx).any(axis=1)
        return replace(
            self,
            edges=self.edges[~drop],
            carbon_factor=self.carbon_factor[~drop],
            nmc_factor=self.nmc_factor[~drop],
        )

    def __repr__(self) -> str:
        return (
            f"ElectrodeLayout(name={self.name!r}, dim={self.dim}, {self.n_particles} particles, "
            f"{self.n_junctions} junctions, {self.n_edges} edges, "
            f"{int(self._isolated.sum())} isolated, {int(self.top.sum())} on top)"
        )


def edge_particle_ends(layout: ElectrodeLayout) -> np.ndarray:
    """(E, 2) int: the particle index (0..N-1) at each end of each edge, −1 if none.

    Computed once when the layout is created; the returned array is read-only.
    """
    return layout._ends


def unique_edges(edges: np.ndarray, n_nodes: int, weight: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique node pairs ``(lo, hi)`` of ``edges`` (E, 2), each with the smallest ``weight`` among parallel edges."""
    edges = np.asarray(edges, dtype=np.int64)
    lo = np.minimum(edges[:, 0], edges[:, 1])
    hi = np.maximum(edges[:, 0], edges[:, 1])
    code = lo * n_nodes + hi
    uniq, inv = np.unique(code, return_inverse=True)
    w = np.full(uniq.shape, np.inf)
    np.minimum.at(w, inv, np.asarray(weight, dtype=float))
    return uniq // n_nodes, uniq % n_nodes, w


def edge_conductance(layout: ElectrodeLayout, sigma_particle, sigma_cb: float = SIGMA_CB) -> np.ndarray:
    """Conductance [S] of every edge at the given particle conductivities.

    ``G_e = 1 / (carbon_factor/σ_CB + nmc_factor[:,0]/σ_a + nmc_factor[:,1]/σ_b)``.

    Parameters
    ----------
    layout : ElectrodeLayout
    sigma_particle : array_like (..., N) or float
        Electronic conductivity of each particle's NMC [S/m], > 0 (e.g. the
        material's σ(θ) at each particle's θ). Leading dimensions batch
        several states at once.
    sigma_cb : float
        Carbon-binder conductivity [S/m], > 0.

    Returns
    -------
    ndarray (..., E)
        Edge conductances [S].

    Examples
    --------
    >>> lay = ladder_layout(3, carbon_factor=1e6)
    >>> edge_conductance(lay, np.ones(3), sigma_cb=1e4).shape
    (6,)
    """
    n = _check_layout(layout, "edge_conductance").n_particles
    sigma = _as_float(sigma_particle, "sigma_particle", "edge_conductance")
    if sigma.ndim == 0:
        sigma = np.broadcast_to(sigma, (n,))
    if sigma.shape[-1] != n:
        raise GeometryError(
            f"edge_conductance: sigma_particle needs one value per particle (last axis {n}), "
            f"got shape {sigma.shape}"
        )
    bad = ~(np.isfinite(sigma) & (sigma > 0))
    if np.any(bad):
        raise GeometryError(
            "edge_conductance: particle conductivities must be finite and > 0 (S/m), got "
            f"{float(sigma[bad].ravel()[0])!r}"
        )
    scb = positive_float("sigma_cb", sigma_cb, unit=" S/m", example="1e4", error=GeometryError,
                         owner="edge_conductance")
    ends = layout._ends
    safe = np.where(ends >= 0, ends, 0)
    nf = layout.nmc_factor
    r = layout.carbon_factor / scb + nf[:, 0] / sigma[..., safe[:, 0]] + nf[:, 1] / sigma[..., safe[:, 1]]
    return 1.0 / r


# ---------------------------------------------------------------------------
# helpers shared by the factories
# ---------------------------------------------------------------------------


def _as_float(value, name: str, owner: str = "ElectrodeLayout") -> np.ndarray:
    """``value`` as a float array (a copy); text, None and ragged nests are refused."""
    if isinstance(value, (str, bytes)) or value is None:
        raise GeometryError(f"{owner}: {name} must be numeric, got {value!r}")
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise GeometryError(f"{owner}: {name} must be numeric, got {value!r}") from None


def _check_layout(layout, owner: str) -> ElectrodeLayout:
    if not isinstance(layout, ElectrodeLayout):
        raise GeometryError(f"{owner}: layout must be an ElectrodeLayout (e.g. layered_layout()), "
                            f"got {type(layout).__name__}")
    return layout


#: examples in the units each length is given in (a bare "1.0" would suggest one metre)
_EXAMPLES = {"carbon_width": "1e-6 (metres)", "pixel_size": "5e-8 (metres)", "carbon_reach": "4e-6 (metres)",
             "width": "5e-5 (metres)", "thickness": "2e-5 (metres)", "radius": "2.5e-6 (metres)",
             "pixel_size_nm": "50 (nanometres)", "carbon_factor": "1e6 (per metre)", "kappa": "1.0 (S/m)"}


def _positive_float(value, name: str, owner: str) -> float:
    return positive_float(name, value, error=GeometryError, owner=owner, example=_EXAMPLES.get(name, "1.0"))


def _nonnegative(value, name: str, owner: str) -> float:
    return in_range(name, value, 0.0, math.inf, closed="l", example="1e6", error=GeometryError, owner=owner)


#: relative gap still counted as touching: far above round-off of positions
#: (1e-16), far below any contact tolerance a user means (1e-2)
_TOUCH = 1e-9


def _fraction(value, name: str, owner: str, *, upper_open: bool = False) -> float:
    return fraction(name, value, closed="0" if upper_open else "01", error=GeometryError, owner=owner)


def _indices(value, name: str, owner: str, n: int) -> np.ndarray:
    """Whole numbers in ``0..n-1`` (a sequence, or a boolean mask of length ``n``), as int64."""
    if isinstance(value, (str, bytes)) or value is None:
        raise GeometryError(f"{owner}: {name} must be a sequence of indices in 0..{n - 1}, got {value!r}")
    try:
        a = np.asarray(list(value) if not isinstance(value, np.ndarray) else value)
    except TypeError:
        raise GeometryError(f"{owner}: {name} must be a sequence of indices in 0..{n - 1}, got {value!r}") from None
    if a.dtype == bool:
        if a.shape != (n,):
            raise GeometryError(f"{owner}: a mask {name} must have shape ({n},), got {a.shape}")
        return np.flatnonzero(a)
    a = a.ravel()
    numeric = a.dtype.kind in "iuf" and np.all(np.isfinite(a)) and np.all(a == np.round(a)) if a.size else True
    if not numeric:
        raise GeometryError(f"{owner}: {name} must hold whole numbers in 0..{n - 1}, got {value!r}")
    a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() >= n):
        raise GeometryError(f"{owner}: {name} must lie in 0..{n - 1}, got {a.min()}..{a.max()}")
    return a


def _check_rng(rng, owner: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise GeometryError(
            f"{owner}: rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def _assemble(
    radius: np.ndarray,
    n_junctions: int,
    *,
    pp: np.ndarray,
    pp_a: np.ndarray,
    pc: np.ndarray,
    pc_a: np.ndarray,
    jj: np.ndarray,
    jj_len: np.ndarray,
    jp: np.ndarray,
    jp_len: np.ndarray,
    jc: np.ndarray,
    jc_len: np.ndarray,
    coverage: np.ndarray,
    carbon_width: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges and factors from the five kinds of link.

    ``pp`` (k, 2) particle pairs with contact radii ``pp_a``; ``pc`` particles
    on the collector with contact radii ``pc_a``; ``jj`` (k, 2) junction pairs
    with strand lengths; ``jp`` (k, 2) (junction, particle) links with strand
    lengths; ``jc`` junctions linked to the collector with strand lengths.
    Carbon contacts on a particle share its covered area ``coverage · 4πR²``.
    """
    p0 = n_junctions + 1
    pp = pp.reshape(-1, 2)
    jj = jj.reshape(-1, 2)
    jp = jp.reshape(-1, 2)
    n_c = np.bincount(jp[:, 1], minlength=radius.size)
    r_jp = radius[jp[:, 1]]
    a_c = 2.0 * r_jp * np.sqrt(coverage[jp[:, 1]] / np.maximum(n_c[jp[:, 1]], 1))

    def strand(length):
        # a junction inside a particle's outline (a label image's) is at distance < 0
        # from its surface: its strand is the shortest, carbon_link_factor's minimum
        return carbon_link_factor(np.maximum(length, 0.0), carbon_width)

    parts = [
        (np.column_stack([pp[:, 0] + p0, pp[:, 1] + p0]), np.zeros(len(pp)),
         np.column_stack([nmc_path_factor(radius[pp[:, 0]], pp_a),
                          nmc_path_factor(radius[pp[:, 1]], pp_a)]).reshape(-1, 2)),
        (np.column_stack([np.zeros(len(pc), np.int64), pc + p0]), np.zeros(len(pc)),
         np.column_stack([np.zeros(len(pc)), nmc_path_factor(radius[pc], pc_a)]).reshape(-1, 2)),
        (jj + 1, strand(jj_len), np.zeros((len(jj), 2))),
        (np.column_stack([jp[:, 0] + 1, jp[:, 1] + p0]), strand(jp_len),
         np.column_stack([np.zeros(len(jp)), nmc_path_factor(r_jp, a_c)]).reshape(-1, 2)),
        (np.column_stack([np.zeros(len(jc), np.int64), jc + 1]),
         strand(jc_len), np.zeros((len(jc), 2))),
    ]
    edges = np.concatenate([p[0].reshape(-1, 2) for p in parts]).astype(np.int64)
    cf = np.concatenate([np.asarray(p[1], float).ravel() for p in parts])
    nf = np.concatenate([p[2] for p in parts])
    return edges, cf, nf


def _coverage_values(coverage, n: int, rng, owner: str) -> np.ndarray:
    """Per-particle coverage from a float, a (mean, spread) pair or an (N,) array."""
    if np.ndim(coverage) == 0:
        return np.full(n, _fraction(coverage, "coverage", owner))
    arr = _as_float(coverage, "coverage", owner)
    if arr.shape == (2,) and n != 2:
        if rng is None:
            raise GeometryError(
                f"{owner}: coverage {arr.tolist()} has two values, which is read as (mean, spread) and drawn "
                f"at random: pass rng, or give one value per particle ({n} values)"
            )
        mean = _fraction(arr[0], "coverage mean", owner)
        spread = float(arr[1])
        if not (np.isfinite(spread) and spread >= 0):
            raise GeometryError(f"{owner}: coverage spread = {arr[1]!r} must be >= 0")
        if spread == 0:
            return np.full(n, mean)
        return np.clip(rng.uniform(mean - spread, mean + spread, n), 0.0, 1.0)
    if arr.shape != (n,):
        raise GeometryError(
            f"{owner}: coverage must be a fraction, a (mean, spread) pair or one value per "
            f"particle (shape ({n},)), got shape {arr.shape}"
        )
    if not np.all((arr >= 0) & (arr <= 1)):
        raise GeometryError(f"{owner}: coverage values must lie in [0, 1]")
    return arr.copy()


# ---------------------------------------------------------------------------
# random packings
# ---------------------------------------------------------------------------

#: Packing fractions the deposition reaches with the default settle distances
#: (measured on 3000-10 000-particle piles, cv 0.2, thickness = 95th percentile
#: of the particle tops): area fraction of discs in 2D, volume fraction of
#: spheres in 3D. Used only to choose the width for a requested thickness.
_PHI_DEPOSIT = {2: 0.72, 3: 0.52}


#: the deposition's height map has one sample every :func:`_height_spacing`
#: across the strip (box); 5e7 samples take 0.8 GB with their owners (the
#: lateral bins add about a quarter of that in 3D). A pile of 10^6 particles
#: (radius_cv 0.2) at the default thickness needs 1.5e6 (2D) or 6.0e6 (3D)
_MAX_HEIGHT_SAMPLES = 5e7


def _height_spacing(radius: np.ndarray, dim: int) -> float:
    """Sample spacing [m] of the deposition's height map."""
    return float(np.mean(radius)) / (8.0 if dim == 2 else 4.0)


def _check_pile_size(width: float, radius: np.ndarray, dim: int, owner: str) -> None:
    """Refuse a strip (box) so wide against the particles that its height map would not fit in memory."""
    h = _height_spacing(radius, dim)
    if (width / h + 1.0) ** (dim - 1) > _MAX_HEIGHT_SAMPLES:
        widest = (_MAX_HEIGHT_SAMPLES ** (1.0 / (dim - 1)) - 1.0) * h
        raise GeometryError(
            f"{owner}: the {'strip' if dim == 2 else 'box'} would be {width:.3g} m wide, "
            f"{width / float(np.mean(radius)):.3g} mean radii; at most {widest:.3g} m can be deposited. Give a larger "
            "thickness (the particles spread over a wider strip the thinner the pile), a smaller width, or "
            "lengths in metres"
        )


def _unique_rows(a: np.ndarray) -> np.ndarray:
    """Per row, the distinct non-negative entries, padded with −1 (B, K)."""
    a = np.sort(a, axis=1)
    dup = np.zeros(a.shape, bool)
    dup[:, 1:] = a[:, 1:] == a[:, :-1]
    a[dup] = -1
    a = np.sort(a, axis=1)
    k = max(int((a >= 0).sum(axis=1).max(initial=0)), 1)
    return a[:, a.shape[1] - k:]


def _landing(xs: np.ndarray, cp: np.ndarray, cz: np.ndarray, reach2: np.ndarray,
             r: np.ndarray) -> np.ndarray:
    """Height (B, T) at which a sphere of radius ``r`` (B,) dropped straight down at
    lateral positions ``xs`` (B, T, nd) comes to rest on candidates at lateral
    ``cp`` (B, K, nd) and height ``cz`` (B, K), ``reach2 = (r + r_j)²`` (−1 to
    ignore a candidate), or on the collector."""
    d2 = (xs[:, :, None, 0] - cp[:, None, :, 0]) ** 2
    for d in range(1, xs.shape[2]):
        d2 += (xs[:, :, None, d] - cp[:, None, :, d]) ** 2
    gap = reach2[:, None, :] - d2
    hit = gap > 0
    np.sqrt(gap, out=gap, where=hit)
    gap += cz[:, None, :]
    gap[~hit] = -np.inf
    return np.maximum(gap.max(axis=2, initial=-np.inf), r[:, None])


def _deposit(radius: np.ndarray, width: float, dim: int, rng: np.random.Generator,
             settle: float):
    """Deposition with settling, in batches.

    Each particle is dropped at a random horizontal position and comes to rest
    at the lowest spot it can reach by falling straight down from any point
    within ``settle`` of where it was dropped (a stand-in for rolling into the
    nearest valley), touching the collector or the particles it rests on.

    The pile's upper surface is a height map sampled every ``h`` with the
    particle that owns each sample. The landing height of a vertical drop is
    exact against the owners of the samples under the search area; the lowest
    landing point is searched on a grid of trial drops (17 in 2D, 3 × 3 in 3D)
    refined six times around the best (3 or 3 × 3 points, spacing halved each
    time, down to 1/64 of the first spacing). The landing height at the chosen
    spot is then recomputed against every particle within reach (kept in
    lateral bins), because the sampled map can miss a neighbour whose flank
    shows only between two samples: no two particles overlap.

    Particles are processed in batches that cannot interact: the strip (box)
    is cut into cells at least twice the reach of one settling particle, and a
    batch takes one particle from each cell of one parity class. This is
    sequential deposition in a particular random order, vectorised.

    Returns centres (N, dim), the owner map, the height map and its spacing.
    """
    n = radius.size
    nd = dim - 1
    h = _height_spacing(radius, dim)
    m = math.ceil(width / h) + 1
    shape = (m,) * nd
    height = np.zeros(shape)
    owner = np.full(shape, -1, dtype=np.int64)
    pos = np.zeros((n, dim))
    drop = rng.uniform(radius[:, None], width - radius[:, None], size=(n, nd))
    grid = np.arange(m) * h

    k0 = 17 if dim == 2 else 3
    t0 = np.linspace(-settle, settle, k0)
    s0 = float(t0[1] - t0[0]) if settle > 0 else 0.0
    levels = 6 if settle > 0 else 0
    ref = np.array([-1.0, 0.0, 1.0])
    if nd == 1:
        trials0, refine = t0[:, None], ref[:, None]
    else:
        trials0 = np.stack(np.meshgrid(t0, t0, indexing="ij"), -1).reshape(-1, 2)
        refine = np.stack(np.meshgrid(ref, ref, indexing="ij"), -1).reshape(-1, 2)

    r_max = float(radius.max())
    # a particle ends within settle + s0 of its drop point; it reads (candidates)
    # and writes (height map) samples within its radius (+ margin) of there
    span = settle + s0 + r_max + 2.0 * h
    half = math.ceil(span / h) + 1
    win = np.arange(-half, half + 1)
    upd_half = math.ceil(r_max / h) + 1
    upd = np.arange(-upd_half, upd_half + 1)

    # every placed particle, by the lateral bin of its centre: the exact check
    bs = float(np.mean(radius))
    nbin = math.ceil(width / bs) + 1
    bins = np.full((nbin,) * nd + (8,), -1, dtype=np.int64)
    count = np.zeros((nbin,) * nd, dtype=np.int64)
    breach = np.arange(-math.ceil(2.0 * r_max / bs), math.ceil(2.0 * r_max / bs) + 1)

    # schedule: one particle per cell per batch, cells of one parity class at a time
    n_cell = max(int(width // (2.0 * span)), 1)
    cell = np.minimum((drop / (width / n_cell)).astype(np.int64), n_cell - 1)
    cell_id = cell[:, 0] if nd == 1 else cell[:, 0] * n_cell + cell[:, 1]
    parity = cell[:, 0] % 2 if nd == 1 else (cell[:, 0] % 2) * 2 + cell[:, 1] % 2
    order = np.argsort(cell_id, kind="stable")
    first = np.searchsorted(cell_id[order], cell_id[order], side="left")
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - first
    batch_key = rank * (2**nd) + parity
    order = np.argsort(batch_key, kind="stable")
    bounds = np.flatnonzero(np.diff(batch_key[order])) + 1

    for idx in np.split(order, bounds):
        r = radius[idx]
        c = drop[idx]
        b = idx.size
        # candidates: owners of the height-map samples around the drop point
        ci = np.clip(np.round(c / h).astype(np.int64)[:, :, None] + win, 0, m - 1)  # (B, nd, L)
        if nd == 1:
            w_own = owner[ci[:, 0, :]]
        else:
            w_own = owner[ci[:, 0, :, None], ci[:, 1, None, :]].reshape(b, -1)
        cand = _unique_rows(w_own)
        valid = cand >= 0
        cs = np.where(valid, cand, 0)
        cp = pos[cs, :nd]  # (B, K, nd)
        cz = pos[cs, nd]
        reach2 = np.where(valid, (radius[cs] + r[:, None]) ** 2, -1.0)
        low, high = r[:, None, None], width - r[:, None, None]

        def landing(xs, cp=cp, cz=cz, reach2=reach2, r=r):
            return _landing(xs, cp, cz, reach2, r)

        rows = np.arange(b)
        xs = np.clip(c[:, None, :] + trials0[None], low, high)
        zs = landing(xs)
        k = np.argmin(zs, axis=1)
        best, z = xs[rows, k], zs[rows, k]
        if levels:
            # the refinement stays within s0 of the best trial: keep the candidates in reach
            near = valid & (
                np.sum((cp - best[:, None, :]) ** 2, axis=2)
                < (s0 + r[:, None] + np.where(valid, radius[cs], 0.0)) ** 2
            )
            keep = np.argsort(~near, axis=1, kind="stable")[:, : max(int(near.sum(axis=1).max()), 1)]
            cp = np.take_along_axis(cp, keep[:, :, None], axis=1)
            cz = np.take_along_axis(cz, keep, axis=1)
            reach2 = np.where(
                np.take_along_axis(near, keep, axis=1), np.take_along_axis(reach2, keep, axis=1), -1.0
            )

            def landing(xs, cp=cp, cz=cz, reach2=reach2, r=r):
                return _landing(xs, cp, cz, reach2, r)

        step = s0
        for _ in range(levels):
            step *= 0.5
            xs = np.clip(best[:, None, :] + step * refine[None], low, high)
            zs = landing(xs)
            k = np.argmin(zs, axis=1)
            best, z = xs[rows, k], zs[rows, k]
        # exact check against every particle in reach: the sampled map can miss
        # a neighbour whose flank shows only between two samples
        bi = np.clip(np.floor(best / bs).astype(np.int64)[:, :, None] + breach, 0, nbin - 1)
        if nd == 1:
            near = bins[bi[:, 0, :]].reshape(b, -1)
        else:
            near = bins[bi[:, 0, :, None], bi[:, 1, None, :]].reshape(b, -1)
        ok = near >= 0
        ns = np.where(ok, near, 0)
        reach2_all = np.where(ok, (radius[ns] + r[:, None]) ** 2, -1.0)
        z = np.maximum(z, _landing(best[:, None, :], pos[ns, :nd], pos[ns, nd], reach2_all, r)[:, 0])
        pos[idx, :nd] = best
        pos[idx, nd] = z
        home = tuple(np.minimum(np.floor(best[:, d] / bs).astype(np.int64), nbin - 1) for d in range(nd))
        slot = count[home]
        if slot.max() >= bins.shape[-1]:
            bins = np.concatenate([bins, np.full(bins.shape, -1, dtype=np.int64)], axis=-1)
        bins[home + (slot,)] = idx
        count[home] += 1

        # raise the height map under the new particles (their windows are disjoint)
        ui = np.clip(np.round(best / h).astype(np.int64)[:, :, None] + upd, 0, m - 1)
        if nd == 1:
            cells = (ui[:, 0, :],)
            dx2 = (grid[ui[:, 0, :]] - best[:, 0, None]) ** 2
        else:
            gx = ui[:, 0, :, None] + 0 * ui[:, 1, None, :]
            gy = 0 * ui[:, 0, :, None] + ui[:, 1, None, :]
            cells = (gx, gy)
            dx2 = (grid[gx] - best[:, 0, None, None]) ** 2 + (grid[gy] - best[:, 1, None, None]) ** 2
        rr = (r * r).reshape((b,) + (1,) * nd)
        inside = dx2 < rr
        cap = z.reshape(rr.shape) + np.sqrt(np.where(inside, rr - dx2, 0.0))
        up = inside & (cap > height[cells])
        sel = tuple(g[up] for g in cells)
        height[sel] = cap[up]
        owner[sel] = np.broadcast_to(idx.reshape(rr.shape), up.shape)[up]
    return pos, owner, height, h


def _pore_sites(pos: np.ndarray, radius: np.ndarray, tree: cKDTree, height: np.ndarray,
                h: float) -> np.ndarray:
    """Pore-space points: centroids of the Delaunay simplices of the particle
    centres (with mirror images below the collector so the layer next to it has
    pores too), kept where they are above the collector, below the pile's
    surface and outside every particle."""
    dim = pos.shape[1]
    low = pos[:, -1] < 3.0 * np.mean(radius)
    mirror = pos[low].copy()
    mirror[:, -1] *= -1
    pts = np.vstack([pos, mirror])
    if pts.shape[0] < dim + 2:
        return np.zeros((0, dim))
    try:
        tri = Delaunay(pts)
    except QhullError:
        return np.zeros((0, dim))
    cent = pts[tri.simplices].mean(axis=1)
    cent = cent[cent[:, -1] > 0]
    idx = np.clip(np.round(cent[:, :-1] / h).astype(int), 0, height.shape[0] - 1)
    surface = height[idx[:, 0]] if dim == 2 else height[idx[:, 0], idx[:, 1]]
    cent = cent[cent[:, -1] < surface]
    if cent.size == 0:
        return cent
    k = min(8, pos.shape[0])
    d, j = tree.query(cent, k=k)
    d = d.reshape(len(cent), k)
    j = j.reshape(len(cent), k)
    inside = (d < radius[j]).any(axis=1)
    return cent[~inside]


def random_layout(
    n_particles: int,
    *,
    dim: int = 2,
    mean_radius: float = 2.5e-6,
    radius_cv: float = 0.2,
    thickness: float | None = None,
    width: float | None = None,
    coverage=(0.5, 0.3),
    isolated_fraction: float = 0.0,
    carbon_density: float = 0.5,
    carbon_reach: float | None = None,
    carbon_width: float = _DEFAULT_CARBON_WIDTH,
    contact_tolerance: float = 0.02,
    contact_fraction: float = 0.1,
    settle_distance: float | None = None,
    rng: np.random.Generator,
) -> ElectrodeLayout:
    """A random electrode: particles deposited on the collector, carbon in the pores.

    **Packing.** Radii are lognormal with mean ``mean_radius`` and coefficient
    of variation ``radius_cv`` (clipped to 0.3–4 × the mean). The particles are
    deposited one at a time onto the collector and the particles already there:
    each is dropped at a uniformly random horizontal position and comes to rest
    at the lowest spot it can reach by falling straight down from anywhere
    within ``settle_distance`` of its drop point (a stand-in for rolling into
    the nearest valley). Every particle rests on the collector or on earlier
    particles, so the NMC network reaches the collector, and no two particles
    overlap. With the defaults the 2D strip fills to an area fraction of about
    0.7 with about 3 contacts per particle, the 3D box to a volume fraction of
    about 0.5 with about 4.5 contacts per particle. In 2D the layout is a
    cross-section strip of the given width: spheres whose centres lie in the
    plane (the deposition uses their equatorial discs). In 3D the box is
    ``width × width`` wide. Particles closer than
    ``(R_i + R_j)(1 + contact_tolerance)`` are in contact, with contact radius
    ``contact_fraction · min(R_i, R_j)``; particles within
    ``contact_tolerance · R`` of the collector touch it (contact radius
    ``contact_fraction · R``).

    **Carbon binder.** Pore sites are the centroids of the Delaunay simplices
    of the particle centres that lie outside every particle, above the
    collector and below the pile's top surface; a fraction ``carbon_density``
    of them holds a junction. Junctions closer than ``carbon_reach`` are linked
    to each other, to the collector when they are lower than ``carbon_reach``,
    and to each particle whose surface is within ``carbon_reach``, each with
    probability equal to that particle's coverage. Links are straight and are
    not checked for passing through particles.

    **Top.** A particle is on top when at least a quarter of its width (2D) or
    projected area (3D) is the first thing seen from above.

    Parameters
    ----------
    n_particles : int
        Number of particles N (>= 1).
    dim : {2, 3}
        2 = cross-section strip, 3 = box.
    mean_radius, radius_cv : float
        Mean radius [m] and coefficient of variation of the lognormal radii.
    thickness, width : float, optional
        Give at most one, in metres. ``width`` fixes the strip/box width (the
        thickness follows); ``thickness`` chooses the width so that the pile
        comes out about that thick. Neither: about ``min(N^(1/dim), 12)``
        mean diameters thick.
    coverage : float, (mean, spread) or (N,) array
        Carbon coverage per particle; a pair draws uniformly from
        ``[mean − spread, mean + spread]`` clipped to [0, 1] (for N = 2 a pair
        is read as one value per particle).
    isolated_fraction : float in [0, 1)
        Fraction of particles (chosen at random) whose every link is removed;
        they come out ``isolated``, and so does any particle whose only paths
        to the collector ran through them.
    carbon_density : float in [0, 1]
        Fraction of pore sites holding a carbon-binder junction.
    carbon_reach : float, optional
        Link reach of the carbon network [m]; default ``1.5 · mean_radius``.
    carbon_width : float
        Carbon strand diameter [m] (sets ``carbon_factor = L / A_cb``).
    contact_tolerance, contact_fraction : float
        See above.
    settle_distance : float, optional
        How far [m] a particle may move sideways from its drop point to settle;
        default ``2 · mean_radius`` in 2D, ``mean_radius`` in 3D (larger is
        denser, with more contacts, and slower in 3D); 0 = plain ballistic
        deposition (sticks where it first touches); at most ``10 · mean_radius``.
    rng : numpy.random.Generator
        Source of randomness (required).

    Returns
    -------
    ElectrodeLayout
        Named ``"random-2d"`` or ``"random-3d"``.

    Examples
    --------
    >>> lay = random_layout(50, rng=np.random.default_rng(0))
    >>> lay.n_particles, lay.dim, bool(lay.isolated.any())
    (50, 2, False)
    """
    owner = "random_layout"
    rng = _check_rng(rng, owner)
    n = _count(n_particles, "n_particles", owner)
    if isinstance(dim, bool) or dim not in (2, 3):
        raise GeometryError(f"{owner}: dim must be 2 (cross-section) or 3 (box), got {dim!r}")
    dim = int(dim)
    # particles are grains of a powder: from 1 nm (a few unit cells) to 1 mm
    mean_r = in_range("mean_radius", mean_radius, 1e-9, 1e-3, unit=" m", example="2.5e-6 (metres)",
                      error=GeometryError, owner=owner)
    cv = in_range("radius_cv", radius_cv, 0.0, 2.0, example="0.2", error=GeometryError, owner=owner)
    iso = _fraction(isolated_fraction, "isolated_fraction", owner, upper_open=True)
    density = _fraction(carbon_density, "carbon_density", owner)
    reach = 1.5 * mean_r if carbon_reach is None else _positive_float(carbon_reach, "carbon_reach", owner)
    cw = _positive_float(carbon_width, "carbon_width", owner)
    tol = _fraction(contact_tolerance, "contact_tolerance", owner, upper_open=True)
    cfrac = _fraction(contact_fraction, "contact_fraction", owner)
    if cfrac == 0:
        raise GeometryError(f"{owner}: contact_fraction must be > 0 (a contact needs an area)")
    if settle_distance is None:
        settle = (2.0 if dim == 2 else 1.0) * mean_r
    else:
        # a particle rolls into a nearby valley, not across the pile: beyond ten
        # radii the search (and its memory, ~ settle^(dim-1) per particle) only grows
        settle = in_range("settle_distance", settle_distance, 0.0, 10.0 * mean_r, unit=" m",
                          example=f"{2.0 * mean_r:.3g} (metres, up to ten mean radii)", error=GeometryError,
                          owner=owner)

    # radii
    if cv > 0:
        s2 = math.log1p(cv * cv)
        radius = rng.lognormal(math.log(mean_r) - 0.5 * s2, math.sqrt(s2), n)
    else:
        radius = np.full(n, mean_r)
    radius = np.clip(radius, 0.3 * mean_r, 4.0 * mean_r)
    cov = _coverage_values(coverage, n, rng, owner)

    # strip / box width
    if width is not None and thickness is not None:
        raise GeometryError(
            f"{owner}: give width or thickness, not both (the deposited pile sets the other)"
        )
    if width is not None:
        w = _positive_float(width, "width", owner)
        if w <= 2 * radius.max():
            raise GeometryError(
                f"{owner}: width = {w:g} m is narrower than the largest particle "
                f"({2 * radius.max():g} m); use at least {4 * mean_r:g} m"
            )
    else:
        if thickness is None:
            t = min(n ** (1.0 / dim), 12.0) * 2.0 * mean_r
        else:
            t = _positive_float(thickness, "thickness", owner)
        if dim == 2:
            solid = np.sum(np.pi * radius**2)
            w = solid / (t * _PHI_DEPOSIT[2])
        else:
            solid = np.sum(4.0 / 3.0 * np.pi * radius**3)
            w = math.sqrt(solid / (t * _PHI_DEPOSIT[3]))
        w = max(w, 2.0 * radius.max() * 1.05)
    _check_pile_size(w, radius, dim, owner)

    pos, own, height, h = _deposit(radius, w, dim, rng, settle)
    tree = cKDTree(pos)

    # particle-particle contacts
    # deposited particles touch to round-off (~1e-16 relative): TOUCH keeps a
    # contact_tolerance of 0 from missing them
    tol = tol + _TOUCH
    pairs = tree.query_pairs(2.0 * radius.max() * (1.0 + tol), output_type="ndarray")
    if pairs.size:
        d = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
        pairs = pairs[d <= (radius[pairs[:, 0]] + radius[pairs[:, 1]]) * (1.0 + tol)]
    pairs = pairs.reshape(-1, 2)
    pp_a = cfrac * np.minimum(radius[pairs[:, 0]], radius[pairs[:, 1]])
    pc = np.flatnonzero(pos[:, -1] - radius <= tol * radius)
    pc_a = cfrac * radius[pc]

    # carbon binder
    sites = _pore_sites(pos, radius, tree, height, h)
    jpos = sites[rng.random(len(sites)) < density] if len(sites) else sites
    nj = len(jpos)
    if nj:
        jtree = cKDTree(jpos)
        jj = jtree.query_pairs(reach, output_type="ndarray").reshape(-1, 2)
        jj_len = np.linalg.norm(jpos[jj[:, 0]] - jpos[jj[:, 1]], axis=1)
        dm = jtree.sparse_distance_matrix(tree, reach + radius.max(), output_type="ndarray")
        jp = np.column_stack([dm["i"], dm["j"]]).astype(np.int64)
        gap = dm["v"] - radius[jp[:, 1]]
        keep = (gap <= reach) & (rng.random(len(jp)) < cov[jp[:, 1]])
        jp, jp_len = jp[keep], np.maximum(gap[keep], 0.0)
        jc = np.flatnonzero(jpos[:, -1] < reach)
        jc_len = jpos[jc, -1]
    else:
        jj = np.zeros((0, 2), np.int64)
        jp = np.zeros((0, 2), np.int64)
        jc = np.zeros(0, np.int64)
        jj_len = jp_len = jc_len = np.zeros(0)

    # isolated particles
    if iso > 0:
        k = round(iso * n)
        gone = rng.choice(n, size=k, replace=False)
        mask = np.zeros(n, bool)
        mask[gone] = True
        pkeep = ~(mask[pairs[:, 0]] | mask[pairs[:, 1]])
        pairs, pp_a = pairs[pkeep], pp_a[pkeep]
        ckeep = ~mask[pc]
        pc, pc_a = pc[ckeep], pc_a[ckeep]
        jkeep = ~mask[jp[:, 1]]
        jp, jp_len = jp[jkeep], jp_len[jkeep]

    edges, cf, nf = _assemble(
        radius, nj, pp=pairs, pp_a=pp_a, pc=pc, pc_a=pc_a, jj=jj, jj_len=jj_len,
        jp=jp, jp_len=jp_len, jc=jc, jc_len=jc_len, coverage=cov, carbon_width=cw,
    )
    top = _top_from_owner(own, radius, h, dim)
    return ElectrodeLayout(
        particle_radius=radius, particle_position=pos, junction_position=jpos.reshape(-1, dim),
        edges=edges, carbon_factor=cf, nmc_factor=nf, coverage=cov, top=top,
        name=f"random-{dim}d",
    )


def _top_from_owner(owner_map: np.ndarray, radius: np.ndarray, h: float, dim: int) -> np.ndarray:
    seen = owner_map[owner_map >= 0]
    count = np.bincount(seen, minlength=radius.size)
    if dim == 2:
        return count * h >= _TOP_VISIBLE_FRACTION * 2.0 * radius
    return count * h * h >= _TOP_VISIBLE_FRACTION * np.pi * radius**2


# ---------------------------------------------------------------------------
# the layered cross-section of (Sharma et al., Nano Lett. 2022) Fig. 4a
# ---------------------------------------------------------------------------


def layered_layout(
    n_columns: int = 5,
    n_layers: int = 3,
    *,
    radius: float = 2.5e-6,
    coverage=0.5,
    carbon_columns: Sequence[int] = (0,),
    contact_fraction: float = 0.1,
    carbon_width: float = _DEFAULT_CARBON_WIDTH,
) -> ElectrodeLayout:
    """Particles stacked in columns above the collector, as in (Sharma et al., Nano Lett. 2022) Fig. 4a.

    Particle ``(c, l)`` (column ``c`` from the left, layer ``l`` from the
    bottom) is particle index ``l · n_columns + c``, centred at
    ``x = (2c + 1) R``, ``z = (2l + 1.1) R`` (the bottom layer sits on a binder
    film ``0.1 R`` thick). The links are exactly:

    * NMC–NMC contacts between horizontal neighbours ``(c, l)–(c+1, l)`` and
      vertical neighbours ``(c, l)–(c, l+1)`` (contact radius
      ``contact_fraction · R``);
    * a carbon-binder pillar on the left flank of every column ``k`` in
      ``carbon_columns``: junctions at ``(x_k − R, z_l − R)`` for each layer,
      chained to each other (strands ``2R``), the lowest linked to the
      collector (``0.1 R``), and junction ``l`` linked to particle ``(k, l)``
      (strand ``(√2 − 1) R``) when that particle's coverage is > 0;
    * nothing else: the bottom layer does not touch the collector
      electronically (the binder film has no carbon there).

    So every particle of column ``c`` reaches the collector through
    ``min_k |c − k|`` other NMC particles; with the default
    ``carbon_columns=(0,)`` the top particles, left to right, cross
    0, 1, 2, 3, 4 particles: the leftmost has a direct carbon link and the
    rightmost reaches the collector through four NMC particles, as in the
    paper. ``top`` marks the top layer.

    Parameters
    ----------
    n_columns, n_layers : int
        Size of the stack (>= 1 each).
    radius : float
        Particle radius [m].
    coverage : float or (n_layers, n_columns) array
        Carbon coverage of the particles in carbon columns (float; the others
        get 0) or of every particle (array, row 0 = bottom layer).
    carbon_columns : sequence of int
        Columns with a carbon pillar to the collector (at least one).
    contact_fraction : float
        Contact radius of NMC–NMC contacts as a fraction of ``R``.
    carbon_width : float
        Carbon strand diameter [m].

    Examples
    --------
    >>> lay = layered_layout()
    >>> lay.graph_distance_to_collector()[lay.top].tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    owner = "layered_layout"
    nc, nl = _count(n_columns, "n_columns", owner), _count(n_layers, "n_layers", owner)
    r = _positive_float(radius, "radius", owner)
    cfrac = _fraction(contact_fraction, "contact_fraction", owner)
    if cfrac == 0:
        raise GeometryError(f"{owner}: contact_fraction must be > 0")
    cw = _positive_float(carbon_width, "carbon_width", owner)
    cols = np.unique(_indices(carbon_columns, "carbon_columns", owner, nc))
    if cols.size == 0:
        raise GeometryError(
            f"{owner}: carbon_columns = {list(carbon_columns)} must name at least one column "
            f"in 0..{nc - 1}; without a carbon pillar no particle reaches the collector"
        )
    n = nc * nl
    in_carbon = np.zeros((nl, nc), bool)
    in_carbon[:, cols] = True
    if np.ndim(coverage) == 0:
        cov = np.where(in_carbon, _fraction(coverage, "coverage", owner), 0.0)
    else:
        cov = _as_float(coverage, "coverage", owner)
        if cov.shape != (nl, nc):
            raise GeometryError(
                f"{owner}: coverage must be a fraction or an array of shape ({nl}, {nc}) "
                f"(layers, columns), got shape {cov.shape}"
            )
        if not np.all((cov >= 0) & (cov <= 1)):
            raise GeometryError(f"{owner}: coverage values must lie in [0, 1]")
    cov = cov.ravel()
    cc, ll = np.meshgrid(np.arange(nc), np.arange(nl))
    cc, ll = cc.ravel(), ll.ravel()
    pos = np.column_stack([(2 * cc + 1) * r, (2 * ll + 1.1) * r])
    idx = ll * nc + cc
    horiz = np.column_stack([idx[cc < nc - 1], idx[cc < nc - 1] + 1])
    vert = np.column_stack([idx[ll < nl - 1], idx[ll < nl - 1] + nc])
    pp = np.vstack([horiz, vert]).reshape(-1, 2)
    # pillars: junction (pillar p, layer l) has index p * nl + l
    npil = cols.size
    jx = np.repeat((2 * cols + 1) * r - r, nl)
    jz = np.tile((2 * np.arange(nl) + 1.1) * r - r, npil)
    jpos = np.column_stack([jx, jz])
    jid = np.arange(npil * nl).reshape(npil, nl)
    jj = np.column_stack([jid[:, :-1].ravel(), jid[:, 1:].ravel()])
    jp_all = np.column_stack([jid.ravel(), (np.arange(nl)[None, :] * nc + cols[:, None]).ravel()])
    jp = jp_all[cov[jp_all[:, 1]] > 0]
    jc = jid[:, 0]
    edges, cf, nf = _assemble(
        np.full(n, r), npil * nl,
        pp=pp, pp_a=np.full(len(pp), cfrac * r),
        pc=np.zeros(0, np.int64), pc_a=np.zeros(0),
        jj=jj, jj_len=np.full(len(jj), 2 * r),
        jp=jp, jp_len=np.full(len(jp), (math.sqrt(2.0) - 1.0) * r),
        jc=jc, jc_len=np.full(len(jc), 0.1 * r),
        coverage=cov, carbon_width=cw,
    )
    return ElectrodeLayout(
        particle_radius=np.full(n, r), particle_position=pos, junction_position=jpos,
        edges=edges, carbon_factor=cf, nmc_factor=nf, coverage=cov, top=ll == nl - 1,
        name="layered",
    )


def _count(value, name: str, owner: str) -> int:
    return whole_number(name, value, minimum=1, example=10, error=GeometryError, owner=owner)


# ---------------------------------------------------------------------------
# from a label image
# ---------------------------------------------------------------------------


def layout_from_labels(
    labels,
    *,
    pixel_size_nm: float,
    collector: str = "bottom",
    carbon_coverage=0.5,
    contact_dilation_px: int = 1,
    collector_reach_px: int = 3,
    carbon_spacing_px: int | None = None,
    carbon_density: float = 1.0,
    carbon_width: float = _DEFAULT_CARBON_WIDTH,
    rng: np.random.Generator | None = None,
) -> ElectrodeLayout:
    """An electrode from a 2D label image (a segmentation of a cross-section).

    * **Particles**: one per label (labels are renumbered 1..N in order if
      they are not consecutive; the layout keeps the renumbered image). Each
      is a sphere with the area-equivalent radius ``√(area/π)``, centred at its
      label's centroid. Positions are ``(x, z)`` with ``z`` the height above
      the collector edge of the image (for ``collector="bottom"`` the image
      ``y`` axis is flipped).
    * **Particle contacts**: labels are grown by ``contact_dilation_px``
      pixels (``skimage.segmentation.expand_labels``, no overlap), so particles
      whose outlines are at most ``2 · contact_dilation_px`` pixels apart
      touch. The contact length is ``ℓ = (π/4) · n · pixel`` for ``n``
      4-neighbour pixel pairs across the boundary the grown labels share (π/4
      undoes the mean staircase excess of a boundary of random direction; the
      growth adds about ``contact_dilation_px`` at each end of a contact between
      touching particles); the contact radius is ``ℓ / 2``.
    * **Collector contacts**: particles with pixels within
      ``collector_reach_px`` of the collector edge; contact radius half the
      width they cover there.
    * **Carbon binder**: the image is cut into square blocks of
      ``carbon_spacing_px`` (default: half the median equivalent radius, at
      least 4 px) from the collector edge; a block that is at least half
      background holds a junction at its background centroid (kept with
      probability ``carbon_density`` when ``rng`` is given). Junctions of
      edge-adjacent blocks are linked; a junction is linked to every particle
      with pixels in its block (each link kept with probability equal to the
      particle's coverage when ``rng`` is given) and, in the block row at the
      collector, to the collector.
    * **Top**: particles seen from the side opposite the collector (first
      label met in at least a quarter of their width in columns).

    Parameters
    ----------
    labels : ndarray (y, x) int
        Label image, 0 = background (e.g. ``skimage.measure.label`` of a mask).
    pixel_size_nm : float
        Pixel size [nm].
    collector : {"bottom", "top", "left", "right"}
        Image edge that touches the current collector.
    carbon_coverage : float, (mean, spread) or (N,) array
        Carbon coverage per particle in [0, 1]; particles with 0 get no
        carbon links. A pair (with ``rng``) draws each particle's coverage
        uniformly from ``mean ± spread``, as :func:`random_layout` does.
    contact_dilation_px : int
        Growth of the labels before looking for contacts [px], >= 0.
    collector_reach_px : int
        Distance from the collector edge that counts as touching it [px].
    carbon_spacing_px : int, optional
        Block size of the carbon grid [px].
    carbon_density : float in [0, 1]
        Fraction of candidate blocks that hold a junction (needs ``rng``).
    carbon_width : float
        Carbon strand diameter [m].
    rng : numpy.random.Generator, optional
        Thins junctions and carbon links at random; without it every
        candidate junction and link is kept.

    Raises
    ------
    GeometryError
        For an image with no particles, a non-integer image or bad options.
    """
    from skimage.segmentation import expand_labels, relabel_sequential

    owner = "layout_from_labels"
    lab = np.asarray(labels)
    if lab.ndim != 2:
        raise GeometryError(f"{owner}: labels must be a 2D image (y, x), got shape {lab.shape}")
    if lab.dtype == bool or not np.issubdtype(lab.dtype, np.integer):
        raise GeometryError(
            f"{owner}: labels must be an integer label image, got dtype {lab.dtype}; "
            "label a mask first (skimage.measure.label(mask))"
        )
    if lab.size and lab.min() < 0:
        raise GeometryError(f"{owner}: labels must be >= 0 (0 = background), got {lab.min()}")
    if not lab.any():
        raise GeometryError(
            f"{owner}: the label image has no particles (every pixel is 0); "
            "check the threshold or segmentation that made it"
        )
    a, b = lab[:, :-1], lab[:, 1:]
    both = (a > 0) & (b > 0)
    # in a label image neighbouring particle pixels mostly share their label; in a
    # grey micrograph they mostly differ
    same = float(np.mean(a[both] == b[both])) if both.sum() >= 100 else 1.0
    if same < 0.5:
        raise GeometryError(
            f"{owner}: the image looks like a grey micrograph, not a label image ({np.unique(lab).size} values; "
            f"only {same:.0%} of neighbouring non-zero pixels are equal); segment it "
            "first, e.g. labels = socscope.analysis.optical.segment_particles(image)"
        )
    px = _positive_float(pixel_size_nm, "pixel_size_nm", owner) * 1e-9
    if collector not in ("bottom", "top", "left", "right"):
        raise GeometryError(
            f"{owner}: collector = {collector!r}; use 'bottom', 'top', 'left' or 'right'"
        )
    dil = whole_number("contact_dilation_px", contact_dilation_px, minimum=0, example=1, error=GeometryError,
                       owner=owner)
    reach_px = whole_number("collector_reach_px", collector_reach_px, minimum=1, example=3, error=GeometryError,
                            owner=owner)
    density = _fraction(carbon_density, "carbon_density", owner)
    cw = _positive_float(carbon_width, "carbon_width", owner)
    if rng is not None:
        rng = _check_rng(rng, owner)

    lab, _, _ = relabel_sequential(lab.astype(np.int64))
    n = int(lab.max())
    # canonical orientation: collector along the last row
    canon = {"bottom": lab, "top": lab[::-1, :], "left": lab.T[::-1, :], "right": lab.T}[collector]
    ny, nx = canon.shape
    cov = _coverage_values(carbon_coverage, n, rng, owner)

    # particles
    rows, cols = np.nonzero(canon)
    ids = canon[rows, cols] - 1
    area = np.bincount(ids, minlength=n).astype(float)
    row_c = np.bincount(ids, weights=rows, minlength=n) / area
    col_c = np.bincount(ids, weights=cols, minlength=n) / area
    radius = np.sqrt(area / np.pi) * px
    pos = np.column_stack([(col_c + 0.5) * px, (ny - row_c - 0.5) * px])

    # particle-particle contacts
    grown = expand_labels(canon, distance=dil) if dil > 0 else canon
    a_pairs = [(grown[:, :-1], grown[:, 1:]), (grown[:-1, :], grown[1:, :])]
    codes = []
    for a, b in a_pairs:
        m = (a != b) & (a > 0) & (b > 0)
        lo = np.minimum(a[m], b[m]) - 1
        hi = np.maximum(a[m], b[m]) - 1
        codes.append(lo * n + hi)
    code, count = np.unique(np.concatenate(codes), return_counts=True)
    pp = np.column_stack([code // n, code % n]).astype(np.int64).reshape(-1, 2)
    pp_a = 0.5 * (np.pi / 4.0) * count * px

    # collector contacts
    band = canon[ny - reach_px:, :] if reach_px < ny else canon
    bcols = np.nonzero(band)
    if bcols[0].size:
        pc_code = np.unique((band[bcols] - 1) * nx + bcols[1])
        pc, width_px = np.unique(pc_code // nx, return_counts=True)
    else:
        pc, width_px = np.zeros(0, np.int64), np.zeros(0)
    pc_a = 0.5 * width_px * px

    # carbon grid
    if carbon_spacing_px is None:
        s = max(4, round(0.5 * np.median(radius) / px))
    else:
        s = whole_number("carbon_spacing_px", carbon_spacing_px, minimum=1, example=8, error=GeometryError,
                         owner=owner)
        if s > max(ny, nx):
            # one block then covers the whole image; larger blocks only add padding
            raise GeometryError(f"{owner}: carbon_spacing_px = {s} is larger than the image ({ny} x {nx} px); "
                                f"use at most {max(ny, nx)}")
    nby, nbx = -(-ny // s), -(-nx // s)
    padded = np.full((nby * s, nbx * s), -1, dtype=np.int64)
    padded[nby * s - ny:, :nx] = canon  # pad on the side away from the collector and on the right
    blocks = padded.reshape(nby, s, nbx, s).transpose(0, 2, 1, 3).reshape(nby * nbx, s * s)
    real = (blocks >= 0).sum(axis=1)
    bg = blocks == 0
    nbg = bg.sum(axis=1)
    has_j = (nbg > 0) & (nbg >= 0.5 * real)
    if rng is not None and density < 1:
        has_j &= rng.random(has_j.size) < density
    elif rng is None and density < 1:
        raise GeometryError(f"{owner}: carbon_density < 1 needs an rng to choose the junctions")
    prow = (np.arange(s)[:, None] * np.ones((1, s))).ravel()
    pcol = (np.ones((s, 1)) * np.arange(s)[None, :]).ravel()
    brow, bcol = np.divmod(np.arange(nby * nbx), nbx)
    with np.errstate(invalid="ignore", divide="ignore"):
        jr = brow * s + (bg * prow).sum(axis=1) / nbg - (nby * s - ny)  # row in canon
        jcl = bcol * s + (bg * pcol).sum(axis=1) / nbg
    jblock = np.flatnonzero(has_j)
    nj = jblock.size
    jmap = np.full(nby * nbx, -1, np.int64)
    jmap[jblock] = np.arange(nj)
    jpos = np.column_stack([(jcl[jblock] + 0.5) * px, (ny - jr[jblock] - 0.5) * px])
    jgrid = jmap.reshape(nby, nbx)
    jj = np.vstack([
        np.column_stack([jgrid[:, :-1].ravel(), jgrid[:, 1:].ravel()]),
        np.column_stack([jgrid[:-1, :].ravel(), jgrid[1:, :].ravel()]),
    ])
    jj = jj[(jj >= 0).all(axis=1)]
    jj_len = np.linalg.norm(jpos[jj[:, 0]] - jpos[jj[:, 1]], axis=1) if len(jj) else np.zeros(0)
    sub = blocks[jblock]
    bi, pi = np.nonzero(sub > 0)
    code = np.unique(bi * (n + 1) + sub[bi, pi])
    jp = np.column_stack([code // (n + 1), code % (n + 1) - 1]).astype(np.int64).reshape(-1, 2)
    keep = cov[jp[:, 1]] > 0
    if rng is not None:
        keep &= rng.random(len(jp)) < cov[jp[:, 1]]
    jp = jp[keep]
    jp_len = np.linalg.norm(jpos[jp[:, 0]] - pos[jp[:, 1]], axis=1) - radius[jp[:, 1]]
    jc = jmap[jblock[brow[jblock] == nby - 1]]
    jc_len = jpos[jc, 1]

    edges, cf, nf = _assemble(
        radius, nj, pp=pp, pp_a=pp_a, pc=pc, pc_a=pc_a, jj=jj, jj_len=jj_len,
        jp=jp, jp_len=jp_len, jc=jc, jc_len=jc_len, coverage=cov, carbon_width=cw,
    )

    # top: first label from the far side in each column
    fg = canon > 0
    any_fg = fg.any(axis=0)
    first = np.argmax(fg, axis=0)
    seen = canon[first[any_fg], np.flatnonzero(any_fg)] - 1
    vis = np.bincount(seen, minlength=n)
    top = vis >= np.maximum(1.0, _TOP_VISIBLE_FRACTION * 2.0 * radius / px)
    return ElectrodeLayout(
        particle_radius=radius, particle_position=pos, junction_position=jpos.reshape(-1, 2),
        edges=edges, carbon_factor=cf, nmc_factor=nf, coverage=cov, top=top,
        name="from-labels", labels=lab, pixel_size=px,
    )


# ---------------------------------------------------------------------------
# layouts for checking the network solve
# ---------------------------------------------------------------------------


def identical_wired_layout(
    n_particles: int,
    radius: float,
    *,
    conductance_factor: float = 1e6,
    coverage: float = 1.0,
) -> ElectrodeLayout:
    """Identical particles, each wired straight to the collector.

    Every particle has one edge, to the collector, with
    ``carbon_factor = conductance_factor`` (resistance
    ``conductance_factor / σ_CB``, 100 Ω by default) and no NMC factor, so
    σ(θ) never enters and every particle sits at the collector's potential
    to within ``I_p × 100 Ω`` (1e-10 V for a 2.5 µm particle at C/20): the
    network must behave like the single-particle model. The default is far
    below a particle's charge-transfer resistance (~1e8 Ω) but not so far
    that the network matrix loses its accuracy (a wire of 1e-16 Ω would put
    17 decades between its entries). Particles lie side by side on the
    collector, ``3R`` apart, not touching; all are on top.

    Parameters
    ----------
    n_particles : int
        Number of particles (>= 1).
    radius : float
        Particle radius [m].
    conductance_factor : float
        Carbon factor of each wire [m⁻¹], > 0.
    coverage : float
        Coverage recorded for every particle.
    """
    owner = "identical_wired_layout"
    n = _count(n_particles, "n_particles", owner)
    r = _positive_float(radius, "radius", owner)
    f = _positive_float(conductance_factor, "conductance_factor", owner)
    pos = np.column_stack([(3.0 * np.arange(n) + 1.5) * r, np.full(n, r)])
    return ElectrodeLayout(
        particle_radius=np.full(n, r), particle_position=pos, junction_position=np.zeros((0, 2)),
        edges=np.column_stack([np.zeros(n, np.int64), np.arange(n) + 1]),
        carbon_factor=np.full(n, f), nmc_factor=np.zeros((n, 2)),
        coverage=np.full(n, _fraction(coverage, "coverage", owner)), top=np.ones(n, bool),
        name="identical-wired",
    )


def ladder_layout(
    n: int,
    *,
    carbon_factor: float,
    rung_carbon_factor: float | None = None,
    rung_nmc_factor: float = 0.0,
    radius: float = 2.5e-6,
    coverage: float = 1.0,
) -> ElectrodeLayout:
    """A resistor ladder: a chain of junctions from the collector, a particle on each rung.

    Nodes: collector 0, junctions ``J_1..J_n`` (node ``k``), particles
    ``P_1..P_n`` (node ``n + k``). Edges, in this order: the rails
    ``0–J_1, J_1–J_2, ..., J_{n−1}–J_n`` (each ``carbon_factor``), then the
    rungs ``J_k–P_k`` (carbon ``rung_carbon_factor``, default
    ``carbon_factor``, plus ``rung_nmc_factor`` through the particle). With
    rail resistance ``r`` and rung resistance ``R`` and every particle held
    at one potential, the resistance from the collector to the particles is
    ``r cosh(γ(n+½)) / (2 sinh(γn) sinh(γ/2))`` with ``cosh γ = 1 + r/(2R)``.
    Junction ``J_k`` sits at height ``2.2 k R``; its particle beside it.

    Parameters
    ----------
    n : int
        Number of rungs (>= 1).
    carbon_factor : float
        ``L/A`` of each rail segment [m⁻¹], > 0.
    rung_carbon_factor, rung_nmc_factor : float
        Factors of each rung [m⁻¹], >= 0, not both 0.
    radius : float
        Particle radius [m].
    coverage : float
        Coverage recorded for every particle.
    """
    owner = "ladder_layout"
    n = _count(n, "n", owner)
    cf = _positive_float(carbon_factor, "carbon_factor", owner)
    rc = cf if rung_carbon_factor is None else _nonnegative(rung_carbon_factor, "rung_carbon_factor", owner)
    rn = _nonnegative(rung_nmc_factor, "rung_nmc_factor", owner)
    if rc == 0 and rn == 0:
        raise GeometryError(f"{owner}: rung_carbon_factor and rung_nmc_factor are both 0: a rung needs a "
                            "resistance (e.g. rung_carbon_factor=1e6)")
    r = _positive_float(radius, "radius", owner)
    k = np.arange(n)
    z = 2.2 * (k + 1) * r
    rails = np.column_stack([k, k + 1])
    rungs = np.column_stack([k + 1, n + 1 + k])
    nmc = np.zeros((2 * n, 2))
    nmc[n:, 1] = rn
    return ElectrodeLayout(
        particle_radius=np.full(n, r),
        particle_position=np.column_stack([np.full(n, 2.0 * r), z]),
        junction_position=np.column_stack([np.zeros(n), z]),
        edges=np.vstack([rails, rungs]),
        carbon_factor=np.concatenate([np.full(n, cf), np.full(n, rc)]),
        nmc_factor=nmc,
        coverage=np.full(n, _fraction(coverage, "coverage", owner)),
        top=np.ones(n, bool),
        name="ladder",
    )


def electrolyte_links(layout: ElectrodeLayout, kappa: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ionic paths of the pore electrolyte between particles and to the separator.

    Neighbouring particles (the edges of the Delaunay triangulation of the
    centres; the 2·dim nearest neighbours of each where there is none, e.g.
    for centres on a line) are joined through
    the electrolyte by a cylinder of the pair's mean radius ``r̄`` along the
    centre distance ``d``: ``G = κ π r̄² / d``. Particles whose tops lie
    within one mean radius of the highest top face the separator and are
    joined to it by the same kind of cylinder, from the particle's centre to
    the top of the stack. ``κ`` is the effective (porous, tortuous)
    conductivity of the electrolyte in the electrode (e.g. κ ε^1.5).

    Parameters
    ----------
    layout : ElectrodeLayout
    kappa : float
        Effective ionic conductivity [S/m].

    Returns
    -------
    pairs : ndarray of int, shape (M, 2)
        Particle indices (0..N−1).
    g_pairs : ndarray, shape (M,)
        Their ionic conductances [S].
    separator : ndarray of int, shape (K,)
        Particles linked to the separator.
    g_separator : ndarray, shape (K,)
        [S].
    """
    kappa = _positive_float(kappa, "kappa", "electrolyte_links")
    pos = np.asarray(_check_layout(layout, "electrolyte_links").particle_position, dtype=float)
    r = np.asarray(layout.particle_radius, dtype=float)
    n, dim = pos.shape
    pairs = None
    if n >= dim + 2:
        try:
            simplices = Delaunay(pos).simplices
            pairs = np.vstack([simplices[:, [i, j]] for i in range(dim + 1) for j in range(i + 1, dim + 1)])
        except QhullError:  # degenerate (e.g. collinear) centres
            pass
    if pairs is None:  # too few, or degenerate (e.g. collinear), centres: nearest neighbours
        k = min(n, 2 * dim + 1)
        _, idx = cKDTree(pos).query(pos, k=k)
        idx = np.asarray(idx).reshape(n, k)
        pairs = np.column_stack([np.repeat(np.arange(n), k - 1), idx[:, 1:].ravel()])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0) if pairs.size else pairs.reshape(0, 2)
    dist = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
    rbar = 0.5 * (r[pairs[:, 0]] + r[pairs[:, 1]])
    g_pairs = kappa * np.pi * rbar**2 / np.maximum(dist, 1e-3 * rbar)
    tops = pos[:, -1] + r
    top = tops.max()
    separator = np.nonzero(tops >= top - r.mean())[0]
    length = np.maximum(top - pos[separator, -1], r[separator])
    g_sep = kappa * np.pi * r[separator] ** 2 / length
    return pairs.astype(np.int64), g_pairs, separator.astype(np.int64), g_sep
