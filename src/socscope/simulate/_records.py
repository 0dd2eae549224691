"""What a particle or electrode run records: its state, the currents of each step's samples, the step table.

Shared by :mod:`socscope.simulate.particle` and :mod:`socscope.simulate.electrode`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError, RangeWarning
from ..protocols import Step


#: most samples one step may record: more is never a resolution anyone needs,
#: and each sample costs memory and post-processing (electrodes solve their
#: network once per sample, ~10 ms)
MAX_SAMPLES_PER_STEP = 1_000_000
#: most state values (samples × cells) one step may record: 2e8 float64 is 1.6 GB
MAX_VALUES_PER_STEP = 200_000_000


#: What ``current`` is: the mean over the interval that ends at each sample, so that the
#: piecewise-constant integral ``Σ current_k (t_k − t_{k−1})`` is the charge passed (docs/numerics.md)
CURRENT_MEAN_TEXT = ("current, positive on charge (delithiation): mean over the interval since the previous "
                     "sample (the charge passed in it over its length), so that sum(current * diff(time)) is the "
                     "charge passed")
CURRENT_LONG_NAME = CURRENT_MEAN_TEXT + "; the first sample holds the first step's current"
#: What ``current_instant`` is
CURRENT_INSTANT_LONG_NAME = ("current at the sample's state, positive on charge: the imposed current of a "
                             "constant-current step or rest, the surface flux of a hold; 0 at the rested start")


def _sample_limit(n_cells: int) -> int:
    """Most samples one step of a grid of ``n_cells`` may record."""
    return min(MAX_SAMPLES_PER_STEP, MAX_VALUES_PER_STEP // max(n_cells, 1))


def _check_sample_count(step, n_samples: int, interval: float, n_cells: int) -> None:
    """Refuse an output interval that would record more than the machine can hold for ``step``."""
    limit = _sample_limit(n_cells)
    if n_samples > limit:
        span = n_samples * interval
        raise ParameterError(
            f"step {step.sentence!r}: output_interval = {interval:g} s would record {n_samples:.3g} samples of "
            f"{n_cells} cells (at most {limit:.3g} per step); record every {span / limit:.3g} s or more "
            "(--output-interval-s), or shorten the step"
        )


@dataclass(frozen=True)
class _StepPlan:
    step: Step
    current: float  # [A], positive = charge (Li removed); 0 for holds
    hold: float | None  # held surface θ or voltage [V]
    control: str  # "current" (CC and rest), "theta" (surface-θ hold) or "voltage" (CV hold)
    held_voltage: float | None = None  # a voltage hold beyond the OCP range, run as a pinned surface


@dataclass
class _RunState:
    """Where a run stands, and what it has recorded so far."""

    theta: np.ndarray
    p: float  # particle potential [V] (NaN without kinetics)
    t: float = 0.0
    charge: float = 0.0
    times: list = field(default_factory=list)
    states: list = field(default_factory=list)
    surfaces: list = field(default_factory=list)
    currents: list = field(default_factory=list)  # interval-mean current of each sample [A]
    currents_instant: list = field(default_factory=list)  # current at each sample's state [A]
    voltages: list = field(default_factory=list)
    step_idx: list = field(default_factory=list)
    charges: list = field(default_factory=list)
    plans: list = field(default_factory=list)
    events: list = field(default_factory=list)
    theta_range: list = field(default_factory=lambda: [math.inf, -math.inf])  # lowest, highest θ visited

    def visit(self, theta) -> None:
        """Widen :attr:`theta_range` to the finite values of ``theta`` (cells or surfaces, any shape)."""
        a = np.asarray(theta, dtype=float)
        a = a[np.isfinite(a)]
        if a.size:
            self.theta_range = [min(self.theta_range[0], float(a.min())), max(self.theta_range[1], float(a.max()))]

    def extend(self, t, theta, theta_s, current, voltage, step, charge, instant=None) -> None:
        """Append several samples (arrays over the first axis) of one step.

        ``current`` is the interval-mean current of each sample, ``instant``
        the current at its state (default: the same values).
        """
        self.visit(np.asarray(theta_s, dtype=float))
        self.times.extend(t)
        self.states.extend(theta)
        self.surfaces.extend(theta_s)
        self.currents.extend(current)
        self.currents_instant.extend(current if instant is None else instant)
        self.voltages.extend(voltage)
        self.step_idx.extend([step] * len(t))
        self.charges.extend(charge)

    def record(self, t, theta, theta_s, current, voltage, step, charge) -> None:
        """Append one sample."""
        self.extend([t], [theta], [theta_s], [current], [voltage], step, [charge])


def step_currents(plan, ts, times_before, t0: float, charge0: float, passed=None, instant=None) -> tuple:
    """Interval-mean current, current at each state, and passed charge of one step's samples.

    Parameters
    ----------
    plan : object
        The step's plan: ``control`` ("current" for constant current and rest,
        else a hold) and, under current control, ``current`` [A].
    ts : ndarray
        The step's sample times [s]; each sample's interval is ``(t_prev, t]``
        with ``t_prev`` the sample before (the last of ``times_before`` for the
        first; none before the run's first sample).
    times_before : sequence of float
        Times already recorded.
    t0 : float
        When charge began to pass in this step (later than the step's start
        when a step ended at once passed nothing).
    charge0 : float
        Charge passed before the step [C].
    passed : ndarray, optional
        In a hold: the charge that has left the particles since the step began
        at each sample, ``F (Li₀ − Li)`` [C] (there is no imposed current).
    instant : ndarray, optional
        In a hold: the current at each sample's state [A].

    Returns
    -------
    mean, instant, charge : ndarray
        ``mean`` is the charge passed over each interval divided by its length,
        so ``Σ mean (t − t_prev)`` is the charge the step passed, in every step
        type (a sample without an interval takes its instantaneous current).
        Under current control the imposed current flowed over each whole
        interval (the conservative scheme passes exactly it), except before
        ``t0``.
    """
    ts = np.asarray(ts, dtype=float)
    t_prev = np.concatenate(([times_before[-1] if len(times_before) else ts[0]], ts[:-1]))
    span = ts - t_prev
    ok = span > 0
    if plan.control == "current":
        instant = np.full(ts.size, float(plan.current))
        charge = charge0 + plan.current * (ts - t0)
        mean = np.where(ok, plan.current * np.clip(ts - np.maximum(t_prev, t0), 0.0, None) / np.where(ok, span, 1.0),
                        instant)
        return mean, instant, charge
    charge = charge0 + np.asarray(passed, dtype=float)
    charge_prev = np.concatenate(([charge0], charge[:-1]))
    instant = np.asarray(instant, dtype=float)
    return np.where(ok, (charge - charge_prev) / np.where(ok, span, 1.0), instant), instant, charge


def _lithiating(currents: np.ndarray) -> np.ndarray:
    """Per sample: is Li going in (discharge)? A rest keeps the direction of the last current, and so its front."""
    sign = np.sign(np.asarray(currents, dtype=float))
    last = np.where(sign != 0, np.arange(sign.size), 0)
    np.maximum.accumulate(last, out=last)
    return sign[last] < 0



#: how far [θ] a run may go beyond a property's sources before a RangeWarning: the material's own
#: extension near the data (e.g. ni88-xu2022's OCV, measured to θ = 0.906, from the default start at
#: θ = 0.97) is recorded in the result's attributes without a warning on every run, which had taught
#: users to ignore warnings
RANGE_WARNING_MARGIN = 0.1


def _range_attrs(material, used: dict, visited) -> dict:
    """``theta_range`` and ``extrapolated_properties`` attributes; a :class:`RangeWarning` where θ went more than
    :data:`RANGE_WARNING_MARGIN` beyond a source's range.

    The warning names the material and its properties but not the run's
    numbers, so repeated runs repeat one text, which Python's default filter
    (until a ``catch_warnings`` block resets it) and the command line show
    once; each result carries its own range in its attributes.
    """
    props = material.properties
    left = {slot: prop.valid_range for slot, prop in props.items()  # in the material's order: U, D, i0, sigma
            if slot in used and not np.all(prop.in_valid_range(np.asarray(used[slot])))}
    lo, hi = visited
    far = {}
    for slot, (a, b) in left.items():
        th = np.asarray(used[slot], dtype=float)
        th = th[np.isfinite(th)]
        if th.size and max(a - float(th.min()), float(th.max()) - b) > RANGE_WARNING_MARGIN:
            far[slot] = (a, b)
    if far:
        ranges = ", ".join(f"{slot} {a:g}..{b:g}" for slot, (a, b) in far.items())
        warnings.warn(
            f"material {material.name!r}: the run took θ outside the range its sources cover ({ranges}); "
            "the properties there are the material's extension, not data. Each result's attrs "
            "'theta_range' and 'extrapolated_properties' say how far.", RangeWarning, stacklevel=1)
    return {
        "theta_range": f"[{lo!r}, {hi!r}]",
        "extrapolated_properties": ", ".join(f"{slot} (sources cover {a:g}..{b:g})" for slot, (a, b) in left.items())
                                   or "none",
    }


def _set_reason(st: _RunState, reason: str) -> None:
    """Replace the end reason of the last step run."""
    e = st.events[-1]
    st.events[-1] = (*e[:3], reason, *e[4:])


def _add_to_reason(st: _RunState, note: str) -> None:
    """Append ``note`` to the end reason of the last step run."""
    _set_reason(st, f"{st.events[-1][3]} ({note})")


def _train_capacity_reason(train, st: _RunState) -> None:
    """A pulse ended by a train's capacity shows the train's total, not the remainder the pulse carried."""
    total = next((c for c in train.until if c.quantity == "specific_capacity"), None)
    own = any(c.quantity == "specific_capacity" for c in train.pulse.until)  # the pulse's own capacity end
    if total is not None and not own and st.events[-1][3].startswith("specific_capacity"):
        _set_reason(st, f"{total.label} (train total)")


def _step_table(plans, events, step_idx, charges, mass) -> dict:
    """Per-step variables: sentence, kind, cycle, end time, why it ended, capacity passed."""
    ends = np.array([np.nonzero(step_idx == k)[0][-1] for k in range(len(plans))])
    q_end = charges[ends]
    q_start = np.concatenate(([0.0], q_end[:-1]))
    return {
        "step_kind": (("step_index",), np.array([p.step.kind for p in plans], dtype=object),
                      {"units": "1", "long_name": "charge, discharge, rest, hold_theta or hold_voltage"}),
        "step_cycle": (("step_index",), np.array([-1 if getattr(p.step, "cycle", None) is None else p.step.cycle
                                                  for p in plans], dtype=np.int32),
                       {"units": "1", "long_name": "repetition of a 'Repeat' block the step belongs to (-1: none)"}),
        "step_capacity": (("step_index",), (q_end - q_start) / (mass * 1000.0) / 3.6,
                          {"units": "mAh/g", "long_name": "charge passed in the step per gram (positive = charge)"}),
        "step_sentence": (("step_index",), np.array([p.step.sentence for p in plans], dtype=object),
                          {"units": "1", "long_name": "protocol step (text)"}),
        "step_end_time": (("step_index",), np.array([e[2] for e in events]), {"units": "s", "long_name": "time the step ended"}),
        "step_voltage_min": (("step_index",), np.array([e[7] for e in events]),
                             {"units": "V", "long_name": "lowest voltage in the step, over the recorded samples "
                                                         "and every accepted solver step"}),
        "step_voltage_max": (("step_index",), np.array([e[8] for e in events]),
                             {"units": "V", "long_name": "highest voltage in the step, over the recorded samples "
                                                         "and every accepted solver step"}),
        "step_end_reason": (("step_index",), np.array([e[3] for e in events], dtype=object),
                            {"units": "1", "long_name": "what ended the step: 'duration' or the condition met (text); "
                                              "a train's capacity as its total, and a train stopped by its "
                                              "'max N' cap says so in brackets"}),
    }


def _warn_unrecorded(out, t_end: float) -> None:
    """Warn of requested output times that lie after the run's end (they get no sample)."""
    times = out[1]
    if times is None:
        return
    late = times[times > t_end * (1 + 1e-12)]
    if late.size:
        shown = ", ".join(f"{t:g}" for t in late[:5]) + (", ..." if late.size > 5 else "")
        warnings.warn(f"{late.size} of the output_times lie after the run's end at {t_end:g} s and were not "
                      f"recorded ({shown} s)", RangeWarning, stacklevel=4)
