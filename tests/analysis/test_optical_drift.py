"""Drift of a synthetic operando movie: known sub-pixel stage drift recovered by both methods."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import ndimage

from socscope.analysis.optical import (
    drift_gaussian,
    drift_xcorr,
    fit_gaussian_spot,
    pick_reference_spot,
    shift_frames,
)
from socscope.errors import ParameterError

pytest.importorskip("skimage")

SIZE, PAD = 128, 16
#: sub-pixel offset of every reference spot from the integer grid (y, x) [px]
SPOT_OFFSET = (0.37, -0.21)
#: reference spots in the padded scene (y, x) [px]; isolated, away from the particles
SPOTS = [(30, 30), (40, 95), (95, 25), (130, 135)]
#: textured particles in the padded scene (y, x, radius) [px]
PARTICLES = [(58, 68, 14), (108, 118, 18), (123, 58, 12), (68, 128, 10)]


def _scene(rng) -> np.ndarray:
    """Photon expectation of the padded scene: background 300, particles ~1500 with texture,
    diffraction-limited spots (sigma 1.2 px) of peak 1500 above the background."""
    big = SIZE + 2 * PAD
    yy, xx = np.mgrid[:big, :big].astype(float)
    scene = np.full((big, big), 300.0)
    texture = ndimage.gaussian_filter(rng.normal(size=(big, big)), 2.0)
    texture /= texture.std()
    for cy, cx, r in PARTICLES:
        inside = 1 / (1 + np.exp((np.hypot(yy - cy, xx - cx) - r) / 0.8))
        scene += inside * (1200 + 250 * texture)
    for sy, sx in SPOTS:
        scene += 1500 * np.exp(-((yy - sy - SPOT_OFFSET[0]) ** 2 + (xx - sx - SPOT_OFFSET[1]) ** 2) / (2 * 1.2 ** 2))
    return scene


def _drift(n, rng) -> np.ndarray:
    """A smooth stage drift within ±5 px (largest step between frames < 2 px) plus jitter."""
    t = np.linspace(0, 1, n)
    drift = np.column_stack([4.6 * np.sin(2 * np.pi * 0.9 * t), -4.8 * t + 2.4 * np.sin(3 * np.pi * t) * t])
    drift += 0.05 * rng.normal(size=(n, 2))
    drift[0] = 0.0
    return drift


@pytest.fixture(scope="module")
def movie():
    """16 frames 128x128: the scene moved by the drift (cubic spline on a padded field, then
    cropped, so no edge effect), with Poisson shot noise and Gaussian read noise (5 counts)."""
    rng = np.random.default_rng(11)
    scene = _scene(rng)
    drift = _drift(16, rng)
    clean = np.empty((16, SIZE, SIZE))
    for i, d in enumerate(drift):
        clean[i] = ndimage.shift(scene, d, order=3, mode="nearest")[PAD:PAD + SIZE, PAD:PAD + SIZE]
    noisy = rng.poisson(np.clip(clean, 0, None)) + rng.normal(0, 5, clean.shape)
    spots = [(sy + SPOT_OFFSET[0] - PAD, sx + SPOT_OFFSET[1] - PAD) for sy, sx in SPOTS]
    return {"clean": clean, "noisy": noisy, "drift": drift, "spots": spots}


def _rms(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def test_drift_range_is_as_intended(movie):
    # the test's own premise: drifts reach ±5 px, sub-pixel values, steps the tracker can follow
    assert np.abs(movie["drift"]).max() <= 5.0
    assert np.abs(movie["drift"]).max(axis=0).min() > 4.0
    assert np.abs(np.diff(movie["drift"], axis=0)).max() < 3.0


def test_fit_gaussian_spot_noiseless():
    yy, xx = np.mgrid[:40, :40]
    image = 800 * np.exp(-((yy - 19.3) ** 2 + (xx - 21.74) ** 2) / (2 * 1.3 ** 2)) + 120
    fit = fit_gaussian_spot(image, (19, 22))
    assert set(fit) == {"y", "x", "sigma", "amplitude", "offset"}
    # the model is exact here: the solver stops after a step below its tolerance (xtol = 1e-10
    # relative) and converges quadratically, so 1e-10 bounds what remains (measured 0)
    assert_allclose([fit["y"], fit["x"], fit["sigma"], fit["amplitude"], fit["offset"]],
                    [19.3, 21.74, 1.3, 800, 120], rtol=1e-10)


def test_both_methods_recover_the_drift(movie):
    frames, truth = movie["noisy"], movie["drift"]
    spot = movie["spots"][0]
    gauss = drift_gaussian(frames, (round(spot[0]), round(spot[1])))
    xcorr = drift_xcorr(frames)
    assert gauss.shape == xcorr.shape == (16, 2)
    # requirement of the issue: 0.1 px RMS. Measured on this movie: 0.02 px (Gaussian, limited by the
    # shot noise of one spot) and 0.005 px (cross-correlation, using the whole frame)
    assert _rms(gauss, truth) < 0.1
    assert _rms(xcorr, truth) < 0.1
    # frame 0 is the reference of both methods
    assert_allclose(xcorr[0], 0.0, atol=1e-12)
    assert_allclose(gauss[0], 0.0, atol=1e-12)


def test_gaussian_drift_in_chunks_matches_one_call(movie):
    frames = movie["noisy"]
    spot = movie["spots"][1]
    whole = drift_gaussian(frames, spot)
    first = fit_gaussian_spot(frames[0], spot)
    reference = (first["y"], first["x"])
    part1 = drift_gaussian(frames[:7], spot, reference_yx=reference)
    last = (reference[0] + part1[-1, 0], reference[1] + part1[-1, 1])
    part2 = drift_gaussian(frames[7:], spot, reference_yx=reference, start_yx=last)
    # same fits, same reference: equal to the solver's tolerance (windows start at the same pixels)
    assert_allclose(np.vstack([part1, part2]), whole, atol=1e-6)
    # without reference_yx a chunk is measured from its own first frame
    own = drift_gaussian(frames[7:], spot, start_yx=last)
    assert_allclose(own, whole[7:] - whole[7], atol=1e-6)


def test_xcorr_with_explicit_reference(movie):
    frames, truth = movie["noisy"], movie["drift"]
    later = drift_xcorr(frames[8:], reference=frames[0])
    assert _rms(later, truth[8:]) < 0.1  # same requirement as the whole movie


def test_pick_reference_spot_finds_an_isolated_spot(movie):
    y, x = pick_reference_spot(movie["noisy"][0])
    distances = [np.hypot(y - sy, x - sx) for sy, sx in movie["spots"]]
    # it is one of the four spots, at its true position within the fit's noise (~0.02 px; 0.1 allowed)
    assert min(distances) < 0.1
    # a frame with only particles (textured, large) offers no sub-diffraction spot
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:96, :96]
    particles = 300 + 1200 * (np.hypot(yy - 48, xx - 48) < 25) + rng.normal(0, 5, (96, 96))
    with pytest.raises(ParameterError, match="spot"):
        pick_reference_spot(particles)


def test_shift_frames_aligns_to_the_first_frame(movie):
    clean, truth = movie["clean"], movie["drift"]
    before = clean.copy()
    aligned = shift_frames(clean, truth)
    assert aligned.dtype == np.float64 and aligned.shape == clean.shape
    np.testing.assert_array_equal(clean, before)  # input untouched
    inner = (slice(None), slice(8, -8), slice(8, -8))  # away from the strip uncovered by the drift
    residual = aligned[inner] - clean[0][inner[1:]]
    misaligned = clean[inner] - clean[0][inner[1:]]
    span = np.ptp(clean[0])
    # each frame went through two cubic-spline shifts (making the movie, aligning it). Measured:
    # RMS 0.04 % of the scene's range (0.2 % allowed) against 14 % before alignment; the largest
    # error, 1.9 % (3 % allowed), sits on the peaks of the sigma-1.2 px spots, the least well
    # sampled features
    assert np.sqrt(np.mean(residual ** 2)) < 0.002 * span
    assert np.abs(residual).max() < 0.03 * span
    assert np.sqrt(np.mean(misaligned ** 2)) > 0.1 * span
    # with the measured drift on the noisy movie, what is left is the shot noise:
    # the residual's standard deviation stays within 1.5x that of two independent noisy frames
    noisy = movie["noisy"]
    measured = drift_xcorr(noisy)
    aligned = shift_frames(noisy, measured)
    diff = (aligned[inner] - noisy[0][inner[1:]])[1:]
    shot = np.sqrt(2 * clean[0][inner[1:]].mean())
    assert diff.std() < 1.5 * shot


def test_sign_convention():
    # a spot that moves down-right by (2.25, 1.5) has drift (+2.25, +1.5) by both methods
    yy, xx = np.mgrid[:64, :64].astype(float)

    def frame(y0, x0):
        return 100 + 1000 * np.exp(-((yy - y0) ** 2 + (xx - x0) ** 2) / (2 * 1.5 ** 2))

    frames = np.stack([frame(30.0, 30.0), frame(32.25, 31.5)])
    # noiseless Gaussian model: exact up to the solver's tolerance
    assert_allclose(drift_gaussian(frames, (30, 30))[1], [2.25, 1.5], atol=1e-6)
    # cross-correlation: 1/upsample quantisation (0.01 px) plus the single-spot interpolation bias
    assert_allclose(drift_xcorr(frames)[1], [2.25, 1.5], atol=0.02)
    back = shift_frames(frames, drift_gaussian(frames, (30, 30)))
    # moved back onto frame 0 within the cubic spline's interpolation error on a spot of sigma 1.5 px
    # (measured 0.4 % of the peak of 1000; 1 % allowed)
    assert np.abs(back[1] - frames[0]).max() < 10.0


def test_a_spot_that_jumps_out_of_the_window_is_reported_lost():
    yy, xx = np.mgrid[:64, :64].astype(float)

    def frame(y0, x0):
        return 100 + 1000 * np.exp(-((yy - y0) ** 2 + (xx - x0) ** 2) / (2 * 1.5 ** 2))

    # a jump of 8 px with a 7 px window was read as 7.0 (the fit's bound); 5 px is tracked
    assert_allclose(drift_gaussian(np.stack([frame(30, 30), frame(30, 35)]), (30, 30))[1], [0, 5], atol=1e-6)
    with pytest.raises(ParameterError, match="frame 1: the reference spot left the fitting window"):
        drift_gaussian(np.stack([frame(30, 30), frame(30, 38)]), (30, 30))
    # a wider window follows it
    assert_allclose(drift_gaussian(np.stack([frame(30, 30), frame(30, 38)]), (30, 30), half_width=12)[1], [0, 8],
                    atol=1e-6)


def test_errors_name_position_and_shape(movie):
    frame = movie["noisy"][0]
    with pytest.raises(ParameterError, match=r"\(200, 50\).*\(128, 128\)"):
        fit_gaussian_spot(frame, (200, 50))
    with pytest.raises(ParameterError, match=r"falls off the image of shape \(y, x\) = \(128, 128\)"):
        fit_gaussian_spot(frame, (3, 60))
    with pytest.raises(ParameterError, match=r"outside the image"):
        drift_gaussian(movie["noisy"], (-5, 10))
    with pytest.raises(ParameterError, match="half_width"):
        fit_gaussian_spot(frame, (60, 60), half_width=1)
    with pytest.raises(ParameterError, match=r"\(16, 2\)"):
        shift_frames(movie["noisy"], np.zeros((3, 2)))
    with pytest.raises(ParameterError, match="same shape"):
        drift_xcorr(movie["noisy"], reference=np.zeros((10, 10)))
    with pytest.raises(ParameterError, match="upsample"):
        drift_xcorr(movie["noisy"], upsample=0)
    with pytest.raises(ParameterError, match=r"\(frame, y, x\)"):
        drift_xcorr(frame)
