"""Synthetic measurements with known parameters: what a fit must give back.

Use them to test a fit, and to ask before an experiment whether it would
determine the parameters at all (fit the synthetic record of the planned
experiment and read the verdict).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._checks import positive_float, whole_number
from ..errors import ParameterError, SocscopeWarning
from ..geometry import Mask, Sphere
from ..observe.optical import random_drift, synthetic_movie
from ._model import material_variant
from .particle import _pixel_radius, sphere_pixels

__all__ = ["SyntheticParticleRecord", "synthetic_gitt_record", "synthetic_particle_record"]


@dataclass
class SyntheticParticleRecord:
    """A movie of one particle and its cycler record, with the truth.

    Attributes
    ----------
    frames : ndarray (n_frames, ny, nx)
    time_s : ndarray (n_frames,)
    cycler : pandas.DataFrame
        ``time_s``, ``current_A``, ``voltage_V``.
    labels : ndarray of int (ny, nx)
        1 on the particle.
    mass_g : float
        The electrode mass the current was scaled with.
    pixel_size_nm : float
    truth : dict
        The parameters the record was made with.
    simulation : xarray.Dataset
    reference_spot : (float, float) or None
        ``(row, column)`` of the reference spot in frame 0.
    """

    frames: np.ndarray
    time_s: np.ndarray
    cycler: pd.DataFrame
    labels: np.ndarray
    mass_g: float
    pixel_size_nm: float
    truth: dict
    simulation: object
    reference_spot: tuple | None = None


def synthetic_particle_record(material, mask, *, pixel_size_nm: float, alpha: float | None = None,
                              k0: float | None = None, contrast_full: float = 0.62,
                              specific_current_mA_g: float = 70.0, duration_s: float = 3600.0,
                              n_frames: int = 40, initial_theta: float = 0.97, psf_fwhm_nm: float | None = 265.0,
                              photons: float | None = 2e4, drift_step_px: float = 0.1, voltage_noise_V: float = 1e-3,
                              mass_g: float = 1e-3, pad_px: int = 12, background: float = 0.3,
                              shape: str = "mask", n_shells: int = 20, cycler_interval_s: float = 10.0,
                              rng=None) -> SyntheticParticleRecord:
    """Simulate one particle (its shape a pixel mask) under constant current and film it.

    The particle is simulated at one cell per pixel with ``alpha``/``k0`` (see
    :func:`socscope.fitting.material_variant`), rendered by
    :func:`socscope.observe.optical.synthetic_movie` (linear calibration
    ``contrast_full``, Gaussian PSF, a reference spot, random stage drift,
    shot noise with ``photons`` per unit intensity) and its voltage, sampled
    every 10 s with Gaussian noise ``voltage_noise_V``, forms the cycler record.

    Parameters
    ----------
    material : Material or str
    mask : array_like of bool (ny, nx)
        The particle's cross-section, one 4-connected piece.
    pixel_size_nm : float
    alpha, k0 : float, optional
        Parameters of the record (default the material's).
    specific_current_mA_g, duration_s : float
        Constant charging current per gram [mA/g] (positive = charge) and its duration [s].
    n_frames : int
    shape : {"mask", "sphere"}
        Simulate the mask itself (one cell per pixel) or a sphere of its
        equivalent radius drawn as its equatorial section (the fast surrogate of
        :func:`socscope.fitting.fit_particle_movie`).
    rng : numpy.random.Generator or int
    """
    g = np.random.default_rng(rng)
    p_nm = positive_float("pixel_size_nm", pixel_size_nm, unit=" nm", example="34.7")
    n_frames = whole_number("n_frames", n_frames, minimum=3, example=40)
    duration_s = positive_float("duration_s", duration_s, unit=" s", example="3600")
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2 or not m.any():
        raise ParameterError("mask must be a 2-D boolean image with the particle True")
    mat = material_variant(material, alpha=alpha, k0=k0)
    verb = "Charge" if specific_current_mA_g >= 0 else "Discharge"
    protocol = [f"{verb} at {abs(specific_current_mA_g):.9g} mA/g for {duration_s:.9g} seconds"]
    t_frames = np.linspace(0.0, duration_s, n_frames)
    t_cyc = np.arange(0.0, duration_s + 1e-9, positive_float("cycler_interval_s", cycler_interval_s, unit=" s",
                                                             example="10"))
    t_all = np.unique(np.concatenate([t_frames, t_cyc]))
    from ..simulate import simulate_particle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SocscopeWarning)
        if shape == "sphere":
            geo, kw = Sphere(math.sqrt(m.sum() / math.pi) * p_nm * 1e-9), {"n_cells": n_shells}
        elif shape == "mask":
            geo, kw = Mask(m, p_nm * 1e-9), {}
        else:
            raise ParameterError(f"shape = {shape!r} must be 'mask' or 'sphere'")
        ds = simulate_particle(mat, geo, protocol, initial_theta=initial_theta, output_times=t_all, **kw)
    t_ds = np.asarray(ds["time"].values)
    fi = np.minimum(np.searchsorted(t_ds, t_frames - 1e-9), t_ds.size - 1)
    if shape == "sphere":
        img = np.full((n_frames,) + m.shape, np.nan)
        img[:, m] = sphere_pixels(np.asarray(ds["theta"].values)[fi], np.asarray(ds["r"].values),
                                  _pixel_radius(m, p_nm * 1e-9))
    else:
        img = np.asarray(ds["theta"].values)[fi][:, 1:-1, 1:-1]  # the result pads the mask by one cell
    ny, nx = m.shape
    field = np.full((n_frames, ny + 2 * pad_px, nx + 2 * pad_px), np.nan)
    field[:, pad_px:pad_px + ny, pad_px:pad_px + nx] = np.where(m, img, np.nan)
    labels = np.zeros(field.shape[1:], dtype=np.int32)
    labels[pad_px:pad_px + ny, pad_px:pad_px + nx] = m
    drift = random_drift(n_frames, rng=g, step_px=drift_step_px, max_px=2.0) if drift_step_px > 0 else None
    mov = synthetic_movie(field, labels=labels, time_s=t_frames, pixel_size_nm=p_nm, psf_fwhm_nm=psf_fwhm_nm,
                          contrast_full=contrast_full, background=background, reference_spots=1, photons=photons,
                          drift=drift, rng=g)
    ci = np.searchsorted(t_ds, t_cyc - 1e-9)
    volt = np.asarray(ds["voltage"].values)[np.minimum(ci, t_ds.size - 1)]
    volt = volt + g.normal(0.0, voltage_noise_V, size=volt.size) if voltage_noise_V > 0 else volt
    cycler = pd.DataFrame({"time_s": t_cyc, "current_A": np.full(t_cyc.size, specific_current_mA_g * 1e-3 * mass_g),
                           "voltage_V": volt})
    truth = {"alpha": float(mat.parameters.get("alpha", np.nan)) if alpha is None else float(alpha),
             "k0": k0, "contrast_full": contrast_full}
    return SyntheticParticleRecord(frames=mov.frames, time_s=t_frames, cycler=cycler, labels=mov.labels,
                                   mass_g=mass_g, pixel_size_nm=p_nm, truth=truth, simulation=ds,
                                   reference_spot=tuple(float(v) for v in mov.reference_spots[0])
                                   if len(mov.reference_spots) else None)


def synthetic_gitt_record(material, *, radius_m: float, pulses, specific_current_mA_g: float = 20.0,
                          mass_g: float = 8e-3, initial_theta: float = 0.97, samples_per_step: int = 40,
                          voltage_noise_V: float = 0.0, n_shells: int = 40, rng=None) -> pd.DataFrame:
    """A GITT record of one sphere (all particles alike) with the truth in ``attrs``.

    Parameters
    ----------
    material : Material or str
        With U and i0 (Butler–Volmer kinetics).
    radius_m : float
    pulses : sequence of (float, float)
        ``(pulse_s, rest_s)`` of every pulse.
    specific_current_mA_g : float
        Pulse current per gram (positive = charge).
    mass_g : float
        Active mass of the electrode [g]: the record's current is the specific current times it.
    samples_per_step : int
        Voltage samples per pulse and per rest (geometric spacing, the step's end included).
    voltage_noise_V : float
        Gaussian noise on the voltage.

    Returns
    -------
    pandas.DataFrame
        ``time_s``, ``voltage_V``, ``current_A``, ``step``; ``attrs["theta_mid"]`` holds
        the θ of every pulse's middle.
    """
    from ..simulate import simulate_particle

    g = np.random.default_rng(rng)
    radius_m = positive_float("radius_m", radius_m, unit=" m", example="1e-6")
    pulses = [(float(a), float(b)) for a, b in pulses]
    if not pulses:
        raise ParameterError("pulses must list at least one (pulse_s, rest_s)")
    verb = "Charge" if specific_current_mA_g > 0 else "Discharge"
    protocol, times, t0 = [], [0.0], 0.0
    for tau, rest in pulses:
        protocol += [f"{verb} at {abs(specific_current_mA_g):.9g} mA/g for {tau:.9g} seconds",
                     f"Rest for {rest:.9g} seconds"]
        for dur in (tau, rest):
            # the first sample 0.1 s after the switch (or sooner): the instrument's clock then times the step
            times.append(t0 + np.geomspace(min(0.1, dur * 1e-3), dur, samples_per_step))
            t0 += dur
    out_t = np.unique(np.concatenate([np.atleast_1d(x) for x in times]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SocscopeWarning)
        ds = simulate_particle(material, Sphere(radius_m), protocol, initial_theta=initial_theta, n_cells=n_shells,
                               output_times=out_t, kinetics="butler-volmer")
    t = np.asarray(ds["time"].values)
    keep = np.concatenate([[True], np.diff(t) > 0])
    t = t[keep]
    volt = np.asarray(ds["voltage"].values)[keep]
    step = np.asarray(ds["step"].values)[keep]
    cur = np.asarray(ds["current"].values)[keep]
    current = np.where(np.abs(cur) > 0, np.sign(cur) * abs(specific_current_mA_g) * 1e-3 * mass_g, 0.0)
    if voltage_noise_V > 0:
        volt = volt + g.normal(0.0, voltage_noise_V, volt.size)
    df = pd.DataFrame({"time_s": t, "voltage_V": volt, "current_A": current, "step": step})
    mids = []
    th = np.asarray(ds["theta_mean"].values)[keep]
    for k in range(len(pulses)):
        on = np.flatnonzero(step == 2 * k)
        mids.append(0.5 * (th[max(on[0] - 1, 0)] + th[on[-1]]))
    df.attrs["theta_mid"] = mids
    return df
