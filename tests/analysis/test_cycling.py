"""Cycling summaries: synthetic records with known answers, and the real Bio-Logic GCPL file."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from socscope.analysis.cycling import cycle_summary, dqdv, half_cycles
from socscope.cli.main import main
from socscope.errors import ParameterError
from socscope.io.cycler import _integrate, load_cycler

GCPL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cycler" / \
    "jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr"


def synthetic_record(n_cycles=3, i_cc=1e-3, q_chg=2e-3, q_dchg=1.8e-3, q_cv=0.2e-3, dt=10.0):
    """Charge CC then CV, rest, discharge CC, rest; capacities known exactly [A h]."""
    t, v, i = [], [], []
    now = 0.0

    def add(duration, current, voltage):
        nonlocal now
        for k in range(int(round(duration / dt))):
            t.append(now)
            i.append(current(k * dt) if callable(current) else current)
            v.append(voltage(k * dt) if callable(voltage) else voltage)
            now += dt

    for _ in range(n_cycles):
        t_cc = q_chg / i_cc * 3600
        add(t_cc, i_cc, lambda s, T=t_cc: 3.5 + 0.8 * s / T)
        tau = q_cv / i_cc * 3600  # exponential decay carrying q_cv in total
        add(10 * tau, lambda s: i_cc * np.exp(-s / tau), 4.3)
        add(600, 0.0, 4.2)
        t_d = q_dchg / i_cc * 3600
        add(t_d, -i_cc, lambda s, T=t_d: 4.1 - 1.1 * s / T)
        add(600, 0.0, 3.1)
    t, i = np.array(t), np.array(i)
    return pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": i, "step": 0, "cycle": 0,
                         "capacity_Ah": _integrate(t, i)})


def test_synthetic_cycles_recover_the_capacities():
    df = synthetic_record()
    cyc = cycle_summary(df, mass_g=0.01)
    assert len(cyc) == 3
    # the record is sampled every 10 s at 1 mA: where a half cycle starts and
    # where its CV part begins are known to within a few samples, each worth
    # 10 s × 1 mA = 2.8e-3 mAh; three samples bound every capacity below
    # (measured: CC part 2.0028–2.0041, total 2.1998–2.2012)
    sample = 10 * 1e-3 / 3.6
    assert_allclose(cyc.charge_cc_mAh, 2.0, rtol=0, atol=3 * sample)
    assert_allclose(cyc.charge_mAh, 2.2, rtol=0, atol=3 * sample)
    assert_allclose(cyc.charge_cv_mAh, 0.2, rtol=0, atol=3 * sample)
    assert_allclose(cyc.discharge_mAh, 1.8, rtol=0, atol=3 * sample)
    # a ratio of two capacities each within three samples (0.4 %): 1 % bounds it
    assert_allclose(cyc.coulombic_efficiency, 1.8 / 2.2, rtol=1e-2)
    # the same division the summary does (measured 0); 1e-15 allows one rounding
    assert_allclose(cyc.charge_mAh_g, cyc.charge_mAh / 0.01, rtol=1e-15)
    hc = half_cycles(df)
    assert list(hc.direction) == ["charge", "discharge"] * 3
    # rests are outside the half cycles: a charge ends where the current stops
    assert (df.current_A.iloc[hc.start.iloc[0]:hc.stop.iloc[0]] > 0).all()


def test_an_anode_record_opens_its_cycles_with_a_discharge():
    """Against Li an anode is lithiated (discharged) first; its efficiency is the charge it gives back
    over that discharge, and stays below 1 for a cell that loses Li."""
    df = synthetic_record(n_cycles=3, q_chg=2e-3, q_dchg=1.8e-3, q_cv=0.2e-3)
    anode = df.assign(current_A=-df.current_A, capacity_Ah=-df.capacity_Ah)  # the same cell, signs swapped
    cyc = cycle_summary(anode, first="discharge")
    # every cycle pairs a lithiation with the delithiation after it: 1.8 back of 2.2 in
    # (each capacity within three 10 s samples, 0.4 %: 1 % bounds the ratio, as above)
    assert_allclose(cyc.coulombic_efficiency, 1.8 / 2.2, rtol=1e-2)
    assert_allclose(cyc.coulombic_efficiency_cc, 1.8 / 2.2, rtol=1e-2)  # the delithiation has no CV part


def test_dqdv_of_a_linear_voltage_ramp_is_flat():
    df = synthetic_record(n_cycles=1)
    table = dqdv(df, dv_V=5e-3)
    d = table[table.direction == "discharge"]
    # discharge: 1.8 mAh over a 1.1 V linear ramp → 1.636 mAh/V everywhere
    # away from the ends of the window. Measured 5.8e-14: Savitzky–Golay reproduces
    # a line to round-off; 1e-12 leaves room for platform differences
    inner = d[(d.voltage_V < 4.0) & (d.voltage_V > 3.2)]
    assert_allclose(inner.dqdv_mAh_V, 1.8 / 1.1, rtol=1e-12)


def test_bad_inputs():
    with pytest.raises(ParameterError, match="voltage_V"):
        cycle_summary(pd.DataFrame({"time_s": [0, 1], "current_A": [0, 1]}))
    with pytest.raises(ParameterError, match="mass_g"):
        cycle_summary(synthetic_record(1), mass_g=-1)
    with pytest.raises(ParameterError, match="first"):
        cycle_summary(synthetic_record(1), first="sideways")
    # settings that ran to a result: window=0 meant no smoothing, rest_fraction=2 no half cycles
    with pytest.raises(ParameterError, match="window = 0 must be an integer >= 3"):
        dqdv(synthetic_record(1), window=0)
    with pytest.raises(ParameterError, match="rest_fraction = 2"):
        half_cycles(synthetic_record(1), rest_fraction=2)
    with pytest.raises(ParameterError, match="cv_window_V = -0.005 V must be finite and > 0"):
        cycle_summary(synthetic_record(1), cv_window_V=-5e-3)
    with pytest.raises(ParameterError, match="mass_g"):
        cycle_summary(synthetic_record(1), mass_g="8")
    with pytest.raises(ParameterError, match="expected a cycler record"):
        half_cycles(synthetic_record(1).to_numpy())
    # records that ran to wrong summaries: a NaN capacity (NaN half cycle), an infinite current
    # (no half cycle at all), a table in reverse (half cycles in reverse)
    rec = synthetic_record(1)
    for column, row, value, needle in (("capacity_Ah", 50, np.nan, "capacity_Ah of data row 51"),
                                       ("current_A", 10, np.inf, "current_A of data row 11")):
        bad = rec.copy()
        bad.loc[row, column] = value
        with pytest.raises(ParameterError, match=needle):
            cycle_summary(bad)
    with pytest.raises(ParameterError, match="time runs backwards"):
        half_cycles(rec.iloc[::-1].reset_index(drop=True))
    with pytest.raises(ParameterError, match="time runs backwards"):
        dqdv(rec.iloc[::-1].reset_index(drop=True))


@pytest.mark.skipif(not GCPL.is_file(), reason=f"shared instrument data not found at {GCPL}")
def test_real_gcpl_half_cycles_match_the_file():
    pytest.importorskip("galvani")
    df = load_cycler(GCPL)
    hc = half_cycles(df)
    # the file's own half-cycle counter: the same blocks, the same charges
    own = df.groupby("half cycle")["(Q-Qo)/mA.h"].agg(["first", "last"])
    own = own[own.index > 0] if len(own) > len(hc) else own
    file_caps = np.abs(own["last"] - own["first"]).to_numpy()[-len(hc):]
    ours = hc.capacity_Ah.to_numpy() * 1e3
    # ours adds the step into the first record of each half cycle: one
    # sample of 10 s at 0.0888 mA = 2.5e-4 mAh, 0.03 % of a half cycle
    assert_allclose(ours[1:], file_caps[1:], rtol=1e-3)
    cyc = cycle_summary(df)
    # measured 0.864 (first cycle) to 0.935: a coulombic efficiency above 1 would mean charge and
    # discharge mispaired or a sign error, one below 0.8 a half cycle cut short
    assert len(cyc) == 6 and cyc.coulombic_efficiency.between(0.8, 1.0).all()


@pytest.mark.skipif(not GCPL.is_file(), reason=f"shared instrument data not found at {GCPL}")
def test_cli_cycler_summary(tmp_path):
    pytest.importorskip("galvani")
    out = tmp_path / "summary"
    assert main(["cycler", "summary", str(GCPL), "--mass-mg", "3.2", "--out", str(out), "--quiet"]) == 0
    for name in ("cycles.csv", "half_cycles.csv", "dqdv.csv", "summary.json", "voltage_capacity.png", "dqdv.png"):
        assert (out / name).stat().st_size > 0
    cyc = pd.read_csv(out / "cycles.csv", index_col=0)
    # both columns read from the CSV (round-trip digits), the mass 3.2 mg → 3.2e-3 g: measured 0;
    # 1e-14 allows the unit conversion to round differently from the literal
    assert_allclose(cyc.charge_mAh_g, cyc.charge_mAh / 3.2e-3, rtol=1e-14)
    # refuses to overwrite without --overwrite
    assert main(["cycler", "summary", str(GCPL), "--out", str(out), "--quiet"]) == 2


def test_cli_cycler_summary_never_replaces_its_input(tmp_path, capsys):
    # a record in --out under the name of an output (cycles.csv) stays, even with --overwrite
    t = np.arange(0.0, 7200.0, 10.0)
    out = tmp_path / "out"
    out.mkdir()
    record = out / "cycles.csv"
    pd.DataFrame({"time_s": t, "voltage_V": 3.7 + t / 1e5,
                  "current_A": np.where(t < 3600, 1e-3, -1e-3)}).to_csv(record, index=False)
    before = record.read_bytes()
    assert main(["cycler", "summary", str(record), "--out", str(out), "--overwrite", "--quiet"]) == 2
    assert "is an input and would be replaced by the output cycles.csv" in capsys.readouterr().err
    assert record.read_bytes() == before and sorted(p.name for p in out.iterdir()) == ["cycles.csv"]


def with_impedance(df, at_s, *, amp_A, freqs_Hz=(10.0, 1.0, 0.1), periods=3, per_period=20):
    """``df`` with an impedance measurement inserted at ``at_s`` (in a rest): a current oscillating
    around zero, ``periods`` periods at each frequency, sampled ``per_period`` times a period."""
    k = int(np.searchsorted(df.time_s.to_numpy(), at_s))
    t_eis, i_eis = [], []
    now = 0.0
    for f in freqs_Hz:
        s = np.arange(periods * per_period) / (per_period * f)
        t_eis.append(now + s)
        i_eis.append(amp_A * np.sin(2 * np.pi * f * s + 0.3))  # phase 0.3: no sample exactly at zero
        now += periods / f
    t_eis, i_eis = np.concatenate(t_eis), np.concatenate(i_eis)
    before, after = df.iloc[:k], df.iloc[k:]
    start = before.time_s.iloc[-1] + 1.0
    eis = pd.DataFrame({"time_s": start + t_eis, "voltage_V": before.voltage_V.iloc[-1] + 0.01 * i_eis / amp_A,
                        "current_A": i_eis, "step": 0, "cycle": 0})
    late = after.assign(time_s=after.time_s + (eis.time_s.iloc[-1] + 1.0 - after.time_s.iloc[0]))
    out = pd.concat([before, eis, late], ignore_index=True)
    return out.assign(capacity_Ah=_integrate(out.time_s.to_numpy(), out.current_A.to_numpy()))


def test_impedance_blocks_are_no_half_cycles():
    """An impedance measurement in each rest: its blocks of one sign pass ~1e-5 of a half cycle's charge."""
    df = synthetic_record(n_cycles=2)
    plain = cycle_summary(df)
    t_rest = [df.time_s[(df.current_A == 0) & (df.voltage_V == v)].iloc[len(df) // 400] for v in (4.2, 3.1)]
    eis = df
    for at in sorted(t_rest, reverse=True):  # two measurements, the later inserted first
        # 0.1 mA (a tenth of the cycling current), the slowest half period 5 s: 9e-8 A h a block
        eis = with_impedance(eis, at, amp_A=1e-4)
    hc = half_cycles(eis)
    assert list(hc.direction) == ["charge", "discharge"] * 2
    # 3 frequencies × 3 periods × 2 signs = 18 blocks a measurement, two measurements, each block
    # of one sign (a sampled sine has no zero sample here)
    assert hc.attrs["left_out"] == 36 and "36 current block(s)" in hc.attrs["left_out_note"]
    cyc = cycle_summary(eis)
    # the impedance passes no net charge: the capacities are those of the record without it, to the
    # sampling of one block at the edges of the rest (at most 1e-4 A × 5 s = 1.4e-4 mAh)
    assert_allclose(cyc[["charge_mAh", "discharge_mAh"]], plain[["charge_mAh", "discharge_mAh"]], rtol=0, atol=2e-4)


def test_a_one_point_blip_is_no_half_cycle_and_ce_needs_a_counterpart():
    df = synthetic_record(n_cycles=2)
    # start the record at the rest after the first charge, with one record of charge current in it
    first_rest = int(np.flatnonzero((df.current_A == 0).to_numpy())[0])
    rec = df.iloc[first_rest:].reset_index(drop=True)
    rec.loc[5, "current_A"] = 1e-3
    rec["capacity_Ah"] = _integrate(rec.time_s.to_numpy(), rec.current_A.to_numpy())
    hc = half_cycles(rec)
    # the blip (10 s at 1 mA) was the "charge" of cycle 0, whose discharge made a CE of 650
    assert list(hc.direction) == ["discharge", "charge", "discharge"] and hc.attrs["left_out"] == 1
    cyc = cycle_summary(rec)
    assert len(cyc) == 1
    # the second cycle of synthetic_record: three samples bound each capacity (see above), so 1 %
    # bounds the ratio
    assert_allclose(cyc.coulombic_efficiency, 1.8 / 2.2, rtol=1e-2)
    # a charge with no discharge after it but a blip the instrument did not count (capacity unchanged):
    # its efficiency is unknown, not 0
    charge_only = df.iloc[:first_rest + 20].reset_index(drop=True)
    charge_only.loc[first_rest + 10, "current_A"] = -1e-3
    cyc = cycle_summary(charge_only)
    assert len(cyc) == 1 and np.isnan(cyc.coulombic_efficiency.iloc[0])
    assert np.isnan(cyc.coulombic_efficiency_cc.iloc[0]) and np.isnan(cyc.discharge_mAh.iloc[0])


def test_an_idle_record_with_current_noise_has_no_half_cycle():
    t = np.arange(500) * 120.0
    i = np.zeros(t.size)
    i[[90, 180, 270, 360]] = -1e-6  # single samples of 1 µA, the resolution of the channel
    df = pd.DataFrame({"time_s": t, "voltage_V": 3.68, "current_A": i, "capacity_Ah": _integrate(t, i)})
    hc = half_cycles(df)
    # they read as one 11-hour discharge (rests do not break a half cycle); each sample is a block left out
    assert hc.empty and hc.attrs["left_out"] == 4
    assert cycle_summary(df).empty


def test_cc_cv_split_does_not_depend_on_how_densely_each_part_is_logged():
    """CC at 1 mA logged every 60 s, CV logged every second: the CV part holds most of the records."""
    t_cc = np.arange(0.0, 7200.0, 60.0)  # 2 mA h
    tau = 1800.0  # a CV decay carrying 0.5 mA h in all (1 mA × 1800 s)
    t_cv = 7200.0 + np.arange(0.0, 10 * tau, 1.0)
    t = np.concatenate([t_cc, t_cv])
    i = np.concatenate([np.full(t_cc.size, 1e-3), 1e-3 * np.exp(-(t_cv - 7200.0) / tau)])
    v = np.concatenate([3.6 + 0.7 * t_cc / 7200.0, np.full(t_cv.size, 4.3)])
    df = pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": i, "capacity_Ah": _integrate(t, i)})
    hc = half_cycles(df)
    assert len(hc) == 1
    # the CV part starts with the first CV record: one CC interval (60 s × 1 mA = 0.017 mA h) bounds
    # where the split falls; the reference current was the median of the first half of the points
    # (all but 120 of them CV), which put the split 3.6 h into the CV part (CC read 2.36 mA h)
    assert_allclose(hc.cc_capacity_Ah * 1e3, 2.0, rtol=0, atol=0.02)
    assert_allclose(hc.cv_capacity_Ah * 1e3, 0.5, rtol=0, atol=0.02)
