"""A folder of AFM maps in, per-particle tables and per-SOC summaries out.

:func:`analyze_maps` reads each map (:func:`socscope.io.afm.open_afm`), levels the mask channel
(:func:`~socscope.analysis.afm.level.flatten`), labels the particles on it
(:func:`~socscope.analysis.afm.particles.particle_mask`), measures the analysed channel per
particle with its rim and bulk (:func:`~socscope.analysis.afm.particles.particle_summary`) and its
rim-to-centre profile, correlates it with the map's other channels over the particle pixels, and
groups the maps by SOC (:mod:`socscope.analysis.afm.soc`).
"""

from __future__ import annotations

import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..._checks import callable_or_none, positive_float, warn_implausible_particles, whole_number
from ...errors import ParameterError, SocscopeWarning
from ...io.afm import afm_channel, open_afm
from .level import LEVEL_STEPS, flatten
from .particles import (
    MASK_METHODS,
    channel_correlation,
    particle_mask,
    particle_summary,
    rim_profile,
)
from .soc import soc_from_name, soc_histograms, soc_summary

__all__ = ["AFMMap", "AFMResult", "analyze_maps"]

#: the SOC of a map without one (one object, so that the maps without SOC form one group)
_UNKNOWN = float("nan")


@dataclass
class AFMMap:
    """One analysed map: the levelled mask channel, the analysed channel and the particle labels."""

    name: str
    soc_percent: float
    mask_channel: np.ndarray
    channel: np.ndarray
    labels: np.ndarray
    pixel_size_nm: float


@dataclass
class AFMResult:
    """What :func:`analyze_maps` returns.

    Attributes
    ----------
    particles : pandas.DataFrame
        One row per particle and map: ``map``, ``soc_percent``, then the columns of
        :func:`~socscope.analysis.afm.particles.particle_summary` (the analysed channel's unit
        in ``unit``).
    summary : pandas.DataFrame
        Per SOC (:func:`~socscope.analysis.afm.soc.soc_summary`).
    histograms : pandas.DataFrame
        Per SOC (:func:`~socscope.analysis.afm.soc.soc_histograms`).
    profiles : pandas.DataFrame
        Rim-to-centre profiles (:func:`~socscope.analysis.afm.particles.rim_profile`), per map.
    correlations : pandas.DataFrame
        The analysed channel against every other channel of each map over the particle pixels.
    maps : list of AFMMap
    settings : dict
    """

    particles: pd.DataFrame
    summary: pd.DataFrame
    histograms: pd.DataFrame
    profiles: pd.DataFrame
    correlations: pd.DataFrame
    maps: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def analyze_maps(paths, *, channel: str, mask_from: str | None = None, soc_pattern: str | None = None,
                 soc: dict | None = None, rim_nm: float = 300.0, level_steps=("plane", "median"),
                 level_channel: bool = False, mask_method: str = "watershed", threshold: float | None = None,
                 invert_mask: bool = False, min_area_px: int = 20, smooth_px: float = 1.0,
                 pixel_size_nm: float | None = None, bins: int = 50, keep_maps: bool = True,
                 labels: dict | None = None, workers: int | None = None, progress=None) -> AFMResult:
    """Analyse AFM maps per particle and per SOC.

    Parameters
    ----------
    paths : sequence of path-like
        Maps readable by :func:`~socscope.io.afm.open_afm`.
    channel : str
        The channel measured (e.g. ``"Amplitude"`` for ESM, ``"Current"`` for C-AFM).
    mask_from : str, optional
        The channel the particles are found on (e.g. ``"Height"``); default ``channel``.
    soc_pattern : str, optional
        Regular expression whose first group is the SOC [%] in each file name.
    soc : dict, optional
        File name → SOC [%] (see :func:`~socscope.analysis.afm.soc.read_soc_table`). Without
        ``soc_pattern`` or ``soc`` every map gets SOC NaN and is summarised together.
    rim_nm : float
        Rim width [nm].
    level_steps : sequence of str
        Levelling of the mask channel (:func:`~socscope.analysis.afm.level.flatten`); empty for none.
    level_channel : bool
        Level the analysed channel too (for a topography-like signal; an amplitude or current keeps
        its absolute values by default).
    mask_method, threshold, invert_mask, min_area_px, smooth_px
        See :func:`~socscope.analysis.afm.particles.particle_mask`.
    pixel_size_nm : float, optional
        For TIFF/NumPy maps without their own calibration.
    bins : int
        Histogram bins.
    keep_maps : bool
        Keep the images (for figures and files) in ``result.maps``.
    labels : dict, optional
        File name → the particles of that map, given instead of found: a label image (array of
        int, 0 = background), or the path of a label TIFF or of ImageJ ROIs (``.roi``, ``.zip``).
        Maps not in it are segmented.
    workers : int, optional
        Maps analysed at once (threads); default ``min(4, CPUs)``.
    progress : callable, optional
        ``progress(done, total)`` after each map.

    Returns
    -------
    AFMResult
    """
    paths = [Path(p) for p in (paths if not isinstance(paths, (str, Path)) else [paths])]
    if not paths:
        raise ParameterError("no maps given; pass one or more AFM files, e.g. maps/*.ibw")
    rim_nm = positive_float("rim_nm", rim_nm, unit=" nm", example="300")
    if mask_method not in MASK_METHODS:
        raise ParameterError(f"mask_method = {mask_method!r}; choose one of {MASK_METHODS}")
    bad = [s for s in level_steps if s not in LEVEL_STEPS]
    if bad:
        raise ParameterError(f"levelling step {bad[0]!r} is unknown; choose from {LEVEL_STEPS}")
    min_area_px = whole_number("min_area_px", min_area_px, minimum=1, example=20)
    callable_or_none("progress", progress, "(done, total)")
    if labels is not None and not isinstance(labels, dict):
        raise ParameterError(f"labels must be a dict of file name -> label image or file, got {type(labels).__name__}")
    if soc is not None and not isinstance(soc, dict):
        raise ParameterError(f"soc must be a dict of file name -> SOC [%], got {type(soc).__name__}")
    mask_from = mask_from or channel
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    workers = whole_number("workers", workers, minimum=1, example=4)
    if soc_pattern is None and soc is not None:
        missing = [p for p in paths if p.name not in soc]
        if missing:
            raise ParameterError(f"{missing[0]}: not in the SOC table; add a row '{missing[0].name},<soc_percent>'")
    socs = [soc_from_name(p, soc_pattern) if soc_pattern is not None
            else (float(soc[p.name]) if soc is not None else _UNKNOWN) for p in paths]
    settings = {"channel": channel, "mask_from": mask_from or channel, "rim_nm": rim_nm, "level_steps": level_steps,
                "level_channel": level_channel, "mask_method": mask_method, "threshold": threshold,
                "invert_mask": invert_mask, "min_area_px": min_area_px, "smooth_px": smooth_px,
                "pixel_size_nm": pixel_size_nm}
    parts = [None] * len(paths)
    # maps are independent; numpy, scipy and scikit-image release the GIL in their loops, so threads
    # share the work without copying images between processes
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_one_map, path, value, given=(labels or {}).get(path.name), **settings): k
                   for k, (path, value) in enumerate(zip(paths, socs))}
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                parts[futures[future]] = future.result()
                if progress is not None:
                    progress(done, len(paths))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    rows = [p["particles"] for p in parts]
    profiles = [p["profile"] for p in parts]
    correlations = [row for p in parts for row in p["correlations"]]
    maps = [p["map"] for p in parts] if keep_maps else []
    unit = parts[-1]["unit"]
    pixels_by_soc: dict[float, list] = {}
    for p in parts:
        pixels_by_soc.setdefault(p["map"].soc_percent, []).append(p["pixels"])
    particles = pd.concat(rows, ignore_index=True)
    particles["unit"] = unit
    _warn_rim_too_wide(particles, rim_nm)
    if len(particles):  # a pixel size in the wrong unit: particles of nanometres or millimetres
        scale = (f"pixel_size_nm = {pixel_size_nm:g}" if pixel_size_nm is not None
                 else f"the files' pixel size {min(p['map'].pixel_size_nm for p in parts):.3g} nm")
        warn_implausible_particles(particles["equivalent_diameter_um"].to_numpy(np.float64) * 1e-6, scale)
    summary = soc_summary(particles) if len(particles) else soc_summary(particles.assign())
    histograms = soc_histograms({k: np.concatenate(v) for k, v in pixels_by_soc.items()}, bins=bins)
    settings = {"channel": channel, "mask_from": mask_from, "soc_pattern": soc_pattern, "rim_nm": rim_nm,
                "level_steps": list(level_steps), "level_channel": bool(level_channel), "mask_method": mask_method,
                "threshold": threshold, "invert_mask": bool(invert_mask), "min_area_px": min_area_px,
                "smooth_px": smooth_px, "unit": unit}
    return AFMResult(particles, summary, histograms, pd.concat(profiles, ignore_index=True),
                     pd.DataFrame(correlations), maps, settings)


def _warn_rim_too_wide(particles: pd.DataFrame, rim_nm: float) -> None:
    """One warning when the rim leaves particles without a bulk (their rim minus bulk is NaN), with a rim that fits."""
    if not len(particles) or "max_rim_nm" not in particles:
        return
    widest = particles["max_rim_nm"].to_numpy(np.float64)
    lost = int(np.count_nonzero(widest < rim_nm))
    if not lost:
        return
    # the widest rim that keeps a bulk in at least 90 % of the particles, shown rounded down
    fits = float(np.quantile(widest, 0.1, method="lower"))
    shown = math.floor(fits) if fits >= 10 else math.floor(fits * 10) / 10
    share = math.floor(100 * np.count_nonzero(widest >= shown) / widest.size)
    hint = (f"rim_nm = {shown:g} or less keeps a bulk in {share} % of them" if shown > 0
            else "the particles are too small for a rim and a bulk")
    warnings.warn(f"rim_nm = {rim_nm:g} nm leaves no bulk in {lost} of {widest.size} particles (the largest reaches "
                  f"{widest.max():.3g} nm from edge to centre), so their rim minus bulk is NaN; {hint}",
                  SocscopeWarning, stacklevel=3)


def _given_labels(given, shape, path: Path) -> np.ndarray:
    """A label image given for a map: an array, a label TIFF or ImageJ ROIs, of the map's shape."""
    from ..regions import _as_labels, labels_from_rois, load_labels

    if isinstance(given, (str, Path)):
        given = Path(given)
        lab = labels_from_rois(given, shape) if given.suffix.lower() in (".roi", ".zip") else load_labels(given)
    else:
        lab = _as_labels(given)
    if lab.shape != tuple(shape):
        raise ParameterError(f"{path}: the particle labels given are {lab.shape[0]}x{lab.shape[1]} but the map is "
                             f"{shape[0]}x{shape[1]} (y x)")
    if not lab.any():
        raise ParameterError(f"{path}: the particle labels given hold no particle (all 0)")
    return np.asarray(lab, dtype=np.int32)


def _one_map(path: Path, soc_value: float, *, given=None, channel, mask_from, rim_nm, level_steps, level_channel, mask_method,
             threshold, invert_mask, min_area_px, smooth_px, pixel_size_nm) -> dict:
    """Everything :func:`analyze_maps` measures on one map."""
    ds = open_afm(path, pixel_size_nm=pixel_size_nm)
    target = afm_channel(ds, channel)
    source = afm_channel(ds, mask_from)
    px_nm = float(ds.attrs["pixel_size_m"]) * 1e9
    base = source.values
    if level_steps:
        base, _ = flatten(base, steps=level_steps)
    values = target.values
    if level_channel and level_steps:
        values = flatten(values, steps=level_steps)[0] if target.name != source.name else base
    if given is not None:
        labels = _given_labels(given, base.shape, path)
    else:
        finite = np.isfinite(base)
        if not finite.any():
            raise ParameterError(f"{path}: channel {source.name} holds no finite value")
        # lines a scan did not reach (NaN) take the median level: background, never a particle
        shown = base if finite.all() else np.where(finite, base, np.median(base[finite]))
        try:
            labels = particle_mask(shown, method=mask_method, threshold=threshold, invert=invert_mask,
                                   min_area_px=min_area_px, smooth_px=smooth_px)
        except ParameterError as exc:
            raise ParameterError(f"{path} ({source.name}): {exc}") from None
    table = particle_summary(values, labels, pixel_size_nm=px_nm, rim_nm=rim_nm)
    table.insert(0, "soc_percent", soc_value)
    table.insert(0, "map", path.name)
    prof = rim_profile(values, labels, pixel_size_nm=px_nm)
    prof.insert(0, "soc_percent", soc_value)
    prof.insert(0, "map", path.name)
    inside = labels > 0
    correlations = []
    for other in ds.data_vars:
        if other == target.name:
            continue
        other_values = base if other == source.name else ds[other].values
        corr = channel_correlation(values, other_values, mask=inside)
        correlations.append({"map": path.name, "soc_percent": soc_value, "channel": target.name, "other": other,
                             **corr})
    return {"particles": table, "profile": prof, "correlations": correlations, "pixels": values[inside],
            "unit": target.attrs.get("units", ""), "map": AFMMap(path.name, soc_value, base, values, labels, px_nm)}
