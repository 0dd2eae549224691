"""The :class:`ElectrodeLayout` graph, its edge conductances and its ionic (electrolyte) links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import Delaunay, QhullError, cKDTree

from ..._checks import positive_float
from ...errors import GeometryError
from ._args import _as_float, _indices, _positive_float
from .factors import SIGMA_CB

#: plausible particle radii [m]: a tenth of random_layout's smallest mean radius
#: (1e-9 m; it draws down to 0.3 of the mean, a one-pixel label at 1 nm is 5.6e-10 m)
#: to ten times its largest (1e-3 m; it draws up to 4 times the mean). Outside,
#: a length was almost surely given in another unit (1 m, or nanometres as metres)
MIN_RADIUS, MAX_RADIUS = 1e-10, 1e-2


#: A particle counts as seen from the top when at least this fraction of its
#: width (2D) or projected disc area (3D) is the first thing seen from above.
_TOP_VISIBLE_FRACTION = 0.25


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
    >>> from socscope.geometry.electrode import ladder_layout
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


def _check_layout(layout, owner: str) -> ElectrodeLayout:
    if not isinstance(layout, ElectrodeLayout):
        raise GeometryError(f"{owner}: layout must be an ElectrodeLayout (e.g. layered_layout()), "
                            f"got {type(layout).__name__}")
    return layout


def _top_from_owner(owner_map: np.ndarray, radius: np.ndarray, h: float, dim: int) -> np.ndarray:
    seen = owner_map[owner_map >= 0]
    count = np.bincount(seen, minlength=radius.size)
    if dim == 2:
        return count * h >= _TOP_VISIBLE_FRACTION * 2.0 * radius
    return count * h * h >= _TOP_VISIBLE_FRACTION * np.pi * radius**2


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
