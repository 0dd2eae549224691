"""Synthetic optical movies: calibration, rendering, blur, drift, noise and per-particle θ(SOC)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import ndtr

import socscope as ss
from socscope.errors import ParameterError
from socscope.observe.asynchrony import fit_transition
from socscope.observe.optical import (
    FWHM_TO_SIGMA,
    core_shell_profile,
    disc_labels,
    intensity_from_theta,
    psf_blur,
    radial_particle,
    random_drift,
    random_particles,
    rasterize_dataset,
    rasterize_particle,
    soc_traces,
    synthetic_movie,
    theta_from_intensity,
)

# --------------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------------


def test_linear_calibration_is_the_formula():
    th = np.array([1.0, 0.75, 0.5, 0.1, 0.0])
    # exact arithmetic of 1 + 0.62 (1 - θ): round-off only
    assert_allclose(intensity_from_theta(th), 1 + 0.62 * (1 - th), rtol=0, atol=1e-15)
    # [004]: ~62 % brighter at full delithiation than at full lithiation
    assert intensity_from_theta(0.0) == pytest.approx(1.62, abs=1e-15)
    # other reference states and contrast: the formula with θ_lith = 0.95, θ_delith = 0.2
    got = intensity_from_theta(th, contrast_full=0.4, theta_lithiated=0.95, theta_delithiated=0.2)
    assert_allclose(got, 1 + 0.4 * (0.95 - th) / 0.75, rtol=0, atol=1e-15)


def test_table_calibration_interpolates_and_inverts():
    table = ([0.0, 0.5, 1.0], [1.7, 1.2, 1.0])
    got = intensity_from_theta([0.0, 0.25, 0.5, 0.75, 1.0], calibration="table", table=table)
    # piecewise linear between the points: midpoints are the means of the neighbours
    assert_allclose(got, [1.7, 1.45, 1.2, 1.1, 1.0], rtol=0, atol=1e-14)
    # the table may be given in any θ order
    rev = ([1.0, 0.0, 0.5], [1.0, 1.7, 1.2])
    assert_allclose(intensity_from_theta(0.3, calibration="table", table=rev), 1.4, atol=1e-14)  # 1.7 - 0.6 * 0.5
    # inverse maps intensities back to θ (round-off)
    assert_allclose(theta_from_intensity(got, calibration="table", table=table), [0, 0.25, 0.5, 0.75, 1], atol=1e-14)
    assert_allclose(theta_from_intensity(intensity_from_theta(0.3)), 0.3, atol=1e-14)


@pytest.mark.parametrize("kw", [{}, {"calibration": "table", "table": ([0, 0.3, 1], [1.5, 1.3, 1.0])}])
def test_intensity_rises_monotonically_as_li_leaves(kw):
    th = np.linspace(1.0, 0.0, 201)  # delithiation
    assert np.all(np.diff(intensity_from_theta(th, **kw)) > 0)


@pytest.mark.parametrize(
    ("theta", "kw", "match"),
    [
        ([0.5, np.nan], {}, r"non-finite.*\[0, 1\]"),
        ([0.5, 1.2], {}, r"1\.2.*outside the allowed range \[0, 1\]"),
        (0.5, {"calibration": "table", "table": ([0, 0.5, 1], [1.5, 1.6, 1.0])}, "not strictly monotone"),
        (0.5, {"calibration": "table"}, "needs table"),
        (0.05, {"calibration": "table", "table": ([0.1, 1], [1.5, 1.0])}, r"covers only \[0\.1, 1\]"),
        (0.5, {"calibration": "cubic"}, "'linear' or 'table'"),
        (0.5, {"contrast_full": -1.5}, r"contrast_full = -1\.5 is outside the allowed range \(-1"),
        (0.5, {"theta_lithiated": 0.3, "theta_delithiated": 0.3}, "must differ"),
    ],
)
def test_bad_calibration_inputs_raise(theta, kw, match):
    with pytest.raises(ParameterError, match=match):
        intensity_from_theta(theta, **kw)


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------


def _field(rng=0, n=4, shape=(64, 64)):
    return random_particles(n, shape, rng=rng, radius_px=(5, 8), min_gap_px=4)


def test_noiseless_sharp_still_movie_is_clean_and_contrast_is_exact():
    centres, radii = _field()
    tr = soc_traces(np.linspace(0, 1, 12), onset_soc=[0.1, 0.3, 0.5, 0.7], width_soc=0.15)
    mov = synthetic_movie(tr.theta, shape=(64, 64), centres_px=centres, radii_px=radii, psf_fwhm_nm=None,
                          background_texture=0.2, reference_spots=1, rng=5)
    assert mov.frames.dtype == np.float64
    assert_array_equal(mov.frames, mov.clean)  # noise, blur, drift off: nothing may change
    inside = mov.labels > 0
    f = mov.frames
    formula = (f[:, inside] - f[0][inside]) / f[0][inside]
    # same arithmetic on identical arrays: round-off at most
    assert_allclose(mov.contrast[:, inside], formula, rtol=0, atol=1e-12)
    assert np.isnan(mov.contrast[:, ~inside]).all()  # NaN outside particles, by definition
    # and it is the calibration's truth: particle k uniform, I(θ_t)/I(θ_0) − 1 (round-off)
    for k in range(1, 5):
        want = intensity_from_theta(tr.theta[:, k - 1]) / intensity_from_theta(tr.theta[0, k - 1]) - 1
        assert_allclose(mov.contrast[:, mov.labels == k], np.repeat(want[:, None], (mov.labels == k).sum(), 1),
                        rtol=0, atol=1e-12)
    # a wrong calibration would be seen: 50 % contrast instead of 62 % differs by > 0.05 at the end
    wrong = intensity_from_theta(tr.theta[-1, 0], contrast_full=0.5) - 1
    assert abs(mov.contrast[-1, mov.labels == 1].mean() - wrong) > 0.05


def test_labels_time_and_table():
    centres, radii = _field()
    mov = synthetic_movie(np.ones((3, 4)), shape=(64, 64), centres_px=centres, radii_px=radii, time_s=[0, 10, 30],
                          soc=[0, 0.1, 0.3], rng=0)
    assert_array_equal(mov.labels, disc_labels((64, 64), centres, radii))
    assert sorted(np.unique(mov.labels)) == [0, 1, 2, 3, 4]
    yy, xx = np.mgrid[0:64, 0:64]
    for k, ((cy, cx), r) in enumerate(zip(centres, radii), start=1):
        assert_array_equal(mov.labels == k, np.hypot(yy - cy, xx - cx) < r)  # pixel centres inside the disc
    assert mov.table().columns.tolist() == ["frame", "time_s", "soc", "drift_y_px", "drift_x_px"]


def test_blur_conserves_intensity_and_has_the_psf_width():
    img = np.full((80, 80), 0.3)
    img[30:50, 25:45] = 1.4
    out = psf_blur(img, psf_fwhm_nm=265.0, pixel_size_nm=50.0)
    # reflecting boundaries: the sum is conserved to round-off (1e-6 is a loose bound)
    assert out.sum() == pytest.approx(img.sum(), rel=1e-6)
    # and it did blur: the pixels either side of the block's left edge (x = 24.5), 0.5 px from it,
    # lie Φ(∓0.5/σ) of the way up the 0.3 → 1.4 step, σ = 2.25 px: 0.753 and 0.947. Measured
    # 8e-4 off: the sampled, truncated kernel against the continuous Gaussian; 2e-3 bounds it
    # (a sharp image keeps 0.3 and 1.4 there, 0.45 away)
    sigma_px = 265.0 * FWHM_TO_SIGMA / 50.0
    assert_allclose(out[40, 24:26], 0.3 + 1.1 * ndtr(np.array([-0.5, 0.5]) / sigma_px), rtol=0, atol=2e-3)
    # their mean is half-way, 0.85, by the kernel's symmetry: measured 6.3e-6 off (the block's
    # top and bottom edges, 4.7σ away, and the truncation); 1e-4 bounds it
    assert out[40, 24:26].mean() == pytest.approx(0.5 * (0.3 + 1.4), abs=1e-4)
    # impulse response: variance = sigma² = (FWHM/2.3548/pixel)²; the sampled, renormalised
    # Gaussian kernel of scipy has this variance to < 0.1 % for sigma > 1 px
    delta = np.zeros((81, 81))
    delta[40, 40] = 1.0
    k = psf_blur(delta, psf_fwhm_nm=265.0, pixel_size_nm=50.0)
    x = np.arange(81) - 40
    var_x = (k.sum(axis=0) * x**2).sum()
    assert var_x == pytest.approx((265.0 * FWHM_TO_SIGMA / 50.0) ** 2, rel=1e-2)


def test_movie_blur_conserves_total_intensity():
    centres, radii = _field()
    th = np.linspace(1, 0, 5)[:, None] * np.ones((1, 4))
    kw = {"shape": (64, 64), "centres_px": centres, "radii_px": radii, "reference_spots": 0, "background_texture": 0.3}
    sharp = synthetic_movie(th, psf_fwhm_nm=None, rng=2, **kw).clean
    blurred = synthetic_movie(th, psf_fwhm_nm=265.0, pixel_size_nm=50.0, rng=2, **kw).clean
    # the field is padded by matrix (particles >= 2 px from the border): sums agree to round-off
    assert_allclose(blurred.sum(axis=(1, 2)), sharp.sum(axis=(1, 2)), rtol=1e-6)
    assert np.abs(blurred - sharp).max() > 0.1  # the images themselves differ


def _spot_centroid(frame, guess, sigma, level):
    yy, xx = np.mgrid[0:frame.shape[0], 0:frame.shape[1]]
    w = (frame - level) * (np.hypot(yy - guess[0], xx - guess[1]) < 4 * sigma)
    return np.array([(w * yy).sum() / w.sum(), (w * xx).sum() / w.sum()])


def test_drift_moves_reference_spot_by_the_given_subpixel_amount():
    drift = np.array([[0, 0], [0.37, -0.21], [-1.62, 2.45], [4.1, -3.3], [0.05, 0.02], [-4.9, 4.95]])
    mov = synthetic_movie(np.ones((6, 1)), shape=(64, 64), centres_px=[[12, 12]], radii_px=[5],
                          reference_spots=[[40.3, 38.6]], drift=drift, rng=0)
    c0 = _spot_centroid(mov.frames[0], (40.3, 38.6), mov.psf_sigma_px, 0.3)
    assert_allclose(c0, [40.3, 38.6], atol=0.02)  # the spot is where it was put (window truncation ~0.002 px)
    for i in range(1, 6):
        ci = _spot_centroid(mov.frames[i], (40.3, 38.6) + drift[i], mov.psf_sigma_px, 0.3)
        # cubic-spline shift of a 1.1 px-sigma spot: measured error 0.0013 px; 0.05 px required
        assert_allclose(ci - c0, drift[i], atol=0.05)
    # the sign convention would be caught: minus the drift is off by > 0.05 px in every drifted frame
    moved = np.array([_spot_centroid(mov.frames[i], (40.3, 38.6) + drift[i], mov.psf_sigma_px, 0.3)
                      for i in (1, 2, 3, 5)])
    assert np.all(np.abs(moved - c0 + drift[[1, 2, 3, 5]]).max(axis=1) > 0.05)
    assert_array_equal(mov.frames[0], mov.clean[0])  # frame 0 is not moved


def test_random_drift_starts_at_zero_and_is_bounded():
    d = random_drift(200, rng=1, step_px=0.3, max_px=2.0)
    assert d.shape == (200, 2)
    assert_array_equal(d[0], [0, 0])
    assert np.abs(d).max() <= 2.0
    with pytest.raises(ParameterError, match=r"drift\[0\]"):
        synthetic_movie(np.ones((2, 1)), shape=(32, 32), centres_px=[[16, 16]], radii_px=[4], drift=[[1, 0], [2, 0]])


def test_shot_and_read_noise_statistics():
    lab = np.zeros((60, 60), np.int32)
    lab[5:55, 5:55] = 1
    photons = 50.0
    th = np.full((8, 1), 0.5)  # I = 1.31
    mov = synthetic_movie(th, labels=lab, psf_fwhm_nm=None, reference_spots=0, photons=photons, rng=3)
    core = mov.frames[:, 10:50, 10:50]
    i_true = 1 + 0.62 * 0.5
    # 12 800 samples: the mean is within 0.2 % (4.5 standard errors), the variance within 5 % (4 s.e.)
    assert core.mean() == pytest.approx(i_true, rel=2e-3)
    assert core.var() == pytest.approx(i_true / photons, rel=0.05)
    # read noise adds its variance
    mov2 = synthetic_movie(th, labels=lab, psf_fwhm_nm=None, reference_spots=0, photons=photons, read_noise=0.1,
                           rng=3)
    assert mov2.frames[:, 10:50, 10:50].var() == pytest.approx(i_true / photons + 0.01, rel=0.05)
    # uint16 counts of photo-electrons: Poisson, variance = mean (gain 1)
    mov3 = synthetic_movie(th, labels=lab, psf_fwhm_nm=None, reference_spots=0, photons=photons, dtype="uint16",
                           rng=3)
    counts = mov3.frames[:, 10:50, 10:50].astype(float)
    assert mov3.frames.dtype == np.uint16 and mov3.counts_per_unit == photons
    assert counts.mean() == pytest.approx(i_true * photons, rel=2e-3)
    assert counts.var() / counts.mean() == pytest.approx(1.0, rel=0.05)
    # and the statistics would catch a missing shot-noise term: var ≠ 0
    clean = synthetic_movie(th, labels=lab, psf_fwhm_nm=None, reference_spots=0, rng=3)
    assert clean.frames[:, 10:50, 10:50].var() < 1e-20


def test_same_seed_same_movie():
    centres, radii = _field()
    kw = {"shape": (64, 64), "centres_px": centres, "radii_px": radii, "background_texture": 0.2, "reference_spots": 2,
              "photons": 100, "read_noise": 0.01, "drift": random_drift(5, rng=9)}
    th = np.linspace(1, 0.2, 5)[:, None] * np.ones((1, 4))
    a = synthetic_movie(th, rng=np.random.default_rng(11), **kw)
    b = synthetic_movie(th, rng=np.random.default_rng(11), **kw)
    c = synthetic_movie(th, rng=np.random.default_rng(12), **kw)
    assert_array_equal(a.frames, b.frames)
    assert_array_equal(a.reference_spots, b.reference_spots)
    assert not np.array_equal(a.frames, c.frames)


def test_per_pixel_theta_core_shell_particle():
    prof = core_shell_profile(0.95, 0.4, 0.6, sharpness=0.02)
    img = radial_particle((48, 48), (24.0, 24.0), 15.0, prof)
    assert np.isnan(img[0, 0]) and np.isnan(img[24, 40])
    assert img[24, 24] == pytest.approx(0.95, abs=1e-6)  # the core (expit(-30) ~ 1e-13)
    assert img[24, 38] == pytest.approx(0.4, abs=1e-3)  # rho = 0.93, 16 sharpness widths past the front
    th = np.stack([np.where(np.isfinite(img), 0.95, np.nan), img])
    mov = synthetic_movie(th, psf_fwhm_nm=None, reference_spots=0, rng=0)
    assert mov.n_particles == 1
    assert_array_equal(mov.labels > 0, np.isfinite(img))
    # periphery brighter than the core in frame 1 ([004] Fig. 2B): contrast per the linear calibration
    assert mov.contrast[1, 24, 24] == pytest.approx(0.0, abs=1e-6)
    assert mov.contrast[1, 24, 38] == pytest.approx((1 + 0.62 * 0.6) / (1 + 0.62 * 0.05) - 1, abs=1e-3)


def test_random_particles_keep_gaps_and_touching_pairs_touch():
    c, r = random_particles(8, (128, 128), rng=4, radius_px=(5, 9), min_gap_px=3)
    for i in range(8):
        assert r[i] + 2 <= c[i, 0] <= 127 - r[i] - 2 and r[i] + 2 <= c[i, 1] <= 127 - r[i] - 2
        for j in range(i):
            assert np.hypot(*(c[i] - c[j])) >= r[i] + r[j] + 3
    from scipy import ndimage

    c2, r2 = random_particles(6, (128, 128), rng=4, radius_px=(5, 9), touching=True)
    lab = disc_labels((128, 128), c2, r2)
    assert lab.max() == 6 and len(np.unique(lab)) == 7  # every particle has pixels
    _, n_blobs = ndimage.label(lab > 0)
    assert n_blobs == 3  # three touching pairs, each one connected blob


def test_rasterize_cartesian_grid_reproduces_the_cells():
    geo = ss.geometry.Ellipse(width=2e-6, height=1.2e-6, angle=0.4)
    g = geo.mesh(1e-7)
    th = 0.2 + 0.7 * np.hypot(*g.cell_xy.T) / 1e-6  # any field
    mid_x = 0.5 * (g.cell_xy[:, 0].min() + g.cell_xy[:, 0].max())
    mid_y = 0.5 * (g.cell_xy[:, 1].min() + g.cell_xy[:, 1].max())
    centre = ((mid_y - g.y[0]) / 1e-7, (mid_x - g.x[0]) / 1e-7)
    img = rasterize_particle(th, g.cell_xy, 100.0, shape=g.image_index.shape, centre_px=centre)
    want = np.where(g.image_index >= 0, th[np.maximum(g.image_index, 0)], np.nan)
    # pixels coincide with the cells: the image is the cell field exactly
    assert_array_equal(np.isnan(img), np.isnan(want))
    assert_array_equal(img[~np.isnan(img)], want[~np.isnan(want)])


def test_rasterize_simulated_disc():
    mat = ss.materials.get("ni88-xu2022")
    ds = ss.simulate_particle(mat, ss.geometry.Disc(2e-6), ["Charge at C/3 for 10 minutes"], resolution=1e-7,
                              output_interval=300)
    img = rasterize_dataset(ds, 50.0, shape=(50, 50))
    assert img.shape == (ds.sizes["time"], 50, 50)
    inside = np.isfinite(img[0])
    # R = 1 µm at 50 nm pixels: pi * 20² = 1257 px; the 100 nm staircase outline moves it by < 5 %
    assert inside.sum() == pytest.approx(np.pi * 20**2, rel=0.05)
    # the image's mean θ matches the simulation's volume-weighted mean (pixel sampling of
    # a smooth field with a 100 nm front: < 1 % of the change from 0.97)
    assert_allclose(np.nanmean(img, axis=(1, 2)), ds.theta_mean.values, atol=0.01 * 0.97)
    # core-shell on charge ([004] Fig. 2): the rim is Li-poorer than the centre at the end
    assert img[-1, 25, 1 + np.flatnonzero(inside[25])[0]] < img[-1, 25, 25] - 0.05
    # the rendered movie of it has its differential contrast positive, largest at the rim
    th = np.where(np.isfinite(img), img, np.nan)
    mov = synthetic_movie(th, pixel_size_nm=50.0, psf_fwhm_nm=None, reference_spots=0, rng=0)
    assert mov.n_particles == 1 and np.nanmin(mov.contrast[-1]) > 0


# --------------------------------------------------------------------------------------------
# per-particle θ(SOC)
# --------------------------------------------------------------------------------------------


def test_soc_traces_ends_and_truth_match_the_fit_definitions():
    soc = np.linspace(0, 1, 201)
    tr = soc_traces(soc, onset_soc=[0.1, 0.4, 0.7], width_soc=[0.05, 0.1, 0.2], theta_start=0.97, theta_end=0.05)
    assert_allclose(tr.theta[0], 0.97, atol=1e-14)  # window normalisation: exact ends
    assert_allclose(tr.theta[-1], 0.05, atol=1e-14)
    # for transitions well inside the window the truth is the logistic's own 10 % point and width,
    # moved a little by the normalisation to exact ends, which stretches a logistic still short of
    # its end (the 0.2-wide one by 1.2 % at SOC 1). Measured 6.2e-4 (onsets) and 4.7e-3 (widths,
    # the 0.2-wide one); 0.01 SOC is twice the largest
    assert_allclose(tr.onset_soc, [0.1, 0.4, 0.7], atol=0.01)
    assert_allclose(tr.width_soc, [0.05, 0.1, 0.2], atol=0.01)
    # and it is exactly what fit_transition reports on the noiseless trace (least-squares tolerance)
    for k in range(3):
        fit = fit_transition(soc, tr.theta[:, k])
        assert_allclose([fit.onset_soc, fit.midpoint_soc, fit.width_soc],
                        [tr.onset_soc[k], tr.midpoint_soc[k], tr.width_soc[k]], atol=1e-6)


def test_soc_traces_discharge_and_unreacted():
    soc = np.linspace(1.0, 0.1, 91)  # discharge: SOC falls
    tr = soc_traces(soc, onset_soc=[0.8, 0.5], width_soc=0.1, theta_start=0.0, theta_end=0.9, reacted=[True, False])
    # on discharge the onset is on the high-SOC side of the midpoint
    assert tr.onset_soc[0] > tr.midpoint_soc[0]
    assert_allclose(tr.theta[:, 1], 0.0)  # never reacts
    assert np.isnan(tr.onset_soc[1])
    assert np.all(np.diff(tr.theta[:, 0]) >= 0)  # lithiation: θ rises monotonically


def test_soc_traces_conserving_charge_follow_the_charge():
    soc = np.linspace(0, 1, 301)
    tr = soc_traces(soc, onset_soc=[0.1, 0.3, 0.5, 0.7], width_soc=0.08, conserve_charge=True)
    # mean occupancy = 1 - SOC at every sample (interpolation on a 20 001-point map: < 1e-5)
    assert_allclose(tr.theta.mean(axis=1), 1 - soc, atol=1e-5)
    # particles reacting one after another each take a quarter of the charge
    assert_allclose(np.diff(tr.midpoint_soc), 0.25, atol=0.02)


def test_soc_traces_presets_and_errors():
    a = soc_traces(np.linspace(0, 1, 50), kind="asynchronous", n_particles=20, rng=0)
    s = soc_traces(np.linspace(0, 1, 50), kind="synchronous", n_particles=20, rng=0)
    assert np.ptp(a.onset_soc) > 0.3 and np.median(a.width_soc) < 0.12
    assert np.ptp(s.midpoint_soc) < 0.1 and np.median(s.width_soc) > 0.5
    with pytest.raises(ParameterError, match="monotone"):
        soc_traces([0, 0.5, 0.3, 1.0], onset_soc=0.2, width_soc=0.1)
    with pytest.raises(ParameterError, match="outside the half-cycle"):
        soc_traces(np.linspace(0, 1, 10), onset_soc=3.0, width_soc=0.001)


def test_rasterize_dataset_at_its_own_resolution_is_the_result_itself():
    # an ellipse of 100 nm squares drawn on 100 nm pixels lost 10 % of its cells (28 lost,
    # 11 drawn twice): pixel centres fell on cell edges and rint rounded ties both ways
    ds = ss.simulate_particle("ni88-xu2022", ss.geometry.Ellipse(2e-6, 1e-6), ["Charge at C/3 for 10 minutes"],
                              resolution=100e-9, output_interval=300)
    cells = ds.theta.values
    for px, per_cell in ((100.0, 1), (50.0, 4), (25.0, 16)):
        img = rasterize_dataset(ds, px)
        # every cell drawn, once per pixel that fits in it; the same values, so the same mean
        assert np.isfinite(img[-1]).sum() == per_cell * np.isfinite(cells[-1]).sum()
        assert_allclose(np.nanmean(img, axis=(1, 2)), np.nanmean(cells, axis=(1, 2)), rtol=1e-14)  # round-off
    img = rasterize_dataset(ds, 100.0)
    rows = np.flatnonzero(np.isfinite(img[0]).any(axis=1))
    cols = np.flatnonzero(np.isfinite(img[0]).any(axis=0))
    crop = img[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    r0 = np.flatnonzero(np.isfinite(cells[0]).any(axis=1))
    c0 = np.flatnonzero(np.isfinite(cells[0]).any(axis=0))
    assert_array_equal(crop, cells[:, r0[0]:r0[-1] + 1, c0[0]:c0[-1] + 1])  # pixel for cell
    with pytest.raises(ParameterError, match=r"time = \[999\]: the result has 3 samples"):
        rasterize_dataset(ds, 100.0, time=[999])  # was an IndexError
    with pytest.raises(ParameterError, match="sample indices"):
        rasterize_dataset(ds, 100.0, time=[0.5])  # was read as sample 0
    with pytest.raises(ParameterError, match="above 2e.08"):
        rasterize_dataset(ds, 0.001)  # asked for 32 TiB


def test_text_and_none_where_numbers_or_results_belong():
    from socscope.observe import render_top_layer

    with pytest.raises(ParameterError, match="theta must be numbers"):
        ss.observe.intensity_from_theta("abc")  # a raw float() ValueError
    with pytest.raises(ParameterError, match="intensity must be numbers"):
        ss.observe.theta_from_intensity(["a", 1.0])
    with pytest.raises(ParameterError, match="render_top_layer: ds must be an xarray.Dataset"):
        render_top_layer(None, pixel_size_nm=100)  # TypeError
