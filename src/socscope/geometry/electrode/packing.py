"""Random packings: particles deposited in 2D or 3D, contacts, carbon-binder junctions (:func:`random_layout`)."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import Delaunay, QhullError, cKDTree

from ..._checks import in_range
from ...errors import GeometryError
from ._args import _TOUCH, _check_rng, _count, _fraction, _positive_float
from .factors import _DEFAULT_CARBON_WIDTH
from .layout import ElectrodeLayout, _top_from_owner
from .links import _assemble, _coverage_values

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
