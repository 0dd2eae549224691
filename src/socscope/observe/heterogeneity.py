"""Heterogeneity measures of an occupancy field.

All functions take cell values ``theta`` with shape ``(..., n_cells)`` and
the cell geometry, and return arrays over the leading axes, so they apply to
one snapshot or to a whole time series at once.

Definitions (documented here once, used everywhere):

* **periphery** — cells whose centre lies within ``periphery_fraction`` × the
  inradius of the boundary (default 0.2: the outer ring of width 0.2 R in a
  disc of radius R). The inradius is the largest distance of any cell centre
  from the active boundary.
* **core** — cells at least ``core_fraction`` × the inradius from the
  boundary (default 0.6: the central disc of radius 0.4 R; a cell exactly at
  that depth, as happens on pixel grids, counts as core).
* **periphery minus core** — volume-weighted mean θ of the periphery minus
  that of the core (negative on charge, when the periphery is Li-poor).
* **front depth** — the depth from the surface at which the front between
  the Li-rich and the Li-poor region stands: the boundary distance ``d*``
  such that the cells deeper than ``d*`` hold the same volume as the cells on
  the inner side of the mid level ``(max θ + min θ)/2``. On charge (a
  delithiation front) the inner side is the Li-rich one (the core); on
  discharge (a lithiation front) the Li-poor one (the core inside a Li-rich
  rim); the caller says which (``lithiation``), as a simulation knows from its
  current. For a sharp front in a sphere this is exactly ``R − r_front``
  either way. A uniform field (max − min < 1e-6) has no front, and a field
  with NaN has none that can be placed: NaN.
* **unreacted-region offset** — the distance between the centre of mass of
  the whole particle and that of its "unreacted" cells (θ above a
  threshold), the measure of asymmetric delithiation of Lun et al. (Supplementary Information)
  (Fig. S4, where "unreacted" is a differential optical contrast < 0.05).
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = [
    "weighted_mean",
    "weighted_std",
    "periphery_core_masks",
    "periphery_minus_core",
    "front_depth",
    "unreacted_com_distance",
]


def _cell_arrays(theta, volumes, boundary_distance=None):
    """``theta`` (..., n), ``volumes`` (n,) and ``boundary_distance`` (n,) as float arrays, checked."""
    th = np.asarray(theta, dtype=float)
    vol = np.asarray(volumes, dtype=float)
    if th.ndim < 1 or th.shape[-1] < 1:
        raise ParameterError(f"theta must have the cells on its last axis, got shape {th.shape}")
    n = th.shape[-1]
    if vol.shape != (n,):
        raise ParameterError(f"volumes must have shape ({n},) to match theta {th.shape}, got {vol.shape}")
    if not np.all(np.isfinite(vol)) or np.any(vol <= 0):
        raise ParameterError("volumes must be finite and > 0 (cell volumes or areas; only ratios matter), "
                             f"got min {np.nanmin(vol) if np.any(np.isfinite(vol)) else vol.min()!r}")
    if boundary_distance is None:
        return th, vol, None
    bd = np.asarray(boundary_distance, dtype=float)
    if bd.shape != (n,):
        raise ParameterError(f"boundary_distance must have shape ({n},) to match theta {th.shape}, got {bd.shape}")
    if not np.all(np.isfinite(bd)) or np.any(bd < 0):
        raise ParameterError("boundary_distance must be finite and >= 0 (each cell centre's distance from the "
                             "active surface [m])")
    return th, vol, bd


def weighted_mean(theta: np.ndarray, volumes: np.ndarray) -> np.ndarray:
    """Volume-weighted mean over the last axis."""
    theta, volumes, _ = _cell_arrays(theta, volumes)
    return theta @ volumes / volumes.sum()


def weighted_std(theta: np.ndarray, volumes: np.ndarray) -> np.ndarray:
    """Volume-weighted standard deviation over the last axis."""
    theta, volumes, _ = _cell_arrays(theta, volumes)
    m = weighted_mean(theta, volumes)
    return np.sqrt(np.maximum(((theta - m[..., None]) ** 2) @ volumes / volumes.sum(), 0.0))


def periphery_core_masks(
    boundary_distance: np.ndarray, *, periphery_fraction: float = 0.2, core_fraction: float = 0.6
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of periphery and core cells (see module docstring)."""
    if not 0 < periphery_fraction <= core_fraction < 1:
        raise ParameterError(
            f"need 0 < periphery_fraction ({periphery_fraction}) <= core_fraction ({core_fraction}) < 1"
        )
    boundary_distance = np.asarray(boundary_distance, dtype=float)
    if boundary_distance.ndim != 1 or boundary_distance.size == 0 or not np.all(np.isfinite(boundary_distance)):
        raise ParameterError("boundary_distance must be a non-empty 1-D array of finite distances [m], got shape "
                             f"{boundary_distance.shape}")
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
    theta, volumes, boundary_distance = _cell_arrays(theta, volumes, boundary_distance)
    per, core = periphery_core_masks(boundary_distance, **fractions)
    return weighted_mean(theta[..., per], volumes[per]) - weighted_mean(theta[..., core], volumes[core])


def front_depth(theta: np.ndarray, volumes: np.ndarray, boundary_distance: np.ndarray, *,
                lithiation=False) -> np.ndarray:
    """Depth of the (de)lithiation front below the surface [m] (see module docstring).

    Parameters
    ----------
    theta : ndarray, shape (..., n)
    volumes, boundary_distance : ndarray, shape (n,)
    lithiation : bool or array_like of bool, shape (...)
        True where the front is a lithiation front (discharge: Li enters from
        the surface), False (default) for a delithiation front (charge).

    Returns
    -------
    ndarray, shape (...)
        NaN where the field is uniform (max − min < 1e-6) or has NaN.
    """
    theta, volumes, boundary_distance = _cell_arrays(theta, volumes, boundary_distance)
    lead = theta.shape[:-1]
    try:
        inward = np.broadcast_to(np.asarray(lithiation, dtype=bool), lead).ravel()
    except ValueError:
        raise ParameterError(f"lithiation must be one flag or one per snapshot {lead}, got shape "
                             f"{np.shape(lithiation)}") from None
    flat = theta.reshape(-1, theta.shape[-1])
    order = np.argsort(-boundary_distance)  # deepest first
    cum = np.cumsum(volumes[order])
    d_sorted = boundary_distance[order]
    out = np.full(flat.shape[0], np.nan)
    for k, th in enumerate(flat):
        hi, lo = th.max(), th.min()
        if not hi - lo >= 1e-6:  # uniform, or NaN somewhere
            continue
        rich = th > 0.5 * (hi + lo)
        # the inner side: the Li-rich core on charge, the Li-poor core inside a Li-rich rim on discharge
        inner = ~rich if inward[k] else rich
        j = np.searchsorted(cum, volumes[inner].sum())
        j = min(j, len(d_sorted) - 1)
        out[k] = d_sorted[j]
    return out.reshape(lead)


def unreacted_com_distance(
    theta_cells: np.ndarray, cell_xy: np.ndarray, volumes: np.ndarray, threshold: float
) -> np.ndarray:
    """Distance between the particle's centre of mass and that of its unreacted region.

    Parameters
    ----------
    theta_cells : ndarray, shape (..., n)
        Cell occupancies (one snapshot or a time series).
    cell_xy : ndarray, shape (n, 2)
        Cell centroids [m].
    volumes : ndarray, shape (n,)
        Cell volumes (or areas; only ratios matter).
    threshold : float
        Cells with ``θ > threshold`` are unreacted (still Li-rich).

    Returns
    -------
    ndarray, shape (...)
        Distance [units of ``cell_xy``]; 0 when every cell is unreacted, NaN
        when none is.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[-1.0, 0.0], [1.0, 0.0]])
    >>> float(unreacted_com_distance(np.array([0.9, 0.5]), xy, np.ones(2), 0.8))
    1.0
    """
    theta, vol, _ = _cell_arrays(theta_cells, volumes)
    xy = np.asarray(cell_xy, dtype=float)
    n = theta.shape[-1]
    if xy.shape != (n, 2) or not np.all(np.isfinite(xy)):
        raise ParameterError(f"cell_xy must hold finite centroids with shape ({n}, 2) to match theta_cells "
                             f"{theta.shape}; got {xy.shape}")
    if not np.isfinite(threshold):
        raise ParameterError(f"threshold = {threshold!r} must be a finite occupancy, e.g. 0.9")
    com = (vol @ xy) / vol.sum()
    w = np.where(theta > threshold, vol, 0.0)  # (..., n)
    mass = w.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        com_u = (w @ xy) / mass[..., None]
    d = np.linalg.norm(com_u - com, axis=-1)
    return np.where(mass > 0, d, np.nan)
