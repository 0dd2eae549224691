"""Potentiostatic intermittent titration (PITT): current transients in, D out.

After a potential step the particle's surface concentration is fixed and the
current decays. For spheres of radius ``R`` (Crank eq. 6.20)

    I(t) = Q · (6 D / R²) · Σ_n exp(−n² π² D t / R²),

``Q`` being the charge the step passes in total. Two estimates per step:

* **exponential** (long times): the slope of ``ln |I|`` against ``t`` over the
  tail of the step (from 40 % of its duration on, while ``|I|`` stays above
  1e-3 of its start) is ``−π² D / R²``.
* **cottrell** (short times, ``D t / R² ≪ 1``): ``I/Q = 3√(D/π)/(R√t) − 3D/R²``
  (the sphere's two-term expansion), fitted against ``1/√t`` over
  ``t ≤ 0.05 R²/D_exponential`` (at least the first three points), so
  ``D = π (a R / 3)²`` from the slope ``a``. Needs samples within the first
  few percent of ``R²/D``, and an ideal step (a charge-transfer-limited start
  is not √t-like).

* **exponential, with surface kinetics**: a real potential step does not
  fix the surface concentration at once — charge transfer adds a resistance,
  and the surface condition is of the Robin kind (Crank eq. 6.40, Montella
  2002), ``I(t) = Q Σ_n 6 L² (D/R²) exp(−β_n² D t/R²) / (β_n² + L(L − 1))``,
  ``β_n cot β_n = 1 − L``, with ``L = R h / D`` the ratio of the surface
  conductance to the diffusion one. The tail then decays with ``β_1² D/R²``,
  ``β_1 < π``, and the plain exponential estimate reads low by ``(β_1/π)²``.
  The tail's amplitude fixes ``L``: ``A_1 / (Q k_1) = 6 L² / (β_1² (β_1² +
  L(L − 1)))`` falls from 1 (kinetics-limited) to 6/π² (ideal step) as ``L``
  grows, so it is solved for ``L``, and ``D = k_1 R² / β_1²``
  (``D_exponential_kinetic``, with ``L`` reported). It equals the plain
  estimate when the step is ideal.

A step is a run of records with the voltage within ``v_tol_V`` of its first
value and a current above the rest threshold (``rest_fraction`` of the
record's largest current), so a step ends where its current has decayed
below that threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["detect_holds", "pitt_diffusivity"]


def detect_holds(df: pd.DataFrame, *, v_tol_V: float = 1e-3, rest_fraction: float = 1e-3,
                 min_points: int = 8) -> pd.DataFrame:
    """Constant-voltage steps: ``start``, ``stop`` (row positions), ``voltage_V``, ``duration_s``."""
    for c in ("time_s", "voltage_V", "current_A"):
        if c not in df.columns:
            raise ParameterError(f"the record lacks column {c!r}; load it with socscope.io.load_cycler")
    v = df["voltage_V"].to_numpy(float)
    i = df["current_A"].to_numpy(float)
    t = df["time_s"].to_numpy(float)
    on = np.abs(i) > rest_fraction * np.nanmax(np.abs(i)) if np.any(i) else np.zeros(i.size, bool)
    rows, k = [], 0
    while k < len(v):
        if not on[k]:
            k += 1
            continue
        j = k
        while j + 1 < len(v) and on[j + 1] and abs(v[j + 1] - v[k]) <= v_tol_V:
            j += 1
        if j + 1 - k >= min_points:
            rows.append({"start": k, "stop": j + 1, "voltage_V": float(np.median(v[k:j + 1])),
                         "duration_s": float(t[j] - t[k])})
        k = j + 1
    if not rows:
        raise ParameterError("no constant-voltage steps with current found (a PITT record holds the voltage "
                             "while the current decays)")
    return pd.DataFrame(rows)


def pitt_diffusivity(df: pd.DataFrame, *, radius_m: float, holds: pd.DataFrame | None = None) -> pd.DataFrame:
    """D per potential step of a PITT record (see the module docstring).

    Parameters
    ----------
    df : pandas.DataFrame
        Record from :func:`socscope.io.load_cycler`.
    radius_m : float
        Particle radius [m].

    Returns
    -------
    pandas.DataFrame
        Per step: ``voltage_V``, ``duration_s``, ``charge_C`` (from the
        record's ``capacity_Ah`` column where there is one, else the logged
        current), ``D_exponential``, ``D_exponential_kinetic``, ``D_cottrell`` [m²/s],
        ``surface_L`` (``R h / D``; inf for an ideal step, NaN where the
        tail does not determine it) and ``kinetics_limited`` (``L < 0.1``:
        the transient is set by charge transfer, not diffusion, and D is not
        determined — NaN).
    """
    if not (radius_m and radius_m > 0):
        raise ParameterError(f"radius_m = {radius_m!r} must be a particle radius > 0 in metres")
    holds = detect_holds(df) if holds is None else holds
    t_all = df["time_s"].to_numpy(float)
    i_all = df["current_A"].to_numpy(float)
    cap_all = df["capacity_Ah"].to_numpy(float) if "capacity_Ah" in df.columns else None
    rows = []
    for _, h in holds.iterrows():
        a, b = int(h.start), int(h.stop)
        t0 = t_all[a - 1] if a > 0 else t_all[a]
        t = t_all[a:b] - t0
        cur = np.abs(i_all[a:b])
        if cap_all is not None and a > 0:
            # the instrument integrates the current far faster than it logs
            # it; the logged points miss most of a step's first spike
            charge = float(abs(cap_all[b - 1] - cap_all[a - 1])) * 3600.0
        else:
            charge = float(np.sum(0.5 * (cur[1:] + cur[:-1]) * np.diff(t)) + cur[0] * t[0] / 2)
        tail = (t >= 0.4 * t[-1]) & (cur > 1e-3 * cur[0])
        d_exp = d_kin = big_l = np.nan
        if tail.sum() >= 3:
            slope, intercept = np.polyfit(t[tail], np.log(cur[tail]), 1)
            if slope < 0:
                k1, a1 = -slope, float(np.exp(intercept))
                d_exp = k1 * radius_m**2 / np.pi**2
                # the charge still to come after the record's end, from the tail
                q_total = charge + a1 / k1 * np.exp(-k1 * t[-1])
                big_l = _surface_l(a1 / (q_total * k1))
                if big_l >= 0.1:  # (inf: an ideal step, β1 = π)
                    d_kin = k1 * radius_m**2 / _beta1(big_l) ** 2
        # short times (D t/R² ≤ 0.05, judged with the tail's D): the two-term
        # expansion I/Q = 3√(D/π)/(R√t) − 3D/R², fitted in 1/√t
        horizon = 0.05 * radius_m**2 / d_exp if np.isfinite(d_exp) else 0.05 * t[-1]
        early = (t > 0) & (t <= horizon)
        if early.sum() < 3:  # at least the first three samples after the step
            early = np.zeros_like(early)
            early[np.nonzero(t > 0)[0][:3]] = True
        d_cot = np.nan
        if early.sum() >= 3 and charge > 0:
            a_coef = np.polyfit(1.0 / np.sqrt(t[early]), cur[early] / charge, 1)[0]
            d_cot = np.pi * (a_coef * radius_m / 3.0) ** 2 if a_coef > 0 else np.nan
        rows.append({"voltage_V": h.voltage_V, "duration_s": h.duration_s, "charge_C": charge,
                     "D_exponential": d_exp, "D_exponential_kinetic": d_kin, "D_cottrell": d_cot,
                     "surface_L": big_l, "kinetics_limited": bool(np.isfinite(big_l) and big_l < 0.1)})
    return pd.DataFrame(rows)


def _beta1(big_l: float) -> float:
    """First root of ``β cot β = 1 − L`` in (0, π) (``π`` for ``L = ∞``)."""
    from scipy.optimize import brentq

    if not np.isfinite(big_l):
        return float(np.pi)
    f = lambda b: b * np.cos(b) - (1.0 - big_l) * np.sin(b)
    return float(brentq(f, 1e-12, np.pi - 1e-15, xtol=1e-14))


def _amplitude_ratio(big_l: float) -> float:
    """``A_1/(Q k_1) = 6 L²/(β_1²(β_1² + L(L − 1)))`` (6/π² for ``L = ∞``)."""
    if not np.isfinite(big_l):
        return 6.0 / np.pi**2
    b2 = _beta1(big_l) ** 2
    return 6.0 * big_l**2 / (b2 * (b2 + big_l * (big_l - 1.0)))


def _surface_l(ratio: float) -> float:
    """``L`` from the measured tail ratio ``A_1/(Q k_1)`` (inf when it is that of an ideal step).

    The ratio falls monotonically from 1 (``L → 0``) to 6/π² (``L → ∞``);
    values within 0.5 % of 6/π² are read as an ideal step (the tail fit is
    not more precise than that), values outside (6/π², 1) give NaN.
    """
    from scipy.optimize import brentq

    if not np.isfinite(ratio) or ratio >= 1.0:
        return float("nan")
    if ratio <= 6.0 / np.pi**2 * 1.005:
        return float("inf")
    g = lambda log_l: _amplitude_ratio(10.0**log_l) - ratio
    return float(10.0 ** brentq(g, -6.0, 6.0, xtol=1e-12)) if g(6.0) < 0 < g(-6.0) else float("nan")
