"""Particle segmentation: a synthetic field with touching pairs, a real electrode slice, ImageJ ROIs, label files."""

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage

from socscope.analysis.optical import (
    background_threshold,
    labels_from_rois,
    load_labels,
    particle_table,
    segment_particles,
)
from socscope.analysis.optical.segment import (
    auto_settings,
    typical_radius_px,
)
from socscope.errors import FileFormatError, ParameterError

pytest.importorskip("skimage")

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "images"
#: X-ray nano-holotomography slice of an NMC811 electrode, 2048x655 uint8 (YijinLiu-Lab/
#: ParticleNetworkDynamics, part1_particle_identification/example/example_xy.tif, GPL-3.0: read in
#: place, never copied into the project)
REAL = DATA / "nmc811_nanotomo_slice_example_xy.tif"

#: (centre y, centre x, semi-axis along the rotated y, along the rotated x, angle [rad]) [px]
SHAPES = [
    (30, 30, 14, 14, 0.0), (35, 110, 12, 18, 0.4), (40, 200, 16, 16, 0.0),
    (120, 40, 15, 11, 1.0), (225, 220, 13, 13, 0.0), (225, 130, 18, 13, 0.2),
    # three touching pairs: centre distance 1-3 px below the sum of the radii (a neck of 8-11 px)
    (110, 120, 16, 16, 0.0), (110, 149, 14, 14, 0.0),
    (165, 200, 15, 15, 0.0), (140, 210, 12, 12, 0.0),
    (180, 50, 15, 15, 0.0), (196, 72, 13, 13, 0.0),
]


def _field(seed=0, size=256):
    """Particles at 0.8 on a 0.2 background with a speckle texture (standard deviation 0.08),
    blurred by a 1 px Gaussian, plus Gaussian noise 0.04 (contrast-to-noise 15).
    Truth: each pixel inside a shape belongs to the shape whose scaled distance is smallest."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size].astype(float)
    scaled = []
    for cy, cx, a, b, angle in SHAPES:
        c, s = np.cos(angle), np.sin(angle)
        u, v = (yy - cy) * c + (xx - cx) * s, -(yy - cy) * s + (xx - cx) * c
        scaled.append(np.hypot(u / a, v / b))
    scaled = np.array(scaled)
    inside = scaled.min(axis=0) <= 1.0
    truth = np.where(inside, scaled.argmin(axis=0) + 1, 0).astype(np.int32)
    texture = ndimage.gaussian_filter(rng.normal(size=(size, size)), 1.5)
    image = 0.2 + inside * (0.6 + 0.08 * texture / texture.std())
    image = ndimage.gaussian_filter(image, 1.0) + rng.normal(0, 0.04, image.shape)
    return image, truth


def _match_iou(truth, labels):
    """IoU of each true particle with the label that overlaps it most."""
    ious = []
    for k in range(1, truth.max() + 1):
        mine = truth == k
        overlap = np.bincount(labels[mine], minlength=labels.max() + 1)
        overlap[0] = 0
        best = labels == overlap.argmax()
        ious.append((mine & best).sum() / (mine | best).sum())
    return np.array(ious)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_field_count_and_iou(seed):
    image, truth = _field(seed)
    labels = segment_particles(image)
    assert labels.dtype == np.int32 and labels.shape == image.shape
    assert labels.max() == 12 and len(np.unique(labels)) == 13  # 12 particles, numbered 1..12
    # requirement of the issue: IoU >= 0.9 per particle; measured 0.95-0.99 (the boundary error is
    # under a pixel on particles of 11-18 px radius; the necks of the pairs cost the most)
    ious = _match_iou(truth, labels)
    assert ious.min() >= 0.9
    # each label matches exactly one particle (no label covers two)
    best = [np.bincount(labels[truth == k]).argmax() for k in range(1, 13)]
    assert len(set(best)) == 12


def test_touching_pairs_stay_merged_without_watershed():
    image, _ = _field(0)
    # 12 particles, three of them touching pairs: 9 connected objects
    assert segment_particles(image, split_touching=False).max() == 9


def test_threshold_methods_and_user_threshold():
    image, _ = _field(0)
    # the two classes sit at 0.2 and 0.8: every method lands between them
    for method in ("otsu", "li", "triangle"):
        assert 0.25 < background_threshold(image, method=method) < 0.75
    # the default is Otsu's threshold of the frame smoothed by the automatic smoothing; passing it
    # (and that smoothing) gives the same labels
    smooth = auto_settings(image)["smooth_px"]
    otsu = background_threshold(ndimage.gaussian_filter(image, smooth, mode="nearest"))
    assert_array_equal(segment_particles(image, threshold=otsu, smooth_px=smooth), segment_particles(image))
    # a user's higher threshold keeps the same particles, each a little smaller
    high = segment_particles(image, threshold=0.65)
    assert high.max() == 12 and (high > 0).sum() < (segment_particles(image) > 0).sum()
    with pytest.raises(ParameterError, match="choose one of"):
        background_threshold(image, method="mean")
    with pytest.raises(ParameterError, match="constant"):
        background_threshold(np.ones((8, 8)))


def test_no_particles_error_names_threshold_and_range():
    image = np.random.default_rng(0).normal(0.2, 0.01, (64, 64))
    with pytest.raises(ParameterError, match=r"no particles found; threshold 5, image range \[0\.1"):
        segment_particles(image, threshold=5.0)


def test_holes_of_cracked_particles_filled_but_not_pores_between_particles():
    yy, xx = np.mgrid[:256, :256]
    particles = np.zeros((256, 256), bool)
    for cy, cx in [(30, 30), (30, 90), (30, 150), (90, 30)]:
        particles |= np.hypot(yy - cy, xx - cx) < 20  # four single particles, 1257 px² each
    r = np.hypot(yy - 90, xx - 90)
    particles |= (r < 20) & (r >= 6)  # a cracked particle with a dark core (a hole of 113 px²)
    # a ring of eight touching particles (radius 14 px, 36 px from the centre, neighbours 27.6 px
    # apart) around a pore of ~1700 px² at (180, 180)
    for angle in np.linspace(0, 2 * np.pi, 8, endpoint=False):
        particles |= np.hypot(yy - 180 - 36 * np.sin(angle), xx - 180 - 36 * np.cos(angle)) < 14
    labels = segment_particles(0.1 + 0.8 * particles, smooth_px=0)
    # holes up to 0.4 x the median object area (1257 px²) are filled: the core, not the pore
    assert labels[90, 90] > 0 and labels[90, 90] == labels[90, 75]
    assert labels[180, 180] == 0
    assert labels.max() == 5 + 8
    # every hole filled on request: the pore becomes foreground too
    assert segment_particles(0.1 + 0.8 * particles, smooth_px=0, max_hole_area_px=np.inf)[180, 180] > 0


def test_particle_table_and_edge_flags():
    labels = np.zeros((50, 60), np.int32)
    labels[0:10, 20:30] = 1  # touches the top edge
    labels[20:30, 20:26] = 2  # inside
    labels[40:50, 55:60] = 7  # touches the bottom-right corner
    table = particle_table(labels, pixel_size_nm=250.0)
    assert list(table.columns) == ["label", "area_px", "centroid_y_px", "centroid_x_px", "equivalent_diameter_px",
                                   "touches_edge", "area_um2", "equivalent_diameter_um"]
    assert table.label.tolist() == [1, 2, 7]
    assert table.area_px.tolist() == [100, 60, 50]
    assert table.touches_edge.tolist() == [True, False, True]
    # centroids of rectangles: the mean pixel index, exact in binary floating point
    assert_allclose(table[["centroid_y_px", "centroid_x_px"]].to_numpy(), [[4.5, 24.5], [24.5, 22.5], [44.5, 57]])
    # 250 nm pixels: 0.0625 µm² each; the diameter of the disc of equal area (round-off only)
    assert_allclose(table.area_um2, [6.25, 3.75, 3.125], rtol=1e-12)
    assert_allclose(table.equivalent_diameter_um, np.sqrt(4 * np.array([100, 60, 50]) / np.pi) * 0.25, rtol=1e-12)
    empty = particle_table(np.zeros((5, 5), np.int32))
    assert len(empty) == 0 and "touches_edge" in empty.columns
    with pytest.raises(ParameterError, match="integers"):
        particle_table(np.zeros((5, 5)))


@pytest.mark.skipif(not REAL.is_file(), reason=f"shared real image not found at {REAL}")
def test_real_electrode_slice():
    tifffile = pytest.importorskip("tifffile")
    image = tifffile.imread(REAL)
    # Counted by eye on the slice: 63 particles, including partial ones at the left edge and at the
    # rim of the field of view, small ones of ~30 px across and heavily cracked ones (each counted as
    # one particle). Particles here are ~100 px across and their speckle and cracks are a few px
    # wide, hence stronger smoothing than the default (smooth_px=4) and fragments under 800 px²
    # (~32 px across) discarded (min_area_px=800). Result: 66 labels; the differences are a cracked
    # particle cut in two along its crack and two small fragments beside particles.
    labels = segment_particles(image, smooth_px=4.0, min_area_px=800)
    n = int(labels.max())
    assert abs(n - 63) <= 4, n
    table = particle_table(labels)
    assert (table.area_px >= 800).all()
    # one particle is cut by the image edge (the left one, half outside the slice); the particles at
    # the right rim of the field of view end on the grey padding and do not touch the edge
    edge = table[table.touches_edge]
    assert len(edge) == 1 and edge.centroid_x_px.iloc[0] < 30


def test_labels_from_imagej_rois(tmp_path):
    roifile = pytest.importorskip("roifile")
    # ImageJ coordinates count from pixel corners: a 20x10 px square polygon covers exactly 200 pixels
    square = roifile.ImagejRoi.frompoints([[10, 10], [30, 10], [30, 20], [10, 20]], name="square")
    rect = roifile.ImagejRoi(roitype=roifile.ROI_TYPE.RECT, left=5, top=40, right=25, bottom=50, name="rect")
    oval = roifile.ImagejRoi(roitype=roifile.ROI_TYPE.OVAL, left=40, top=40, right=60, bottom=60, name="oval")
    triangle = roifile.ImagejRoi.frompoints(np.array([[40.5, 5.0], [60.5, 5.0], [40.5, 25.0]]), name="tri")
    line = roifile.ImagejRoi(roitype=roifile.ROI_TYPE.LINE, x1=0, y1=0, x2=5, y2=5, name="line")
    zip_path = tmp_path / "RoiSet.zip"
    for roi in (square, rect, oval, triangle, line):
        roi.tofile(zip_path)
    with pytest.warns(UserWarning, match="line"):
        labels = labels_from_rois(zip_path, (70, 70))
    table = particle_table(labels)
    assert table.label.tolist() == [1, 2, 3, 4]
    areas = dict(zip(table.label, table.area_px))
    assert areas[1] == 200 and areas[2] == 200  # square and rectangle: exact
    # oval of diameter 20: π·10² = 314.2 px² by geometry; pixel-centre counting adds 2 px (1 % allowed)
    assert_allclose(areas[3], np.pi * 100, rtol=0.01)
    # right triangle with legs of 20: 200 px² by geometry; the pixels on the hypotenuse, half of
    # them inside, make the count uncertain by up to 10 (5 % allowed)
    assert_allclose(areas[4], 200, rtol=0.05)
    assert_array_equal(np.argwhere(labels == 1).min(axis=0), [10, 10])
    assert_array_equal(np.argwhere(labels == 1).max(axis=0), [19, 29])
    # a single .roi file and ROI objects give the same result
    one = tmp_path / "square.roi"
    square.tofile(one)
    assert_array_equal(labels_from_rois(one, (70, 70)), labels == 1)
    assert_array_equal(labels_from_rois([square, rect], (70, 70)) > 0, (labels == 1) | (labels == 2))
    # ROIs reaching beyond the image are cut off
    assert labels_from_rois(rect, (45, 15)).sum() == 5 * 10


def test_unreadable_roi_file(tmp_path):
    pytest.importorskip("roifile")
    bad = tmp_path / "bad.roi"
    bad.write_bytes(b"not an roi at all, just text" * 4)
    with pytest.raises(FileFormatError, match=r"bad\.roi.*ImageJ"):
        labels_from_rois(bad, (10, 10))
    with pytest.raises(FileFormatError, match="no such file"):
        labels_from_rois(tmp_path / "missing.zip", (10, 10))


def test_load_labels(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    labels = np.zeros((20, 30), np.uint16)
    labels[2:6, 2:6] = 3
    labels[10:15, 10:20] = 8
    tifffile.imwrite(tmp_path / "labels.tif", labels)
    assert_array_equal(load_labels(tmp_path / "labels.tif"), labels)
    assert load_labels(tmp_path / "labels.tif").dtype == np.int32
    # a binary 0/255 mask is labelled by connectivity: two objects
    tifffile.imwrite(tmp_path / "mask.tif", ((labels > 0) * 255).astype(np.uint8))
    relabelled = load_labels(tmp_path / "mask.tif")
    assert relabelled.max() == 2
    assert_array_equal(relabelled > 0, labels > 0)
    (tmp_path / "junk.tif").write_bytes(b"\x00" * 100)
    with pytest.raises(FileFormatError, match=r"junk\.tif.*label image"):
        load_labels(tmp_path / "junk.tif")
    tifffile.imwrite(tmp_path / "float.tif", np.full((4, 4), 0.5, np.float32))
    with pytest.raises(FileFormatError, match="non-integer"):
        load_labels(tmp_path / "float.tif")


def test_typical_radius_is_the_area_weighted_median():
    # three discs of radius 20 px and thirty 1-px specks: the specks hold ~2 % of the bright pixels,
    # so the radius holding the median bright pixel is the discs' (the distance transform's maximum
    # of a rasterised disc is its radius to within a pixel)
    yy, xx = np.mgrid[:200, :200]
    img = np.zeros((200, 200))
    for cy, cx in ((40, 40), (40, 140), (140, 90)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 400] = 1.0
    rng = np.random.default_rng(0)
    img[rng.integers(185, 199, 30), rng.integers(0, 199, 30)] = 1.0
    assert abs(typical_radius_px(img, threshold=0.5) - 20) <= 1
    auto = auto_settings(img, threshold=0.5)
    # r/6 and a tenth of π r² (r within a pixel of 20: σ within 1/6 px, area within 11 %)
    assert_allclose(auto["smooth_px"], 20 / 6, atol=0.2)
    assert_allclose(auto["min_area_px"], 0.1 * np.pi * 400, rtol=0.11)


def test_default_settings_scale_with_the_particles():
    # the synthetic field magnified 4x (particles 45-72 px in radius) with a fresh fine speckle: a fixed 1-px smoothing and 20-px smallest area cut such particles into
    # many pieces (a real nano-tomography slice gave 448 for 63); the automatic settings follow the size
    image, _ = _field(0)
    big = ndimage.zoom(image, 4, order=1)
    rng = np.random.default_rng(1)
    speckle = ndimage.gaussian_filter(rng.normal(size=big.shape), 2.0)
    big = big + 0.12 * speckle / speckle.std()  # contrast-to-speckle 5, correlated over ~2 px
    assert segment_particles(big).max() == 12
    # the former fixed settings: about a hundred pieces
    assert segment_particles(big, smooth_px=1.0, min_area_px=20).max() > 50


@pytest.mark.skipif(not REAL.is_file(), reason=f"shared real image not found at {REAL}")
def test_real_electrode_slice_with_the_defaults():
    tifffile = pytest.importorskip("tifffile")
    image = tifffile.imread(REAL)
    # a person counts 63 particles (see test_real_electrode_slice); the defaults, which scale with the
    # typical particle (inscribed radius ~33 px here: σ ~5.5 px, smallest area ~340 px²), give 65;
    # ±5 leaves room for a cracked particle cut in two and a fragment or two beside particles
    n = int(segment_particles(image).max())
    assert abs(n - 63) <= 5, n
