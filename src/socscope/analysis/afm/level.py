"""Levelling of AFM images, named as Gwyddion and TopoStats users know it.

* :func:`plane_level` — Gwyddion's *Plane Level* / TopoStats' ``remove_tilt`` (order 1) and
  ``remove_quadratic`` (order 2): a least-squares polynomial surface fitted to the pixels
  outside ``mask`` is subtracted.
* :func:`align_rows` — Gwyddion's *Align Rows*: ``"median"`` (TopoStats' ``median_flatten``:
  each scan line's median is subtracted), ``"mean"``, ``"median_of_differences"`` (each line is
  shifted by the median of its differences to the line before) and ``"polynomial"`` (a
  polynomial of ``degree`` fitted to each line); masked pixels are left out of every fit.
* :func:`remove_scars` — Gwyddion's *Remove Scars* / TopoStats' ``remove_scars``: short bands of
  one to ``max_scar_width`` scan lines that stand out from the lines above and below by more
  than ``threshold_high`` (bright) or ``threshold_low`` (dark) robust standard deviations, over
  at least ``min_scar_length`` pixels, are replaced by interpolation between those lines.
* :func:`flatten` — the two-pass recipe of TopoStats: level everything, mask the features
  (pixels above a threshold of the levelled image, grown by ``dilate_px``), level again with the
  features left out, and set the background's mean to zero.

A ``mask`` is a boolean image, True on the features (particles) that must not bias the fits.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from ..._checks import whole_number
from ..._optional import require
from ...errors import ParameterError

__all__ = ["ALIGN_METHODS", "LEVEL_STEPS", "align_rows", "flatten", "plane_level", "remove_scars"]

#: methods of :func:`align_rows`
ALIGN_METHODS = ("median", "mean", "median_of_differences", "polynomial")
#: step names accepted by :func:`flatten`
LEVEL_STEPS = ("plane", "quadratic", "median", "mean", "median_of_differences", "polynomial", "scars")


def _image(image) -> np.ndarray:
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim != 2 or min(arr.shape) < 2:
        raise ParameterError(f"image must be a 2D array (y, x) of at least 2x2 pixels; got shape {arr.shape}")
    return arr


def _mask(mask, shape) -> np.ndarray:
    if mask is None:
        return np.zeros(shape, dtype=bool)
    m = np.asarray(mask)
    if m.shape != tuple(shape):
        raise ParameterError(f"mask has shape {m.shape} but the image is {tuple(shape)} (y, x)")
    return m.astype(bool)


def plane_level(image, *, mask=None, order: int = 1) -> np.ndarray:
    """Subtract the polynomial surface of ``order`` fitted to the pixels outside ``mask``.

    Parameters
    ----------
    image : array_like, shape (y, x)
    mask : array_like of bool, shape (y, x), optional
        True on features left out of the fit.
    order : {1, 2, 3}
        1: plane (tilt), 2: quadratic (bow), 3: cubic.

    Returns
    -------
    numpy.ndarray of float64, shape (y, x)
        The image minus the fitted surface (the surface's mean included, so the background
        averages to zero).

    Examples
    --------
    >>> yy, xx = np.mgrid[:8, :8]
    >>> float(np.abs(plane_level(0.3 * xx - 0.1 * yy + 2)).max()) < 1e-12
    True
    """
    img = _image(image)
    order = whole_number("order", order, minimum=1, example=1)
    if order > 3:
        raise ParameterError(f"order = {order} must be 1 (plane), 2 (quadratic) or 3 (cubic)")
    keep = ~_mask(mask, img.shape) & np.isfinite(img)
    ny, nx = img.shape
    # coordinates scaled to [-1, 1] keep the normal equations well conditioned
    y = np.linspace(-1.0, 1.0, ny)[:, None] * np.ones((1, nx))
    x = np.ones((ny, 1)) * np.linspace(-1.0, 1.0, nx)[None, :]
    terms = [np.ones_like(x)] + [x ** (p - q) * y ** q for p in range(1, order + 1) for q in range(p + 1)]
    if keep.sum() < len(terms):
        raise ParameterError(f"only {int(keep.sum())} unmasked pixels to fit a surface of order {order}; "
                             "the mask covers nearly the whole image; shrink it or level without it")
    cols = [t[keep] for t in terms]
    target = img[keep]
    # normal equations: a few terms on [-1, 1] coordinates are well conditioned, and this is
    # ten times faster than an SVD of the (n_pixels x n_terms) design matrix; element-wise sums
    # rather than BLAS products, whose thread pool stalls when maps are levelled on several threads
    gram = np.array([[float((a * b).sum()) for b in cols] for a in cols])
    rhs = np.array([float((a * target).sum()) for a in cols])
    coef = np.linalg.solve(gram, rhs)
    out = img.copy()
    for c, t in zip(coef, terms):
        out -= c * t
    return out


def align_rows(image, *, method: str = "median", degree: int = 1, mask=None) -> np.ndarray:
    """Align the scan lines (rows) of an image.

    Parameters
    ----------
    image : array_like, shape (y, x)
        Rows are scan lines.
    method : {"median", "mean", "median_of_differences", "polynomial"}
        See the module docstring.
    degree : int
        Polynomial degree for ``"polynomial"`` (0 is the mean).
    mask : array_like of bool, optional
        True on features left out. A row with no pixel outside the mask keeps the offset of
        the nearest row that has some (for ``"median"``/``"mean"``) or is fitted whole.

    Returns
    -------
    numpy.ndarray of float64
    """
    img = _image(image)
    if method not in ALIGN_METHODS:
        raise ParameterError(f"method = {method!r} is not a row alignment; choose one of {ALIGN_METHODS}")
    m = _mask(mask, img.shape) | ~np.isfinite(img)
    free = np.where(m, np.nan, img)
    ny, nx = img.shape
    if method in ("median", "mean"):
        with np.errstate(all="ignore"), _quiet():
            offset = np.nanmedian(free, axis=1) if method == "median" else np.nanmean(free, axis=1)
        offset = _fill_rows(offset)
        return img - offset[:, None]
    if method == "median_of_differences":
        diff = free[1:] - free[:-1]
        with np.errstate(all="ignore"), _quiet():
            step = np.nanmedian(diff, axis=1)
        step = np.where(np.isfinite(step), step, 0.0)
        offset = np.concatenate([[0.0], np.cumsum(step)])
        out = img - offset[:, None]
        with _quiet():
            level = np.nanmedian(np.where(m, np.nan, out))
        return out - (level if np.isfinite(level) else 0.0)
    degree = whole_number("degree", degree, minimum=0, example=1)
    if degree >= nx:
        raise ParameterError(f"degree = {degree} must be below the row length {nx}")
    x = np.linspace(-1.0, 1.0, nx)
    vander = np.vander(x, degree + 1)
    out = np.empty_like(img)
    for i in range(ny):  # one small least-squares fit per scan line
        ok = ~m[i]
        if ok.sum() <= degree:
            ok = np.isfinite(img[i])
        coef, *_ = np.linalg.lstsq(vander[ok], img[i, ok], rcond=None)
        out[i] = img[i] - vander @ coef
    return out


class _quiet:
    """Silence numpy's 'All-NaN slice' RuntimeWarning for fully masked rows (handled after)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def _fill_rows(offset: np.ndarray) -> np.ndarray:
    ok = np.isfinite(offset)
    if ok.all():
        return offset
    if not ok.any():
        return np.zeros_like(offset)
    idx = np.arange(offset.size)
    return np.interp(idx, idx[ok], offset[ok])


def remove_scars(image, *, threshold_high: float = 4.0, threshold_low: float = 4.0, max_scar_width: int = 3,
                 min_scar_length: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Replace scars (short bands of bad scan lines) by interpolation between their neighbours.

    Parameters
    ----------
    image : array_like, shape (y, x)
        Rows are scan lines.
    threshold_high, threshold_low : float
        How far above (bright scar) or below (dark scar) both the line above and the line
        below a band must lie, in robust standard deviations of the line-to-line differences
        (1.4826 × their median absolute value).
    max_scar_width : int
        Widest scar [lines].
    min_scar_length : int
        Shortest scar along a line [px].

    Returns
    -------
    (numpy.ndarray, numpy.ndarray of bool)
        The repaired image and the mask of the pixels replaced.
    """
    img = _image(image).copy()
    for name, value in (("threshold_high", threshold_high), ("threshold_low", threshold_low)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ParameterError(f"{name} = {value!r} must be a positive number of standard deviations, e.g. 4")
    width_max = whole_number("max_scar_width", max_scar_width, minimum=1, example=3)
    length_min = whole_number("min_scar_length", min_scar_length, minimum=1, example=16)
    ny = img.shape[0]
    diffs = np.abs(np.diff(img, axis=0))
    scale = 1.4826 * float(np.median(diffs[np.isfinite(diffs)])) if diffs.size else 0.0
    if not scale > 0:
        return img, np.zeros(img.shape, dtype=bool)
    replaced = np.zeros(img.shape, dtype=bool)
    for w in range(1, width_max + 1):
        if ny < w + 2:
            break
        above = img[: ny - w - 1]
        below = img[w + 1:]
        band = np.stack([img[1 + k: ny - w + k] for k in range(w)])
        hi = np.maximum(above, below)
        lo = np.minimum(above, below)
        bright = band.min(axis=0) - hi > threshold_high * scale
        dark = lo - band.max(axis=0) > threshold_low * scale
        cand = bright | dark
        if not cand.any():
            continue
        runs = _long_runs(cand, length_min)
        rows, cols = np.nonzero(runs)
        for k in range(w):  # linear interpolation between the line above and the line below
            t = (k + 1) / (w + 1)
            img[rows + 1 + k, cols] = (1 - t) * above[rows, cols] + t * below[rows, cols]
            replaced[rows + 1 + k, cols] = True
    return img, replaced


def _long_runs(cand: np.ndarray, length: int) -> np.ndarray:
    """Keep the horizontal runs of True at least ``length`` long."""
    structure = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 0]])
    lab, n = ndimage.label(cand, structure=structure)
    if n == 0:
        return cand
    sizes = np.bincount(lab.ravel())
    keep = sizes >= length
    keep[0] = False
    return keep[lab]


def _apply(img, step, mask, degree):
    if step == "plane":
        return plane_level(img, mask=mask, order=1)
    if step == "quadratic":
        return plane_level(img, mask=mask, order=2)
    if step == "scars":
        return remove_scars(img)[0]
    return align_rows(img, method=step, mask=mask, degree=degree)


def flatten(image, *, steps=("plane", "median"), mask=None, threshold: float | None = None, dilate_px: int = 2,
            degree: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Level an image in two passes, the second with the features masked.

    Parameters
    ----------
    image : array_like, shape (y, x)
        Usually the height (topography).
    steps : sequence of str
        Applied in order, from :data:`LEVEL_STEPS`: ``"plane"``, ``"quadratic"``, ``"median"``,
        ``"mean"``, ``"median_of_differences"``, ``"polynomial"`` (of ``degree``), ``"scars"``.
    mask : array_like of bool, optional
        Features to leave out of the fits. Default: pixels of the first-pass result above
        ``threshold`` (Otsu's threshold when None), grown by ``dilate_px``.
    threshold : float, optional
        Feature threshold (image units) for the automatic mask.
    dilate_px : int
        Growth of the automatic mask [px], so that the feet of particles stay out of the fits.
    degree : int
        Degree for ``"polynomial"``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray of bool)
        The levelled image (background mean zero) and the feature mask used.
    """
    img = _image(image)
    steps = tuple(steps)
    bad = [s for s in steps if s not in LEVEL_STEPS]
    if bad:
        raise ParameterError(f"levelling step {bad[0]!r} is unknown; choose from {LEVEL_STEPS}")
    dilate_px = whole_number("dilate_px", dilate_px, minimum=0, example=2)
    first = img
    for step in steps:
        first = _apply(first, step, None, degree)
    if mask is None:
        if threshold is None:
            finite = first[np.isfinite(first)]
            if finite.size and finite.min() < finite.max():
                threshold = float(require("skimage.filters", "feature masks").threshold_otsu(finite))
            else:
                threshold = np.inf
        feature = first > threshold
        if dilate_px:
            feature = ndimage.binary_dilation(feature, iterations=dilate_px)
    else:
        feature = _mask(mask, img.shape)
    out = img
    for step in steps:
        out = _apply(out, step, feature, degree)
    background = out[~feature & np.isfinite(out)]
    if background.size:
        out = out - float(background.mean())
    return out, feature
