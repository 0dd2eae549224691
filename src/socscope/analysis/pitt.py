"""Potentiostatic intermittent titration (PITT): current transients in, D out.

After a potential step the particle's surface concentration is fixed and the
current decays. For spheres of radius ``R`` (Crank eq. 6.20)

    I(t) = Q · (6 D / R²) · Σ_n exp(−n² π² D t / R²),

``Q`` being the charge the step passes in total. Two estimates per step:

* **exponential** (long times): the slope of ``ln |I|`` against ``t`` over the
  tail of the step (from 40 % of its duration on, while ``|I|`` stays above
  1e-3 of its start) is ``−π² D / R²``.
* **cottrell** (short times, ``D t / R² ≪ 1``): ``I √t → Q (3/R) √(D/π)``, so
  ``D = π (I √t)² R² / (9 Q²)`` from the median of ``I √t`` over the first
  5 % of the step.

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
        Per step: ``voltage_V``, ``duration_s``, ``charge_C``,
        ``D_exponential``, ``D_cottrell`` [m²/s].
    """
    if not (radius_m and radius_m > 0):
        raise ParameterError(f"radius_m = {radius_m!r} must be a particle radius > 0 in metres")
    holds = detect_holds(df) if holds is None else holds
    t_all = df["time_s"].to_numpy(float)
    i_all = df["current_A"].to_numpy(float)
    rows = []
    for _, h in holds.iterrows():
        a, b = int(h.start), int(h.stop)
        t0 = t_all[a - 1] if a > 0 else t_all[a]
        t = t_all[a:b] - t0
        cur = np.abs(i_all[a:b])
        charge = float(np.sum(0.5 * (cur[1:] + cur[:-1]) * np.diff(t)) + cur[0] * t[0] / 2)
        tail = (t >= 0.4 * t[-1]) & (cur > 1e-3 * cur[0])
        d_exp = np.nan
        if tail.sum() >= 3:
            slope = np.polyfit(t[tail], np.log(cur[tail]), 1)[0]
            d_exp = -slope * radius_m**2 / np.pi**2 if slope < 0 else np.nan
        early = (t > 0) & (t <= 0.05 * t[-1])
        d_cot = np.nan
        if early.sum() >= 3 and charge > 0:
            it = np.median(cur[early] * np.sqrt(t[early]))
            d_cot = np.pi * it**2 * radius_m**2 / (9 * charge**2)
        rows.append({"voltage_V": h.voltage_V, "duration_s": h.duration_s, "charge_C": charge,
                     "D_exponential": d_exp, "D_cottrell": d_cot})
    return pd.DataFrame(rows)
