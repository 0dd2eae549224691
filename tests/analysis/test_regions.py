"""Per-particle statistics and rim/bulk regions shared by the optical and AFM analyses."""

import numpy as np
from numpy.testing import assert_allclose

from socscope.analysis.regions import particle_stats, rim_bulk, rim_bulk_masks


def test_particle_stats_against_a_direct_loop():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, (40, 50))
    labels[labels == 2] = 0  # a missing label
    image = rng.normal(3.0, 1.0, labels.shape)
    image[0, :5] = np.nan  # left out
    table = particle_stats(image, labels, pixel_size_nm=10.0).set_index("label")
    assert sorted(table.index) == [1, 3, 4, 5]
    for k in table.index:
        v = image[(labels == k) & np.isfinite(image)]
        row = table.loc[k]
        # the same numbers by another route: sums in another order, so to round-off
        assert_allclose([row["mean"], row["median"], row["std"], row["min"], row["max"]],
                        [v.mean(), np.median(v), v.std(), v.min(), v.max()], rtol=1e-12)
        assert row["n_px"] == v.size and row["area_px"] == (labels == k).sum()
        assert_allclose(row["area_um2"], row["area_px"] * 1e-4, rtol=1e-12)  # (10 nm)^2 = 1e-4 um^2


def test_rim_and_bulk_of_a_square():
    labels = np.zeros((20, 20), int)
    labels[2:18, 2:18] = 1  # 16 x 16: the edge is straight, so distances are exact
    rim, bulk = rim_bulk_masks(labels, rim_px=3)
    assert rim.sum() == 16 * 16 - 10 * 10 and bulk.sum() == 100
    image = np.where(rim, 2.0, 1.0)
    out = rim_bulk(image, labels, rim_px=3).iloc[0]
    assert out["rim_minus_bulk"] == 1.0 and out["n_rim_px"] == 156
