"""The operando optical pipeline: from a movie to per-particle SOC traces, asynchrony and core–shell metrics.

:func:`analyze_movie` streams the movie in chunks of frames, so a stack larger
than memory costs only one chunk at a time. For every chunk it

1. bins sets of ``bin_frames`` frames (mean; (Sharma et al., Nano Lett. 2022), (Lun et al.) bin 20–80);
2. measures the stage drift of every binned frame — Gaussian fits to a fixed
   bright reference spot (``drift="gaussian"``, the spot tracked from chunk to
   chunk) or cross-correlation with the first binned frame (``"xcorr"``) —
   and shifts the frames back (sub-pixel);
3. on the first binned, drift-corrected frame ``I_1`` only: chooses the
   background threshold (Otsu, or ``threshold``), sets the background of
   ``I_1`` to 0 (Lun et al.) and segments the particles (unless ``labels`` are
   given);
4. computes the differential contrast ``(I_i − I_1)/I_1`` (NaN on the
   background), writes it to ``contrast_writer`` as float32, and reduces it
   to per-particle numbers: mean intensity, mean contrast, periphery and core
   contrast, and the distance between the particle's centre of mass and that
   of its unreacted region (contrast < ``unreacted_threshold``).

Only the per-particle numbers (frames × particles) and a few differential
images for the figures stay in memory. At the end the frame times are joined
with the cycler record (SOC from the passed charge), each particle's trace is
differentiated against SOC and fitted per half cycle for its onset SOC and
transition width, and each half cycle is classified as asynchronous or
synchronous (:mod:`socscope.observe.asynchrony`).

The definitions of the per-particle measures are those of
:mod:`socscope.analysis.optical.contrast` and
:mod:`socscope.analysis.optical.join`.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..._checks import flag, positive_float, warn_implausible_particles, whole_number
from ...errors import ParameterError, SocscopeWarning
from .contrast import (
    PeripheryCore,
    UnreactedCOM,
    _check_labels,
    _Pixels,
    differential_contrast,
)
from .join import derivative_vs_soc, join_cycler

__all__ = ["OpticalResult", "analyze_movie"]

#: memory budget of one chunk of raw frames (float64) when chunk_frames is not given [bytes]
_CHUNK_BYTES = 160e6


@dataclass
class OpticalResult:
    """What :func:`analyze_movie` returns.

    Attributes
    ----------
    particles : pandas.DataFrame
        One row per particle: ``label``, ``area_px`` (``area_um2`` with a pixel
        size), ``centroid_y_px``, ``centroid_x_px``, ``equivalent_diameter_px``,
        ``touches_edge``, then for the first half cycle in the movie
        ``onset_soc``, ``midpoint_soc``, ``width_soc``, ``step_likeness``,
        ``r2``, ``reacted`` and ``classification`` ("step-like" or "gradual",
        "unreacted", or "" without a cycler record), and ``max_contrast``
        (largest mean differential contrast over the movie).
    traces : pandas.DataFrame
        Long table, one row per binned frame and particle: ``frame``,
        ``time_s``, ``soc``, ``voltage_V``, ``current_A``, ``half_cycle``,
        ``direction``, ``particle``, ``intensity`` (mean), ``contrast`` (mean
        differential contrast), ``d_intensity_dsoc``, ``d_contrast_dsoc``,
        ``periphery_contrast``, ``core_contrast``, ``com_distance_px``
        (``com_distance_nm``), ``unreacted_fraction``.
    drift : pandas.DataFrame
        ``frame``, ``time_s``, ``drift_y_px``, ``drift_x_px`` (feature position
        minus its position in the first binned frame).
    half_cycles : pandas.DataFrame
        One row per half cycle: ``asynchrony_index``, ``classification``,
        ``n_reacted``, ``n_particles``, ``fraction_unreacted``, ``direction``,
        ``soc_start``, ``soc_end``.
    transitions : pandas.DataFrame
        One row per particle and half cycle (the fits behind ``half_cycles``).
    summary : dict
        Settings and headline numbers (JSON-serialisable).
    labels : numpy.ndarray of int32, shape (y, x)
    first_frame : numpy.ndarray, shape (y, x)
        ``I_1``, the first binned, drift-corrected frame (background not masked).
    images : numpy.ndarray, shape (k, y, x)
        Differential images kept for the figures, of binned frames ``image_frames``.
    image_frames : numpy.ndarray of int
    """

    particles: pd.DataFrame
    traces: pd.DataFrame
    drift: pd.DataFrame
    half_cycles: pd.DataFrame
    transitions: pd.DataFrame
    summary: dict
    labels: np.ndarray
    first_frame: np.ndarray
    images: np.ndarray
    image_frames: np.ndarray
    extra: dict = field(default_factory=dict)


class _ArrayMovie:
    """An in-memory stack seen through the Movie interface (iter_chunks, n_frames, shape, time_s)."""

    def __init__(self, frames, time_s):
        self._frames = frames
        self.n_frames = frames.shape[0]
        self.shape = tuple(frames.shape[1:])
        self.time_s = np.asarray(time_s, dtype=float)
        self.path = None
        self.metadata = {"format": "array"}

    def iter_chunks(self, chunk_frames):
        for start in range(0, self.n_frames, chunk_frames):
            yield start, np.asarray(self._frames[start:start + chunk_frames], dtype=np.float64)


def _as_movie(movie, time_s, frame_interval_s):
    from ...io.movies import _check_interval

    frame_interval_s = _check_interval(frame_interval_s)
    if isinstance(movie, (str, Path)):
        from ...io.movies import open_movie

        return open_movie(movie, frame_interval_s=frame_interval_s), True
    if hasattr(movie, "iter_chunks"):
        if frame_interval_s is not None:
            # a copy: the caller's Movie keeps its own frame times
            movie = copy.copy(movie)
            movie.time_s = np.arange(movie.n_frames) * float(frame_interval_s)
        return movie, False
    arr = np.asarray(movie)
    if arr.ndim != 3:
        raise ParameterError(f"movie must be a path, a Movie or a stack (frame, y, x); got an array of shape {arr.shape}")
    if time_s is None:
        if frame_interval_s is None:
            raise ParameterError("an array movie needs its frame times: time_s= or frame_interval_s=")
        time_s = np.arange(arr.shape[0]) * float(frame_interval_s)
    try:
        time_s = np.asarray(time_s, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"time_s must hold one number per frame (seconds), got {time_s!r}") from None
    if time_s.shape != (arr.shape[0],):
        raise ParameterError(f"time_s has shape {time_s.shape}; it needs one time per frame ({arr.shape[0]},)")
    bad = np.flatnonzero(~np.isfinite(time_s))
    if bad.size:
        raise ParameterError(f"time_s[{bad[0]}] = {float(time_s[bad[0]])!r}; frame times must be finite seconds")
    back = np.flatnonzero(np.diff(time_s) <= 0)
    if back.size:
        k = int(back[0])
        raise ParameterError(f"time_s must increase from frame to frame: time_s[{k}] = {time_s[k]:g} s, "
                             f"time_s[{k + 1}] = {time_s[k + 1]:g} s (frames in recording order)")
    return _ArrayMovie(arr, time_s), False


def _parse_spot(reference_spot, shape):
    if reference_spot is None or (isinstance(reference_spot, str) and reference_spot == "auto"):
        return reference_spot
    try:
        y, x = (float(v) for v in reference_spot)
    except (TypeError, ValueError):
        raise ParameterError(f"reference_spot={reference_spot!r} must be (y, x) in pixels, 'auto' or None") from None
    if not (0 <= y <= shape[0] - 1 and 0 <= x <= shape[1] - 1):
        raise ParameterError(
            f"the reference spot (y, x) = ({y:g}, {x:g}) is outside the image of shape (y, x) = {tuple(shape)}; "
            f"give 0 <= y <= {shape[0] - 1} and 0 <= x <= {shape[1] - 1} (row, column in pixels)"
        )
    return (y, x)


def _choose_image_frames(image_frames, n_bins):
    if image_frames is None:
        image_frames = 6
    if isinstance(image_frames, (int, np.integer)):
        k = int(min(max(image_frames, 0), n_bins))
        return np.unique(np.linspace(0, n_bins - 1, k).round().astype(int)) if k else np.zeros(0, int)
    idx = np.asarray(image_frames, dtype=int).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= n_bins):
        raise ParameterError(f"image_frames {idx.tolist()} must lie in 0..{n_bins - 1} (binned frames)")
    return np.unique(idx)


def analyze_movie(
    movie,
    *,
    labels=None,
    reference_spot="auto",
    drift: str = "gaussian",
    bin_frames: int = 1,
    cycler=None,
    capacity_Ah: float | None = None,
    mass_g: float | None = None,
    capacity_mAh_g: float | None = None,
    time_offset_s: float = 0.0,
    initial_soc: float = 0.0,
    threshold: float | None = None,
    min_area_px: int | None = None,
    segmentation: dict | None = None,
    unreacted_threshold: float = 0.05,
    pixel_size_nm: float | None = None,
    periphery_fraction: float = 0.2,
    periphery_depth_px: float | None = None,
    half_width: int = 7,
    chunk_frames: int | None = None,
    contrast_writer=None,
    image_frames=None,
    time_s=None,
    frame_interval_s: float | None = None,
    progress=None,
) -> OpticalResult:
    """Analyse an operando optical movie (see the module docstring for the steps).

    Parameters
    ----------
    movie : Movie, str, Path or array_like (frame, y, x)
        A :class:`~socscope.io.movies.Movie`, a file for
        :func:`~socscope.io.movies.open_movie`, or an in-memory stack (then
        ``time_s`` or ``frame_interval_s`` gives its times).
    labels : array_like of int, shape (y, x), optional
        Particle labels (0 = background); default: segmented from ``I_1``.
    reference_spot : (y, x), "auto" or None
        The bright, fixed spot for ``drift="gaussian"`` [pixels, in the first
        frame]; "auto" picks the brightest isolated sub-diffraction spot.
    drift : {"gaussian", "xcorr", "none"}
    bin_frames : int
        Frames per bin (a trailing incomplete bin is dropped, with a warning).
    cycler : DataFrame, str or Path, optional
        The cycler record (:func:`~socscope.analysis.optical.join.read_cycler`);
        without it, no SOC and no asynchrony analysis.
    capacity_Ah, mass_g, capacity_mAh_g, time_offset_s, initial_soc
        See :func:`~socscope.analysis.optical.join.join_cycler`.
    threshold : float, optional
        Background threshold on ``I_1`` (intensity units); default Otsu. With
        given ``labels`` and no threshold, only pixels with ``I_1 ≤ 0`` lack a
        contrast.
    min_area_px : int, optional
        Smallest particle kept by the segmentation [px]; default a tenth of a
        typical particle's cross-section
        (:func:`~socscope.analysis.optical.segment.segment_particles`).
    segmentation : dict, optional
        Further settings of :func:`~socscope.analysis.optical.segment.segment_particles`:
        ``smooth_px``, ``min_distance_px``, ``split_touching``, ``max_hole_area_px``
        (e.g. ``{"smooth_px": 3}`` when cracked or textured particles are cut into pieces).
    unreacted_threshold : float
        Contrast below which a pixel is unreacted (0.05, (Lun et al.)).
    pixel_size_nm : float, optional
        Adds µm² areas and nm distances (default: from the file's metadata).
    periphery_fraction, periphery_depth_px
        Periphery definition (:func:`~socscope.analysis.optical.contrast.periphery_core`).
    half_width : int
        Window half width of the Gaussian spot fits [px].
    chunk_frames : int, optional
        Raw frames read at a time (rounded up to a multiple of ``bin_frames``;
        default: about 160 MB of float64 frames).
    contrast_writer : tifffile.TiffWriter or callable, optional
        Receives every differential-contrast frame as float32, in order
        (``writer.write(frame, contiguous=True)`` for each frame, or ``writer(first_index,
        frames)``).
    image_frames : int or sequence of int, optional
        Binned frames whose differential images are kept for the figures
        (default 6, evenly spaced).
    time_s, frame_interval_s
        Frame times for an in-memory stack; ``frame_interval_s`` also overrides
        a file's metadata.
    progress : callable, optional
        Called as ``progress(frames_done, n_frames)`` after every chunk.

    Returns
    -------
    OpticalResult

    Raises
    ------
    ParameterError
        Bad settings, a reference spot outside the image or lost while tracked,
        labels of the wrong shape, a cycler record that does not overlap the
        movie (the message names both time ranges and ``time_offset_s``).
    FileFormatError
        An unreadable movie.
    """
    from ...io.movies import bin_frames as _bin
    from .drift import (
        drift_gaussian,
        drift_xcorr,
        fit_gaussian_spot,
        pick_reference_spot,
        shift_frames,
    )

    if drift not in ("gaussian", "xcorr", "none"):
        raise ParameterError(f"drift={drift!r} must be 'gaussian', 'xcorr' or 'none'")
    if isinstance(bin_frames, bool) or int(bin_frames) != bin_frames or bin_frames < 1:
        raise ParameterError(f"bin_frames={bin_frames!r} must be a whole number >= 1 (20–80 is usual)")
    bin_n = int(bin_frames)
    if not math.isfinite(unreacted_threshold):
        raise ParameterError(f"unreacted_threshold={unreacted_threshold!r} must be a finite contrast, e.g. 0.05")
    if cycler is not None:  # fail before reading a frame
        from .join import capacity_basis_Ah

        capacity_basis_Ah(capacity_Ah=capacity_Ah, mass_g=mass_g, capacity_mAh_g=capacity_mAh_g, allow_none=True)
    else:
        given = {k: v for k, v in (("capacity_Ah", capacity_Ah), ("mass_g", mass_g), ("capacity_mAh_g", capacity_mAh_g),
                                   ("time_offset_s", time_offset_s or None), ("initial_soc", initial_soc or None))
                 if v is not None}
        if given:
            raise ParameterError(f"{', '.join(f'{k}={v!r}' for k, v in given.items())}: settings of the join with "
                                 "the cycler record, but no cycler= (--cycler) is given; pass the record, or leave "
                                 "them out")
    whole_number("half_width", half_width, minimum=2, example=7)
    if periphery_depth_px is not None:
        positive_float("periphery_depth_px", periphery_depth_px, unit=" px", example="3")
    if segmentation is not None and not isinstance(segmentation, dict):
        raise ParameterError(f"segmentation must be a dict of segment_particles settings, got {segmentation!r}; "
                             "e.g. segmentation={'smooth_px': 3}")
    segmentation = dict(segmentation or {})
    if segmentation and labels is not None:
        raise ParameterError("segmentation settings apply only when the particles are segmented; with labels= "
                             "given they would be ignored: drop one of the two")
    if "split_touching" in segmentation:
        segmentation["split_touching"] = flag("segmentation['split_touching']", segmentation["split_touching"])
    unknown = sorted(set(segmentation) - _SEGMENTATION_KEYS)
    if unknown:
        raise ParameterError(f"segmentation: unknown setting(s) {unknown}; allowed: {sorted(_SEGMENTATION_KEYS)} "
                             "(threshold and min_area_px are arguments of their own)")
    mv, opened = _as_movie(movie, time_s, frame_interval_s)
    try:
        return _run(mv, labels=labels, reference_spot=reference_spot, drift=drift, bin_n=bin_n, cycler=cycler,
                    capacity_Ah=capacity_Ah, mass_g=mass_g, capacity_mAh_g=capacity_mAh_g,
                    time_offset_s=time_offset_s, initial_soc=initial_soc, threshold=threshold,
                    min_area_px=min_area_px, segmentation=segmentation, unreacted_threshold=unreacted_threshold,
                    pixel_size_nm=pixel_size_nm, periphery_fraction=periphery_fraction,
                    periphery_depth_px=periphery_depth_px, half_width=half_width, chunk_frames=chunk_frames,
                    contrast_writer=contrast_writer, image_frames=image_frames, progress=progress,
                    tools=(_bin, drift_gaussian, drift_xcorr, fit_gaussian_spot, pick_reference_spot, shift_frames))
    finally:
        if opened:
            mv.close()


def _write(writer, start, frames):
    if writer is None:
        return
    data = np.ascontiguousarray(frames, dtype=np.float32)
    if hasattr(writer, "write"):
        # one page per frame, appended to one contiguous series: a (frame, y, x) stack
        # that tifffile (and open_movie) memory-map, however many chunks wrote it
        for frame in data:
            writer.write(frame, contiguous=True, photometric="minisblack")
    else:
        writer(start, data)


#: the settings of segment_particles that ``analyze_movie(segmentation=...)`` passes on
_SEGMENTATION_KEYS = frozenset({"smooth_px", "min_distance_px", "split_touching", "max_hole_area_px"})


def _run(mv, *, labels, reference_spot, drift, bin_n, cycler, capacity_Ah, mass_g, capacity_mAh_g, time_offset_s,
         initial_soc, threshold, min_area_px, segmentation, unreacted_threshold, pixel_size_nm, periphery_fraction,
         periphery_depth_px, half_width, chunk_frames, contrast_writer, image_frames, progress, tools):
    _bin, drift_gaussian, drift_xcorr, fit_gaussian_spot, pick_reference_spot, shift_frames = tools
    from .segment import background_threshold, particle_table, segment_particles

    n_frames = int(mv.n_frames)
    shape = tuple(mv.shape)
    n_bins = n_frames // bin_n
    if n_bins < 1:
        raise ParameterError(f"the movie has {n_frames} frame(s), fewer than one bin of bin_frames={bin_n}")
    used_frames = n_bins * bin_n
    if used_frames < n_frames:
        warnings.warn(f"{n_frames} frames are not a multiple of bin_frames={bin_n}; the last "
                      f"{n_frames - used_frames} frame(s) are left out", SocscopeWarning, stacklevel=3)
    if pixel_size_nm is None:
        pixel_size_nm = (getattr(mv, "metadata", None) or {}).get("pixel_size_nm")
    if pixel_size_nm is not None:  # given, or from the file's metadata
        pixel_size_nm = positive_float("pixel_size_nm", pixel_size_nm, unit=" nm", example="34.7")
    spot = _parse_spot(reference_spot if drift == "gaussian" else None, shape)
    if drift == "gaussian" and spot is None:
        raise ParameterError("drift='gaussian' needs reference_spot=(y, x) or 'auto' (or use drift='xcorr')")
    if labels is not None:
        labels = _check_labels(labels, shape).astype(np.int32, copy=False)
    if chunk_frames is None:
        per_frame = 8.0 * shape[0] * shape[1]
        chunk_frames = max(1, int(_CHUNK_BYTES // (per_frame * bin_n))) * bin_n
    else:
        if isinstance(chunk_frames, bool) or int(chunk_frames) != chunk_frames or chunk_frames < 1:
            raise ParameterError(f"chunk_frames={chunk_frames!r} must be a whole number >= 1")
        chunk_frames = math.ceil(chunk_frames / bin_n) * bin_n
    keep = _choose_image_frames(image_frames, n_bins)
    frame_time = np.asarray(mv.time_s, dtype=float)[:used_frames].reshape(n_bins, bin_n).mean(axis=1)

    # the cycler join needs only the frame times: done first, so that a record that does not
    # overlap the movie is reported before the frames are read
    frames_df = None
    if cycler is not None:
        frames_df = join_cycler(frame_time, cycler, capacity_Ah=capacity_Ah, mass_g=mass_g,
                                capacity_mAh_g=capacity_mAh_g, time_offset_s=time_offset_s, initial_soc=initial_soc)

    release = getattr(mv, "release_pages", None)  # hand read pages of a mapped file back
    state = {}
    drift_rows, intensity, contrast, per, core, com, unreacted = [], [], [], [], [], [], []
    images = []
    done_bins = 0
    for start, raw in mv.iter_chunks(chunk_frames):
        if start >= used_frames:
            break
        raw = raw[: max(0, min(raw.shape[0], used_frames - start))]
        binned = raw if bin_n == 1 else _bin(raw, bin_n)[0]
        del raw
        k = binned.shape[0]
        # --- drift
        if drift == "gaussian":
            if not state:
                if isinstance(spot, str):
                    spot = pick_reference_spot(binned[0], half_width=half_width)
                fit = fit_gaussian_spot(binned[0], spot, half_width=half_width)
                state["reference_yx"] = (fit["y"], fit["x"])
                state["last_yx"] = state["reference_yx"]
                state["spot_sigma_px"] = fit["sigma"]
            d = drift_gaussian(binned, state["reference_yx"], half_width=half_width,
                               reference_yx=state["reference_yx"], start_yx=state["last_yx"])
            state["last_yx"] = (state["reference_yx"][0] + d[-1, 0], state["reference_yx"][1] + d[-1, 1])
        elif drift == "xcorr":
            if "reference" not in state:
                state["reference"] = binned[0].copy()
            d = drift_xcorr(binned, reference=state["reference"])
        else:
            d = np.zeros((k, 2))
        if "first" not in state:
            d[0] = 0.0  # the first binned frame is the reference of the drift by definition
        corrected = shift_frames(binned, d) if np.any(d) else binned
        del binned
        drift_rows.append(d)
        # --- the first frame: background, particles, reference intensity
        if "first" not in state:
            first = corrected[0].copy()
            state["first"] = first
            thr = threshold
            if thr is None and labels is None:
                thr = float(background_threshold(first))
            state["threshold"] = thr
            if labels is None:
                labels = np.asarray(segment_particles(first, threshold=thr, min_area_px=min_area_px, **segmentation),
                                    dtype=np.int32)
            if not np.any(labels > 0):
                raise ParameterError(
                    f"no particle found on the first frame (threshold {thr!r}, min_area_px={min_area_px}); "
                    "lower the threshold, or give labels / an ImageJ ROI file"
                )
            ref = first if thr is None else np.where(first >= thr, first, 0.0)  # (Lun et al.): background set to 0
            usable = np.isfinite(ref) & (ref > 0)
            empty = np.setdiff1d(np.unique(labels[labels > 0]), np.unique(labels[(labels > 0) & usable]))
            if empty.size:
                raise ParameterError(
                    f"particle label {int(empty[0])} ({empty.size} label(s)) has no pixel brighter than the "
                    f"background on the first frame (threshold {thr!r}, or intensities <= 0): its contrast "
                    "(I - I_ref)/I_ref is undefined; drop that label, or lower the threshold")
            state["ref"] = ref
            state["pixels"] = _Pixels(labels)
            state["pc"] = PeripheryCore(labels, depth_px=periphery_depth_px,
                                        fraction=None if periphery_depth_px is not None else periphery_fraction)
            state["com"] = UnreactedCOM(labels, threshold=unreacted_threshold, pixel_size_nm=None,
                                        valid=usable)
        px = state["pixels"]
        flat = corrected.reshape(k, -1)
        intensity.append(px.means(flat))
        c = differential_contrast(corrected, state["ref"])
        del corrected, flat
        contrast.append(px.means(c.reshape(k, -1)))
        p_, c_ = state["pc"].means(c)
        per.append(p_)
        core.append(c_)
        dist, frac = state["com"].distances(c)
        com.append(dist)
        unreacted.append(frac)
        for j in np.nonzero((keep >= done_bins) & (keep < done_bins + k))[0]:
            images.append(c[keep[j] - done_bins].astype(np.float32))
        _write(contrast_writer, done_bins, c)
        del c
        done_bins += k
        if release is not None:
            release()
        if progress is not None:
            progress(min(start + k * bin_n, used_frames), used_frames)

    labels = np.asarray(labels, dtype=np.int32)
    ids = state["pixels"].ids
    n_p = ids.size
    stack = {name: np.concatenate(v, axis=0) for name, v in
             (("intensity", intensity), ("contrast", contrast), ("periphery_contrast", per),
              ("core_contrast", core), ("com_distance_px", com), ("unreacted_fraction", unreacted))}
    d_all = np.concatenate(drift_rows, axis=0)
    drift_df = pd.DataFrame({"frame": np.arange(n_bins), "time_s": frame_time,
                             "drift_y_px": d_all[:, 0], "drift_x_px": d_all[:, 1]})

    # --- join with the cycler record
    if frames_df is None:
        frames_df = pd.DataFrame({"frame": np.arange(n_bins), "time_s": frame_time, "soc": np.nan,
                                  "voltage_V": np.nan, "current_A": np.nan, "charge_Ah": np.nan,
                                  "half_cycle": -1, "direction": "unknown"})
    soc = frames_df["soc"].to_numpy(float)
    half = frames_df["half_cycle"].to_numpy(int)
    deriv = {"d_intensity_dsoc": np.full((n_bins, n_p), np.nan), "d_contrast_dsoc": np.full((n_bins, n_p), np.nan)}
    for k in np.unique(half[half >= 0]):
        sel = np.nonzero(half == k)[0]
        if sel.size >= 2:
            deriv["d_intensity_dsoc"][sel] = derivative_vs_soc(soc[sel], stack["intensity"][sel])
            deriv["d_contrast_dsoc"][sel] = derivative_vs_soc(soc[sel], stack["contrast"][sel])

    cols = {c: np.repeat(frames_df[c].to_numpy(), n_p) for c in
            ("frame", "time_s", "soc", "voltage_V", "current_A", "half_cycle", "direction")}
    cols["particle"] = np.tile(ids, n_bins)
    for name in ("intensity", "contrast"):
        cols[name] = stack[name].ravel()
    cols.update({k: v.ravel() for k, v in deriv.items()})
    for name in ("periphery_contrast", "core_contrast", "com_distance_px"):
        cols[name] = stack[name].ravel()
    if pixel_size_nm is not None:
        cols["com_distance_nm"] = stack["com_distance_px"].ravel() * pixel_size_nm
    cols["unreacted_fraction"] = stack["unreacted_fraction"].ravel()
    traces = pd.DataFrame(cols)

    # --- asynchrony per particle and half cycle
    transitions, half_table = _asynchrony(soc, stack["contrast"], half, frames_df, ids)

    # --- particles
    particles = particle_table(labels, pixel_size_nm=pixel_size_nm)
    if pixel_size_nm is not None:  # a pixel size in the wrong unit: particles of nanometres or millimetres
        warn_implausible_particles(particles["equivalent_diameter_um"].to_numpy(np.float64) * 1e-6,
                                   f"pixel_size_nm = {pixel_size_nm:g}", stacklevel=2)
    particles = particles.set_index("label").loc[ids].reset_index()
    first_hc = int(half[half >= 0].min()) if np.any(half >= 0) else None
    fit_cols = ["onset_soc", "midpoint_soc", "width_soc", "step_likeness", "r2", "reacted"]
    if first_hc is not None and not transitions.empty:
        t0 = transitions[transitions["half_cycle"] == first_hc].set_index("particle").reindex(ids)
        for ccol in fit_cols:
            particles[ccol] = t0[ccol].to_numpy() if ccol in t0 else np.nan
        particles["classification"] = t0["classification"].fillna("").to_numpy()
        particles["half_cycle"] = first_hc
    else:
        for ccol in fit_cols:
            particles[ccol] = np.nan
        particles["classification"] = ""
        particles["half_cycle"] = -1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        particles["max_contrast"] = np.nanmax(stack["contrast"], axis=0) if n_bins else np.nan

    summary = {
        "frames": n_frames, "frames_used": used_frames, "bin_frames": bin_n, "binned_frames": n_bins,
        "frame_shape": list(shape), "particles": int(n_p),
        "particles_touching_edge": int(particles["touches_edge"].sum()) if "touches_edge" in particles else None,
        "drift_method": drift,
        "reference_spot_yx": [round(float(v), 3) for v in state["reference_yx"]] if "reference_yx" in state else None,
        "max_drift_px": float(np.hypot(d_all[:, 0], d_all[:, 1]).max()) if d_all.size else 0.0,
        "background_threshold": state.get("threshold"),
        "unreacted_threshold": unreacted_threshold, "pixel_size_nm": pixel_size_nm,
        "cycler": cycler is not None, "time_offset_s": float(time_offset_s),
        "half_cycles": [
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
            for row in _records(half_table)
        ],
    }
    return OpticalResult(particles=particles, traces=traces, drift=drift_df, half_cycles=half_table,
                         transitions=transitions, summary=summary, labels=labels, first_frame=state["first"],
                         images=np.asarray(images, dtype=np.float32).reshape(-1, *shape),
                         image_frames=keep, extra={"frame_table": frames_df})


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append({str(k): (v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    return out


def _particle_class(row) -> str:
    """Per particle and half cycle: "step-like" (one sharp switch), "gradual", or "unreacted"."""
    if not bool(row["reacted"]):
        return "unreacted"
    return "step-like" if bool(row["step_like"]) else "gradual"


def _asynchrony(soc, contrast, half, frames_df, ids):
    """Transition fits per particle and half cycle, and the per-half-cycle classification."""
    from ...observe.asynchrony import classify_half_cycles, transition_table

    ok = np.isfinite(soc)
    parts = []
    for h in np.unique(half[(half >= 0) & ok]):
        idx = np.flatnonzero((half == h) & ok)
        # the frame before the first is where the half cycle starts from when it lies on
        # the way (the last rest frame, or a frame at the turn); a frame of the half cycle
        # before, taken short of the turn, would run the SOC backwards: left out
        prev = idx[0] - 1
        rising = soc[idx[-1]] >= soc[idx[0]]
        if prev >= 0 and ok[prev] and (soc[prev] <= soc[idx[0]] if rising else soc[prev] >= soc[idx[0]]):
            idx = np.concatenate([[prev], idx])
        parts.append(transition_table(soc[idx], contrast[idx], half_cycle=np.full(idx.size, h), particle=ids))
    parts = [t for t in parts if len(t)]
    trans = (pd.concat(parts, ignore_index=True) if parts
             else transition_table(soc[:0], contrast[:0], half_cycle=half[:0], particle=ids))
    if trans.empty:
        return trans, pd.DataFrame(columns=["half_cycle", "direction", "asynchrony_index", "classification",
                                            "n_reacted", "n_particles", "fraction_unreacted"])
    trans["classification"] = [_particle_class(r) for _, r in trans.iterrows()]
    classes = classify_half_cycles(trans)
    return trans, classes
