"""Differential contrast and per-particle measures of an operando optical movie.

Definitions (documented once, used by the pipeline, the command line and the figures):

* **Differential contrast** of frame *i* (Lun et al. eq. 2, (Xu et al., Joule 2022) "total contrast"):
  ``(I_i − I_ref) / I_ref`` per pixel, with ``I_ref`` the first (binned,
  drift-corrected) frame. It is undefined — NaN — wherever ``I_ref ≤ 0`` or
  is not finite, which includes background pixels that were set to 0 by the
  background mask (Lun et al.: pixels below a threshold chosen on the first frame
  are background).
* **Particle mean** — the mean over a particle's pixels (label > 0) of a
  frame; NaN pixels are left out, and a particle with no finite pixel gets NaN.
* **Depth** of a pixel — its Euclidean distance [px] to the nearest pixel
  that does not belong to the same particle (background or another particle);
  the pixels on a particle's rim have depth 1. Pixels beyond the image edge
  do not count as outside (particles cut by the edge are flagged elsewhere).
* **Periphery and core** — with ``depth_px``: periphery = depth ≤ depth_px,
  core = depth > depth_px. With ``fraction`` (the default, 0.2): the
  definitions of :func:`socscope.observe.heterogeneity.periphery_core_masks`
  applied to the depths of each particle (periphery within ``fraction`` × the
  particle's largest depth of the rim, core at least ``core_fraction`` ×
  it deep, 0.6 by default), so measured and simulated particles are compared
  on the same footing.
* **Unreacted region** — a particle's pixels whose differential contrast is
  below ``threshold`` (0.05 by default, (Lun et al.) Fig. S4). Its centre of mass
  is compared with that of the whole particle by
  :func:`socscope.observe.heterogeneity.unreacted_com_distance`: 0 when the
  whole particle is unreacted, NaN when none of it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import ParameterError
from ...observe.heterogeneity import periphery_core_masks, unreacted_com_distance
from ..regions import _as_stack, _check_labels, _Pixels, particle_depth, particle_means

__all__ = [
    "differential_contrast",
    "particle_depth",
    "particle_means",
    "periphery_core",
    "unreacted_com",
]


def differential_contrast(frames, reference) -> np.ndarray:
    """Differential contrast ``(I_i − I_ref) / I_ref`` per pixel.

    Parameters
    ----------
    frames : array_like, shape (n_frames, y, x) or (y, x)
        Intensities (drift-corrected).
    reference : array_like, shape (y, x)
        The reference intensity ``I_ref`` (the first binned frame).

    Returns
    -------
    ndarray of float64, same shape as ``frames``
        NaN where ``I_ref ≤ 0`` or is not finite (background set to 0 by the
        mask; no contrast is defined there).

    Examples
    --------
    >>> import numpy as np
    >>> differential_contrast(np.array([[2.0, 3.0]]), np.array([[2.0, 0.0]])).tolist()
    [[0.0, nan]]
    """
    stack, single = _as_stack(frames)
    ref = np.asarray(reference, dtype=np.float64)
    if ref.shape != stack.shape[1:]:
        raise ParameterError(f"reference has shape {ref.shape} but the frames are {stack.shape[1:]} (y, x)")
    valid = np.isfinite(ref) & (ref > 0)
    safe = np.where(valid, ref, 1.0)
    out = np.asarray(stack, dtype=np.float64) - safe
    out /= safe
    out[:, ~valid] = np.nan
    return out[0] if single else out


def _periphery_core_index(labels, depth_px, fraction, core_fraction):
    """Per particle pixel (in _Pixels order): 0 periphery, 1 core, 2 neither."""
    lab = np.asarray(labels)
    px = _Pixels(lab)
    depth = particle_depth(lab).ravel()[px.flat]
    region = np.full(px.flat.size, 2, dtype=np.int64)
    if depth_px is not None:
        region[depth <= depth_px] = 0
        region[depth > depth_px] = 1
    else:
        order = np.argsort(px.index, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(px.index, minlength=px.n))])
        for p in range(px.n):  # once per label image, not per frame
            sel = order[bounds[p]:bounds[p + 1]]
            per, core = periphery_core_masks(depth[sel], periphery_fraction=fraction, core_fraction=core_fraction)
            r = np.full(sel.size, 2, dtype=np.int64)
            r[core] = 1
            r[per] = 0
            region[sel] = r
    return px, region


def periphery_core(contrast_frames, labels, *, depth_px: float | None = None, fraction: float | None = None,
                   core_fraction: float = 0.6) -> pd.DataFrame:
    """Mean contrast of each particle's periphery and core, frame by frame.

    Parameters
    ----------
    contrast_frames : array_like, shape (n_frames, y, x) or (y, x)
        Differential contrast (see :func:`differential_contrast`).
    labels : array_like of int, shape (y, x)
    depth_px : float, optional
        Periphery = pixels within this depth of the rim [px]; core = deeper.
    fraction : float, optional
        Periphery = depth ≤ ``fraction`` × the particle's largest depth
        (default 0.2 when ``depth_px`` is not given); core = depth ≥
        ``core_fraction`` × it.
    core_fraction : float
        See ``fraction`` (default 0.6).

    Returns
    -------
    pandas.DataFrame
        One row per frame and particle: ``frame``, ``particle`` (label),
        ``periphery_contrast``, ``core_contrast``, ``periphery_minus_core``,
        ``n_periphery_px``, ``n_core_px``.
    """
    if depth_px is not None and fraction is not None:
        raise ParameterError("give depth_px or fraction, not both")
    if depth_px is not None and not depth_px > 0:
        raise ParameterError(f"depth_px = {depth_px!r} must be a positive depth in pixels, e.g. 3")
    if depth_px is None and fraction is None:
        fraction = 0.2
    stack, _ = _as_stack(contrast_frames)
    lab = _check_labels(labels, stack.shape[1:])
    regions = PeripheryCore(lab, depth_px=depth_px, fraction=fraction, core_fraction=core_fraction)
    return regions.table(stack)


class PeripheryCore:
    """Periphery/core regions of a label image, prepared once and applied to chunks of frames.

    Parameters are those of :func:`periphery_core`.
    """

    def __init__(self, labels, *, depth_px=None, fraction=0.2, core_fraction=0.6):
        if depth_px is None and not (fraction is not None and 0 < fraction <= core_fraction < 1):
            raise ParameterError(f"need 0 < fraction ({fraction}) <= core_fraction ({core_fraction}) < 1")
        self.pixels, region = _periphery_core_index(labels, depth_px, fraction, core_fraction)
        px = self.pixels
        self.group = px.index * 3 + region  # particle p: 3p periphery, 3p+1 core, 3p+2 neither
        counts = np.bincount(self.group, minlength=3 * px.n).reshape(px.n, 3)
        self.n_periphery = counts[:, 0]
        self.n_core = counts[:, 1]

    def means(self, stack) -> tuple[np.ndarray, np.ndarray]:
        """Periphery and core means, each of shape (n_frames, n_particles)."""
        stack, _ = _as_stack(stack)
        m = self.pixels.means(stack.reshape(stack.shape[0], -1), index=self.group, n=3 * self.pixels.n)
        m = m.reshape(stack.shape[0], self.pixels.n, 3)
        return m[:, :, 0], m[:, :, 1]

    def table(self, stack, *, first_frame: int = 0) -> pd.DataFrame:
        """The long table of :func:`periphery_core` for ``stack`` (frames numbered from ``first_frame``)."""
        per, core = self.means(stack)
        k, n = per.shape
        return pd.DataFrame({
            "frame": np.repeat(np.arange(first_frame, first_frame + k), n),
            "particle": np.tile(self.pixels.ids, k),
            "periphery_contrast": per.ravel(),
            "core_contrast": core.ravel(),
            "periphery_minus_core": (per - core).ravel(),
            "n_periphery_px": np.tile(self.n_periphery, k),
            "n_core_px": np.tile(self.n_core, k),
        })


class UnreactedCOM:
    """Particle pixels and coordinates prepared once for :func:`unreacted_com` on chunks of frames."""

    def __init__(self, labels, *, threshold: float = 0.05, pixel_size_nm: float | None = None, valid=None):
        if not np.isfinite(threshold):
            raise ParameterError(f"threshold = {threshold!r} must be a finite contrast, e.g. 0.05")
        if pixel_size_nm is not None and not pixel_size_nm > 0:
            raise ParameterError(f"pixel_size_nm = {pixel_size_nm!r} must be positive, e.g. 34.7")
        lab = np.asarray(labels)
        if valid is not None:  # pixels without a contrast (NaN) belong to no region
            lab = np.where(np.asarray(valid, dtype=bool), lab, 0)
        self.pixels = px = _Pixels(lab)
        self.threshold = float(threshold)
        self.pixel_size_nm = pixel_size_nm
        yy, xx = np.unravel_index(px.flat, lab.shape)
        order = np.argsort(px.index, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(px.index, minlength=px.n))])
        self._sel = [order[bounds[p]:bounds[p + 1]] for p in range(px.n)]
        self._xy = [np.column_stack([xx[s], yy[s]]).astype(float) for s in self._sel]

    def distances(self, stack) -> tuple[np.ndarray, np.ndarray]:
        """COM distance [px] and unreacted area fraction, each (n_frames, n_particles)."""
        stack, _ = _as_stack(stack)
        flat = stack.reshape(stack.shape[0], -1)[:, self.pixels.flat]
        k = flat.shape[0]
        dist = np.empty((k, self.pixels.n))
        frac = np.empty((k, self.pixels.n))
        for p, (sel, xy) in enumerate(zip(self._sel, self._xy)):
            c = flat[:, sel]
            # unreacted = contrast < threshold, i.e. −contrast > −threshold in the
            # "θ above a threshold" form of unreacted_com_distance
            dist[:, p] = unreacted_com_distance(-c, xy, np.ones(sel.size), -self.threshold)
            frac[:, p] = (c < self.threshold).mean(axis=1)
        return dist, frac

    def table(self, stack, *, first_frame: int = 0) -> pd.DataFrame:
        dist, frac = self.distances(stack)
        k, n = dist.shape
        out = {
            "frame": np.repeat(np.arange(first_frame, first_frame + k), n),
            "particle": np.tile(self.pixels.ids, k),
            "com_distance_px": dist.ravel(),
        }
        if self.pixel_size_nm is not None:
            out["com_distance_nm"] = dist.ravel() * self.pixel_size_nm
        out["unreacted_fraction"] = frac.ravel()
        return pd.DataFrame(out)


def unreacted_com(contrast_frames, labels, *, threshold: float = 0.05, pixel_size_nm: float | None = None) -> pd.DataFrame:
    """Distance between each particle's centre of mass and that of its unreacted region.

    The measure of (Lun et al.) Fig. S4: "unreacted" pixels have a differential
    contrast below ``threshold``; all pixels weigh the same.

    Parameters
    ----------
    contrast_frames : array_like, shape (n_frames, y, x) or (y, x)
    labels : array_like of int, shape (y, x)
    threshold : float
        Contrast below which a pixel is unreacted (default 0.05).
    pixel_size_nm : float, optional
        Adds ``com_distance_nm``.

    Returns
    -------
    pandas.DataFrame
        One row per frame and particle: ``frame``, ``particle``,
        ``com_distance_px`` (0 when the whole particle is unreacted, NaN when
        none of it is), ``com_distance_nm`` (with a pixel size),
        ``unreacted_fraction`` (share of the particle's pixels unreacted).
        Pixels whose contrast is NaN in any frame (no reference intensity)
        belong to neither region.
    """
    stack, _ = _as_stack(contrast_frames)
    lab = _check_labels(labels, stack.shape[1:])
    valid = np.isfinite(stack).all(axis=0)
    return UnreactedCOM(lab, threshold=threshold, pixel_size_nm=pixel_size_nm, valid=valid).table(stack)
