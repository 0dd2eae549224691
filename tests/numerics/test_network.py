"""Resistor-network helpers on hand-solvable circuits."""

import numpy as np

from socscope.numerics import edge_currents, laplacian_apply, reachable


def test_edge_currents_and_node_balance_of_a_series_pair():
    # 1 V across 1 Ω + 3 Ω in series: 0.25 A through both, node 1 at 0.75 V
    edges = np.array([[0, 1], [1, 2]])
    g = np.array([1.0, 1.0 / 3.0])
    phi = np.array([1.0, 0.75, 0.0])
    # exact in binary floating point: 0.25 A each way
    np.testing.assert_array_equal(edge_currents(edges, g, phi), [0.25, 0.25])
    # Kirchhoff: the middle node neither gains nor loses current; the source supplies 0.25 A
    np.testing.assert_array_equal(laplacian_apply(edges, g, phi, 3), [0.25, 0.0, -0.25])
    # an edge written the other way round carries the same current with the opposite sign
    np.testing.assert_array_equal(edge_currents(edges[:, ::-1], g, phi), [-0.25, -0.25])


def test_reachable_marks_only_the_components_of_the_sources():
    edges = np.array([[0, 1], [1, 2], [3, 4]])
    np.testing.assert_array_equal(reachable(edges, 6, [0]), [True, True, True, False, False, False])
    np.testing.assert_array_equal(reachable(edges, 6, [4, 5]), [False, False, False, True, True, True])
