"""Potentiostatic intermittent titration (PITT): current transients in, D out.

After a potential step the particle's surface concentration is fixed and the
current decays. For spheres of radius ``R`` (Crank eq. 6.20)

    I(t) = Q · (6 D / R²) · Σ_n exp(−n² π² D t / R²),

``Q`` being the charge the step passes in total. Two estimates per step:

* **exponential** (long times): the slope of ``ln |I|`` against ``t`` over the
  tail of the step (from 40 % of its duration on, or from ``D t/R² = 0.3``
  where that is later and leaves three points, while ``|I|`` stays above
  1e-3 of its start) is ``−π² D / R²``.
* **cottrell** (short times, ``D t / R² ≪ 1``): ``I/Q = 3√(D/π)/(R√t) − 3D/R²``
  (the sphere's two-term expansion), fitted against ``1/√t`` over
  ``t ≤ 0.05 R²/D_exponential`` (at least the first three points), so
  ``D = π (a R / 3)²`` from the slope ``a``; ``Q`` is the step's whole
  charge (the tail's remainder added to a step cut short), and with five
  points or more the switch time is fitted too, within the range the time
  stamps allow (an origin half a logging interval off moves D by tens of
  percent). Needs samples within the first
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
value, a current above the rest threshold (``rest_fraction`` of the
record's largest current) of one sign, one instrument step, and a current
that decays (:func:`detect_holds`); it ends where its current has decayed
below the threshold. Its time origin is the switch, placed by the rule of
:mod:`socscope.analysis._steps` (the record before the step where the
record was logged at the end of the previous step).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._checks import fraction, positive_float, whole_number
from ..errors import ParameterError
from ._steps import check_record, clock_times, current_runs, radius_metres, switch_range

__all__ = ["detect_holds", "pitt_diffusivity"]


def detect_holds(df: pd.DataFrame, *, v_tol_V: float = 1e-3, rest_fraction: float = 1e-3,
                 min_points: int = 8, min_decay: float = 0.5) -> pd.DataFrame:
    """Constant-voltage steps: ``start``, ``stop`` (row positions), ``voltage_V``, ``duration_s``.

    A hold is a part of a current run (one sign, one instrument step; see
    :mod:`socscope.analysis._steps`) of at least ``min_points`` records
    whose voltage stays within ``v_tol_V`` of its first value and whose
    current decays: the median of its last three currents is at most
    ``1 − min_decay`` of the largest of its first three. A constant-current
    step on a flat stretch of the OCV keeps its voltage too, but not its
    decay, so it is not a hold.
    """
    t, v, i = check_record(df)
    v_tol_V = positive_float("v_tol_V", v_tol_V, unit=" V", example="1e-3")
    whole_number("min_points", min_points, minimum=4, example=8)
    fraction("min_decay", min_decay, example=0.5)
    rows = []
    for a, b in current_runs(df, i, rest_fraction):
        k = a
        while k < b:
            j = k
            while j + 1 < b and abs(v[j + 1] - v[k]) <= v_tol_V:
                j += 1
            cur = np.abs(i[k:j + 1])
            if j + 1 - k >= min_points and np.median(cur[-3:]) <= (1.0 - min_decay) * cur[:3].max():
                rows.append({"start": k, "stop": j + 1, "voltage_V": float(np.median(v[k:j + 1])),
                             "duration_s": float(t[j] - t[k])})
            k = j + 1
    if not rows:
        raise ParameterError("no constant-voltage steps with a decaying current found (a PITT record holds the "
                             "voltage while the current decays)")
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
        determined — NaN), ``tail_clean`` (False where the step is too short
        for the exponential window to start after ``D t/R² = 0.3``: the
        next term of the series then biases ``D_exponential`` high, by
        about 3 % for a step of 0.25 R²/D).
    """
    radius_m = radius_metres(radius_m)
    t_all, _, i_all = check_record(df)
    holds = detect_holds(df) if holds is None else holds
    cap_all = df["capacity_Ah"].to_numpy(float) if "capacity_Ah" in df.columns else None
    rows = []
    for _, h in holds.iterrows():
        a, b = int(h.start), int(h.stop)
        t0 = clock_times(t_all, a, b)[0]  # the switch (the rule in socscope.analysis._steps)
        t = t_all[a:b] - t0
        # where else the switch may lie, relative to t0 (for the short-time fit)
        switch = tuple(x - t0 for x in switch_range(t_all, a, b))
        cur = np.abs(i_all[a:b])
        if cap_all is not None and a > 0:
            # the instrument integrates the current far faster than it logs
            # it; the logged points miss most of a step's first spike
            charge = float(abs(cap_all[b - 1] - cap_all[a - 1])) * 3600.0
        else:
            charge = float(np.sum(0.5 * (cur[1:] + cur[:-1]) * np.diff(t)) + cur[0] * t[0] / 2)
        d_exp = d_kin = big_l = np.nan
        q_total = charge
        k1, a1, clean = _tail(t, cur)
        if np.isfinite(k1):
            d_exp = k1 * radius_m**2 / np.pi**2
            # the charge still to come after the record's end, from the tail
            q_total = charge + a1 / k1 * np.exp(-k1 * t[-1])
            big_l = _surface_l(a1 / (q_total * k1))
            if big_l >= 0.1:  # (inf: an ideal step, β1 = π)
                d_kin = k1 * radius_m**2 / _beta1(big_l) ** 2
        # short times (D t/R² ≤ 0.05, judged with the tail's D): the two-term
        # expansion I/Q = 3√(D/π)/(R√t) − 3D/R², fitted in 1/√t; Q is the
        # step's whole charge, the part after a step cut short included
        horizon = 0.05 * radius_m**2 / d_exp if np.isfinite(d_exp) else 0.05 * t[-1]
        early = (t > 0) & (t <= horizon)
        if early.sum() < 3:  # at least the first three samples after the step
            early = np.zeros_like(early)
            early[np.nonzero(t > 0)[0][:3]] = True
        d_cot = _cottrell(t[early], cur[early] / q_total, switch, radius_m) if q_total > 0 else np.nan
        rows.append({"voltage_V": h.voltage_V, "duration_s": h.duration_s, "charge_C": charge,
                     "D_exponential": d_exp, "D_exponential_kinetic": d_kin, "D_cottrell": d_cot,
                     "surface_L": big_l, "kinetics_limited": bool(np.isfinite(big_l) and big_l < 0.1),
                     "tail_clean": clean})
    return pd.DataFrame(rows)


def _cottrell(t: np.ndarray, y: np.ndarray, switch: tuple[float, float], radius_m: float) -> float:
    """D from ``y = I/Q = a/√(t − s) − b`` (``D = π (a R/3)²``), the switch ``s`` fitted within its range.

    The fit is steep in ``1/√t`` at its first points, so an origin off by
    half a logging interval moves D by tens of percent; with five points or
    more the switch is the one of its range whose straight line in
    ``1/√(t − s)`` fits best (it is exact for an ideal step), with fewer
    the clock's origin ``t = 0`` is used.
    """
    from scipy.optimize import minimize_scalar

    if t.size < 3:
        return np.nan

    def fit(s):
        x = 1.0 / np.sqrt(t - s)
        coef, res, *_ = np.polyfit(x, y, 1, full=True)
        return coef[0], float(res[0]) if res.size else 0.0

    lo, hi = switch
    s = 0.0  # the clock's origin, inside the range
    if t.size >= 5 and hi - lo > 0:
        # stop a hair before the first record (where 1/√(t − s) diverges); the ends are candidates
        # too, as the bounded search need not land on a minimum at the boundary
        best = minimize_scalar(lambda s: fit(s)[1], bounds=(lo, hi - 1e-3 * (hi - lo)), method="bounded",
                               options={"xatol": 1e-6 * (hi - lo)})
        s = min((best.x, lo, s), key=lambda c: fit(c)[1])
    slope = fit(s)[0]
    return float(np.pi * (slope * radius_m / 3.0) ** 2) if slope > 0 else np.nan


def _tail(t: np.ndarray, cur: np.ndarray) -> tuple[float, float, bool]:
    """Rate ``k1`` and amplitude ``A1`` of the slowest exponential of a decaying current, and whether it is clean.

    Fitted to ``ln |I|`` from 40 % of the step on (while ``|I|`` stays above
    1e-3 of its start). The next term of the series decays faster by
    ``3π² D/R²`` for an ideal step (by more than ``20 D/R²`` with kinetics),
    so from ``D t/R² = 0.3`` (of this estimate) on it is below 1.4e-4 of the
    first (2.5e-3 with kinetics) and the slope's bias below 5e-4 (1e-2).
    Where the 40 % window starts earlier, the fit moves to that time when
    three points are left there; ``clean`` says whether it could.
    """
    above = cur > 1e-3 * cur[0]
    window = (t >= 0.4 * t[-1]) & above
    k1 = a1 = np.nan
    for _ in range(5):  # the window moves with the estimate; two passes settle it in practice
        if window.sum() < 3:
            break
        slope, intercept = np.polyfit(t[window], np.log(cur[window]), 1)
        if not slope < 0:
            return np.nan, np.nan, False
        k1, a1 = -slope, float(np.exp(intercept))
        t_clean = 0.3 * np.pi**2 / k1  # D t/R² = 0.3 with D = k1 R²/π²
        if t[window][0] >= t_clean:
            return k1, a1, True
        later = (t >= t_clean) & above
        if later.sum() < 3:
            break
        window = later
    return k1, a1, False


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
