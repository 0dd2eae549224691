"""Experiment sentences -> Step objects: the examples, units, combined ends, errors."""

from __future__ import annotations

import re

import pytest

from socscope.errors import ProtocolError
from socscope.protocols import EXAMPLES, Condition, Step, Train, parse_protocol, parse_step


def test_every_example_parses():
    # five steps, one GITT train, then a Repeat of two steps three times
    assert len(EXAMPLES) == 7
    assert EXAMPLES[:4] == (
        "Charge at C/3 for 1 hour",
        "Discharge at 70 mA/g until mean theta 0.95",
        "Charge at 1C for 20 minutes or until surface theta 0.2",
        "Rest for 30 minutes",
    )
    assert EXAMPLES[5].startswith("GITT:") and EXAMPLES[6].startswith("Repeat ")
    items = parse_protocol(list(EXAMPLES))
    assert [s.kind for s in items] == ["charge", "discharge", "charge", "rest", "hold_theta", "gitt"] + [
        "charge", "discharge"] * 3
    assert [type(s) for s in items] == [Step] * 5 + [Train] + [Step] * 6
    assert [s.sentence for s in items[:6]] == list(EXAMPLES[:6])
    assert [s.cycle for s in items] == [None] * 6 + [0, 0, 1, 1, 2, 2]


def test_the_examples_mean_what_they_say():
    a, b, c, d, e = (parse_step(s) for s in EXAMPLES[:5])
    # C/3 is 1 / 3 computed once (measured equal); 1e-15 allows one more rounding
    assert (a.kind, a.current_value, a.current_unit, a.duration, a.until) == (
        "charge", pytest.approx(1 / 3, rel=1e-15), "C", 3600.0, ())
    assert a.sign == 1
    assert (b.kind, b.current_unit, b.duration) == ("discharge", "A/g", None)
    assert b.current_value == pytest.approx(0.070, rel=1e-15)  # 70 mA/g in A/g
    assert b.until == (Condition("theta_mean", 0.95),)
    assert b.sign == -1
    assert (c.current_value, c.current_unit, c.duration) == (1.0, "C", 1200.0)
    assert c.until == (Condition("theta_surface", 0.2),)
    assert (d.kind, d.duration, d.until, d.sign) == ("rest", 1800.0, (), 0)
    assert (e.kind, e.hold_value, e.duration) == ("hold_theta", 0.995, 7200.0)


@pytest.mark.parametrize(
    "text, value, unit",
    [
        ("C/3", 1 / 3, "C"),
        ("C / 20", 1 / 20, "C"),
        ("2C", 2.0, "C"),
        ("0.5 C", 0.5, "C"),
        ("1e-1C", 0.1, "C"),
        ("70 mA/g", 0.07, "A/g"),
        ("0.07 A/g", 0.07, "A/g"),
        ("2 nA", 2e-9, "A"),
        ("1.5 µA", 1.5e-6, "A"),
        ("1.5 uA", 1.5e-6, "A"),
        ("3 mA", 3e-3, "A"),
        ("4 pA", 4e-12, "A"),
        ("1e-9 A", 1e-9, "A"),
    ],
)
def test_currents(text, value, unit):
    s = parse_step(f"Charge at {text} for 1 hour")
    assert s.current_unit == unit
    assert s.current_value == pytest.approx(value, rel=1e-14)  # a unit factor: exact to an ulp or two


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("1 hour", 3600.0), ("2 hours", 7200.0), ("1.5 h", 5400.0), ("3 hr", 10800.0),
        ("20 minutes", 1200.0), ("1 minute", 60.0), ("5 min", 300.0), ("2 mins", 120.0),
        ("30 seconds", 30.0), ("1 second", 1.0), ("45 s", 45.0), ("10 sec", 10.0),
        ("1 day", 86400.0), ("1e2 s", 100.0), ("0.25 hours", 900.0),
    ],
)
def test_durations(text, seconds):
    assert parse_step(f"Rest for {text}").duration == pytest.approx(seconds, rel=1e-15)
    assert parse_step(f"Discharge at 1C for {text}").duration == pytest.approx(seconds, rel=1e-15)


def test_for_or_until():
    s = parse_step("Charge at C/2 for 2 hours or until mean theta 0.3 or surface theta 0.1")
    assert s.duration == 7200.0
    assert s.until == (Condition("theta_mean", 0.3), Condition("theta_surface", 0.1))
    s = parse_step("Rest for 1 hour or until surface θ 0.5")
    assert s.duration == 3600.0 and s.until == (Condition("theta_surface", 0.5),)


@pytest.mark.parametrize(
    "text, cond",
    [
        ("mean theta 0.5", Condition("theta_mean", 0.5)),
        ("average theta 0.5", Condition("theta_mean", 0.5)),
        ("mean θ 0.25", Condition("theta_mean", 0.25)),
        ("surface theta = 0.2", Condition("theta_surface", 0.2)),
        ("Surface Theta 0.2", Condition("theta_surface", 0.2)),
        ("mean occupancy 0.4", Condition("theta_mean", 0.4)),
        ("4.3 V", Condition("voltage", 4.3)),
        ("4300 mV", Condition("voltage", 4.3)),
    ],
)
def test_conditions(text, cond):
    s = parse_step(f"Charge at 1C until {text}")
    assert s.duration is None
    assert len(s.until) == 1
    assert s.until[0].quantity == cond.quantity
    assert s.until[0].value == pytest.approx(cond.value, rel=1e-15)


def test_case_and_whitespace_of_verbs():
    s = parse_step("  discharge AT 1C FOR 10 minutes ")
    assert s.kind == "discharge" and s.duration == 600.0
    assert parse_step("REST for 1 h").kind == "rest"


@pytest.mark.parametrize(
    "sentence, attribute, value",
    [
        ("Charge at c/3 for 1 hour", "current_value", 1 / 3),
        ("Discharge at 1c until 3.0 V", "current_value", 1.0),
        ("Charge at 2 ma for 1 hour", "current_value", 2e-3),
        ("Charge at 2 μA for 1 hour", "current_value", 2e-6),  # Greek mu as well as the micro sign
        ("Hold at 4300 mv for 1 hour", "hold_value", 4.3),  # was read as 4300 V before
        ("Charge at C/3 until 4.3 v", "until", (Condition("voltage", 4.3),)),
        ("Hold at 4.3 V until c/50", "until", (Condition("c_rate", 0.02),)),
        ("Hold at 4.3 V until 2 ma/g", "until", (Condition("specific_current", 2e-3),)),
    ],
)
def test_base_letters_and_c_rates_take_either_case(sentence, attribute, value):
    got = getattr(parse_step(sentence), attribute)
    if isinstance(value, tuple):
        assert got[0].quantity == value[0].quantity
        assert got[0].value == pytest.approx(value[0].value, rel=1e-15)  # a unit factor: one rounding
    else:
        assert got == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(
    "sentence, unit, meant",
    [
        ("Charge at 1 MA for 1 hour", "MA", "mA"),  # mega-ampere, not milli
        ("Hold at 4.3 V until 1 MA", "MA", "mA"),
        ("Hold at 4300 MV for 1 hour", "MV", "mV"),
        ("Charge at C/3 until 100 MAh/g", "MAh/g", "mAh/g"),
        ("Charge at 5 MA/g for 1 hour", "MA/g", "mA/g"),
        ("Charge at 1 NA for 1 hour", "NA", "nA"),
        ("Charge at 1 Pa for 1 hour", "Pa", "pA"),
        ("PITT: steps of 10 MV, each until C/100, until 4.3 V", "MV", "mV"),
    ],
)
def test_an_upper_case_prefix_is_refused_with_the_unit_meant(sentence, unit, meant):
    with pytest.raises(ProtocolError, match=f"unit '{re.escape(unit)}'.*write '{re.escape(meant)}'") as info:
        parse_protocol([sentence])
    assert position_of(str(info.value)) == sentence.index(unit, sentence.index(" ", 5))


@pytest.mark.parametrize(
    "sentence, words",
    [
        ("Rest 1 hour", "a rest needs 'for <duration>'"),
        ("Rest", "a rest needs 'for <duration>'"),
        ("Hold at 4.3 V", "a hold reads 'Hold at <voltage>"),
        ("Hold 4.3 V for 1 hour", "a hold reads 'Hold at <voltage>"),
    ],
)
def test_a_rest_or_hold_without_its_words_says_what_is_missing(sentence, words):
    assert words in error_of(sentence)


def test_voltage_hold():
    s = parse_step("Hold at 4.2 V for 2 hours")
    assert (s.kind, s.hold_value, s.duration) == ("hold_voltage", 4.2, 7200.0)
    s = parse_step("Hold at 3000 mV until C/50")
    assert s.hold_value == pytest.approx(3.0, rel=1e-15)  # 3000 × 1e-3: one rounding (measured 0)
    assert s.until == (Condition("c_rate", 0.02),)


def test_step_objects_pass_through_and_single_sentences_are_a_protocol():
    step = Step("rest", duration=5.0, sentence="custom")
    assert parse_step(step) is step
    assert parse_protocol(step) == [step]
    assert len(parse_protocol("Rest for 1 hour")) == 1


def test_current_condition_in_si_units():
    s = parse_step("Hold at 4.2 V until 50 mA")
    # Condition.value is documented as SI (A for currents)
    assert s.until == (Condition("current", 0.05),)


# ---------------------------------------------------------------- errors
def error_of(sentence):
    with pytest.raises(ProtocolError) as info:
        parse_step(sentence)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def position_of(msg):
    m = re.search(r"at position (\d+)", msg)
    assert m, msg
    return int(m.group(1))


def test_unknown_sentence_has_the_position_and_an_example():
    msg = error_of("Jump at 1C for 1 hour")
    assert position_of(msg) == 0
    assert "'Jump'" in msg
    assert any(ex in msg for ex in EXAMPLES)  # at least one valid sentence to copy


@pytest.mark.parametrize(
    "sentence, bad",
    [
        ("Charge at 0C for 1 hour", "0C"),
        ("Charge at C/0 for 1 hour", "C/0"),
        ("Charge at NaN C for 1 hour", "NaN C"),
        ("Charge at -1C for 1 hour", "-1"),
        ("Charge at 3 furlongs for 1 hour", "furlongs"),
        ("Charge at 0 mA/g for 1 hour", "0 mA/g"),
        ("Charge at 1C for 1 fortnight", "fortnight"),
        ("Charge at 1C for -5 minutes", "-5"),
        ("Charge at 1C for nan hours", "nan hours"),
        ("Charge at 1C until mean theta 1.5", "1.5"),
        ("Charge at 1C until mean theta 0", "0"),
        ("Charge at 1C until the cows come home", "the cows come home"),
        ("Hold surface theta at 1.2 for 1 hour", "1.2"),
        ("Charge at 1C", None),
        ("Charge 1C for 1 hour", None),
        ("Rest", None),
    ],
)
def test_errors_name_the_offending_text(sentence, bad):
    msg = error_of(sentence)
    assert sentence in msg  # the whole sentence is quoted
    pos = position_of(msg)
    assert 0 <= pos <= len(sentence)
    if bad is not None:
        assert bad in msg
        # the position points at (or just before) the offending text
        start = sentence.index(bad)
        assert start - 1 <= pos <= start + len(bad), (pos, start, msg)


def test_error_pointer_lines_up_with_the_position():
    sentence = "Charge at 1C for 1 fortnight"
    msg = error_of(sentence)
    lines = msg.splitlines()
    quoted = next(line for line in lines[1:] if sentence in line)
    caret = next(line for line in lines[1:] if line.strip() == "^")
    assert caret.index("^") - quoted.index(sentence) == sentence.index("fortnight")


def test_error_position_of_a_second_condition():
    sentence = "Charge at 1C for 1 hour or until mean theta 0.5 or surface theta 1.5"
    assert position_of(error_of(sentence)) == sentence.index("1.5")


def test_empty_and_non_string_protocols():
    with pytest.raises(ProtocolError, match="empty"):
        parse_step("   ")
    with pytest.raises(ProtocolError, match="empty"):
        parse_protocol([])
    with pytest.raises(ProtocolError, match="42"):
        parse_step(42)


@pytest.mark.parametrize("protocol, shown", [
    (None, "got NoneType None"),
    (5, "got int 5"),
    ({"Rest for 1 hour"}, "got set"),  # no order
    (b"Rest for 1 hour", "got bytes"),
])
def test_a_protocol_that_is_not_an_ordered_collection_of_sentences_is_refused(protocol, shown):
    with pytest.raises(ProtocolError, match="a protocol is a sentence or a list of sentences in order, " + shown):
        parse_protocol(protocol)
    # an ordered sequence of any kind is read in its order
    assert [s.kind for s in parse_protocol(("Rest for 1 hour", "Charge at C/3 for 1 hour"))] == ["rest", "charge"]


def test_steps_built_directly_are_checked_like_sentences():
    from socscope.protocols import Condition, Step

    cases = [
        (dict(kind="hold_theta", hold_value=1.5, duration=60.0), r"held surface θ, hold_value = 1.5, must lie in \(0, 1\)"),
        (dict(kind="charge", current_value=1.0, current_unit="C", duration=-600.0), "duration = -600.0 s must lie in"),
        (dict(kind="charge", current_value=float("nan"), current_unit="C", duration=60.0), "current_value = nan"),
        (dict(kind="charge", current_value=1.0, current_unit="mA", duration=60.0), "current_unit = 'mA'"),
        (dict(kind="charge", current_value=1.0, current_unit="C"), "needs a duration or an until condition"),
        (dict(kind="discharge", current_value=1.0, current_unit="C", until=(Condition("theta_mean", -0.5),)),
         r"theta_mean = -0.5 must be finite and in \(0, 1\)"),
        (dict(kind="rest", duration=60.0, until=(Condition("c_rate", 0.1),)), "cannot end on c_rate"),
        (dict(kind="boost", duration=60.0), "kind must be one of"),
    ]
    for kwargs, match in cases:
        # each had run: θ held at 1.5, a zero-length step with repeated time stamps, misleading errors
        with pytest.raises(ProtocolError, match=match):
            Step(sentence="x", **kwargs)
    for text in ("Charge at 1C for 1e-10 s", "Rest for 1e300 hours"):
        # the first failed with advice to lower the current, the second never ended
        with pytest.raises(ProtocolError, match=r"outside 0.001 s .. 1e\+09 s"):
            parse_protocol(text)


def test_a_pitt_with_tiny_steps_builds_only_the_levels_it_holds():
    from socscope.protocols import Condition, Step, Train

    pulse = Step("hold_voltage", duration=300.0, hold_value=1e-9, sentence="tiny")  # as a Train allows directly
    train = Train("pitt", pulse, None, (Condition("voltage", 3.9),), max_pulses=3, sentence="t")
    # 1e9 levels were built before the first three were kept (6 GB, then MemoryError)
    assert train.pitt_levels(3.8) == pytest.approx([3.8 + 1e-9, 3.8 + 2e-9, 3.8 + 3e-9], abs=1e-15)


def test_a_voltage_limit_may_wait_for_a_delay():
    s = parse_step("Charge at C/20 for 20 hours or until 4.3 V after 30 minutes")
    assert s.duration == 72000.0
    assert s.until == (Condition("voltage", 4.3, after=1800.0),)
    # a limit without a delay applies from the start
    assert parse_step("Charge at C/20 until 4.3 V").until[0].after == 0.0
    # the delay survives a round trip through the text of a condition (trains rebuild sentences)
    from socscope.protocols import _ends_text
    assert _ends_text(None, s.until) == "until 4.3 V after 30 minutes"


@pytest.mark.parametrize("sentence, where", [
    ("Charge at C/20 until mean theta 0.3 after 3 minutes", "only a voltage limit may wait"),
    ("Charge at C/20 until 4.3 V after soon", "expected a duration"),
    ("Charge at C/20 until 4.3 V after 0 minutes", "duration must be > 0"),
])
def test_a_delay_is_refused_where_it_means_nothing(sentence, where):
    with pytest.raises(ProtocolError, match=where):
        parse_step(sentence)


def test_a_directly_built_delay_is_checked():
    with pytest.raises(ProtocolError, match="only a voltage limit may wait"):
        Step("charge", 1.0, "C", until=(Condition("theta_mean", 0.3, after=10.0),))
    with pytest.raises(ProtocolError, match="after = -1"):
        Step("charge", 1.0, "C", until=(Condition("voltage", 4.3, after=-1.0),))
