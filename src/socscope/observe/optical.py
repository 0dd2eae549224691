"""Synthetic operando optical movies: what a reflected-light microscope would record.

These movies are the ground truth of the optical analysis: every quantity the
pipeline estimates (drift, particle masks, differential contrast, onsets of
the per-particle transitions) is known exactly here.

The forward model, in the order it is applied to every frame:

1. **Occupancy to intensity** (:func:`intensity_from_theta`): the reflected
   intensity of a particle relative to its fully lithiated state,
   ``I/I_lith``. It rises monotonically as Li leaves: linearly by default, by
   ``contrast_full`` = 62 % at full delithiation, as measured on a Ni-rich
   single crystal by Xu et al. (Joule 2022) (Fig. 1E), or from a tabulated
   calibration. Each particle may carry its own brightness factor (facet,
   focus).
2. **Scene**: particles (label image, 0 = background) on a darker
   carbon/binder matrix of level ``background`` (optionally textured, static
   in time).
3. **Blur** (:func:`psf_blur`): a Gaussian point-spread function of full
   width at half maximum ``psf_fwhm_nm`` (265 nm by default: the diffraction
   limit of a high-NA objective in visible light), ``sigma = FWHM / 2.3548``
   converted to pixels. Boundaries are reflecting, so the total intensity of
   a frame is conserved.
4. **Reference spots**: bright sub-diffraction scatterers in the matrix (for
   drift fitting), drawn as the image of a point source — a Gaussian with the
   PSF's sigma (1 px when the blur is off), peak ``reference_peak`` and cut
   off at 6 sigma — added after the blur. Steps 1–4 give :attr:`SyntheticMovie.clean`.
5. **Stage drift**: frame ``i`` is ``clean[i]`` moved by ``drift[i]`` pixels
   (``(dy, dx)``, sub-pixel, cubic-spline interpolation,
   :func:`scipy.ndimage.shift`). Sign: ``drift[i]`` is the position of a
   feature in frame ``i`` minus its position in frame 0 (so ``drift[0]`` is
   zero) and in ``clean``/``labels``.
6. **Noise**: shot noise (Poisson with ``photons`` photo-electrons per unit
   intensity per pixel, the result divided by ``photons`` again, so the
   variance of a pixel is ``mean / photons``) and Gaussian read noise of
   standard deviation ``read_noise`` (intensity units).
7. **Output type**: float64 intensities, or uint16 counts
   ``round(intensity × counts_per_unit)``.

Everything random is drawn from the ``rng`` argument (a
:class:`numpy.random.Generator`, or an integer seed): the same seed gives the
same movie.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.special import expit, logit

from .._checks import real_array
from ..errors import ParameterError

__all__ = [
    "FWHM_TO_SIGMA",
    "SocTraces",
    "SyntheticMovie",
    "core_shell_profile",
    "disc_labels",
    "intensity_from_theta",
    "psf_blur",
    "radial_particle",
    "random_drift",
    "random_particles",
    "rasterize_dataset",
    "rasterize_particle",
    "soc_traces",
    "synthetic_movie",
    "theta_from_intensity",
]

#: sigma of a Gaussian = FWHM / (2 sqrt(2 ln 2)) = FWHM / 2.3548
FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))

#: reference spots are drawn out to this many sigma, and kept that far (+1 px) from particles
_SPOT_CUTOFF = 6.0

#: intensity of the uint16 output per unit relative intensity when no photon count is given
_DEFAULT_COUNTS_PER_UNIT = 10_000.0


# --------------------------------------------------------------------------------------------
# small validators
# --------------------------------------------------------------------------------------------

def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ParameterError(f"rng must be a numpy.random.Generator or an integer seed, got {type(rng).__name__}")


def _finite_scalar(name: str, value, *, low=None, high=None, low_open=False, fix: str = "") -> float:
    try:
        if isinstance(value, (str, bytes, bool, np.bool_)):
            raise TypeError  # "1e4" is text, True a flag: neither is a number
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {value!r} ({type(value).__name__})") from None
    bad = not np.isfinite(v)
    if low is not None:
        bad |= v <= low if low_open else v < low
    if high is not None:
        bad |= v > high
    if bad:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        bracket = "(" if low_open else "["
        raise ParameterError(f"{name} = {value!r} is outside the allowed range {bracket}{lo}, {hi}]{fix}")
    return v


def _numbers(name: str, values) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be numbers (an array of floats), got {values!r}") from None


def _check_theta(theta, name: str = "theta") -> np.ndarray:
    th = _numbers(name, theta)
    nan = ~np.isfinite(th)
    if nan.any():
        where = np.argwhere(nan)[0].tolist() if th.ndim else []
        raise ParameterError(
            f"{name} has {int(nan.sum())} non-finite value(s) (first at index {where}); occupancy must be "
            "finite in [0, 1] — mask the outside of particles before converting"
        )
    if th.size and (th.min() < 0.0 or th.max() > 1.0):
        raise ParameterError(
            f"{name} spans [{th.min():.6g}, {th.max():.6g}], outside the allowed range [0, 1] of the Li "
            "occupancy; clip it or check the simulation"
        )
    return th


def _check_table(table) -> tuple[np.ndarray, np.ndarray]:
    if table is None:
        raise ParameterError(
            "calibration='table' needs table=(theta_points, intensity_points), e.g. "
            "table=([0, 0.5, 1], [1.62, 1.3, 1.0])"
        )
    try:
        tp, ip = (np.asarray(a, dtype=float) for a in table)
    except (TypeError, ValueError):
        raise ParameterError("table must be a pair (theta_points, intensity_points) of numeric arrays") from None
    if tp.ndim != 1 or ip.shape != tp.shape or tp.size < 2:
        raise ParameterError(
            f"table arrays must be 1-D of equal length >= 2, got shapes {tp.shape} and {ip.shape}"
        )
    if not (np.isfinite(tp).all() and np.isfinite(ip).all()):
        raise ParameterError("table contains non-finite values; every calibration point must be finite")
    if tp.min() < 0 or tp.max() > 1:
        raise ParameterError(f"table theta points span [{tp.min():g}, {tp.max():g}], outside [0, 1]")
    if ip.min() <= 0:
        raise ParameterError(f"table intensities must be > 0 (relative intensity I/I_lith), got min {ip.min():g}")
    order = np.argsort(tp, kind="stable")
    tp, ip = tp[order], ip[order]
    if np.any(np.diff(tp) <= 0):
        raise ParameterError("table theta points must be distinct (strictly increasing once sorted)")
    d = np.diff(ip)
    if not (np.all(d < 0) or np.all(d > 0)):
        raise ParameterError(
            f"table intensities {ip.tolist()} (sorted by theta) are not strictly monotone; a calibration "
            "must map each occupancy to one intensity and back (intensity rises as Li leaves)"
        )
    return tp, ip


def _check_linear(contrast_full, theta_lithiated, theta_delithiated) -> tuple[float, float, float]:
    c = _finite_scalar("contrast_full", contrast_full, low=-1.0, low_open=True,
                       fix=" (relative intensity change at full delithiation; 0.62 for the Ni-rich NMC of (Xu et al., Joule 2022))")
    if c == 0:
        raise ParameterError("contrast_full = 0 makes intensity independent of occupancy; use e.g. 0.62")
    tl = _finite_scalar("theta_lithiated", theta_lithiated, low=0.0, high=1.0)
    td = _finite_scalar("theta_delithiated", theta_delithiated, low=0.0, high=1.0)
    if tl == td:
        raise ParameterError(f"theta_lithiated and theta_delithiated are both {tl:g}; they must differ")
    return c, tl, td


# --------------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------------

def intensity_from_theta(theta, *, calibration: str = "linear", contrast_full: float = 0.62,
                         theta_lithiated: float = 1.0, theta_delithiated: float = 0.0, table=None) -> np.ndarray:
    """Relative reflected intensity ``I / I_lithiated`` of particle material at occupancy θ.

    Parameters
    ----------
    theta : array_like
        Li occupancy in [0, 1], any shape (NaN is refused: mask first).
    calibration : {"linear", "table"}
        ``"linear"``: ``1 + contrast_full · (θ_lith − θ) / (θ_lith − θ_delith)``, so the
        intensity is 1 at ``theta_lithiated`` and ``1 + contrast_full`` at
        ``theta_delithiated`` (Xu et al. (Joule 2022): ~62 % brighter at full delithiation).
        ``"table"``: piecewise-linear interpolation of ``table``.
    contrast_full : float
        Relative intensity change at full delithiation, > −1.
    theta_lithiated, theta_delithiated : float
        Occupancies of the two reference states of the linear calibration.
    table : (array_like, array_like), optional
        ``(theta_points, intensity_points)`` for ``calibration="table"``: relative intensities,
        > 0 and strictly monotone in θ; θ outside the table's range is refused (no extrapolation).

    Returns
    -------
    ndarray
        Same shape as ``theta``.

    Examples
    --------
    >>> intensity_from_theta([1.0, 0.5, 0.0]).round(3).tolist()
    [1.0, 1.31, 1.62]
    """
    th = _check_theta(theta)
    if calibration == "linear":
        c, tl, td = _check_linear(contrast_full, theta_lithiated, theta_delithiated)
        return 1.0 + c * (tl - th) / (tl - td)
    if calibration == "table":
        tp, ip = _check_table(table)
        if th.size and (th.min() < tp[0] or th.max() > tp[-1]):
            raise ParameterError(
                f"theta spans [{th.min():.6g}, {th.max():.6g}] but the calibration table covers only "
                f"[{tp[0]:g}, {tp[-1]:g}]; extend the table (no extrapolation is done)"
            )
        return np.interp(th, tp, ip)
    raise ParameterError(f"calibration = {calibration!r} must be 'linear' or 'table'")


def theta_from_intensity(intensity, *, calibration: str = "linear", contrast_full: float = 0.62,
                         theta_lithiated: float = 1.0, theta_delithiated: float = 0.0, table=None) -> np.ndarray:
    """Inverse of :func:`intensity_from_theta` (same options).

    Measured intensities carry noise, so the result is not clipped to [0, 1]
    for the linear calibration; the table calibration clips to the table's θ range.
    """
    i = _numbers("intensity", intensity)
    if calibration == "linear":
        c, tl, td = _check_linear(contrast_full, theta_lithiated, theta_delithiated)
        return tl - (i - 1.0) / c * (tl - td)
    if calibration == "table":
        tp, ip = _check_table(table)
        if ip[0] > ip[-1]:
            return np.interp(i, ip[::-1], tp[::-1])
        return np.interp(i, ip, tp)
    raise ParameterError(f"calibration = {calibration!r} must be 'linear' or 'table'")


# --------------------------------------------------------------------------------------------
# particles as pixel images
# --------------------------------------------------------------------------------------------

#: Most values (frames x pixels) one rendering may hold: 2e8 float64 is 1.6 GB.
MAX_IMAGE_VALUES = 200_000_000


def _pixel_grid(shape, centre_px):
    ny, nx = _check_shape(shape)
    if centre_px is None:
        cy, cx = (ny - 1) / 2.0, (nx - 1) / 2.0
    else:
        cy, cx = (float(v) for v in centre_px)
    return ny, nx, cy, cx


def _check_shape(shape) -> tuple[int, int]:
    try:
        ny, nx = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ParameterError(f"shape must be (ny, nx), got {shape!r}") from None
    if ny < 1 or nx < 1:
        raise ParameterError(f"shape {shape!r} must be positive (ny, nx)")
    return ny, nx


def rasterize_particle(theta_cells, cell_xy, pixel_size_nm: float, *, shape=None, centre_px=None,
                       inside: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Sample a simulated 2D occupancy field on the pixel grid of a camera.

    Each pixel takes the θ of the cell whose centre is nearest to the pixel
    centre (the cells of the simulation are usually finer than a pixel; the
    PSF blur of :func:`synthetic_movie` does the averaging that optics does).

    Parameters
    ----------
    theta_cells : array_like, shape (..., n_cells)
        Occupancy of every cell, optionally with leading (time) axes.
    cell_xy : array_like, shape (n_cells, 2)
        Cell centres ``(x, y)`` [m] (``cell_x``/``cell_y`` of a polar result,
        ``FVGrid.cell_xy``).
    pixel_size_nm : float
        Pixel size in the sample plane [nm].
    shape : (int, int), optional
        Image shape ``(ny, nx)``; default just large enough for the particle plus 2 px.
    centre_px : (float, float), optional
        Pixel position ``(row, column)`` of the centre of the cells' bounding box;
        default the image centre.
    inside : callable, optional
        ``inside(x_m, y_m) -> bool array``: which pixel centres (in the cells' frame,
        metres) lie in the particle. Default: pixels whose nearest cell centre is
        within ``0.75 h`` of them, ``h`` the median distance between
        neighbouring cell centres (exact to about a quarter of a cell on the
        outline; pass ``inside`` for an exact outline).

    Returns
    -------
    ndarray, shape (..., ny, nx)
        θ per pixel, NaN outside the particle. Row index grows with ``y``.
    """
    from scipy.spatial import cKDTree  # scipy.spatial is slow to import

    xy = np.asarray(cell_xy, dtype=float)
    th = np.asarray(theta_cells, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] < 1:
        raise ParameterError(f"cell_xy must have shape (n_cells, 2), got {xy.shape}")
    if th.shape[-1:] != (xy.shape[0],):
        raise ParameterError(f"theta_cells has shape {th.shape}; its last axis must be n_cells = {xy.shape[0]}")
    p = _finite_scalar("pixel_size_nm", pixel_size_nm, low=0.0, low_open=True) * 1e-9
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    mid = 0.5 * (lo + hi)
    tree = cKDTree(xy)
    if xy.shape[0] > 1:
        d_nb, _ = tree.query(xy, k=2)
        h = float(np.median(d_nb[:, 1]))
    else:
        h = p
    if shape is None:
        half = (hi - lo) / 2 + h
        shape = (2 * int(np.ceil(half[1] / p)) + 3, 2 * int(np.ceil(half[0] / p)) + 3)
    ny, nx, cy, cx = _pixel_grid(shape, centre_px)
    frames = int(np.prod(th.shape[:-1], dtype=float))
    n_values = frames * ny * nx
    if n_values > MAX_IMAGE_VALUES:
        raise ParameterError(
            f"{frames} frame(s) of {ny} x {nx} pixels at pixel_size_nm = {pixel_size_nm!r} is "
            f"{n_values:.3g} values, above {MAX_IMAGE_VALUES:.0e} ({MAX_IMAGE_VALUES * 8 / 1e9:.1f} GB); the cells are "
            f"{h * 1e9:.3g} nm apart, so pixels much finer show nothing new: use a pixel size near that, fewer "
            "frames (time=...) or a smaller shape")
    X = (np.arange(nx) - cx) * p + mid[0]
    Y = (np.arange(ny) - cy) * p + mid[1]
    XX, YY = np.meshgrid(X, Y)
    dist, idx = tree.query(np.column_stack([XX.ravel(), YY.ravel()]))
    if inside is None:
        mask = dist <= 0.75 * h
    else:
        mask = np.asarray(inside(XX.ravel(), YY.ravel()), dtype=bool).ravel()
        if mask.size != XX.size:
            raise ParameterError(f"inside() returned {mask.size} values for {XX.size} pixels")
    out = np.full(th.shape[:-1] + (ny * nx,), np.nan)
    out[..., mask] = th[..., idx[mask]]
    return out.reshape(th.shape[:-1] + (ny, nx))


def _time_indices(time, n_time: int) -> np.ndarray:
    """``time`` of :func:`rasterize_dataset` as sample indices, checked."""
    t = np.atleast_1d(np.asarray(time))
    if t.ndim != 1 or t.size == 0 or t.dtype.kind not in "iuf" or not np.all(np.isfinite(t)) \
            or np.any(t != np.round(t)):
        raise ParameterError(f"time = {time!r} must be a list of sample indices (whole numbers), not times; "
                             f"e.g. time=[0, -1] for the first and last of the {n_time} samples")
    t = t.astype(np.intp)
    if np.any(t >= n_time) or np.any(t < -n_time):
        raise ParameterError(f"time = {time!r}: the result has {n_time} samples, so indices run from "
                             f"{-n_time} to {n_time - 1}; e.g. time=[0, -1]")
    return t


def rasterize_dataset(ds, pixel_size_nm: float, *, shape=None, centre_px=None, time=None) -> np.ndarray:
    """θ images of a 2D :func:`socscope.simulate_particle` result on a camera's pixel grid.

    Works for Disc (polar cells: ``theta_cell``, ``cell_x``, ``cell_y``) and
    for Cartesian results (Ellipse, Polygon, Mask, Disc meshed with squares:
    ``theta (time, y, x)``). The particle outline is that of the result's
    own ``theta`` image (NaN outside), at the simulation's resolution.

    Parameters
    ----------
    ds : xarray.Dataset
        A 2D single-particle result.
    pixel_size_nm : float
        Camera pixel size in the sample plane [nm].
    shape, centre_px
        As in :func:`rasterize_particle`, except that by default the pixels
        are aligned with the cells (see the code's comment): the particle's
        middle then sits within half a pixel of the image centre (a cell
        centre on the centre pixel's, for the default odd shapes).
    time : array_like of int, optional
        Indices of the time samples to render (default all).

    Returns
    -------
    ndarray, shape (n_time, ny, nx)
        θ per pixel, NaN outside the particle.
    """
    if "theta" not in ds or tuple(ds["theta"].dims) != ("time", "y", "x"):
        raise ParameterError(
            "rasterize_dataset needs a 2D particle result with theta(time, y, x) (Disc, Ellipse, Polygon, "
            "Mask); a sphere has only radial shells — draw it with radial_particle instead"
        )
    sel = slice(None) if time is None else _time_indices(time, ds.sizes["time"])
    img = np.asarray(ds["theta"].values)[sel]
    x = np.asarray(ds["x"].values, dtype=float)
    y = np.asarray(ds["y"].values, dtype=float)
    h = float(np.median(np.diff(x))) if x.size > 1 else float(pixel_size_nm) * 1e-9
    support = np.isfinite(img[0])

    def inside(xm, ym):
        # the cell whose square holds the pixel centre; one on an edge goes to
        # the upper cell (np.rint would send ties alternately up and down)
        j = np.floor((xm - x[0]) / h + 0.5).astype(np.intp)
        i = np.floor((ym - y[0]) / h + 0.5).astype(np.intp)
        ok = (i >= 0) & (i < y.size) & (j >= 0) & (j < x.size)
        res = np.zeros(xm.shape, bool)
        res[ok] = support[i[ok], j[ok]]
        return res

    if "theta_cell" in ds and "cell_x" in ds.coords:
        cells = np.asarray(ds["theta_cell"].values)[sel]
        xy = np.column_stack([ds["cell_x"].values, ds["cell_y"].values])
    else:
        XX, YY = np.meshgrid(x, y)
        xy = np.column_stack([XX[support], YY[support]])
        cells = img[:, support]
    p = _finite_scalar("pixel_size_nm", pixel_size_nm, low=0.0, low_open=True) * 1e-9
    if shape is None:
        half = np.array([x.max() - x.min(), y.max() - y.min()]) / 2 + h
        shape = (2 * int(np.ceil(half[1] / p)) + 3, 2 * int(np.ceil(half[0] / p)) + 3)
    if centre_px is None:
        # align the pixels with the cells: rasterize_particle centres the
        # image on the middle of the cells, wherever that falls, and pixel
        # centres on cell edges made the nearest-cell choice lose or repeat
        # cells (10 % of an ellipse at its own 100 nm). Pixels as large as a
        # cell or larger get a centre on a cell centre (at the simulation's
        # own resolution every pixel is one cell); finer pixels an edge on a
        # cell edge, so that they split cells
        ny, nx, cy, cx = _pixel_grid(shape, None)
        mid = 0.5 * (xy.min(axis=0) + xy.max(axis=0))
        anchor = np.array([x[0], y[0]]) - (0.5 * (h - p) if p < h else 0.0)
        snap = anchor + np.round((mid - anchor) / h) * h
        centre_px = (np.floor(cy) + (mid[1] - snap[1]) / p, np.floor(cx) + (mid[0] - snap[0]) / p)
    return rasterize_particle(cells, xy, pixel_size_nm, shape=shape, centre_px=centre_px, inside=inside)


def core_shell_profile(theta_core: float, theta_shell: float, front: float, *,
                       sharpness: float = 0.03) -> Callable[[np.ndarray], np.ndarray]:
    """A radial core–shell occupancy profile ``θ(ρ)``, ρ = r/R in [0, 1].

    ``θ(ρ) = θ_core + (θ_shell − θ_core) · expit((ρ − front) / sharpness)``: the
    Li-rich core and Li-poor shell seen on charge by Xu et al. (Joule 2022) (Fig. 2B).
    """
    tc = _finite_scalar("theta_core", theta_core, low=0.0, high=1.0)
    ts = _finite_scalar("theta_shell", theta_shell, low=0.0, high=1.0)
    f = _finite_scalar("front", front)
    s = _finite_scalar("sharpness", sharpness, low=0.0, low_open=True)

    def profile(rho):
        return tc + (ts - tc) * expit((np.asarray(rho, dtype=float) - f) / s)

    return profile


def radial_particle(shape, centre_px, radius_px: float, profile: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """θ image of a disc particle whose occupancy depends on the radius only.

    Parameters
    ----------
    shape : (int, int)
    centre_px : (float, float)
        Centre ``(row, column)`` [px], sub-pixel allowed.
    radius_px : float
    profile : callable
        ``profile(rho) -> θ`` with ``rho = r / radius`` in [0, 1) inside the disc
        (e.g. :func:`core_shell_profile`).

    Returns
    -------
    ndarray, shape (ny, nx)
        θ inside the disc (pixel centres with ``r < radius``), NaN outside.
    """
    ny, nx, cy, cx = _pixel_grid(shape, centre_px)
    r0 = _finite_scalar("radius_px", radius_px, low=0.0, low_open=True)
    yy, xx = np.mgrid[0:ny, 0:nx]
    rho = np.hypot(yy - cy, xx - cx) / r0
    out = np.full((ny, nx), np.nan)
    m = rho < 1.0
    out[m] = _check_theta(profile(rho[m]), "profile(rho)")
    return out


def disc_labels(shape, centres_px, radii_px) -> np.ndarray:
    """Label image of discs: pixel centres with ``r < radius`` get the particle's number (1, 2, ...).

    A pixel covered by several discs goes to the one whose centre is nearest
    relative to its radius (smallest ``r / radius``), so touching discs
    share a straight-ish boundary.
    """
    ny, nx = _check_shape(shape)
    c = np.asarray(centres_px, dtype=float).reshape(-1, 2)
    r = np.asarray(radii_px, dtype=float).ravel()
    if r.size != c.shape[0]:
        raise ParameterError(f"{c.shape[0]} centres but {r.size} radii")
    if r.size and (not np.isfinite(r).all() or r.min() <= 0):
        raise ParameterError(f"radii_px must be finite and > 0, got {r.tolist()}")
    labels = np.zeros((ny, nx), dtype=np.int32)
    best = np.full((ny, nx), np.inf)
    for k, ((cy, cx), rk) in enumerate(zip(c, r), start=1):
        y0, y1 = max(int(np.floor(cy - rk)), 0), min(int(np.ceil(cy + rk)) + 1, ny)
        x0, x1 = max(int(np.floor(cx - rk)), 0), min(int(np.ceil(cx + rk)) + 1, nx)
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        rho = np.hypot(yy - cy, xx - cx) / rk
        win = best[y0:y1, x0:x1]
        take = (rho < 1.0) & (rho < win)
        win[take] = rho[take]
        labels[y0:y1, x0:x1][take] = k
    return labels


def random_particles(n: int, shape, *, rng=None, radius_px=(4.0, 10.0), touching: bool = False,
                     min_gap_px: float = 3.0, margin_px: float = 2.0,
                     max_tries: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Random disc particles in a field of view.

    Parameters
    ----------
    n : int
        Number of particles.
    shape : (int, int)
        Image shape.
    rng : numpy.random.Generator or int, optional
    radius_px : (float, float)
        Radii are uniform in this range [px].
    touching : bool
        False: every pair of discs keeps at least ``min_gap_px`` between their
        edges. True: particles come in touching pairs — every second particle
        is placed against the previous one with centre distance
        ``r_a + r_b − 1`` (a one-pixel overlap, so the union has a neck that a
        watershed can cut); pairs keep ``min_gap_px`` from each other.
    min_gap_px : float
        Smallest edge-to-edge gap between separate particles [px].
    margin_px : float
        Smallest distance of a disc's edge from the image border [px].
    max_tries : int
        Give up (ParameterError) after this many rejected draws.

    Returns
    -------
    centres : ndarray, shape (n, 2)
        ``(row, column)`` of each centre [px].
    radii : ndarray, shape (n,)
    """
    g = _rng(rng)
    ny, nx = _check_shape(shape)
    n = int(n)
    if n < 0:
        raise ParameterError(f"n = {n} must be >= 0")
    rmin, rmax = (float(v) for v in radius_px)
    if not (0 < rmin <= rmax):
        raise ParameterError(f"radius_px = {radius_px!r} must satisfy 0 < min <= max")
    if 2 * (rmax + margin_px) >= min(ny, nx):
        raise ParameterError(f"particles of radius up to {rmax:g} px do not fit in a {ny}x{nx} image")
    centres = np.zeros((n, 2))
    radii = np.zeros(n)
    # group[k]: particles in the same touching pair may overlap by 1 px
    group = np.arange(n) // 2 if touching else np.arange(n)
    tries = 0
    k = 0
    while k < n:
        tries += 1
        if tries > max_tries:
            raise ParameterError(
                f"could not place {n} particles of radius {rmin:g}-{rmax:g} px with gaps >= {min_gap_px:g} px "
                f"in a {ny}x{nx} image after {max_tries} tries; use a larger image, fewer or smaller particles"
            )
        rk = g.uniform(rmin, rmax)
        if touching and k % 2 == 1:
            ang = g.uniform(0, 2 * np.pi)
            dist = radii[k - 1] + rk - 1.0
            c = centres[k - 1] + dist * np.array([np.sin(ang), np.cos(ang)])
        else:
            c = np.array([g.uniform(rk + margin_px, ny - 1 - rk - margin_px),
                          g.uniform(rk + margin_px, nx - 1 - rk - margin_px)])
        ok = rk + margin_px <= c[0] <= ny - 1 - rk - margin_px and rk + margin_px <= c[1] <= nx - 1 - rk - margin_px
        for j in range(k if ok else 0):
            if group[j] == group[k]:
                continue
            if np.hypot(*(c - centres[j])) < radii[j] + rk + min_gap_px:
                ok = False
                break
        if not ok:
            if touching and k % 2 == 1:
                k -= 1  # re-draw the whole pair
            continue
        centres[k], radii[k] = c, rk
        k += 1
    return centres, radii


def random_drift(n_frames: int, *, rng=None, step_px: float = 0.1, max_px: float = 5.0) -> np.ndarray:
    """A random-walk stage drift, shape (n_frames, 2) [px], zero in frame 0, clipped to ±``max_px``."""
    g = _rng(rng)
    n = int(n_frames)
    if n < 1:
        raise ParameterError(f"n_frames = {n} must be >= 1")
    steps = g.normal(0.0, _finite_scalar("step_px", step_px, low=0.0), size=(n, 2))
    steps[0] = 0.0
    return np.clip(np.cumsum(steps, axis=0), -abs(max_px), abs(max_px))


def psf_blur(images, *, psf_fwhm_nm: float | None = 265.0, pixel_size_nm: float) -> np.ndarray:
    """Blur images ``(..., y, x)`` with a Gaussian PSF of the given FWHM [nm].

    ``sigma_px = psf_fwhm_nm / 2.3548 / pixel_size_nm``; reflecting boundaries
    (:func:`scipy.ndimage.gaussian_filter`, ``mode="reflect"``), so each
    image's total intensity is conserved. ``psf_fwhm_nm`` None or 0 returns a copy.
    """
    a = np.asarray(images, dtype=float)
    if a.ndim < 2:
        raise ParameterError(f"images must have at least 2 dimensions (y, x), got shape {a.shape}")
    s = _psf_sigma_px(psf_fwhm_nm, pixel_size_nm)
    if s == 0:
        return a.copy()
    sigma = (0.0,) * (a.ndim - 2) + (s, s)
    return ndimage.gaussian_filter(a, sigma=sigma, mode="reflect", truncate=5.0)


def _psf_sigma_px(psf_fwhm_nm, pixel_size_nm) -> float:
    p = _finite_scalar("pixel_size_nm", pixel_size_nm, low=0.0, low_open=True)
    if psf_fwhm_nm is None:
        return 0.0
    f = _finite_scalar("psf_fwhm_nm", psf_fwhm_nm, low=0.0, fix=" (use None or 0 for no blur)")
    return f * FWHM_TO_SIGMA / p


# --------------------------------------------------------------------------------------------
# movies
# --------------------------------------------------------------------------------------------

@dataclass
class SyntheticMovie:
    """A rendered movie with its ground truth.

    Attributes
    ----------
    frames : ndarray, shape (n_frames, ny, nx)
        What the camera records: float64 intensities (relative to a fully
        lithiated particle of brightness 1) or uint16 counts
        (``intensity × counts_per_unit``).
    time_s : ndarray, shape (n_frames,)
        Frame times [s].
    labels : ndarray of int32, shape (ny, nx)
        True particle labels (1..n_particles), 0 in the background; in the
        drift-free frame of ``clean``.
    clean : ndarray, shape (n_frames, ny, nx)
        Noise-free, drift-free intensity (after blur and reference spots).
    contrast : ndarray, shape (n_frames, ny, nx)
        True differential contrast ``(clean[i] − clean[0]) / clean[0]`` on particle
        pixels (``labels > 0``), NaN elsewhere.
    drift : ndarray, shape (n_frames, 2)
        Applied drift ``(dy, dx)`` [px]: position in frame i minus position in frame 0.
    theta : ndarray
        The occupancy that was rendered: (n_frames, n_particles) or (n_frames, ny, nx).
    reference_spots : ndarray, shape (n_spots, 2)
        ``(row, column)`` of the reference spots in frame 0 / ``clean`` [px].
    pixel_size_nm : float
    soc : ndarray or None
        State of charge per frame, when given.
    psf_sigma_px : float
        Sigma of the Gaussian PSF [px] (0: no blur).
    counts_per_unit : float or None
        uint16 counts per unit intensity (None for float frames).
    """

    frames: np.ndarray
    time_s: np.ndarray
    labels: np.ndarray
    clean: np.ndarray
    contrast: np.ndarray
    drift: np.ndarray
    theta: np.ndarray
    reference_spots: np.ndarray
    pixel_size_nm: float
    soc: np.ndarray | None = None
    psf_sigma_px: float = 0.0
    counts_per_unit: float | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n_particles(self) -> int:
        return int(self.labels.max()) if self.labels.size else 0

    def particle_means(self, which: str = "frames") -> np.ndarray:
        """Mean intensity over each particle's true label, shape (n_frames, n_particles).

        ``which``: "frames" (recorded, converted to intensity units for uint16),
        "clean" or "contrast".
        """
        if which == "frames":
            values = self.frames.astype(float)
            if self.counts_per_unit:
                values = values / self.counts_per_unit
        elif which in ("clean", "contrast"):
            values = getattr(self, which)
        else:
            raise ParameterError(f"which = {which!r} must be 'frames', 'clean' or 'contrast'")
        return _label_means(values, self.labels)

    def table(self) -> pd.DataFrame:
        """One row per frame: ``frame``, ``time_s``, ``soc`` (if known), ``drift_y_px``, ``drift_x_px``."""
        out = {"frame": np.arange(self.time_s.size), "time_s": self.time_s}
        if self.soc is not None:
            out["soc"] = self.soc
        out["drift_y_px"] = self.drift[:, 0]
        out["drift_x_px"] = self.drift[:, 1]
        return pd.DataFrame(out)


def _label_means(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    n = int(labels.max()) if labels.size else 0
    flat = labels.ravel()
    m = flat > 0
    counts = np.bincount(flat[m] - 1, minlength=n).astype(float)
    v = values.reshape(values.shape[0], -1)[:, m]
    idx = flat[m] - 1
    sums = np.stack([np.bincount(idx, weights=row, minlength=n) for row in v])
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _place_spots(labels, spots, sigma, drift_max, g) -> np.ndarray:
    ny, nx = labels.shape
    if isinstance(spots, (int, np.integer)):
        k = int(spots)
        if k < 0:
            raise ParameterError(f"reference_spots = {k} must be >= 0 (or an array of positions)")
        if k == 0:
            return np.zeros((0, 2))
        clearance = _SPOT_CUTOFF * sigma + 1.0
        margin = clearance + drift_max + 1.0
        free = ndimage.distance_transform_edt(labels == 0) >= clearance
        yy, xx = np.mgrid[0:ny, 0:nx]
        free &= (yy >= margin) & (yy <= ny - 1 - margin) & (xx >= margin) & (xx <= nx - 1 - margin)
        out = []
        for _ in range(k):
            cand = np.argwhere(free)
            if cand.size == 0:
                raise ParameterError(
                    f"no room for {k} reference spot(s) at least {clearance:.1f} px from every particle and "
                    f"{margin:.1f} px from the border; pass positions, fewer spots, or a larger image"
                )
            yx = cand[g.integers(cand.shape[0])] + g.uniform(-0.5, 0.5, size=2)
            out.append(yx)
            free &= np.hypot(yy - yx[0], xx - yx[1]) >= 2 * clearance
        return np.array(out)
    pos = real_array("reference_spots", spots, example="2 (a count) or [[10, 12], [40, 80]] (row, column)")
    if pos.size % 2:
        raise ParameterError(f"reference_spots = {spots!r} must be a count or (row, column) pairs, e.g. [[10, 12]]")
    pos = pos.reshape(-1, 2)
    if not np.isfinite(pos).all() or (pos < 0).any() or (pos[:, 0] > ny - 1).any() or (pos[:, 1] > nx - 1).any():
        raise ParameterError(
            f"reference spot positions {pos.tolist()} must lie inside the image (rows 0..{ny - 1}, columns 0..{nx - 1})"
        )
    return pos


def _spot_image(shape, spots, sigma, peak) -> np.ndarray:
    ny, nx = shape
    img = np.zeros(shape)
    half = int(np.ceil(_SPOT_CUTOFF * sigma)) + 1
    for y0, x0 in spots:
        i0, i1 = max(int(y0) - half, 0), min(int(y0) + half + 1, ny)
        j0, j1 = max(int(x0) - half, 0), min(int(x0) + half + 1, nx)
        yy, xx = np.mgrid[i0:i1, j0:j1]
        r2 = (yy - y0) ** 2 + (xx - x0) ** 2
        # cut at 6 sigma (1.5e-8 of the peak) so that no spot light falls on a particle
        img[i0:i1, j0:j1] += np.where(r2 <= (_SPOT_CUTOFF * sigma) ** 2, peak * np.exp(-r2 / (2 * sigma**2)), 0.0)
    return img


def synthetic_movie(theta, *, shape=None, centres_px=None, radii_px=None, labels=None, time_s=None,
                    frame_interval_s: float = 1.0, soc=None, pixel_size_nm: float = 100.0,
                    psf_fwhm_nm: float | None = 265.0, calibration: str = "linear", contrast_full: float = 0.62,
                    table=None, particle_brightness=1.0, background: float = 0.3,
                    background_texture: float = 0.0, reference_spots=1, reference_peak: float = 1.0,
                    photons: float | None = None, read_noise: float = 0.0, drift=None,
                    dtype: str = "float64", counts_per_unit: float | None = None, rng=None) -> SyntheticMovie:
    """Render a field of particles through the microscope model of this module.

    Parameters
    ----------
    theta : array_like
        Occupancy per frame: ``(n_frames, n_particles)`` — each particle uniform —
        or ``(n_frames, ny, nx)`` per pixel (finite on particle pixels; anything,
        e.g. NaN, elsewhere). See :func:`soc_traces` and :func:`rasterize_dataset`.
    shape : (int, int), optional
        Image shape; taken from ``labels`` or a per-pixel ``theta`` when omitted.
    centres_px, radii_px : array_like, optional
        Disc particles ``(row, column)`` and radii [px] (see :func:`random_particles`),
        labelled 1..n in the order given.
    labels : ndarray of int, optional
        A label image instead of discs (0 = background). With neither discs nor
        labels, a per-pixel ``theta`` defines the particles as the connected
        regions where frame 0 is finite.
    time_s : array_like, optional
        Frame times [s]; default ``frame * frame_interval_s``.
    soc : array_like, optional
        State of charge per frame, stored with the movie.
    pixel_size_nm : float
        Pixel size in the sample plane [nm].
    psf_fwhm_nm : float or None
        FWHM of the Gaussian PSF [nm]; None or 0 switches the blur off.
    calibration, contrast_full, table
        Occupancy-to-intensity calibration, see :func:`intensity_from_theta`.
    particle_brightness : float or array_like (n_particles,)
        Intensity of each particle when fully lithiated (relative units).
    background : float
        Intensity of the carbon/binder matrix, >= 0.
    background_texture : float
        Relative amplitude (standard deviation) of a static smooth texture of the matrix
        (Gaussian-filtered white noise, correlation length ~3 px); 0 = flat.
    reference_spots : int or array_like (k, 2)
        Number of reference spots to place at random in the matrix (clear of the
        particles by ``6 sigma + 1`` px and of the border by that plus the largest
        drift), or their positions ``(row, column)``. A spot is drawn out to 6 sigma
        only, so its light never reaches a particle placed by this rule.
    reference_peak : float
        Peak intensity of a spot above the matrix.
    photons : float, optional
        Photo-electrons per unit intensity per pixel (shot noise); None = no shot noise.
    read_noise : float
        Standard deviation of Gaussian read noise (intensity units).
    drift : array_like (n_frames, 2), optional
        Stage drift ``(dy, dx)`` [px], ``drift[0] == (0, 0)``; see :func:`random_drift`.
    dtype : {"float64", "uint16"}
    counts_per_unit : float, optional
        uint16 counts per unit intensity; default ``photons`` (counts are then photo-electrons)
        or 10 000 without shot noise.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    SyntheticMovie

    Notes
    -----
    With ``photons=None``, ``read_noise=0``, ``drift=None`` and float64 output the
    frames are exactly ``clean``. Memory: three float64 stacks of the movie's size
    (frames, clean, contrast).

    Examples
    --------
    >>> centres, radii = random_particles(3, (64, 64), rng=1, radius_px=(5, 8))
    >>> th = soc_traces(np.linspace(0, 1, 20), onset_soc=[0.1, 0.4, 0.7], width_soc=0.1).theta
    >>> mov = synthetic_movie(th, shape=(64, 64), centres_px=centres, radii_px=radii, rng=1)
    >>> mov.frames.shape
    (20, 64, 64)
    """
    g = _rng(rng)
    th = np.asarray(theta, dtype=float)
    if th.ndim not in (2, 3):
        raise ParameterError(
            f"theta must be (n_frames, n_particles) or (n_frames, ny, nx), got shape {th.shape}"
        )
    n_frames = th.shape[0]
    if n_frames < 1:
        raise ParameterError("theta has no frames")
    per_pixel = th.ndim == 3
    # ---- labels
    if labels is not None:
        lab = np.asarray(labels)
        if lab.ndim != 2 or not np.issubdtype(lab.dtype, np.integer) or (lab.size and lab.min() < 0):
            raise ParameterError(f"labels must be a 2-D image of non-negative integers, got {lab.dtype} {lab.shape}")
        lab = lab.astype(np.int32)
        if shape is not None and tuple(shape) != lab.shape:
            raise ParameterError(f"shape {tuple(shape)} differs from the labels' shape {lab.shape}")
    elif centres_px is not None or radii_px is not None:
        if centres_px is None or radii_px is None:
            raise ParameterError("give both centres_px and radii_px for disc particles")
        if shape is None:
            if not per_pixel:
                raise ParameterError("shape=(ny, nx) is needed with disc particles")
            shape = th.shape[1:]
        lab = disc_labels(shape, centres_px, radii_px)
    elif per_pixel:
        lab, _ = ndimage.label(np.isfinite(th[0]))
        lab = lab.astype(np.int32)
    else:
        raise ParameterError("say where the particles are: centres_px and radii_px, or labels")
    ny, nx = lab.shape
    n_part = int(lab.max()) if lab.size else 0
    if n_part == 0:
        raise ParameterError("the field has no particle pixels (all labels are 0)")
    present = np.unique(lab[lab > 0])
    if present.size != n_part:
        missing = sorted(set(range(1, n_part + 1)) - set(present.tolist()))
        raise ParameterError(
            f"particle label(s) {missing[:10]} cover no pixel (a disc outside the image or hidden under "
            "another); drop them or move them into the field"
        )
    inside = lab > 0
    # ---- occupancy per pixel
    if per_pixel:
        if th.shape[1:] != (ny, nx):
            raise ParameterError(f"per-pixel theta has frames of shape {th.shape[1:]}, labels {lab.shape}")
        th_in = _check_theta(th[:, inside], "theta on particle pixels")
    else:
        if th.shape[1] != n_part:
            raise ParameterError(
                f"theta has {th.shape[1]} particle columns but the field has {n_part} particles"
            )
        th_in = _check_theta(th, "theta")[:, lab[inside] - 1]
    bright = np.asarray(particle_brightness, dtype=float)
    if bright.ndim == 0:
        bright = np.full(n_part, float(bright))
    if bright.shape != (n_part,) or not np.isfinite(bright).all() or bright.min() <= 0:
        raise ParameterError(
            f"particle_brightness must be > 0, a scalar or one value per particle ({n_part}), got shape {bright.shape}"
        )
    # ---- time and soc
    if time_s is None:
        t = np.arange(n_frames) * _finite_scalar("frame_interval_s", frame_interval_s, low=0.0, low_open=True)
    else:
        t = np.asarray(time_s, dtype=float)
        if t.shape != (n_frames,) or not np.isfinite(t).all():
            raise ParameterError(f"time_s must be {n_frames} finite values, got shape {t.shape}")
    s = None
    if soc is not None:
        s = np.asarray(soc, dtype=float)
        if s.shape != (n_frames,):
            raise ParameterError(f"soc must have {n_frames} values (one per frame), got shape {s.shape}")
    # ---- drift
    if drift is None:
        d = np.zeros((n_frames, 2))
    else:
        d = np.asarray(drift, dtype=float)
        if d.shape != (n_frames, 2) or not np.isfinite(d).all():
            raise ParameterError(f"drift must be finite with shape ({n_frames}, 2) = (dy, dx) per frame, got {d.shape}")
        if np.any(d[0] != 0):
            raise ParameterError(
                f"drift[0] = {d[0].tolist()} must be (0, 0): drift is the position in frame i minus that in "
                "frame 0; subtract drift[0] from every row"
            )
    # ---- scene
    bg = _finite_scalar("background", background, low=0.0)
    tex = _finite_scalar("background_texture", background_texture, low=0.0)
    matrix = np.full((ny, nx), bg)
    if tex > 0:
        noise = ndimage.gaussian_filter(g.standard_normal((ny, nx)), 3.0, mode="reflect")
        noise /= noise.std() if noise.std() > 0 else 1.0
        matrix = np.maximum(bg * (1.0 + tex * noise), 0.0)
    intens = intensity_from_theta(th_in, calibration=calibration, contrast_full=contrast_full, table=table)
    sharp = np.broadcast_to(matrix, (n_frames, ny, nx)).copy()
    sharp[:, inside] = intens * bright[lab[inside] - 1]
    sigma = _psf_sigma_px(psf_fwhm_nm, pixel_size_nm)
    clean = psf_blur(sharp, psf_fwhm_nm=psf_fwhm_nm, pixel_size_nm=pixel_size_nm)
    del sharp
    spot_sigma = sigma if sigma > 0 else 1.0
    peak = _finite_scalar("reference_peak", reference_peak, low=0.0)
    spots = _place_spots(lab, reference_spots, spot_sigma, float(np.abs(d).max()), g)
    if spots.size:
        clean += _spot_image((ny, nx), spots, spot_sigma, peak)
    # ---- contrast truth
    contrast = np.full(clean.shape, np.nan)
    ref = clean[0][inside]
    contrast[:, inside] = (clean[:, inside] - ref) / ref
    # ---- camera
    frames = clean.copy()
    for i in range(n_frames):
        if np.any(d[i] != 0):
            frames[i] = ndimage.shift(clean[i], d[i], order=3, mode="nearest")
    if photons is not None:
        ph = _finite_scalar("photons", photons, low=0.0, low_open=True)
        frames = g.poisson(np.maximum(frames, 0.0) * ph) / ph
    rn = _finite_scalar("read_noise", read_noise, low=0.0)
    if rn > 0:
        frames = frames + g.normal(0.0, rn, size=frames.shape)
    cpu = None
    if dtype == "uint16":
        cpu = float(counts_per_unit) if counts_per_unit is not None else (
            float(photons) if photons is not None else _DEFAULT_COUNTS_PER_UNIT)
        _finite_scalar("counts_per_unit", cpu, low=0.0, low_open=True)
        frames = np.clip(np.rint(frames * cpu), 0, 65535).astype(np.uint16)
    elif dtype != "float64":
        raise ParameterError(f"dtype = {dtype!r} must be 'float64' or 'uint16'")
    return SyntheticMovie(
        frames=frames, time_s=t, labels=lab, clean=clean, contrast=contrast, drift=d, theta=th,
        reference_spots=spots, pixel_size_nm=float(pixel_size_nm), soc=s, psf_sigma_px=sigma,
        counts_per_unit=cpu,
        meta={"calibration": calibration, "contrast_full": contrast_full, "background": bg,
              "background_texture": tex, "photons": photons, "read_noise": rn, "psf_fwhm_nm": psf_fwhm_nm,
              "spot_sigma_px": spot_sigma, "reference_peak": peak},
    )


# --------------------------------------------------------------------------------------------
# per-particle occupancy through a half-cycle
# --------------------------------------------------------------------------------------------

_LN9 = float(np.log(9.0))


@dataclass
class SocTraces:
    """Per-particle occupancy through one half-cycle, with the true transition of each particle.

    ``onset_soc``, ``midpoint_soc`` and ``width_soc`` follow the definitions of
    :mod:`socscope.observe.asynchrony` (the SOC at 10 % and 50 % of the particle's
    change within the half-cycle, and the SOC between 10 % and 90 %); NaN for
    particles that do not react.
    """

    soc: np.ndarray
    theta: np.ndarray
    onset_soc: np.ndarray
    midpoint_soc: np.ndarray
    width_soc: np.ndarray
    reacted: np.ndarray

    def table(self) -> pd.DataFrame:
        """One row per particle: ``particle``, ``onset_soc``, ``midpoint_soc``, ``width_soc``, ``reacted``."""
        return pd.DataFrame({
            "particle": np.arange(self.reacted.size), "onset_soc": self.onset_soc,
            "midpoint_soc": self.midpoint_soc, "width_soc": self.width_soc, "reacted": self.reacted,
        })


def _draw_transitions(kind: str, n: int, g: np.random.Generator, s0: float, s1: float):
    span = abs(s1 - s0)
    if kind == "asynchronous":
        # (Sharma et al., Nano Lett. 2022) first charge: step-like switches spread over about half of the SOC range
        width = g.uniform(0.05, 0.12, n) * span
        onset = g.uniform(0.1, 0.6, n) * span
    elif kind == "synchronous":
        # (Sharma et al., Nano Lett. 2022) later charges: every particle changes gradually over the whole half-cycle
        width = g.uniform(0.75, 0.9, n) * span
        onset = (0.5 + g.normal(0.0, 0.01, n)) * span - width / 2
    else:
        raise ParameterError(f"kind = {kind!r} must be 'asynchronous' or 'synchronous'")
    travel = 1.0 if s1 >= s0 else -1.0
    return s0 + travel * onset, width


def soc_traces(soc, *, onset_soc=None, width_soc=None, kind: str | None = None, n_particles: int | None = None,
               rng=None, reacted=None, theta_start=1.0, theta_end=0.0,
               conserve_charge: bool = False) -> SocTraces:
    """Per-particle occupancy θ(SOC) for one half-cycle in which particles switch on at different SOCs.

    Construction (default, ``conserve_charge=False``): particle *k* follows a
    logistic in SOC, normalised to the half-cycle window so that it starts
    exactly at ``theta_start`` and ends exactly at ``theta_end``::

        L_k(s) = expit(τ (s − m_k) / w_k),  τ = sign(soc[-1] − soc[0])
        P_k(s) = (L_k(s) − L_k(soc[0])) / (L_k(soc[-1]) − L_k(soc[0]))
        θ_k(s) = theta_start + (theta_end − theta_start) · P_k(s)

    with ``w_k = width_soc / (2 ln 9)`` and ``m_k = onset_soc + τ width_soc / 2``
    (so that, before the normalisation, the logistic is at 10 % at ``onset_soc``
    and goes from 10 % to 90 % over ``width_soc``). Every reacting particle
    therefore changes by exactly ``theta_end − theta_start`` over the half-cycle,
    so when all particles react the mean over particles has passed exactly the
    charge of the half-cycle at its end (``theta_start − theta_end`` ↔ the SOC span);
    in between, the mean follows the charge only on average over onsets.

    With ``conserve_charge=True`` the same logistics are laid out on an internal
    reaction coordinate ``u`` (running over the same SOC window) and the SOC of
    every sample is the mean progress of the reacting particles,
    ``(s − soc[0]) / (soc[-1] − soc[0]) = mean_k P_k(u)``: the field of view then
    holds all the charge at every instant (particles reacting alone take the
    whole current). The traces are resampled at the given SOCs by inverting this
    map; the true onsets, midpoints and widths are those of the resulting curves.

    Parameters
    ----------
    soc : array_like, shape (n_samples,)
        SOC samples of the half-cycle, monotone (increasing on charge, decreasing on discharge).
    onset_soc, width_soc : array_like (n_particles,) or float
        Logistic onset (10 % point) and 10–90 % width of each particle [SOC].
    kind : {"asynchronous", "synchronous"}, optional
        Draw onsets and widths at random instead (needs ``n_particles`` and ``rng``):
        asynchronous — onsets uniform over 10–60 % of the half-cycle, widths 5–12 % of it
        (the step-like first charge of (Sharma et al., Nano Lett. 2022), Figs. 1c and 2); synchronous — midpoints
        at 50 % ± 1 %, widths 75–90 % of the half-cycle (the gradual later charges,
        (Sharma et al., Nano Lett. 2022) Figs. 1c and 3).
    n_particles : int, optional
    rng : numpy.random.Generator or int, optional
    reacted : array_like of bool (n_particles,), optional
        False for particles that never react (e.g. electrically isolated); they stay at ``theta_start``.
    theta_start, theta_end : float or array_like (n_particles,)
        Occupancy at the start and end of the half-cycle.
    conserve_charge : bool
        See above.

    Returns
    -------
    SocTraces
        ``theta`` has shape (n_samples, n_particles).

    Examples
    --------
    >>> tr = soc_traces(np.linspace(0, 1, 101), onset_soc=[0.2, 0.5], width_soc=0.1)
    >>> tr.theta.shape, tr.onset_soc.round(3).tolist()
    ((101, 2), [0.2, 0.5])
    """
    s = np.asarray(soc, dtype=float)
    if s.ndim != 1 or s.size < 2 or not np.isfinite(s).all():
        raise ParameterError(f"soc must be a 1-D array of at least 2 finite values, got shape {s.shape}")
    d = np.diff(s)
    if not (np.all(d >= 0) or np.all(d <= 0)) or s[0] == s[-1]:
        raise ParameterError(
            "soc must be monotone over one half-cycle and change from start to end; split a cycle into "
            "half-cycles first"
        )
    s0, s1 = float(s[0]), float(s[-1])
    tau = 1.0 if s1 > s0 else -1.0
    if kind is not None:
        if n_particles is None:
            raise ParameterError("kind=... needs n_particles")
        onset, width = _draw_transitions(kind, int(n_particles), _rng(rng), s0, s1)
    else:
        if onset_soc is None or width_soc is None:
            raise ParameterError("give onset_soc and width_soc, or kind='asynchronous'/'synchronous'")
        onset, width = np.broadcast_arrays(np.atleast_1d(np.asarray(onset_soc, dtype=float)),
                                           np.atleast_1d(np.asarray(width_soc, dtype=float)))
        onset, width = onset.astype(float).ravel(), width.astype(float).ravel()
    n = onset.size
    if not (np.isfinite(onset).all() and np.isfinite(width).all()) or width.min() <= 0:
        raise ParameterError(f"onset_soc must be finite and width_soc > 0, got widths {width.tolist()}")
    rc = np.ones(n, bool) if reacted is None else np.broadcast_to(np.asarray(reacted, dtype=bool), (n,)).copy()
    ts = np.broadcast_to(np.asarray(theta_start, dtype=float), (n,))
    te = np.broadcast_to(np.asarray(theta_end, dtype=float), (n,))
    _check_theta(ts, "theta_start")
    _check_theta(te, "theta_end")
    w = width / (2 * _LN9)
    m = onset + tau * width / 2

    def progress(x):
        L = expit(tau * (x[:, None] - m) / w)
        La = expit(tau * (s0 - m) / w)
        Lb = expit(tau * (s1 - m) / w)
        if np.any(np.abs(Lb - La) < 1e-12):
            k = int(np.argmax(np.abs(Lb - La) < 1e-12))
            raise ParameterError(
                f"particle {k}: its transition (onset {onset[k]:g}, width {width[k]:g}) lies outside the "
                f"half-cycle's SOC window [{min(s0, s1):g}, {max(s0, s1):g}]; move the onset into it"
            )
        return (L - La) / (Lb - La), La, Lb

    nan = np.full(n, np.nan)
    if not conserve_charge:
        P, La, Lb = progress(s)

        def at(q):  # SOC where the window-normalised progress reaches q
            return m + tau * w * logit(La + q * (Lb - La))

        on, mid, hi = at(0.1), at(0.5), at(0.9)
    else:
        if not rc.any():
            raise ParameterError("conserve_charge=True needs at least one reacting particle")
        u = np.linspace(s0, s1, 20001)
        Pu, La, Lb = progress(u)
        mean_p = Pu[:, rc].mean(axis=1)
        frac = np.maximum.accumulate(mean_p)  # monotone (it is, up to round-off)
        sigma = (s - s0) / (s1 - s0)
        u_of_s = np.interp(sigma, frac, u)
        P, _, _ = progress(u_of_s)

        def at(q):
            uq = m + tau * w * logit(La + q * (Lb - La))
            return s0 + (s1 - s0) * np.interp(tau * (uq - s0), tau * (u - s0), frac)

        on, mid, hi = at(0.1), at(0.5), at(0.9)
    P = np.where(rc, P, 0.0)
    theta = ts + (te - ts) * P
    return SocTraces(
        soc=s, theta=theta,
        onset_soc=np.where(rc, on, nan), midpoint_soc=np.where(rc, mid, nan),
        width_soc=np.where(rc, np.abs(hi - on), nan), reacted=rc,
    )
