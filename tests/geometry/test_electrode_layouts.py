"""Electrode layouts: the network geometry of the network-electrode model."""

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial import cKDTree

from socscope.errors import GeometryError
from socscope.geometry import (
    ElectrodeLayout,
    carbon_link_factor,
    edge_conductance,
    edge_particle_ends,
    identical_wired_layout,
    ladder_layout,
    layered_layout,
    layout_from_labels,
    nmc_path_factor,
    random_layout,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SLICE = DATA / "images" / "nmc811_nanotomo_slice_example_xy.tif"

R = 2.5e-6


def chain_layout(n=3, *, factor=1e6, radius=R):
    """Collector — P0 — P1 — ... through NMC contacts only (factor at each end)."""
    edges = np.column_stack([np.arange(n), np.arange(n) + 1])
    nmc = np.full((n, 2), factor)
    nmc[0, 0] = 0.0  # the collector end
    return ElectrodeLayout(
        particle_radius=np.full(n, radius),
        particle_position=np.column_stack([np.zeros(n), (2 * np.arange(n) + 1) * radius]),
        junction_position=np.zeros((0, 2)),
        edges=edges,
        carbon_factor=np.zeros(n),
        nmc_factor=nmc,
        coverage=np.zeros(n),
        top=np.arange(n) == n - 1,
    )


def three_node_kwargs():
    """Collector (0), particles a (1) and b (2): 0–a through a's NMC, a–b through
    carbon and both NMCs."""
    return {
        "particle_radius": [R, R],
        "particle_position": [[R, R], [3 * R, R]],
        "junction_position": np.zeros((0, 2)),
        "edges": [[0, 1], [1, 2]],
        "carbon_factor": [0.0, 2e6],
        "nmc_factor": [[0.0, 1e6], [3e6, 5e6]],
        "coverage": [0.2, 0.4],
        "top": [True, True],
    }


def ladder_resistance(n, r, rung):
    """Resistance from the collector into a uniform ladder of n sections (rail r,
    rung R to a common ground): r cosh(γ(n+½)) / (2 sinh(γn) sinh(γ/2)),
    cosh γ = 1 + r/(2R)."""
    g = math.acosh(1.0 + r / (2.0 * rung))
    return r * math.cosh(g * (n + 0.5)) / (2.0 * math.sinh(g * n) * math.sinh(g / 2.0))


def network_resistance(layout, sigma, sigma_cb):
    """Collector at 1 V, every particle at 0 V: 1 / (current out of the collector)."""
    g = edge_conductance(layout, sigma, sigma_cb)
    n = layout.n_nodes
    a, b = layout.edges[:, 0], layout.edges[:, 1]
    lap = sp.coo_matrix(
        (np.concatenate([g, g, -g, -g]), (np.concatenate([a, b, a, b]), np.concatenate([a, b, b, a]))),
        shape=(n, n),
    ).tocsr()
    fixed = np.zeros(n, bool)
    fixed[0] = True
    fixed[layout.particle_nodes] = True
    v = np.zeros(n)
    v[0] = 1.0
    free = ~fixed
    v[free] = spla.spsolve(lap[free][:, free].tocsc(), -lap[free][:, fixed] @ v[fixed])
    current = (lap @ v)[0]
    return 1.0 / current


# ---------------------------------------------------------------------------
# the data model
# ---------------------------------------------------------------------------


def test_three_node_conductance_by_hand():
    lay = ElectrodeLayout(**three_node_kwargs())
    sigma = np.array([1e-3, 4e-2])
    g = edge_conductance(lay, sigma, sigma_cb=1e4)
    r0 = 1e6 / 1e-3  # collector–a: a's NMC only
    r1 = 2e6 / 1e4 + 3e6 / 1e-3 + 5e6 / 4e-2  # a–b: carbon + a's NMC + b's NMC
    # the same three divisions in another order: round-off only
    assert_allclose(g, [1 / r0, 1 / r1], rtol=1e-14)
    assert_array_equal(edge_particle_ends(lay), [[-1, 0], [0, 1]])
    assert (lay.n_particles, lay.n_junctions, lay.n_nodes, lay.n_edges, lay.dim) == (2, 0, 3, 2, 2)


def test_edge_conductance_batches_states_and_checks_sigma():
    lay = ElectrodeLayout(**three_node_kwargs())
    sig = np.array([[1e-3, 4e-2], [2.0, 3.0], [1e-5, 1e-5]])
    g = edge_conductance(lay, sig)
    for k in range(3):
        # each batch row is the unbatched evaluation: identical arithmetic
        assert_allclose(g[k], edge_conductance(lay, sig[k]), rtol=0)
    with pytest.raises(GeometryError, match="one value per particle"):
        edge_conductance(lay, np.ones(3))
    with pytest.raises(GeometryError, match="> 0"):
        edge_conductance(lay, [1.0, 0.0])
    with pytest.raises(GeometryError, match="sigma_cb"):
        edge_conductance(lay, [1.0, 1.0], sigma_cb=-1.0)


def test_factor_formulas():
    # Holm spreading 1/(4a) on each side plus the bulk 1/(πR)
    assert_allclose(nmc_path_factor(2e-6, 1e-7), 1 / 4e-7 + 1 / (np.pi * 2e-6), rtol=1e-15)
    # L / (π w² / 4), with the length floored at w/2
    assert_allclose(carbon_link_factor(3e-6, 1e-6), 3e-6 / (np.pi * 0.25e-12), rtol=1e-15)
    assert_allclose(carbon_link_factor(0.0, 1e-6), 0.5e-6 / (np.pi * 0.25e-12), rtol=1e-15)
    with pytest.raises(GeometryError, match=r"contact radii must be > 0 .*a = 0"):
        nmc_path_factor(2e-6, 0.0)


def test_layout_is_immutable_and_copies_inputs():
    kw = three_node_kwargs()
    kw["carbon_factor"] = np.array(kw["carbon_factor"])
    lay = ElectrodeLayout(**kw)
    kw["carbon_factor"][1] = 99.0
    assert lay.carbon_factor[1] == 2e6
    with pytest.raises(ValueError):
        lay.carbon_factor[0] = 1.0
    with pytest.raises(AttributeError):
        lay.name = "other"


@pytest.mark.parametrize(
    "change, match",
    [
        ({"carbon_factor": [0.0, -2.0]}, r"edge 1 \(nodes 1-2\) has carbon_factor -2"),
        ({"nmc_factor": [[0.0, 1e6], [3e6, -5.0]]}, r"edge 1 .*nmc_factor .*-5"),
        ({"edges": [[0, 1], [1, 3]]}, r"edge 1 joins nodes \(1, 3\).*0 to 2"),
        ({"edges": [[0, 1], [-1, 2]]}, r"edge 1 joins nodes"),
        ({"edges": [[0, 1], [2, 2]]}, r"edge 1 joins node 2 to itself"),
        ({"carbon_factor": [0.0, 0.0], "nmc_factor": [[0.0, 1e6], [0.0, 0.0]]},
         r"edge 1 \(nodes 1-2\) has zero resistance; give it a carbon or NMC factor"),
        ({"nmc_factor": [[1.0, 1e6], [3e6, 5e6]]}, r"not a particle; set it to 0"),
        ({"edges": [[1, 2]], "carbon_factor": [1.0], "nmc_factor": [[1.0, 1.0]]},
         r"no particle has a path to the current collector.*edge \[0, k\]"),
        ({"edges": np.zeros((0, 2), int), "carbon_factor": [], "nmc_factor": np.zeros((0, 2))},
         r"no particle has a path to the current collector"),
        ({"coverage": [0.2, 1.5]}, r"particle 1 has coverage 1.5"),
        ({"particle_radius": [R, -R]}, r"particle 1 has radius"),
        ({"carbon_factor": [0.0]}, r"carbon_factor must have shape \(2,\)"),
        ({"particle_position": [[R, R, R, R], [3 * R, R, R, R]]}, r"shape \(N, 2\) or \(N, 3\)"),
        ({"junction_position": [[R, R, R]], "edges": [[0, 2], [2, 3]]},
         r"junction_position must have shape \(J, 2\)"),
        ({"edges": [[0.0, 1.0], [1.0, 2.0]]}, r"integer node ids"),
        ({"particle_position": [[R, R], [3 * R, -R]]},
         r"particle_position\[1\] lies at height -2.5e-06 m, below the current collector"),
        ({"labels": np.array([[1, -3, 2]]), "pixel_size": 1e-7}, r"the label image holds -3"),
        ({"particle_radius": "abc"}, r"particle_radius must be numeric"),
    ],
)
def test_validate_errors(change, match):
    kw = three_node_kwargs()
    kw.update(change)
    with pytest.raises(GeometryError, match=match):
        ElectrodeLayout(**kw)


def test_isolated_particles_and_disconnect():
    kw = three_node_kwargs()
    # a third particle with its own island (linked only to a fourth)
    kw.update(
        particle_radius=[R] * 4,
        particle_position=[[R, R], [3 * R, R], [9 * R, R], [11 * R, R]],
        edges=[[0, 1], [1, 2], [3, 4]],
        carbon_factor=[0.0, 2e6, 0.0],
        nmc_factor=[[0.0, 1e6], [3e6, 5e6], [1e6, 1e6]],
        coverage=[0.2, 0.4, 0.0, 0.0],
        top=[True] * 4,
    )
    lay = ElectrodeLayout(**kw)
    assert_array_equal(lay.isolated, [False, False, True, True])
    assert_array_equal(lay.graph_distance_to_collector(), [0, 1, np.inf, np.inf])
    d = lay.electrical_distance(np.ones(4))
    assert np.isinf(d[2:]).all() and np.isfinite(d[:2]).all()
    cut = lay.disconnect([1])
    assert_array_equal(cut.isolated, [False, True, True, True])
    assert cut.n_edges == 2 and lay.n_edges == 3  # the a–b link is gone
    with pytest.raises(GeometryError, match="no particle has a path"):
        lay.disconnect([0, 1])


def test_electrical_distance_on_a_chain_is_the_series_sum():
    lay = chain_layout(4, factor=1e6)
    sigma = np.array([1e-2, 2e-3, 5e-1, 1e-4])
    # edge k joins P_{k-1} and P_k: factor/σ at each particle end
    per_edge = 1e6 / sigma + np.concatenate([[0.0], 1e6 / sigma[:-1]])
    # a sum of four terms: round-off only
    assert_allclose(lay.electrical_distance(sigma), np.cumsum(per_edge), rtol=1e-14)
    assert_array_equal(lay.graph_distance_to_collector(), [0, 1, 2, 3])


def test_parallel_edges_take_the_cheaper_path():
    kw = three_node_kwargs()
    kw.update(edges=[[0, 1], [1, 2], [2, 1]], carbon_factor=[0.0, 2e6, 1e3],
              nmc_factor=[[0.0, 1e6], [3e6, 5e6], [0.0, 0.0]])
    lay = ElectrodeLayout(**kw)
    # the carbon-only link 2–1 (1e3 m⁻¹ / 1e4 S/m = 0.1 Ω) is the shortest way from a to b
    assert_allclose(lay.electrical_distance([1.0, 1.0]), [1e6, 1e6 + 0.1], rtol=1e-14)


def test_to_dataframe_columns():
    lay = ElectrodeLayout(**three_node_kwargs())
    df = lay.to_dataframe()
    assert list(df.columns[:8]) == [
        "radius_m", "x_m", "z_m", "coverage", "top", "isolated", "n_contacts", "n_particle_contacts"
    ]
    assert_array_equal(df["n_contacts"], [2, 1])
    assert_array_equal(df["n_collector_contacts"], [1, 0])
    assert_array_equal(df["n_particle_contacts"], [1, 1])
    assert_allclose(lay.particle_volume, 4 / 3 * np.pi * R**3 * np.ones(2), rtol=1e-15)
    assert_allclose(lay.particle_area, 4 * np.pi * R**2 * np.ones(2), rtol=1e-15)


# ---------------------------------------------------------------------------
# layouts that check the network solve
# ---------------------------------------------------------------------------


def test_identical_wired_layout():
    lay = identical_wired_layout(6, 3e-6)
    assert lay.n_edges == 6 and lay.n_junctions == 0
    assert_array_equal(lay.edges[:, 0], 0)
    assert not lay.nmc_factor.any()  # σ(θ) never enters
    g = edge_conductance(lay, np.full(6, 1e-8), sigma_cb=1e4)
    assert_allclose(g, 1e4 / 1e6, rtol=1e-15)  # a single division: σ_CB / the default 1e6 m⁻¹ wire factor
    assert_array_equal(lay.graph_distance_to_collector(), 0)
    assert (lay.particle_radius == 3e-6).all() and lay.top.all()


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_ladder_matches_the_analytic_effective_resistance(n):
    lay = ladder_layout(n, carbon_factor=2e6, rung_carbon_factor=5e5, rung_nmc_factor=3e5)
    sigma, sigma_cb = np.full(n, 0.05), 1e4
    r = 2e6 / sigma_cb
    rung = 5e5 / sigma_cb + 3e5 / 0.05
    # a direct sparse solve of a well-conditioned system: round-off only
    assert_allclose(network_resistance(lay, sigma, sigma_cb), ladder_resistance(n, r, rung), rtol=1e-10)
    # the shortest path to rung k runs k rails then the rung
    assert_allclose(lay.electrical_distance(sigma, sigma_cb), r * np.arange(1, n + 1) + rung, rtol=1e-14)


def test_ladder_formula_limits():
    # one section is a rail in series with a rung
    assert_allclose(ladder_resistance(1, 2.0, 3.0), 5.0, rtol=1e-14)
    # a long ladder tends to the infinite ladder r/2 + sqrt(r²/4 + rR)
    assert_allclose(ladder_resistance(200, 1.0, 10.0), 0.5 + math.sqrt(0.25 + 10.0), rtol=1e-12)


# ---------------------------------------------------------------------------
# the layered layout of [002] Fig. 4a
# ---------------------------------------------------------------------------


def test_layered_layout_top_particles_cross_more_nmc_left_to_right():
    lay = layered_layout()
    assert (lay.n_particles, lay.n_junctions) == (15, 3)
    top = np.flatnonzero(lay.top)
    assert_array_equal(top, [10, 11, 12, 13, 14])
    assert_array_equal(np.argsort(lay.particle_position[top, 0]), np.arange(5))
    assert_array_equal(lay.graph_distance_to_collector()[top], [0, 1, 2, 3, 4])
    # and in resistance, at pristine NMC conductivity (1.9e-6 S/cm) the order is the same
    d = lay.electrical_distance(np.full(15, 1.9e-4))
    assert np.all(np.diff(d[top]) > 0)
    # the leftmost top particle has a carbon link (a junction end), the others none
    ends = edge_particle_ends(lay)
    carbon = lay.carbon_factor > 0
    on_carbon = np.unique(ends[carbon][ends[carbon] >= 0])
    assert_array_equal(on_carbon, [0, 5, 10])
    assert not lay.isolated.any()
    assert_array_equal(lay.coverage.reshape(3, 5)[:, 0], 0.5)
    assert_array_equal(lay.coverage.reshape(3, 5)[:, 1:], 0.0)


def test_layered_layout_options():
    lay = layered_layout(6, 2, carbon_columns=(0, 5))
    assert_array_equal(lay.graph_distance_to_collector()[lay.top], [0, 1, 2, 2, 1, 0])
    cov = np.full((3, 5), 0.5)
    cov[2, 0] = 0.0  # the top-left particle loses its carbon
    lay = layered_layout(coverage=cov)
    assert_array_equal(lay.graph_distance_to_collector()[lay.top], [1, 2, 3, 4, 5])
    with pytest.raises(GeometryError, match="carbon_columns"):
        layered_layout(carbon_columns=(5,))
    with pytest.raises(GeometryError, match="n_layers"):
        layered_layout(n_layers=0)


# ---------------------------------------------------------------------------
# random packings
# ---------------------------------------------------------------------------


def overlaps(lay):
    pos, rad = lay.particle_position, lay.particle_radius
    pairs = cKDTree(pos).query_pairs(2 * rad.max(), output_type="ndarray")
    d = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
    return 1.0 - d / (rad[pairs[:, 0]] + rad[pairs[:, 1]])


@pytest.mark.parametrize("dim", [2, 3])
def test_random_layout_packing(dim):
    n = 1500 if dim == 2 else 600
    lay = random_layout(n, dim=dim, rng=np.random.default_rng(7))
    assert lay.n_particles == n and lay.dim == dim and lay.name == f"random-{dim}d"
    # supports are placed exactly: overlap is round-off only
    assert overlaps(lay).max() < 1e-12
    assert (lay.particle_position[:, -1] >= lay.particle_radius * (1 - 1e-12)).all()
    df = lay.to_dataframe()
    # every particle rests on the collector or on another particle
    assert ((df.n_particle_contacts + df.n_collector_contacts) >= 1).all()
    mean_contacts = df.n_particle_contacts.mean()
    # deposition with settling: about 3 (2D) or 4.5 (3D) contacts (measured 3.3-3.4 and 4.3-4.4
    # over eight seeds)
    assert (2.5 if dim == 2 else 3.5) < mean_contacts < (4.0 if dim == 2 else 5.5)
    assert df.n_particle_contacts.max() <= (8 if dim == 2 else 14)
    assert lay.n_junctions > 0 and (df.n_carbon_contacts > 0).mean() > 0.4
    assert not lay.isolated.any()
    # contacts really are within the tolerance, and the collector links touch it
    pp = (lay.carbon_factor == 0) & (lay.edges[:, 0] > 0)
    ends = edge_particle_ends(lay)[pp]
    gap = np.linalg.norm(lay.particle_position[ends[:, 0]] - lay.particle_position[ends[:, 1]], axis=1)
    assert (gap <= (lay.particle_radius[ends].sum(axis=1)) * 1.02 * (1 + 1e-12)).all()
    # junctions lie in the pores, above the collector
    jp = lay.junction_position
    assert (jp[:, -1] > 0).all()
    dist, idx = cKDTree(lay.particle_position).query(jp)
    assert (dist >= lay.particle_radius[idx]).all()
    # the top layer is seen from above: higher than the rest on average
    z = lay.particle_position[:, -1]
    assert lay.top.sum() > 0 and z[lay.top].mean() > z[~lay.top].mean() + 2 * R
    # the pile is about the requested default thickness (12 mean diameters = 60 µm in 2D)
    if dim == 2:
        thick = np.percentile(z + lay.particle_radius, 95)
        assert 40e-6 < thick < 80e-6  # the width uses a measured packing fraction (±30 %)


def test_random_layout_radii_and_coverage_statistics():
    lay = random_layout(3000, mean_radius=3e-6, radius_cv=0.25, coverage=(0.6, 0.2),
                        rng=np.random.default_rng(1))
    r = lay.particle_radius
    # 3000 lognormal samples: standard error of the mean 0.25/sqrt(3000) = 0.5 %
    assert_allclose(r.mean(), 3e-6, rtol=0.03)
    assert_allclose(r.std() / r.mean(), 0.25, rtol=0.1)  # sd of the sample cv ~ 1.5 %
    c = lay.coverage
    assert c.min() >= 0.4 - 1e-12 and c.max() <= 0.8 + 1e-12
    assert_allclose(c.mean(), 0.6, atol=0.01)  # uniform on ±0.2: se 0.002


def test_random_layout_isolated_fraction():
    lay = random_layout(400, isolated_fraction=0.1, rng=np.random.default_rng(3))
    df = lay.to_dataframe()
    cut = (df.n_contacts == 0).to_numpy()
    # the 40 chosen particles lose every link; a particle that rested only on them
    # loses its path too
    assert cut.sum() >= 40
    assert lay.isolated[cut].all()
    assert 40 <= lay.isolated.sum() <= 60
    assert_array_equal(np.isinf(lay.electrical_distance(1.0)), lay.isolated)


def test_random_layout_is_reproducible_and_validates():
    a = random_layout(300, dim=3, rng=np.random.default_rng(11))
    b = random_layout(300, dim=3, rng=np.random.default_rng(11))
    assert_array_equal(a.particle_position, b.particle_position)
    assert_array_equal(a.edges, b.edges)
    with pytest.raises(GeometryError, match="numpy.random.Generator"):
        random_layout(10, rng=0)
    with pytest.raises(GeometryError, match="not both"):
        random_layout(10, width=1e-4, thickness=1e-4, rng=np.random.default_rng(0))
    with pytest.raises(GeometryError, match="isolated_fraction"):
        random_layout(10, isolated_fraction=1.0, rng=np.random.default_rng(0))
    with pytest.raises(GeometryError, match="dim"):
        random_layout(10, dim=1, rng=np.random.default_rng(0))
    with pytest.raises(GeometryError, match="narrower"):
        random_layout(10, width=3e-6, rng=np.random.default_rng(0))
    one = random_layout(1, rng=np.random.default_rng(0))
    assert one.n_edges == 1 and one.edges[0, 0] == 0  # a single particle on the collector


def test_random_layout_width_and_ballistic_option():
    lay = random_layout(200, width=100e-6, settle_distance=0.0, rng=np.random.default_rng(5))
    x = lay.particle_position[:, 0]
    assert (x - lay.particle_radius >= 0).all() and (x + lay.particle_radius <= 100e-6).all()
    assert overlaps(lay).max() < 1e-12  # round-off only
    # plain ballistic deposition is looser: about two contacts per particle (measured 1.9-2.0)
    assert lay.to_dataframe().n_particle_contacts.mean() < 2.5


def test_random_layout_ten_thousand_particles():
    """A full-size strip keeps the packing properties (its speed is measured in benchmarks/)."""
    width = 5e-3  # about the default strip of 10 000 particles (4.75 mm): a pile ~70 µm thick
    lay = random_layout(10_000, width=width, rng=np.random.default_rng(2))
    assert lay.n_particles == 10_000 and not lay.isolated.any()
    # supports are placed exactly: overlap is round-off only (measured 1.6e-15)
    assert overlaps(lay).max() < 1e-12
    # every particle inside the strip and above the collector; those against a wall touch
    # it exactly (measured: min(x − r) = 0, max(x + r) = width); 1e-12 allows round-off of x = w − r
    x, z, r = lay.particle_position[:, 0], lay.particle_position[:, 1], lay.particle_radius
    assert (x - r >= -1e-12 * width).all() and (x + r <= width * (1 + 1e-12)).all()
    assert (z >= r * (1 - 1e-12)).all()
    df = lay.to_dataframe()
    # every particle rests on the collector or on another particle, with about 3 contacts each
    # as in the smaller 2D packing (measured 3.34)
    assert ((df.n_particle_contacts + df.n_collector_contacts) >= 1).all()
    assert 2.5 < df.n_particle_contacts.mean() < 4.0


# ---------------------------------------------------------------------------
# from a label image
# ---------------------------------------------------------------------------


def synthetic_labels():
    """Five rectangles on a 60 × 80 image (collector at the bottom row):
    1–2 share an edge (11 px), 2–3 are 1 px apart, 3–4 are 3 px apart,
    5 touches the bottom edge over 10 columns."""
    lab = np.zeros((60, 80), np.int32)
    lab[10:21, 5:16] = 1
    lab[10:21, 16:26] = 2
    lab[10:21, 27:36] = 3
    lab[10:21, 39:50] = 4
    lab[50:60, 60:70] = 5
    return lab


def particle_pairs(lay):
    pp = (lay.carbon_factor == 0) & (lay.edges > lay.n_junctions).all(axis=1)
    ends = np.sort(edge_particle_ends(lay)[pp], axis=1)
    return {tuple(int(v) for v in e) for e in ends}


def test_from_labels_contacts_are_exactly_the_touching_pairs():
    lab = synthetic_labels()
    lay = layout_from_labels(lab, pixel_size_nm=100)
    assert lay.n_particles == 5 and lay.name == "from-labels"
    assert particle_pairs(lay) == {(0, 1), (1, 2)}  # 1 px gap bridged, 3 px not
    assert particle_pairs(layout_from_labels(lab, pixel_size_nm=100, contact_dilation_px=0)) == {(0, 1)}
    assert particle_pairs(layout_from_labels(lab, pixel_size_nm=100, contact_dilation_px=2)) == {
        (0, 1), (1, 2), (2, 3)
    }
    px = 100e-9
    assert_allclose(lay.particle_radius, np.sqrt(np.array([121, 110, 99, 121, 100]) / np.pi) * px,
                    rtol=1e-14)  # area-equivalent radius: round-off only
    # y flipped: height above the bottom edge
    assert_allclose(lay.particle_position[0], [(5 + 5 + 0.5) * px, (60 - 15 - 0.5) * px], rtol=1e-12)
    # the 1–2 contact: 11 rows of touching pixels, plus one row at each end where
    # the grown labels meet -> 13 pairs, length (π/4)·13 px, radius half of it
    a = 0.5 * np.pi / 4 * 13 * px
    k = np.flatnonzero((np.sort(edge_particle_ends(lay), axis=1) == [0, 1]).all(axis=1)
                       & (lay.carbon_factor == 0))[0]
    assert_allclose(lay.nmc_factor[k], nmc_path_factor(lay.particle_radius[[0, 1]], a), rtol=1e-14)
    # only particle 5 (index 4) touches the collector, over 10 columns
    coll = lay.edges[:, 0] == 0
    direct = coll & (lay.carbon_factor == 0)
    assert_array_equal(edge_particle_ends(lay)[direct][:, 1], [4])
    assert_allclose(lay.nmc_factor[direct][0, 1], nmc_path_factor(lay.particle_radius[4], 5 * px), rtol=1e-14)
    # nothing hides anything from above
    assert lay.top.all()
    assert not lay.isolated.any()
    assert_array_equal(lay.labels, lab)
    # 100 nm × 1e-9 against the literal 100e-9: one rounding (measured 1.3e-16)
    assert lay.pixel_size == pytest.approx(px, rel=1e-15)


def test_from_labels_collector_side_and_relabelling():
    lab = synthetic_labels()
    lab[lab == 4] = 9  # labels need not be consecutive: 1, 2, 3, 5, 9 -> 1..5 in order
    lay = layout_from_labels(lab, pixel_size_nm=100, collector="left")
    assert lay.n_particles == 5
    assert_array_equal(np.unique(lay.labels), np.arange(6))
    assert_array_equal(lay.labels[lab == 9], 5)
    assert_array_equal(lay.labels[lab == 5], 4)
    # with the collector on the left, height is the column coordinate
    assert_allclose(lay.particle_position[0, 1], (5 + 5 + 0.5) * 100e-9, rtol=1e-12)
    direct = (lay.edges[:, 0] == 0) & (lay.carbon_factor == 0)
    assert not direct.any()  # no particle reaches the left edge (the first column is 5)
    # seen from the right-hand side: the rectangle at columns 39-49 and the one at 60-69
    assert_array_equal(lay.top, [False, False, False, True, True])


def test_from_labels_top_and_collector_sides():
    lab = np.zeros((50, 40), np.int32)
    lab[5:15, 5:15] = 1  # above
    lab[30:40, 5:15] = 2  # below it
    lab[30:40, 25:35] = 3  # alone in its columns
    assert_array_equal(layout_from_labels(lab, pixel_size_nm=50).top, [True, False, True])
    assert_array_equal(layout_from_labels(lab, pixel_size_nm=50, collector="top").top,
                       [False, True, True])
    assert_array_equal(layout_from_labels(lab, pixel_size_nm=50, collector="right").top,
                       [True, True, False])


def test_from_labels_errors_and_random_thinning():
    with pytest.raises(GeometryError, match="the label image has no particles"):
        layout_from_labels(np.zeros((20, 20), np.int32), pixel_size_nm=50)
    with pytest.raises(GeometryError, match="skimage.measure.label"):
        layout_from_labels(np.ones((20, 20), bool), pixel_size_nm=50)
    with pytest.raises(GeometryError, match="collector"):
        layout_from_labels(synthetic_labels(), pixel_size_nm=50, collector="side")
    with pytest.raises(GeometryError, match="rng"):
        layout_from_labels(synthetic_labels(), pixel_size_nm=50, carbon_density=0.5)
    grey = np.random.default_rng(0).integers(1, 250, size=(40, 40)).astype(np.uint8)  # a textured micrograph
    with pytest.raises(GeometryError, match=r"looks like a grey micrograph.*segment_particles"):
        layout_from_labels(grey, pixel_size_nm=50)
    with pytest.raises(GeometryError, match="contact_dilation_px = nan must be an integer >= 0"):
        layout_from_labels(synthetic_labels(), pixel_size_nm=50, contact_dilation_px=float("nan"))
    with pytest.raises(GeometryError, match="collector_reach_px = inf must be an integer >= 1"):
        layout_from_labels(synthetic_labels(), pixel_size_nm=50, collector_reach_px=float("inf"))
    full = layout_from_labels(synthetic_labels(), pixel_size_nm=50, carbon_spacing_px=5)
    thin = layout_from_labels(synthetic_labels(), pixel_size_nm=50, carbon_spacing_px=5,
                              carbon_coverage=0.5, rng=np.random.default_rng(0))
    jp_full = ((full.carbon_factor > 0) & (edge_particle_ends(full)[:, 1] >= 0)).sum()
    jp_thin = ((thin.carbon_factor > 0) & (edge_particle_ends(thin)[:, 1] >= 0)).sum()
    assert 0.3 * jp_full < jp_thin < 0.7 * jp_full  # each link kept with probability 0.5
    none = layout_from_labels(synthetic_labels(), pixel_size_nm=50, carbon_coverage=np.zeros(5))
    assert not (none.carbon_factor[edge_particle_ends(none)[:, 1] >= 0] > 0).any()


@pytest.mark.skipif(not SLICE.exists(), reason=f"real electrode slice not found at {SLICE}")
def test_from_labels_on_the_real_slice():
    # X-ray nano-holotomography slice of an NMC811 electrode, YijinLiu-Lab/
    # ParticleNetworkDynamics (GPL-3.0; read here, never copied)
    tifffile = pytest.importorskip("tifffile")
    from skimage.filters import threshold_otsu
    from skimage.measure import label
    from skimage.morphology import remove_small_objects

    img = tifffile.imread(SLICE)
    mask = remove_small_objects(img > threshold_otsu(img), max_size=200)
    lab = label(mask)
    lay = layout_from_labels(lab, pixel_size_nm=50)
    assert lay.n_particles == lab.max() > 30
    assert not lay.isolated.any()
    assert_array_equal(lay.labels, lab)
    df = lay.to_dataframe()
    assert (df.n_carbon_contacts > 0).all()
    assert 0 < lay.top.sum() < lay.n_particles
    # 2048 px x 50 nm = 102 µm across
    assert lay.particle_position[:, 0].max() < 2048 * 50e-9


@pytest.mark.parametrize("call, needle", [
    # raw Python errors before, or silently rounded
    (lambda: random_layout(float("inf"), rng=np.random.default_rng(0)), "n_particles = inf must be an integer"),
    (lambda: random_layout(10, dim=2.0 / 3.0, rng=np.random.default_rng(0)), "dim must be 2"),
    (lambda: layered_layout(3, 1, carbon_columns=0), "carbon_columns must be a sequence of indices in 0..2"),
    (lambda: layered_layout(3, 1, carbon_columns=(0.5,)), "carbon_columns must hold whole numbers"),  # was column 0
    (lambda: layered_layout(3, 1, carbon_columns="0"), "carbon_columns must be a sequence"),
    (lambda: layered_layout(3, 1).disconnect(["a"]), "particles must hold whole numbers in 0..2"),
    (lambda: layered_layout(3, 1).disconnect([1.5]), "particles must hold whole numbers"),  # was particle 1
    (lambda: layered_layout(3, 1).disconnect([np.nan]), r"got \[nan\]"),
    (lambda: layered_layout(3, 1).disconnect([3]), "must lie in 0..2, got 3..3"),
    # the advice named an argument only random_layout has
    (lambda: layered_layout(3, 1, coverage=0), "give a carbon coverage > 0"),
    # raw TypeError/ValueError from float() or NumPy before
    (lambda: random_layout(10, radius_cv="abc", rng=np.random.default_rng(0)), "radius_cv must be a number"),
    (lambda: random_layout(10, radius_cv=[0.2], rng=np.random.default_rng(0)), "radius_cv must be a number"),
    (lambda: random_layout(10, contact_tolerance=None, rng=np.random.default_rng(0)),
     "contact_tolerance must be a number"),
    (lambda: random_layout(10, settle_distance="x", rng=np.random.default_rng(0)), "settle_distance must be a number"),
    (lambda: random_layout(10, coverage=(0.5, "x"), rng=np.random.default_rng(0)), "coverage must be numeric"),
    (lambda: layered_layout(3, 1, coverage=[["a", "b", "c"]]), "layered_layout: coverage must be numeric"),
    (lambda: ladder_layout(3, carbon_factor=1e6, rung_nmc_factor=None), "rung_nmc_factor must be a number"),
    (lambda: ladder_layout(3, carbon_factor=1e6, rung_carbon_factor=0.0), "both 0: a rung needs a resistance"),
    (lambda: layered_layout(3, 1).electrical_distance("x"), "edge_conductance: sigma_particle must be numeric"),
    (lambda: layered_layout(3, 1).electrical_distance(1.0, sigma_cb=None), "sigma_cb must be a number in S/m"),
    (lambda: edge_conductance(None, 1.0), "layout must be an ElectrodeLayout"),
    (lambda: nmc_path_factor("x", 1e-7), "nmc_path_factor: particle_radius must be numeric"),
    (lambda: carbon_link_factor("x"), "carbon_link_factor: length must be numeric"),
    (lambda: layout_from_labels(np.array([[0, 1], [1, 1]]), pixel_size_nm=100, carbon_spacing_px=float("nan")),
     "carbon_spacing_px = nan must be an integer >= 1"),
    (lambda: layout_from_labels(np.array([[0, 1], [1, 1]]), pixel_size_nm=100, carbon_spacing_px=True),
     "carbon_spacing_px = True must be an integer"),  # was read as 1
    # accepted, or a MemoryError after allocating gigabytes
    (lambda: random_layout(10, mean_radius=1e-300, rng=np.random.default_rng(0)),
     r"mean_radius = 1e-300 m must lie in \[1e-09, 0.001\]"),
    (lambda: random_layout(10, thickness=1e-12, rng=np.random.default_rng(0)),
     "the strip would be .* wide.*Give a larger thickness"),
    (lambda: random_layout(10, width=1.0, dim=3, rng=np.random.default_rng(0)), "the box would be 1 m wide"),
    (lambda: random_layout(10, settle_distance=1e-2, dim=3, rng=np.random.default_rng(0)),
     r"settle_distance = 0.01 m must lie in \[0, 2.5e-05\]"),
    (lambda: layout_from_labels(np.array([[0, 1], [1, 1]]), pixel_size_nm=100, carbon_spacing_px=10**6),
     r"carbon_spacing_px = 1000000 is larger than the image \(2 x 2 px\); use at most 2"),
])
def test_wrong_indices_and_types_are_named(call, needle):
    with pytest.raises(GeometryError, match=needle):
        call()


def test_a_whole_float_dim_is_a_dim():
    """dim=2.0 passed the check and then failed in NumPy (a float as a shape)."""
    assert random_layout(10, dim=2.0, rng=np.random.default_rng(0)).dim == 2


def test_disconnect_takes_indices_or_a_mask():
    lay = layered_layout(3, 1)  # one layer, carbon pillar under column 0: 0 - 1 - 2 in a chain
    assert lay.disconnect([1]).isolated.tolist() == [False, True, True]
    assert lay.disconnect(np.arange(3) == 2).isolated.tolist() == [False, False, True]
    assert lay.disconnect(np.array([2.0])).isolated.tolist() == [False, False, True]


@pytest.mark.parametrize("dim", [2, 3])
def test_zero_contact_tolerance_still_finds_touching_particles(dim):
    # deposited particles touch to round-off; with no tolerance they must still be in contact
    lay = random_layout(30, dim=dim, contact_tolerance=0, rng=np.random.default_rng(1))
    assert not lay.isolated.any()


def test_factor_helpers_refuse_bad_lengths():
    with pytest.raises(GeometryError, match="one value each per contact"):
        nmc_path_factor([1e-6, 2e-6], [1e-7, 2e-7, 3e-7])
    for bad in (-1.0, np.nan, np.inf):
        with pytest.raises(GeometryError, match="finite and >= 0"):
            carbon_link_factor(bad)
    assert_allclose(carbon_link_factor(0.0), carbon_link_factor(0.5e-6))  # raised to half the strand width


@pytest.mark.parametrize("radius", [np.inf, 1.0, 1e-16])
def test_layout_radii_outside_the_plausible_range_are_refused(radius):
    with pytest.raises(GeometryError, match=r"within \[1e-10, 0.01\] m"):
        ElectrodeLayout(particle_radius=[radius], particle_position=[[0.0, 1e-6]], junction_position=np.zeros((0, 2)),
                        edges=[[0, 1]], carbon_factor=[1e6], nmc_factor=[[0.0, 0.0]], coverage=[0.5], top=[True])
    with pytest.raises(GeometryError, match="radius"):
        identical_wired_layout(2, radius)


def test_wide_radius_distributions_at_the_ends_of_the_mean_range_are_built():
    # random_layout draws 0.3-4 x its mean radius (1e-9 to 1e-3 m): its own layouts pass the layout's check
    for mean in (2e-9, 6e-4):
        assert random_layout(20, mean_radius=mean, radius_cv=1.0, rng=np.random.default_rng(0)).n_particles == 20


def test_two_coverage_values_for_three_particles_are_named_as_a_pair():
    lab = np.zeros((20, 60), dtype=np.int32)
    for k in range(3):
        lab[5:15, 5 + 20 * k:15 + 20 * k] = k + 1
    with pytest.raises(GeometryError, match=r"\[0.2, 0.9\] has two values.*one value per particle \(3 values\)"):
        layout_from_labels(lab, pixel_size_nm=200, carbon_coverage=[0.2, 0.9])


def test_a_pixel_size_in_the_wrong_unit_is_named():
    """Particles of ~10 px: nanometres at 0.1 nm a pixel (µm taken for nm the other way round), or millimetres at
    100 µm a pixel (nm taken for µm); 100 nm a pixel is a cathode's scale and says nothing."""
    import warnings

    from socscope.errors import SocscopeWarning

    lab = synthetic_labels()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SocscopeWarning)
        layout_from_labels(lab, pixel_size_nm=100)
    with pytest.warns(SocscopeWarning, match=r"with pixel_size_nm = 0.1 the largest particle is 1.\d+ nm across"):
        layout_from_labels(lab, pixel_size_nm=0.1)
    with pytest.warns(SocscopeWarning, match=r"with pixel_size_nm = 100000 the smallest particle is 1.\d+ mm across"):
        layout_from_labels(lab, pixel_size_nm=1e5)
