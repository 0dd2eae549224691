"""Surface-flux layouts: the total current is preserved, γ is measured on the grid."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.errors import ParameterError
from socscope.geometry import Disc, Ellipse, Mask, Polygon
from socscope.physics import BlockedArc, UniformFlux


def square_mask(n=20):
    return np.ones((n, n), dtype=bool)


GRIDS = {
    "disc": lambda: Disc(2e-6).mesh(2e-6 / 40),
    "ellipse": lambda: Ellipse(3e-6, 1.5e-6, angle=0.3).mesh(0.05e-6),
    "hexagon": lambda: Polygon(
        1e-6 * np.column_stack([np.cos(np.arange(6) * np.pi / 3), np.sin(np.arange(6) * np.pi / 3)])
    ).mesh(0.05e-6),
    "mask": lambda: Mask(square_mask(), 1e-7).mesh(),
}


@pytest.fixture(params=sorted(GRIDS), scope="module")
def grid(request):
    return GRIDS[request.param]()


def test_uniform_flux(grid):
    f = UniformFlux().factors(grid)
    assert f.shape == grid.boundary_area.shape
    assert np.all(f == 1.0)


LAYOUTS = [
    BlockedArc(eta=0.0, fraction=0.25),
    BlockedArc(eta=0.1, fraction=0.5, center=np.pi / 2),
    BlockedArc(eta=0.9, fraction=0.05, center=-3.0),
    BlockedArc(eta=0.3, angles=[(-0.5, 0.5), (2.5, 3.5)]),  # the second arc wraps through ±π
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda x: x.describe())
def test_blocked_arc_preserves_the_total_current(grid, layout):
    f = layout.factors(grid)
    a = grid.boundary_area
    # Σ f_e A_e = Σ A_e: one division and a sum, so round-off only
    assert_allclose(np.sum(f * a), np.sum(a), rtol=1e-12)
    blk = layout.blocked(grid)
    assert blk.any() and not blk.all()
    gamma = a[blk].sum() / a.sum()
    j_nmc = 1.0 / (1.0 - gamma + layout.eta * gamma)  # [003] eq. 14
    assert_allclose(f[~blk], j_nmc, rtol=1e-14)
    assert_allclose(f[blk], layout.eta * j_nmc, rtol=1e-14)


@pytest.mark.parametrize("gamma", [0.1, 0.25, 0.6])
@pytest.mark.parametrize("center", [0.0, 2.0, -np.pi])
def test_discrete_gamma_of_a_disc_is_the_requested_one(gamma, center):
    g = Disc(2e-6).mesh(2e-6 / 40)
    arc = BlockedArc(eta=0.2, fraction=gamma, center=center)
    blk = arc.blocked(g)
    measured = g.boundary_area[blk].sum() / g.total_boundary_area
    # disc boundary samples are evenly spaced in angle: the arc's ends can
    # miss at most one sample each, so |Δγ| ≤ 2 / n_samples
    assert abs(measured - gamma) <= 2.0 / g.boundary_area.size
    # the blocked elements are those within π γ of the centre angle
    d = np.angle(np.exp(1j * (g.boundary_angle - center)))
    assert np.all(np.abs(d[blk]) <= np.pi * gamma + 1e-12)
    assert np.all(np.abs(d[~blk]) >= np.pi * gamma - 1e-12)


def test_discrete_gamma_of_a_square_mask():
    g = Mask(square_mask(), 1e-7).mesh()
    arc = BlockedArc(eta=0.2, fraction=0.25, center=0.0)  # the right-hand quarter of angles
    measured = g.boundary_area[arc.blocked(g)].sum() / g.total_boundary_area
    # for a square the arc (-π/4, π/4) about the centre is exactly one side:
    # 20 of 80 pixel edges (corner edges sit on the arc ends and may fall either way)
    assert abs(measured - 0.25) <= 2 / 80


def test_blocked_mask_layout():
    img = square_mask()
    g = Mask(img, 1e-7).mesh(0.5e-7)  # 2 × 2 sub-cells: elements map back to their pixel
    blocked_pixels = np.zeros_like(img)
    blocked_pixels[:, 0] = True  # left column of pixels
    arc = BlockedArc(eta=0.0, mask=blocked_pixels, pixel_size=1e-7)
    blk = arc.blocked(g)
    # the left side (40 half-pixel edges) plus the two left corner pixels'
    # top and bottom edges (2 × 2 half edges)
    assert blk.sum() == 40 + 4
    assert np.all(g.boundary_xy[blk, 0] < 1e-7 + 1e-15)
    f = arc.factors(g)
    assert_allclose(np.sum(f * g.boundary_area), g.total_boundary_area, rtol=1e-12)
    assert np.all(f[blk] == 0.0)


@pytest.mark.parametrize("eta", [1.0, 1.5, -0.1, float("nan")])
def test_eta_outside_range(eta):
    with pytest.raises(ParameterError) as info:
        BlockedArc(eta=eta, fraction=0.25)
    msg = str(info.value)
    assert f"eta = {eta!r}" in msg and "0 <= eta < 1" in msg


@pytest.mark.parametrize("gamma", [1.0, 0.0, 1.2, -0.5, float("nan")])
def test_gamma_outside_range(gamma):
    with pytest.raises(ParameterError) as info:
        BlockedArc(eta=0.1, fraction=gamma)
    assert repr(gamma) in str(info.value) and "0 < γ < 1" in str(info.value)


def test_arcs_covering_everything_are_refused_on_the_grid():
    g = Disc(2e-6).mesh(2e-6 / 20)
    arc = BlockedArc(eta=0.1, angles=[(-np.pi, np.pi + 0.01)])
    with pytest.raises(ParameterError, match="γ = 1"):
        arc.factors(g)


def test_a_mask_layout_must_be_drawn_on_the_particles_image():
    particle = Mask(square_mask(20), 1e-7)
    g = particle.mesh()
    small = np.zeros((10, 10), bool)
    small[:, 0] = True  # 10 × 10 pixels: half the particle's surface lies outside it
    with pytest.raises(ParameterError, match=r"does not cover the particle's surface \(\d+ of 80 .*image.shape"):
        BlockedArc(eta=0.1, mask=small, pixel_size=1e-7).factors(g)
    with pytest.raises(ParameterError, match="does not cover"):  # a pixel mask on a polar disc grid
        BlockedArc(eta=0.1, mask=square_mask(20), pixel_size=1e-7).factors(Disc(1e-6).mesh(0.1e-6))
    inner = np.zeros((20, 20), bool)
    inner[5:15, 5:15] = True  # marks pixels, but none on the surface
    with pytest.raises(ParameterError, match=r"blocks none of the grid's 80 surface elements \(γ = 0\).*UniformFlux"):
        BlockedArc(eta=0.1, mask=inner, pixel_size=1e-7).rate_factors(g)
    with pytest.raises(ParameterError, match="narrower than one surface element"):
        BlockedArc(eta=0.1, angles=[(0.01, 0.02)]).factors(Disc(1e-6).mesh(0.25e-6))
    ok = np.zeros((20, 20), np.uint8)
    ok[:, 0] = 1  # 0/1 integers read as booleans
    assert BlockedArc(eta=0.1, mask=ok, pixel_size=1e-7).blocked(g).sum() == 20 + 2
    # the same image meshed finer (4 x 4 cells a pixel) blocks the same edge, 4 elements a pixel
    assert BlockedArc(eta=0.1, mask=ok, pixel_size=1e-7).blocked(particle.mesh(2.5e-8)).sum() == 4 * (20 + 2)
    img = np.zeros((20, 20), bool)
    img[5:15, 5:15] = True
    left = np.zeros_like(img)
    left[5:15, 5] = True
    # a mask read at twice the particle's pixel size had blocked 2 elements on the opposite side
    with pytest.raises(ParameterError, match=r"mask is 20 × 20 pixels of 2e-07 m, but the particle's image is "
                                             r"20 × 20 pixels of 1e-07 m"):
        BlockedArc(eta=0.1, mask=left, pixel_size=2e-7).blocked(Mask(img, 1e-7).mesh())
    with pytest.raises(ParameterError, match=r"mask is 20 × 19 pixels"):
        BlockedArc(eta=0.1, mask=left[:, :19], pixel_size=1e-7).blocked(Mask(img, 1e-7).mesh())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(eta=0.1), "exactly one"),
        (dict(eta=0.1, fraction=0.2, angles=[(0, 1)]), "exactly one"),
        (dict(eta=0.1, angles=[(1.0, 0.5)]), "hi > lo"),
        (dict(eta=0.1, angles=[(0.0, np.nan)]), "hi > lo"),
        (dict(eta=0.1, mask=np.ones(5, bool), pixel_size=1e-7), "2D"),
        (dict(eta=0.1, mask=np.ones((5, 5), bool)), "pixel_size"),
        (dict(eta=0.1, mask=np.ones((5, 5), bool), pixel_size=-1e-7), r"pixel_size = -1e-07 m must be finite"),
        (dict(eta=0.1, mask=np.full((5, 5), 2), pixel_size=1e-7), r"boolean \(or 0/1\).*labels == k"),
        (dict(eta=0.1, fraction=0.2, center=np.nan), "center = nan must be a finite angle"),
    ],
)
def test_bad_layout_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        BlockedArc(**kwargs)


def test_describe_names_the_parameters():
    assert UniformFlux().describe() == "uniform"
    text = BlockedArc(eta=0.25, fraction=0.3, center=1.0).describe()
    assert "0.25" in text and "0.3" in text and "1.0" in text


def test_blocked_arc_messages_say_what_to_change():
    # "γ = 1; nothing can pass" offered no way out; NumPy reprs showed in the angles
    with pytest.raises(ParameterError, match=r"covers every one of the grid's 32 surface elements.*block less"):
        BlockedArc(0.1, fraction=0.999999).factors(Disc(1e-6).mesh(1e-7))
    with pytest.raises(ParameterError, match=r"angles \[\(0.5, 0.2\)\] must be .* e.g. angles=\[\(-0.4, 0.4\)\]"):
        BlockedArc(0.1, angles=[(np.float64(0.5), np.float64(0.2))])
    with pytest.raises(ParameterError, match="must be \\(lo, hi\\) pairs"):
        BlockedArc(0.1, angles=[("a", 1)])  # a float() ValueError
