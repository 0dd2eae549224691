"""A synthetic operando optical movie of an electrode's top layer, seen from above.

An operando optical microscope looks at the electrode from the side opposite
the current collector and sees the particles of its top layer. This module
renders that view from a network-electrode result
(:func:`socscope.simulate.simulate_electrode`) through the microscope model of
:mod:`socscope.observe.optical`, so the simulated movie can go through the
same optical analysis as a measured one:

1. **Scene.** The particles flagged ``top`` become discs of their radius at
   their in-plane position: ``(x, y)`` for a 3D layout; for a 2D layout (a
   cross-section with positions ``(x, z)``) their centres lie on one line, the
   middle row of the image. Where discs overlap, a pixel shows the particle
   whose sphere is highest there, ``z + √(R² − ρ²)`` with ``ρ`` the pixel's
   in-plane distance from the centre (a view from above hides the lower
   sphere). Pixel centres sit at integer coordinates; the image spans the
   discs plus a margin of two PSF widths.
2. **Intensity.** Each particle is uniform, with its surface occupancy
   (``theta_particle_surface``, default: reflected light probes the surface)
   or its mean occupancy (``theta_particle_mean``) converted by
   :func:`~socscope.observe.optical.intensity_from_theta`.
3. **Microscope.** :func:`~socscope.observe.optical.synthetic_movie`: matrix
   background, Gaussian PSF blur, optional reference spots, shot and read
   noise. Frame times are the result's sample times; the cell SOC
   (:func:`~socscope.observe.electrode.cell_soc`) is stored with the frames.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..errors import ParameterError
from .electrode import _result, cell_soc
from .optical import (
    FWHM_TO_SIGMA,
    SyntheticMovie,
    _finite_scalar,
    _rng,
    synthetic_movie,
)

__all__ = ["render_top_layer"]

#: per-particle occupancy variable for each ``signal``
_SIGNALS = {"surface": "theta_particle_surface", "mean": "theta_particle_mean"}


def _top_scene(ds: xr.Dataset, pixel_size_nm: float, psf_fwhm_nm: float | None, *, n_frames=None):
    """Label image of the top particles seen from above, and what it was built from.

    Returns ``labels`` (ny, nx) int32, ``particle`` (n,) dataset particle index
    of label ``k + 1``, ``centres_px`` (n, 2) row/column of the centres,
    ``radii_px`` (n,), ``origin`` (2,) in-plane position [m] of pixel (0, 0).
    """
    for name in ("top", "radius", "x", "z"):
        if name not in ds.variables:
            raise ParameterError(
                f"the dataset has no {name!r}; render_top_layer needs a network-electrode result "
                "(socscope.simulate.simulate_electrode) with per-particle 'top', 'radius', 'x' and 'z'"
            )
    top = np.asarray(ds["top"].values, dtype=bool)
    if not top.any():
        raise ParameterError("no particle of this electrode is flagged 'top'; nothing is seen from above")
    idx = np.flatnonzero(top)
    radius = np.asarray(ds["radius"].values, dtype=float)[idx]
    x = np.asarray(ds["x"].values, dtype=float)[idx]
    z = np.asarray(ds["z"].values, dtype=float)[idx]
    three_d = "y" in ds.variables
    px = pixel_size_nm * 1e-9
    blur = (psf_fwhm_nm or 0.0) * 1e-9
    margin = math.ceil(2.0 * blur / px) + 2  # pixels beyond the outermost disc edge
    r_px = radius / px
    x0 = float(np.min(x - radius)) - margin * px
    nx = math.ceil((float(np.max(x + radius)) - x0) / px) + margin + 1
    col = (x - x0) / px
    if three_d:
        y = np.asarray(ds["y"].values, dtype=float)[idx]
        y0 = float(np.min(y - radius)) - margin * px
        ny = math.ceil((float(np.max(y + radius)) - y0) / px) + margin + 1
        row = (y - y0) / px
    else:
        half = math.ceil(float(r_px.max())) + margin
        ny = 2 * half + 1
        row = np.full(idx.size, float(half))
        y0 = -half * px
    if ny * nx > 2**28:
        raise ParameterError(
            f"the top layer at {pixel_size_nm:g} nm per pixel is {ny} x {nx} pixels; raise pixel_size_nm"
        )
    if n_frames is not None and n_frames * ny * nx * 8 > MAX_MOVIE_BYTES:  # before any image is built
        need = n_frames * ny * nx * 8
        raise ParameterError(
            f"render_top_layer: {n_frames} frames of {ny} x {nx} pixels at {pixel_size_nm:g} nm would take "
            f"{need / 2**30:.1f} GiB (the limit is {MAX_MOVIE_BYTES / 2**30:g} GiB); raise pixel_size_nm "
            f"(e.g. 100), or render a few frames at a time, e.g. frames=slice(0, {max(1, MAX_MOVIE_BYTES // (ny * nx * 8))})")
    height = np.full((ny, nx), -np.inf)
    labels = np.zeros((ny, nx), dtype=np.int32)
    for k in range(idx.size):
        cy, cx, rk = row[k], col[k], r_px[k]
        i0, i1 = max(math.floor(cy - rk), 0), min(math.ceil(cy + rk) + 1, ny)
        j0, j1 = max(math.floor(cx - rk), 0), min(math.ceil(cx + rk) + 1, nx)
        yy, xx = np.mgrid[i0:i1, j0:j1]
        rho2 = (yy - cy) ** 2 + (xx - cx) ** 2
        inside = rho2 < rk * rk
        h = z[k] + np.sqrt(np.maximum(radius[k] ** 2 - rho2 * px * px, 0.0))
        win = height[i0:i1, j0:j1]
        take = inside & (h > win)
        win[take] = h[take]
        labels[i0:i1, j0:j1][take] = k + 1
    # particles hidden under others (or smaller than a pixel) drop out; the rest are renumbered 1..n
    seen = np.zeros(idx.size + 1, dtype=bool)
    seen[np.unique(labels)] = True
    seen[0] = False
    new = np.zeros(idx.size + 1, dtype=np.int32)
    new[seen] = np.arange(1, int(seen.sum()) + 1, dtype=np.int32)
    keep = seen[1:]
    if not keep.any():
        raise ParameterError(
            f"no top particle covers a pixel centre at {pixel_size_nm:g} nm per pixel; lower pixel_size_nm"
        )
    return (new[labels], idx[keep], np.column_stack([row, col])[keep], r_px[keep],
            np.array([y0, x0]))


def _frame_selection(frames, n_time: int) -> np.ndarray:
    """Sample indices that ``frames`` (None, an index, a slice, indices or a boolean mask) picks of ``n_time``."""
    if frames is None:
        return np.arange(n_time)
    if isinstance(frames, slice):
        return np.arange(n_time)[frames]
    f = np.asarray(frames)
    if f.dtype == bool:
        if f.shape != (n_time,):
            raise ParameterError(f"frames: a boolean mask needs one entry per time sample ({n_time}), "
                                 f"got shape {f.shape}")
        return np.flatnonzero(f)
    if f.dtype.kind not in "iu" or f.ndim > 1:
        raise ParameterError(f"frames = {frames!r} must be sample indices (integers 0..{n_time - 1}), a slice or "
                             "a boolean mask over the times, e.g. frames=slice(0, None, 10)")
    if f.size and (f.min() < -n_time or f.max() >= n_time):
        raise ParameterError(f"frames = {frames!r}: the run has {n_time} time samples; indices must lie in "
                             f"0..{n_time - 1} (or -{n_time}..-1 from the end)")
    return np.arange(n_time)[f]


#: the largest movie render_top_layer builds in memory at once [bytes] (frames x pixels x 8)
MAX_MOVIE_BYTES = 2**30


def render_top_layer(
    ds: xr.Dataset,
    *,
    pixel_size_nm: float = 100.0,
    psf_fwhm_nm: float | None = 265.0,
    contrast_full: float = 0.62,
    signal: str = "surface",
    background: float = 0.3,
    photons: float | None = None,
    read_noise: float = 0.0,
    reference_spots=0,
    dtype: str = "float64",
    frames=None,
    rng=None,
) -> SyntheticMovie:
    """Render the top layer of a network-electrode result as an operando optical movie.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`~socscope.simulate.simulate_electrode` result: per particle
        ``top``, ``radius`` [m], ``x``, ``z`` (and ``y`` for 3D layouts) [m],
        and (time, particle) ``theta_particle_surface`` / ``theta_particle_mean``.
    pixel_size_nm : float
        Pixel size in the sample plane [nm].
    psf_fwhm_nm : float or None
        FWHM of the Gaussian point-spread function [nm]; None or 0: no blur.
    contrast_full : float
        Relative intensity change at full delithiation (linear calibration of
        :func:`~socscope.observe.optical.intensity_from_theta`).
    signal : {"surface", "mean"}
        Occupancy that sets each particle's intensity: its surface θ or its
        volume-mean θ.
    background : float
        Intensity of the matrix between particles (relative units).
    photons : float, optional
        Photo-electrons per unit intensity per pixel (shot noise); None: none.
    read_noise : float
        Standard deviation of Gaussian read noise (intensity units).
    reference_spots : int or array_like (k, 2)
        Bright fixed spots in the matrix for drift fitting (number, or
        ``(row, column)`` positions); default none.
    dtype : {"float64", "uint16"}
        Frame type, see :func:`~socscope.observe.optical.synthetic_movie`.
    frames : slice or array_like of int, optional
        Which samples of ``ds.time`` to render (default all). The SOC stored
        with the frames is that of the whole run.
    rng : numpy.random.Generator or int, optional
        Source of the noise and spot positions.

    Returns
    -------
    SyntheticMovie
        Frames ``(n_frames, ny, nx)`` with ``time_s`` the sample times [s] and
        ``soc`` the cell SOC; ``labels`` are 1..n for the visible top particles,
        and ``meta["particle"]`` holds the dataset particle index of label
        ``k + 1`` at position ``k``; ``meta["origin_m"]`` the in-plane position
        (y, x) [m] of pixel (0, 0) (for 2D layouts y is the offset from the
        line of centres); ``meta["signal"]`` the variable rendered.

    Raises
    ------
    ParameterError
        For a dataset without the per-particle geometry, no top particle, a
        pixel size that hides every particle or makes the image too large, or
        an option out of range.

    Notes
    -----
    Memory: about four float64 stacks of ``n_frames × ny × nx`` while rendering
    (see :func:`~socscope.observe.optical.synthetic_movie`); render long runs
    in pieces with ``frames`` (the labels are the same for every piece).

    Examples
    --------
    >>> import socscope as ss, numpy as np                                       # doctest: +SKIP
    >>> lay = ss.geometry.random_layout(20, rng=np.random.default_rng(0))         # doctest: +SKIP
    >>> ds = ss.simulate_electrode(ss.materials.get("nmc532"), lay, "Charge at C/20 for 5 hours")  # doctest: +SKIP
    >>> movie = render_top_layer(ds, pixel_size_nm=100, rng=0)                     # doctest: +SKIP
    >>> movie.particle_means().shape == (ds.sizes["time"], movie.n_particles)     # doctest: +SKIP
    True
    """
    if not isinstance(signal, str) or signal not in _SIGNALS:
        raise ParameterError(f"signal = {signal!r} must be 'surface' (surface θ) or 'mean' (volume-mean θ)")
    var = _SIGNALS[signal]
    _result(ds, "render_top_layer", ())
    if var not in ds or ds[var].dims != ("time", "particle"):
        raise ParameterError(f"the dataset has no (time, particle) variable {var!r} to render (signal={signal!r})")
    px = _finite_scalar("pixel_size_nm", pixel_size_nm, low=0.0, low_open=True)
    if psf_fwhm_nm is not None:
        psf_fwhm_nm = _finite_scalar("psf_fwhm_nm", psf_fwhm_nm, low=0.0, fix=" (use None or 0 for no blur)")
    n_time = ds.sizes["time"]
    sel = np.atleast_1d(_frame_selection(frames, n_time))
    if sel.size == 0:
        raise ParameterError(f"frames = {frames!r} selects no sample of the {n_time} times")
    # _top_scene refuses a movie above MAX_MOVIE_BYTES before it builds any image
    labels, particle, centres, radii, origin = _top_scene(ds, px, psf_fwhm_nm, n_frames=sel.size)
    theta = np.asarray(ds[var].values, dtype=float)[np.ix_(sel, particle)]
    soc = cell_soc(ds)[sel] if "theta_mean" in ds else None
    movie = synthetic_movie(
        theta, labels=labels, time_s=np.asarray(ds["time"].values, dtype=float)[sel], soc=soc,
        pixel_size_nm=px, psf_fwhm_nm=psf_fwhm_nm, contrast_full=contrast_full, background=background,
        reference_spots=reference_spots, photons=photons, read_noise=read_noise, dtype=dtype, rng=_rng(rng),
    )
    movie.meta.update({
        "particle": particle,
        "centres_px": centres,
        "radii_px": radii,
        "origin_m": origin,
        "signal": var,
        "psf_sigma_nm": (psf_fwhm_nm or 0.0) * FWHM_TO_SIGMA,
    })
    return movie
