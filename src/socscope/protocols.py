"""Experiment sentences -> :class:`Step` and :class:`Train` objects.

The sentences follow the convention PyBaMM users know::

    "Charge at C/3 for 1 hour"
    "Discharge at 70 mA/g until mean theta 0.95"
    "Charge at 1C for 20 minutes or until surface theta 0.2"
    "Rest for 30 minutes"
    "Hold surface theta at 0.995 for 2 hours"
    "Hold at 4.3 V for 2 hours or until C/50"

Currents are a C-rate (``C/3``, ``2C``, ``0.5 C``), a specific current
(``70 mA/g``, ``0.07 A/g``) or a current (``2 nA``, ``1e-9 A``). The base
letter of a unit and the C of a C-rate take either case (``4.3 v``, ``2 ma``,
``c/3``); an SI prefix must be lower case, so ``1 MA`` (mega-ampere) is refused
with the spelling meant rather than read as milli. A step ends
after its duration or when one of its ``until`` conditions is met, whichever
comes first. Conditions:

* ``mean theta X`` and ``surface theta X`` (``θ`` may be written for
  ``theta``), X in (0, 1);
* a voltage, ``4.3 V`` or ``4300 mV``, in (0, 10] V;
* a current, written like a current of a step (``C/50``, ``5 mA/g``,
  ``2 nA``): the magnitude the current of a hold falls to;
* a specific capacity, ``100 mAh/g`` or ``0.1 Ah/g``: the charge passed *in
  this step* per gram of active material (stored in C/kg,
  1 mAh/g = 3600 C/kg).

A voltage limit may wait before it applies, as cyclers allow, to ignore a
start-up transient: ``"Charge at C/20 until 4.3 V after 30 minutes"``. The
voltage is not watched during the delay; the step then ends at the first
crossing of the limit after it (located like any other event), or at the end
of the delay when the voltage is already beyond the limit then. A limit
without ``after`` applies from the start, and a cut-off that the voltage under
load passes the moment the current flows ends the step at once.

Each kind of step accepts only the conditions that can end it (checked when
the sentence is parsed):

=================== ==========================================================
charge, discharge   mean θ, surface θ, voltage, capacity (the current of a
                    constant-current step does not change)
rest                mean θ, surface θ, voltage
hold at a voltage   current, mean θ, capacity (the voltage is held); the held
                    voltage lies in (0, 10] V
hold surface θ      current, mean θ, capacity (the surface θ is held)
=================== ==========================================================

Voltage conditions and voltage holds are parsed here and need a model with
electrode kinetics to run.

Repeated blocks (:func:`parse_protocol` only)::

    "Repeat 3: [Charge at C/20 until 4.3 V, Discharge at C/20 until 2.5 V]"

gives the bracketed steps 3 times over; every step carries the index of its
repetition in :attr:`Step.cycle` (0, 1, 2). N is a whole number from 1 to
10 000. The steps
inside the brackets are separated by ``,`` or ``;``. A GITT or PITT sentence
(which has commas of its own) runs to the next ``;`` or to the closing
bracket, so separate it from the steps after it with ``;``::

    "Repeat 2: [GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V; Discharge at C/10 until 3.0 V]"

Repeat blocks do not nest.

Titration trains (:func:`parse_protocol` or :func:`parse_train`) are kept as
one :class:`Train` each. Their parts are separated by commas, in any order;
words are case-insensitive and ``for`` before a duration is optional:

* GITT, a train of current pulses, each followed by a rest::

      "GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V"
      "GITT: charge 15 minutes at C/20, rest 4 hours, until 4.3 V"
      "GITT: discharge for 10 minutes at 20 mA/g, rest for 2 hours, until 3.0 V or mean theta 0.95"
      "GITT: charge at C/20 for 15 minutes, rest 4 hours, until 4.3 V, max 40 pulses"

  The pulse (``[charge|discharge] [for] <duration> at <current>`` or
  ``[charge|discharge] at <current> for <duration>``; charge when no verb is
  given), the rest (``rest [for] <duration>``) and the end of the train
  (``until <conditions>``: voltage, mean θ, surface θ or capacity) are
  required.
* PITT, a staircase of voltage holds::

      "PITT: steps of 10 mV, each for 1 hour or until C/100, until 4.3 V"
      "PITT: steps of -10 mV, each until 5 mA/g, until 3.0 V, rest 10 minutes"

  ``steps of <±size> mV|V`` (positive: charge; non-zero, at most 1 V), the end of
  every hold (``each [for] <duration> [or until <conditions>]`` or ``each
  until <conditions>``, conditions as for a voltage hold) and the end of the
  train (``until <voltage> [or <conditions>]``: the end voltage, optionally
  mean θ or capacity; exactly one voltage) are required; ``rest [for]
  <duration>`` between the holds is optional. The levels start one step from
  the open-circuit voltage at the start of the train (after a current step,
  not the voltage under load) and the last one is the end voltage
  (see :meth:`Train.pitt_levels`).

Both accept ``max N pulses`` (or ``max N steps``), a safety cap on the number
of pulses (default 1000). A capacity in a train's ``until`` counts the charge
of the whole train (see :meth:`Train.pulse_step`).

Positive current is charge (delithiation of the cathode).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .errors import ProtocolError

__all__ = [
    "EXAMPLES",
    "MAH_PER_G",
    "Condition",
    "Step",
    "Train",
    "parse_protocol",
    "parse_step",
    "parse_train",
]

EXAMPLES = (
    "Charge at C/3 for 1 hour",
    "Discharge at 70 mA/g until mean theta 0.95",
    "Charge at 1C for 20 minutes or until surface theta 0.2",
    "Rest for 30 minutes",
    "Hold surface theta at 0.995 for 2 hours",
    "GITT: charge 15 minutes at C/20, rest 4 hours, until 4.3 V",
    "Repeat 3: [Charge at C/20 until 4.3 V, Discharge at C/20 until 2.5 V]",
)
_GITT_EXAMPLE = EXAMPLES[5]
_PITT_EXAMPLE = "PITT: steps of 10 mV, each for 1 hour or until C/100, until 4.3 V"
_REPEAT_EXAMPLE = EXAMPLES[6]

#: One mAh/g in C/kg, the unit of a ``specific_capacity`` condition.
MAH_PER_G = 3600.0

#: Allowed range of a voltage (held or as a condition) [V]: (0, V_MAX].
V_MAX = 10.0
#: Shortest and longest step or pulse [s]: below a millisecond a step is
#: shorter than anything an instrument logs (and than the solver's smallest
#: steps allow to resolve); above 1e9 s (32 years) it is a typo.
#: the fastest C-rate a protocol may ask for (a full charge in 0.36 s; a 2000C step still serves to reach
#: a cut-off by the overpotential alone) and the largest specific current [A/g] (1e4C at 200 mAh/g);
#: beyond them a rate is a typo or a unit slip, and a 2D particle's solver would grind on it
MAX_C_RATE = 1e4
MAX_SPECIFIC_CURRENT_A_G = 2000.0
MIN_DURATION = 1e-3
MAX_DURATION = 1e9
#: Largest PITT step [V].
PITT_STEP_MAX = 1.0
#: Smallest PITT step [V]: a potentiostat's resolution (tens of µV).
PITT_STEP_MIN = 1e-5
#: Default cap on the number of pulses of a train.
MAX_PULSES = 1000
#: Most repetitions of a ``Repeat`` block.
MAX_REPEATS = 10_000

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TIME_UNITS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "day": 86400.0, "days": 86400.0,
}
# unit tables, keyed in lower case (see _unit_factor for how case is read)
_CURRENT_UNITS = {"a": 1.0, "ma": 1e-3, "ua": 1e-6, "µa": 1e-6, "na": 1e-9, "pa": 1e-12}
_SPECIFIC_UNITS = {"a/g": 1.0, "ma/g": 1e-3}
_CAPACITY_UNITS = {"ah/g": 1000.0 * MAH_PER_G, "mah/g": MAH_PER_G}
_VOLTAGE_UNITS = {"v": 1.0, "mv": 1e-3}
#: SI prefixes the tables use; no unit's base letter (A, V) is one of them.
_PREFIXES = frozenset("mµunp")

_CURRENT_KINDS = frozenset({"current", "specific_current", "c_rate"})
_HOLD_ENDS = frozenset({"current", "specific_current", "c_rate", "theta_mean", "specific_capacity"})
#: The conditions each kind of step accepts.
ALLOWED_CONDITIONS = {
    "charge": frozenset({"theta_mean", "theta_surface", "voltage", "specific_capacity"}),
    "discharge": frozenset({"theta_mean", "theta_surface", "voltage", "specific_capacity"}),
    "rest": frozenset({"theta_mean", "theta_surface", "voltage"}),
    "hold_voltage": _HOLD_ENDS,
    "hold_theta": _HOLD_ENDS,
}
#: The train-level conditions (ending the whole train) of each kind of train.
TRAIN_CONDITIONS = {
    "gitt": frozenset({"voltage", "theta_mean", "theta_surface", "specific_capacity"}),
    "pitt": frozenset({"voltage", "theta_mean", "specific_capacity"}),
}


@dataclass(frozen=True)
class Condition:
    """A step termination: ``quantity`` reaching ``value``.

    Attributes
    ----------
    quantity : {"theta_mean", "theta_surface", "voltage", "current", "specific_current", "c_rate", "specific_capacity"}
    value : float
        Target in SI units (θ dimensionless, V, A, A/g, C/kg) or as a C-rate.
        ``specific_capacity`` is the charge passed in the step per mass of
        active material [C/kg] (1 mAh/g = 3600 C/kg).
    after : float
        Delay [s] before a voltage limit applies (``"4.3 V after 30
        minutes"``); 0 for a limit that applies from the start. A delayed
        limit ignores the voltage until the delay has passed and then ends
        the step at its first crossing (at once when the voltage is beyond
        it when the delay ends).
    """

    quantity: str
    value: float
    after: float = 0.0

    @property
    def label(self) -> str:
        """``quantity=value`` as a step's end reason, in the unit of the sentence where it is not SI-plain
        (a capacity in mAh/g, not C/kg)."""
        if self.quantity == "specific_capacity":
            return f"specific_capacity={self.value / 3600.0:g} mAh/g"
        return f"{self.quantity}={self.value}"


@dataclass(frozen=True)
class Step:
    """One protocol step.

    Attributes
    ----------
    kind : {"charge", "discharge", "rest", "hold_theta", "hold_voltage"}
    current_value : float or None
        Magnitude of the current in ``current_unit``.
    current_unit : {"C", "A/g", "A"} or None
    duration : float or None
        Maximum duration [s]; None when only conditions end the step.
    until : tuple of Condition
    hold_value : float or None
        Surface θ or voltage [V] held (hold steps).
    sentence : str
        The text the step came from.
    cycle : int or None
        Index of the repetition of the ``Repeat`` block the step came from
        (0-based); None outside one.
    """

    kind: str
    current_value: float | None = None
    current_unit: str | None = None
    duration: float | None = None
    until: tuple = field(default_factory=tuple)
    hold_value: float | None = None
    sentence: str = ""
    cycle: int | None = None

    def __post_init__(self):
        # sentences are checked as they are parsed; a Step built directly is checked here
        problem = _step_problem(self)
        if problem:
            raise ProtocolError(f"Step(kind={self.kind!r}, sentence={self.sentence!r}): {problem}; build steps from "
                                f"sentences where you can, e.g. parse_step({EXAMPLES[0]!r})")

    @property
    def sign(self) -> int:
        """+1 for charge, −1 for discharge, 0 otherwise."""
        return {"charge": 1, "discharge": -1}.get(self.kind, 0)


def _number(value) -> float:
    """``value`` as a float, NaN for anything that is not a real number."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _step_problem(step: "Step") -> str:
    """What makes a directly built :class:`Step` impossible, or ''."""
    if step.kind not in ALLOWED_CONDITIONS:
        return f"kind must be one of {', '.join(ALLOWED_CONDITIONS)}"
    if step.kind in ("charge", "discharge"):
        value = _number(step.current_value)
        if not (math.isfinite(value) and value > 0):
            return f"current_value = {step.current_value!r} must be finite and > 0 (the sign is in the kind)"
        if step.current_unit not in ("C", "A/g", "A"):
            return f"current_unit = {step.current_unit!r} must be 'C', 'A/g' or 'A'"
        if step.current_unit == "C" and value > MAX_C_RATE:
            return (f"current_value = {step.current_value!r}C is above the {MAX_C_RATE:g}C allowed (a full charge in "
                    f"{3600 / MAX_C_RATE:g} s)")
        if step.current_unit == "A/g" and value > MAX_SPECIFIC_CURRENT_A_G:
            return f"current_value = {step.current_value!r} A/g is above the {MAX_SPECIFIC_CURRENT_A_G:g} A/g allowed"
    if step.duration is not None:
        d = _number(step.duration)
        if not MIN_DURATION <= d <= MAX_DURATION:
            return f"duration = {step.duration!r} s must lie in {MIN_DURATION:g}..{MAX_DURATION:g} s (or be None)"
    elif not step.until:
        return "a step needs a duration or an until condition"
    hold = _number(step.hold_value)
    if step.kind == "hold_theta" and not 0.0 < hold < 1.0:
        return f"the held surface θ, hold_value = {step.hold_value!r}, must lie in (0, 1)"
    if step.kind == "hold_voltage" and not (math.isfinite(hold) and abs(hold) <= V_MAX):
        # a PITT template holds its signed step, so only the size is bounded here
        return f"the held voltage, hold_value = {step.hold_value!r}, must be a finite number of volts"
    if not isinstance(step.until, tuple) or not all(isinstance(c, Condition) for c in step.until):
        return f"until must be a tuple of Condition, got {step.until!r}"
    for c in step.until:
        value = _number(c.value)
        if c.quantity not in ALLOWED_CONDITIONS[step.kind]:
            return f"a {step.kind} step cannot end on {c.quantity} (allowed: {', '.join(sorted(ALLOWED_CONDITIONS[step.kind]))})"
        if not math.isfinite(value) or (c.quantity.startswith("theta") and not 0.0 < value < 1.0):
            return f"condition {c.quantity} = {c.value!r} must be finite{' and in (0, 1)' if 'theta' in c.quantity else ''}"
        after = _number(c.after)
        if not (after == 0.0 or MIN_DURATION <= after <= MAX_DURATION):
            return f"condition {c.quantity} after = {c.after!r} s must be 0 or lie in {MIN_DURATION:g}..{MAX_DURATION:g} s"
        if after > 0.0 and c.quantity != "voltage":
            return f"only a voltage limit may wait ('4.3 V after 30 minutes'); {c.quantity} has after = {c.after!r} s"
    return ""


@dataclass(frozen=True)
class Train:
    """A titration train (GITT or PITT): one pulse repeated until the train ends.

    Attributes
    ----------
    kind : {"gitt", "pitt"}
    pulse : Step
        GITT: the current pulse (``charge`` or ``discharge`` with a duration
        and no conditions). PITT: a template ``hold_voltage`` step whose
        ``hold_value`` is the signed voltage step [V] and whose duration and
        conditions end every hold.
    rest : Step or None
        The rest after every pulse (required for a GITT, optional for a PITT).
    until : tuple of Condition
        Conditions that end the whole train (voltage, mean θ, surface θ,
        specific capacity; a PITT's include its end voltage). A capacity here
        counts the charge of the whole train.
    max_pulses : int
        Safety cap on the number of pulses.
    sentence : str
        The text the train came from.
    cycle : int or None
        Index of the repetition of the ``Repeat`` block the train came from.
    """

    kind: str
    pulse: Step
    rest: Step | None
    until: tuple
    max_pulses: int = MAX_PULSES
    sentence: str = ""
    cycle: int | None = None

    def __post_init__(self):
        if self.kind not in TRAIN_CONDITIONS:
            raise ProtocolError(f"a train is 'gitt' or 'pitt', got {self.kind!r}")
        if isinstance(self.max_pulses, bool) or not isinstance(self.max_pulses, int) or self.max_pulses < 1:
            raise ProtocolError(f"max_pulses must be a whole number ≥ 1, got {self.max_pulses!r}")

    @property
    def sign(self) -> int:
        """+1 for a charging train, −1 for a discharging one."""
        if self.kind == "gitt":
            return self.pulse.sign
        return 1 if self.pulse.hold_value > 0 else -1

    @property
    def step_size(self) -> float | None:
        """Signed voltage step of a PITT [V]; None for a GITT."""
        return self.pulse.hold_value if self.kind == "pitt" else None

    @property
    def end_voltage(self) -> float | None:
        """The voltage that ends the train [V], or None."""
        volts = [c.value for c in self.until if c.quantity == "voltage"]
        return volts[0] if volts else None

    def pitt_levels(self, start_voltage: float) -> list[float]:
        """The voltages [V] a PITT holds, in order.

        Levels are ``start_voltage + (k+1)·step``; the last is the end
        voltage exactly (a step that would pass it is shortened). At most
        ``max_pulses`` levels are returned.

        Parameters
        ----------
        start_voltage : float
            Voltage at the start of the train [V].

        Returns
        -------
        list of float

        Raises
        ------
        ProtocolError
            For a GITT, a start voltage outside (0, 10] V, or steps that lead
            away from the end voltage.

        Examples
        --------
        >>> t = parse_train("PITT: steps of 100 mV, each for 1 hour, until 4.25 V")
        >>> t.pitt_levels(4.0)
        [4.1, 4.2, 4.25]
        """
        if self.kind != "pitt":
            raise ProtocolError(f"train {self.sentence!r} is a GITT; only a PITT has voltage levels")
        v0 = _check_start_voltage(self, start_voltage)
        dv = float(self.pulse.hold_value)
        v_end = self.end_voltage
        if v_end is None:
            raise ProtocolError(f"train {self.sentence!r}: a PITT needs its end voltage, e.g. {_PITT_EXAMPLE!r}")
        steps = (v_end - v0) / dv
        if abs(steps) <= 1e-6:
            raise ProtocolError(
                f"train {self.sentence!r}: it starts at its end voltage {v_end:g} V (start {v0:.6g} V); "
                "start it elsewhere or choose another end voltage"
            )
        if steps < 0:
            direction = "above" if v_end > v0 else "below"
            raise ProtocolError(
                f"train {self.sentence!r}: starting at {v0:.6g} V, steps of {dv * 1e3:+g} mV never reach the end "
                f"voltage {v_end:g} V, which lies {direction} the start; use steps of {-dv * 1e3:+g} mV or "
                "another end voltage"
            )
        n = math.ceil(steps - 1e-6)  # a step within a millionth of the end is the end
        if n > self.max_pulses:  # only what is held (a 1e-6 mV step had built 1e9 levels first)
            return [v0 + (k + 1) * dv for k in range(self.max_pulses)]
        return [v0 + (k + 1) * dv for k in range(n - 1)] + [v_end]

    def pulse_step(self, k: int, start_voltage: float | None = None, *, passed: float = 0.0) -> Step:
        """The k-th pulse (0-based) as an ordinary :class:`Step`.

        GITT: the current pulse with the train's conditions added to its own,
        so that a cut-off ends the pulse. PITT: a voltage hold at the k-th
        level of :meth:`pitt_levels`, ended like the template, plus the
        train's mean-θ and capacity conditions.

        Parameters
        ----------
        k : int
            Pulse index, 0 ≤ k < ``max_pulses`` (PITT: < number of levels).
        start_voltage : float, optional
            Voltage at the start of the train [V]; required for a PITT.
        passed : float, optional
            Charge the train has passed so far per mass of active material
            [C/kg]. A train-level capacity condition becomes, on the pulse,
            the capacity that remains.

        Returns
        -------
        Step

        Raises
        ------
        ProtocolError
            PITT without ``start_voltage``; a capacity condition already
            reached by ``passed``.
        IndexError
            For k out of range.

        Examples
        --------
        >>> t = parse_train("GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V")
        >>> t.pulse_step(3).sentence
        'GITT pulse 3: Charge at C/20 for 15 minutes'
        """
        k = _check_index(k)
        if self.kind == "gitt":
            if k >= self.max_pulses:
                raise IndexError(f"pulse {k} of {self.sentence!r}: the train has at most {self.max_pulses} pulses")
            until = self.pulse.until + _train_ends(self, passed, ("voltage", "theta_mean", "theta_surface"))
            return replace(self.pulse, until=until, sentence=f"GITT pulse {k}: {self.pulse.sentence}",
                           cycle=self.cycle)
        if start_voltage is None:
            raise ProtocolError(
                f"train {self.sentence!r}: a PITT step needs the voltage at the start of the train "
                "(pulse_step(k, start_voltage=...))"
            )
        levels = self.pitt_levels(start_voltage)
        if k >= len(levels):
            raise IndexError(f"pulse {k} of {self.sentence!r}: the train has {len(levels)} levels")
        until = self.pulse.until + _train_ends(self, passed, ("theta_mean",))
        ends = _ends_text(self.pulse.duration, self.pulse.until)
        return Step("hold_voltage", duration=self.pulse.duration, until=until, hold_value=levels[k],
                    sentence=f"PITT step {k}: Hold at {_volts_text(levels[k])} V {ends}", cycle=self.cycle)

    def rest_step(self, k: int) -> Step | None:
        """The rest after the k-th pulse (0-based), or None when the train has no rest.

        Examples
        --------
        >>> parse_train("GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V").rest_step(3).sentence
        'GITT rest 3: Rest for 4 hours'
        """
        k = _check_index(k)
        if k >= self.max_pulses:
            raise IndexError(f"rest {k} of {self.sentence!r}: the train has at most {self.max_pulses} pulses")
        if self.rest is None:
            return None
        return replace(self.rest, sentence=f"{self.kind.upper()} rest {k}: {self.rest.sentence}", cycle=self.cycle)


def _check_index(k) -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"a pulse index is an int, got {type(k).__name__}: {k!r}")
    if k < 0:
        raise IndexError(f"pulse indices start at 0, got {k}")
    return k


def _check_start_voltage(train: Train, v) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ProtocolError(f"train {train.sentence!r}: the start voltage must be a number [V], got {v!r}") from None
    if not (math.isfinite(v) and 0.0 < v <= V_MAX):
        raise ProtocolError(f"train {train.sentence!r}: the start voltage must lie in (0, {V_MAX:g}] V, got {v!r}")
    return v


def _train_ends(train: Train, passed: float, keep: tuple) -> tuple:
    """The train's conditions that carry over to one pulse (capacity as the remainder)."""
    passed = float(passed)
    if not (math.isfinite(passed) and passed >= 0.0):
        raise ProtocolError(f"train {train.sentence!r}: the charge passed must be finite and ≥ 0 C/kg, got {passed!r}")
    out = []
    for c in train.until:
        if c.quantity == "specific_capacity":
            left = c.value - passed
            if not left > 0.0:
                raise ProtocolError(
                    f"train {train.sentence!r}: its capacity {c.value / MAH_PER_G:g} mAh/g is already passed "
                    f"({passed / MAH_PER_G:g} mAh/g); the train is over"
                )
            out.append(Condition("specific_capacity", left))
        elif c.quantity in keep:
            out.append(c)
    return tuple(out)


# ---------------------------------------------------------------- text of values
def _duration_text(seconds: float) -> str:
    for unit, size in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        if seconds >= size and seconds % size == 0.0:
            n = seconds / size
            return f"{n:g} {unit}" + ("" if n == 1 else "s")
    return f"{seconds:g} seconds"


def _current_text(value: float, unit: str) -> str:
    if unit == "C":
        den = 1.0 / value
        if value < 1.0 and abs(den - round(den)) < 1e-9 * den:
            return f"C/{round(den)}"
        return f"{value:g}C"
    if unit == "A/g":
        return f"{value * 1e3:g} mA/g"
    for name, size in (("A", 1.0), ("mA", 1e-3), ("µA", 1e-6), ("nA", 1e-9)):
        if value >= size:
            return f"{value / size:g} {name}"
    return f"{value / 1e-12:g} pA"


def _condition_text(c: Condition) -> str:
    if c.after > 0.0:
        return f"{_condition_text(replace(c, after=0.0))} after {_duration_text(c.after)}"
    if c.quantity == "theta_mean":
        return f"mean theta {c.value:g}"
    if c.quantity == "theta_surface":
        return f"surface theta {c.value:g}"
    if c.quantity == "voltage":
        return f"{c.value:g} V"
    if c.quantity == "specific_capacity":
        return f"{c.value / MAH_PER_G:g} mAh/g"
    unit = {"current": "A", "specific_current": "A/g", "c_rate": "C"}[c.quantity]
    return _current_text(c.value, unit)


def _ends_text(duration: float | None, until: tuple) -> str:
    parts = []
    if duration is not None:
        parts.append(f"for {_duration_text(duration)}")
    if until:
        parts.append("until " + " or ".join(_condition_text(c) for c in until))
    return " or ".join(parts)


def _volts_text(v: float) -> str:
    text = f"{v:.6f}".rstrip("0")
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(3, '0')}"


# ---------------------------------------------------------------- parsing
def _fail(sentence: str, pos: int, what: str, example: str = EXAMPLES[0]) -> ProtocolError:
    pointer = " " * (pos + 4) + "^"  # under the quoted sentence: 3 spaces and a quote
    ex = "; ".join(f'"{e}"' for e in EXAMPLES[:4])
    # the first line is complete on its own (the command line shows only it)
    return ProtocolError(
        f"cannot understand step \"{sentence}\" at position {pos}: {what} "
        f"(a valid step: \"{example}\")\n   \"{sentence}\"\n{pointer}\nmore examples: {ex}"
    )


def _unit_factor(sentence: str, pos: int, unit: str, table: dict, example: str = EXAMPLES[0]) -> float | None:
    """Factor of ``unit`` in ``table``, or None when the unit is not one of the table's.

    The base letter may take either case ('4.3 v', '2 ma' for 2 mA). An SI
    prefix must be lower case: 'MA' or 'MV' (mega) is refused with the
    spelling meant rather than silently read as milli.
    """
    key = unit.replace("μ", "µ").lower()  # Greek mu (U+03BC) and micro sign (U+00B5) alike
    if key not in table:
        return None
    if key[0] in _PREFIXES and not unit[0].islower():
        meant = key[0] + key[1].upper() + key[2:]  # 'mA', 'mV', 'mAh/g', 'pA'
        raise _fail(sentence, pos, f"unit '{unit}': SI prefixes are lower case (upper-case M is mega, P peta), "
                                   f"so write '{meant}'", example)
    return table[key]


def _parse_duration(sentence: str, text: str, pos: int, example: str = EXAMPLES[0]) -> float:
    m = re.fullmatch(rf"\s*({_NUM})\s*([a-zA-Z]+)\s*", text)
    if not m:
        raise _fail(sentence, pos, f"expected a duration like '1 hour' or '20 minutes', got '{text.strip()}'", example)
    value = float(m.group(1))
    unit = m.group(2).lower()
    if unit not in _TIME_UNITS:
        raise _fail(sentence, pos + m.start(2), f"unknown time unit '{m.group(2)}' (use s, min, h or day)", example)
    seconds = value * _TIME_UNITS[unit]
    if not (math.isfinite(seconds) and seconds > 0):
        raise _fail(sentence, pos + m.start(1), f"duration must be > 0, got {m.group(1)} {m.group(2)}", example)
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise _fail(sentence, pos + m.start(1), f"duration {m.group(1)} {m.group(2)} is {seconds:g} s, outside "
                    f"{MIN_DURATION:g} s .. {MAX_DURATION:g} s (32 years)", example)
    return seconds


def _parse_current(sentence: str, text: str, pos: int) -> tuple[float, str]:
    t = text.strip()
    lead = pos + (len(text) - len(text.lstrip()))
    m = re.fullmatch(r"C\s*/\s*(" + _NUM + r")", t, re.I)
    if m:
        den = float(m.group(1))
        if not den > 0:
            raise _fail(sentence, lead, f"C-rate C/{m.group(1)} must have a positive divisor")
        return 1.0 / den, "C"
    m = re.fullmatch(r"(" + _NUM + r")\s*C", t, re.I)
    if m:
        val = float(m.group(1))
        if not val > 0:
            raise _fail(sentence, lead, f"C-rate must be > 0, got {m.group(1)}C (use 'Rest' for zero current)")
        if not val <= MAX_C_RATE:
            raise _fail(sentence, lead, f"C-rate {m.group(1)}C would pass a full charge in {3600 / val:.3g} s; rates "
                                        f"up to {MAX_C_RATE:g}C ({3600 / MAX_C_RATE:g} s) are allowed: was C/{m.group(1)} meant?")
        return val, "C"
    m = re.fullmatch(r"(" + _NUM + r")\s*([a-zA-Zµμ/]+)", t)
    if m:
        val = float(m.group(1))
        for table, unit in ((_SPECIFIC_UNITS, "A/g"), (_CURRENT_UNITS, "A")):
            factor = _unit_factor(sentence, lead + m.start(2), m.group(2), table)
            if factor is not None:
                if not val > 0:
                    raise _fail(sentence, lead, f"current must be > 0, got {t} (the verb gives the sign)")
                if unit == "A/g" and not val * factor <= MAX_SPECIFIC_CURRENT_A_G:
                    raise _fail(sentence, lead, f"{t} is more than {MAX_SPECIFIC_CURRENT_A_G:g} A/g (about "
                                                f"{MAX_SPECIFIC_CURRENT_A_G / 0.2:g}C for a cathode); is the unit "
                                                "mA/g?")
                if not math.isfinite(val * factor):
                    raise _fail(sentence, lead, f"current {t} is not a finite number")
                return val * factor, unit
        raise _fail(sentence, lead + m.start(2), f"unknown current unit '{m.group(2)}' (use C-rate, A, mA, µA, nA, A/g or mA/g)")
    raise _fail(sentence, lead, f"expected a current like 'C/3', '1C', '70 mA/g' or '2 nA', got '{t}'")


def _positive(sentence: str, pos: int, value: float, text: str, what: str) -> float:
    if not (math.isfinite(value) and value > 0):
        raise _fail(sentence, pos, f"{what} must be finite and > 0, got '{text}'")
    return value


def _parse_condition(sentence: str, text: str, pos: int) -> Condition:
    m = re.match(r"(.*?)\s+after\s+(.*)$", text, re.I)
    if m:
        cond = _parse_condition(sentence, m.group(1), pos)
        lead = pos + (len(m.group(1)) - len(m.group(1).lstrip()))
        if cond.quantity != "voltage":
            raise _fail(sentence, lead, "only a voltage limit may wait for a delay, e.g. "
                                        "'Charge at C/20 until 4.3 V after 30 minutes'")
        return replace(cond, after=_parse_duration(sentence, m.group(2), pos + m.start(2)))
    t = text.strip().replace("θ", "theta")
    lead = pos + (len(text) - len(text.lstrip()))
    m = re.fullmatch(r"(mean|surface|average)\s*(?:theta|occupancy)\s*(?:=|<|>|<=|>=|of|reaches)?\s*(" + _NUM + r")", t, re.I)
    if m:
        value = float(m.group(2))
        if not 0.0 < value < 1.0:
            raise _fail(sentence, lead + m.start(2), f"θ target {m.group(2)} must lie in (0, 1)")
        q = "theta_surface" if m.group(1).lower() == "surface" else "theta_mean"
        return Condition(q, value)
    m = re.fullmatch(r"(" + _NUM + r")\s*([a-zA-Zµμ/]+)", t)
    if m:
        number, unit, at = float(m.group(1)), m.group(2), lead + m.start(2)
        factor = _unit_factor(sentence, at, unit, _VOLTAGE_UNITS)
        if factor is not None:
            value = number * factor
            if not (math.isfinite(value) and 0.0 < value <= V_MAX):
                raise _fail(sentence, lead, f"voltage {t} must lie in (0, {V_MAX:g}] V")
            return Condition("voltage", value)
        for quantity, table, what in (("specific_capacity", _CAPACITY_UNITS, "capacity"),
                                      ("current", _CURRENT_UNITS, "current"),
                                      ("specific_current", _SPECIFIC_UNITS, "specific current")):
            factor = _unit_factor(sentence, at, unit, table)
            if factor is not None:
                return Condition(quantity, _positive(sentence, lead, number * factor, t, what))
        if unit.upper() == "C":
            return Condition("c_rate", _positive(sentence, lead, number, t, "C-rate"))
    m = re.fullmatch(r"C\s*/\s*(" + _NUM + r")", t, re.I)
    if m and float(m.group(1)) > 0:
        return Condition("c_rate", _positive(sentence, lead, 1.0 / float(m.group(1)), t, "C-rate"))
    raise _fail(
        sentence, lead,
        "expected a condition like 'mean theta 0.5', 'surface theta 0.995', '4.3 V', '100 mAh/g' or 'C/50', "
        f"got '{text.strip()}'",
    )


def _conditions(sentence: str, text: str, pos: int) -> list[tuple[Condition, int]]:
    """Parse 'A or B or C' into (condition, position in the sentence) pairs."""
    out = []
    start = 0
    for sep in list(re.finditer(r"\s+or\s+", text)) + [None]:
        end = sep.start() if sep is not None else len(text)
        part = text[start:end]
        lead = pos + start + (len(part) - len(part.lstrip()))
        out.append((_parse_condition(sentence, part, pos + start), lead))
        if sep is not None:
            start = sep.end()
    return out


def _split_ends(sentence: str, rest: str, pos: int, *, for_optional: bool = False):
    """Split '... [for] X [or until Y]' or '... until Y' into a duration and positioned conditions."""
    m = re.match(r"\s*until\s+(.*)$", rest, re.I)
    if m:
        return None, _conditions(sentence, m.group(1), pos + m.start(1))
    lead = r"\s*(?:for\s+)?" if for_optional else r"\s*for\s+"
    m = re.match(lead + r"(.*?)(?:\s+or\s+until\s+(.*))?$", rest, re.I)
    if m and m.group(1).strip():
        duration = _parse_duration(sentence, m.group(1), pos + m.start(1))
        conds = _conditions(sentence, m.group(2), pos + m.start(2)) if m.group(2) else []
        return duration, conds
    raise _fail(sentence, pos, "expected 'for <duration>' or 'until <condition>'")


_WHY_NOT = {
    ("charge", "current"): "the current of a constant-current step does not change; end it with a voltage, θ, "
                           "capacity or a duration, e.g. 'Charge at C/3 until 4.3 V'",
    ("rest", "current"): "no current flows during a rest; end it with a duration, a voltage or θ, "
                         "e.g. 'Rest for 30 minutes or until 3.9 V'",
    ("rest", "specific_capacity"): "no charge passes during a rest, so a capacity is never reached; end it with a "
                                   "duration, a voltage or θ, e.g. 'Rest for 30 minutes or until 3.9 V'",
    ("hold_voltage", "voltage"): "the voltage is held, so it cannot end the hold; end it with a current, mean θ, "
                                 "capacity or a duration, e.g. 'Hold at 4.3 V for 2 hours or until C/50'",
    ("hold_voltage", "theta_surface"): "a voltage hold pins the surface θ, so it may never reach a target; end it "
                                       "with a current, mean θ, capacity or a duration, "
                                       "e.g. 'Hold at 4.3 V for 2 hours or until C/50'",
    ("hold_theta", "theta_surface"): "the surface θ is held, so it cannot end the hold; end it with a current, mean "
                                     "θ, capacity or a duration, e.g. 'Hold surface theta at 0.995 until C/50'",
    ("hold_theta", "voltage"): "a surface-θ hold ends on a current, mean θ, capacity or a duration, not on the "
                               "voltage, e.g. 'Hold surface theta at 0.995 until C/50'",
}


def _why_not(kind: str, quantity: str) -> str:
    group = "charge" if kind in ("charge", "discharge") else kind
    q = "current" if quantity in _CURRENT_KINDS else quantity
    return _WHY_NOT.get((group, q), f"a {kind} step cannot end on {quantity}")


def _check_conditions(sentence: str, kind: str, conds: list, example: str = EXAMPLES[0]) -> tuple:
    """Reject conditions that cannot end a step of this kind; return the bare conditions."""
    for cond, pos in conds:
        if cond.quantity not in ALLOWED_CONDITIONS[kind]:
            raise _fail(sentence, pos, _why_not(kind, cond.quantity), example)
    return tuple(c for c, _ in conds)


def _check_hold_voltage(sentence: str, value: float, pos: int, text: str) -> float:
    if not (math.isfinite(value) and 0.0 < value <= V_MAX):
        raise _fail(sentence, pos, f"held voltage {text} must lie in (0, {V_MAX:g}] V")
    return value


def _is_train(s: str) -> bool:
    return re.match(r"\s*(gitt|pitt)\b", s, re.I) is not None


def _is_repeat(s: str) -> bool:
    return re.match(r"\s*repeat\b", s, re.I) is not None


def parse_step(sentence) -> Step:
    """Parse one experiment sentence.

    Parameters
    ----------
    sentence : str or Step
        A :class:`Step` is returned unchanged. GITT, PITT and Repeat sentences
        are not single steps: give them to :func:`parse_protocol`.

    Returns
    -------
    Step

    Raises
    ------
    ProtocolError
        With the sentence, the position of the problem and valid examples.

    Examples
    --------
    >>> parse_step("Charge at C/3 for 1 hour").duration
    3600.0
    >>> parse_step("Charge at C/3 until 100 mAh/g").until
    (Condition(quantity='specific_capacity', value=360000.0),)
    """
    if isinstance(sentence, Step):
        return sentence
    if isinstance(sentence, Train):
        raise ProtocolError(f"{sentence.sentence!r} is a {sentence.kind.upper()} train, not a single step; "
                            "use parse_protocol")
    if not isinstance(sentence, str):
        raise ProtocolError(f"a protocol step must be a sentence (str), got {type(sentence).__name__}: {sentence!r}")
    s = sentence.strip()
    if not s:
        raise ProtocolError(f"empty protocol step; valid examples: {EXAMPLES[0]!r}, {EXAMPLES[3]!r}")
    if _is_train(s):
        word = s.split(":")[0].split()[0].upper()
        raise _fail(s, 0, f"a {word} sentence is a train of steps, not a single step; parse it with "
                          "parse_protocol (or parse_train)", _GITT_EXAMPLE)
    if _is_repeat(s):
        raise _fail(s, 0, "a Repeat sentence is a block of steps, not a single step; parse it with parse_protocol",
                    _REPEAT_EXAMPLE)
    m = re.match(r"(charge|discharge)\s+at\s+(.+?)(\s+(?:for|until)\s+.*)$", s, re.I)
    if m:
        kind = m.group(1).lower()
        value, unit = _parse_current(s, m.group(2), m.start(2))
        duration, conds = _split_ends(s, m.group(3), m.start(3))
        return Step(kind, value, unit, duration, _check_conditions(s, kind, conds), sentence=s)
    m = re.match(r"(charge|discharge)\b", s, re.I)
    if m:
        at = re.match(r"(charge|discharge)\s+at\s+", s, re.I)
        if not at:
            raise _fail(s, m.end(), "expected 'at <current>' after the verb")
        cur = re.match(r"(charge|discharge)\s+at\s+(C\s*/\s*\S+|\S+\s*C\b|\S+\s+[a-zA-Zµ/]+|\S+)\s*", s, re.I)
        raise _fail(s, cur.end() if cur else len(s),
                    "a charge or discharge needs 'for <duration>' or 'until <condition>' after the current")
    m = re.match(r"rest\s+(for\s+.*)$", s, re.I)
    if m:
        duration, conds = _split_ends(s, " " + m.group(1), m.start(1) - 1)
        return Step("rest", duration=duration, until=_check_conditions(s, "rest", conds), sentence=s)
    m = re.match(r"hold\s+surface\s+(?:theta|θ)\s+at\s+(" + _NUM + r")(\s+.*)$", s, re.I)
    if m:
        value = float(m.group(1))
        if not 0.0 < value < 1.0:
            raise _fail(s, m.start(1), f"held θ {m.group(1)} must lie in (0, 1)")
        duration, conds = _split_ends(s, m.group(2), m.start(2))
        return Step("hold_theta", duration=duration, until=_check_conditions(s, "hold_theta", conds),
                    hold_value=value, sentence=s)
    m = re.match(r"hold\s+at\s+(" + _NUM + r")\s*(m?V)(\s+.*)$", s, re.I)
    if m:
        value = float(m.group(1)) * _unit_factor(s, m.start(2), m.group(2), _VOLTAGE_UNITS)
        _check_hold_voltage(s, value, m.start(1), f"{m.group(1)} {m.group(2)}")
        duration, conds = _split_ends(s, m.group(3), m.start(3))
        return Step("hold_voltage", duration=duration, until=_check_conditions(s, "hold_voltage", conds),
                    hold_value=value, sentence=s)
    m = re.match(r"rest\b\s*", s, re.I)
    if m:
        raise _fail(s, m.end(), "a rest needs 'for <duration>', e.g. 'Rest for 30 minutes' or "
                                "'Rest for 1 hour or until 3.9 V'", EXAMPLES[3])
    m = re.match(r"hold\b\s*", s, re.I)
    if m:
        raise _fail(s, m.end(), "a hold reads 'Hold at <voltage> for <duration> | until <condition>' or "
                                "'Hold surface theta at <θ> ...', e.g. 'Hold at 4.3 V for 2 hours or until C/50'",
                    EXAMPLES[4])
    word = s.split()[0]
    raise _fail(s, 0, f"unknown step '{word}' (steps start with Charge, Discharge, Rest or Hold)")


# ---------------------------------------------------------------- trains
def _parts(s: str, start: int) -> list[tuple[str, int]]:
    """Comma-separated parts of s[start:] as (stripped text, position of its first character)."""
    out = []
    pos = start
    for piece in s[start:].split(","):
        out.append((piece.strip(), pos + len(piece) - len(piece.lstrip())))
        pos += len(piece) + 1
    return out


def _parse_max(s: str, text: str, pos: int, example: str) -> int:
    m = re.fullmatch(r"max(?:imum)?\s+(\S+)\s+(?:pulses?|steps?)", text, re.I)
    if not m:
        raise _fail(s, pos, f"expected 'max N pulses', got '{text}'", example)
    if not re.fullmatch(r"\d+", m.group(1)) or int(m.group(1)) < 1:
        raise _fail(s, pos + m.start(1), f"the number of pulses must be a whole number ≥ 1, got '{m.group(1)}'",
                    example)
    return int(m.group(1))


def _parse_gitt_pulse(s: str, text: str, pos: int) -> Step:
    m = re.fullmatch(r"(?:(charge|discharge)\s+)?at\s+(.+?)\s+for\s+(.+)", text, re.I)
    if m:
        cur, dur = (m.group(2), m.start(2)), (m.group(3), m.start(3))
    else:
        m = re.fullmatch(r"(?:(charge|discharge)\s+)?(?:for\s+)?(.+?)\s+at\s+(.+)", text, re.I)
        if not m:
            raise _fail(s, pos, f"expected the pulse as '<duration> at <current>', e.g. '15 minutes at C/20', "
                                f"got '{text}'", _GITT_EXAMPLE)
        dur, cur = (m.group(2), m.start(2)), (m.group(3), m.start(3))
    kind = (m.group(1) or "charge").lower()
    duration = _parse_duration(s, dur[0], pos + dur[1], _GITT_EXAMPLE)
    value, unit = _parse_current(s, cur[0], pos + cur[1])
    sentence = f"{kind.capitalize()} at {_current_text(value, unit)} for {_duration_text(duration)}"
    return Step(kind, value, unit, duration, (), sentence=sentence)


def _parse_pitt_size(s: str, text: str, pos: int) -> float:
    m = re.fullmatch(r"steps?\s+of\s+(" + _NUM + r")\s*(m?V)", text, re.I)
    if not m:
        raise _fail(s, pos, f"expected the step size as 'steps of 10 mV' (negative to discharge), got '{text}'",
                    _PITT_EXAMPLE)
    size = float(m.group(1)) * _unit_factor(s, pos + m.start(2), m.group(2), _VOLTAGE_UNITS, _PITT_EXAMPLE)
    if not (math.isfinite(size) and PITT_STEP_MIN <= abs(size) <= PITT_STEP_MAX):
        raise _fail(s, pos + m.start(1), f"the step size {m.group(1)} {m.group(2)} must be between "
                                         f"{PITT_STEP_MIN * 1e3:g} mV and {PITT_STEP_MAX:g} V in magnitude",
                    _PITT_EXAMPLE)
    return size


def _check_train_ends(s: str, kind: str, conds: list, example: str) -> tuple:
    for cond, pos in conds:
        if cond.quantity in TRAIN_CONDITIONS[kind]:
            continue
        if cond.quantity in _CURRENT_KINDS:
            why = ("a train ends on a voltage, θ or capacity; the current that ends every hold goes in "
                   "'each ...', e.g. 'each for 1 hour or until C/100'") if kind == "pitt" else (
                  "the current of a GITT pulse does not change; end the train with a voltage, θ or capacity, "
                  "e.g. 'until 4.3 V'")
        else:
            why = ("every PITT step holds a voltage, which pins the surface θ; end the train with its end voltage, "
                   "mean θ or capacity, e.g. 'until 4.3 V or mean theta 0.1'")
        raise _fail(s, pos, why, example)
    return tuple(c for c, _ in conds)


def parse_train(sentence) -> Train:
    """Parse a GITT or PITT sentence (grammar in the module docstring).

    Parameters
    ----------
    sentence : str or Train
        A :class:`Train` is returned unchanged.

    Returns
    -------
    Train

    Raises
    ------
    ProtocolError
        With the sentence, the position of the problem and a valid example.

    Examples
    --------
    >>> t = parse_train("GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V")
    >>> (t.kind, t.pulse.duration, t.rest.duration, t.until)
    ('gitt', 900.0, 14400.0, (Condition(quantity='voltage', value=4.3),))
    """
    if isinstance(sentence, Train):
        return sentence
    if not isinstance(sentence, str):
        raise ProtocolError(f"a train must be a sentence (str), got {type(sentence).__name__}: {sentence!r}")
    s = sentence.strip()
    m = re.match(r"(gitt|pitt)\b", s, re.I)
    if not m:
        raise _fail(s, 0, "a train starts with 'GITT:' or 'PITT:'", _GITT_EXAMPLE)
    kind = m.group(1).lower()
    example = _GITT_EXAMPLE if kind == "gitt" else _PITT_EXAMPLE
    colon = re.match(r"(gitt|pitt)\s*:", s, re.I)
    if not colon:
        raise _fail(s, m.end(), f"expected ':' after {m.group(1)}", example)
    found: dict[str, tuple] = {}
    for text, pos in _parts(s, colon.end()):
        if not text:
            raise _fail(s, pos, "empty part between commas", example)
        word = text.split()[0].lower()
        if word in ("rest", "until", "max", "maximum"):
            key = "max" if word == "maximum" else word
        elif kind == "pitt" and word in ("step", "steps"):
            key = "steps"
        elif kind == "pitt" and word == "each":
            key = "each"
        elif kind == "gitt" and "pulse" not in found:
            key = "pulse"
        else:
            parts = ("the pulse '15 minutes at C/20', 'rest 4 hours', 'until 4.3 V'" if kind == "gitt" else
                     "'steps of 10 mV', 'each for 1 hour or until C/100', 'until 4.3 V', optionally 'rest 10 minutes'")
            raise _fail(s, pos, f"unknown part '{text}' (a {kind.upper()} has {parts} and optionally "
                                "'max 40 pulses')", example)
        if key in found:
            raise _fail(s, pos, f"a second '{key}' part", example)
        found[key] = (text, pos)

    rest = None
    if "rest" in found:
        text, pos = found["rest"]
        r = re.match(r"rest(?:\s+for)?\s+", text, re.I)
        if not r:
            raise _fail(s, pos + 4, "expected the rest's duration, e.g. 'rest 4 hours'", example)
        duration = _parse_duration(s, text[r.end():], pos + r.end(), example)
        rest = Step("rest", duration=duration, sentence=f"Rest for {_duration_text(duration)}")
    max_pulses = _parse_max(s, *found["max"], example) if "max" in found else MAX_PULSES
    until = ()
    if "until" in found:
        text, pos = found["until"]
        u = re.match(r"until\s+", text, re.I)
        if not u:
            raise _fail(s, pos + 5, "expected the condition that ends the train, e.g. 'until 4.3 V'", example)
        until = _check_train_ends(s, kind, _conditions(s, text[u.end():], pos + u.end()), example)

    if kind == "gitt":
        if "pulse" not in found:
            raise _fail(s, len(s), "a GITT needs its current pulse, e.g. '15 minutes at C/20'", example)
        pulse = _parse_gitt_pulse(s, *found["pulse"])
        if rest is None:
            raise _fail(s, len(s), "a GITT needs a rest after every pulse, e.g. 'rest 4 hours'", example)
        if not until:
            raise _fail(s, len(s), "a GITT needs the condition that ends the train, e.g. 'until 4.3 V'", example)
        return Train("gitt", pulse, rest, until, max_pulses, s)

    if "steps" not in found:
        raise _fail(s, len(s), "a PITT needs its step size, e.g. 'steps of 10 mV'", example)
    size = _parse_pitt_size(s, *found["steps"])
    if "each" not in found:
        raise _fail(s, len(s), "every PITT step needs an end, e.g. 'each for 1 hour or until C/100'", example)
    text, pos = found["each"]
    duration, conds = _split_ends(s, text[4:], pos + 4, for_optional=True)
    ends = _check_conditions(s, "hold_voltage", conds, example)
    volts = [c for c in until if c.quantity == "voltage"]
    if len(volts) != 1:
        where = found["until"][1] if "until" in found else len(s)
        what = "its end voltage" if not volts else "one end voltage, not several"
        raise _fail(s, where, f"a PITT needs {what}, e.g. 'until 4.3 V'", example)
    pulse = Step("hold_voltage", duration=duration, until=ends, hold_value=size,
                 sentence=f"each {_ends_text(duration, ends)}")
    return Train("pitt", pulse, rest, until, max_pulses, s)


# ---------------------------------------------------------------- repeat
def _repeat_items(s: str, start: int, end: int) -> list[tuple[str, int]]:
    """Items of s[start:end]: split at ';', then at ',' except inside a GITT/PITT sentence."""
    items = []
    pos = start
    for chunk in re.split(r"(;)", s[start:end]):
        if chunk == ";":
            pos += 1
            continue
        cpos = pos
        pieces = chunk.split(",")
        k = 0
        while k < len(pieces):
            piece = pieces[k]
            if _is_train(piece):
                piece = ",".join(pieces[k:])
                k = len(pieces)
            else:
                k += 1
            lead = cpos + (len(piece) - len(piece.lstrip()))
            items.append((piece.strip(), lead))
            cpos += len(piece) + 1
        pos += len(chunk)
    return items


def _train_hint(text: str) -> str:
    """A hint for a train in brackets that swallowed the steps after it (they need a ';')."""
    if not _is_train(text):
        return ""
    steps = []
    for part, _ in _parts(text, 0)[1:]:
        try:
            parse_step(part)
        except ProtocolError:
            continue
        steps.append(part)
    if not steps:
        return ""
    return (f"\nif '{steps[-1]}' is a step of its own: a GITT or PITT sentence in brackets runs to the next ';', "
            "so separate it from the steps after it with ';'")


def _parse_repeat(s: str) -> list:
    m = re.match(r"repeat\s+([^\s:\[\]]+)", s, re.I)
    if not m:
        raise _fail(s, len("repeat"), "expected the number of repetitions after 'Repeat'", _REPEAT_EXAMPLE)
    if not re.fullmatch(r"\d+", m.group(1)) or int(m.group(1)) < 1:
        raise _fail(s, m.start(1), f"the number of repetitions must be a whole number ≥ 1, got '{m.group(1)}'",
                    _REPEAT_EXAMPLE)
    n = int(m.group(1))
    if n > MAX_REPEATS:
        raise _fail(s, m.start(1), f"{n} repetitions is more than the {MAX_REPEATS} a protocol may hold (a long "
                                   "ageing test is a few thousand cycles); split it into runs that start from the "
                                   "last state", _REPEAT_EXAMPLE)
    b = re.compile(r"\s*:\s*\[").match(s, m.end())
    if not b:
        raise _fail(s, m.end(), "expected ': [' after the number of repetitions", _REPEAT_EXAMPLE)
    if not s.endswith("]"):
        raise _fail(s, len(s), "expected ']' at the end of the Repeat block", _REPEAT_EXAMPLE)
    inner_start, inner_end = b.end(), len(s) - 1
    nested = re.compile(r"\[|\]|\brepeat\b", re.I).search(s, inner_start, inner_end)
    if nested and nested.group() == "]":
        raise _fail(s, nested.start(), "a ']' closes the Repeat block before its end; remove the extra ']' "
                                       "(one '[' opens the block, one ']' at the very end closes it)",
                    _REPEAT_EXAMPLE)
    if nested:
        raise _fail(s, nested.start(), "Repeat blocks do not nest; write the inner block out or repeat the outer "
                                       "one", _REPEAT_EXAMPLE)
    items = _repeat_items(s, inner_start, inner_end)
    parsed = []
    for i, (text, pos) in enumerate(items):
        if not text:
            raise _fail(s, pos, "empty step in the brackets (two separators in a row, or none inside)",
                        _REPEAT_EXAMPLE)
        try:
            parsed.append(parse_train(text) if _is_train(text) else parse_step(text))
        except ProtocolError as err:
            raise ProtocolError(
                f'in "{s}" (step {i + 1} in the brackets, position {pos}): {err}{_train_hint(text)}'
            ) from None
    return [replace(p, cycle=k) for k in range(n) for p in parsed]


def parse_protocol(protocol) -> list:
    """Parse a list of sentences (or a single sentence) into steps and trains.

    Parameters
    ----------
    protocol : str, Step, Train or sequence of them
        Ordinary step sentences, ``Repeat N: [...]`` blocks (expanded in
        place, every step tagged with its repetition in ``cycle``) and GITT
        or PITT sentences (kept as one :class:`Train` each).

    Returns
    -------
    list of Step or Train

    Raises
    ------
    ProtocolError
        For an empty protocol or any sentence that cannot be parsed.

    Examples
    --------
    >>> steps = parse_protocol(["Repeat 2: [Charge at C/20 until 4.3 V, Rest for 1 hour]"])
    >>> [(s.kind, s.cycle) for s in steps]
    [('charge', 0), ('rest', 0), ('charge', 1), ('rest', 1)]
    """
    if isinstance(protocol, (str, Step, Train)):
        protocol = [protocol]
    if isinstance(protocol, (set, frozenset, dict, bytes, bytearray)) or not isinstance(protocol, Iterable):
        # sets and dicts have no order; numbers, None and bytes are not sentences
        raise ProtocolError(
            f"a protocol is a sentence or a list of sentences in order, got {type(protocol).__name__} "
            f"{protocol!r:.80}; e.g. [{EXAMPLES[0]!r}, 'Rest for 1 hour']"
        )
    out: list = []
    for p in protocol:
        if isinstance(p, Train):
            out.append(p)
        elif isinstance(p, str) and _is_repeat(p):
            out.extend(_parse_repeat(p.strip()))
        elif isinstance(p, str) and _is_train(p):
            out.append(parse_train(p))
        else:
            out.append(parse_step(p))
    if not out:
        raise ProtocolError(f"the protocol is empty; give at least one step, e.g. {EXAMPLES[0]!r}")
    return out
