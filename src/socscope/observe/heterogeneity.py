"""Heterogeneity measures of an occupancy field.

All functions take cell values ``theta`` with shape ``(..., n_cells)`` and
the cell geometry, and return arrays over the leading axes, so they apply to
one snapshot or to a whole time series at once.

Definitions (documented here once, used everywhere):

* **periphery** — cells whose centre lies within ``periphery_fraction`` × the
  inradius of the boundary (default 0.2: the outer ring of width 0.2 R in a
  disc of radius R). The inradius is the largest distance of any cell centre
  from the active boundary.
* **core** — cells farther than ``core_fraction`` × the inradius from the
  boundary (default 0.6: the central disc of radius 0.4 R).
* **periphery minus core** — volume-weighted mean θ of the periphery minus
  that of the core (negative on charge, when the periphery is Li-poor).
* **front depth** — where the field has a delithiation front, the depth from
  the surface at which it stands: the boundary distance ``d*`` such that the
  cells deeper than ``d*`` hold the same volume as the cells with θ above the
  mid level ``(max θ + min θ)/2``. For a sharp front in a sphere this is
  exactly ``R − r_front``. A uniform field (max − min < 1e-6) has no front:
  NaN.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "weighted_mean",
    "weighted_std",
    "periphery_core_masks",
    "periphery_minus_core",
    "front_depth",
]


def weighted_mean(theta: np.ndarray, volumes: np.ndarray) -> np.ndarray:
    """Volume-weighted mean over the last axis."""
    return theta @ volumes / volumes.sum()


def weighted_std(theta: np.ndarray, volumes: np.ndarray) -> np.ndarray:
    """Volume-weighted standard deviation over the last axis."""
    m = weighted_mean(theta, volumes)
    return np.sqrt(np.maximum(((theta - m[..., None]) ** 2) @ volumes / volumes.sum(), 0.0))


def periphery_core_masks(
    boundary_distance: np.ndarray, *, periphery_fraction: float = 0.2, core_fraction: float = 0.6
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of periphery and core cells (see module docstring)."""
    if not 0 < periphery_fraction <= core_fraction < 1:
        raise ValueError(
            f"need 0 < periphery_fraction ({periphery_fraction}) <= core_fraction ({core_fraction}) < 1"
        )
    inradius = float(boundary_distance.max())
    per = boundary_distance <= periphery_fraction * inradius
    core = boundary_distance >= core_fraction * inradius
    if not core.any():
        core = boundary_distance >= boundary_distance.max()
    if not per.any():
        per = boundary_distance <= boundary_distance.min()
    return per, core


def periphery_minus_core(
    theta: np.ndarray, volumes: np.ndarray, boundary_distance: np.ndarray, **fractions
) -> np.ndarray:
    """Mean θ of the periphery minus mean θ of the core, over the last axis."""
    per, core = periphery_core_masks(boundary_distance, **fractions)
    return weighted_mean(theta[..., per], volumes[per]) - weighted_mean(theta[..., core], volumes[core])


def front_depth(theta: np.ndarray, volumes: np.ndarray, boundary_distance: np.ndarray) -> np.ndarray:
    """Depth of the delithiation front below the surface [m] (see module docstring).

    Parameters
    ----------
    theta : ndarray, shape (..., n)
    volumes, boundary_distance : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (...)
        NaN where the field is uniform (max − min < 1e-6).
    """
    theta = np.asarray(theta, dtype=float)
    lead = theta.shape[:-1]
    flat = theta.reshape(-1, theta.shape[-1])
    order = np.argsort(-boundary_distance)  # deepest first
    cum = np.cumsum(volumes[order])
    d_sorted = boundary_distance[order]
    out = np.full(flat.shape[0], np.nan)
    for k, th in enumerate(flat):
        hi, lo = th.max(), th.min()
        if hi - lo < 1e-6:
            continue
        vol_above = volumes[th > 0.5 * (hi + lo)].sum()
        j = np.searchsorted(cum, vol_above)
        j = min(j, len(d_sorted) - 1)
        out[k] = d_sorted[j]
    return out.reshape(lead)
