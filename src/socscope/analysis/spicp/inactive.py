"""Inactive lithium (Kröger et al. Table 1): Li the cathode holds but cannot give back.

The total Li of a cycled electrode (ICP-OES after acid digestion) is turned
into the capacity it would be worth, ``DOL × 278 mAh/g`` for NMC532 (the
theoretical capacity of its full Li content, Kröger et al.); the charge capacity
recovered from the same electrode against Li metal at C/20 is subtracted.
What remains is the capacity equivalent of Li that stays in the cathode.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import ParameterError

__all__ = ["NMC532_THEORETICAL_MAH_G", "inactive_li_capacity", "li_capacity_from_dol"]

#: theoretical capacity of NMC532's whole Li content [mAh/g] (Kröger et al., Experimental)
NMC532_THEORETICAL_MAH_G = 278.0


def _mean_se(name: str, values, se) -> tuple[float, float, int]:
    a = np.atleast_1d(np.asarray(values, dtype=float))
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ParameterError(f"{name} = {values!r} must be one or more finite capacities >= 0 mAh/g, e.g. 150.2")
    if se is not None:
        se = float(se)
        if not (math.isfinite(se) and se >= 0):
            raise ParameterError(f"the uncertainty of {name} ({se!r}) must be finite and >= 0 mAh/g")
        return float(a.mean()), se, a.size
    if a.size > 1:
        return float(a.mean()), float(a.std(ddof=1)), a.size
    return float(a[0]), 0.0, 1


def li_capacity_from_dol(dol, *, theoretical_mAh_g: float = NMC532_THEORETICAL_MAH_G) -> np.ndarray:
    """Capacity equivalent of a Li content: ``DOL × theoretical capacity`` [mAh/g]."""
    d = np.asarray(dol, dtype=float)
    if not np.all(np.isfinite(d)) or np.any((d < 0) | (d > 1.2)):
        raise ParameterError(f"DOL {dol!r} must be a fraction in [0, 1.2], e.g. 0.91")
    if not (math.isfinite(theoretical_mAh_g) and theoretical_mAh_g > 0):
        raise ParameterError(f"theoretical_mAh_g = {theoretical_mAh_g!r} must be > 0, e.g. 278")
    return d * theoretical_mAh_g


def inactive_li_capacity(total_li_mAh_g, recovered_mAh_g, *, total_se_mAh_g: float | None = None,
                         recovered_se_mAh_g: float | None = None) -> dict:
    """Capacity equivalent of inactive Li: total Li minus recovered capacity [mAh/g].

    Parameters
    ----------
    total_li_mAh_g : float or sequence of float
        Capacity equivalent of the total Li (replicates allowed).
    recovered_mAh_g : float or sequence of float
        Charge capacity recovered against Li metal at C/20 (replicates allowed).
    total_se_mAh_g, recovered_se_mAh_g : float, optional
        Standard uncertainties; default the replicates' standard deviation (0 for one value).

    Returns
    -------
    dict
        ``inactive_mAh_g``, ``inactive_se_mAh_g`` (the two uncertainties added
        in quadrature, as independent cells give them), ``total_mAh_g``,
        ``total_se_mAh_g``, ``recovered_mAh_g``, ``recovered_se_mAh_g``,
        ``n_total``, ``n_recovered``.
    """
    t, ts, nt = _mean_se("total_li_mAh_g", total_li_mAh_g, total_se_mAh_g)
    r, rs, nr = _mean_se("recovered_mAh_g", recovered_mAh_g, recovered_se_mAh_g)
    return {"inactive_mAh_g": t - r, "inactive_se_mAh_g": math.hypot(ts, rs), "total_mAh_g": t,
            "total_se_mAh_g": ts, "recovered_mAh_g": r, "recovered_se_mAh_g": rs, "n_total": nt,
            "n_recovered": nr}
