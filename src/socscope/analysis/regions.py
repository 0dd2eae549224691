"""Particle regions of an image, shared by the optical and the AFM analyses.

A *label image* is an ``int32`` array of shape ``(y, x)``: 0 is background and each particle
has its own positive label. Three ways to get one:

* :func:`segment_particles` thresholds a frame (Otsu by default, :func:`background_threshold`),
  removes specks, fills the holes of cracked particles and splits touching particles with a
  watershed on the distance transform;
* :func:`labels_from_rois` rasterises ImageJ ROIs (``.roi`` files or ``RoiSet.zip``);
* :func:`load_labels` reads a label image (or a binary mask) the user made elsewhere.

On a label image: :func:`particle_table` lists the particles (area, centroid, equivalent
diameter, whether they touch the image edge); :func:`particle_means` and :func:`particle_stats`
give per-particle statistics of an image; :func:`particle_depth` and
:func:`distance_to_boundary` the depth of every pixel below its particle's rim;
:func:`rim_bulk` the rim-versus-bulk contrast of each particle.

Needs the optional extra ``socscope[image]`` (scikit-image, tifffile, roifile).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from .._checks import finite_float, in_range, positive_float, real_array
from .._optional import require
from ..errors import FileFormatError, ParameterError, SocscopeWarning
from ..io.movies import read_tiff_image
from ..observe.optical import _check_shape

__all__ = ["THRESHOLD_METHODS", "background_threshold", "distance_to_boundary", "labels_from_rois", "load_labels",
           "particle_depth", "particle_means", "particle_stats", "particle_table", "rim_bulk", "rim_bulk_masks",
           "segment_particles", "typical_radius_px", "auto_settings"]

#: automatic threshold methods (scikit-image's function names)
THRESHOLD_METHODS = ("otsu", "li", "triangle")


def _as_image(image, name: str = "image") -> np.ndarray:
    arr = real_array(name, image, example="a 2D array of intensities (y, x)")
    if arr.ndim != 2 or min(arr.shape) < 2:
        raise ParameterError(f"{name} must be a 2D array (y, x) of at least 2x2 pixels; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} holds NaN or infinite values; replace them (e.g. with the background level)")
    return arr


def _as_labels(labels) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 2:
        raise ParameterError(f"labels must be a 2D integer array (y, x); got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise ParameterError(f"labels must be integers (0 = background); got dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ParameterError(f"labels must be >= 0 (0 = background); the smallest is {arr.min()}")
    return arr


def background_threshold(image, *, method: str = "otsu") -> float:
    """Intensity that separates particles from background in one frame.

    Parameters
    ----------
    image : array_like, shape (y, x)
        A frame, usually the first (intensity, any unit).
    method : {"otsu", "li", "triangle"}, default "otsu"
        :func:`skimage.filters.threshold_otsu` (between-class variance), ``threshold_li``
        (minimum cross-entropy) or ``threshold_triangle`` (for a dominant background peak).

    Returns
    -------
    float
        The threshold (same unit as the image); pixels above it are foreground. A value of
        the user's own is passed as ``threshold=`` to :func:`segment_particles` instead.

    Raises
    ------
    ParameterError
        For an unknown method or a constant image.
    """
    filters = require("skimage.filters", "thresholding")
    image = _as_image(image)
    if method not in THRESHOLD_METHODS:
        raise ParameterError(f"method={method!r} is not a threshold method; choose one of {THRESHOLD_METHODS}")
    lo, hi = float(image.min()), float(image.max())
    if lo == hi:
        raise ParameterError(f"the image is constant ({lo:g}); no threshold separates particles from background")
    return float(getattr(filters, f"threshold_{method}")(image))


def _remove_small(labels: np.ndarray, min_area_px: int) -> np.ndarray:
    """Zero the labelled objects smaller than ``min_area_px`` pixels (in place)."""
    areas = np.bincount(labels.ravel())
    small = areas < min_area_px
    small[0] = False
    if small.any():
        labels[small[labels]] = 0
    return labels


def _fill_holes(mask: np.ndarray, max_hole_area_px: float) -> np.ndarray:
    """Fill the holes of a mask up to ``max_hole_area_px`` pixels.

    Holes inside one particle (a crack, a dark core) are small; a background pore enclosed
    by a ring of touching particles is also a hole of the mask, but usually as large as a
    particle, and must stay background.
    """
    filled = ndimage.binary_fill_holes(mask)
    holes, n = ndimage.label(filled & ~mask)
    if n:
        areas = np.bincount(holes.ravel())
        too_big = areas > max_hole_area_px
        too_big[0] = False
        filled[too_big[holes]] = False
    return filled


def typical_radius_px(image, *, threshold: float | None = None) -> float:
    """The inscribed radius of a typical particle of a frame [pixels], measured on its thresholded mask.

    Each connected bright object's largest inscribed radius (the maximum of its distance
    transform) is weighted by the object's area and the weighted median is returned: the
    radius of the particle that holds the median bright pixel. Specks of noise and the
    fragments of a cracked particle hold few pixels, so they barely move it, while a plain
    median over objects would be set by them. This is the scale that
    :func:`segment_particles` derives its automatic smoothing and smallest area from.

    Parameters
    ----------
    image : array_like, shape (y, x)
        A frame with particles brighter than the background.
    threshold : float, optional
        Intensity threshold; default :func:`background_threshold` (Otsu).

    Returns
    -------
    float
        The radius [pixels], >= 1 (0.5 when nothing is above the threshold).
    """
    image = _as_image(image)
    if threshold is None:
        threshold = background_threshold(image)
    mask = image > float(threshold)
    objects, n = ndimage.label(mask)
    if n == 0:
        return 0.5
    radii = np.asarray(ndimage.maximum(ndimage.distance_transform_edt(mask), objects, np.arange(1, n + 1)))
    areas = np.bincount(objects.ravel())[1:]
    order = np.argsort(radii)
    cum = np.cumsum(areas[order])
    return max(1.0, float(radii[order][np.searchsorted(cum, 0.5 * cum[-1])]))


#: automatic settings of :func:`segment_particles` as shares of the typical inscribed radius r
#: (:func:`typical_radius_px`): smoothing σ = r / 6 (texture and cracks finer than a sixth of a
#: particle are blurred away; the particle's outline moves by a small share of r); smallest
#: particle 0.1 · π r² (a tenth of a typical particle's cross-section)
AUTO_SMOOTH_SHARE = 1.0 / 6.0
AUTO_MIN_AREA_SHARE = 0.1


def auto_settings(image, *, threshold: float | None = None) -> dict:
    """The automatic ``smooth_px`` and ``min_area_px`` of :func:`segment_particles` for ``image``."""
    r = typical_radius_px(image, threshold=threshold)
    return {"smooth_px": max(1.0, AUTO_SMOOTH_SHARE * r),
            "min_area_px": max(20, int(round(AUTO_MIN_AREA_SHARE * math.pi * r * r))),
            "typical_radius_px": r}


def segment_particles(image, *, threshold: float | None = None, min_area_px: int | None = None,
                      split_touching: bool = True, min_distance_px: float | None = None,
                      smooth_px: float | None = None, max_hole_area_px: float | None = None) -> np.ndarray:
    """Label the particles of one frame.

    Steps: Gaussian smoothing (``smooth_px``); threshold (Otsu of the smoothed frame unless
    ``threshold`` is given), keeping pixels above it; objects smaller than ``min_area_px``
    removed; small holes filled (cracks and dark cores of cracked particles); touching particles
    split by a watershed of the negative distance transform, with one marker per maximum
    of the distance transform (:func:`skimage.feature.peak_local_max`) at least
    ``min_distance_px`` apart; fragments smaller than ``min_area_px`` removed again; labels
    renumbered 1..n in raster order of the particles' first pixel.

    Parameters
    ----------
    image : array_like, shape (y, x)
        A frame in which particles are brighter than the background (invert it first
        otherwise), e.g. the first frame of the drift-corrected movie.
    threshold : float, optional
        Intensity threshold (image units). Default: :func:`background_threshold` (Otsu) of
        the smoothed frame.
    min_area_px : int, optional
        Smallest particle kept [pixels]. Default: a tenth of a typical particle's
        cross-section, ``max(20, 0.1 · π r²)`` with ``r`` from :func:`typical_radius_px`
        (so the default scales with the particles, not with the image's pixel count).
    split_touching : bool, default True
        Split touching particles with the watershed. False: one label per connected object.
    min_distance_px : float, optional
        Smallest distance between the centres of two touching particles [pixels]. Default:
        ``max(3, 0.6 · r)``, with ``r`` the median over the connected objects of their largest
        inscribed radius (the maximum of the distance transform): two touching particles of
        the typical size have centres about ``2 r`` apart, while the spurious maxima of an
        elongated or rough single particle are closer than ``0.6 r``. Lower it when small
        particles touch large ones; raise it if single particles are cut.
    smooth_px : float, optional
        Standard deviation of the Gaussian smoothing [pixels]; 0 for none. Default:
        ``max(1, r / 6)`` with ``r`` the typical inscribed radius (:func:`typical_radius_px`):
        the texture and cracks inside large particles, which a fixed 1-pixel smoothing
        leaves to cut them into pieces, are blurred, while small particles keep 1 pixel.
    max_hole_area_px : float, optional
        Largest hole that is filled [pixels]. Default: 0.4 times the median area of the
        thresholded objects, so that dark cores and cracks inside a particle are filled while
        a background pore enclosed by a ring of touching particles (about a particle's size)
        stays background. 0 fills nothing; ``numpy.inf`` fills every hole.

    Returns
    -------
    numpy.ndarray, shape (y, x), int32
        Label image; 0 is background.

    Raises
    ------
    ParameterError
        If no particle remains ("no particles found", with the threshold and the image
        range), or an argument is out of range.

    Examples
    --------
    >>> yy, xx = np.mgrid[:64, :64]
    >>> img = ((yy - 20) ** 2 + (xx - 20) ** 2 < 100) + ((yy - 40) ** 2 + (xx - 44) ** 2 < 144) * 1.0
    >>> int(segment_particles(img).max())
    2
    """
    feature = require("skimage.feature", "segmentation")
    segmentation = require("skimage.segmentation", "segmentation")
    image = _as_image(image)
    if threshold is not None and not (isinstance(threshold, (int, float, np.number)) and not isinstance(threshold, bool)):
        raise ParameterError(f"threshold={threshold!r} must be a number (an intensity) or None for Otsu")
    if min_area_px is None or smooth_px is None:
        auto = auto_settings(image, threshold=threshold) if image.min() < image.max() else \
            {"smooth_px": 1.0, "min_area_px": 20}
        smooth_px = auto["smooth_px"] if smooth_px is None else smooth_px
        min_area_px = auto["min_area_px"] if min_area_px is None else min_area_px
    if not isinstance(min_area_px, (int, float, np.number)) or isinstance(min_area_px, bool) \
            or not math.isfinite(min_area_px) or int(min_area_px) != min_area_px or min_area_px < 1:
        raise ParameterError(f"min_area_px={min_area_px!r} must be a whole number of pixels >= 1")
    if not isinstance(smooth_px, (int, float, np.number)) or isinstance(smooth_px, bool) \
            or not (math.isfinite(smooth_px) and smooth_px >= 0):
        raise ParameterError(f"smooth_px={smooth_px!r} must be >= 0 pixels (0: no smoothing)")
    if max_hole_area_px is not None:
        max_hole_area_px = in_range("max_hole_area_px", max_hole_area_px, 0.0, math.inf, example="500 (pixels)")
    if min_distance_px is not None:
        min_distance_px = finite_float("min_distance_px", min_distance_px, example="8 (pixels)")
    if max_hole_area_px is not None and not max_hole_area_px >= 0:
        raise ParameterError(f"max_hole_area_px={max_hole_area_px!r} must be >= 0 pixels (or None for automatic)")
    if min_distance_px is not None and not (math.isfinite(min_distance_px) and min_distance_px >= 1):
        raise ParameterError(f"min_distance_px={min_distance_px!r} must be >= 1 pixel (or None for automatic)")
    smoothed = ndimage.gaussian_filter(image, smooth_px, mode="nearest") if smooth_px > 0 else image
    if threshold is None:
        threshold = background_threshold(smoothed, method="otsu")
    elif not math.isfinite(float(threshold)):
        raise ParameterError(f"threshold={threshold!r} must be a finite intensity")
    threshold = float(threshold)

    def nothing_found():
        return ParameterError(
            f"no particles found; threshold {threshold:g}, image range [{image.min():g}, {image.max():g}]"
            f" (min_area_px={min_area_px}); lower the threshold or min_area_px, or invert the image if the "
            "particles are darker than the background"
        )

    objects, _ = ndimage.label(smoothed > threshold)
    objects = _remove_small(objects, int(min_area_px))
    if max_hole_area_px is None:
        areas = np.bincount(objects.ravel())[1:]
        areas = areas[areas > 0]
        max_hole_area_px = 0.4 * float(np.median(areas)) if areas.size else 0.0
    mask = _fill_holes(objects > 0, max_hole_area_px)
    if not mask.any():
        raise nothing_found()
    objects, n_objects = ndimage.label(mask)
    if split_touching and n_objects:
        distance = ndimage.distance_transform_edt(mask)
        if min_distance_px is None:
            radii = ndimage.maximum(distance, objects, index=np.arange(1, n_objects + 1))
            min_distance_px = max(3.0, 0.6 * float(np.median(radii)))
        # a light smoothing makes the plateaus of the integer-grid distance map single peaks
        ridge = ndimage.gaussian_filter(distance, 1.0)
        peaks = feature.peak_local_max(ridge, min_distance=max(1, round(min_distance_px)),
                                       labels=objects, exclude_border=False)
        markers = np.zeros(mask.shape, dtype=np.int32)
        markers[peaks[:, 0], peaks[:, 1]] = np.arange(1, len(peaks) + 1)
        # objects without a peak (tiny or flat) keep a marker of their own
        seeded = np.zeros(n_objects + 1, dtype=bool)
        seeded[objects[peaks[:, 0], peaks[:, 1]]] = True
        unseeded = np.flatnonzero(~seeded[1:]) + 1
        if unseeded.size:
            extra = np.isin(objects, unseeded)
            markers[extra] = objects[extra] + len(peaks)
        labels = segmentation.watershed(-distance, markers, mask=mask).astype(np.int32)
        labels = _remove_small(labels, int(min_area_px))
    else:
        labels = objects.astype(np.int32)
    if not labels.any():
        raise nothing_found()
    return _raster_order(labels)


def _raster_order(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 1..n in the raster order of each particle's first pixel."""
    values, first = np.unique(labels.ravel(), return_index=True)
    keep = values > 0
    values, first = values[keep], first[keep]
    lookup = np.zeros(int(labels.max()) + 1, dtype=np.int32)
    lookup[values[np.argsort(first)]] = np.arange(1, len(values) + 1, dtype=np.int32)
    return lookup[labels]


def labels_from_rois(path_or_rois, shape) -> np.ndarray:
    """Rasterise ImageJ ROIs into a label image.

    Parameters
    ----------
    path_or_rois : str, path-like, roifile.ImagejRoi or sequence of them
        An ImageJ ``.roi`` file, a ROI set ``.zip`` (ImageJ's ROI Manager "Save"), or ROIs
        already read with :mod:`roifile`.
    shape : (int, int)
        Shape (y, x) of the image the ROIs were drawn on [pixels].

    Returns
    -------
    numpy.ndarray, shape (y, x), int32
        ROI ``k`` (in file order) becomes label ``k + 1``; where ROIs overlap, the later one
        wins. Polygon, freehand and traced ROIs are filled at pixel centres as ImageJ does
        (a pixel belongs to the ROI when its centre, at ``(row + ½, column + ½)`` in ImageJ's
        corner-based coordinates, lies inside); rectangles and ovals are filled from their
        bounding boxes; composite ROIs are filled as the union of their parts. Parts outside
        the image are cut off.

    Warns
    -----
    UserWarning
        For ROIs without an area (lines, points), which are skipped.

    Raises
    ------
    FileFormatError
        If the file is missing or cannot be read as ImageJ ROIs.
    ParameterError
        If ``shape`` is not two positive integers or no ROI has an area.
    """
    roifile = require("roifile", "reading ImageJ ROIs")
    draw = require("skimage.draw", "rasterising ROIs")
    ny, nx = _check_shape(shape)
    if isinstance(path_or_rois, roifile.ImagejRoi):
        rois, source = [path_or_rois], "the ROI"
    elif isinstance(path_or_rois, (str, Path)) or hasattr(path_or_rois, "__fspath__"):
        path = Path(path_or_rois)
        source = str(path)
        if not path.is_file():
            raise FileFormatError(f"{path}: no such file (expected an ImageJ ROI file .roi or ROI set .zip)")
        try:
            read = roifile.ImagejRoi.fromfile(path)
        except Exception as exc:  # roifile raises ValueError, struct.error, zipfile errors, ...
            raise FileFormatError(
                f"{path}: cannot be read as ImageJ ROIs ({type(exc).__name__}: {exc}); "
                "expected an ImageJ ROI file (.roi) or ROI set (.zip)"
            ) from exc
        rois = read if isinstance(read, list) else [read]
    else:
        rois, source = list(path_or_rois), "the ROIs"
        if not all(isinstance(r, roifile.ImagejRoi) for r in rois):
            raise ParameterError("path_or_rois must be a path or roifile.ImagejRoi objects")
    area_types = {roifile.ROI_TYPE.POLYGON, roifile.ROI_TYPE.FREEHAND, roifile.ROI_TYPE.TRACED,
                  roifile.ROI_TYPE.RECT, roifile.ROI_TYPE.OVAL}
    labels = np.zeros((ny, nx), dtype=np.int32)
    label = 0
    for index, roi in enumerate(rois):
        kind = roi.roitype
        is_composite = roi.multi_coordinates is not None
        if kind not in area_types and not is_composite:
            warnings.warn(f"{source}: ROI {index} ({roi.name or 'unnamed'}) is a {kind.name.lower()} without area; "
                          "skipped", SocscopeWarning, stacklevel=2)
            continue
        label += 1
        if kind == roifile.ROI_TYPE.RECT and not is_composite:
            top, left, bottom, right = _roi_box(roi)
            r0, r1 = max(round(top), 0), min(round(bottom), ny)
            c0, c1 = max(round(left), 0), min(round(right), nx)
            labels[r0:r1, c0:c1] = label
        elif kind == roifile.ROI_TYPE.OVAL and not is_composite:
            top, left, bottom, right = _roi_box(roi)
            rr, cc = draw.ellipse((top + bottom) / 2 - 0.5, (left + right) / 2 - 0.5,
                                  (bottom - top) / 2, (right - left) / 2, shape=(ny, nx))
            labels[rr, cc] = label
        else:
            parts = roi.coordinates(multi=True)
            for xy in parts:
                xy = np.asarray(xy, dtype=np.float64)
                if len(xy) < 3:
                    continue
                # ImageJ coordinates count from pixel corners; skimage tests pixel centres at integers
                rr, cc = draw.polygon(xy[:, 1] - 0.5, xy[:, 0] - 0.5, shape=(ny, nx))
                labels[rr, cc] = label
    if label == 0:
        raise ParameterError(f"{source}: no ROI with an area (polygon, freehand, traced, rectangle or oval)")
    return labels


def _roi_box(roi):
    """(top, left, bottom, right) of a ROI, sub-pixel when the file has it."""
    if getattr(roi, "subpixelrect", False) and roi.widthd > 0 and roi.heightd > 0:
        left, top, width, height = float(roi.xd), float(roi.yd), float(roi.widthd), float(roi.heightd)
        return top, left, top + height, left + width
    return float(roi.top), float(roi.left), float(roi.bottom), float(roi.right)


def load_labels(path) -> np.ndarray:
    """Read a label image or binary mask made elsewhere (ImageJ, ilastik, Cellpose, ...).

    Parameters
    ----------
    path : str or path-like
        A single-plane TIFF of integers (0 = background). A binary mask (two values, the
        lower one background, e.g. 0/1 or 0/255) is labelled by connectivity
        (:func:`skimage.measure.label`, 8-connected).

    Returns
    -------
    numpy.ndarray, shape (y, x), int32
        Label image.

    Raises
    ------
    FileFormatError
        If the file is missing, unreadable, not one 2D plane, or holds non-integer or
        negative values.
    """
    require("tifffile", "reading label images")
    measure = require("skimage.measure", "labelling masks")
    path = Path(path)
    expected = "expected a label image: a single-plane TIFF of integers, 0 = background"
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file ({expected})")
    data = read_tiff_image(path, "a label image (a single-plane TIFF of integers, 0 = background)")
    data = np.squeeze(data)
    if data.ndim != 2 or data.size == 0:
        raise FileFormatError(f"{path}: holds an array of shape {data.shape}; {expected}")
    if data.dtype == bool:
        data = data.astype(np.uint8)
    if not np.issubdtype(data.dtype, np.integer):
        if not (np.all(np.isfinite(data)) and np.all(data == np.round(data))):
            raise FileFormatError(f"{path}: holds non-integer values (dtype {data.dtype}); {expected}")
        data = data.astype(np.int64)
    if data.min() < 0:
        raise FileFormatError(f"{path}: holds negative values (smallest {data.min()}); {expected}")
    values = np.unique(data)
    if len(values) <= 2 and (len(values) == 1 or values[0] == 0):
        return measure.label(data > values[0] if len(values) == 2 else data > 0, connectivity=2).astype(np.int32)
    if data.max() > np.iinfo(np.int32).max:
        raise FileFormatError(f"{path}: labels up to {data.max()} do not fit int32; {expected}")
    return data.astype(np.int32)


def particle_table(labels, *, pixel_size_nm: float | None = None) -> pd.DataFrame:
    """One row per particle of a label image.

    Parameters
    ----------
    labels : array_like of int, shape (y, x)
        Label image (0 = background).
    pixel_size_nm : float, optional
        Pixel size [nm]; adds the columns in µm.

    Returns
    -------
    pandas.DataFrame
        Columns ``label``, ``area_px``, ``centroid_y_px``, ``centroid_x_px`` (pixel centres at
        integer coordinates), ``equivalent_diameter_px`` (diameter of the disc of the same
        area), ``touches_edge`` (a pixel in the first or last row or column), and with
        ``pixel_size_nm`` also ``area_um2`` and ``equivalent_diameter_um``. Sorted by label;
        empty (with these columns) when there is no particle.
    """
    labels = _as_labels(labels)
    if pixel_size_nm is not None:
        pixel_size_nm = positive_float("pixel_size_nm", pixel_size_nm, unit=" nm", example="34.7")
    if pixel_size_nm is not None and not (math.isfinite(pixel_size_nm) and pixel_size_nm > 0):
        raise ParameterError(f"pixel_size_nm={pixel_size_nm!r} must be a positive size in nanometres")
    flat = labels.ravel().astype(np.int64)
    n = int(flat.max()) + 1 if flat.size else 1
    area = np.bincount(flat, minlength=n).astype(np.int64)
    yy, xx = np.indices(labels.shape)
    sum_y = np.bincount(flat, weights=yy.ravel(), minlength=n)
    sum_x = np.bincount(flat, weights=xx.ravel(), minlength=n)
    edge = np.zeros(n, dtype=bool)
    for strip in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        edge[np.asarray(strip, dtype=np.int64)] = True
    present = np.flatnonzero(area)
    present = present[present > 0]
    a = area[present]
    table = pd.DataFrame({
        "label": present.astype(np.int64),
        "area_px": a,
        "centroid_y_px": sum_y[present] / np.maximum(a, 1),
        "centroid_x_px": sum_x[present] / np.maximum(a, 1),
        "equivalent_diameter_px": np.sqrt(4.0 * a / np.pi),
        "touches_edge": edge[present],
    })
    if pixel_size_nm is not None:
        um = pixel_size_nm * 1e-3
        table["area_um2"] = table["area_px"] * um ** 2
        table["equivalent_diameter_um"] = table["equivalent_diameter_px"] * um
    return table


def _as_stack(frames) -> tuple[np.ndarray, bool]:
    arr = np.asarray(frames)
    if arr.ndim == 2:
        return arr[None], True
    if arr.ndim != 3:
        raise ParameterError(f"frames must be one image (y, x) or a stack (frame, y, x); got shape {arr.shape}")
    return arr, False


def _check_labels(labels, shape) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.shape != tuple(shape):
        raise ParameterError(f"labels have shape {lab.shape} but the frames are {tuple(shape)} (y, x)")
    if not np.issubdtype(lab.dtype, np.integer):
        if np.issubdtype(lab.dtype, np.bool_):
            return lab.astype(np.int32)
        if not np.all(np.mod(lab, 1) == 0):
            raise ParameterError("labels must be an integer image (0 = background, 1, 2, ... = particles)")
        lab = lab.astype(np.int64)
    if lab.size and lab.min() < 0:
        raise ParameterError(f"labels must be ≥ 0 (0 = background); found {int(lab.min())}")
    return lab


class _Pixels:
    """Particle pixels of a label image, prepared once for repeated means.

    ``flat`` are the raveled positions of all particle pixels; ``index`` the
    particle number 0..n-1 of each; ``ids`` the label of each particle.
    """

    def __init__(self, labels):
        lab = np.asarray(labels)
        flat_labels = lab.ravel()
        self.flat = np.flatnonzero(flat_labels)
        self.ids, self.index = np.unique(flat_labels[self.flat], return_inverse=True)
        self.n = self.ids.size
        self.counts = np.bincount(self.index, minlength=self.n).astype(float)

    def means(self, frames2d: np.ndarray, index=None, n=None) -> np.ndarray:
        """Means per group of ``frames2d[:, flat]`` (shape (k, n_pixels_total))."""
        index = self.index if index is None else index
        n = self.n if n is None else n
        k = frames2d.shape[0]
        out = np.empty((k, n))
        for j in range(k):  # a loop over frames; each frame is one bincount over all particles
            v = frames2d[j, self.flat]
            ok = np.isfinite(v)
            if ok.all():
                s = np.bincount(index, weights=v, minlength=n)
                c = np.bincount(index, minlength=n).astype(float) if index is not self.index else self.counts
            else:
                s = np.bincount(index[ok], weights=v[ok], minlength=n)
                c = np.bincount(index[ok], minlength=n).astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[j] = np.where(c > 0, s / np.where(c > 0, c, 1.0), np.nan)
        return out


def particle_means(frames, labels) -> np.ndarray:
    """Mean of every frame over every particle.

    Parameters
    ----------
    frames : array_like, shape (n_frames, y, x) or (y, x)
    labels : array_like of int, shape (y, x)
        0 = background, any positive label = one particle.

    Returns
    -------
    ndarray, shape (n_frames, n_particles)
        Columns in increasing label order (``np.unique(labels[labels > 0])``);
        NaN pixels are left out of the mean. A single image gives shape
        ``(1, n_particles)``.

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.array([[1, 1, 0, 2]])
    >>> particle_means(np.array([[1.0, 3.0, 9.0, 5.0]]), lab).tolist()
    [[2.0, 5.0]]
    """
    stack, _ = _as_stack(frames)
    lab = _check_labels(labels, stack.shape[1:])
    px = _Pixels(lab)
    return px.means(stack.reshape(stack.shape[0], -1))


def particle_depth(labels) -> np.ndarray:
    """Depth of every particle pixel below the particle's rim [px] (see module docstring).

    Parameters
    ----------
    labels : array_like of int, shape (y, x)

    Returns
    -------
    ndarray of float64, shape (y, x)
        0 on the background; ≥ 1 inside particles.

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.zeros((1, 7), int); lab[0, 1:6] = 1
    >>> particle_depth(lab)[0].tolist()
    [0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0]
    """
    lab = np.asarray(labels)
    depth = np.zeros(lab.shape)
    h, w = lab.shape
    # one distance transform per particle on its bounding box grown by one
    # pixel: every pixel nearest to the particle that is not part of it lies
    # in that frame. A one-off cost per label image; the per-frame work is
    # vectorised. Where the box meets the image edge there is no frame, and
    # distance_transform_edt does not count the array's edge as outside.
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        box = (slice(max(sl[0].start - 1, 0), min(sl[0].stop + 1, h)),
               slice(max(sl[1].start - 1, 0), min(sl[1].stop + 1, w)))
        inside = lab[box] == k
        if inside.all():  # the particle fills the whole image: no rim inside it
            depth[box] = np.inf
            continue
        d = ndimage.distance_transform_edt(inside)
        depth[box][inside] = d[inside]
    return depth


def distance_to_boundary(labels) -> np.ndarray:
    """Distance of every particle pixel's centre to its particle's edge [px].

    The edge lies half a pixel beyond the rim pixels, so the distance is
    :func:`particle_depth` − ½: ½ on the rim, and for a large disc of radius ``R`` about
    ``R − r`` at radius ``r``. Background pixels get NaN.

    Examples
    --------
    >>> lab = np.zeros((1, 7), int); lab[0, 1:6] = 1
    >>> distance_to_boundary(lab)[0].tolist()
    [nan, 0.5, 1.5, 2.5, 1.5, 0.5, nan]
    """
    lab = _as_labels(labels)
    depth = particle_depth(lab)
    return np.where(lab > 0, depth - 0.5, np.nan)


def particle_stats(image, labels, *, pixel_size_nm: float | None = None, prefix: str = "") -> pd.DataFrame:
    """Per-particle statistics of one image over the particles of a label image.

    Parameters
    ----------
    image : array_like, shape (y, x)
        Any channel (height, amplitude, current, intensity); NaN pixels are left out.
    labels : array_like of int, shape (y, x)
        Label image (0 = background).
    pixel_size_nm : float, optional
        Adds the areas in µm² (see :func:`particle_table`).
    prefix : str
        Put before the statistics' column names (e.g. ``"amplitude_"``).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`particle_table`, then ``n_px`` (finite pixels), ``mean``,
        ``median``, ``std`` (population s.d., ddof 0), ``min`` and ``max``, one row per label.
    """
    img = np.asarray(image, dtype=np.float64)
    lab = _as_labels(labels)
    if img.shape != lab.shape:
        raise ParameterError(f"labels have shape {lab.shape} but the image is {img.shape} (y, x)")
    table = particle_table(lab, pixel_size_nm=pixel_size_nm)
    index = table["label"].to_numpy()
    flat_lab = lab.ravel()
    sel = np.flatnonzero((flat_lab > 0) & np.isfinite(img.ravel()))
    values, owners = img.ravel()[sel], flat_lab[sel].astype(np.int64)
    # one sort by (label, value) gives medians, minima and maxima of every particle at once
    order = np.lexsort((values, owners))
    values, owners = values[order], owners[order]
    size = int(lab.max()) + 1 if lab.size else 1
    n_all = np.bincount(owners, minlength=size)
    start = np.concatenate([[0], np.cumsum(n_all)[:-1]])
    n = n_all[index] if index.size else np.zeros(0, np.int64)
    s = start[index] if index.size else np.zeros(0, np.int64)
    has = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        sums = np.bincount(owners, weights=values, minlength=size)
        total = sums[index]
        mean = np.where(has, total / np.where(has, n, 1), np.nan)
        dev = values - np.repeat(np.where(n_all > 0, sums / np.maximum(n_all, 1), 0.0), n_all)
        var = np.bincount(owners, weights=dev * dev, minlength=size)[index] / np.where(has, n, 1)
    last = np.maximum(values.size - 1, 0)
    pick = lambda k: np.where(has, values[np.clip(k, 0, last)] if values.size else np.nan, np.nan)
    lo_mid, hi_mid = s + (n - 1) // 2, s + n // 2
    stats = {"n_px": n.astype(np.int64), "mean": mean,
             "median": 0.5 * (pick(lo_mid) + pick(hi_mid)),
             "std": np.where(has, np.sqrt(np.maximum(var, 0.0)), np.nan),
             "min": pick(s), "max": pick(s + n - 1)}
    for key, value in stats.items():
        table[prefix + key] = value
    return table


def rim_bulk_masks(labels, *, rim_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Rim and bulk pixels of every particle.

    Rim: particle pixels whose centre lies less than ``rim_px`` from the particle's edge
    (:func:`distance_to_boundary`); bulk: the particle's other pixels.

    Returns
    -------
    (numpy.ndarray of bool, numpy.ndarray of bool)
        Rim and bulk masks, shape (y, x).
    """
    if not (isinstance(rim_px, (int, float, np.floating)) and np.isfinite(rim_px) and rim_px > 0):
        raise ParameterError(f"rim_px = {rim_px!r} must be a positive width in pixels, e.g. rim_px=5")
    dist = distance_to_boundary(labels)
    inside = np.isfinite(dist)
    rim = inside & (dist < rim_px)
    return rim, inside & ~rim


def rim_bulk(image, labels, *, rim_px: float) -> pd.DataFrame:
    """Mean of an image over each particle's rim and bulk, and their difference.

    Parameters
    ----------
    image : array_like, shape (y, x)
    labels : array_like of int, shape (y, x)
    rim_px : float
        Rim width [px] (see :func:`rim_bulk_masks`).

    Returns
    -------
    pandas.DataFrame
        ``label``, ``rim_mean``, ``bulk_mean``, ``rim_minus_bulk``, ``n_rim_px``, ``n_bulk_px``;
        NaN where a particle has no bulk (thinner than twice the rim) or no finite pixel.
    """
    img = np.asarray(image, dtype=np.float64)
    lab = _as_labels(labels)
    if img.shape != lab.shape:
        raise ParameterError(f"labels have shape {lab.shape} but the image is {img.shape} (y, x)")
    rim, bulk = rim_bulk_masks(lab, rim_px=rim_px)
    index = np.unique(lab[lab > 0])
    finite = np.isfinite(img)
    safe = np.where(finite, img, 0.0)
    out = {"label": index.astype(np.int64)}
    for name, region in (("rim", rim), ("bulk", bulk)):
        sel = np.where(region & finite, lab, 0)
        n = np.asarray(ndimage.sum_labels(np.ones_like(safe), sel, index)) if index.size else np.empty(0)
        s = np.asarray(ndimage.sum_labels(safe, sel, index)) if index.size else np.empty(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_mean"] = np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)
        out[f"n_{name}_px"] = n.astype(np.int64)
    table = pd.DataFrame(out)
    table.insert(3, "rim_minus_bulk", table["rim_mean"] - table["bulk_mean"])
    return table
