"""Stage drift of operando microscopy movies: measure it and take it out.

Two ways to measure the drift, as in Merryweather et al. (Sharma et al., Nano Lett. 2022) and Lun et al. (Supplementary Information):

* :func:`drift_gaussian` fits an isotropic 2D Gaussian to a fixed bright reference spot
  (a sub-diffraction feature of the electrode or a fiducial bead) in every frame
  (:func:`fit_gaussian_spot`); :func:`pick_reference_spot` chooses such a spot
  automatically;
* :func:`drift_xcorr` registers every frame to a reference frame by phase cross-correlation
  (:func:`skimage.registration.phase_cross_correlation`).

:func:`shift_frames` applies the inverse shifts with sub-pixel accuracy.

Sign convention
---------------
The drift of frame ``i`` is ``(dy, dx)`` = (position of a feature in frame ``i``) − (its
position in the reference frame), in pixels, ``y`` down the rows and ``x`` along the
columns. A feature that moved one pixel down and half a pixel left has drift
``(1.0, -0.5)``; :func:`shift_frames` moves it back by ``(-1.0, +0.5)``.

Needs the optional extra ``socscope[image]`` (scikit-image).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage, optimize

from ..._optional import require
from ...errors import ParameterError

__all__ = ["NoReferenceSpotError", "drift_gaussian", "drift_xcorr", "fit_gaussian_spot", "pick_reference_spot",
           "shift_frames"]


class NoReferenceSpotError(ParameterError):
    """No bright isolated spot to follow the drift by was found automatically."""


def _as_image(image, name: str = "image") -> np.ndarray:
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise ParameterError(f"{name} must be a 2D array (y, x); got shape {arr.shape}")
    return arr


def _as_frames(frames, name: str = "frames") -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim != 3 or arr.shape[0] < 1:
        raise ParameterError(f"{name} must be a stack of shape (frame, y, x) with at least one frame; "
                             f"got shape {arr.shape}")
    return arr


def _check_position(value, name: str) -> tuple[float, float]:
    try:
        y, x = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r} must be a (y, x) pair of pixel positions") from None
    if not (math.isfinite(y) and math.isfinite(x)):
        raise ParameterError(f"{name}={value!r} must be finite")
    return y, x


def _window(shape, center_yx, half_width, what="spot"):
    """Integer bounds of the (2 half_width + 1)² window around ``center_yx``; checked."""
    if isinstance(half_width, bool) or int(half_width) != half_width or half_width < 2:
        raise ParameterError(f"half_width={half_width!r} must be a whole number of pixels >= 2")
    half_width = int(half_width)
    y, x = center_yx
    ny, nx = shape
    if not (0 <= y <= ny - 1 and 0 <= x <= nx - 1):
        raise ParameterError(
            f"the {what} position (y, x) = ({y:g}, {x:g}) is outside the image of shape (y, x) = {tuple(shape)}; "
            f"give a position with 0 <= y <= {ny - 1} and 0 <= x <= {nx - 1} (rows, columns in pixels)"
        )
    iy, ix = round(y), round(x)
    if iy - half_width < 0 or ix - half_width < 0 or iy + half_width > ny - 1 or ix + half_width > nx - 1:
        raise ParameterError(
            f"the fitting window of half_width={half_width} around the {what} position (y, x) = ({y:g}, {x:g}) "
            f"falls off the image of shape (y, x) = {tuple(shape)}; choose a spot at least {half_width} px "
            "from the edges or a smaller half_width"
        )
    return iy, ix, half_width


def _gauss_residual_and_jac(patch: np.ndarray, yy: np.ndarray, xx: np.ndarray):
    data = patch.ravel()
    yy = yy.ravel()
    xx = xx.ravel()

    def model_parts(p):
        y0, x0, s, a, c = p
        dy, dx = yy - y0, xx - x0
        r2 = dy * dy + dx * dx
        g = np.exp(-r2 / (2.0 * s * s))
        return dy, dx, r2, g, a, c, s

    def residual(p):
        _, _, _, g, a, c, _ = model_parts(p)
        return a * g + c - data

    def jac(p):
        dy, dx, r2, g, a, _, s = model_parts(p)
        ag = a * g
        return np.column_stack([ag * dy / (s * s), ag * dx / (s * s), ag * r2 / (s ** 3), g, np.ones_like(g)])

    return residual, jac


def _fit_patch(image: np.ndarray, iy: int, ix: int, hw: int, guess_yx=None):
    """Least-squares Gaussian + offset fit in the window centred on pixel (iy, ix)."""
    patch = image[iy - hw: iy + hw + 1, ix - hw: ix + hw + 1]
    if not np.all(np.isfinite(patch)):
        raise ParameterError(f"the fitting window around (y, x) = ({iy}, {ix}) holds NaN or infinite values")
    yy, xx = np.mgrid[iy - hw: iy + hw + 1, ix - hw: ix + hw + 1].astype(np.float64)
    border = np.concatenate([patch[0], patch[-1], patch[1:-1, 0], patch[1:-1, -1]])
    offset0 = float(np.median(border))
    peak = np.unravel_index(np.argmax(patch), patch.shape)
    amp0 = max(float(patch[peak]) - offset0, 1e-12 * max(1.0, abs(offset0)))
    if guess_yx is None:
        weights = np.clip(patch - offset0, 0, None)
        total = weights.sum()
        if total > 0:
            guess_yx = (float((weights * yy).sum() / total), float((weights * xx).sum() / total))
        else:
            guess_yx = (float(iy), float(ix))
    y0, x0 = (min(max(g, lo + 0.5), hi - 0.5) for g, lo, hi in
              zip(guess_yx, (iy - hw, ix - hw), (iy + hw, ix + hw)))
    # sigma guess from the area above half the peak (area = 2π σ² ln 2 ... for a Gaussian: π r½²)
    above = np.count_nonzero(patch - offset0 > 0.5 * amp0)
    sigma0 = min(max(math.sqrt(above / math.pi) / math.sqrt(2 * math.log(2)), 0.6), hw / 2)
    spread = float(np.ptp(patch)) or 1.0
    residual, jac = _gauss_residual_and_jac(patch, yy, xx)
    lower = [iy - hw, ix - hw, 0.3, 0.0, offset0 - 10 * spread]
    upper = [iy + hw, ix + hw, float(hw), 10 * spread + amp0, offset0 + 10 * spread]
    p0 = [y0, x0, sigma0, amp0, offset0]
    p0 = [min(max(v, lo), hi) for v, lo, hi in zip(p0, lower, upper)]
    result = optimize.least_squares(residual, p0, jac=jac, bounds=(lower, upper), x_scale="jac",
                                    xtol=1e-10, ftol=1e-10)
    return result, patch


def fit_gaussian_spot(image, center_yx, *, half_width: int = 7) -> dict:
    """Fit an isotropic 2D Gaussian plus a constant to a bright spot.

    The model ``amplitude · exp(-((y - y0)² + (x - x0)²) / (2 sigma²)) + offset`` is fitted
    by least squares (:func:`scipy.optimize.least_squares`, analytic Jacobian) to the
    ``(2 half_width + 1)²`` window centred on the pixel nearest ``center_yx``.

    Parameters
    ----------
    image : array_like, shape (y, x)
        One frame (intensity, any unit).
    center_yx : (float, float)
        Approximate spot position (row, column) [pixels].
    half_width : int, default 7
        Half the window size [pixels]; the window must lie inside the image.

    Returns
    -------
    dict
        ``y``, ``x``: sub-pixel spot centre [pixels, image coordinates]; ``sigma``: Gaussian
        width [pixels]; ``amplitude``, ``offset``: peak height above the background and the
        background [intensity units].

    Raises
    ------
    ParameterError
        If the position is outside the image or the window falls off it (the message names
        the position and the image shape), or the window holds non-finite values.

    Examples
    --------
    >>> yy, xx = np.mgrid[:32, :32]
    >>> img = 100 * np.exp(-((yy - 15.3) ** 2 + (xx - 16.8) ** 2) / (2 * 1.2 ** 2)) + 10
    >>> fit = fit_gaussian_spot(img, (15, 17))
    >>> round(fit["y"], 3), round(fit["x"], 3), round(fit["sigma"], 3)
    (15.3, 16.8, 1.2)
    """
    image = _as_image(image)
    center = _check_position(center_yx, "center_yx")
    iy, ix, hw = _window(image.shape, center, half_width)
    result, _ = _fit_patch(image, iy, ix, hw)
    y0, x0, s, a, c = (float(v) for v in result.x)
    return {"y": y0, "x": x0, "sigma": s, "amplitude": a, "offset": c}


def pick_reference_spot(image, *, max_sigma_px: float = 3.0, half_width: int = 7) -> tuple[float, float]:
    """Pick the brightest isolated sub-diffraction spot of a frame automatically.

    Candidates are local maxima of the scale-normalised Laplacian-of-Gaussian response
    (scale 1.2 px, a diffraction-limited spot at typical sampling) of the frame after
    subtracting a smooth background (Gaussian of ``4 · max_sigma_px``). A candidate is
    kept when

    * its window of ``half_width`` fits inside the image;
    * no other candidate brighter than a quarter of its response lies within
      ``max(4 sigma, 3 max_sigma_px)`` (isolation: texture inside particles fails this);
    * the Gaussian fit converges with ``sigma <= max_sigma_px`` and explains the window
      (RMS residual below 20 % of the fitted amplitude).

    The kept candidate with the largest fitted amplitude wins.

    Parameters
    ----------
    image : array_like, shape (y, x)
        A frame, usually the first.
    max_sigma_px : float, default 3.0
        Largest accepted Gaussian width [pixels].
    half_width : int, default 7
        Window half width used for the fits [pixels] (as in :func:`drift_gaussian`).

    Returns
    -------
    (float, float)
        The fitted spot centre (y, x) [pixels].

    Raises
    ------
    NoReferenceSpotError
        If no spot satisfies the criteria (give ``center_yx`` by hand, or use
        :func:`drift_xcorr`).
    """
    feature = require("skimage.feature", "drift measurement")
    image = _as_image(image)
    if not (math.isfinite(max_sigma_px) and max_sigma_px > 0):
        raise ParameterError(f"max_sigma_px={max_sigma_px!r} must be a positive number of pixels")
    if not np.all(np.isfinite(image)):
        raise ParameterError("the image holds NaN or infinite values; cannot pick a reference spot")
    background = ndimage.gaussian_filter(image, 4.0 * max_sigma_px, mode="nearest")
    flat = image - background
    response = -ndimage.gaussian_laplace(flat, 1.2, mode="nearest") * 1.2 ** 2
    noise = 1.4826 * np.median(np.abs(response - np.median(response)))
    threshold = np.median(response) + 5.0 * max(noise, 1e-12 * (np.abs(response).max() or 1.0))
    peaks = feature.peak_local_max(response, min_distance=2, threshold_abs=threshold, exclude_border=False)
    if len(peaks) == 0:
        raise NoReferenceSpotError(
            f"no bright spot found in the image (shape {image.shape}, range [{image.min():g}, {image.max():g}]); "
            "give the reference spot position by hand or measure the drift with drift_xcorr"
        )
    strength = response[peaks[:, 0], peaks[:, 1]]
    order = np.argsort(strength)[::-1]
    peaks, strength = peaks[order], strength[order]
    best, best_amplitude = None, -math.inf
    radius = 3.0 * max_sigma_px

    def isolated(k, within):
        d = np.hypot(peaks[:, 0] - peaks[k, 0], peaks[:, 1] - peaks[k, 1])
        return not np.any((d > 0) & (d <= within) & (strength >= 0.25 * strength[k]))

    fitted = 0
    for k, (py, px) in enumerate(peaks):
        if fitted >= 20:  # the brightest 20 isolated candidates are enough to find the best
            break
        try:
            iy, ix, hw = _window(image.shape, (float(py), float(px)), half_width)
        except ParameterError:
            continue
        if not isolated(k, radius):  # cheap test first: texture inside particles fails it
            continue
        fitted += 1
        result, patch = _fit_patch(image, iy, ix, hw)
        y0, x0, s, a, _ = result.x
        if not result.success or s > max_sigma_px or a <= 0:
            continue
        rms = math.sqrt(2.0 * result.cost / patch.size)
        if rms > 0.2 * a or not isolated(k, max(4.0 * s, radius)):
            continue
        if a > best_amplitude:
            best, best_amplitude = (float(y0), float(x0)), float(a)
    if best is None:
        raise NoReferenceSpotError(
            f"no isolated spot with sigma <= max_sigma_px={max_sigma_px:g} px found among {len(peaks)} candidates; "
            "give the reference spot position by hand, raise max_sigma_px, or use drift_xcorr"
        )
    return best


def drift_gaussian(frames, center_yx, *, half_width: int = 7, reference_yx=None, start_yx=None) -> np.ndarray:
    """Drift of every frame from Gaussian fits to one reference spot.

    The spot is fitted in every frame (:func:`fit_gaussian_spot`); the window of each fit is
    centred on the position fitted in the previous frame, so the spot is tracked as the
    stage drifts (by up to about ``half_width / 2`` px between consecutive frames).

    Parameters
    ----------
    frames : array_like, shape (n, y, x)
        The frames (e.g. one chunk of a :class:`~socscope.io.movies.Movie`).
    center_yx : (float, float)
        The reference spot's approximate position in the movie's first frame [pixels].
    half_width : int, default 7
        Fitting window half width [pixels].
    reference_yx : (float, float), optional
        The position the drift is measured from (a fitted position, e.g. ``(fit["y"],
        fit["x"])`` of the movie's first frame). Default: the spot's fitted position in
        ``frames[0]``. Chunked callers pass the first chunk's value to every chunk.
    start_yx : (float, float), optional
        Where to start tracking in ``frames[0]`` (e.g. the spot's position in the last
        frame of the previous chunk). Default: ``center_yx``.

    Returns
    -------
    numpy.ndarray, shape (n, 2)
        ``(dy, dx)`` of each frame [pixels]: spot position minus the reference position.

    Raises
    ------
    ParameterError
        If a position is outside the image, or the spot runs off the image while tracked
        (the message names the frame).
    """
    frames = _as_frames(frames)
    center = _check_position(center_yx, "center_yx")
    position = center if start_yx is None else _check_position(start_yx, "start_yx")
    reference = None if reference_yx is None else _check_position(reference_yx, "reference_yx")
    shape = frames.shape[1:]
    _window(shape, center, half_width)  # the user's position must be inside the first frame
    out = np.empty((frames.shape[0], 2))
    for i in range(frames.shape[0]):
        image = np.asarray(frames[i], dtype=np.float64)
        try:
            iy, ix, hw = _window(shape, position, half_width)
        except ParameterError as exc:
            raise ParameterError(f"frame {i}: the reference spot was lost while tracking it; {exc}") from None
        result, _ = _fit_patch(image, iy, ix, hw, guess_yx=position)
        # a centre on the window's edge is the bound of the fit, not the spot: it jumped
        # further than the window reaches (an 8 px jump read as 7.0 with half_width 7)
        if max(abs(result.x[0] - iy), abs(result.x[1] - ix)) >= hw - 1e-3:
            raise ParameterError(
                f"frame {i}: the reference spot left the fitting window (it moved about {hw} px or more from "
                f"({position[0]:.1f}, {position[1]:.1f}) since the frame before); pass a larger half_width "
                f"(now {half_width}) or use cross-correlation (drift='xcorr')")
        position = (float(result.x[0]), float(result.x[1]))
        if reference is None:
            reference = position
        out[i] = (position[0] - reference[0], position[1] - reference[1])
    return out


def drift_xcorr(frames, *, reference=None, upsample: int = 100, normalization: str | None = None) -> np.ndarray:
    """Drift of every frame by cross-correlation with a reference frame.

    Uses :func:`skimage.registration.phase_cross_correlation` with sub-pixel refinement by
    matrix-multiply DFT upsampling (precision ``1 / upsample`` px). The reference's
    transform is computed once; each frame's mean is subtracted first. No apodisation
    window is applied: a window fixed to the frame pulls the estimate towards zero shift
    (0.1 px RMS instead of 0.005 px on the drift test movie).

    Parameters
    ----------
    frames : array_like, shape (n, y, x)
        The frames.
    reference : array_like, shape (y, x), optional
        The frame the drift is measured from. Default: ``frames[0]``. Chunked callers pass
        the movie's first (binned) frame to every chunk.
    upsample : int, default 100
        Upsampling factor of the sub-pixel refinement (>= 1).
    normalization : {None, "phase"}, default None
        Passed to :func:`~skimage.registration.phase_cross_correlation`. None (plain
        cross-correlation) weights spatial frequencies by their power, so the particles
        dominate and shot noise hardly matters; ``"phase"`` (phase correlation) weights all
        frequencies equally, which resists slow illumination changes but lets the
        noise-dominated high frequencies in: on shot-noise-limited frames (the drift test
        movie) it gives 0.07 px RMS against 0.005 px for None.

    Returns
    -------
    numpy.ndarray, shape (n, 2)
        ``(dy, dx)`` of each frame [pixels]: feature position in the frame minus its position
        in the reference (the module's sign convention).
    """
    registration = require("skimage.registration", "drift measurement")
    frames = _as_frames(frames)
    reference = _as_image(frames[0] if reference is None else reference, "reference")
    if reference.shape != frames.shape[1:]:
        raise ParameterError(f"reference has shape {reference.shape} but the frames are {frames.shape[1:]}; "
                             "pass a reference frame of the same shape")
    if isinstance(upsample, bool) or int(upsample) != upsample or upsample < 1:
        raise ParameterError(f"upsample={upsample!r} must be a whole number >= 1 (100 gives 0.01 px precision)")
    if normalization not in ("phase", None):
        raise ParameterError(f"normalization={normalization!r} must be None or 'phase'")
    ref_f = np.fft.fft2(reference - reference.mean())
    out = np.empty((frames.shape[0], 2))
    for i in range(frames.shape[0]):
        image = np.asarray(frames[i], dtype=np.float64)
        moving_f = np.fft.fft2(image - image.mean())
        shift, _, _ = registration.phase_cross_correlation(
            ref_f, moving_f, space="fourier", upsample_factor=int(upsample), normalization=normalization)
        # skimage returns the shift that registers the frame onto the reference: minus the drift
        out[i] = -np.asarray(shift, dtype=np.float64)
    return out


def shift_frames(frames, drift) -> np.ndarray:
    """Move every frame back by its drift so that it aligns with the reference.

    Frame ``i`` is shifted by ``-drift[i]`` with cubic-spline interpolation
    (:func:`scipy.ndimage.shift`, ``order=3``, ``mode="nearest"``). A Fourier shift would
    be exact for band-limited periodic images, but microscope frames are not periodic: it
    wraps particles from one edge into the opposite edge and rings at the borders. The
    cubic spline is accurate to well below 0.01 px on diffraction-limited (oversampled)
    images and only repeats the edge pixels into the few-pixel strip that the drift
    uncovers; particles in that strip are flagged as touching the edge by the
    segmentation.

    Parameters
    ----------
    frames : array_like, shape (n, y, x)
        The frames; not modified.
    drift : array_like, shape (n, 2)
        ``(dy, dx)`` of each frame [pixels], as :func:`drift_gaussian` or :func:`drift_xcorr`
        return.

    Returns
    -------
    numpy.ndarray, shape (n, y, x), float64
        The aligned frames.
    """
    frames = _as_frames(frames)
    drift = np.asarray(drift, dtype=np.float64)
    if drift.shape != (frames.shape[0], 2):
        raise ParameterError(f"drift has shape {drift.shape}; it must be (n_frames, 2) = ({frames.shape[0]}, 2)")
    if not np.all(np.isfinite(drift)):
        raise ParameterError("drift holds NaN or infinite values")
    out = np.empty(frames.shape, dtype=np.float64)
    for i in range(frames.shape[0]):
        image = np.asarray(frames[i], dtype=np.float64)
        if np.all(drift[i] == 0.0):
            out[i] = image
        else:
            ndimage.shift(image, -drift[i], output=out[i], order=3, mode="nearest")
    return out
