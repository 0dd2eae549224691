"""Capacity conditions, condition checks per step kind, Repeat blocks, GITT and PITT trains."""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest

from socscope.errors import ProtocolError
from socscope.protocols import (
    EXAMPLES,
    MAH_PER_G,
    Condition,
    Step,
    Train,
    parse_protocol,
    parse_step,
    parse_train,
)

PITT = "PITT: steps of 10 mV, each for 1 hour or until C/100, until 4.3 V"


def error_of(parse, sentence):
    with pytest.raises(ProtocolError) as info:
        parse(sentence)
    return str(info.value)


def position_of(msg):
    m = re.search(r"at position (\d+)", msg)
    assert m, msg
    return int(m.group(1))


def check_error(parse, sentence, pos, *phrases):
    """The message quotes the sentence, gives the position, a parseable example and the reasons."""
    msg = error_of(parse, sentence)
    first = msg.splitlines()[0]
    assert f'"{sentence}"' in first, msg
    assert position_of(first) == pos, msg
    example = re.search(r'a valid step: "([^"]+)"', first)
    assert example, msg
    assert parse_protocol(example.group(1))  # the example given is itself valid
    for phrase in phrases:
        assert phrase in msg, (phrase, msg)
    return msg


# ------------------------------------------------------------ capacity condition
@pytest.mark.parametrize(
    "text, c_per_kg",
    [
        ("100 mAh/g", 360_000.0),
        ("100mAh/g", 360_000.0),
        ("100 mah/g", 360_000.0),  # the base letters take either case, the prefix not (below)
        ("0.1 Ah/g", 360_000.0),
        ("1 ah/g", 3_600_000.0),
        ("2.5e1 mAh/g", 90_000.0),
    ],
)
def test_capacity_condition_in_coulomb_per_kg(text, c_per_kg):
    s = parse_step(f"Charge at C/3 until {text}")
    assert len(s.until) == 1
    assert s.until[0].quantity == "specific_capacity"
    assert s.until[0].value == pytest.approx(c_per_kg, rel=1e-15)


def test_capacity_unit_constant():
    assert MAH_PER_G == 3600.0  # 1 mAh/g = 3.6 C/g = 3600 C/kg


def test_capacity_with_other_ends():
    s = parse_step("Discharge at 20 mA/g for 10 hours or until 3.0 V or 150 mAh/g")
    assert s.duration == 36_000.0
    assert s.until == (Condition("voltage", 3.0), Condition("specific_capacity", 540_000.0))
    s = parse_step("Hold at 4.3 V until C/50 or 5 mAh/g")
    assert s.until == (Condition("c_rate", 0.02), Condition("specific_capacity", 18_000.0))
    s = parse_step("Hold surface theta at 0.2 until 5 mAh/g")
    assert s.until == (Condition("specific_capacity", 18_000.0),)
    # as an end reason the capacity reads in the sentence's unit, the others as stored
    assert [c.label for c in parse_step("Hold at 4.3 V until C/50 or 5 mAh/g").until] == [
        "c_rate=0.02", "specific_capacity=5 mAh/g"]


@pytest.mark.parametrize("text", ["0 mAh/g", "-5 mAh/g", "1e999 mAh/g"])
def test_capacity_must_be_positive_and_finite(text):
    sentence = f"Charge at 1C until {text}"
    check_error(parse_step, sentence, sentence.index(text), "capacity", "> 0")


# ------------------------------------------------------------ conditions per step kind
#: what each condition text means, in SI units (A, A/g, C/kg)
MEANING = {
    "mean theta 0.5": ("theta_mean", 0.5),
    "surface theta 0.2": ("theta_surface", 0.2),
    "4.3 V": ("voltage", 4.3),
    "3.0 V": ("voltage", 3.0),
    "4.0 V": ("voltage", 4.0),
    "100 mAh/g": ("specific_capacity", 360_000.0),
    "2 nA": ("current", 2e-9),
    "5 mA/g": ("specific_current", 0.005),
    "C/50": ("c_rate", 0.02),
}
ACCEPTED = {
    "Charge at 1C until": ["mean theta 0.5", "surface theta 0.2", "4.3 V", "100 mAh/g"],
    "Discharge at 1C until": ["mean theta 0.5", "surface theta 0.2", "3.0 V", "100 mAh/g"],
    "Rest for 1 hour or until": ["mean theta 0.5", "surface theta 0.2", "4.0 V"],
    "Hold at 4.2 V until": ["2 nA", "5 mA/g", "C/50", "mean theta 0.5", "100 mAh/g"],
    "Hold surface theta at 0.2 until": ["2 nA", "5 mA/g", "C/50", "mean theta 0.5", "100 mAh/g"],
}


@pytest.mark.parametrize("head, cond", [(h, c) for h, cs in ACCEPTED.items() for c in cs])
def test_accepted_conditions(head, cond):
    s = parse_step(f"{head} {cond}")
    assert len(s.until) == 1
    quantity, value = MEANING[cond]
    assert s.until[0].quantity == quantity
    # a decimal literal times a unit factor: one rounding (measured 0)
    assert s.until[0].value == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(
    "sentence, bad, phrase",
    [
        ("Charge at C/3 until C/50", "C/50", "current of a constant-current step does not change"),
        ("Charge at C/3 until 0.05C", "0.05C", "current of a constant-current step does not change"),
        ("Discharge at 1C for 1 hour or until 5 mA/g", "5 mA/g", "current of a constant-current step does not change"),
        ("Charge at 1C until 4.3 V or 2 nA", "2 nA", "'Charge at C/3 until 4.3 V'"),
        ("Rest for 1 hour or until 2 nA", "2 nA", "no current flows during a rest"),
        ("Rest for 1 hour or until C/50", "C/50", "no current flows during a rest"),
        ("Rest for 1 hour or until 10 mAh/g", "10 mAh/g", "no charge passes during a rest"),
        ("Hold at 4.2 V until 4.1 V", "4.1 V", "the voltage is held"),
        ("Hold at 4.2 V for 1 hour or until C/50 or 4100 mV", "4100 mV", "the voltage is held"),
        ("Hold at 4.2 V until surface theta 0.2", "surface theta 0.2", "surface θ"),
        ("Hold surface theta at 0.9 until surface theta 0.95", "surface theta 0.95", "the surface θ is held"),
        ("Hold surface theta at 0.9 until 4 V", "4 V", "not on the voltage"),
    ],
)
def test_rejected_conditions_point_at_the_condition(sentence, bad, phrase):
    check_error(parse_step, sentence, sentence.rindex(bad), phrase, "e.g.")


@pytest.mark.parametrize(
    "sentence, bad",
    [
        ("Hold at 12 V for 1 hour", "12"),
        ("Hold at 0 V for 1 hour", "0"),
        ("Hold at -1 V for 1 hour", "-1"),
        ("Hold at 0 mV for 1 hour", "0"),
        ("Hold at 1e999 V for 1 hour", "1e999"),
    ],
)
def test_held_voltage_range(sentence, bad):
    check_error(parse_step, sentence, sentence.index(bad), "(0, 10] V")


def test_held_voltage_limits_are_inclusive_of_10_V():
    assert parse_step("Hold at 10 V for 1 hour").hold_value == 10.0
    assert parse_step("Hold at 1 mV for 1 hour").hold_value == pytest.approx(1e-3, rel=1e-15)  # 1 × 1e-3 (measured 0)


@pytest.mark.parametrize("text", ["11 V", "0 V", "-3 V", "10001 mV"])
def test_voltage_condition_range(text):
    sentence = f"Charge at 1C until {text}"
    check_error(parse_step, sentence, sentence.index(text), "(0, 10] V")


@pytest.mark.parametrize("text", ["0 mA", "0 mA/g", "0C"])
def test_current_conditions_must_be_positive(text):
    sentence = f"Hold at 4.2 V until {text}"
    check_error(parse_step, sentence, sentence.index(text), "> 0")


# ------------------------------------------------------------ Step.cycle
def test_cycle_is_the_last_field_and_defaults_to_none():
    names = [f.name for f in dataclasses.fields(Step)]
    assert names[-1] == "cycle"
    assert names[:-1] == ["kind", "current_value", "current_unit", "duration", "until", "hold_value", "sentence"]
    s = Step("charge", 1.0, "C", 60.0, (), None, "by hand")  # positional construction still works
    assert s.cycle is None
    assert parse_step("Rest for 1 hour").cycle is None


# ------------------------------------------------------------ Repeat
def test_repeat_example():
    steps = parse_protocol(["Repeat 3: [Charge at C/20 until 4.3 V, Discharge at C/20 until 2.5 V]"])
    assert len(steps) == 6
    assert [s.kind for s in steps] == ["charge", "discharge"] * 3
    assert [s.cycle for s in steps] == [0, 0, 1, 1, 2, 2]
    assert [s.sentence for s in steps] == ["Charge at C/20 until 4.3 V", "Discharge at C/20 until 2.5 V"] * 3
    assert steps[0].until == (Condition("voltage", 4.3),)
    assert steps[5].until == (Condition("voltage", 2.5),)
    assert steps[3].current_value == pytest.approx(0.05, rel=1e-15)  # C/20 = 1/20: one rounding (measured 0)


def test_repeat_mixed_with_plain_steps():
    steps = parse_protocol(["Rest for 1 hour", "repeat 2 : [ Charge at 1C for 1 minute ; Rest for 2 minutes ]",
                            "Discharge at 1C until 3.0 V"])
    assert [(s.kind, s.cycle, s.duration) for s in steps] == [
        ("rest", None, 3600.0), ("charge", 0, 60.0), ("rest", 0, 120.0), ("charge", 1, 60.0), ("rest", 1, 120.0),
        ("discharge", None, None),
    ]
    assert steps[1].sentence == "Charge at 1C for 1 minute"


def test_repeat_once_and_a_single_sentence():
    steps = parse_protocol("Repeat 1: [Rest for 1 hour]")
    assert steps == [Step("rest", duration=3600.0, sentence="Rest for 1 hour", cycle=0)]


def test_repeat_with_trains_separated_by_semicolons():
    items = parse_protocol(
        "Repeat 2: [Charge at C/2 until 4.2 V, GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V; "
        "Discharge at C/10 until 3.0 V]"
    )
    assert [(type(i).__name__, i.kind, i.cycle) for i in items] == [
        ("Step", "charge", 0), ("Train", "gitt", 0), ("Step", "discharge", 0),
        ("Step", "charge", 1), ("Train", "gitt", 1), ("Step", "discharge", 1),
    ]
    train = items[4]
    assert train.sentence == "GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V"
    assert train.until == (Condition("voltage", 4.3),)
    # the pulses and rests of a repeated train carry its repetition index
    assert train.pulse_step(0).cycle == 1
    assert train.rest_step(0).cycle == 1


@pytest.mark.parametrize(
    "sentence, bad, phrase",
    [
        ("Repeat 2.5: [Rest for 1 hour]", "2.5", "whole number ≥ 1"),
        ("Repeat 0: [Rest for 1 hour]", "0", "whole number ≥ 1"),
        ("Repeat -1: [Rest for 1 hour]", "-1", "whole number ≥ 1"),
        ("Repeat three: [Rest for 1 hour]", "three", "whole number ≥ 1"),
        ("Repeat 2: [Rest for 1 hour, Repeat 2: [Rest for 1 hour]]", "Repeat 2: [Rest for 1 hour]]",
         "do not nest"),
        ("Repeat 2: [Rest for 1 hour]]", "]]", "closes the Repeat block before its end"),
        ("Repeat 2 [Rest for 1 hour]", " [Rest", "': ['"),  # just after the number
        ("Repeat 2: Rest for 1 hour", ": Rest", "': ['"),
        ("Repeat 2: [Rest for 1 hour, , Rest for 2 hours]", ", Rest for 2", "empty step"),
        ("Repeat 2: []", "]", "empty step"),
        ("Repeat: [Rest for 1 hour]", ": [", "number of repetitions"),
        ("Repeat 10001: [Rest for 1 hour]", "10001", "more than the 10000 a protocol may hold"),
    ],
)
def test_repeat_errors(sentence, bad, phrase):
    # the position of the offending text (an empty step: the separator that ends it)
    pos = sentence.rindex(bad) if bad.startswith(("Repeat", "]")) else sentence.index(bad)
    check_error(parse_protocol, sentence, pos, phrase)


def test_repeat_without_closing_bracket():
    sentence = "Repeat 2: [Rest for 1 hour"
    check_error(parse_protocol, sentence, len(sentence), "']'")


def test_repeat_error_inside_the_brackets_names_both_sentences():
    outer = "Repeat 2: [Rest for 1 hour, Charge at 0C for 1 hour]"
    msg = error_of(parse_protocol, outer)
    assert outer in msg
    assert "step 2 in the brackets" in msg
    assert f"position {outer.index('Charge')}" in msg
    assert '"Charge at 0C for 1 hour" at position 10' in msg  # the inner sentence and its own position
    assert "0C" in msg


def test_comma_separated_train_in_repeat_swallows_the_rest():
    # a train runs to the next ';', so a step after it needs a ';'
    sentence = "Repeat 2: [GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V, Rest for 1 hour]"
    msg = error_of(parse_protocol, sentence)
    assert "a second 'rest' part" in msg
    assert "if 'Rest for 1 hour' is a step of its own" in msg and "';'" in msg


# ------------------------------------------------------------ parse_step refuses blocks and trains
@pytest.mark.parametrize(
    "sentence", [EXAMPLES[5], EXAMPLES[6], PITT, "gitt: 15 minutes at C/20, rest 4 hours, until 4.3 V"]
)
def test_parse_step_points_to_parse_protocol(sentence):
    check_error(parse_step, sentence, 0, "parse_protocol")


def test_parse_step_refuses_a_train_object():
    with pytest.raises(ProtocolError, match="parse_protocol"):
        parse_step(parse_train(EXAMPLES[5]))


def test_train_objects_pass_through():
    t = parse_train(EXAMPLES[5])
    assert parse_protocol(t) == [t]
    assert parse_protocol([t, "Rest for 1 hour"])[0] is t
    assert parse_train(t) is t


# ------------------------------------------------------------ GITT
@pytest.mark.parametrize(
    "sentence, kind, value, unit, pulse_s, rest_s, until, max_pulses, pulse_sentence, rest_sentence",
    [
        ("GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V", "charge", 0.05, "C", 900.0, 14400.0,
         (Condition("voltage", 4.3),), 1000, "Charge at C/20 for 15 minutes", "Rest for 4 hours"),
        ("GITT: charge 15 minutes at C/20, rest 4 hours, until 4.3 V", "charge", 0.05, "C", 900.0, 14400.0,
         (Condition("voltage", 4.3),), 1000, "Charge at C/20 for 15 minutes", "Rest for 4 hours"),
        ("GITT: discharge 10 minutes at 20 mA/g, rest for 2 hours, until 3.0 V or mean theta 0.95", "discharge",
         0.02, "A/g", 600.0, 7200.0, (Condition("voltage", 3.0), Condition("theta_mean", 0.95)), 1000,
         "Discharge at 20 mA/g for 10 minutes", "Rest for 2 hours"),
        ("GITT: charge for 15 minutes at C/20, rest 4 hours, until 4.3 V, max 40 pulses", "charge", 0.05, "C",
         900.0, 14400.0, (Condition("voltage", 4.3),), 40, "Charge at C/20 for 15 minutes", "Rest for 4 hours"),
        ("gitt : Charge at 2 nA for 30 s , until surface theta 0.1 or 150 mAh/g , REST 1 h, Max 7 Pulses",
         "charge", 2e-9, "A", 30.0, 3600.0,
         (Condition("theta_surface", 0.1), Condition("specific_capacity", 540_000.0)), 7,
         "Charge at 2 nA for 30 seconds", "Rest for 1 hour"),
    ],
)
def test_gitt_forms(sentence, kind, value, unit, pulse_s, rest_s, until, max_pulses, pulse_sentence,
                    rest_sentence):
    (t,) = parse_protocol(sentence)
    # the whole train, written out: 1/20, 20 × 1e-3 and 2 × 1e-9 round to the literals (measured
    # equal), so the pulse current is compared exactly too
    assert t == Train("gitt", Step(kind, value, unit, pulse_s, (), None, pulse_sentence),
                      Step("rest", duration=rest_s, sentence=rest_sentence), until,
                      max_pulses=max_pulses, sentence=sentence.strip())
    assert t.cycle is None
    assert t.sign == (1 if kind == "charge" else -1)
    assert t.step_size is None


def test_gitt_pulse_and_rest_steps():
    t = parse_train("GITT: discharge 10 minutes at 20 mA/g, rest for 2 hours, until 3.0 V or mean theta 0.95")
    p = t.pulse_step(3)
    assert p == Step("discharge", 0.02, "A/g", 600.0, (Condition("voltage", 3.0), Condition("theta_mean", 0.95)),
                     sentence="GITT pulse 3: Discharge at 20 mA/g for 10 minutes")
    assert p.sign == -1
    r = t.rest_step(3)
    assert r == Step("rest", duration=7200.0, sentence="GITT rest 3: Rest for 2 hours")
    # the pulse sentence is itself a valid step (20 mA/g = 20 × 1e-3 A/g: one rounding, measured 0)
    assert parse_step(p.sentence.split(": ", 1)[1]).current_value == pytest.approx(0.02, rel=1e-15)
    assert t.pulse_step(0).sentence == "GITT pulse 0: Discharge at 20 mA/g for 10 minutes"


def test_gitt_capacity_counts_the_whole_train():
    t = parse_train("GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V or 150 mAh/g")
    assert t.pulse_step(0).until == (Condition("voltage", 4.3), Condition("specific_capacity", 540_000.0))
    left = t.pulse_step(5, passed=100 * MAH_PER_G).until
    assert left == (Condition("voltage", 4.3), Condition("specific_capacity", pytest.approx(50 * MAH_PER_G)))
    with pytest.raises(ProtocolError, match="already passed"):
        t.pulse_step(6, passed=150 * MAH_PER_G)
    with pytest.raises(ProtocolError, match="≥ 0"):
        t.pulse_step(0, passed=-1.0)


def test_gitt_pulse_indices():
    t = parse_train("GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V, max 3 pulses")
    assert t.pulse_step(2).sentence.startswith("GITT pulse 2:")
    with pytest.raises(IndexError, match=r"^pulse 3 of .*: the train has at most 3 pulses"):
        t.pulse_step(3)
    with pytest.raises(IndexError, match=r"^rest 3 of .*: the train has at most 3 pulses"):
        t.rest_step(3)
    with pytest.raises(IndexError, match="pulse indices start at 0, got -1"):
        t.pulse_step(-1)
    with pytest.raises(TypeError, match=r"a pulse index is an int, got float: 1\.0"):
        t.pulse_step(1.0)


@pytest.mark.parametrize(
    "sentence, bad, phrase",
    [
        ("GITT: 15 minutes at C/20, until 4.3 V", None, "needs a rest"),
        ("GITT: 15 minutes at C/20, rest 4 hours", None, "ends the train"),
        ("GITT: rest 4 hours, until 4.3 V", None, "current pulse"),
        ("GITT: 15 minutes at C/20, wait 4 hours, rest 4 hours, until 4.3 V", "wait 4 hours", "unknown part"),
        ("GITT 15 minutes at C/20, rest 4 hours, until 4.3 V", " 15 minutes", "':'"),  # just after GITT
        ("GITT: 15 minutes at C/20, rest 4 hours, until C/50", "C/50", "current of a GITT pulse does not change"),
        ("GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V, max 0 pulses", "0 pulses", "whole number ≥ 1"),
        ("GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V, max 2.5 pulses", "2.5", "whole number ≥ 1"),
        ("GITT: 15 minutes at C/20, rest 4 hours, until 4.3 V, max pulses", "max pulses", "max N pulses"),
        ("GITT: 15 minutes at C/20, rest 4 hours, rest 1 hour, until 4.3 V", "rest 1 hour", "second 'rest'"),
        ("GITT: 15 minutes at C/20,, rest 4 hours, until 4.3 V", ", rest 4", "empty part"),
        ("GITT: 15 fortnights at C/20, rest 4 hours, until 4.3 V", "fortnights", "time unit"),
        ("GITT: 15 minutes at 0C, rest 4 hours, until 4.3 V", "0C", "> 0"),
        ("GITT: 15 minutes at C/20, rest 4 parsecs, until 4.3 V", "parsecs", "time unit"),
        ("GITT: 15 minutes at C/20, rest, until 4.3 V", "rest", "rest's duration"),
        ("GITT: 15 minutes at C/20, rest 4 hours, until 11 V", "11 V", "(0, 10] V"),
        ("GITT: charge 15 minutes, rest 4 hours, until 4.3 V", "charge 15 minutes", "<duration> at <current>"),
    ],
)
def test_gitt_errors(sentence, bad, phrase):
    if bad is None:
        pos = len(sentence)
    elif bad.startswith(","):
        pos = sentence.index(bad)  # the separator that ends the empty part
    elif bad == "rest":
        pos = sentence.index("rest,") + 4
    else:
        pos = sentence.index(bad)
    check_error(parse_protocol, sentence, pos, phrase)


def test_gitt_error_pointer_lines_up():
    sentence = "GITT: 15 fortnights at C/20, rest 4 hours, until 4.3 V"
    lines = error_of(parse_protocol, sentence).splitlines()
    quoted = next(line for line in lines[1:] if sentence in line)
    caret = next(line for line in lines[1:] if line.strip() == "^")
    assert caret.index("^") - quoted.index(sentence) == sentence.index("fortnights")


# ------------------------------------------------------------ PITT
@pytest.mark.parametrize(
    "sentence, size, duration, ends, until, rest, max_pulses",
    [
        (PITT, 0.010, 3600.0, (Condition("c_rate", 0.01),), (Condition("voltage", 4.3),), None, 1000),
        ("PITT: steps of -10 mV, each until 5 mA/g, until 3.0 V", -0.010, None,
         (Condition("specific_current", 0.005),), (Condition("voltage", 3.0),), None, 1000),
        ("PITT: steps of 0.005 V, each 30 minutes, until 4.2 V or mean theta 0.3, rest 10 minutes, max 12 pulses",
         0.005, 1800.0, (), (Condition("voltage", 4.2), Condition("theta_mean", 0.3)), 600.0, 12),
        ("pitt: each for 2 h or until 1 nA or 3 mAh/g, until 100 mAh/g or 4.4 V, steps of +20mV", 0.020, 7200.0,
         (Condition("current", 1e-9), Condition("specific_capacity", 10_800.0)),
         (Condition("specific_capacity", 360_000.0), Condition("voltage", 4.4)), None, 1000),
    ],
)
def test_pitt_forms(sentence, size, duration, ends, until, rest, max_pulses):
    (t,) = parse_protocol(sentence)
    assert isinstance(t, Train) and t.kind == "pitt"
    assert t.pulse.kind == "hold_voltage"
    assert t.pulse.hold_value == pytest.approx(size, rel=1e-14)
    assert t.step_size == pytest.approx(size, rel=1e-14)  # the sentence's mV or V in V: one rounding (measured 0)
    assert t.sign == (1 if size > 0 else -1)
    assert t.pulse.duration == duration
    assert len(t.pulse.until) == len(ends)
    for got, want in zip(t.pulse.until, ends):
        assert got.quantity == want.quantity
        assert got.value == pytest.approx(want.value, rel=1e-14)
    assert t.until == until
    assert (t.rest.duration if t.rest else None) == rest
    assert t.max_pulses == max_pulses


def test_pitt_levels_end_exactly_at_the_cut_off():
    t = parse_train(PITT)
    levels = t.pitt_levels(4.0)
    assert len(levels) == 30
    assert levels[-1] == 4.3  # exactly the end voltage, not 4.0 + 30 × 0.01
    assert levels[0] == pytest.approx(4.01, abs=1e-12)
    assert all(b - a == pytest.approx(0.01, abs=1e-12) for a, b in itertools.pairwise(levels))
    # a start that is not a whole number of steps away: the last step is shortened
    levels = t.pitt_levels(4.005)
    assert len(levels) == 30
    assert levels[-2] == pytest.approx(4.295, abs=1e-12)
    assert levels[-1] == 4.3
    assert max(levels) == 4.3


def test_pitt_levels_downwards():
    t = parse_train("PITT: steps of -25 mV, each for 1 hour, until 3.0 V")
    levels = t.pitt_levels(3.1)
    assert levels == pytest.approx([3.075, 3.05, 3.025, 3.0], abs=1e-12)
    assert levels[-1] == 3.0
    assert t.sign == -1


def test_pitt_levels_capped_by_max_pulses():
    t = parse_train(PITT + ", max 5 pulses")
    assert t.pitt_levels(4.0) == pytest.approx([4.01, 4.02, 4.03, 4.04, 4.05], abs=1e-12)


def test_pitt_pulse_and_rest_steps():
    t = parse_train(PITT)
    p = t.pulse_step(3, start_voltage=3.69)
    assert p.kind == "hold_voltage"
    assert p.hold_value == pytest.approx(3.73, abs=1e-12)
    assert p.duration == 3600.0
    assert p.until == (Condition("c_rate", 0.01),)
    assert p.sentence == "PITT step 3: Hold at 3.730 V for 1 hour or until C/100"
    assert t.rest_step(3) is None
    last = t.pulse_step(29, 4.0)
    assert last.hold_value == 4.3
    with pytest.raises(IndexError):
        t.pulse_step(30, 4.0)

    t = parse_train("PITT: steps of -10 mV, each until 5 mA/g, until 3.0 V or 50 mAh/g, rest 10 minutes")
    p = t.pulse_step(0, 3.5, passed=20 * MAH_PER_G)
    assert p.hold_value == pytest.approx(3.49, abs=1e-12)
    assert p.duration is None
    # the train's capacity becomes what is left of it; the end voltage is not a condition of a hold
    assert p.until == (Condition("specific_current", 0.005),
                       Condition("specific_capacity", pytest.approx(30 * MAH_PER_G)))
    assert p.sentence == "PITT step 0: Hold at 3.490 V until 5 mA/g"
    assert t.rest_step(2) == Step("rest", duration=600.0, sentence="PITT rest 2: Rest for 10 minutes")


def test_pitt_needs_a_sensible_start_voltage():
    t = parse_train(PITT)
    with pytest.raises(ProtocolError, match="start"):
        t.pulse_step(0)
    with pytest.raises(ProtocolError, match="never reach the end voltage.*-10 mV"):
        t.pitt_levels(4.35)  # steps go up, the end lies below
    with pytest.raises(ProtocolError, match="starts at its end voltage"):
        t.pitt_levels(4.3)
    with pytest.raises(ProtocolError, match=r"\(0, 10\] V"):
        t.pitt_levels(float("nan"))
    with pytest.raises(ProtocolError, match="only a PITT"):
        parse_train(EXAMPLES[5]).pitt_levels(4.0)


@pytest.mark.parametrize(
    "sentence, bad, phrase",
    [
        ("PITT: steps of 10 mV, each for 1 hour", None, "needs its end voltage"),
        ("PITT: steps of 10 mV, each for 1 hour, until mean theta 0.5", "until mean", "needs its end voltage"),
        ("PITT: steps of 10 mV, each for 1 hour, until 4.3 V or 4.4 V", "until 4.3", "one end voltage"),
        ("PITT: steps of 0 mV, each for 1 hour, until 4.3 V", "0 mV", "must be between 0.01 mV and 1 V"),
        ("PITT: steps of 1e-6 mV, each for 5 minutes, until 3.9 V", "1e-6 mV", "must be between 0.01 mV"),
        ("PITT: steps of 2 V, each for 1 hour, until 4.3 V", "2 V", "and 1 V in magnitude"),
        ("PITT: steps of -1001 mV, each for 1 hour, until 3 V", "-1001", "and 1 V in magnitude"),
        ("PITT: steps of 10 mA, each for 1 hour, until 4.3 V", "steps of 10 mA", "'steps of 10 mV'"),
        ("PITT: steps of 10 mV, until 4.3 V", None, "needs an end"),
        ("PITT: each for 1 hour, until 4.3 V", None, "step size"),
        ("PITT: steps of 10 mV, each until 4.0 V, until 4.3 V", "4.0 V", "the voltage is held"),
        ("PITT: steps of 10 mV, each for 1 hour, until 4.3 V or surface theta 0.2", "surface theta",
         "pins the surface θ"),
        ("PITT: steps of 10 mV, each for 1 hour, until 4.3 V or C/50", "C/50", "'each ...'"),
        ("PITT: steps of 10 mV, each for 1 hour, until 4.3 V, charge 1 hour at C/3", "charge 1 hour",
         "unknown part"),
    ],
)
def test_pitt_errors(sentence, bad, phrase):
    pos = len(sentence) if bad is None else sentence.index(bad)
    check_error(parse_protocol, sentence, pos, phrase)


def test_train_validates_its_fields():
    pulse = Step("charge", 0.05, "C", 900.0)
    with pytest.raises(ProtocolError, match="'gitt' or 'pitt'"):
        Train("citt", pulse, None, ())
    with pytest.raises(ProtocolError, match="max_pulses"):
        Train("gitt", pulse, None, (), max_pulses=0)
    t = Train("gitt", pulse, Step("rest", duration=60.0, sentence="Rest for 1 minute"), (Condition("voltage", 4.3),))
    assert t.max_pulses == 1000
    assert t.pulse_step(0).until == (Condition("voltage", 4.3),)
