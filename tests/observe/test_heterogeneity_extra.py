"""Periphery and core, checked against masks built by hand from the documented definitions.

socscope.observe.heterogeneity: the periphery is the cells within ``periphery_fraction`` (0.2) ×
the inradius of the boundary, the core the cells at least ``core_fraction`` (0.6) × the
inradius deep, the inradius being the largest distance of a cell from the boundary.
socscope.analysis.optical.contrast.periphery_core applies the same masks to each particle's
pixel depths.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage

from socscope.analysis.optical.contrast import particle_depth, periphery_core
from socscope.observe import periphery_core_masks, periphery_minus_core


def _square(n, pad=2):
    """An n × n block of True in a frame of ``pad`` False pixels."""
    mask = np.zeros((n + 2 * pad, n + 2 * pad), bool)
    mask[pad:pad + n, pad:pad + n] = True
    return mask


def _ring_index(n):
    """Depth of each pixel of an n × n square by hand: 1 on its outer frame, 2 inside that, ..."""
    i, j = np.mgrid[:n, :n]
    return np.minimum.reduce([i, j, n - 1 - i, n - 1 - j]) + 1


def test_square_masks_are_the_outer_frame_and_the_central_block():
    n, pad = 11, 2
    mask = _square(n, pad)
    d = ndimage.distance_transform_edt(mask)
    # premise: a square's distance to the nearest outside pixel is its ring index (1 .. 6)
    assert_array_equal(d[mask].reshape(n, n), _ring_index(n))
    per, core = periphery_core_masks(d[mask])
    # inradius 6: periphery = depth ≤ 1.2 → the outer frame only (121 − 81 = 40 px);
    # core = depth > 3.6 → rings 4, 5, 6, the central 5 × 5 block (no depth equals a threshold)
    want_per = np.zeros((n, n), bool)
    want_per[[0, -1], :] = want_per[:, [0, -1]] = True
    want_core = np.zeros((n, n), bool)
    want_core[3:8, 3:8] = True
    assert_array_equal(per.reshape(n, n), want_per)
    assert_array_equal(core.reshape(n, n), want_core)
    assert per.sum() == 40 and core.sum() == 25
    # other fractions move both: depth ≤ 2.1 (two frames, 72 px) and > 4.2 (the 3 × 3 block)
    per, core = periphery_core_masks(d[mask], periphery_fraction=0.35, core_fraction=0.7)
    want_per[1, 1:-1] = want_per[-2, 1:-1] = want_per[1:-1, 1] = want_per[1:-1, -2] = True
    want_core[:] = False
    want_core[4:7, 4:7] = True
    assert_array_equal(per.reshape(n, n), want_per)
    assert_array_equal(core.reshape(n, n), want_core)
    assert per.sum() == 72 and core.sum() == 9


def test_disc_masks_follow_the_documented_fractions():
    yy, xx = np.mgrid[:25, :25]
    mask = (yy - 12) ** 2 + (xx - 12) ** 2 <= 100  # radius 10 px
    d = ndimage.distance_transform_edt(mask)[mask]
    inradius = d.max()
    # the centre's nearest outside pixels are one off the axes, e.g. (13, 22): √101 px
    assert inradius == np.sqrt(101.0)
    # periphery: depth ≤ 0.2 √101 = 2.01; core: depth > 0.6 √101 = 6.03. No depth (a square root of
    # an integer) lies on either, so "within" and "at least" cannot be read two ways here
    lo, hi = 0.2 * np.sqrt(101.0), 0.6 * np.sqrt(101.0)
    assert not np.isin(d, [lo, hi]).any()
    per, core = periphery_core_masks(d)
    assert_array_equal(per, d <= lo)
    assert_array_equal(core, d > hi)
    # the periphery is the rim of depths 1, √2 and 2 (squared depths are sums of two squares)
    assert set(np.unique(d[per]).round(6)) == {1.0, round(np.sqrt(2.0), 6), 2.0}
    # and the image pipeline, through its own depth map, counts the same pixels
    lab = mask.astype(np.int32)
    assert_array_equal(particle_depth(lab)[mask], d)
    table = periphery_core(np.where(mask, 1.0, np.nan), lab)
    assert table.n_periphery_px.iloc[0] == (d <= lo).sum()
    assert table.n_core_px.iloc[0] == (d > hi).sum()


def test_periphery_minus_core_of_a_ten_shell_sphere():
    # a sphere of 10 shells of unit width: centres at i + ½, depth 9.5 − i, volume ∝ (i+1)³ − i³
    i = np.arange(10)
    depth = 9.5 - i
    vol = (i + 1.0) ** 3 - i**3  # 1, 7, 19, 37, ..., 217, 271
    theta = np.stack([i / 10.0, np.full(10, 0.4)])  # a gradient, and a uniform field
    # inradius 9.5: periphery = depth ≤ 1.9 → shells 8, 9; core = depth > 5.7 → shells 0-3
    per_mean = (0.8 * 217 + 0.9 * 271) / (217 + 271)
    core_mean = (0.0 * 1 + 0.1 * 7 + 0.2 * 19 + 0.3 * 37) / (1 + 7 + 19 + 37)
    got = periphery_minus_core(theta, vol, depth)
    assert got.shape == (2,)
    # sums of ten terms: round-off only (measured 1.1e-16 and 0); 1e-14 allows another order
    assert_allclose(got, [per_mean - core_mean, 0.0], rtol=0, atol=1e-14)
    assert got[0] == pytest.approx(0.611783, abs=1e-6)  # the hand value, to the digits quoted
    # fractions 0.35 / 0.7: depth ≤ 3.325 → shells 7-9; depth > 6.65 → shells 0-2
    per_mean = (0.7 * 169 + 0.8 * 217 + 0.9 * 271) / (169 + 217 + 271)
    core_mean = (0.1 * 7 + 0.2 * 19) / (1 + 7 + 19)
    got = periphery_minus_core(theta, vol, depth, periphery_fraction=0.35, core_fraction=0.7)
    assert_allclose(got, [per_mean - core_mean, 0.0], rtol=0, atol=1e-14)  # as above (measured 0)
    assert got[0] == pytest.approx(0.648858, abs=1e-6)


def test_image_periphery_minus_core_of_a_square_with_a_depth_gradient():
    # contrast 0.1 × ring index on an 11 × 11 square: periphery = ring 1 (mean 0.1), core = rings
    # 4-6 with 16, 8 and 1 px (mean 0.1 × 110/25 = 0.44)
    n, pad = 11, 2
    mask = _square(n, pad)
    frame = np.full(mask.shape, np.nan)
    frame[mask] = 0.1 * _ring_index(n).ravel()
    table = periphery_core(frame, mask.astype(np.int32))
    # means of ≤ 40 numbers: round-off only (measured 1.7e-16); 1e-14 allows another summation order
    assert_allclose(table[["periphery_contrast", "core_contrast", "periphery_minus_core"]].iloc[0],
                    [0.1, 0.44, 0.1 - 0.44], rtol=0, atol=1e-14)
    # fractions 0.35 / 0.7: rings 1-2 (40 + 32 px, mean ring 104/72) against rings 5-6 (8 + 1 px, 46/9)
    table = periphery_core(frame, mask.astype(np.int32), fraction=0.35, core_fraction=0.7)
    assert_allclose(table.periphery_minus_core.iloc[0], 0.1 * (104 / 72 - 46 / 9), rtol=0, atol=1e-14)  # 1.1e-16
    assert table.periphery_minus_core.iloc[0] == pytest.approx(-0.366667, abs=1e-6)  # the hand value, as quoted


def test_a_cell_exactly_at_the_core_depth_is_core():
    # a 9 × 9 square: inradius 5, and 0.6 × 5 = 3.0 exactly, the depth of ring 3
    n = 9
    mask = _square(n)
    d = ndimage.distance_transform_edt(mask)[mask]
    assert 0.6 * d.max() == 3.0 and (d == 3.0).sum() == 16
    _, core = periphery_core_masks(d)
    # "at least 0.6 × the inradius": rings 3, 4 and 5, the central 5 × 5 block
    assert_array_equal(core, d >= 3.0)
    assert core.sum() == 25
