"""Experiment sentences -> :class:`Step` objects.

The sentences follow the convention PyBaMM users know::

    "Charge at C/3 for 1 hour"
    "Discharge at 70 mA/g until mean theta 0.95"
    "Charge at 1C for 20 minutes or until surface theta 0.2"
    "Rest for 30 minutes"
    "Hold surface theta at 0.995 for 2 hours"

Currents are a C-rate (``C/3``, ``2C``, ``0.5 C``), a specific current
(``70 mA/g``, ``0.07 A/g``) or a current (``2 nA``, ``1e-9 A``). A step ends
after its duration or when one of its ``until`` conditions is met, whichever
comes first. Conditions on the particle's state: ``mean theta X`` and
``surface theta X`` (``θ`` may be written for ``theta``). Voltage conditions
(``until 4.3 V``) and voltage holds are parsed here and need a model with
electrode kinetics to run.

Positive current is charge (delithiation of the cathode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ProtocolError

__all__ = ["Step", "Condition", "parse_step", "parse_protocol", "EXAMPLES"]

EXAMPLES = (
    "Charge at C/3 for 1 hour",
    "Discharge at 70 mA/g until mean theta 0.95",
    "Charge at 1C for 20 minutes or until surface theta 0.2",
    "Rest for 30 minutes",
    "Hold surface theta at 0.995 for 2 hours",
)

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TIME_UNITS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "day": 86400.0, "days": 86400.0,
}
_CURRENT_UNITS = {"a": 1.0, "ma": 1e-3, "ua": 1e-6, "µa": 1e-6, "na": 1e-9, "pa": 1e-12}
_SPECIFIC_UNITS = {"a/g": 1.0, "ma/g": 1e-3}


@dataclass(frozen=True)
class Condition:
    """A step termination: ``quantity`` reaching ``value``.

    Attributes
    ----------
    quantity : {"theta_mean", "theta_surface", "voltage", "current", "specific_current", "c_rate"}
    value : float
        Target in SI units (θ dimensionless, V, A, A/g) or as a C-rate.
    """

    quantity: str
    value: float


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
        Surface θ or voltage held (hold steps).
    sentence : str
        The text the step came from.
    """

    kind: str
    current_value: float | None = None
    current_unit: str | None = None
    duration: float | None = None
    until: tuple = field(default_factory=tuple)
    hold_value: float | None = None
    sentence: str = ""

    @property
    def sign(self) -> int:
        """+1 for charge, −1 for discharge, 0 otherwise."""
        return {"charge": 1, "discharge": -1}.get(self.kind, 0)


def _fail(sentence: str, pos: int, what: str) -> ProtocolError:
    pointer = " " * (pos + 4) + "^"  # under the quoted sentence: 3 spaces and a quote
    ex = "; ".join(f'"{e}"' for e in EXAMPLES[:4])
    # the first line is complete on its own (the command line shows only it)
    return ProtocolError(
        f"cannot understand step \"{sentence}\" at position {pos}: {what} "
        f"(a valid step: \"{EXAMPLES[0]}\")\n   \"{sentence}\"\n{pointer}\nmore examples: {ex}"
    )


def _parse_duration(sentence: str, text: str, pos: int) -> float:
    m = re.fullmatch(rf"\s*({_NUM})\s*([a-zA-Z]+)\s*", text)
    if not m:
        raise _fail(sentence, pos, f"expected a duration like '1 hour' or '20 minutes', got '{text.strip()}'")
    value = float(m.group(1))
    unit = m.group(2).lower()
    if unit not in _TIME_UNITS:
        raise _fail(sentence, pos + m.start(2), f"unknown time unit '{m.group(2)}' (use s, min, h or day)")
    seconds = value * _TIME_UNITS[unit]
    if not seconds > 0 or seconds != seconds:
        raise _fail(sentence, pos + m.start(1), f"duration must be > 0, got {m.group(1)} {m.group(2)}")
    return seconds


def _parse_current(sentence: str, text: str, pos: int) -> tuple[float, str]:
    t = text.strip()
    lead = pos + (len(text) - len(text.lstrip()))
    m = re.fullmatch(r"C\s*/\s*(" + _NUM + r")", t)
    if m:
        den = float(m.group(1))
        if not den > 0:
            raise _fail(sentence, lead, f"C-rate C/{m.group(1)} must have a positive divisor")
        return 1.0 / den, "C"
    m = re.fullmatch(r"(" + _NUM + r")\s*C", t)
    if m:
        val = float(m.group(1))
        if not val > 0:
            raise _fail(sentence, lead, f"C-rate must be > 0, got {m.group(1)}C (use 'Rest' for zero current)")
        return val, "C"
    m = re.fullmatch(r"(" + _NUM + r")\s*([a-zA-Zµ/]+)", t)
    if m:
        val = float(m.group(1))
        unit = m.group(2).lower()
        if unit in _SPECIFIC_UNITS or unit in _CURRENT_UNITS:
            if not val > 0:
                raise _fail(sentence, lead, f"current must be > 0, got {t} (the verb gives the sign)")
            if unit in _SPECIFIC_UNITS:
                return val * _SPECIFIC_UNITS[unit], "A/g"
            return val * _CURRENT_UNITS[unit], "A"
        raise _fail(sentence, lead + m.start(2), f"unknown current unit '{m.group(2)}' (use C-rate, A, mA, µA, nA, A/g or mA/g)")
    raise _fail(sentence, lead, f"expected a current like 'C/3', '1C', '70 mA/g' or '2 nA', got '{t}'")


def _parse_condition(sentence: str, text: str, pos: int) -> Condition:
    t = text.strip().replace("θ", "theta")
    lead = pos + (len(text) - len(text.lstrip()))
    m = re.fullmatch(r"(mean|surface|average)\s*(?:theta|occupancy)\s*(?:=|<|>|<=|>=|of|reaches)?\s*(" + _NUM + r")", t, re.I)
    if m:
        value = float(m.group(2))
        if not 0.0 < value < 1.0:
            raise _fail(sentence, lead + m.start(2), f"θ target {m.group(2)} must lie in (0, 1)")
        q = "theta_surface" if m.group(1).lower() == "surface" else "theta_mean"
        return Condition(q, value)
    m = re.fullmatch(r"(" + _NUM + r")\s*(m?V)", t)
    if m:
        scale = 1e-3 if m.group(2) == "mV" else 1.0
        return Condition("voltage", float(m.group(1)) * scale)
    m = re.fullmatch(r"(" + _NUM + r")\s*([a-zA-Zµ/]+)", t)
    if m and m.group(2).lower() in _CURRENT_UNITS:
        return Condition("current", float(m.group(1)) * _CURRENT_UNITS[m.group(2).lower()])
    if m and m.group(2).lower() in _SPECIFIC_UNITS:
        return Condition("specific_current", float(m.group(1)) * _SPECIFIC_UNITS[m.group(2).lower()])
    if m and m.group(2) == "C":
        return Condition("c_rate", float(m.group(1)))
    m = re.fullmatch(r"C\s*/\s*(" + _NUM + r")", t)
    if m and float(m.group(1)) > 0:
        return Condition("c_rate", 1.0 / float(m.group(1)))
    raise _fail(sentence, lead, f"expected a condition like 'mean theta 0.5', 'surface theta 0.995' or '4.3 V', got '{text.strip()}'")


def _conditions(sentence: str, text: str, pos: int) -> tuple:
    """Parse 'A or B or C', each part with its own position in the sentence."""
    conds = []
    start = 0
    for sep in list(re.finditer(r"\s+or\s+", text)) + [None]:
        end = sep.start() if sep is not None else len(text)
        conds.append(_parse_condition(sentence, text[start:end], pos + start))
        if sep is not None:
            start = sep.end()
    return tuple(conds)


def _split_ends(sentence: str, rest: str, pos: int):
    """Split '... for X or until Y' into a duration and conditions."""
    m = re.match(r"\s*for\s+(.*?)(?:\s+or\s+until\s+(.*))?$", rest, re.I)
    if m:
        duration = _parse_duration(sentence, m.group(1), pos + m.start(1))
        conds = _conditions(sentence, m.group(2), pos + m.start(2)) if m.group(2) else ()
        return duration, conds
    m = re.match(r"\s*until\s+(.*)$", rest, re.I)
    if m:
        return None, _conditions(sentence, m.group(1), pos + m.start(1))
    raise _fail(sentence, pos, "expected 'for <duration>' or 'until <condition>'")


def parse_step(sentence) -> Step:
    """Parse one experiment sentence.

    Parameters
    ----------
    sentence : str or Step
        A :class:`Step` is returned unchanged.

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
    """
    if isinstance(sentence, Step):
        return sentence
    if not isinstance(sentence, str):
        raise ProtocolError(f"a protocol step must be a sentence (str), got {type(sentence).__name__}: {sentence!r}")
    s = sentence.strip()
    if not s:
        raise ProtocolError(f"empty protocol step; valid examples: {EXAMPLES[0]!r}, {EXAMPLES[3]!r}")
    m = re.match(r"(charge|discharge)\s+at\s+(.+?)(\s+(?:for|until)\s+.*)$", s, re.I)
    if m:
        kind = m.group(1).lower()
        value, unit = _parse_current(s, m.group(2), m.start(2))
        duration, conds = _split_ends(s, m.group(3), m.start(3))
        return Step(kind, value, unit, duration, conds, sentence=s)
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
        return Step("rest", duration=duration, until=conds, sentence=s)
    m = re.match(r"hold\s+surface\s+(?:theta|θ)\s+at\s+(" + _NUM + r")(\s+.*)$", s, re.I)
    if m:
        value = float(m.group(1))
        if not 0.0 < value < 1.0:
            raise _fail(s, m.start(1), f"held θ {m.group(1)} must lie in (0, 1)")
        duration, conds = _split_ends(s, m.group(2), m.start(2))
        return Step("hold_theta", duration=duration, until=conds, hold_value=value, sentence=s)
    m = re.match(r"hold\s+at\s+(" + _NUM + r")\s*(m?V)(\s+.*)$", s, re.I)
    if m:
        value = float(m.group(1)) * (1e-3 if m.group(2) == "mV" else 1.0)
        duration, conds = _split_ends(s, m.group(3), m.start(3))
        return Step("hold_voltage", duration=duration, until=conds, hold_value=value, sentence=s)
    word = s.split()[0]
    raise _fail(s, 0, f"unknown step '{word}' (steps start with Charge, Discharge, Rest or Hold)")


def parse_protocol(protocol) -> list[Step]:
    """Parse a list of sentences (or a single sentence) into steps.

    Raises
    ------
    ProtocolError
        For an empty protocol or any step that cannot be parsed.
    """
    if isinstance(protocol, (str, Step)):
        protocol = [protocol]
    steps = [parse_step(p) for p in protocol]
    if not steps:
        raise ProtocolError(f"the protocol is empty; give at least one step, e.g. {EXAMPLES[0]!r}")
    return steps
