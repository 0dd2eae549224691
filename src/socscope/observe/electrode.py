"""Electrode observables: per-particle onsets, the asynchrony index, unreacted particles, lost capacity.

The definitions are those of :mod:`socscope.observe.asynchrony`, so that a
simulated electrode and an operando optical movie are compared with one
number: in each half-cycle a particle's *progress* is the share of its own
change of θ (or intensity) made so far; the onset is the cell SOC at 10 %
progress, the midpoint at 50 %, the width the SOC between 10 % and 90 %; the
asynchrony index is the interquartile range of the reacted particles'
midpoints over their median width, and a half-cycle is asynchronous above 1.

Simulated traces carry no noise, so the crossings are read off the traces
directly (``method="crossing"``: linear interpolation between samples,
milliseconds for 10 000 particles); ``method="fit"`` fits the logistic of
:func:`~socscope.observe.asynchrony.fit_transition` to every trace instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .._checks import positive_float
from ..constants import F as FARADAY
from ..errors import ParameterError
from .asynchrony import (
    ASYNCHRONY_THRESHOLD,
    STEP_LIKE_THRESHOLD,
    classify_half_cycles,
    split_half_cycles,
    switching,
    transition_table,
)

__all__ = ["asynchrony_of", "cell_half_cycles", "cell_soc", "cycler_record", "electrode_summary", "electrode_transitions",
           "site_capacity_Ah", "voltage_dips"]

#: a particle whose mean θ changes by less than this within a half-cycle did
#: not react in it (0.5 % of its sites: far above solver noise, far below any
#: real participation at C/20)
MIN_AMPLITUDE = 0.005

#: a reversal of the cell voltage within a half-cycle counted as one dip [V]:
#: far above the solver's voltage noise (below 1 mV at rtol 1e-3), below the
#: 40–150 mV dips seen when a column of particles behind point contacts
#: switches on (``socscope validate sharma2022``, row S2)
DIP_DEPTH = 0.02

#: SOC changes up to this are round-off, not charge: rests do not move the SOC,
#: and the tolerance keeps them from splitting into half-cycles of their own or
#: counting as one (a rest-only run's SOC wanders by ~1e-16)
SOC_ROUNDOFF = 1e-9

#: a way back of the cell SOC smaller than this is not a turn: the solver
#: resolves θ to atol 1e-6 (the default :class:`~socscope.numerics.SolverOptions`),
#: so smaller to-and-fro moves (a voltage hold near equilibrium) are noise
SOC_REVERSAL = 1e-6


def _result(ds, owner: str, names, *, text=()) -> xr.Dataset:
    """``ds`` if it is a Dataset with at least one sample, numeric variables ``names`` and variables ``text``."""
    if not isinstance(ds, xr.Dataset):
        raise ParameterError(f"{owner}: ds must be an xarray.Dataset from simulate_electrode, got "
                             f"{type(ds).__name__}")
    missing = [v for v in (*names, *text) if v not in ds]
    if missing:
        raise ParameterError(f"{owner}: the Dataset lacks {missing}; pass a simulate_electrode result")
    if ds.sizes.get("time", 0) == 0:
        raise ParameterError(f"{owner}: the Dataset has no time samples; pass a simulate_electrode result")
    text = [v for v in names if ds[v].dtype.kind not in "biuf"]
    if text:
        raise ParameterError(f"{owner}: {text} hold {ds[text[0]].dtype} values, not numbers; pass a "
                             "simulate_electrode result")
    return ds


def cell_soc(ds: xr.Dataset) -> np.ndarray:
    """Cell state of charge of every sample: the share of all lattice sites emptied since the start.

    ``SOC = θ̄(0) − θ̄(t)`` with θ̄ the mass-weighted mean occupancy of the
    electrode (so 0 at the start and 1 for a fully delithiated electrode
    that started full).
    """
    th = np.asarray(_result(ds, "cell_soc", ("theta_mean",))["theta_mean"].values, dtype=float)
    return th[0] - th


def cell_half_cycles(ds: xr.Dataset) -> np.ndarray:
    """Half-cycle number of every sample, from the turns of :func:`cell_soc` (rests join the half-cycle before)."""
    return split_half_cycles(cell_soc(ds), tolerance=SOC_ROUNDOFF, min_reversal=SOC_REVERSAL)


def _windows(s: np.ndarray, hc: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``(label, samples)`` of every half-cycle whose SOC moves: from the sample it starts at to the last that moves.

    A half-cycle starts at the turning point (or the last sample of the rest
    before it), which :func:`split_half_cycles` leaves with the half-cycle
    before; rests at its end are left out, so they neither delay its onsets
    nor add voltage dips.
    """
    moving = np.abs(np.diff(s)) > SOC_ROUNDOFF  # step k: sample k -> k + 1
    out = []
    for h in np.unique(hc):
        idx = np.flatnonzero(hc == h)
        lo = max(int(idx[0]) - 1, 0)
        steps = np.flatnonzero(moving[lo:int(idx[-1])]) + lo
        if steps.size:
            out.append((int(h), np.arange(steps[0], steps[-1] + 2)))
    return out


def site_capacity_Ah(ds: xr.Dataset) -> float:
    """Charge [A h] that empties every lattice site of the electrode: the basis of :func:`cell_soc`.

    With it as the capacity of the optical pipeline
    (:func:`~socscope.analysis.optical.analyze_movie`, ``capacity_Ah=``) and
    :func:`cycler_record` as its cycler, the SOC the pipeline puts on a
    simulated movie's frames is :func:`cell_soc`.
    """
    _result(ds, "site_capacity_Ah", ("lithium", "theta_mean"))
    li0, th0 = float(ds["lithium"].values[0]), float(ds["theta_mean"].values[0])
    if not (th0 > 0 and li0 > 0):
        raise ParameterError(f"the run starts with no lithium (θ̄ = {th0:g}); the site capacity is undefined")
    return FARADAY * li0 / th0 / 3600.0


def cycler_record(ds: xr.Dataset) -> pd.DataFrame:
    """The cell's voltage and current as a cycler logs them, in the schema of :func:`socscope.io.load_cycler`.

    Columns ``time_s``, ``voltage_V``, ``current_A`` (positive on charge;
    the run's ``current``, each sample's mean over the interval before it, as
    cyclers that log an averaged current do, so that it integrates to
    ``capacity_Ah`` in holds too), ``step`` (protocol step), ``cycle`` (two half-cycles a cycle, counted
    from 0; the half-cycles of :func:`cell_half_cycles`, so rests and a
    hold's solver noise do not start one) and
    ``capacity_Ah`` (net charge since the start, positive on charge). So a
    synthetic movie (:func:`~socscope.observe.render_top_layer`) goes through
    the optical pipeline exactly as a measured one does.

    Examples
    --------
    >>> rec = cycler_record(ds)  # doctest: +SKIP
    >>> res = analyze_movie(movie.frames, time_s=movie.time_s, cycler=rec,
    ...                     capacity_Ah=site_capacity_Ah(ds))  # doctest: +SKIP
    """
    _result(ds, "cycler_record", ("voltage", "current", "charge", "step"))
    t = np.asarray(ds["time"].values, dtype=float)
    charge = np.asarray(ds["charge"].values, dtype=float)
    return pd.DataFrame({
        "time_s": t - t[0],
        "voltage_V": np.asarray(ds["voltage"].values, dtype=float),
        "current_A": np.asarray(ds["current"].values, dtype=float),
        "step": np.asarray(ds["step"].values, dtype=np.int64),
        "cycle": ((cell_half_cycles(ds) if "theta_mean" in ds else split_half_cycles(charge)) // 2).astype(np.int64),
        "capacity_Ah": charge / 3600.0,
    })


def _monotone(s: np.ndarray) -> np.ndarray:
    """``s`` as a running maximum (rising overall) or minimum (falling)."""
    return np.maximum.accumulate(s) if s[-1] >= s[0] else np.minimum.accumulate(s)


def _crossings(s: np.ndarray, progress: np.ndarray, level: float) -> np.ndarray:
    """SOC where each column of ``progress`` first reaches ``level`` (linear interpolation)."""
    above = progress >= level
    first = np.argmax(above, axis=0)
    ok = above[first, np.arange(progress.shape[1])]
    j = np.maximum(first, 1)
    cols = np.arange(progress.shape[1])
    p0, p1 = progress[j - 1, cols], progress[j, cols]
    s0, s1 = s[j - 1], s[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(p1 > p0, (level - p0) / (p1 - p0), 0.0)
    out = np.where(first == 0, s[0], s0 + np.clip(frac, 0.0, 1.0) * (s1 - s0))
    return np.where(ok, out, np.nan)


def _crossing_table(s: np.ndarray, traces: np.ndarray, windows, particle: np.ndarray) -> pd.DataFrame:
    rows = []
    for hc, idx in windows:
        if idx.size < 3 or np.ptp(s[idx]) <= SOC_ROUNDOFF:
            continue
        ss, tr = s[idx], traces[idx]
        change = tr[-1] - tr[0]
        amp = np.abs(change)
        with np.errstate(divide="ignore", invalid="ignore"):
            progress = (tr - tr[0]) / np.where(amp > 0, change, 1.0)
        reacted = amp >= MIN_AMPLITUDE
        onset = _crossings(ss, progress, 0.1)
        mid = _crossings(ss, progress, 0.5)
        width = np.abs(_crossings(ss, progress, 0.9) - onset)
        # the switch of every particle: its derivative peak (simulated traces carry
        # no noise, so the samples are differentiated as they are)
        centre, sw, step_likeness = switching(ss, tr, smooth_soc=0.0)
        nan = np.where(reacted, 1.0, np.nan)
        rows.append(pd.DataFrame({
            "particle": particle,
            "half_cycle": int(hc),
            "direction": "charge" if ss[-1] > ss[0] else "discharge",
            "onset_soc": onset * nan,
            "midpoint_soc": mid * nan,
            "width_soc": width * nan,
            "amplitude": amp,
            "step_likeness": step_likeness * nan,
            "step_like": reacted & (step_likeness >= STEP_LIKE_THRESHOLD),
            "reacted": reacted,
            "soc_start": ss[0],
            "soc_end": ss[-1],
            "switch_soc": centre * nan,
            "switch_width_soc": sw * nan,
        }))
    if not rows:
        raise ParameterError("the run has no half-cycle with a change of SOC; simulate a charge or discharge first")
    return pd.concat(rows, ignore_index=True)


def electrode_transitions(ds: xr.Dataset, *, signal: str = "theta_particle_mean", method: str = "crossing"
                          ) -> pd.DataFrame:
    """Per particle and half-cycle: onset, midpoint and width (in cell SOC) and whether it reacted.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`~socscope.simulate.simulate_electrode` result.
    signal : str
        Per-particle variable (time, particle) whose transitions are measured.
    method : {"crossing", "fit"}
        Read the 10/50/90 % crossings off the traces, or fit logistics.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`~socscope.observe.asynchrony.transition_table`
        (``particle, half_cycle, direction, onset_soc, midpoint_soc,
        width_soc, amplitude, step_likeness, step_like, reacted, ...``), plus
        ``onset_time_s``.
    """
    _result(ds, "electrode_transitions", ("theta_mean",))
    if not isinstance(signal, str) or signal not in ds or ds[signal].dims != ("time", "particle"):
        raise ParameterError(f"signal {signal!r} must name a (time, particle) variable of the electrode result, "
                             "e.g. signal='theta_particle_mean'")
    s = cell_soc(ds)
    tr = np.asarray(ds[signal].values, dtype=float)
    windows = _windows(s, cell_half_cycles(ds))
    particle = np.asarray(ds["particle"].values)
    if method == "crossing":
        table = _crossing_table(s, tr, windows, particle)
    elif method == "fit":
        # simulated traces carry no noise; 1e-6 in θ (solver tolerance level) keeps the
        # noise-based reaction test from dividing by zero, MIN_AMPLITUDE decides
        # the fits need the SOC monotone: a hold's to-and-fro below SOC_REVERSAL (solver
        # noise) is flattened onto the furthest point reached
        parts = [transition_table(_monotone(s[idx]), tr[idx], half_cycle=np.full(idx.size, h), particle=particle,
                                  noise=1e-6, min_amplitude=MIN_AMPLITUDE) for h, idx in windows]
        parts = [p for p in parts if len(p)]
        if not parts:
            raise ParameterError("the run has no half-cycle with enough samples to fit; record more often")
        table = pd.concat(parts, ignore_index=True)
    else:
        raise ParameterError(f"method = {method!r}; use 'crossing' or 'fit'")
    # time of the onset, from the SOC within its half-cycle
    t = np.asarray(ds["time"].values, dtype=float)
    onset_t = np.full(len(table), np.nan)
    where = dict(windows)
    for h, grp in table.groupby("half_cycle"):
        idx = where[int(h)]
        ss, tt = s[idx], t[idx]
        order = np.argsort(ss)
        onset_t[grp.index] = np.interp(grp["onset_soc"].to_numpy(), ss[order], tt[order], left=np.nan, right=np.nan)
    table["onset_time_s"] = onset_t
    return table


def electrode_summary(ds: xr.Dataset, *, method: str = "crossing", threshold: float = ASYNCHRONY_THRESHOLD
                      ) -> xr.Dataset:
    """The electrode result with the per-half-cycle observables added.

    Adds ``onset_soc``, ``midpoint_soc``, ``width_soc``, ``onset_time``,
    ``reacted`` (half_cycle, particle); ``asynchrony_index``,
    ``classification``, ``fraction_unreacted``, ``half_cycle_direction``,
    ``voltage_dips`` (:func:`voltage_dips`) (half_cycle); and
    ``capacity_not_recovered``: the share of the first charge's capacity
    that the first discharge did not put back (NaN without a discharge).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`~socscope.simulate.simulate_electrode` result.
    method : {"crossing", "fit"}
        See :func:`electrode_transitions`.
    threshold : float
        Asynchrony index above which a half-cycle is asynchronous.

    Returns
    -------
    xarray.Dataset
        A new Dataset (the input is not modified).
    """
    threshold = positive_float("threshold", threshold, example="1 (the default)", owner="electrode_summary")
    _result(ds, "electrode_summary", ("theta_mean", "voltage", "step_capacity"), text=("step_kind",))
    table = electrode_transitions(ds, method=method)
    halves = classify_half_cycles(table, threshold=threshold)
    hcs = halves["half_cycle"].to_numpy()
    pid = np.asarray(ds["particle"].values)

    def grid(col):
        piv = table.pivot(index="half_cycle", columns="particle", values=col).reindex(index=hcs, columns=pid)
        return piv.to_numpy(dtype=float)

    out = ds.copy()
    dims = ("half_cycle", "particle")
    out = out.assign_coords(half_cycle=("half_cycle", hcs, {"long_name": "half-cycle number (0 = first)"}))
    for name, col, units, long in (
        ("onset_soc", "onset_soc", "1", "cell SOC at 10 % of the particle's change in the half-cycle"),
        ("midpoint_soc", "midpoint_soc", "1", "cell SOC at 50 % of the particle's change"),
        ("width_soc", "width_soc", "1", "cell SOC between 10 % and 90 % of the particle's change"),
        ("onset_time", "onset_time_s", "s", "time of the particle's onset"),
        ("switch_soc", "switch_soc", "1", "cell SOC at the centre of the particle's derivative peak"),
        ("switch_width_soc", "switch_width_soc", "1", "full width at half maximum of the derivative peak [SOC]"),
        ("step_likeness", "step_likeness", "1", "1 / switch_width_soc: switches of that width in SOC 0-1"),
    ):
        out[name] = (dims, grid(col), {"units": units, "long_name": long})
    out["reacted"] = (dims, grid("reacted").astype(bool), {"units": "1", "long_name": "particle reacted in the half-cycle"})
    out["asynchrony_index"] = ("half_cycle", halves["asynchrony_index"].to_numpy(dtype=float),
                               {"units": "1", "long_name": "IQR of reacted particles' switch centres / median "
                                                          "switch width"})
    out["fraction_step_like"] = ("half_cycle", halves["fraction_step_like"].to_numpy(dtype=float), {
        "units": "1", "long_name": f"share of reacted particles with step_likeness >= {STEP_LIKE_THRESHOLD:g}"})
    out["classification"] = ("half_cycle", halves["classification"].to_numpy(dtype=object),
                             {"units": "1", "long_name": f"asynchronous above index {threshold:g}, else synchronous"})
    out["fraction_unreacted"] = ("half_cycle", halves["fraction_unreacted"].to_numpy(dtype=float),
                                 {"units": "1", "long_name": "share of particles that did not react"})
    out["half_cycle_direction"] = ("half_cycle", halves["direction"].to_numpy(dtype=object),
                                   {"units": "1", "long_name": "charge or discharge"})
    out["voltage_dips"] = ("half_cycle", _half_cycle_dips(ds, hcs, halves["direction"].to_numpy()), {
        "units": "1", "long_name": f"voltage reversals of >= {1000 * DIP_DEPTH:g} mV against the half-cycle's "
                                   "direction (parts of the electrode switching on one after another)"})
    out["capacity_not_recovered"] = ((), _lost_share(ds), {
        "units": "1", "long_name": "1 - first discharge capacity / first charge capacity"})
    out.attrs["asynchrony_definition"] = (
        "each particle's switch: the peak of d(mean theta)/d(cell SOC) within a half-cycle, its centre and full "
        "width at half maximum; index = IQR(switch centres)/median(switch width) over reacted particles; "
        f"asynchronous above {threshold:g}; step-likeness = 1/switch width (step-like at >= {STEP_LIKE_THRESHOLD:g})"
    )
    return out


def asynchrony_of(ds: xr.Dataset, particles, *, threshold: float = ASYNCHRONY_THRESHOLD) -> pd.DataFrame:
    """The asynchrony index of a chosen set of particles, per half-cycle.

    An optical movie sees only some particles (the top layer, the field of
    view, the particles an analyst circled); this is the index of those, from
    the onsets, midpoints and widths :func:`electrode_summary` stored.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`~socscope.simulate.simulate_electrode` result with its
        observables (``midpoint_soc``, ``width_soc``, ``reacted``).
    particles : array_like of int or bool
        Particle indices, or a mask over the particles.
    threshold : float
        Index above which a half-cycle is asynchronous.

    Returns
    -------
    pandas.DataFrame
        :func:`~socscope.observe.asynchrony.classify_half_cycles` of those
        particles: one row per half-cycle (``half_cycle, direction,
        asynchrony_index, classification, n_reacted, n_particles,
        fraction_unreacted, midpoint_iqr_soc, median_width_soc``). With fewer
        than two reacted particles the index is NaN and the classification
        ``"undetermined"``.
    """
    if not isinstance(ds, xr.Dataset):
        raise ParameterError(f"asynchrony_of: ds must be an xarray.Dataset, got {type(ds).__name__}; pass "
                             "electrode_summary(ds)")
    missing = [v for v in ("switch_soc", "switch_width_soc", "reacted") if v not in ds]
    if missing:
        raise ParameterError(f"asynchrony_of: the Dataset lacks {missing}; pass a simulate_electrode result with "
                             "its observables (or electrode_summary(ds))")
    n = ds.sizes["particle"]
    sel = np.asarray(particles)
    if sel.dtype == bool:
        if sel.shape != (n,):
            raise ParameterError(f"a particle mask must have shape ({n},), got {sel.shape}")
        sel = np.nonzero(sel)[0]
    if sel.size and not np.issubdtype(sel.dtype, np.integer):
        raise ParameterError(f"particles must be integer indices or a boolean mask, got dtype {sel.dtype}")
    sel = sel.astype(int, copy=False).ravel()
    if sel.size == 0 or sel.min() < 0 or sel.max() >= n:
        raise ParameterError(f"particles must be indices in 0..{n - 1} (at least one), got {sel.tolist()[:10]}")
    values, counts = np.unique(sel, return_counts=True)
    if np.any(counts > 1):
        raise ParameterError(f"particles repeats index {int(values[counts > 1][0])}: each particle counts once in "
                             "the index; pass distinct indices")
    hcs = np.asarray(ds["half_cycle"].values)
    directions = (np.asarray(ds["half_cycle_direction"].values, dtype=str) if "half_cycle_direction" in ds
                  else np.full(hcs.size, ""))
    table = pd.DataFrame({
        "half_cycle": np.repeat(hcs, sel.size),
        "direction": np.repeat(directions, sel.size),
        "particle": np.tile(np.asarray(ds["particle"].values)[sel], hcs.size),
        "switch_soc": np.asarray(ds["switch_soc"].values, dtype=float)[:, sel].ravel(),
        "switch_width_soc": np.asarray(ds["switch_width_soc"].values, dtype=float)[:, sel].ravel(),
        "reacted": np.asarray(ds["reacted"].values, dtype=bool)[:, sel].ravel(),
    })
    if "step_likeness" in ds:
        table["step_like"] = (np.asarray(ds["step_likeness"].values, dtype=float)[:, sel].ravel()
                              >= STEP_LIKE_THRESHOLD)
    return classify_half_cycles(table, threshold=threshold)


def voltage_dips(voltage, depth: float = DIP_DEPTH, *, direction: str = "charge") -> int:
    """Number of reversals of at least ``depth`` [V] in one half-cycle's voltage.

    In a galvanostatic charge of a solid-solution electrode the voltage only
    rises (in a discharge it only falls). A fall during a charge (a rise
    during a discharge) means part of the electrode has just switched on and
    draws charge from the rest: a signature of sequential, particle-by-
    particle reaction. A reversal counts once from its extreme; the next
    needs the voltage to recover by ``depth`` first.

    Parameters
    ----------
    voltage : array_like
        Cell voltage of one half-cycle, in time order [V].
    depth : float
        Smallest reversal counted [V] (> 0).
    direction : {"charge", "discharge"}
        The half-cycle's direction.

    Returns
    -------
    int

    Examples
    --------
    >>> voltage_dips([3.7, 3.9, 3.8, 3.85, 4.0, 3.9, 4.1], depth=0.05)
    2
    >>> voltage_dips([4.0, 3.8, 3.9, 3.6], depth=0.05, direction="discharge")
    1
    """
    positive_float("depth", depth, unit=" V", example=str(DIP_DEPTH), owner="voltage_dips")
    if direction not in ("charge", "discharge"):
        raise ParameterError(f"voltage_dips: direction = {direction!r} must be 'charge' or 'discharge'")
    try:
        v = np.asarray(voltage, dtype=float)
    except (TypeError, ValueError):
        v = np.empty(0)
    if isinstance(voltage, (str, bytes)) or v.ndim != 1:
        raise ParameterError(f"voltage_dips: voltage must be a 1-D sequence of voltages in time order, got "
                             f"{voltage!r}")
    if direction == "discharge":
        v = -v
    n, peak, trough, falling = 0, -np.inf, np.inf, False
    for x in v[np.isfinite(v)]:
        if not falling:
            peak = max(peak, x)
            if peak - x >= depth:
                n, falling, trough = n + 1, True, x
        else:
            trough = min(trough, x)
            if x - trough >= depth:
                falling, peak = False, x
    return n


def _half_cycle_dips(ds: xr.Dataset, hcs: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """:func:`voltage_dips` of every half-cycle in ``hcs`` (labels as :func:`electrode_transitions`)."""
    where = dict(_windows(cell_soc(ds), cell_half_cycles(ds)))
    v = np.asarray(ds["voltage"].values, dtype=float)
    return np.array([voltage_dips(v[where[int(h)]], direction=str(d)) for h, d in zip(hcs, directions)], dtype=int)


def _lost_share(ds: xr.Dataset) -> float:
    """``1 − Q_discharge,1 / Q_charge,1`` from the step table (NaN without both).

    Steps are told apart by the sign of the charge they pass, whatever their
    kind (a constant-current step, a voltage hold or a PITT ladder): the first
    charge runs from the first step that takes Li out to the first that puts
    it back, and the first discharge from there to the next charge. Steps
    passing less than 1e-3 of the largest (the relaxation current of a hold,
    a rest) join whichever is under way; a larger one the other way (a hold
    below the voltage a charge reached) is Li going back, and ends the
    charge.
    """
    cap = np.asarray(ds["step_capacity"].values, dtype=float)
    if cap.size == 0 or not np.isfinite(cap).all() or np.max(np.abs(cap)) == 0:
        return float("nan")
    sign = np.where(np.abs(cap) > 1e-3 * np.max(np.abs(cap)), np.sign(cap), 0)
    charges = np.flatnonzero(sign > 0)
    if not charges.size:
        return float("nan")
    after = np.flatnonzero(sign[charges[0]:] < 0) + charges[0]
    if not after.size:
        return float("nan")
    nxt = np.flatnonzero(sign[after[0]:] > 0) + after[0]
    end = int(nxt[0]) if nxt.size else cap.size
    q_c = float(np.sum(np.clip(cap[charges[0]:after[0]], 0, None)))
    q_d = -float(np.sum(np.clip(cap[after[0]:end], None, 0)))
    return float(1.0 - q_d / q_c) if q_c > 0 else float("nan")
