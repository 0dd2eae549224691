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
