"""Capacities and coulombic efficiency of a simulated run.

A simulation knows what every step was, so its summary is exact, with no
need to guess the constant-voltage part from the record (as
:mod:`socscope.analysis.cycling` must for a cycler file).

Definitions (used everywhere):

* **step capacity** — charge passed in the step per gram of active
  material [mAh/g], positive on charge (Li removed).
* **cycle** — as a cycler counts them: a cycle opens at the first step and
  at every step that charges (a constant-current charge or a hold that
  passes charge) after the run has discharged. ``Repeat`` blocks are not
  used (a formation charge before a block would pair a charge with the
  discharge of another cycle). Rests, and holds that discharge, belong to
  the cycle they are in.
* **charge / discharge capacity** of a cycle — the sum of the positive /
  negative step capacities, from constant-current steps and holds alike.
* **CC part** of the discharge — from ``discharge`` steps only; the **CV
  part** (capacity recovered by the hold) — from voltage or surface holds
  that discharge.
* **coulombic efficiency** — discharge / charge capacity; ``_cc`` uses the
  CC part of the discharge only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ParameterError

__all__ = ["step_summary", "cycle_summary"]


def step_summary(ds: xr.Dataset) -> pd.DataFrame:
    """One row per protocol step of a simulated run.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`socscope.simulate_particle` (or of a batch).

    Returns
    -------
    pandas.DataFrame
        ``sentence``, ``kind``, ``cycle`` (the repetition of the ``Repeat``
        block the step belongs to, −1 outside; :func:`cycle_summary` counts
        cycles from the charges instead),
        ``t_end_s``, ``end_reason``, ``capacity_mAh_g`` (signed), and
        ``voltage_end_V`` when the run has a voltage.
    """
    if not isinstance(ds, xr.Dataset):
        raise ParameterError(f"step_summary needs a simulated run (an xarray.Dataset), got {type(ds).__name__}")
    needed = ("step_sentence", "step_kind", "step_capacity", "step_end_time", "step_end_reason", "step_cycle")
    missing = [v for v in needed if v not in ds]
    if missing:
        raise ParameterError(
            f"the Dataset lacks {missing}: pass a result of socscope.simulate_particle (version with per-step tables)"
        )
    out = pd.DataFrame({
        "sentence": ds.step_sentence.values.astype(str),
        "kind": ds.step_kind.values.astype(str),
        "cycle": ds.step_cycle.values.astype(int),
        "t_end_s": ds.step_end_time.values,
        "end_reason": ds.step_end_reason.values.astype(str),
        "capacity_mAh_g": ds.step_capacity.values,
    })
    if "voltage" in ds and "step" in ds:
        step = ds.step.values
        v = ds.voltage.values
        # a step with no sample (a selection of the run's times) has no end voltage
        last = [np.flatnonzero(step == k) for k in range(len(out))]
        out["voltage_end_V"] = [v[i[-1]] if i.size else np.nan for i in last]
    out.index.name = "step"
    return out


def _cycle_ids(steps: pd.DataFrame) -> np.ndarray:
    """Cycle of each step as a cycler counts it: a new cycle starts at the first step that charges after a discharge.

    ``Repeat`` blocks are not used: a formation charge before a block, or a
    block that starts with its discharge, would otherwise pair a charge with
    the discharge of another cycle.
    """
    ids = np.zeros(len(steps), dtype=int)
    current, discharged = 0, False
    # a hold charges when it passes more than a thousandth of the largest step
    # (a hold at the relaxed OCV passes ~1e-6 mAh/g either way)
    tiny = 1e-3 * float(np.abs(steps.capacity_mAh_g.to_numpy(dtype=float)).max(initial=0.0))
    for k, (kind, cap) in enumerate(zip(steps.kind, steps.capacity_mAh_g)):
        # a hold that charges opens a cycle as a charge does (a hold at 4.1 V
        # after a discharge had been counted in the discharge's cycle)
        if (kind == "charge" or (cap > tiny and kind != "rest")) and discharged:
            current += 1
            discharged = False
        if cap < 0 and kind != "rest":
            discharged = True
        ids[k] = current
    return ids


def cycle_summary(ds: xr.Dataset) -> pd.DataFrame:
    """Charge and discharge capacity and coulombic efficiency per cycle.

    Parameters
    ----------
    ds : xarray.Dataset
        A simulated run (see :func:`step_summary`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``cycle`` (from 0; a cycle is a charge and what follows it up
        to the next charge after a discharge, as cyclers count):
        ``charge_mAh_g``, ``discharge_mAh_g`` (positive
        numbers), ``discharge_cc_mAh_g``, ``discharge_cv_mAh_g`` (recovered by
        holds), ``coulombic_efficiency`` and ``coulombic_efficiency_cc``
        (NaN where a cycle has no charge).

    Examples
    --------
    >>> import socscope as ss
    >>> ds = ss.simulate_particle(ss.materials.get("ni88-xu2022"), ss.geometry.Sphere(1e-6),
    ...     ["Charge at C/3 until 4.3 V", "Discharge at C/3 until 3.0 V", "Hold at 3.0 V for 2 hours"],
    ...     n_cells=40)  # doctest: +SKIP
    >>> ss.observe.cycle_summary(ds).coulombic_efficiency  # doctest: +SKIP
    """
    steps = step_summary(ds)
    if steps.empty:
        raise ParameterError("the run has no steps: cycle_summary needs a result with at least one protocol step")
    steps["cycle_id"] = _cycle_ids(steps)
    rows = []
    for cid, part in steps.groupby("cycle_id", sort=True):
        cap = part.capacity_mAh_g
        charge = float(cap[cap > 0].sum())
        discharge = float(-cap[cap < 0].sum())
        cc = float(-cap[(cap < 0) & (part.kind == "discharge")].sum())
        cv = float(-cap[(cap < 0) & part.kind.isin(["hold_voltage", "hold_theta"])].sum())
        rows.append({
            "cycle": int(cid), "charge_mAh_g": charge, "discharge_mAh_g": discharge,
            "discharge_cc_mAh_g": cc, "discharge_cv_mAh_g": cv,
            "coulombic_efficiency": discharge / charge if charge > 0 else np.nan,
            "coulombic_efficiency_cc": cc / charge if charge > 0 else np.nan,
        })
    return pd.DataFrame(rows).set_index("cycle")
