"""Steps of a cycler record shared by the titration analyses (GITT, PITT).

A **current run** is a maximal run of records whose current exceeds the rest
threshold (``rest_fraction`` of the record's largest current), keeps one sign
and, where the record has a ``step`` column, one instrument step: a CC step
followed at once by a CV step, or a charge by a discharge, are two runs.

**When a step starts and ends.** A record is a sample, not the instant the
instrument switched. The switch into run ``[a, b)`` happened after the record
before it (``t[a-1]``) and no later than its first record (``t[a]``). Most
cyclers log a record at the end of every step; where the gap ``t[a] − t[a-1]``
is no longer than the run's own logging interval ``dt`` (the median spacing
of its records), ``t[a-1]`` is taken as the start (exact for such
instruments). A longer gap means the step before was logged sparsely and not
at its end; the start then lies in ``[t[a] − dt, t[a]]`` and its middle is
taken, half an interval from either end. The end is found the same way from
``t[b-1]`` and ``t[b]``. ``timing_uncertainty_s`` bounds the error of the
resulting duration.

Where the record holds the charge the instrument counted (``capacity_Ah``
not integrated from the logged current, see :func:`socscope.io.load_cycler`),
a constant-current step is timed exactly by its charge instead:
``t_start = t[k] − (q[k] − q[a−1]) / I`` for its records ``k`` (their
median), ``τ = (q[b] − q[a−1]) / I``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._checks import fraction, positive_float
from ..errors import ParameterError
from ..io.cycler import INTEGRATED, record_problem


def check_record(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time, voltage and current of a record in the cycler schema (clear errors otherwise)."""
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"expected a cycler record (pandas.DataFrame from socscope.io.load_cycler), got "
                             f"{type(df).__name__}")
    for c in ("time_s", "voltage_V", "current_A"):
        if c not in df.columns:
            raise ParameterError(f"the record lacks column {c!r}; load it with socscope.io.load_cycler")
    problem = record_problem(df, ("voltage_V", "current_A"))
    if problem:
        raise ParameterError(f"the record: {problem}")
    return tuple(df[c].to_numpy(float) for c in ("time_s", "voltage_V", "current_A"))


def radius_metres(radius_m) -> float:
    """A particle radius in metres: finite, > 0 and below a millimetre (a radius given in µm is named)."""
    radius_m = positive_float("radius_m", radius_m, unit=" m", example="2e-6 (a 2 µm radius)")
    if radius_m > 1e-3:
        raise ParameterError(f"radius_m = {radius_m!r} m is larger than a millimetre; the radius is in metres "
                             "(a 5 µm particle is radius_m=5e-6)")
    return radius_m


def current_runs(df: pd.DataFrame, i: np.ndarray, rest_fraction: float) -> list[tuple[int, int]]:
    """``(start, stop)`` row positions (stop exclusive) of every current run (module docstring)."""
    fraction("rest_fraction", rest_fraction, example="1e-3")
    if i.size == 0 or not np.any(i != 0):
        return []
    on = np.abs(i) > rest_fraction * np.max(np.abs(i))
    key = np.where(on, np.sign(i), 0.0)
    change = key[1:] != key[:-1]
    if "step" in df.columns:
        change |= df["step"].to_numpy()[1:] != df["step"].to_numpy()[:-1]
    edges = np.concatenate([[0], np.flatnonzero(change) + 1, [i.size]])
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if on[a]]


def _interval(t: np.ndarray, a: int, b: int) -> float:
    return float(np.median(np.diff(t[a:b]))) if b - a >= 2 else 0.0


def switch_range(t: np.ndarray, a: int, b: int) -> tuple[float, float]:
    """Earliest and latest time [s] the switch into run ``[a, b)`` can have happened.

    From the record before the run, or one logging interval before the run's first record where
    that is later, to the run's first record (both ``t[a]`` for a record that opens with the run).
    """
    return (max(t[a - 1], t[a] - _interval(t, a, b)) if a > 0 else t[a]), t[a]


def clock_times(t: np.ndarray, a: int, b: int) -> tuple[float, float, float]:
    """Start, end and the duration's uncertainty [s] of run ``[a, b)`` from the time stamps alone."""
    dt = _interval(t, a, b)
    lo, hi = switch_range(t, a, b)
    # a gap no longer than dt: the record before is the previous step's end (lo = t[a-1]);
    # a longer one: the middle of [t[a] − dt, t[a]]
    start, err = (lo, hi - lo) if a == 0 or t[a] - t[a - 1] <= dt else ((lo + hi) / 2, (hi - lo) / 2)
    end = t[b - 1]
    if b < t.size:
        gap = t[b] - t[b - 1]
        end, err = (t[b - 1], err + gap) if gap <= dt else (t[b - 1] + dt / 2, err + dt / 2)
    return float(start), float(end), float(err)


def charge_times(t: np.ndarray, q: np.ndarray, current: float, a: int, b: int) -> tuple[float, float] | None:
    """Start and end [s] of a constant-current run from the instrument's charge count, or None.

    None where the run has no record before it, or where the times the charge
    gives fall outside what the time stamps allow (a capacity column that is
    not a running total, or too coarse): the clock is then used.
    """
    if a == 0 or current == 0:
        return None
    elapsed = (q[a:b] - q[a - 1]) * 3600.0 / current
    start = float(np.median(t[a:b] - elapsed))
    end = start + ((q[b] if b < q.size else q[b - 1]) - q[a - 1]) * 3600.0 / current
    # the switch lies between the bracketing records; allow 1 % of the run (a
    # capacity column rounded to a few digits) before calling the count wrong
    slack = 0.01 * (t[b - 1] - t[a - 1]) + 1e-6
    late = t[b] if b < t.size else t[b - 1]
    if not (t[a - 1] - slack <= start <= t[a] + slack and t[b - 1] - slack <= end <= late + slack):
        return None
    return min(max(start, t[a - 1]), t[a]), min(max(end, t[b - 1]), late)


def measured_charge(df: pd.DataFrame) -> np.ndarray | None:
    """The record's ``capacity_Ah`` in A h where the instrument counted it (not integrated by the reader)."""
    if "capacity_Ah" not in df.columns or df.attrs.get("capacity_source") == INTEGRATED:
        return None
    q = df["capacity_Ah"].to_numpy(float)
    return q if np.all(np.isfinite(q)) else None
