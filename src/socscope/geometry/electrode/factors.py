"""Geometric factors ``L/A`` [m⁻¹] of the electronic paths: through a particle, along carbon binder."""

from __future__ import annotations

import numpy as np

from ...errors import GeometryError
from ._args import _as_float, _positive_float

#: Electronic conductivity of the carbon-binder domain [S/m] (the project's model notes (docs/numerics.md), (Sharma et al., Nano Lett. 2022)).
SIGMA_CB = 1e4


_DEFAULT_CARBON_WIDTH = 1e-6


# ---------------------------------------------------------------------------
# geometric factors
# ---------------------------------------------------------------------------


def nmc_path_factor(particle_radius, contact_radius) -> np.ndarray:
    """Geometric factor [m⁻¹] of the path through a particle from one contact.

    ``1/(4a) + 1/(πR)``: the spreading resistance of a disc contact of radius
    ``a`` on one body plus the bulk path to the centre; divide by σ [S/m] to
    get ohms.

    Parameters
    ----------
    particle_radius : array_like
        Sphere radius ``R`` [m], > 0.
    contact_radius : array_like
        Contact-spot radius ``a`` [m], > 0 (broadcast against ``R``).

    Examples
    --------
    >>> float(nmc_path_factor(2.5e-6, 2.5e-7))  # doctest: +ELLIPSIS
    1127323.9...
    """
    r = _as_float(particle_radius, "particle_radius", "nmc_path_factor")
    a = _as_float(contact_radius, "contact_radius", "nmc_path_factor")
    try:
        np.broadcast_shapes(r.shape, a.shape)
    except ValueError:
        raise GeometryError(f"nmc_path_factor: particle_radius (shape {r.shape}) and contact_radius (shape "
                            f"{a.shape}) must have one value each per contact, or one of them a single value") from None
    if np.any(~(r > 0)) or np.any(~(a > 0)):
        raise GeometryError(
            "nmc_path_factor: particle and contact radii must be > 0 (metres), got "
            f"R = {np.min(r):g}, a = {np.min(a):g}"
        )
    return 1.0 / (4.0 * a) + 1.0 / (np.pi * r)


def carbon_link_factor(length, carbon_width: float = _DEFAULT_CARBON_WIDTH) -> np.ndarray:
    """Geometric factor ``L / A_cb`` [m⁻¹] of a carbon-binder strand.

    Parameters
    ----------
    length : array_like
        Strand length [m]; lengths below ``carbon_width / 2`` are raised to it
        (a junction touching a particle still has a strand of carbon).
    carbon_width : float
        Strand diameter [m]; ``A_cb = π carbon_width² / 4``.
    """
    w = _positive_float(carbon_width, "carbon_width", "carbon_link_factor")
    length = _as_float(length, "length", "carbon_link_factor")
    if np.any(~(np.isfinite(length) & (length >= 0))):
        bad = length[~(np.isfinite(length) & (length >= 0))].ravel()[0]
        raise GeometryError(f"carbon_link_factor: strand lengths must be finite and >= 0 (metres), got {bad:g}")
    length = np.maximum(length, 0.5 * w)
    return length / (0.25 * np.pi * w * w)
