"""Particles in AFM maps: masks, per-particle statistics, rim versus bulk, profiles, correlations.

Masks, distances to the boundary and per-particle statistics are those of
:mod:`socscope.analysis.regions`, the same as the optical pipeline's.

* :func:`particle_mask` — a label image from a topography, amplitude or current channel
  (threshold, or threshold and watershed to split touching particles);
* :func:`particle_summary` — per particle: area, mean, median, s.d. of a channel and its
  rim-minus-bulk contrast;
* :func:`rim_profile` — a channel's mean against the distance to the particle edge (rim to centre);
* :func:`channel_correlation` — two channels over the same pixels (Jetybayeva et al. (ACS Appl. Energy Mater. 2022) Fig. 7b).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...errors import ParameterError
from ..regions import distance_to_boundary, particle_stats, rim_bulk, segment_particles

__all__ = ["MASK_METHODS", "channel_correlation", "particle_mask", "particle_summary", "rim_profile"]

#: ways to make a mask from a channel
MASK_METHODS = ("threshold", "watershed")


def particle_mask(image, *, method: str = "watershed", threshold: float | None = None, invert: bool = False,
                  min_area_px: int = 20, smooth_px: float = 1.0, min_distance_px: float | None = None) -> np.ndarray:
    """Label the particles of one channel.

    Parameters
    ----------
    image : array_like, shape (y, x)
        A levelled height, an amplitude or a current map; particles must be higher/brighter than
        the background (``invert=True`` for the other way round, e.g. a negative current).
    method : {"watershed", "threshold"}
        ``"threshold"``: one label per connected object above the threshold; ``"watershed"``:
        touching particles are split as well (:func:`socscope.analysis.regions.segment_particles`).
    threshold : float, optional
        In the image's unit; Otsu's threshold of the smoothed image when None.
    invert : bool
        Take the particles as the low values.
    min_area_px, smooth_px, min_distance_px
        See :func:`~socscope.analysis.regions.segment_particles`.

    Returns
    -------
    numpy.ndarray of int32, shape (y, x)
    """
    if method not in MASK_METHODS:
        raise ParameterError(f"method = {method!r} is not a mask method; choose one of {MASK_METHODS}")
    img = np.asarray(image, dtype=np.float64)
    if invert:
        img = -img
        threshold = None if threshold is None else -float(threshold)
    return segment_particles(img, threshold=threshold, min_area_px=min_area_px, split_touching=method == "watershed",
                             smooth_px=smooth_px, min_distance_px=min_distance_px)


def _pixel_size_nm(pixel_size_nm) -> float | None:
    if pixel_size_nm is None:
        return None
    if not (isinstance(pixel_size_nm, (int, float, np.floating)) and math.isfinite(pixel_size_nm)
            and pixel_size_nm > 0):
        raise ParameterError(f"pixel_size_nm = {pixel_size_nm!r} must be a positive size in nm, e.g. 7.8")
    return float(pixel_size_nm)


def particle_summary(image, labels, *, pixel_size_nm: float, rim_nm: float) -> pd.DataFrame:
    """Per-particle statistics of a channel and its rim-minus-bulk contrast.

    Parameters
    ----------
    image : array_like, shape (y, x)
        The channel (any unit).
    labels : array_like of int, shape (y, x)
    pixel_size_nm : float
        Pixel size [nm].
    rim_nm : float
        Rim width [nm]: pixels whose centre lies closer than this to the particle edge.

    Returns
    -------
    pandas.DataFrame
        ``label``, ``area_px``, ``area_um2``, centroids, ``equivalent_diameter_um``,
        ``touches_edge``, ``n_px``, ``mean``, ``median``, ``std``, ``min``, ``max``,
        ``rim_mean``, ``bulk_mean``, ``rim_minus_bulk``, ``n_rim_px``, ``n_bulk_px``,
        ``max_rim_nm`` (the widest rim that leaves the particle a bulk: the largest distance of
        its pixels' centres to its edge; ``rim_minus_bulk`` is NaN where ``rim_nm`` exceeds it).
    """
    from scipy import ndimage

    px = _pixel_size_nm(pixel_size_nm)
    if px is None:
        raise ParameterError("pixel_size_nm is needed to turn rim_nm into pixels, e.g. pixel_size_nm=7.8")
    if not (isinstance(rim_nm, (int, float, np.floating)) and math.isfinite(rim_nm) and rim_nm > 0):
        raise ParameterError(f"rim_nm = {rim_nm!r} must be a positive width in nm, e.g. rim_nm=300")
    stats = particle_stats(image, labels, pixel_size_nm=px)
    rb = rim_bulk(image, labels, rim_px=rim_nm / px)
    lab = np.asarray(labels)
    index = rb["label"].to_numpy()
    depth = distance_to_boundary(lab)
    rb["max_rim_nm"] = (np.asarray(ndimage.maximum(np.nan_to_num(depth, nan=0.0), lab, index), dtype=np.float64) * px
                        if index.size else np.empty(0))
    return stats.merge(rb, on="label", how="left")


def rim_profile(image, labels, *, pixel_size_nm: float, bin_nm: float | None = None) -> pd.DataFrame:
    """Mean of a channel against the distance to the particle edge, per particle and over all.

    Parameters
    ----------
    image : array_like, shape (y, x)
    labels : array_like of int, shape (y, x)
    pixel_size_nm : float
    bin_nm : float, optional
        Width of the distance bins [nm]; one pixel by default.

    Returns
    -------
    pandas.DataFrame
        ``label`` (0 for all particles together), ``distance_nm`` (bin centre, from the edge
        inwards), ``mean``, ``std``, ``n_px``.
    """
    px = _pixel_size_nm(pixel_size_nm)
    bin_nm = px if bin_nm is None else bin_nm
    if not (isinstance(bin_nm, (int, float, np.floating)) and math.isfinite(bin_nm) and bin_nm > 0):
        raise ParameterError(f"bin_nm = {bin_nm!r} must be a positive width in nm, e.g. bin_nm=20")
    img = np.asarray(image, dtype=np.float64)
    lab = np.asarray(labels)
    dist = distance_to_boundary(lab) * px
    sel = (lab > 0) & np.isfinite(img)
    if not sel.any():
        return pd.DataFrame(columns=["label", "distance_nm", "mean", "std", "n_px"])
    frame = pd.DataFrame({"label": lab[sel].astype(np.int64), "bin": np.floor(dist[sel] / bin_nm).astype(np.int64),
                          "value": img[sel]})
    each = frame.groupby(["label", "bin"])["value"].agg(["mean", "std", "count"]).reset_index()
    every = frame.groupby("bin")["value"].agg(["mean", "std", "count"]).reset_index()
    every.insert(0, "label", 0)
    out = pd.concat([every, each], ignore_index=True)
    out["distance_nm"] = (out["bin"] + 0.5) * bin_nm
    out = out.rename(columns={"count": "n_px"})
    out["std"] = out["std"].fillna(0.0)
    return out[["label", "distance_nm", "mean", "std", "n_px"]]


def channel_correlation(a, b, *, mask=None, rank: bool = False) -> dict:
    """Correlation of two channels over the same pixels.

    Parameters
    ----------
    a, b : array_like, shape (y, x)
        Two channels of one map (or two maps registered on each other).
    mask : array_like of bool, optional
        Pixels to use (e.g. ``labels > 0``); all finite pixels by default.
    rank : bool
        Add Spearman's rank correlation (sorts the pixels: slower on large maps).

    Returns
    -------
    dict
        ``pearson_r``, ``slope`` and ``intercept`` of the least-squares line
        ``b = slope · a + intercept``, ``n_px`` (and ``spearman_rho`` with ``rank``); NaN with
        fewer than three pixels or a constant channel.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ParameterError(f"the two channels differ in shape: {a.shape} and {b.shape}")
    sel = np.isfinite(a) & np.isfinite(b)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != a.shape:
            raise ParameterError(f"mask has shape {m.shape} but the channels are {a.shape}")
        sel &= m
    x, y = a[sel], b[sel]
    out = {"pearson_r": np.nan, "slope": np.nan, "intercept": np.nan, "n_px": int(x.size)}
    if rank:
        out["spearman_rho"] = np.nan
    if x.size < 3:
        return out
    dx, dy = x - x.mean(), y - y.mean()
    # plain reductions, not BLAS dot products: the thread pool of a BLAS library stalls when the
    # maps are already analysed on several threads
    sxx, syy, sxy = float(np.square(dx).sum()), float(np.square(dy).sum()), float((dx * dy).sum())
    if sxx == 0 or syy == 0:
        return out
    out["pearson_r"] = sxy / np.sqrt(sxx * syy)
    out["slope"] = sxy / sxx
    out["intercept"] = float(y.mean() - out["slope"] * x.mean())
    if rank:
        from scipy import stats

        out["spearman_rho"] = float(stats.spearmanr(x, y)[0])
    return out
