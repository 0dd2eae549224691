"""Butler–Volmer kinetics at a particle surface (Sharma et al., Nano Lett. 2022 eqs. 1–3, the project's model notes (docs/numerics.md)).

``i = i0 [exp(α_a F η / RT) − exp(−α_c F η / RT)]`` with the surface
overpotential ``η = φ_s − φ_l − U(θ_s)``; positive ``i`` is anodic (Li
leaves the cathode: charge). Arrays in, arrays out, SI units.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from .._checks import in_range, positive_float, real_array
from ..constants import F, R

__all__ = ["butler_volmer", "overpotential"]

#: Exponent arguments are clipped here so that an absurd trial potential in a
#: Newton iteration gives a huge but finite current (exp(200) ≈ 7e86) rather
#: than inf; physical overpotentials keep |αFη/RT| below ~60.
_EXP_CLIP = 200.0


def _bv_arguments(i0, eta, alpha_a, alpha_c, temperature, owner):
    """The checked arguments of the Butler–Volmer functions (numbers or arrays; 0 < α < 1; T > 0 K)."""
    i0 = real_array("i0", i0, example="10 (A/m²)", owner=owner)
    eta = real_array("eta", eta, example="0.05 (V)", owner=owner)
    alpha_a = in_range("alpha_a", alpha_a, 0.0, 1.0, closed="", example="0.5", owner=owner)
    alpha_c = in_range("alpha_c", alpha_c, 0.0, 1.0, closed="", example="0.5", owner=owner)
    temperature = positive_float("temperature", temperature, unit=" K", example="298.15", owner=owner)
    return (i0 if i0.ndim else float(i0)), (eta if eta.ndim else float(eta)), alpha_a, alpha_c, temperature


def butler_volmer(i0, eta, alpha_a: float = 0.5, alpha_c: float = 0.5, temperature: float = 298.15):
    """Current density and its derivative with respect to the overpotential.

    Parameters
    ----------
    i0 : array_like
        Exchange current density [A/m²].
    eta : array_like
        Surface overpotential ``φ_s − φ_l − U`` [V].
    alpha_a, alpha_c : float
        Anodic and cathodic transfer coefficients.
    temperature : float
        [K].

    Returns
    -------
    i, di_deta : ndarray
        [A/m²] and [A/(m² V)]; positive ``i`` is anodic (delithiation).
    """
    i0, eta, alpha_a, alpha_c, temperature = _bv_arguments(i0, eta, alpha_a, alpha_c, temperature, "butler_volmer")
    f = F / (R * temperature)
    ea = np.exp(np.clip(alpha_a * f * np.asarray(eta, dtype=float), -_EXP_CLIP, _EXP_CLIP))
    ec = np.exp(np.clip(-alpha_c * f * np.asarray(eta, dtype=float), -_EXP_CLIP, _EXP_CLIP))
    i0 = np.asarray(i0, dtype=float)
    return i0 * (ea - ec), i0 * f * (alpha_a * ea + alpha_c * ec)


def overpotential(i, i0, alpha_a: float = 0.5, alpha_c: float = 0.5, temperature: float = 298.15):
    """Overpotential that drives current density ``i`` (Butler–Volmer inverted).

    For ``α_a = α_c = α`` the inverse is closed form,
    ``η = (RT / αF) asinh(i / 2 i0)``; otherwise each value is found by a
    bracketed root search (the current is strictly increasing in ``η``).

    Parameters
    ----------
    i, i0 : array_like
        Current density and exchange current density [A/m²] (``i0 > 0``).

    Returns
    -------
    ndarray
        ``η`` [V].
    """
    i0, i, alpha_a, alpha_c, temperature = _bv_arguments(i0, i, alpha_a, alpha_c, temperature, "overpotential")
    i, i0 = np.broadcast_arrays(np.asarray(i, dtype=float), np.asarray(i0, dtype=float))
    if np.any(~(i0 > 0)):
        raise ValueError("overpotential: every exchange current density i0 must be > 0")
    f = F / (R * temperature)
    if alpha_a == alpha_c:
        return np.arcsinh(i / (2.0 * i0)) / (alpha_a * f)
    out = np.empty(i.shape)
    for idx in np.ndindex(i.shape):
        target = float(i[idx])
        lo, hi = -1.0, 1.0
        g = lambda e: float(butler_volmer(i0[idx], e, alpha_a, alpha_c, temperature)[0]) - target
        while g(lo) > 0:
            lo *= 2.0
        while g(hi) < 0:
            hi *= 2.0
        out[idx] = brentq(g, lo, hi, xtol=1e-15, rtol=1e-14)
    return out
