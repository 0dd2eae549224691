"""Cycling summaries of a cycler record in the common schema of :func:`socscope.io.load_cycler`.

Definitions (documented once, used everywhere):

* **Half cycle** — a maximal run of records whose current has one sign
  (charge: ``current_A > 0``; discharge: ``< 0``). Records with
  ``|I| <= rest_fraction × max|I|`` are rests: they belong to no half cycle
  and do not break one.
* **Capacity of a half cycle** — ``|Δ capacity_Ah|`` between its first and
  last record plus the charge of the step into its first record.
* **Left out** — a current block (a run of successive records of one
  sign, ended by a rest or a change of sign) is no part of a half cycle
  when it passes no real net charge: when it is a single record (a sample between
  rests), or when its charge is at most ``min_charge_fraction`` (1e-3) of
  the largest block's and its current is not steady (three records at
  least, within 5 % of their median). An impedance measurement oscillates
  around zero current, so each of its blocks of one sign lasts half a
  period, follows a sine and nets ~1e-5 of a half cycle (none at all
  where the instrument's count stops during it); a one-point blip or the
  1 µA noise of an idle channel is a single sample; a real half cycle
  moves a sizeable part of the capacity (a 10-second pulse at 1C is 3e-3
  of a full one), and a brief steady step (a 20 s pre-charge before a
  70-hour charge, 2e-4 of it) is one the instrument was told to make.
  Left-out blocks count as rests (they neither break nor extend a half
  cycle); their number is in the table's ``attrs["left_out"]`` and
  described in ``attrs["left_out_note"]``.
* **CC and CV parts** — a record belongs to the constant-voltage part when
  its voltage lies within ``cv_window_V`` (5 mV) of the half cycle's final
  voltage *and* its current has fallen below 98 % of the reference current:
  the median current magnitude of the half cycle's records over the first
  half of its charge (a basis that does not depend on how densely each
  part is sampled: a CV part logged densely can hold most of the records
  but never more than half the charge of a CC-CV half cycle that is mostly
  CC); everything before the first such record is the constant-current
  part.
* **Cycle** — a charge half cycle and the discharge half cycle that follows
  it (cathode half cells start with charge; pass ``first="discharge"`` for
  anodes). Coulombic efficiency = discharge / charge capacity, with and
  without the CV part of the discharge.
* **dQ/dV** — per half cycle, capacity resampled on a uniform voltage grid
  (``dv_V``, 5 mV) by linear interpolation of the monotone envelope, then
  differentiated with a Savitzky–Golay filter (window ``window`` points,
  cubic).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._checks import fraction, positive_float, whole_number
from ..errors import ParameterError
from ..io.cycler import record_problem

__all__ = ["half_cycles", "cycle_summary", "dqdv"]


def _check(df: pd.DataFrame) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"expected a cycler record (pandas.DataFrame from socscope.io.load_cycler), got "
                             f"{type(df).__name__}")
    missing = [c for c in ("time_s", "voltage_V", "current_A", "capacity_Ah") if c not in df.columns]
    if missing:
        raise ParameterError(
            f"the record lacks columns {missing}; load it with socscope.io.load_cycler (schema time_s, "
            "voltage_V, current_A, step, cycle, capacity_Ah)"
        )
    if len(df) < 2:
        raise ParameterError(f"the record has {len(df)} point(s); a summary needs at least 2")
    # times in order and finite numbers (a NaN capacity or an infinite current gave NaN or
    # empty summaries, a reversed table reversed half cycles)
    problem = record_problem(df)
    if problem:
        raise ParameterError(f"the record: {problem}")


def half_cycles(df: pd.DataFrame, *, rest_fraction: float = 1e-3, cv_window_V: float = 5e-3,
                min_charge_fraction: float = 1e-3) -> pd.DataFrame:
    """One row per half cycle (see the module docstring).

    Parameters
    ----------
    df : pandas.DataFrame
        A record from :func:`socscope.io.load_cycler`.
    rest_fraction : float
        Currents at most this fraction of the largest are rests.
    cv_window_V : float
        Voltage window [V] of the constant-voltage part.
    min_charge_fraction : float
        A current block passing at most this fraction of the largest block's
        charge is left out (impedance, blips, noise; module docstring).

    Returns
    -------
    pandas.DataFrame
        ``index`` (0, 1, ...), ``direction`` ("charge"/"discharge"),
        ``start``/``stop`` (row positions, stop exclusive), ``t_start_s``,
        ``t_end_s``, ``capacity_Ah``, ``cc_capacity_Ah``, ``cv_capacity_Ah``,
        ``v_start_V``, ``v_end_V``; ``attrs["left_out"]`` (number of current
        blocks left out) and ``attrs["left_out_note"]`` (one line saying so).
        Empty where the record holds no real half cycle.
    """
    _check(df)
    i = df["current_A"].to_numpy(float)
    q = df["capacity_Ah"].to_numpy(float)
    v = df["voltage_V"].to_numpy(float)
    t = df["time_s"].to_numpy(float)
    fraction("rest_fraction", rest_fraction, example="1e-3")
    positive_float("cv_window_V", cv_window_V, unit=" V", example="5e-3")
    fraction("min_charge_fraction", min_charge_fraction, example="1e-3")
    threshold = rest_fraction * np.nanmax(np.abs(i))
    sign = np.where(i > threshold, 1, np.where(i < -threshold, -1, 0))
    blocks, left_out = _real_blocks(sign, q, i, min_charge_fraction)
    rows = []
    for a, b, s in blocks:
        # include the step into the first record (capacity counted from
        # the last record before the half cycle)
        q0 = q[a - 1] if a > 0 else q[a]
        cap = abs(q[b - 1] - q0)
        mag = np.abs(i[a:b])
        # reference current: median over the records (of the half cycle's sign) in the first
        # half of its charge, not of its points (a densely logged CV part held most points)
        first_half = (np.abs(q[a:b] - q0) <= 0.5 * cap) & (sign[a:b] == s)
        ref = np.median(mag[first_half]) if first_half.any() else mag[0]
        in_cv = (np.abs(v[a:b] - v[b - 1]) <= cv_window_V) & (mag < 0.98 * ref)
        first_cv = a + int(np.argmax(in_cv)) if in_cv.any() else b
        cc = abs(q[first_cv - 1] - q0) if first_cv > a else 0.0
        rows.append({
            "direction": "charge" if s > 0 else "discharge",
            "start": int(a), "stop": int(b),
            "t_start_s": float(t[a]), "t_end_s": float(t[b - 1]),
            "capacity_Ah": float(cap), "cc_capacity_Ah": float(cc), "cv_capacity_Ah": float(cap - cc),
            "v_start_V": float(v[a]), "v_end_V": float(v[b - 1]),
        })
    out = pd.DataFrame(rows, columns=["direction", "start", "stop", "t_start_s", "t_end_s", "capacity_Ah",
                                      "cc_capacity_Ah", "cv_capacity_Ah", "v_start_V", "v_end_V"])
    out.index.name = "half_cycle"
    out.attrs["left_out"] = left_out
    out.attrs["left_out_note"] = (
        f"{left_out} current block(s) of a single record, or passing <= {min_charge_fraction:g} of the "
        "largest block's charge at an unsteady current, left out (impedance, blips or noise)") if left_out else ""
    return out


def _blocks(sign: np.ndarray) -> list[tuple[int, int, int]]:
    """``(start, stop, sign)`` of every maximal run of one current sign (rests do not break one)."""
    active = np.nonzero(sign != 0)[0]
    if not active.size:
        return []
    s = sign[active]
    breaks = np.nonzero(np.diff(s) != 0)[0] + 1
    return [(int(active[seg[0]]), int(active[seg[-1]]) + 1, int(s[seg[0]]))
            for seg in np.split(np.arange(active.size), breaks)]


def _real_blocks(sign: np.ndarray, q: np.ndarray, current: np.ndarray,
                 min_charge_fraction: float) -> tuple[list, int]:
    """The half cycles of a record, and how many current blocks were left out (module docstring).

    Judged block by block where a rest ends a block too (a half cycle's
    pulses are judged one by one, and the first lobe of an impedance
    measurement is not judged with the half cycle before it); the blocks
    that stand then join into half cycles across rests.
    """
    on = np.flatnonzero(sign != 0)
    if not on.size:
        return [], 0
    # contiguous runs of one sign: a rest or a change of sign ends one
    cuts = np.flatnonzero((np.diff(on) > 1) | (np.diff(sign[on]) != 0)) + 1
    runs = [(int(r[0]), int(r[-1]) + 1) for r in np.split(on, cuts)]
    charge = np.array([abs(q[b - 1] - (q[a - 1] if a > 0 else q[a])) for a, b in runs])
    # a steady current (three records at least, within 5 % of their median) is a step the instrument
    # was told to make, however brief; a lobe of an impedance oscillation is not steady
    mag = np.abs(current)
    steady = np.array([b - a >= 3 and bool(np.all(np.abs(mag[a:b] - np.median(mag[a:b]))
                                                  <= 0.05 * np.median(mag[a:b]))) for a, b in runs])
    # a single sample between rests is a blip; otherwise a real net charge is more than the fraction
    # of the largest run's, or a steady current (a record whose largest run passes nothing keeps none)
    small = charge <= min_charge_fraction * charge.max()
    drop = (np.array([b - a for a, b in runs]) < 2) | (small & ~(steady & (charge > 0)))
    kept = sign.copy()
    for (a, b), d in zip(runs, drop):
        if d:
            kept[a:b] = 0
    return _blocks(kept), int(drop.sum())


def cycle_summary(df: pd.DataFrame, *, mass_g: float | None = None, first: str = "charge", **kwargs) -> pd.DataFrame:
    """Charge and discharge capacity and coulombic efficiency per cycle.

    Parameters
    ----------
    df : pandas.DataFrame
        A record from :func:`socscope.io.load_cycler`.
    mass_g : float, optional
        Active mass [g]; adds mAh/g columns.
    first : {"charge", "discharge"}
        Which half cycle opens a cycle: "charge" for a cathode against Li, "discharge"
        for an anode against Li (lithiated first).
    **kwargs
        Passed to :func:`half_cycles`.

    Returns
    -------
    pandas.DataFrame
        Per cycle: ``charge_mAh``, ``discharge_mAh``, their CC and CV parts,
        ``coulombic_efficiency`` (the second half cycle's capacity over the first's:
        discharge/charge with ``first="charge"``, charge/discharge with
        ``first="discharge"``) and ``coulombic_efficiency_cc`` (the second half's CC
        part over the first half), and ``*_mAh_g`` with a mass.
    """
    if first not in ("charge", "discharge"):
        raise ParameterError(f"first = {first!r} must be 'charge' or 'discharge'")
    if mass_g is not None:
        mass_g = positive_float("mass_g", mass_g, unit=" g", example="8.1e-3 (8.1 mg of active material)")
    hc = half_cycles(df, **kwargs)
    second = "discharge" if first == "charge" else "charge"
    rows = []
    k = 0
    while k < len(hc):
        if hc.direction.iloc[k] != first:
            k += 1
            continue
        a = hc.iloc[k]
        b = hc.iloc[k + 1] if k + 1 < len(hc) and hc.direction.iloc[k + 1] == second else None
        chg, dchg = (a, b) if first == "charge" else (b, a)
        row = {"cycle": len(rows), "t_start_s": a.t_start_s}
        for name, h in (("charge", chg), ("discharge", dchg)):
            row[f"{name}_mAh"] = h.capacity_Ah * 1e3 if h is not None else np.nan
            row[f"{name}_cc_mAh"] = h.cc_capacity_Ah * 1e3 if h is not None else np.nan
            row[f"{name}_cv_mAh"] = h.cv_capacity_Ah * 1e3 if h is not None else np.nan
        # what the cycle gives back over what it took: the second half over the first
        given, taken = row[f"{second}_mAh"], row[f"{first}_mAh"]
        row["coulombic_efficiency"] = given / taken if taken else np.nan
        row["coulombic_efficiency_cc"] = row[f"{second}_cc_mAh"] / taken if taken else np.nan
        rows.append(row)
        k += 2 if b is not None else 1
    out = pd.DataFrame(rows)
    if mass_g is not None and not out.empty:
        for c in [c for c in out.columns if c.endswith("_mAh")]:
            out[c + "_g"] = out[c] / mass_g
    return out.set_index("cycle") if not out.empty else out


def dqdv(df: pd.DataFrame, *, dv_V: float = 5e-3, window: int = 11, **kwargs) -> pd.DataFrame:
    """Differential capacity dQ/dV per half cycle (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Long format: ``half_cycle``, ``direction``, ``voltage_V``,
        ``capacity_mAh`` (from the start of the half cycle) and
        ``dqdv_mAh_V`` (positive for both directions).
    """
    from scipy.signal import savgol_filter

    positive_float("dv_V", dv_V, unit=" V", example="0.005")
    # 3 points at least: a smaller window (0 read as 1) silently meant no smoothing at all
    whole_number("window", window, minimum=3, example=11)
    hc = half_cycles(df, **kwargs)
    v_all = df["voltage_V"].to_numpy(float)
    q_all = df["capacity_Ah"].to_numpy(float)
    parts = []
    for k, h in hc.iterrows():
        v = v_all[h.start:h.stop]
        q = np.abs(q_all[h.start:h.stop] - q_all[h.start]) * 1e3
        if h.direction == "discharge":
            v = -v  # make the voltage rise along the half cycle
        v = np.maximum.accumulate(v)  # monotone envelope (noise and relaxation steps)
        lo, hi = v[0], v[-1]
        if hi - lo < 3 * dv_V:
            continue
        grid = np.arange(lo, hi, dv_V)
        qg = np.interp(grid, v, q)
        w = min(window if window % 2 else window + 1, grid.size - (1 - grid.size % 2))
        d = savgol_filter(qg, w, 3 if w > 3 else 1, deriv=1, delta=dv_V) if w >= 3 else np.gradient(qg, dv_V)
        parts.append(pd.DataFrame({
            "half_cycle": k, "direction": h.direction,
            "voltage_V": -grid if h.direction == "discharge" else grid,
            "capacity_mAh": qg, "dqdv_mAh_V": d,
        }))
    if not parts:
        return pd.DataFrame(columns=["half_cycle", "direction", "voltage_V", "capacity_mAh", "dqdv_mAh_V"])
    return pd.concat(parts, ignore_index=True)
