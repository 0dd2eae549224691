"""AFM analysis on synthetic maps with a known answer: tilt, particles, rim/bulk contrast, SOC groups."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.analysis.afm import (
    align_rows,
    channel_correlation,
    flatten,
    particle_mask,
    particle_summary,
    plane_level,
    remove_scars,
    rim_profile,
    soc_from_name,
    soc_histograms,
)
from socscope.analysis.regions import distance_to_boundary
from socscope.errors import ParameterError

pytest.importorskip("skimage")

N = 512
CENTRES = [(120, 120, 95), (130, 370, 90), (380, 140, 100), (375, 380, 85)]  # (y, x, radius) [px]
RIM_PX = 25


def synthetic(rng=None, noise=0.0):
    """Height (tilted plane + 20 nm particles), true labels, and an amplitude 1.3 on the rim, 1.0 in the bulk."""
    yy, xx = np.mgrid[:N, :N].astype(float)
    truth = np.zeros((N, N), int)
    rim = np.zeros((N, N), bool)
    for k, (cy, cx, radius) in enumerate(CENTRES, start=1):
        r = np.hypot(yy - cy, xx - cx)
        inside = r < radius
        truth[inside] = k
        rim |= inside & (radius - r < RIM_PX)
    tilt = 0.02 * xx - 0.03 * yy + 5.0
    height = tilt + np.where(truth > 0, 20.0, 0.0)
    if noise:
        height = height + rng.normal(0.0, noise, height.shape)
    amplitude = np.where(truth > 0, np.where(rim, 1.3, 1.0), 0.2)
    return height, tilt, truth, amplitude


def test_tilt_removed_with_features_masked():
    height, tilt, truth, _ = synthetic()
    levelled, mask = flatten(height, steps=("plane", "median"))
    span = float(tilt.max() - tilt.min())
    # background flat and particles 20 high, to 1e-6 of the tilt's span (round-off is ~1e-15)
    assert np.abs(levelled[truth == 0][~mask[truth == 0]]).max() < 1e-6 * span
    assert np.abs(levelled[truth > 0] - 20.0).max() < 1e-6 * span
    assert mask[truth > 0].all()


def test_plane_level_without_mask_is_biased_by_particles():
    """The reason for masking: fitted through the particles, the plane leaves a tilt behind."""
    height, _, truth, _ = synthetic()
    naive = plane_level(height)
    assert np.ptp(naive[truth == 0]) > 1.0


def test_align_rows_methods_remove_row_offsets():
    rng = np.random.default_rng(0)
    base = np.zeros((64, 80))
    base[20:40, 30:50] = 10.0
    offsets = rng.normal(0, 3, 64)[:, None]
    mask = base > 0
    for method in ("median", "median_of_differences", "mean"):
        out = align_rows(base + offsets, method=method, mask=mask)
        # row offsets removed exactly outside the feature; a constant may remain (median_of_differences)
        bg = out[~mask]
        assert np.ptp(bg) < 1e-9, method
    slope = np.linspace(-1, 1, 80)[None, :] * rng.normal(0, 2, (64, 1))
    out = align_rows(base + offsets + slope, method="polynomial", degree=1, mask=mask)
    assert np.ptp(out[~mask]) < 1e-9  # a straight line per row is fitted exactly (round-off)


def test_remove_scars_repairs_a_bright_line():
    rng = np.random.default_rng(1)
    img = rng.normal(0, 1, (64, 64))
    clean = img.copy()
    img[30, 10:50] += 25.0
    fixed, replaced = remove_scars(img, min_scar_length=16)
    assert replaced[30, 12:48].all() and replaced.sum() <= 60
    # the scar becomes the mean of its neighbours (one addition and one product: round-off)
    assert np.abs(fixed[30, 12:48] - 0.5 * (clean[29, 12:48] + clean[31, 12:48])).max() < 1e-12
    assert_allclose(fixed[~replaced], img[~replaced])  # nothing else touched


def test_particles_and_rim_contrast_recovered():
    height, _, truth, amplitude = synthetic(np.random.default_rng(2), noise=1.0)
    levelled, _ = flatten(height)
    labels = particle_mask(levelled, method="watershed")
    assert labels.max() == len(CENTRES)
    for k in range(1, len(CENTRES) + 1):
        true = truth == k
        found = labels == np.bincount(labels[true]).argmax()
        assert (true & found).sum() / (true | found).sum() >= 0.9
    pixel_nm = 10.0
    table = particle_summary(amplitude, labels, pixel_size_nm=pixel_nm, rim_nm=RIM_PX * pixel_nm)
    # contrast 0.3 within 2 %: the rim is drawn on continuous radii, the analysis measures the distance
    # of pixel centres to a pixelated edge; the half-pixel ambiguity of that edge costs about 1.3 %
    assert_allclose(table["rim_minus_bulk"], 0.3, rtol=0.02)
    assert_allclose(table["bulk_mean"], 1.0, rtol=1e-12)
    expected_area = np.array([np.pi * r ** 2 for *_, r in CENTRES]) * (pixel_nm * 1e-3) ** 2
    assert_allclose(np.sort(table["area_um2"]), np.sort(expected_area), rtol=0.01)  # pixelated discs


def test_rim_profile_steps_at_the_rim_width():
    _, _, truth, amplitude = synthetic()
    prof = rim_profile(amplitude, truth, pixel_size_nm=1.0, bin_nm=5.0)
    every = prof[prof["label"] == 0].set_index("distance_nm")["mean"]
    assert_allclose(every.loc[2.5], 1.3)   # well inside the rim: the rim value exactly
    assert_allclose(every.loc[42.5], 1.0)  # well inside the bulk


def test_distance_to_boundary_of_a_disc():
    yy, xx = np.mgrid[:101, :101]
    r = np.hypot(yy - 50, xx - 50)
    lab = (r < 40).astype(int)
    d = distance_to_boundary(lab)
    # depth of a pixel centre below the pixelated edge: within one pixel of R - r
    assert np.abs(d[lab > 0] - (40 - r[lab > 0])).max() <= 1.0
    assert np.isnan(d[0, 0])


def test_channel_correlation_recovers_a_line():
    rng = np.random.default_rng(4)
    a = rng.normal(0, 1, (50, 50))
    b = 2.5 * a - 1.0
    out = channel_correlation(a, b, mask=np.ones_like(a, bool))
    # b is an exact line of a: the fit is exact but for the round-off of 2500-term sums (rtol 1e-9; atol for r = 1)
    assert_allclose([out["pearson_r"], out["slope"], out["intercept"]], [1.0, 2.5, -1.0], rtol=1e-9, atol=1e-12)
    assert out["n_px"] == 2500


def test_soc_from_name_and_errors():
    assert soc_from_name("maps/NCM622_SOC050_3.ibw", r"SOC(\d+)") == 50.0
    with pytest.raises(ParameterError, match=r"does not match"):
        soc_from_name("pristine.ibw", r"SOC(\d+)")
    with pytest.raises(ParameterError, match=r"needs one group"):
        soc_from_name("SOC50.ibw", r"SOC\d+")


def test_histograms_integrate_to_one():
    rng = np.random.default_rng(5)
    h = soc_histograms({0.0: rng.normal(1, 0.1, 1000), 100.0: rng.normal(0.5, 0.05, 1000)}, bins=20)
    for _, g in h.groupby("soc_percent"):
        # a density histogram integrates to one by construction: round-off of a 20-term sum
        assert_allclose((g["density"] * (g["bin_right"] - g["bin_left"])).sum(), 1.0, rtol=1e-12)


def test_analyze_maps_with_given_labels(tmp_path):
    """Labels given per map replace the segmentation: the rim contrast then depends on the rim alone."""
    from socscope.analysis.afm import analyze_maps

    _, _, truth, amplitude = synthetic()
    path = tmp_path / "NCM_SOC20.npz"
    np.savez(path, Height=truth * 20.0, Amplitude=amplitude)
    result = analyze_maps([path], channel="Amplitude", mask_from="Height", soc_pattern=r"SOC(\d+)",
                          rim_nm=RIM_PX * 10.0, pixel_size_nm=10.0, labels={path.name: truth}, workers=1)
    table = result.particles
    assert list(table["label"]) == [1, 2, 3, 4] and (table["soc_percent"] == 20.0).all()
    # the drawn rim against the pixel-centre distances: about 1.3 % (see test_particles_and_rim_contrast_recovered)
    assert_allclose(table["rim_minus_bulk"], 0.3, rtol=0.02)
    with pytest.raises(ParameterError, match=r"NCM_SOC20\.npz: the particle labels given are 3x3"):
        analyze_maps([path], channel="Amplitude", pixel_size_nm=10.0, labels={path.name: np.ones((3, 3), int)})


def test_soc_table_and_summary(tmp_path):
    import pandas as pd

    from socscope.analysis.afm import read_soc_table, soc_summary

    table = tmp_path / "soc.csv"
    table.write_text("file,soc_percent\nmaps/a.ibw,0\nb.ibw,55\n")
    assert read_soc_table(table) == {"a.ibw": 0.0, "b.ibw": 55.0}
    particles = pd.DataFrame({"soc_percent": [0.0, 0.0, 0.0, 55.0], "map": ["a", "a", "c", "b"],
                              "n_px": [100, 300, 200, 50], "mean": [1.0, 2.0, 4.0, 3.0], "std": [0.0, 0.0, 0.0, 0.5],
                              "rim_minus_bulk": [0.1, 0.3, 0.2, 0.0]})
    s = soc_summary(particles).set_index("soc_percent")
    # area-weighted mean (100·1 + 300·2 + 200·4) / 600 = 2.5; pooled s.d. of the particle means about it;
    # per-map means 1.75 (a) and 4 (c): s.d. 1.59; all exact but for round-off
    assert_allclose(s.loc[0.0, "mean"], 2.5, rtol=1e-12)
    assert_allclose(s.loc[0.0, "std"], np.sqrt((100 * 1.5 ** 2 + 300 * 0.5 ** 2 + 200 * 1.5 ** 2) / 600), rtol=1e-12)
    assert_allclose(s.loc[0.0, "std_between_maps"], np.std([1.75, 4.0], ddof=1), rtol=1e-12)
    assert_allclose(s.loc[55.0, "std"], 0.5, rtol=1e-12)  # the same exact sums: round-off only
    assert s.loc[0.0, "n_maps"] == 2 and s.loc[0.0, "n_particles"] == 3


def test_map_without_particles_is_named(tmp_path):
    from socscope.analysis.afm import analyze_maps

    path = tmp_path / "flat.npz"
    np.savez(path, Height=np.zeros((32, 32)), Amplitude=np.ones((32, 32)))
    with pytest.raises(ParameterError, match=r"flat\.npz \(Height\): the image is constant"):
        analyze_maps([path], channel="Amplitude", mask_from="Height", pixel_size_nm=10.0, level_steps=(), workers=1)


def test_unscanned_lines_stay_background(tmp_path):
    from socscope.analysis.afm import analyze_maps

    height, _, _, amplitude = synthetic(np.random.default_rng(3), noise=1.0)
    height[-40:] = np.nan  # the scan stopped 40 lines early
    path = tmp_path / "part.npz"
    np.savez(path, Height=height, Amplitude=amplitude)
    result = analyze_maps([path], channel="Amplitude", mask_from="Height", pixel_size_nm=10.0, workers=1)
    assert len(result.particles) == len(CENTRES)
    assert not (result.maps[0].labels[-40:] > 0).any()


def test_a_rim_wider_than_the_particles_warns_once_with_a_rim_that_fits(tmp_path):
    """Discs of radius 85-100 px at 10 nm/px: a 1200 nm rim leaves none of them a bulk, and the warning says so."""
    import warnings

    from socscope.analysis.afm import analyze_maps
    from socscope.errors import SocscopeWarning

    _, _, truth, amplitude = synthetic()
    path = tmp_path / "NCM.npz"
    np.savez(path, Height=truth * 20.0, Amplitude=amplitude)
    with pytest.warns(SocscopeWarning) as caught:
        result = analyze_maps([path], channel="Amplitude", rim_nm=1200.0, pixel_size_nm=10.0,
                              labels={path.name: truth}, workers=1)
    texts = [str(w.message) for w in caught if issubclass(w.category, SocscopeWarning)]
    assert len(texts) == 1 and "rim_nm = 1200 nm leaves no bulk in 4 of 4 particles" in texts[0]
    table = result.particles
    assert table["rim_minus_bulk"].isna().all()
    # the widest rim with a bulk: the disc's radius less the half pixel between its edge and the outer pixel
    # centres, within one pixel of the pixelated edge (see test_distance_to_boundary_of_a_disc)
    radius = {k: r for k, (*_, r) in enumerate(CENTRES, start=1)}
    assert_allclose(table["max_rim_nm"], [10.0 * radius[k] for k in table["label"]], atol=10.0)
    smallest = int(table["max_rim_nm"].min())  # all four keep a bulk at the smallest one's width
    assert f"rim_nm = {smallest} or less keeps a bulk in 100 % of them" in texts[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SocscopeWarning)  # a rim that fits: no warning
        fits = analyze_maps([path], channel="Amplitude", rim_nm=float(smallest), pixel_size_nm=10.0,
                            labels={path.name: truth}, workers=1)
    assert fits.particles["rim_minus_bulk"].notna().all()
