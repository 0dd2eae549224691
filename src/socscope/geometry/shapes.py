"""Particle shapes and their finite-volume grids.

* :class:`Sphere` — a sphere, solved on radial shells (1D).
* :class:`Disc`, :class:`Ellipse`, :class:`Polygon`, :class:`Mask` — the
  ab-plane cross-section of a single-crystal platelet whose Li moves only in
  the ab-plane. The faces parallel to the ab-plane carry no flux; only the
  perimeter (and, for masks, the edges of internal holes and cracks) is
  active. The cross-section is meshed with square cells of side
  ``resolution``; a cell belongs to the particle when its centre does.

2D grids carry a slab ``thickness`` (the platelet's height along c): it
enters only the conversion between the particle's current in ampere and its
Li flux, never the θ field itself.

Boundary elements of analytic shapes (disc, ellipse, polygon) are samples
of the exact boundary curve, each owned by the nearest cell on the edge of
the grid; their areas add up to the true perimeter times the thickness, so a
flux density given per true surface area is applied exactly. For masks the
exposed pixel edges are the boundary elements (a staircase: the mask *is* the
particle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import MIN_SIZE_M, finite_float, whole_number
from ..errors import GeometryError
from ..numerics.fv import FVGrid

__all__ = ["Sphere", "Disc", "Ellipse", "Polygon", "Mask", "DEFAULT_THICKNESS"]

#: Default slab thickness of 2D cross-sections [m] (the c-axis height of a
#: micrometre-sized single crystal); only the conversion A <-> flux uses it.
DEFAULT_THICKNESS = 1e-6


def _positive(name: str, value, owner: str, fix: str = "", *, atom_floor: bool = True) -> float:
    try:
        if isinstance(value, (str, bytes, bool)):
            raise TypeError  # "1e-6" is text: lengths are numbers
        v = float(value)
    except (TypeError, ValueError):
        raise GeometryError(f"{owner}: {name} must be a number in metres, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise GeometryError(
            f"{owner}: {name} = {value!r} is not allowed; it must be finite and > 0 (metres)"
            + (f". {fix}" if fix else "")
        )
    if v > 1e-2:
        raise GeometryError(
            f"{owner}: {name} = {v:g} m is larger than 1 cm; lengths are in metres "
            "(a 2 µm particle is 2e-6)"
        )
    if atom_floor and v < MIN_SIZE_M:  # below an atom: a unit slip; it failed later as "θ = nan"
        raise GeometryError(
            f"{owner}: {name} = {v:g} m is smaller than an atom ({MIN_SIZE_M:g} m); lengths are in metres "
            "(a 2 µm particle is 2e-6)"
        )
    return v


def _check_resolution(resolution, size: float, owner: str) -> float:
    h = _positive("resolution", resolution, owner, atom_floor=False)  # the cell count caps it
    if h > size / 2:
        raise GeometryError(
            f"{owner}: resolution {h:g} m is coarser than half the particle size {size:g} m; "
            f"use at most {size / 4:g} m"
        )
    return h


class _Shape2D:
    """Shared meshing of analytic 2D shapes."""

    dimension = 2

    def _inside(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _boundary_curve(self, spacing: float) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        """Closed boundary as sample points (k, 2) and their arc lengths (k,)."""
        raise NotImplementedError

    def _bbox(self) -> tuple[float, float, float, float]:  # pragma: no cover
        raise NotImplementedError

    @property
    def centroid(self) -> tuple[float, float]:
        return (0.0, 0.0)

    def mesh(self, resolution: float, *, max_cells: int = 4_000_000) -> FVGrid:
        """Square-cell finite-volume grid of the cross-section.

        Parameters
        ----------
        resolution : float
            Cell side [m].
        max_cells : int
            Refuse grids larger than this (memory guard).

        Returns
        -------
        FVGrid
        """
        x0, x1, y0, y1 = self._bbox()
        h = _check_resolution(resolution, min(x1 - x0, y1 - y0), type(self).__name__)
        nx = int(np.ceil((x1 - x0) / h)) + 2
        ny = int(np.ceil((y1 - y0) / h)) + 2
        # the cells inside (area / h²), and the box's pixels, which are only
        # classified (a thin tilted shape has a box much larger than itself)
        if self.area / h**2 > max_cells or nx * ny > 4 * max_cells:
            raise GeometryError(
                f"{type(self).__name__}: resolution {h:g} m gives about {self.area / h**2:.3g} cells "
                f"({nx} x {ny} in its bounding box), more than max_cells={max_cells}; use a coarser resolution, "
                f"e.g. {h * np.sqrt(max(self.area / h**2, nx * ny / 4) / max_cells) * 1.01:.3g} m")
        cx = 0.5 * (x0 + x1)
        cy = 0.5 * (y0 + y1)
        x = cx + (np.arange(nx) - (nx - 1) / 2) * h
        y = cy + (np.arange(ny) - (ny - 1) / 2) * h
        X, Y = np.meshgrid(x, y)
        inside = self._inside(X, Y)
        inside = _largest_component(inside)
        spacing = h / 4
        pts, ds = self._boundary_curve(spacing)
        return _cartesian_grid(
            inside, x, y, h, self.thickness,
            boundary_points=pts, boundary_lengths=ds, centroid=self.centroid,
        )


@dataclass(frozen=True)
class Sphere:
    """A spherical particle, solved on radial shells.

    Parameters
    ----------
    radius : float
        Radius [m].
    """

    radius: float
    dimension = 1

    def __post_init__(self):
        object.__setattr__(self, "radius", _positive("radius", self.radius, "Sphere"))

    @property
    def volume(self) -> float:
        return 4.0 / 3.0 * np.pi * self.radius**3

    @property
    def surface_area(self) -> float:
        return 4.0 * np.pi * self.radius**2

    @property
    def size(self) -> float:
        """Diameter [m]."""
        return 2 * self.radius

    def mesh(self, resolution: float | None = None, *, n_cells: int | None = None,
             max_cells: int = 4_000_000) -> FVGrid:
        """Uniform radial shells.

        Parameters
        ----------
        resolution : float, optional
            Shell thickness [m]; the number of shells is ``ceil(R / resolution)``.
        n_cells : int, optional
            Number of shells (instead of ``resolution``).
        max_cells : int
            Refuse more shells than this (memory guard).
        """
        R = self.radius
        if n_cells is not None and resolution is not None:
            raise GeometryError(f"Sphere: give resolution= (shell thickness in m) or n_cells= (number of shells), "
                                f"not both (got resolution={resolution!r}, n_cells={n_cells!r})")
        if n_cells is None:
            if resolution is None:
                n_cells = 100
            else:
                h = _check_resolution(resolution, R, "Sphere")
                n_cells = int(np.ceil(R / h - 1e-9))
        n = whole_number("n_cells", n_cells, minimum=2, example=100, error=GeometryError)
        if n > max_cells:
            raise GeometryError(f"Sphere: {n} shells is more than max_cells={max_cells} (the radial profile "
                                "converges at second order: 1000 shells are within 1e-6 of the limit); use fewer "
                                "shells or a coarser resolution")
        rf = np.linspace(0.0, R, n + 1)
        rc = 0.5 * (rf[:-1] + rf[1:])
        vol = 4.0 / 3.0 * np.pi * (rf[1:] ** 3 - rf[:-1] ** 3)
        area = 4.0 * np.pi * rf[1:-1] ** 2
        trans = area / np.diff(rc)
        faces = np.column_stack([np.arange(n - 1), np.arange(1, n)])
        return FVGrid(
            volumes=vol,
            face_cells=faces,
            face_trans=trans,
            boundary_cell=np.array([n - 1]),
            boundary_area=np.array([4.0 * np.pi * R**2]),
            boundary_distance=np.array([R - rc[-1]]),
            boundary_angle=np.array([0.0]),
            boundary_xy=np.array([[R, 0.0]]),
            cell_xy=np.column_stack([rc, np.zeros(n)]),
            kind="radial",
            boundary_distance_cells=R - rc,
            meta={"shape": "Sphere", "radius_m": R, "r_faces": rf},
        )


@dataclass(frozen=True)
class Disc(_Shape2D):
    """Circular ab-plane cross-section.

    Parameters
    ----------
    diameter : float
        Diameter [m].
    thickness : float
        Slab thickness along c [m].
    """

    diameter: float
    thickness: float = DEFAULT_THICKNESS

    def __post_init__(self):
        object.__setattr__(self, "diameter", _positive("diameter", self.diameter, "Disc"))
        object.__setattr__(self, "thickness", _positive("thickness", self.thickness, "Disc"))

    @property
    def radius(self) -> float:
        return 0.5 * self.diameter

    @property
    def area(self) -> float:
        return np.pi * self.radius**2

    @property
    def perimeter(self) -> float:
        return 2 * np.pi * self.radius

    @property
    def size(self) -> float:
        return self.diameter

    def _bbox(self):
        r = self.radius
        return (-r, r, -r, r)

    def mesh(self, resolution: float, *, method: str = "polar", max_cells: int = 4_000_000) -> FVGrid:
        """Finite-volume grid of the disc.

        Parameters
        ----------
        resolution : float
            Radial spacing (polar) or cell side (Cartesian) [m].
        method : {"polar", "cartesian"}
            "polar" (default): rings of width ``resolution``, each split into
            about square sectors (a power-of-two multiple of 8, doubling
            outwards), the centre one cell. The boundary is exact, so the
            scheme stays second order up to the surface. "cartesian": square
            cells as for other shapes (first order at the staircase boundary).
        max_cells : int
            Refuse grids larger than this.
        """
        if method == "cartesian":
            return _Shape2D.mesh(self, resolution, max_cells=max_cells)
        if method != "polar":
            raise GeometryError(f"Disc.mesh: method {method!r} must be 'polar' or 'cartesian'")
        h = _check_resolution(resolution, self.diameter, "Disc")
        n_rings = int(np.ceil(self.radius / h - 1e-9))
        if 3.2 * n_rings**2 > max_cells:
            raise GeometryError(
                f"Disc: resolution {h:g} m gives about {int(3.2 * n_rings ** 2)} cells, more than "
                f"max_cells={max_cells}; use a coarser resolution"
            )
        return _polar_grid(self.radius, n_rings, self.thickness)

    def _inside(self, x, y):
        return x * x + y * y < self.radius**2

    def _boundary_curve(self, spacing):
        n = max(64, int(np.ceil(self.perimeter / spacing)))
        phi = (np.arange(n) + 0.5) * 2 * np.pi / n - np.pi
        pts = self.radius * np.column_stack([np.cos(phi), np.sin(phi)])
        return pts, np.full(n, self.perimeter / n)


@dataclass(frozen=True)
class Ellipse(_Shape2D):
    """Elliptical ab-plane cross-section.

    Parameters
    ----------
    width, height : float
        Full axis lengths along x and y before rotation [m].
    angle : float
        Rotation of the ellipse anticlockwise [rad].
    thickness : float
        Slab thickness along c [m].
    """

    width: float
    height: float
    angle: float = 0.0
    thickness: float = DEFAULT_THICKNESS

    def __post_init__(self):
        for name in ("width", "height", "thickness"):
            object.__setattr__(self, name, _positive(name, getattr(self, name), "Ellipse"))
        object.__setattr__(self, "angle", finite_float("angle", self.angle, unit=" rad", example="0.3",
                                                     error=GeometryError, owner="Ellipse"))

    @property
    def area(self) -> float:
        return np.pi * self.width * self.height / 4

    @property
    def size(self) -> float:
        """Smallest extent [m] (as for Polygon and Mask): the default cell is size / 50.

        The largest had given a 100:1 ellipse a default cell twice its
        thickness, refused with a message about a resolution nobody gave.
        """
        return min(self.width, self.height)

    def _curve(self, n):
        s = (np.arange(n) + 0.5) * 2 * np.pi / n
        a, b = self.width / 2, self.height / 2
        c, si = np.cos(self.angle), np.sin(self.angle)
        px, py = a * np.cos(s), b * np.sin(s)
        return np.column_stack([c * px - si * py, si * px + c * py])

    @property
    def perimeter(self) -> float:
        """Exact perimeter ``4 a E(1 − b²/a²)`` (complete elliptic integral) [m]."""
        from scipy.special import ellipe

        a, b = max(self.width, self.height) / 2, min(self.width, self.height) / 2
        return float(4 * a * ellipe(1 - (b / a) ** 2))

    def _bbox(self):
        a, b = self.width / 2, self.height / 2
        c, s = np.cos(self.angle), np.sin(self.angle)
        hx = np.sqrt((a * c) ** 2 + (b * s) ** 2)
        hy = np.sqrt((a * s) ** 2 + (b * c) ** 2)
        return (-hx, hx, -hy, hy)

    def _inside(self, x, y):
        c, s = np.cos(self.angle), np.sin(self.angle)
        xr = c * x + s * y
        yr = -s * x + c * y
        return (xr / (self.width / 2)) ** 2 + (yr / (self.height / 2)) ** 2 < 1.0

    def _boundary_curve(self, spacing):
        n = max(64, int(np.ceil(self.perimeter / spacing)))
        pts = self._curve(n)
        seg = np.linalg.norm(np.roll(pts, -1, axis=0) - pts, axis=1)
        ds = 0.5 * (seg + np.roll(seg, 1))
        # the inscribed polygon is slightly short: scale to the exact perimeter
        return pts, ds * (self.perimeter / ds.sum())


def _first_crossing(v: np.ndarray) -> tuple[int, int] | None:
    """A pair ``(i, j)``, ``i < j``, of non-adjacent edges of the closed outline ``v`` that meet, or None.

    Edges ``i`` (``v[i] -> v[i+1]``) and ``j`` meet when their bounding boxes
    overlap (which settles collinear edges) and each one's end points do not
    lie strictly on one side of the other. Only pairs whose x-extents overlap
    are compared (the edges sorted by their left end, a sweep along x), a
    couple of million at a time: an outline traced from an image, of tens of
    thousands of short edges, is checked in a fraction of a second.
    """
    k = len(v)
    a, b = v, np.roll(v, -1, axis=0)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.argsort(lo[:, 0], kind="stable")
    # in sorted order, edge p overlaps in x every later edge up to ends[p]
    ends = np.searchsorted(lo[order, 0], hi[order, 0], side="right")
    counts = np.maximum(ends - np.arange(k) - 1, 0)

    def side(p, q, r):
        return np.sign((q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0]))

    found = []
    cum = np.concatenate([[0], np.cumsum(counts)])
    block = 2_000_000
    p0 = 0
    while p0 < k:
        p1 = max(p0 + 1, int(np.searchsorted(cum, cum[p0] + block, side="right")) - 1)
        p1 = min(p1, k)
        rows = np.repeat(np.arange(p0, p1), counts[p0:p1])
        if rows.size:
            offs = np.arange(rows.size) - np.repeat(cum[p0:p1] - cum[p0], counts[p0:p1])
            i, j = order[rows], order[rows + 1 + offs]
            gap = (j - i) % k
            keep = ((gap > 1) & (gap < k - 1)  # an edge meets its neighbours at their shared vertex
                    & (lo[i, 1] <= hi[j, 1]) & (lo[j, 1] <= hi[i, 1]))
            i, j = i[keep], j[keep]
            meet = ((side(a[i], b[i], a[j]) * side(a[i], b[i], b[j]) <= 0)
                    & (side(a[j], b[j], a[i]) * side(a[j], b[j], b[i]) <= 0))
            found.extend(zip(np.minimum(i, j)[meet].tolist(), np.maximum(i, j)[meet].tolist()))
        p0 = p1
    return min(found) if found else None


@dataclass(frozen=True)
class Polygon(_Shape2D):
    """Polygonal ab-plane cross-section (e.g. a hexagonal platelet).

    Parameters
    ----------
    vertices : array_like, shape (k, 2)
        Vertices in order [m] (k >= 3); the polygon must not cross itself.
    thickness : float
        Slab thickness along c [m].
    """

    vertices: np.ndarray
    thickness: float = DEFAULT_THICKNESS

    def __post_init__(self):
        try:
            v = np.array(self.vertices, dtype=float)  # a copy: never freeze the caller's array
        except (TypeError, ValueError):
            raise GeometryError("Polygon: vertices must be numbers in metres, one (x, y) pair per vertex, e.g. "
                                "[[0, 0], [2e-6, 0], [1e-6, 1.7e-6]]") from None
        if v.ndim == 2 and v.shape[1] == 2 and len(v) > 1:
            # a vertex given twice in a row (or the first repeated to close the outline) adds no edge
            v = v[np.any(v != np.roll(v, 1, axis=0), axis=1)]
        if v.ndim != 2 or v.shape[1] != 2 or v.shape[0] < 3:
            raise GeometryError(
                f"Polygon: vertices must have shape (k, 2) with k >= 3, got shape {v.shape}"
            )
        if not np.all(np.isfinite(v)):
            raise GeometryError("Polygon: vertices contain NaN or inf")
        crossing = _first_crossing(v)
        if crossing is not None:
            i, j = crossing
            raise GeometryError(
                f"Polygon: the outline crosses or touches itself (edge {i}, vertices {i}->{(i + 1) % len(v)}, meets "
                f"edge {j}, vertices {j}->{(j + 1) % len(v)}); its area would be ambiguous and the mesh would join "
                "the lobes. Give the vertices in order around the particle")
        area = 0.5 * np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1])
        if abs(area) <= 0:
            raise GeometryError("Polygon: the vertices enclose no area")
        if area < 0:
            v = v[::-1]
        if abs(area) > 1e-4:
            raise GeometryError(
                f"Polygon: area {abs(area):g} m² is larger than 1 cm²; vertices are in metres"
            )
        v.setflags(write=False)
        object.__setattr__(self, "vertices", v)
        object.__setattr__(self, "thickness", _positive("thickness", self.thickness, "Polygon"))

    @property
    def area(self) -> float:
        v = self.vertices
        return float(0.5 * np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1]))

    @property
    def perimeter(self) -> float:
        v = self.vertices
        return float(np.sum(np.linalg.norm(np.roll(v, -1, axis=0) - v, axis=1)))

    @property
    def centroid(self):
        v = self.vertices
        x, y = v[:, 0], v[:, 1]
        xn, yn = np.roll(x, -1), np.roll(y, -1)
        cr = x * yn - xn * y
        a = 0.5 * cr.sum()
        return (float(np.sum((x + xn) * cr) / (6 * a)), float(np.sum((y + yn) * cr) / (6 * a)))

    @property
    def size(self) -> float:
        v = self.vertices
        return float(min(np.ptp(v[:, 0]), np.ptp(v[:, 1])))

    def _bbox(self):
        v = self.vertices
        return (v[:, 0].min(), v[:, 0].max(), v[:, 1].min(), v[:, 1].max())

    def _inside(self, x, y):
        v = self.vertices
        inside = np.zeros(x.shape, dtype=bool)
        xj, yj = v[-1]
        for xi, yi in v:
            cond = (yi > y) != (yj > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                xint = (xj - xi) * (y - yi) / (yj - yi) + xi
            inside ^= cond & (x < xint)
            xj, yj = xi, yi
        return inside

    def _boundary_curve(self, spacing):
        v = self.vertices
        pts, ds = [], []
        for a, b in zip(v, np.roll(v, -1, axis=0)):
            length = float(np.linalg.norm(b - a))
            n = max(1, int(np.ceil(length / spacing)))
            s = (np.arange(n) + 0.5) / n
            pts.append(a[None, :] + s[:, None] * (b - a)[None, :])
            ds.append(np.full(n, length / n))
        return np.concatenate(pts), np.concatenate(ds)


@dataclass(frozen=True)
class Mask:
    """A cross-section given as a binary image (e.g. segmented from a micrograph).

    Parameters
    ----------
    image : array_like of bool, shape (ny, nx)
        True inside the particle. Holes and cracks inside are kept as they are.
    pixel_size : float
        Pixel side [m].
    thickness : float
        Slab thickness along c [m].
    holes_active : bool
        Whether the edges of enclosed holes exchange Li with the electrolyte
        (True: cracks and pores filled with electrolyte) or not.

    Notes
    -----
    The particle must be one 4-connected piece. Pass one particle of a label
    image at a time: ``Mask(labels == k, pixel_size)``.
    """

    image: np.ndarray
    pixel_size: float
    thickness: float = DEFAULT_THICKNESS
    holes_active: bool = True

    def __post_init__(self):
        img = np.asarray(self.image)
        if img.ndim != 2:
            raise GeometryError(f"Mask: image must be 2D (ny, nx), got shape {img.shape}")
        if img.dtype.kind not in "biuf":
            raise GeometryError(f"Mask: image must hold booleans or numbers 0/1, got {img.dtype} values; e.g. "
                                "Mask(labels == k, pixel_size)")
        if not isinstance(self.holes_active, (bool, np.bool_)):
            raise GeometryError(f"Mask: holes_active must be True or False, got {self.holes_active!r}")
        if img.dtype != bool:
            vals = np.unique(img)
            if not np.all(np.isin(vals, [0, 1])):
                shown = ", ".join(repr(v) for v in vals[:5])
                raise GeometryError(
                    f"Mask: image must be binary (0/1 or bool), found values {shown}"
                    f"{' ...' if vals.size > 5 else ''}; threshold it first, e.g. image > level"
                )
            img = img.astype(bool)
        if not img.any():
            raise GeometryError("Mask: image is empty (no True pixel); nothing to simulate")
        from scipy import ndimage

        lab, n = ndimage.label(img)
        if n > 1:
            raise GeometryError(
                f"Mask: image holds {n} separate pieces (4-connected); pass one particle at a time, "
                "e.g. Mask(labels == k, pixel_size)"
            )
        img = img.copy()
        img.setflags(write=False)
        object.__setattr__(self, "image", img)
        object.__setattr__(self, "pixel_size", _positive("pixel_size", self.pixel_size, "Mask"))
        object.__setattr__(self, "thickness", _positive("thickness", self.thickness, "Mask"))

    dimension = 2

    @property
    def area(self) -> float:
        return float(self.image.sum()) * self.pixel_size**2

    @property
    def size(self) -> float:
        ys, xs = np.nonzero(self.image)
        return float(min(np.ptp(xs) + 1, np.ptp(ys) + 1)) * self.pixel_size

    def mesh(self, resolution: float | None = None, *, max_cells: int = 4_000_000) -> FVGrid:
        """Grid with one cell per pixel, or per sub-pixel.

        Parameters
        ----------
        resolution : float, optional
            Cell side [m]; must be the pixel size divided by a whole number
            (each pixel is split into f × f cells). Default: the pixel size.
        max_cells : int
            Refuse grids with more cells than this (memory guard).
        """
        p = self.pixel_size
        f = 1
        if resolution is not None:
            h = _positive("resolution", resolution, "Mask", atom_floor=False)
            f = int(round(p / h))
            if f < 1 or abs(p / f - h) > 1e-6 * h:
                raise GeometryError(
                    f"Mask: resolution {h:g} m must be the pixel size {p:g} m divided by a whole "
                    f"number (e.g. {p:g}, {p / 2:g}, {p / 4:g})"
                )
        n_cells = int(np.count_nonzero(self.image)) * f * f
        if n_cells > max_cells:
            raise GeometryError(
                f"Mask: {np.count_nonzero(self.image)} particle pixels split into {f} x {f} cells each is "
                f"{n_cells} cells, more than max_cells={max_cells}; use a coarser resolution (a larger divisor of "
                f"the pixel size {p:g} m), or bin the image")
        img = np.pad(self.image, 1)
        if f > 1:
            img = np.kron(img, np.ones((f, f), dtype=bool)).astype(bool)
        h = p / f
        ny, nx = img.shape
        x = (np.arange(nx) - f) * h + 0.5 * h
        y = (np.arange(ny) - f) * h + 0.5 * h
        from scipy import ndimage

        holes = ndimage.binary_fill_holes(img) & ~img
        return _cartesian_grid(
            img, x, y, h, self.thickness, hole_pixels=holes, holes_active=self.holes_active
        )


def _polar_grid(radius: float, n_rings: int, thickness: float, base: int = 8) -> FVGrid:
    """Boundary-fitted grid of a disc: a centre cell and rings of sectors.

    Ring ``k`` spans ``[k Δr, (k+1) Δr]`` and has ``n_k`` equal sectors, ``n_k``
    a power-of-two multiple of ``base`` close to ``2π r_mid/Δr`` and never
    decreasing outwards, so every sector of ring ``k+1`` lies on exactly one
    sector of ring ``k``. Face transmissibilities are those of the polar
    finite-volume scheme: ``r_face Δφ / Δr`` across rings and ``Δr / (r_mid Δφ)``
    between neighbouring sectors (times the slab thickness).
    """
    if n_rings < 2:
        raise GeometryError(f"Disc: {n_rings} ring(s) is too coarse; use a resolution below the radius / 2")
    dr = radius / n_rings
    counts = [1]
    for k in range(1, n_rings):
        target = 2 * np.pi * (k + 0.5) * dr / dr
        n = base * 2 ** max(0, int(round(np.log2(target / base))))
        counts.append(max(n, counts[-1] if k > 1 else base))
    counts = np.array(counts)
    start = np.concatenate([[0], np.cumsum(counts)])
    n_cells = int(start[-1])
    vol = np.empty(n_cells)
    cx = np.zeros(n_cells)
    cy = np.zeros(n_cells)
    bd = np.empty(n_cells)
    vol[0] = np.pi * dr**2 * thickness
    bd[0] = radius - 0.5 * dr
    fi, fj, ft = [], [], []
    for k in range(1, n_rings):
        n = counts[k]
        r1, r2 = k * dr, (k + 1) * dr
        dphi = 2 * np.pi / n
        phi = -np.pi + (np.arange(n) + 0.5) * dphi
        rc = 2.0 / 3.0 * (r2**3 - r1**3) / (r2**2 - r1**2)
        idx = start[k] + np.arange(n)
        vol[idx] = 0.5 * dphi * (r2**2 - r1**2) * thickness
        cx[idx] = rc * np.cos(phi)
        cy[idx] = rc * np.sin(phi)
        bd[idx] = radius - 0.5 * (r1 + r2)
        # neighbouring sectors in the ring (periodic)
        fi.append(idx)
        fj.append(start[k] + (np.arange(n) + 1) % n)
        ft.append(np.full(n, dr / (0.5 * (r1 + r2) * dphi) * thickness))
        # faces at r1 towards ring k-1 (each sector lies on one parent)
        parent = start[k - 1] + (np.arange(n) * counts[k - 1]) // n
        fi.append(parent)
        fj.append(idx)
        ft.append(np.full(n, r1 * dphi / dr * thickness))
    face_cells = np.column_stack([np.concatenate(fi), np.concatenate(fj)])
    face_trans = np.concatenate(ft)
    n_out = counts[-1]
    dphi = 2 * np.pi / n_out
    phi_b = -np.pi + (np.arange(n_out) + 0.5) * dphi
    b_cell = start[-2] + np.arange(n_out)
    inner = start[-3] + (np.arange(n_out) * counts[-2]) // n_out
    # image for output: pixels of side Δr mapped to the cell under their centre
    m = n_rings
    x = (np.arange(2 * m) - m + 0.5) * dr
    X, Y = np.meshgrid(x, x)
    r = np.hypot(X, Y)
    ring = np.floor(r / dr).astype(np.intp)
    inside = ring < n_rings
    ring_c = np.clip(ring, 0, n_rings - 1)
    sec = np.floor((np.arctan2(Y, X) + np.pi) / (2 * np.pi) * counts[ring_c]).astype(np.intp)
    sec = np.minimum(sec, counts[ring_c] - 1)
    image = np.where(inside, start[ring_c] + np.where(ring_c == 0, 0, sec), -1)
    return FVGrid(
        volumes=vol,
        face_cells=face_cells,
        face_trans=face_trans,
        boundary_cell=b_cell,
        boundary_area=np.full(n_out, radius * dphi * thickness),
        boundary_distance=np.full(n_out, 0.5 * dr),
        boundary_angle=phi_b,
        boundary_xy=radius * np.column_stack([np.cos(phi_b), np.sin(phi_b)]),
        cell_xy=np.column_stack([cx, cy]),
        kind="polar",
        boundary_distance_cells=bd,
        image_index=image,
        x=x,
        y=x.copy(),
        meta={"resolution_m": dr, "thickness_m": thickness, "centroid_m": (0.0, 0.0),
              "surface_inner_cell": inner, "ring_counts": counts},
    )


def _largest_component(inside: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    lab, n = ndimage.label(inside)
    if n == 0:
        raise GeometryError("the shape covers no cell centre at this resolution; use a finer resolution")
    if n == 1:
        return inside
    sizes = ndimage.sum(inside, lab, index=np.arange(1, n + 1))
    return lab == (1 + int(np.argmax(sizes)))


def _cartesian_grid(
    inside: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    h: float,
    thickness: float,
    *,
    boundary_points: np.ndarray | None = None,
    boundary_lengths: np.ndarray | None = None,
    centroid: tuple[float, float] | None = None,
    hole_pixels: np.ndarray | None = None,
    holes_active: bool = True,
) -> FVGrid:
    """Build an :class:`FVGrid` from a boolean image of active square cells."""
    from scipy.spatial import cKDTree  # imported here: scipy.spatial is slow to import

    ny, nx = inside.shape
    index = -np.ones(inside.shape, dtype=np.intp)
    n = int(inside.sum())
    index[inside] = np.arange(n)
    X, Y = np.meshgrid(x, y)
    cell_xy = np.column_stack([X[inside], Y[inside]])
    if centroid is None:
        centroid = (float(cell_xy[:, 0].mean()), float(cell_xy[:, 1].mean()))
    faces = []
    for dy, dx in ((0, 1), (1, 0)):
        a = index[: ny - dy, : nx - dx]
        b = index[dy:, dx:]
        m = (a >= 0) & (b >= 0)
        faces.append(np.column_stack([a[m], b[m]]))
    face_cells = np.concatenate(faces)
    face_trans = np.full(len(face_cells), thickness)  # (h * thickness) / h
    # exposed faces: between an active cell and an inactive neighbour
    padded = np.pad(inside, 1)
    exposed = []  # (cell, nx, ny) outward normals
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        nb = padded[1 + dy: 1 + dy + ny, 1 + dx: 1 + dx + nx]
        m = inside & ~nb
        if hole_pixels is not None and not holes_active:
            hp = np.pad(hole_pixels, 1)[1 + dy: 1 + dy + ny, 1 + dx: 1 + dx + nx]
            m &= ~hp
        cells = index[m]
        exposed.append((cells, np.full(cells.size, dx, float), np.full(cells.size, dy, float)))
    ex_cells = np.concatenate([e[0] for e in exposed])
    ex_nx = np.concatenate([e[1] for e in exposed])
    ex_ny = np.concatenate([e[2] for e in exposed])
    if boundary_points is None:
        # staircase boundary: one element per exposed face
        b_cell = ex_cells
        b_xy = cell_xy[b_cell] + 0.5 * h * np.column_stack([ex_nx, ex_ny])
        b_area = np.full(b_cell.size, h * thickness)
        b_dist = np.full(b_cell.size, 0.5 * h)
    else:
        # exact boundary samples owned by the nearest edge cell
        edge_cells = np.unique(ex_cells)
        tree = cKDTree(cell_xy[edge_cells])
        dist, k = tree.query(boundary_points)
        b_cell = edge_cells[k]
        b_xy = boundary_points
        b_area = boundary_lengths * thickness
        # distance from the owning cell centre to the boundary along the
        # local outward normal (the direction of the surface gradient)
        tang = np.roll(boundary_points, -1, axis=0) - np.roll(boundary_points, 1, axis=0)
        normal = np.column_stack([tang[:, 1], -tang[:, 0]])
        normal /= np.linalg.norm(normal, axis=1)[:, None]
        b_dist = np.einsum("ij,ij->i", boundary_points - cell_xy[b_cell], normal)
        b_dist = np.clip(np.abs(b_dist), 0.05 * h, None)
    ang = np.arctan2(b_xy[:, 1] - centroid[1], b_xy[:, 0] - centroid[0])
    if b_cell.size == 0:
        raise GeometryError("the particle has no active boundary (every edge is an inactive hole)")
    tree_b = cKDTree(b_xy)
    # both cores: from deep inside a round particle a query visits nearly every
    # boundary sample (all lie at about the same distance)
    d_cells, _ = tree_b.query(cell_xy, workers=-1)
    return FVGrid(
        volumes=np.full(n, h * h * thickness),
        face_cells=face_cells,
        face_trans=face_trans,
        boundary_cell=b_cell,
        boundary_area=b_area,
        boundary_distance=b_dist,
        boundary_angle=ang,
        boundary_xy=b_xy,
        cell_xy=cell_xy,
        kind="cartesian",
        boundary_distance_cells=d_cells,
        image_index=index,
        x=x,
        y=y,
        meta={"resolution_m": h, "thickness_m": thickness, "centroid_m": centroid},
    )
