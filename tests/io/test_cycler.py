"""Cycler readers: real instrument files (../shared/data/cycler, navani example data, MIT licence),
synthetic text exports, and bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from socscope.errors import FileFormatError
from socscope.io.cycler import INTEGRATED, SCHEMA, _integrate, detect_vendor, load_cycler

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cycler"
GCPL = DATA / "jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr"
MB = DATA / "00_test_04_MB_C01.mpr"
NDAX = DATA / "neware_test.ndax"


def needs(path: Path):
    """Skip unless this one shared instrument file is present (each file on its own)."""
    return pytest.mark.skipif(not path.is_file(),
                              reason=f"shared instrument file {path.name} not found at {path} "
                                     "(../shared/data/cycler beside the checkout)")


@needs(GCPL)
def test_biologic_gcpl_mpr():
    pytest.importorskip("galvani")
    df = load_cycler(GCPL)
    assert df.attrs["vendor"] == "biologic-mpr"
    assert list(df.columns[:6]) == list(SCHEMA)
    # the file's own counts: 46 102 points; its time column spans 456 309.6 s
    assert len(df) == 46102
    assert_allclose(df.time_s.iloc[-1], df["time/s"].iloc[-1] - df["time/s"].iloc[0], rtol=1e-12)
    assert_allclose(df.time_s.iloc[-1], 456309.586, rtol=1e-8)
    # original columns are kept under their own names
    assert {"Ewe/V", "(Q-Qo)/mA.h", "half cycle"} <= set(df.columns)
    # capacity: the file's (Q-Qo) column, in A h, the instrument's count
    assert df.attrs["capacity_source"] == "counted by the instrument"
    assert_allclose(df.capacity_Ah, (df["(Q-Qo)/mA.h"] - df["(Q-Qo)/mA.h"].iloc[0]) * 1e-3, rtol=1e-12)
    # the current (from the instrument's charge increments) integrates back
    # to the file's Q column: 0.1 % of the largest |Q| promised, 4e-6 measured
    q = _integrate(df.time_s.to_numpy(), df.current_A.to_numpy())
    assert np.abs(q - df.capacity_Ah).max() <= 1e-3 * np.abs(df.capacity_Ah).max()
    # sign convention: the current is positive while the voltage rises (charge)
    charging = df["half cycle"] == 2
    assert (df.current_A[charging] > 0).all() and df.voltage_V[charging].iloc[-1] > df.voltage_V[charging].iloc[0]
    # five cycles at C/24: 0.0888 mA, cycles 0..6 counted from half cycles
    assert_allclose(df.current_A[charging].median(), 8.88e-5, rtol=1e-3)
    assert df.cycle.max() == df["half cycle"].max() // 2


@needs(MB)
def test_biologic_modulo_bat_mpr_with_a_current_column():
    pytest.importorskip("galvani")
    df = load_cycler(MB)
    assert len(df) == 1501
    # the file's float32 mA, widened to float64 and scaled: the same product (measured 0; the
    # float32 product df["I/mA"] * 1e-3 would differ by 9e-8 from its own rounding)
    assert_allclose(df.current_A, df["I/mA"].to_numpy(float) * 1e-3, rtol=1e-15)
    q = _integrate(df.time_s.to_numpy(), df.current_A.to_numpy())
    # 1 ms sampling of a smooth current: the trapezoid agrees with the
    # instrument's Q to 0.1 % of its largest value (measured 5e-4)
    assert np.abs(q - df.capacity_Ah).max() <= 1e-3 * np.abs(df.capacity_Ah).max()


@needs(NDAX)
def test_neware_ndax():
    pytest.importorskip("NewareNDA")
    df = load_cycler(NDAX)
    assert df.attrs["vendor"] == "neware-ndax"
    assert len(df) == 1464
    # Neware restarts 'Time' at every step; the total time runs on without jumps
    assert (np.diff(df.time_s) >= 0).all()
    # measured exactly 43800.0 (whole-second step times added up); 1e-12 allows for summation order
    assert df.time_s.iloc[-1] == pytest.approx(43800.0, rel=1e-12)
    # the timestamps (1 s resolution) agree with the reconstructed time
    stamps = (pd.to_datetime(df.Timestamp) - pd.to_datetime(df.Timestamp).iloc[0]).dt.total_seconds()
    assert np.abs(stamps - df.time_s).max() <= 1.0
    # capacities: per-cycle charge and discharge capacities equal the file's
    # own step counters (0.1 % promised; identical by construction here)
    chg = df.capacity_Ah[df.Status == "CCCV_Chg"]
    dchg = df.capacity_Ah[df.Status == "CCCV_DChg"]
    assert_allclose(chg.iloc[-1] - chg.iloc[0], df["Charge_Capacity(mAh)"].max() * 1e-3, rtol=1e-3)
    assert_allclose(dchg.iloc[0] - dchg.iloc[-1], df["Discharge_Capacity(mAh)"].max() * 1e-3, rtol=1e-3)
    # sign convention: charge steps carry positive current
    assert (df.current_A[df.Status == "CCCV_Chg"] > 0).all()
    assert (df.current_A[df.Status == "CCCV_DChg"] < 0).all()
    # the integrated current agrees with the counters to 0.5 %: 30 s samples
    # of a CV decay and a 0.1 µA current resolution (measured 0.05 % on
    # charge, 0.19 % on discharge)
    for status in ("CCCV_Chg", "CCCV_DChg"):
        g = df[df.Status == status]
        q = _integrate(g.time_s.to_numpy(), g.current_A.to_numpy())[-1]
        assert_allclose(abs(q), abs(g.capacity_Ah.iloc[-1] - g.capacity_Ah.iloc[0]), rtol=5e-3)


@needs(GCPL)
@needs(NDAX)
def test_detection_reads_content_not_extension(tmp_path):
    renamed = tmp_path / "record.dat"
    renamed.write_bytes(GCPL.read_bytes())
    assert detect_vendor(renamed) == "biologic-mpr"
    other = tmp_path / "cell.csv"
    other.write_bytes(NDAX.read_bytes())
    assert detect_vendor(other) == "neware-ndax"


def _write_mpt(path, decimal="."):
    rows = ["mode\tox/red\terror\tcontrol changes\tNs changes\tcounter inc.\tNs\ttime/s\tEwe/V\tI/mA\t(Q-Qo)/mA.h\tcycle number"]
    t = np.arange(0, 3600, 60.0)
    i_ma = np.where(t < 1800, 1.0, -1.0)
    q = np.concatenate([[0.0], np.cumsum(0.5 * (i_ma[1:] + i_ma[:-1]) * np.diff(t) / 3600)])
    for k in range(t.size):
        vals = [1, 1, 0, 0, 0, 0, int(t[k] >= 1800), t[k], 3.7 + 1e-4 * k, i_ma[k], q[k], 0]
        line = "\t".join(f"{v:.6f}" if isinstance(v, float) else str(v) for v in vals)
        rows.append(line.replace(".", ",") if decimal == "," else line)
    header = ["EC-Lab ASCII FILE", "Nb header lines : 4", "", ""]
    path.write_text("\n".join(header[:3] + rows) + "\n", encoding="latin-1")
    return t, i_ma, q


@pytest.mark.parametrize("decimal", [".", ","])
def test_biologic_mpt_text_export(tmp_path, decimal):
    path = tmp_path / "cell.mpt"
    t, i_ma, q = _write_mpt(path, decimal)
    df = load_cycler(path)
    assert df.attrs["vendor"] == "biologic-mpt"
    # whole seconds and ±1 mA print to six decimals and parse back exactly (measured 0);
    # 1e-15 is a few ulp for the mA -> A scaling
    assert_allclose(df.time_s, t, rtol=1e-15)
    assert_allclose(df.current_A, i_ma * 1e-3, rtol=1e-15)
    # the export writes six decimals of mA h: 5e-7 mA h = 5e-10 A h rounding
    assert_allclose(df.capacity_Ah, q * 1e-3, rtol=0, atol=6e-10)
    assert list(df.step.unique()) == [0, 1]


def test_generic_csv_with_a_mapping(tmp_path):
    path = tmp_path / "cell.csv"
    t = np.linspace(0, 3600, 61)
    pd.DataFrame({"Test Time (s)": t, "Voltage (V)": 3.6 + t / 1e4, "Current (A)": np.full(61, 2e-3)}).to_csv(path, index=False)
    df = load_cycler(path, columns={"time_s": "Test Time (s)", "voltage_V": "Voltage (V)", "current_A": "Current (A)"})
    # 2 mA for one hour: 2 mA h, integrated (trapezoid exact for a constant)
    assert_allclose(df.capacity_Ah.iloc[-1], 2e-3, rtol=1e-12)
    assert "Voltage (V)" in df.columns  # original columns kept


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("bad.mpr", b"", "empty"),
        ("bad.mpr", b"\x00\x01\x02binary junk\x00" * 10, "unknown binary format"),
        # records that are not a time series of numbers
        ("cell.csv", b"time_s,voltage_V,current_A\n", "header but no data rows"),
        ("cell.csv", b"time_s,voltage_V,current_A\n0,3.6,0.001\n10,3.7,0.001\n5,3.8,0.001\n",
         r"time runs backwards at data row 3 \(10 s, then 5 s; 1 place\(s\)\).*sort the table by time"),
        ("cell.csv", b"time_s,voltage_V,current_A\n0,3.6,0.001\n,3.7,0.001\n20,3.8,0.001\n", "time of data row 2 is nan"),
        ("cell.csv", b"time_s,voltage_V,current_A\n0,3.6,0.001\n10,,0.001\n20,3.8,0.001\n",
         r"voltage_V of data row 2 \(t = 10 s\) is not a finite number"),
        ("cell.csv", b"time_s,voltage_V,current_A\n0,3.6,0.001\n10,abc,0.001\n", "not numbers .*'abc'"),
        ("cell.csv", b"time;voltage;current\n0;3,6;0,001\n10;3,7;0,001\n", r"not numbers .*decimal=','"),
        ("cell.csv", b"time_s,voltage_V,current_A,step\n0,3.6,0.001,1\n10,3.7,0.001,x\n", "not numbers"),
    ],
    ids=["empty", "binary junk", "header only", "backwards", "nan time", "nan voltage", "text value",
         "decimal comma", "text step"],
)
def test_bad_files_name_the_file(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=match) as info:
        load_cycler(path)
    assert str(path) in str(info.value)


def test_decimal_commas_read_with_the_options_the_message_names(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("time;voltage;current\n0;3,6;0,001\n10;3,7;0,001\n")
    df = load_cycler(path, sep=";", decimal=",")
    assert df.voltage_V.tolist() == [3.6, 3.7]
    # equal time stamps (logged at step changes by several cyclers) are kept
    path.write_text("time_s,voltage_V,current_A\n0,3.6,0.001\n10,3.7,0.001\n10,3.7,0\n20,3.7,0\n")
    assert len(load_cycler(path)) == 4


def test_missing_file_and_missing_mapping(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        load_cycler(tmp_path / "nope.mpr")
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(FileFormatError, match="column mapping"):
        load_cycler(path)
    with pytest.raises(FileFormatError, match=r"\['Time'\]"):
        load_cycler(path, columns={"time_s": "Time", "voltage_V": "a", "current_A": "b"})


def test_corrupt_mpr_names_the_file(tmp_path):
    pytest.importorskip("galvani")
    path = tmp_path / "cut.mpr"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a" + b"\x00" * 200)
    with pytest.raises(FileFormatError, match="cut.mpr"):
        load_cycler(path)


def test_impedance_only_table_is_refused(tmp_path):
    path = tmp_path / "eis.mpt"
    lines = ["EC-Lab ASCII FILE", "Nb header lines : 3", "",
             "freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\ttime/s", "1000\t1.0\t0.1\t0.0", "100\t1.5\t0.3\t1.0"]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match="voltage"):
        load_cycler(path)


def _cccv_frame(n_cycles=2, dt=30.0):
    """Charge 1 h at 1 mA, rest 10 min, discharge 50 min at 1 mA, rest: capacities known."""
    rows, t = [], 0.0
    for c in range(n_cycles):
        for step, (dur, cur) in enumerate([(3600, 1e-3), (600, 0.0), (3000, -1e-3), (600, 0.0)], start=1):
            for k in range(int(dur / dt)):
                rows.append((t, 3.5 + 0.1 * np.sign(cur), cur, step, c + 1, k * dt * abs(cur) / 3600))
                t += dt
    return pd.DataFrame(rows, columns=["t", "v", "i", "step", "cycle", "step_ah"])


def test_arbin_csv_export(tmp_path):
    f = _cccv_frame()
    # Arbin counts charge and discharge capacity cumulatively within a cycle
    cc = np.zeros(len(f))
    dc = np.zeros(len(f))
    for _, g in f.groupby("cycle"):
        i = g.i.to_numpy()
        dq = np.concatenate([[0.0], 0.5 * (i[1:] + i[:-1]) * 30.0 / 3600])
        cc[g.index] = np.cumsum(np.where(dq > 0, dq, 0.0))
        dc[g.index] = np.cumsum(np.where(dq < 0, -dq, 0.0))
    df = pd.DataFrame({"Data_Point": np.arange(len(f)) + 1, "Test_Time(s)": f.t, "Step_Index": f.step,
                       "Cycle_Index": f.cycle, "Current(A)": f.i, "Voltage(V)": f.v,
                       "Charge_Capacity(Ah)": cc, "Discharge_Capacity(Ah)": dc})
    path = tmp_path / "cell_CH1.csv"
    df.to_csv(path, index=False)
    rec = load_cycler(path)
    assert rec.attrs["vendor"] == "arbin"
    # Current(A) is read back as written (pandas writes round-trip digits): measured 0
    assert_allclose(rec.current_A, f.i, rtol=1e-15)
    # the per-cycle counters, chained over cycles, give the net charge passed;
    # only the step between cycles (one 30 s sample at 1 mA) is not counted
    q = _integrate(rec.time_s.to_numpy(), rec.current_A.to_numpy())
    assert_allclose(rec.capacity_Ah, q, rtol=0, atol=1e-3 * 30 / 3600)


def test_maccor_text_export(tmp_path):
    f = _cccv_frame()
    state = np.where(f.i > 0, "C", np.where(f.i < 0, "D", "R"))
    rec = load_cycler(_maccor_file(tmp_path / "cell.txt", f, state))
    assert rec.attrs["vendor"] == "maccor"
    # unsigned Amps get their sign from the state: charge positive (a sign flip is exact: measured 0)
    assert_allclose(rec.current_A, f.i, rtol=1e-15)
    # per-step Amp-hr chained with signs: 1 mA h in, 0.8333 mA h out per cycle
    end_of_cycle = rec.groupby("cycle").capacity_Ah.last().to_numpy()
    step_ah_end = 1e-3 * (3600 - 30) / 3600 - 1e-3 * (3000 - 30) / 3600  # the last sample of each step is dt short
    assert_allclose(np.diff(np.concatenate([[0.0], end_of_cycle])), step_ah_end, rtol=1e-9)


def test_exports_without_capacity_columns_say_the_capacity_was_integrated(tmp_path):
    # without the counters the capacity is the integral of the logged current; the
    # record must say so (pulse timing by counted charge would otherwise be trusted)
    f = _cccv_frame(n_cycles=1)
    arbin = pd.DataFrame({"Data_Point": np.arange(len(f)) + 1, "Test_Time(s)": f.t, "Step_Index": f.step,
                          "Cycle_Index": f.cycle, "Current(A)": f.i, "Voltage(V)": f.v})
    arbin.to_csv(tmp_path / "bare_CH1.csv", index=False)
    rec = load_cycler(tmp_path / "bare_CH1.csv")
    assert rec.attrs["vendor"] == "arbin" and rec.attrs["capacity_source"] == INTEGRATED
    state = np.where(f.i > 0, "C", np.where(f.i < 0, "D", "R"))
    path = _maccor_file(tmp_path / "bare.txt", f, state)
    path.write_text(path.read_text().replace("Amp-hr", "Other"))
    rec = load_cycler(path)
    assert rec.attrs["vendor"] == "maccor" and rec.attrs["capacity_source"] == INTEGRATED
    # with the counters, the count
    assert load_cycler(_maccor_file(tmp_path / "full.txt", f, state)).attrs["capacity_source"] == \
        "counted by the instrument"


def _maccor_file(path, f, state):
    table = pd.DataFrame({"Rec#": np.arange(len(f)) + 1, "Cyc#": f.cycle, "Step": f.step, "Test (Sec)": f.t,
                          "Step (Sec)": 0.0, "Amp-hr": f.step_ah, "Watt-hr": 0.0, "Amps": np.abs(f.i),
                          "Volts": f.v, "State": state})
    path.write_text("Today's Date\t11/22/2026\nDate of Test:\t11/20/2026\nFilename:\tcell\n"
                    + table.to_csv(sep="\t", index=False))
    return path


def test_maccor_state_without_a_direction_is_refused(tmp_path):
    """A current under a state other than C/D/R has no known sign: refused, not read as zero."""
    f = _cccv_frame(n_cycles=1)
    state = np.where(f.i > 0, "C", np.where(f.i < 0, "D", "R")).astype(object)
    state[5] = "O"  # an 'other' step, with the charge's 1 mA flowing
    path = _maccor_file(tmp_path / "other.txt", f, state)
    with pytest.raises(FileFormatError, match=r"data row 6 has State 'O' with 0.001 A \(1 row"):
        load_cycler(path)
    # the same state with no current, or with an instrument offset below 1e-3 of the largest
    # current, is a rest by another name: read as zero
    for offset in (0.0, 1e-7):
        state[5], f.loc[5, "i"] = "O", offset
        rec = load_cycler(_maccor_file(tmp_path / "other0.txt", f, state))
        assert rec.current_A[5] == 0.0


def test_fractional_step_numbers_are_refused(tmp_path):
    """Step 1.5 was cast to 1, joining two steps into one; whole numbers only."""
    f = _cccv_frame(n_cycles=1)
    f["step"] = np.where(f.step == 2, 1.5, f.step)
    state = np.where(f.i > 0, "C", np.where(f.i < 0, "D", "R"))
    path = _maccor_file(tmp_path / "half.txt", f, state)
    with pytest.raises(FileFormatError, match=r"half.txt: the step column holds 1.5 in data row 121 \(20 row"):
        load_cycler(path)


def test_csv_columns_found_by_their_headers(tmp_path):
    """A table in load_cycler's own schema reads back as written; common unit headers are converted to SI."""
    t = np.linspace(0.0, 7200.0, 121)
    cur = np.where(t < 3600.0, 2e-3, -1e-3)
    q = np.concatenate([[0.0], np.cumsum(0.5 * (cur[1:] + cur[:-1]) * np.diff(t))]) / 3600.0
    table = pd.DataFrame({"time_s": t, "voltage_V": 3.6 + t / 1e5, "current_A": cur,
                          "step": (t >= 3600.0).astype(int), "cycle": np.zeros(t.size, int), "capacity_Ah": q + 0.5})
    path = tmp_path / "own.csv"
    table.to_csv(path, index=False)
    back = load_cycler(path)
    # capacity counts from the first record, as in every reader (the file's 0.5 A h offset is removed)
    expected = table.assign(capacity_Ah=table.capacity_Ah - 0.5)
    # a written and re-read float is the same to the last digit pandas writes (17 significant); the
    # offset's subtraction rounds once (measured 5.6e-17 A h)
    assert_allclose(back[list(SCHEMA)].to_numpy(float), expected[list(SCHEMA)].to_numpy(float), rtol=1e-15,
                    atol=1e-16)
    # other header spellings, in other units: hours and milliamps
    other = tmp_path / "units.csv"
    pd.DataFrame({"Time (h)": t / 3600.0, "Ewe/V": table.voltage_V, "I/mA": cur * 1e3}).to_csv(other, index=False)
    df = load_cycler(other)
    assert_allclose(df.time_s, t, rtol=1e-12)
    assert_allclose(df.current_A, cur, rtol=1e-12)
    assert_allclose(df.capacity_Ah, q, rtol=0, atol=1e-15)  # integrated from the current (trapezoid, as q)
    assert (df.step == 0).all()  # no step column: one step
    # the record says which capacity is a count and which an integral of the logged current
    assert back.attrs["capacity_source"] == "counted by the instrument"
    assert df.attrs["capacity_source"] == INTEGRATED


def test_text_under_a_binary_name_is_refused(tmp_path):
    path = tmp_path / "fake.mpr"
    path.write_text("time_s,voltage_V,current_A\n0,3.6,0.001\n")
    with pytest.raises(FileFormatError, match=r"fake.mpr: named like a Bio-Logic .mpr file but it is plain text"):
        load_cycler(path)


@needs(MB)
def test_mpr_reading_leaves_no_file_open():
    pytest.importorskip("galvani")
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        load_cycler(MB)
        gc.collect()  # a file object left open is reported when it is collected
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
