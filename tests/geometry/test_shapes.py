"""Particle shapes and their finite-volume grids: sizes, areas, conservation, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.errors import GeometryError, ParameterError
from socscope.geometry import DEFAULT_THICKNESS, Disc, Ellipse, Mask, Polygon, Sphere
from socscope.numerics import laplacian_matrix


def hexagon(side=1e-6, center=(0.0, 0.0)):
    a = np.deg2rad(np.arange(0, 360, 60))
    return np.column_stack([center[0] + side * np.cos(a), center[1] + side * np.sin(a)])


def ring_mask(n=16, hole=(6, 10)):
    img = np.ones((n, n), dtype=bool)
    img[hole[0]:hole[1], hole[0]:hole[1]] = False
    return img


def check_conservative(grid):
    lap = laplacian_matrix(grid)
    # interior fluxes cancel: columns (and rows, the graph is symmetric) sum to
    # zero up to round-off of the face transmissibilities
    scale = np.abs(lap).max()
    assert np.abs(np.asarray(lap.sum(axis=0))).max() <= 1e-12 * scale
    assert abs(lap - lap.T).max() <= 1e-15 * scale
    assert np.all(grid.face_trans > 0)
    assert np.all(grid.volumes > 0)
    assert np.all(grid.boundary_area > 0)
    assert np.all(grid.boundary_distance > 0)
    assert np.all((grid.boundary_angle > -np.pi - 1e-12) & (grid.boundary_angle <= np.pi + 1e-12))
    assert grid.boundary_cell.min() >= 0 and grid.boundary_cell.max() < grid.n_cells


# ---------------------------------------------------------------- sphere
@pytest.mark.parametrize("n", [2, 13, 100])
def test_sphere_shells_add_up_to_the_sphere(n):
    R = 1.7e-6
    g = Sphere(R).mesh(n_cells=n)
    assert g.n_cells == n and g.kind == "radial"
    # shell volumes telescope to 4/3 π R³: round-off only
    assert_allclose(g.total_volume, 4 / 3 * np.pi * R**3, rtol=1e-13)
    assert_allclose(g.total_boundary_area, 4 * np.pi * R**2, rtol=1e-15)
    h = R / n
    assert_allclose(g.cell_xy[:, 0], (np.arange(n) + 0.5) * h, rtol=1e-12)
    # transmissibility of face i|i+1 = its area / centre distance h
    assert_allclose(g.face_trans, 4 * np.pi * (np.arange(1, n) * h) ** 2 / h, rtol=1e-12)
    assert_allclose(g.boundary_distance, [h / 2], rtol=1e-12)
    assert_allclose(g.boundary_distance_cells, R - g.cell_xy[:, 0], rtol=1e-12)
    check_conservative(g)


def test_sphere_resolution_sets_the_number_of_shells():
    assert Sphere(1e-6).mesh(1e-7).n_cells == 10
    assert Sphere(1e-6).mesh(0.3e-6).n_cells == 4  # ceil(R / h)
    assert Sphere(1e-6).mesh().n_cells == 100
    with pytest.raises(GeometryError, match=r"resolution= .* or n_cells= .*not both"):
        Sphere(1e-6).mesh(1e-7, n_cells=20)  # which one was meant is not ours to guess


def test_sphere_properties():
    s = Sphere(2e-6)
    assert_allclose(s.volume, 4 / 3 * np.pi * 8e-18, rtol=1e-15)
    assert_allclose(s.surface_area, 4 * np.pi * 4e-12, rtol=1e-15)
    assert s.size == 4e-6


# ---------------------------------------------------------------- 2D shapes
@pytest.mark.parametrize("frac", [4, 25, 80])
def test_polar_disc_grid(frac):
    R = 1e-6
    d = Disc(diameter=2 * R, thickness=0.5e-6)
    g = d.mesh(R / frac)
    assert g.kind == "polar"
    # exact geometry: volumes add up to πR² t and the boundary to 2πR t
    assert_allclose(g.total_volume, np.pi * R**2 * 0.5e-6, rtol=1e-13)
    assert_allclose(g.total_boundary_area, 2 * np.pi * R * 0.5e-6, rtol=1e-13)
    assert_allclose(np.hypot(*g.boundary_xy.T), R, rtol=1e-13)
    # half the outer ring's width, 0.5·(R/n): the same two roundings (measured 0)
    assert np.all(g.boundary_distance == pytest.approx(R / frac / 2, rel=1e-15))
    # sectors are about square: arc length within a factor 1.5 of Δr away from the centre
    counts = g.meta["ring_counts"]
    k = np.arange(2, counts.size)
    arc = 2 * np.pi * (k + 0.5) / counts[2:]
    assert np.all((arc > 1 / 1.5) & (arc < 1.5))
    # conservative graph: every face joins two different cells, positive transmissibility
    check_conservative(g)
    # the image maps pixels inside the disc to cells and nothing outside
    idx = g.image_index
    X, Y = np.meshgrid(g.x, g.y)
    assert np.array_equal(idx >= 0, np.hypot(X, Y) < R)
    assert idx.max() < g.n_cells


def test_disc_mesh_rejects_an_unknown_method():
    with pytest.raises(GeometryError, match="'hexagonal'"):
        Disc(2e-6).mesh(1e-7, method="hexagonal")


@pytest.mark.parametrize("frac", [10, 25, 40])
def test_disc_grid(frac):
    R = 1e-6
    d = Disc(diameter=2 * R, thickness=0.5e-6)
    h = R / frac
    g = d.mesh(h, method="cartesian")
    assert g.kind == "cartesian"
    # the boundary samples carry the exact perimeter: Σ A_e = 2πR × thickness to round-off
    assert_allclose(g.total_boundary_area, 2 * np.pi * R * 0.5e-6, rtol=1e-12)
    # cells are the squares whose centres lie inside; the staircase area
    # differs from πR² by less than perimeter × h (one cell layer)
    assert abs(g.total_volume / 0.5e-6 - np.pi * R**2) < 2 * np.pi * R * h
    r = np.hypot(*g.cell_xy.T)
    assert r.max() < R
    assert_allclose(g.volumes, h * h * 0.5e-6, rtol=1e-12)
    # every boundary sample is owned by a cell within about one cell of it
    owner = g.cell_xy[g.boundary_cell]
    assert np.max(np.hypot(*(g.boundary_xy - owner).T)) < 1.5 * h
    assert_allclose(np.hypot(*g.boundary_xy.T), R, rtol=1e-12)
    # the image index maps pixels back to cells, one to one
    idx = g.image_index
    assert sorted(idx[idx >= 0]) == list(range(g.n_cells))
    assert idx.shape == (g.y.size, g.x.size)
    assert g.meta["resolution_m"] == pytest.approx(h, rel=1e-12)
    check_conservative(g)


def test_disc_properties():
    d = Disc(2e-6)
    assert d.radius == 1e-6 and d.thickness == DEFAULT_THICKNESS
    assert_allclose(d.area, np.pi * 1e-12, rtol=1e-15)
    assert_allclose(d.perimeter, 2 * np.pi * 1e-6, rtol=1e-15)


def test_ellipse_grid_and_perimeter():
    e = Ellipse(width=3e-6, height=1.5e-6, angle=0.4)
    a, b = 1.5e-6, 0.75e-6
    hh = ((a - b) / (a + b)) ** 2
    ramanujan = np.pi * (a + b) * (1 + 3 * hh / (10 + np.sqrt(4 - 3 * hh)))
    # Ramanujan's second formula is exact to ~1e-10 at this aspect ratio; the
    # 20000-chord polygon underestimates by ~(2π/20000)² / 24 ≈ 4e-9
    assert_allclose(e.perimeter, ramanujan, rtol=1e-8)
    g = e.mesh(0.05e-6)
    assert abs(g.total_volume / e.thickness - e.area) < e.perimeter * 0.05e-6
    # cells lie inside the rotated ellipse
    c, s = np.cos(0.4), np.sin(0.4)
    x, y = g.cell_xy.T
    xr, yr = c * x + s * y, -s * x + c * y
    assert np.all((xr / a) ** 2 + (yr / b) ** 2 < 1)
    check_conservative(g)


def test_polygon_hexagon():
    side = 1e-6
    p = Polygon(hexagon(side, center=(3e-6, -2e-6)))
    assert_allclose(p.area, 3 * np.sqrt(3) / 2 * side**2, rtol=1e-14)
    assert_allclose(p.perimeter, 6 * side, rtol=1e-14)
    assert_allclose(p.centroid, (3e-6, -2e-6), rtol=1e-12)
    g = p.mesh(side / 20)
    assert_allclose(g.total_boundary_area, 6 * side * p.thickness, rtol=1e-12)
    assert abs(g.total_volume / p.thickness - p.area) < p.perimeter * side / 20
    check_conservative(g)


def test_polygon_orientation_does_not_matter():
    v = hexagon()
    a = Polygon(v)
    b = Polygon(v[::-1])
    assert a.area > 0 and b.area > 0
    assert_allclose(a.area, b.area, rtol=1e-14)
    ga, gb = a.mesh(5e-8), b.mesh(5e-8)
    assert ga.n_cells == gb.n_cells


def test_polygon_does_not_mutate_its_input():
    v = hexagon()
    Polygon(v)
    assert v.flags.writeable
    v[0, 0] = 2e-6  # the caller still owns a writable array


# ---------------------------------------------------------------- masks
def test_mask_one_cell_per_pixel_and_subcells():
    img = ring_mask()
    p = 0.1e-6
    m = Mask(img, p, thickness=0.3e-6)
    assert_allclose(m.area, img.sum() * p * p, rtol=1e-14)
    for f in (1, 2, 3):
        g = m.mesh(p / f)
        assert g.n_cells == img.sum() * f * f
        assert_allclose(g.total_volume, m.area * 0.3e-6, rtol=1e-12)
        # exposed edges: 4 × 16 outside + 4 × 4 around the hole, each split in f
        assert g.boundary_area.size == (4 * 16 + 4 * 4) * f
        assert_allclose(g.boundary_area, p / f * 0.3e-6, rtol=1e-12)
        assert_allclose(g.boundary_distance, p / f / 2, rtol=1e-12)
        # pixel (row, col) of the image is at x = (col + 1/2) p, y = (row + 1/2) p
        idx = g.image_index
        assert idx.shape == ((16 + 2) * f, (16 + 2) * f)
        cells = idx[idx >= 0]
        xy = g.cell_xy[cells]
        col = np.floor(xy[:, 0] / p).astype(int)
        row = np.floor(xy[:, 1] / p).astype(int)
        assert np.all(img[row, col])
        check_conservative(g)


def test_mask_inactive_holes_have_no_boundary():
    img = ring_mask()
    g = Mask(img, 0.1e-6, holes_active=False).mesh()
    assert g.boundary_area.size == 4 * 16  # only the outer perimeter
    g2 = Mask(img, 0.1e-6, holes_active=True).mesh()
    assert g2.boundary_area.size == 4 * 16 + 4 * 4


def test_mask_accepts_0_1_integers_and_copies_its_image():
    img = ring_mask().astype(np.uint8)
    m = Mask(img, 1e-7)
    assert m.image.dtype == bool
    img[:] = 0  # changing the caller's array afterwards changes nothing
    assert m.image.sum() == 16 * 16 - 16
    assert img.flags.writeable


def test_mask_resolution_must_divide_the_pixel():
    m = Mask(ring_mask(), 1e-7)
    with pytest.raises(GeometryError, match=r"3e-08") as info:
        m.mesh(3e-8)
    assert "divided by a whole" in str(info.value)
    # coarser than a pixel: 0 sub-cells
    with pytest.raises(GeometryError, match=r"3e-07"):
        m.mesh(3e-7)


# ---------------------------------------------------------------- bad inputs
BAD_LENGTHS = [-1e-6, 0.0, float("nan"), float("inf")]


@pytest.mark.parametrize("value", BAD_LENGTHS)
def test_bad_sphere_radius(value):
    with pytest.raises(GeometryError) as info:
        Sphere(value)
    msg = str(info.value)
    assert "radius" in msg and repr(value) in msg and "> 0" in msg
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", BAD_LENGTHS)
@pytest.mark.parametrize("name", ["diameter", "thickness"])
def test_bad_disc_lengths(name, value):
    kw = {"diameter": 2e-6, name: value}
    with pytest.raises(GeometryError) as info:
        Disc(**kw)
    msg = str(info.value)
    assert name in msg and repr(value) in msg


@pytest.mark.parametrize("value", BAD_LENGTHS)
def test_bad_ellipse_and_mask_lengths(value):
    with pytest.raises(GeometryError, match="width") as info:
        Ellipse(value, 1e-6)
    assert repr(value) in str(info.value)
    with pytest.raises(GeometryError, match="pixel_size") as info:
        Mask(ring_mask(), value)
    assert repr(value) in str(info.value)


def test_lengths_in_the_wrong_unit_are_caught():
    with pytest.raises(GeometryError, match=r"radius = 2 m .*1 cm"):
        Sphere(2.0)  # 2 m instead of 2 µm


def test_ellipse_boundary_carries_the_true_perimeter():
    e = Ellipse(width=3e-6, height=1.5e-6, angle=0.4)
    g = e.mesh(0.05e-6)
    # the module docstring: areas add up to the true perimeter times the
    # thickness (as they do for discs and polygons, to round-off)
    assert_allclose(g.total_boundary_area, e.perimeter * e.thickness, rtol=1e-12)


def test_non_numeric_radius():
    with pytest.raises(GeometryError, match="'big'"):
        Sphere("big")


def test_empty_mask():
    with pytest.raises(GeometryError, match="empty"):
        Mask(np.zeros((5, 5), dtype=bool), 1e-7)


def test_non_binary_mask_names_the_values():
    img = np.zeros((6, 6))
    img[1:4, 1:4] = 1.0
    img[2, 2] = 0.5
    with pytest.raises(GeometryError, match="binary") as info:
        Mask(img, 1e-7)
    assert "0.5" in str(info.value)


def test_mask_in_two_pieces():
    img = np.zeros((8, 8), dtype=bool)
    img[1:3, 1:3] = True
    img[5:7, 5:7] = True
    with pytest.raises(GeometryError, match="2 separate pieces"):
        Mask(img, 1e-7)
    # diagonal contact does not join pieces (4-connectivity)
    diag = np.eye(4, dtype=bool)
    with pytest.raises(GeometryError, match="4 separate pieces"):
        Mask(diag, 1e-7)


def test_mask_must_be_2d():
    with pytest.raises(GeometryError, match=r"\(2, 3, 4\)"):
        Mask(np.ones((2, 3, 4), dtype=bool), 1e-7)


@pytest.mark.parametrize(
    "vertices, match",
    [
        ([[0, 0], [1e-6, 0]], r"\(2, 2\)"),
        ([[0, 0], [1e-6, 0], [np.nan, 1e-6]], "NaN"),
        ([[0, 0], [1e-6, 0], [2e-6, 0]], "no area"),
        ([[0, 0], [1.0, 0], [0, 1.0]], "1 cm"),
        # a bow tie: its shoelace area (1 µm²) is not the meshed particle's (5/3 µm²)
        ([[0, 0], [2e-6, 2e-6], [2e-6, 0], [0, 1e-6]], r"crosses or touches itself \(edge 0.*meets edge 2"),
        # an outline that runs back along itself (a vertex on another edge)
        ([[0, 0], [3e-6, 0], [3e-6, 1e-6], [2e-6, 1e-6], [2e-6, 0], [1e-6, 0], [1e-6, 1e-6], [0, 1e-6]],
         "crosses or touches itself"),
        ([["a", 0], [1e-6, 0], [0, 1e-6]], "must be numbers in metres"),  # a float() ValueError
        ([[0, 0, 0], [1e-6, 0], [0, 1e-6]], "must be numbers in metres"),  # ragged: a NumPy ValueError
    ],
)
def test_bad_polygons(vertices, match):
    with pytest.raises(GeometryError, match=match):
        Polygon(vertices)


def test_polygon_closed_by_repeating_its_first_vertex():
    tri = [[0, 0], [2e-6, 0], [1e-6, 1.7e-6]]
    assert Polygon(tri + [tri[0]]).vertices.shape == (3, 2)
    assert Polygon(tri + [tri[0]]).area == pytest.approx(Polygon(tri).area, rel=1e-15)
    # a vertex given twice in a row adds no edge (it was refused as the outline touching itself)
    square = [[0, 0], [1e-6, 0], [1e-6, 0], [1e-6, 1e-6], [0, 1e-6], [0, 0], [0, 0]]
    assert Polygon(square).vertices.shape == (4, 2)


def test_polygon_outlines_traced_from_images():
    # tens of thousands of short edges, as a contour tracer gives them: a circle and a star are fine
    phi = np.linspace(0, 2 * np.pi, 20000, endpoint=False)
    assert Polygon(np.c_[np.cos(phi), np.sin(phi)] * 1e-6).area == pytest.approx(np.pi * 1e-12, rel=1e-6)
    r = 1e-6 * (1 + 0.3 * np.sin(12 * phi))
    assert Polygon(np.c_[r * np.cos(phi), r * np.sin(phi)]).vertices.shape == (20000, 2)
    # the same star with one vertex pulled across the outline crosses itself
    bad = np.c_[r * np.cos(phi), r * np.sin(phi)]
    bad[5000] = [0.0, -2e-6]  # from the top, through the particle, out past its bottom
    with pytest.raises(GeometryError, match="crosses or touches itself"):
        Polygon(bad)


@pytest.mark.parametrize(
    "shape, resolution",
    [
        (Sphere(1e-6), 0.6e-6),
        (Disc(1e-6), 0.6e-6),
        (Disc(1e-6), 5e-6),
        (Ellipse(2e-6, 1e-6), 0.8e-6),
        (Polygon(hexagon(1e-6)), 1.5e-6),
    ],
)
def test_resolution_coarser_than_the_particle(shape, resolution):
    with pytest.raises(GeometryError, match="coarser") as info:
        shape.mesh(resolution)
    assert f"{resolution:g}" in str(info.value)


@pytest.mark.parametrize("value", [-1e-8, 0.0, float("nan")])
def test_bad_resolution(value):
    with pytest.raises(GeometryError, match="resolution") as info:
        Disc(1e-6).mesh(value)
    assert repr(value) in str(info.value)


def test_sphere_needs_two_shells():
    with pytest.raises(GeometryError, match="n_cells"):
        Sphere(1e-6).mesh(n_cells=1)


def test_grid_too_large_is_refused():
    with pytest.raises(GeometryError, match="max_cells"):
        Disc(2e-6).mesh(1e-8, max_cells=1000)


def test_geometry_errors_are_parameter_errors():
    assert issubclass(GeometryError, ParameterError)
    assert issubclass(GeometryError, ValueError)


def test_every_mesh_is_bounded_before_it_is_built():
    # a single sphere had no cap (NumPy MemoryError at 1e9 shells), nor had a mask
    # (a 20 x 20 mask split 2000-fold asked for 1.8 GiB in SciPy)
    with pytest.raises(GeometryError, match="Sphere: 1000000000 shells is more than max_cells=4000000"):
        Sphere(1e-6).mesh(n_cells=10**9)
    with pytest.raises(GeometryError, match="Sphere: 1000000000 shells"):
        Sphere(1e-6).mesh(1e-15)
    img = np.ones((20, 20), bool)
    with pytest.raises(GeometryError, match=r"Mask: 400 particle pixels split into 2000 x 2000 cells"):
        Mask(img, 1e-7).mesh(1e-7 / 2000)
    assert Mask(img, 1e-7).mesh(1e-7 / 4, max_cells=6400).volumes.size == 6400
    # the box guard let about 12.5 million cells of a disc through (4 x max_cells of box)
    with pytest.raises(GeometryError, match=r"about 5.0\de\+06 cells"):
        Disc(2e-6).mesh(0.79e-9, method="cartesian")
    assert Sphere(1e-6).mesh(n_cells=8000).volumes.size == 8000  # the P1 reference's 8000 shells


def test_the_default_cell_fits_a_thin_ellipse():
    thin = Ellipse(1e-6, 1e-8)
    assert thin.size == 1e-8  # the smallest extent, as for Polygon and Mask
    model = ss.simulate.ParticleModel("ni88-xu2022", thin)  # refused: "resolution 2e-08 m is coarser ..."
    assert model.grid.meta["resolution_m"] == pytest.approx(1e-8 / 50)
