"""Join an optical movie with the cycler record: state of charge, voltage and half cycle per frame.

Definitions:

* **Clocks** — a frame taken at ``t`` on the movie's clock was taken at
  ``t + time_offset_s`` on the cycler's clock (both start at 0 by default:
  :func:`socscope.io.load_cycler` counts time from the first record).
* **Passed charge** ``charge_Ah`` — the record's ``capacity_Ah`` (net charge
  since its first point, positive on charge = delithiation of a cathode), or
  the trapezoidal integral of ``current_A`` when the table has no such
  column, interpolated linearly at the frame times.
* **State of charge** — ``soc = initial_soc + charge_Ah / capacity_Ah``:
  the cell is at ``initial_soc`` (0 by default: pristine or fully lithiated)
  at the record's first point. The capacity basis is explicit: either
  ``capacity_Ah``, or ``mass_g`` × ``capacity_mAh_g``.
* **Half cycle** of a frame — the half cycle of
  :func:`socscope.analysis.cycling.half_cycles` (a run of one current
  sign) whose time span holds the frame; frames in a rest between half
  cycles get ``half_cycle = -1`` and ``direction = "rest"``, frames outside
  the record NaN values and ``direction = "outside"``.
* **d(signal)/d(SOC)** — per particle and half cycle, the signal is smoothed
  by a Savitzky–Golay filter (``window`` points, quadratic) and
  differentiated against SOC by central differences (Sharma et al., Nano Lett. 2022 Fig. 1c, bottom).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..._checks import whole_number
from ...errors import ParameterError, SocscopeWarning

__all__ = ["capacity_basis_Ah", "derivative_vs_soc", "join_cycler", "read_cycler"]


def read_cycler(cycler) -> pd.DataFrame:
    """A cycler record as a DataFrame with ``time_s``, ``voltage_V``, ``current_A`` (and ``capacity_Ah``).

    Parameters
    ----------
    cycler : pandas.DataFrame or str or Path
        A table in the schema of :func:`socscope.io.load_cycler`, or a file:
        any format ``load_cycler`` reads; a plain CSV needs columns for time,
        voltage and current under headers ``load_cycler`` recognises
        (:data:`socscope.io.cycler.CSV_NAMES`: ``time_s``, ``voltage_V``,
        ``current_A``, or ``time``/``voltage``/``current``, ``time/s``,
        ``Ewe/V``, ``I/mA``, ``current_mA``, ...; current positive on charge).

    Raises
    ------
    FileFormatError
        The file is unreadable or lacks a time, voltage or current column.
    """
    if isinstance(cycler, pd.DataFrame):
        missing = [c for c in ("time_s", "voltage_V", "current_A") if c not in cycler.columns]
        if missing:
            raise ParameterError(
                f"the cycler table lacks columns {missing}; it needs time_s, voltage_V and current_A "
                "(as socscope.io.load_cycler returns)"
            )
        from ...io.cycler import record_problem

        # the checks load_cycler makes on files: finite times in order, finite values
        # (a table joining two tests silently sorted into nonsense SOCs)
        problem = record_problem(cycler, [c for c in ("voltage_V", "current_A", "capacity_Ah") if c in cycler])
        if problem:
            raise ParameterError(f"the cycler table: {problem}")
        return cycler
    from ...io.cycler import load_cycler

    return load_cycler(cycler)


def capacity_basis_Ah(*, capacity_Ah=None, mass_g=None, capacity_mAh_g=None, allow_none: bool = False):
    """The capacity [A h] that one unit of SOC stands for.

    Either ``capacity_Ah``, or ``mass_g`` and ``capacity_mAh_g`` (specific
    capacity of the active material, e.g. 278 mAh/g for NMC532, 275 for
    Ni-rich NMC; or a practical capacity such as 210 mAh/g). With
    ``allow_none`` and nothing given, returns None (the caller then uses the
    record's own charge swing).

    Raises
    ------
    ParameterError
        If no basis (unless ``allow_none``), an incomplete one, two bases, or a value ≤ 0 is given.
    """
    if allow_none and capacity_Ah is None and mass_g is None and capacity_mAh_g is None:
        return None
    if capacity_Ah is not None:
        if mass_g is not None or capacity_mAh_g is not None:
            raise ParameterError("give the capacity basis once: capacity_Ah, or mass_g with capacity_mAh_g")
        if not (np.isfinite(capacity_Ah) and capacity_Ah > 0):
            raise ParameterError(f"capacity_Ah = {capacity_Ah!r} must be a positive capacity in A h, e.g. 1.7e-3")
        return float(capacity_Ah)
    if mass_g is None or capacity_mAh_g is None:
        raise ParameterError(
            "SOC needs a capacity basis: capacity_Ah (--capacity-mAh), or mass_g and capacity_mAh_g "
            "(--mass-mg and --capacity-mAh-g, e.g. --mass-mg 8.1 --capacity-mAh-g 210)"
        )
    if not (np.isfinite(mass_g) and mass_g > 0):
        raise ParameterError(f"mass_g = {mass_g!r} must be a positive active mass in grams (8.1e-3 for 8.1 mg)")
    if not (np.isfinite(capacity_mAh_g) and capacity_mAh_g > 0):
        raise ParameterError(f"capacity_mAh_g = {capacity_mAh_g!r} must be a positive specific capacity, e.g. 210")
    return float(mass_g * capacity_mAh_g * 1e-3)


def _charge_Ah(df: pd.DataFrame) -> np.ndarray:
    if "capacity_Ah" in df.columns:
        q = df["capacity_Ah"].to_numpy(float)
        return q - q[0]
    t = df["time_s"].to_numpy(float)
    i = df["current_A"].to_numpy(float)
    return np.concatenate([[0.0], np.cumsum(0.5 * (i[1:] + i[:-1]) * np.diff(t))]) / 3600.0


def join_cycler(frame_time_s, cycler, *, capacity_Ah: float | None = None, mass_g: float | None = None,
                capacity_mAh_g: float | None = None, time_offset_s: float = 0.0,
                initial_soc: float = 0.0) -> pd.DataFrame:
    """State of charge, voltage, current and half cycle at every frame time.

    Parameters
    ----------
    frame_time_s : array_like, shape (n_frames,)
        Frame times on the movie's clock [s] (the mean time of each bin for
        binned frames).
    cycler : pandas.DataFrame or str or Path
        The record (see :func:`read_cycler`).
    capacity_Ah, mass_g, capacity_mAh_g : float, optional
        The capacity basis (see :func:`capacity_basis_Ah`). Without one, SOC
        is the passed charge over the largest charge swing in the record (so
        0 → 1 spans the deepest charge the record reaches), with a warning.
    time_offset_s : float
        Cycler time of the movie's time 0 [s].
    initial_soc : float
        SOC at the record's first point (default 0).

    Returns
    -------
    pandas.DataFrame
        One row per frame: ``frame``, ``time_s`` (movie clock), ``soc``,
        ``voltage_V``, ``current_A``, ``charge_Ah``, ``half_cycle``,
        ``direction`` ("charge", "discharge", "rest" or "outside").

    Raises
    ------
    ParameterError
        No capacity basis, or a record that does not overlap the movie in
        time (the message gives both time ranges and the fix,
        ``time_offset_s`` / ``--time-offset-s``).

    Examples
    --------
    >>> import pandas as pd
    >>> rec = pd.DataFrame({"time_s": [0.0, 3600.0], "voltage_V": [3.6, 3.9], "current_A": [1e-3, 1e-3]})
    >>> join_cycler([0.0, 1800.0], rec, capacity_Ah=2e-3).soc.round(6).tolist()
    [0.0, 0.25]
    """
    from ..cycling import half_cycles

    cap = capacity_basis_Ah(capacity_Ah=capacity_Ah, mass_g=mass_g, capacity_mAh_g=capacity_mAh_g, allow_none=True)
    df = read_cycler(cycler)
    t_frame = np.asarray(frame_time_s, dtype=float).ravel()
    if t_frame.size == 0 or not np.all(np.isfinite(t_frame)):
        raise ParameterError("frame_time_s must hold at least one finite time")
    if not np.isfinite(time_offset_s):
        raise ParameterError(f"time_offset_s = {time_offset_s!r} must be finite")
    if not (np.isfinite(initial_soc) and 0.0 <= initial_soc <= 1.0):
        raise ParameterError(f"initial_soc = {initial_soc!r} must lie between 0 and 1 (the SOC of the first frame; "
                             "0 for a pristine cathode)")
    t_rec = df["time_s"].to_numpy(float)  # in time order: read_cycler refuses a record that runs backwards
    if t_rec.size < 2:
        raise ParameterError(f"the cycler record has {t_rec.size} point(s); it needs at least 2")
    t = t_frame + time_offset_s
    lo, hi = t_rec[0], t_rec[-1]
    inside = (t >= lo) & (t <= hi)
    if not inside.any():
        raise ParameterError(
            f"the cycler record (t = {lo:.6g} to {hi:.6g} s) does not overlap the movie "
            f"(frames at t = {t[0] - time_offset_s:.6g} to {t[-1] - time_offset_s:.6g} s on the movie's clock, "
            f"{t[0]:.6g} to {t[-1]:.6g} s on the cycler's with time_offset_s = {time_offset_s:g}); "
            "pass the cycler time of the first frame as time_offset_s (--time-offset-s)"
        )
    q = _charge_Ah(df)
    if cap is None:
        cap = float(np.ptp(q))
        if not cap > 0:
            raise ParameterError("the cycler record passes no charge, so it defines no SOC; give a capacity basis "
                                 "(capacity_Ah, or mass_g with capacity_mAh_g)")
        warnings.warn(
            f"no capacity basis given: SOC is the passed charge over the record's largest charge swing "
            f"({cap * 1e3:.4g} mAh); give --capacity-mAh or --mass-mg with --capacity-mAh-g for an absolute SOC",
            SocscopeWarning, stacklevel=2,
        )

    def at(values):
        out = np.interp(t, t_rec, values)
        out[~inside] = np.nan
        return out

    charge = at(q)
    rec = df if "capacity_Ah" in df.columns else df.assign(capacity_Ah=q)
    hc = half_cycles(rec)
    half = np.full(t.size, -1, dtype=np.int64)
    direction = np.where(inside, "rest", "outside").astype(object)
    for k, row in hc.iterrows():  # a loop over half cycles (a handful)
        sel = inside & (t >= row.t_start_s) & (t <= row.t_end_s)
        half[sel] = k
        direction[sel] = row.direction
    return pd.DataFrame({
        "frame": np.arange(t.size),
        "time_s": t_frame,
        "soc": initial_soc + charge / cap,
        "voltage_V": at(df["voltage_V"].to_numpy(float)),
        "current_A": at(df["current_A"].to_numpy(float)),
        "charge_Ah": charge,
        "half_cycle": half,
        "direction": direction.astype(str),
    })


def derivative_vs_soc(soc, values, *, window: int = 7) -> np.ndarray:
    """d(values)/d(SOC) along one half cycle (see module docstring).

    Parameters
    ----------
    soc : array_like, shape (n,)
        SOC of the points, monotone within the half cycle.
    values : array_like, shape (n,) or (n, m)
        One or several traces.
    window : int
        Savitzky–Golay window [points], >= 1 (an even one is taken as the
        next odd one; shortened for short traces; 1 = no smoothing).

    Returns
    -------
    ndarray, same shape as ``values``
        NaN where SOC does not change between neighbours, and for traces of
        fewer than 2 points.
    """
    from scipy.signal import savgol_filter

    window = whole_number("window", window, minimum=1, example=7)
    window += 1 - window % 2  # an even window would shift the slope by half a point: the next odd one
    s = np.asarray(soc, dtype=float).ravel()
    y = np.asarray(values, dtype=float)
    one = y.ndim == 1
    y2 = y[:, None] if one else y
    if y2.ndim != 2 or y2.shape[0] != s.size:
        raise ParameterError(f"values must have shape ({s.size},) or ({s.size}, m), one row per SOC point; got "
                             f"shape {y.shape}")
    n = s.size
    out = np.full(y2.shape, np.nan)
    if n >= 2:
        w = min(window, n if n % 2 else n - 1)
        smooth = savgol_filter(y2, w, min(2, w - 1), axis=0) if w >= 3 and np.all(np.isfinite(y2)) else y2
        with np.errstate(invalid="ignore", divide="ignore"):
            # second-order differences at the ends too (first order read 0.1 for d(s²)/ds = 0 at s = 0)
            edge = 2 if n >= 3 else 1
            ds = np.gradient(s, edge_order=edge)
            out = np.gradient(smooth, axis=0, edge_order=edge) / ds[:, None]
        out[~np.isfinite(out)] = np.nan
        out[np.abs(ds) < 1e-12 * max(1.0, np.nanmax(np.abs(s)))] = np.nan
    return out[:, 0] if one else out
