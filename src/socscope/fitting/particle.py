"""Fit one particle's transport and kinetics to its operando optical movie.

The measured side (:func:`prepare_particle_data`): the movie is drift-corrected
(reference spot or cross-correlation, :mod:`socscope.analysis.optical.drift`),
the particles are segmented on the first frame, and the chosen particle's
differential contrast ``(I_i − I_1)/I_1`` is cropped around it together with its
mask, its brightness and the background level, the recorded current (as a
protocol) and voltage at the frame times.

The model side: the particle's own shape, taken from its mask (coarsened so that
it spans about ``cells_across`` cells), is simulated with
:func:`socscope.simulate_particle` under the recorded current; each frame's θ is
painted on the mask's pixels, turned into intensity with the linear calibration
of :func:`socscope.observe.optical.intensity_from_theta`, placed on the measured
background and blurred with the microscope's Gaussian PSF
(:func:`socscope.observe.optical.psf_blur`); its differential contrast is compared
pixel by pixel, frame by frame, with the measured one (which holds the centre
trace and every line profile, the comparisons of Xu et al. (Joule 2022) Fig. 3C–F),
each residual divided by the measured noise. The cell voltage, where recorded,
adds one residual per frame: in a galvanostatic record it is what carries the
kinetics (k0), which do not change the θ field of a particle whose surface is
uniformly active.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from .._checks import positive_float, whole_number
from ..errors import ParameterError, SocscopeWarning
from ..geometry import Mask, Sphere
from ..materials import as_material
from ..observe.optical import intensity_from_theta, psf_blur
from ._core import (
    NOT_IDENTIFIABLE,
    FitResult,
    Parameter,
    least_squares_fit,
    noise_sigma,
    parameter_set,
)
from ._model import current_protocol, material_variant, reference_rate_constant

__all__ = [
    "FREE_PARTICLE_PARAMETERS",
    "ParticleData",
    "fit_particle_movie",
    "particle_parameters",
    "prepare_particle_data",
    "render_particle",
    "sphere_pixels",
]

#: parameters :func:`fit_particle_movie` can fit
FREE_PARTICLE_PARAMETERS = ("alpha", "d_shape", "k0", "contrast_full")
#: smallest noise assumed for the contrast of one pixel and for the voltage [V]
#: (a perfect synthetic record would otherwise give infinite weights)
MIN_CONTRAST_NOISE = 1e-4
MIN_VOLTAGE_NOISE_V = 1e-4
#: most cycler voltage samples a particle fit compares (evenly spaced over the movie)
MAX_VOLTAGE_SAMPLES = 60


@dataclass
class ParticleData:
    """One particle's measured movie, ready to fit.

    Attributes
    ----------
    contrast : ndarray (n_frames, ny, nx)
        Differential contrast, NaN outside ``mask``.
    mask : ndarray of bool (ny, nx)
    time_s : ndarray (n_frames,)
        Frame times from the start of the simulated record [s].
    pixel_size_nm : float
    brightness, background : float
        First-frame intensity of the particle (median of its inner pixels) and
        of the matrix around it.
    protocol : list of str
        The recorded current as experiment sentences, from frame 0 on.
    voltage_V : ndarray or None
        Recorded voltage at the frame times.
    voltage_samples : (ndarray, ndarray) or None
        ``(time_s, voltage_V)`` of the cycler's own samples after frame 0 and up to
        the last frame (time from frame 0), at most :data:`MAX_VOLTAGE_SAMPLES`
        of them evenly spaced: what the fit compares (the noise is estimated
        from all of them).
    contrast_noise, voltage_noise_V : float
        Noise standard deviation of one pixel's contrast and of the voltage.
    intensity : ndarray (n_frames, ny, nx)
        Drift-corrected intensities of the crop: what the fit compares (their
        noise is independent from frame to frame, that of a contrast is not:
        every contrast of a pixel shares the noise of its first frame).
    region : ndarray of bool (ny, nx)
        Pixels compared: the particle and the background within reach of its
        blur (other particles excluded).
    intensity_noise : ndarray (ny, nx)
        Noise standard deviation of each pixel's intensity, from the model
        ``σ² = a + b·I`` (read plus shot noise) fitted to the pixels' second
        differences in time.
    origin_px : (int, int)
        Row and column of the crop's corner in the corrected movie.
    drift_px : ndarray (n_frames, 2) or None
    label : int
        The particle's label in the segmentation.
    """

    contrast: np.ndarray
    mask: np.ndarray
    time_s: np.ndarray
    pixel_size_nm: float
    brightness: float
    background: float
    protocol: list
    voltage_V: np.ndarray | None = None
    contrast_noise: float = MIN_CONTRAST_NOISE
    voltage_noise_V: float = MIN_VOLTAGE_NOISE_V
    intensity: np.ndarray | None = None
    voltage_samples: tuple | None = None
    region: np.ndarray | None = None
    intensity_noise: np.ndarray | None = None
    origin_px: tuple = (0, 0)
    drift_px: np.ndarray | None = None
    label: int = 1
    meta: dict = field(default_factory=dict)

    @property
    def centre_px(self) -> tuple[int, int]:
        """The mask pixel farthest from the outline (the particle's centre)."""
        d = ndimage.distance_transform_edt(self.mask)
        return tuple(int(v) for v in np.unravel_index(int(np.argmax(d)), d.shape))


def _crop(mask: np.ndarray, margin: int):
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1 = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, mask.shape[0])
    c0, c1 = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, mask.shape[1])
    return slice(r0, r1), slice(c0, c1)


def prepare_particle_data(frames, time_s, *, pixel_size_nm: float, cycler: pd.DataFrame | None = None,
                          mass_g: float | None = None, current_A=None, particle: int | None = None,
                          labels=None, drift: str = "gaussian", reference_spot="auto",
                          time_offset_s: float = 0.0, psf_fwhm_nm: float | None = 265.0,
                          max_frames: int | None = None) -> ParticleData:
    """Drift-correct a movie, pick one particle and gather what a fit compares.

    Parameters
    ----------
    frames : array_like (n_frames, y, x)
        Intensities (any unit; only ratios are used).
    time_s : array_like (n_frames,)
        Frame times [s] on the movie's clock.
    pixel_size_nm : float
    cycler : pandas.DataFrame, optional
        Record with ``time_s``, ``current_A`` (and ``voltage_V``), e.g. from
        :func:`socscope.io.load_cycler`; its clock is the movie's plus ``time_offset_s``.
    mass_g : float
        Active mass of the electrode [g], to share the current out per gram.
    current_A : (array_like, array_like), optional
        ``(time_s, current_A)`` instead of a cycler record (no voltage then).
    particle : int, optional
        Label of the particle (numbered by :func:`~socscope.analysis.optical.segment.segment_particles`,
        raster order); default the largest not touching the edge.
    labels : array_like of int, optional
        Particle labels instead of the segmentation. Without them the chosen
        particle's outline is redrawn at the level halfway between its
        brightness and the matrix's on the first frame (where a blurred edge
        has its true position), since the field-wide threshold of the
        segmentation can sit a pixel off it, and the particle's size sets the
        current density.
    drift : {"gaussian", "xcorr", "none"}
    reference_spot : (y, x), "auto"
        For ``drift="gaussian"``.
    time_offset_s : float
        Cycler time of the movie's time 0.
    psf_fwhm_nm : float or None
        Sets the margin kept around the particle (3 PSF widths).
    max_frames : int, optional
        Keep at most this many frames, evenly spaced, always the first and last.
    """
    from ..analysis.optical.contrast import differential_contrast
    from ..analysis.optical.drift import (
        drift_gaussian,
        drift_xcorr,
        pick_reference_spot,
        shift_frames,
    )
    from ..analysis.optical.segment import segment_particles

    p_nm = positive_float("pixel_size_nm", pixel_size_nm, unit=" nm", example="34.7")
    stack = np.asarray(frames, dtype=float)
    if stack.ndim != 3 or stack.shape[0] < 3:
        raise ParameterError(f"frames must be a stack (n_frames >= 3, y, x), got shape {stack.shape}")
    t = np.asarray(time_s, dtype=float)
    if t.shape != (stack.shape[0],) or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ParameterError(f"time_s must be {stack.shape[0]} increasing frame times [s]")
    if max_frames is not None:
        max_frames = whole_number("max_frames", max_frames, minimum=3, example=40)
        if stack.shape[0] > max_frames:
            keep = np.unique(np.round(np.linspace(0, stack.shape[0] - 1, max_frames)).astype(int))
            stack, t = stack[keep], t[keep]
    if drift == "gaussian":
        spot = pick_reference_spot(stack[0]) if isinstance(reference_spot, str) else reference_spot
        d = drift_gaussian(stack, spot)
    elif drift == "xcorr":
        d = drift_xcorr(stack)
    elif drift == "none":
        d = np.zeros((stack.shape[0], 2))
    else:
        raise ParameterError(f"drift = {drift!r} must be 'gaussian', 'xcorr' or 'none'")
    corrected = shift_frames(stack, d) if np.any(d != 0) else stack
    lab = segment_particles(corrected[0]) if labels is None else np.asarray(labels)
    if lab.shape != stack.shape[1:]:
        raise ParameterError(f"labels have shape {lab.shape}, the frames {stack.shape[1:]}")
    n_lab = int(lab.max())
    if n_lab < 1:
        raise ParameterError("no particle was found on the first frame; give labels or check the movie")
    if particle is None:
        sizes = np.bincount(lab.ravel(), minlength=n_lab + 1)[1:].astype(float)
        edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
        for e in edge[edge > 0]:
            sizes[e - 1] = -1
        particle = int(np.argmax(sizes)) + 1
    particle = whole_number("particle", particle, minimum=1, example=1)
    if particle > n_lab:
        raise ParameterError(f"particle = {particle}: the movie has particles 1..{n_lab}; pick one of them")
    mask_full = lab == particle
    sigma_px = 0.0 if not psf_fwhm_nm else float(psf_fwhm_nm) / 2.3548 / p_nm
    margin = math.ceil(3 * sigma_px) + 2
    rs, cs = _crop(mask_full, margin)
    mask = mask_full[rs, cs]
    inner = ndimage.binary_erosion(mask, iterations=max(math.ceil(2 * sigma_px), 1))
    if inner.sum() < 5:
        inner = mask
    first = corrected[0][rs, cs]
    brightness = float(np.median(first[inner]))
    ring = ndimage.binary_dilation(mask_full, iterations=margin)[rs, cs] & (lab[rs, cs] == 0)
    ring &= ~ndimage.binary_dilation(mask, iterations=max(math.ceil(3 * sigma_px), 1))
    background = float(np.median(first[ring])) if ring.sum() >= 5 else 0.0
    if labels is None and ring.sum() >= 5:
        # the segmentation's threshold is set for the whole field; a blurred edge crosses the level halfway
        # between the particle and the matrix where the true edge lies (a symmetric PSF on a straight edge):
        # redraw the outline there, keeping the piece that holds the segmented particle's centre
        half = first > 0.5 * (brightness + background)
        half &= (lab[rs, cs] == 0) | mask
        pieces, _ = ndimage.label(half)
        d_in = ndimage.distance_transform_edt(mask)
        centre = np.unravel_index(int(np.argmax(d_in)), mask.shape)
        if pieces[centre] > 0:
            redrawn = ndimage.binary_fill_holes(pieces == pieces[centre])
            if 0.5 * mask.sum() <= redrawn.sum() <= 2.0 * mask.sum():
                mask = redrawn
                lab = lab.copy()
                lab[rs, cs][lab[rs, cs] == particle] = 0
                sub = lab[rs, cs]
                sub[mask] = particle
                lab[rs, cs] = sub
    contrast = differential_contrast(corrected[:, rs, cs], first)
    contrast = np.where(mask, contrast, np.nan)
    noise = noise_sigma(contrast[:, mask], axis=0) if contrast.shape[0] >= 3 else math.nan
    noise = max(noise if math.isfinite(noise) else 0.0, MIN_CONTRAST_NOISE)
    region = ndimage.binary_dilation(mask, iterations=math.ceil(2 * sigma_px) + 1)
    region &= (lab[rs, cs] == 0) | mask
    inten = corrected[:, rs, cs]
    inoise = _intensity_noise(inten, region)
    t_cyc = t + float(time_offset_s)
    volt = None
    vsamples = None
    vnoise = MIN_VOLTAGE_NOISE_V
    if cycler is not None:
        missing = [c for c in ("time_s", "current_A") if c not in cycler.columns]
        if missing:
            raise ParameterError(f"the cycler record lacks columns {missing}; read it with socscope.io.load_cycler")
        ct = cycler["time_s"].to_numpy(float)
        ci = cycler["current_A"].to_numpy(float)
        if "voltage_V" in cycler.columns:
            cv = cycler["voltage_V"].to_numpy(float)
            volt = np.interp(t_cyc, ct, cv)
            sel = (ct > t_cyc[0]) & (ct <= t_cyc[-1])
            vsamples = (ct[sel] - t_cyc[0], cv[sel])
            if vsamples[0].size > MAX_VOLTAGE_SAMPLES:
                # every sample is one more recorded time of every simulation: keep evenly spaced ones
                keep = np.unique(np.round(np.linspace(0, vsamples[0].size - 1, MAX_VOLTAGE_SAMPLES)).astype(int))
                vsamples = (vsamples[0][keep], vsamples[1][keep])
            if sel.sum() >= 3:
                vn = noise_sigma(cv[sel])
                vnoise = max(vn if math.isfinite(vn) else 0.0, MIN_VOLTAGE_NOISE_V)
    elif current_A is not None:
        ct, ci = (np.asarray(a, dtype=float) for a in current_A)
    else:
        raise ParameterError("give the recorded current: cycler=<record> or current_A=(time_s, current_A)")
    if ct[0] > t_cyc[0] + 1e-9 or ct[-1] < t_cyc[-1] - 1e-9:
        raise ParameterError(f"the current record spans {ct[0]:g}..{ct[-1]:g} s but the frames "
                             f"{t_cyc[0]:g}..{t_cyc[-1]:g} s (cycler clock); check time_offset_s")
    if mass_g is None:
        raise ParameterError("mass_g (active mass of the electrode, g) is needed to share the current out "
                             "per gram, e.g. 8.1e-3 (--mass-mg 8.1)")
    # the current from frame 0 to the last frame, on the simulation's clock (frame 0 = 0 s)
    inside = (ct > t_cyc[0]) & (ct < t_cyc[-1])
    tt = np.concatenate([[t_cyc[0]], ct[inside], [t_cyc[-1]]])
    ii = np.interp(tt, ct, ci)
    ii[:-1] = [ci[max(np.searchsorted(ct, x, side="right") - 1, 0)] for x in tt[:-1]]
    protocol = current_protocol(tt - t_cyc[0], ii, mass_g=float(mass_g), min_step_s=1e-6)
    return ParticleData(contrast=contrast, mask=mask, time_s=t - t[0], pixel_size_nm=p_nm,
                        brightness=brightness, background=background, protocol=protocol, voltage_V=volt,
                        contrast_noise=noise, voltage_noise_V=vnoise, origin_px=(rs.start, cs.start),
                        intensity=inten, region=region, voltage_samples=vsamples, intensity_noise=inoise,
                        drift_px=d, label=particle, meta={"mass_g": float(mass_g), "time_offset_s": float(time_offset_s),
                                                          "drift": drift})


def _intensity_noise(inten: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Per-pixel noise σ of the intensity from ``σ² = a + b·I`` fitted over ``region``."""
    series = inten[:, region]
    if series.shape[0] < 5:
        sig = noise_sigma(series, axis=0)
        return np.full(region.shape, max(sig if math.isfinite(sig) else 0.0, MIN_CONTRAST_NOISE))
    d2 = np.diff(series, n=2, axis=0)
    var = (d2 ** 2).mean(axis=0) / 6.0  # a second difference of white noise has variance 6 σ²
    mean = series.mean(axis=0)
    A = np.column_stack([np.ones_like(mean), mean])
    coef, *_ = np.linalg.lstsq(A, var, rcond=None)
    if coef[1] < 0:  # no shot-noise trend: one σ for all
        coef = np.array([float(np.median(var)), 0.0])
    img_mean = inten.mean(axis=0)
    v = coef[0] + coef[1] * img_mean
    floor = (MIN_CONTRAST_NOISE * max(float(np.median(mean)), 1e-12)) ** 2
    return np.sqrt(np.maximum(v, floor))


def render_particle(theta_pixels, mask, *, brightness: float, background: float, contrast_full: float,
                    psf_fwhm_nm: float | None, pixel_size_nm: float) -> np.ndarray:
    """Differential contrast a microscope would record from per-pixel θ of one particle.

    ``theta_pixels`` (n_frames, ny, nx) is read on ``mask`` only. Intensity
    ``brightness · (1 + contrast_full (1 − θ))`` on the particle, ``background``
    elsewhere, blurred by the Gaussian PSF; returns ``(I_i − I_0)/I_0`` (n_frames, ny, nx).
    """
    th = np.asarray(theta_pixels, dtype=float)
    sharp = np.full(th.shape, float(background))
    sharp[:, mask] = brightness * intensity_from_theta(np.clip(th[:, mask], 0.0, 1.0), contrast_full=contrast_full)
    img = psf_blur(sharp, psf_fwhm_nm=psf_fwhm_nm, pixel_size_nm=pixel_size_nm)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (img - img[0]) / img[0]


def _pixel_radius(mask: np.ndarray, pixel_m: float) -> np.ndarray:
    """Distance of each mask pixel (in ``mask`` order) from the mask's centroid [m]."""
    rr, cc = np.nonzero(mask)
    return np.hypot(rr - rr.mean(), cc - cc.mean()) * pixel_m


def sphere_pixels(theta_r, r_cells, rho) -> np.ndarray:
    """θ at distances ``rho`` [m] from the centre of a sphere with shells ``theta_r`` (n, n_shells) at ``r_cells``.

    The equatorial section of the sphere, interpolated linearly between shell
    centres (the outermost shell's value beyond it): the picture a sphere
    surrogate gives of a particle's mask.
    """
    th = np.asarray(theta_r, dtype=float)
    r = np.asarray(r_cells, dtype=float)
    rho = np.minimum(np.asarray(rho, dtype=float), r[-1])
    j = np.clip(np.searchsorted(r, rho) - 1, 0, r.size - 2)
    w = np.clip((rho - r[j]) / (r[j + 1] - r[j]), 0.0, 1.0)
    return th[:, j] * (1 - w) + th[:, j + 1] * w


class _ParticleForward:
    """Simulation + rendering of one particle for a set of parameter values."""

    def __init__(self, data: ParticleData, material, *, initial_theta: float, psf_fwhm_nm, cells_across,
                 flux: str, use_voltage: bool, shape: str = "mask", radius_m: float | None = None,
                 n_shells: int = 20):
        self.data = data
        self.material = as_material(material)
        self.initial_theta = initial_theta
        self.psf = psf_fwhm_nm
        self.flux = flux
        self.shape = shape
        self.use_voltage = use_voltage and data.voltage_samples is not None and data.voltage_samples[0].size > 0
        self.out_times = data.time_s if not self.use_voltage else np.unique(
            np.concatenate([data.time_s, data.voltage_samples[0]]))
        mask = data.mask
        pixel_m = data.pixel_size_nm * 1e-9
        if shape == "sphere":
            r = math.sqrt(mask.sum() / math.pi) * pixel_m if radius_m is None else float(radius_m)
            self.geometry = Sphere(r)
            self.sim_kw = {"n_cells": n_shells}
            self.rho = _pixel_radius(mask, pixel_m)
            self.factor = 1
            return
        if shape != "mask":
            raise ParameterError(f"shape = {shape!r} must be 'mask' (the particle's own outline) or 'sphere'")
        depth = ndimage.distance_transform_edt(mask)
        across = 2.0 * float(depth.max())
        f = 1 if cells_across is None else max(1, round(across / max(cells_across, 1)))
        self.factor = f
        ny, nx = mask.shape
        py, px = (-ny) % f, (-nx) % f
        padded = np.pad(mask, ((0, py), (0, px)))
        coarse = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f).mean(axis=(1, 3)) >= 0.5
        lab, n = ndimage.label(coarse)
        if n == 0:
            raise ParameterError(f"the particle mask ({int(mask.sum())} px) vanishes when coarsened {f}-fold; "
                                 "raise cells_across")
        sizes = np.bincount(lab.ravel())[1:]
        coarse = lab == (int(np.argmax(sizes)) + 1)
        self.geometry = Mask(coarse, f * pixel_m)
        self.sim_kw = {}
        # each fine mask pixel reads the coarse cell under it, or the nearest one inside
        _, (iy, ix) = ndimage.distance_transform_edt(~coarse, return_indices=True)
        rr, cc = np.nonzero(mask)
        self.src = (iy[rr // f, cc // f] + 1, ix[rr // f, cc // f] + 1)  # +1: the result pads by one cell
        self.fine = (rr, cc)

    def simulate(self, values: dict):
        from ..simulate import simulate_particle

        mat = material_variant(self.material, alpha=values.get("alpha"), d_shape=values.get("d_shape"),
                               k0=values.get("k0"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SocscopeWarning)
            return simulate_particle(mat, self.geometry, self.data.protocol, initial_theta=self.initial_theta,
                                     output_times=self.out_times, flux=self.flux, **self.sim_kw)

    def theta_pixels(self, ds) -> np.ndarray:
        img = np.asarray(ds["theta"].values)
        t_ds = np.asarray(ds["time"].values)
        # the record holds the frame times and step ends: take the frame times (first match)
        idx = np.searchsorted(t_ds, self.data.time_s - 1e-9)
        idx = np.minimum(idx, t_ds.size - 1)
        out = np.full((self.data.time_s.size,) + self.data.mask.shape, np.nan)
        if self.shape == "sphere":
            out[:, self.data.mask] = sphere_pixels(img[idx], np.asarray(ds["r"].values), self.rho)
            return out, idx
        out[:, self.fine[0], self.fine[1]] = img[idx][:, self.src[0], self.src[1]]
        return out, idx

    def predict(self, values: dict, ds=None):
        """Model intensity (n_frames, ny, nx), contrast, voltage at the frame times and the simulation.

        The particle's brightness and the background are solved for by weighted
        linear least squares at every call (the model is linear in them).
        """
        ds = self.simulate(values) if ds is None else ds
        th, idx = self.theta_pixels(ds)
        d = self.data
        sharp = np.zeros(th.shape)
        sharp[:, d.mask] = intensity_from_theta(np.clip(th[:, d.mask], 0.0, 1.0), contrast_full=values["contrast_full"])
        part = psf_blur(sharp, psf_fwhm_nm=self.psf, pixel_size_nm=d.pixel_size_nm)
        back = psf_blur((~d.mask).astype(float)[None], psf_fwhm_nm=self.psf, pixel_size_nm=d.pixel_size_nm)[0]
        w = 1.0 / d.intensity_noise[d.region]
        A = np.column_stack([part[:, d.region].ravel(), np.broadcast_to(back[d.region], part[:, d.region].shape).ravel()])
        y = d.intensity[:, d.region].ravel()
        ww = np.tile(w, th.shape[0])
        coef, *_ = np.linalg.lstsq(A * ww[:, None], y * ww, rcond=None)
        model = coef[0] * part + coef[1] * back[None]
        with np.errstate(divide="ignore", invalid="ignore"):
            contrast = np.where(d.mask, (model - model[0]) / model[0], np.nan)
        v = np.asarray(ds["voltage"].values)[idx] if "voltage" in ds else None
        self.last_coef = coef
        return model, contrast, v, ds

    def residuals(self, values: dict) -> np.ndarray:
        d = self.data
        n_pix = int(d.region.sum()) * d.time_s.size
        try:
            model, _, _, ds = self.predict(values)
        except Exception:  # noqa: BLE001 - a run that fails (solver, cut-off, material check) is a bad parameter set
            return np.full(n_pix + (d.voltage_samples[0].size if self.use_voltage else 0), np.nan)
        r = ((d.intensity[:, d.region] - model[:, d.region]) / d.intensity_noise[d.region]).ravel()
        if self.use_voltage:
            t_ds = np.asarray(ds["time"].values)
            vi = np.minimum(np.searchsorted(t_ds, d.voltage_samples[0] - 1e-9), t_ds.size - 1)
            rv = (d.voltage_samples[1] - np.asarray(ds["voltage"].values)[vi]) / d.voltage_noise_V
            r = np.concatenate([r, rv])
        return r


def particle_parameters(material, free=("alpha", "k0"), *, start: dict | None = None, bounds: dict | None = None,
                        contrast_full: float = 0.62) -> list[Parameter]:
    """The parameters of a particle fit with sensible starts and bounds.

    ``alpha`` (D_app/D_GITT, start the material's α or 1, bounds start/20..start·20),
    ``d_shape`` (1, 0.25..4), ``k0`` (m/s, start the material's, bounds /100..x100),
    ``contrast_full`` (the calibration: relative intensity change at full
    delithiation, start 0.62, bounds 0.01..3). Names not in ``free`` are held.
    """
    mat = as_material(material)
    a0 = float(mat.parameters.get("alpha", 1.0))
    k_ref = reference_rate_constant(mat) if mat.i0 is not None else 1e-10
    defaults = {"alpha": (a0, (a0 / 20, a0 * 20), "1"), "d_shape": (1.0, (0.25, 4.0), "1"),
                "k0": (k_ref, (k_ref / 100, k_ref * 100), "m/s"), "contrast_full": (contrast_full, (0.01, 3.0), "1")}
    return parameter_set(defaults, free, start=start, bounds=bounds,
                         none_free=f"give at least one free parameter from {FREE_PARTICLE_PARAMETERS}")


def fit_particle_movie(data: ParticleData, material, *, free=("alpha", "k0"), start: dict | None = None,
                       bounds: dict | None = None, contrast_full: float = 0.62, initial_theta: float = 0.97,
                       psf_fwhm_nm: float | None = 265.0, cells_across: int | None = None,
                       shape: str = "mask", radius_m: float | None = None, n_shells: int = 20, flux: str = "chemical",
                       use_voltage: bool = True, n_starts: int = 2, rng=None, level: float = 0.95,
                       intervals: bool = True, min_snr: float = 5.0, max_nfev: int = 40,
                         map_starts=None) -> FitResult:
    """Fit α, a D(θ) shape parameter, k0 and the calibration to one particle's movie.

    Parameters
    ----------
    data : ParticleData
        From :func:`prepare_particle_data`.
    material : Material or str
    free : sequence of str
        Parameters to fit, from :data:`FREE_PARTICLE_PARAMETERS`.
    start, bounds : dict, optional
        Starting values and ``(lower, upper)`` bounds by name (see :func:`particle_parameters`).
    contrast_full : float
        The calibration when it is held.
    initial_theta : float
        Occupancy at frame 0 (uniform).
    psf_fwhm_nm : float or None
        FWHM of the microscope's Gaussian PSF [nm].
    cells_across : int, optional
        Coarsen the mask to about this many simulation cells across (faster);
        default one cell per pixel. A coarse grid misses the thin delithiated
        layer of an early charge, and the voltage it gives (which carries k0)
        with it: coarsen only to explore.
    shape : {"mask", "sphere"}
        Simulate the particle's own outline (default), or a sphere of the
        mask's equivalent radius (or ``radius_m``) drawn as its equatorial
        section: a fast surrogate, about 100 times cheaper.
    radius_m : float, optional
        Sphere radius [m] for ``shape="sphere"``.
    n_shells : int
        Radial shells of the sphere.
    flux : {"chemical", "thermodynamic"}
    use_voltage : bool
        Add the recorded voltage to the objective (needed for k0).
    n_starts, rng, level, intervals, max_nfev, map_starts
        See :func:`socscope.fitting.least_squares_fit`.
    min_snr : float
        A movie whose mean contrast changes by less than ``min_snr`` times its
        noise is featureless: reported as not identifiable, not fitted.

    Returns
    -------
    FitResult
        ``fitted`` is a Dataset on the movie's pixels: ``contrast_measured``,
        ``contrast_fitted``, ``residual`` (frame, y, x), ``centre_measured``,
        ``centre_fitted``, ``mean_measured``, ``mean_fitted``, ``voltage_measured``,
        ``voltage_fitted`` (frame), ``profile_measured``, ``profile_fitted``
        (frame, x: the row through the centre), plus the simulation's
        ``theta_mean``; ``extra["simulation"]`` is the fitted simulation itself.
    """
    if not isinstance(data, ParticleData):
        raise ParameterError("data must be a ParticleData from socscope.fitting.prepare_particle_data")
    mat = as_material(material)
    params = particle_parameters(mat, free, start=start, bounds=bounds, contrast_full=contrast_full)
    if cells_across is not None:
        cells_across = whole_number("cells_across", cells_across, minimum=4, example=20)
    min_snr = positive_float("min_snr", min_snr, example="5")
    settings = {"material": mat.name, "free": list(free), "initial_theta": initial_theta, "psf_fwhm_nm": psf_fwhm_nm,
                "cells_across": cells_across, "shape": shape, "radius_m": radius_m, "n_shells": n_shells, "flux": flux, "use_voltage": use_voltage, "n_starts": n_starts,
                "seed": rng if isinstance(rng, (int, type(None))) else "generator", "level": level,
                "protocol": list(data.protocol), "pixel_size_nm": data.pixel_size_nm, "particle": data.label,
                "n_frames": int(data.time_s.size), "contrast_noise": data.contrast_noise,
                "voltage_noise_V": data.voltage_noise_V, "brightness": data.brightness,
                "background": data.background, "min_snr": min_snr}
    fwd = _ParticleForward(data, mat, initial_theta=initial_theta, psf_fwhm_nm=psf_fwhm_nm,
                           cells_across=cells_across, flux=flux, use_voltage=use_voltage, shape=shape,
                           radius_m=radius_m, n_shells=n_shells)
    settings["simulation_cells_px"] = fwd.factor
    mean = np.nanmean(np.where(data.mask, data.contrast, np.nan), axis=(1, 2))
    change = float(np.nanmax(mean) - np.nanmin(mean))
    mean_noise = noise_sigma(mean) if mean.size >= 3 else 0.0
    floor = max(min_snr * (mean_noise if math.isfinite(mean_noise) else 0.0),
                min_snr * data.contrast_noise / math.sqrt(max(int(data.mask.sum()), 1)))
    movie_params = [p.name for p in params if p.free and p.name in ("alpha", "d_shape", "contrast_full")]
    if change <= floor and movie_params:
        msg = (f"{NOT_IDENTIFIABLE}: the movie is featureless (its mean contrast changes by {change:.3g}, within "
               f"{min_snr:g} x its noise {floor / min_snr:.3g}), so it cannot determine {', '.join(movie_params)}; "
               "nothing was fitted")
        return FitResult(parameters=params, identifiable=False, message=msg, intervals={}, level=level,
                         covariance=None, correlation=None, residuals=np.zeros(0), chi2=math.nan, n_data=0,
                         diagnostics={"not_identifiable": [p.name for p in params if p.free],
                                      "contrast_change": change, "contrast_change_floor": floor},
                         settings=settings)
    res = least_squares_fit(fwd.residuals, params, n_starts=n_starts, rng=rng, level=level, intervals=intervals,
                            max_nfev=max_nfev, settings=settings, map_starts=map_starts)
    vals = {p.name: p.value for p in res.parameters}
    try:
        _, c, v, ds = fwd.predict(vals)
    except Exception as exc:  # noqa: BLE001 - the optimum itself should run; say so if it does not
        res.message += f"; the fitted model could not be re-run ({exc})"
        return res
    res.fitted = _comparison(data, c, v, ds)
    res.extra["simulation"] = ds
    res.extra["brightness_background"] = tuple(float(x) for x in fwd.last_coef)
    res.diagnostics["contrast_change"] = change
    return res


def _comparison(data: ParticleData, model, volt, ds) -> xr.Dataset:
    meas = data.contrast
    mask = data.mask
    model = np.where(mask, model, np.nan)
    cy, cx = data.centre_px
    n, ny, nx = meas.shape
    dims3 = ("frame", "y", "x")
    out = xr.Dataset(
        {
            "contrast_measured": (dims3, meas, {"units": "1", "long_name": "measured differential contrast"}),
            "contrast_fitted": (dims3, model, {"units": "1", "long_name": "fitted differential contrast"}),
            "residual": (dims3, meas - model, {"units": "1", "long_name": "measured minus fitted contrast"}),
            "centre_measured": (("frame",), meas[:, cy, cx], {"units": "1", "long_name": "contrast at the centre pixel"}),
            "centre_fitted": (("frame",), model[:, cy, cx], {"units": "1", "long_name": "fitted contrast at the centre"}),
            "mean_measured": (("frame",), np.nanmean(meas[:, mask], axis=1), {"units": "1"}),
            "mean_fitted": (("frame",), np.nanmean(model[:, mask], axis=1), {"units": "1"}),
            "profile_measured": (("frame", "x"), meas[:, cy, :], {"units": "1", "long_name": "row through the centre"}),
            "profile_fitted": (("frame", "x"), model[:, cy, :], {"units": "1", "long_name": "row through the centre"}),
            "mask": (("y", "x"), mask.astype(np.int8), {"units": "1"}),
        },
        coords={"frame": np.arange(n), "time": ("frame", data.time_s, {"units": "s"}),
                "y": ("y", np.arange(ny), {"units": "px"}), "x": ("x", np.arange(nx), {"units": "px"})},
    )
    if data.voltage_V is not None:
        out["voltage_measured"] = (("frame",), data.voltage_V, {"units": "V"})
    if volt is not None:
        out["voltage_fitted"] = (("frame",), volt, {"units": "V"})
    t_ds = np.asarray(ds["time"].values)
    idx = np.minimum(np.searchsorted(t_ds, data.time_s - 1e-9), t_ds.size - 1)
    out["theta_mean"] = (("frame",), np.asarray(ds["theta_mean"].values)[idx], {"units": "1"})
    out.attrs.update({"title": "socscope particle fit: measured vs fitted", "pixel_size_nm": data.pixel_size_nm,
                      "centre_px": f"{cy} {cx}", "particle_label": data.label,
                      "origin_px": f"{data.origin_px[0]} {data.origin_px[1]}"})
    return out
