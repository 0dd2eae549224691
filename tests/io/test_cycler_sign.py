"""The current's sign checked against the file's own evidence (step types, charge and discharge
capacity columns), the Battery Data Format, columns= with units, and the messages of a wrong path."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from socscope.errors import FileFormatError
from socscope.io.cycler import SUFFIXES, VENDORS, load_cycler

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cycler"


def _record(discharge_positive: bool):
    """A discharge, a rest and a charge at 2 mA: times [s], current as the file writes it [A],
    step types, voltages, and the charge and discharge counters [A h] (restarting every step)."""
    t = np.arange(300) * 60.0
    kind = np.where(t < 6000, "discharge", np.where(t < 9000, "rest", "charge"))
    amps = np.where(kind == "discharge", -2e-3, np.where(kind == "charge", 2e-3, 0.0))
    volts = np.where(kind == "discharge", 3.3 - t / 1e5, np.where(kind == "charge", 3.2 + (t - 9000) / 1e5, 3.25))
    start = np.where(kind == "discharge", 0.0, np.where(kind == "rest", 6000.0, 9000.0))
    q = 2e-3 * (t - start) / 3600
    charge, discharge = np.where(kind == "charge", q, 0.0), np.where(kind == "discharge", q, 0.0)
    return t, (-amps if discharge_positive else amps), kind, volts, charge, discharge


def _bdf(path, discharge_positive=True, kinds=None):
    t, amps, kind, volts, charge, discharge = _record(discharge_positive)
    pd.DataFrame({"Test Time / h": t / 3600, "Current / A": amps, "Voltage / V": volts,
                  "Step Type / 1": kind if kinds is None else kinds, "Cycle Count / 1": 1,
                  "Step Index / 1": pd.factorize(kind)[0] + 1, "Charge Capacity / Ah": charge,
                  "Discharge Capacity / Ah": discharge}).to_csv(path, index=False)
    return amps


def test_a_current_positive_on_discharge_is_flipped_by_its_step_types(tmp_path):
    path = tmp_path / "bdf.csv"
    amps = _bdf(path, discharge_positive=True)
    df = load_cycler(path)
    assert df.attrs["vendor"] == "bdf"
    assert df.attrs["column_map"]["time_s"] == "Test Time / h" and df.attrs["units"]["time"] == "h"
    assert df.attrs["column_map"]["cycle"] == "Cycle Count / 1"
    assert_allclose(df.current_A, -amps, rtol=0)  # flipped, nothing else: exact
    assert (df.current_A[df["Step Type / 1"] == "discharge"] < 0).all()
    assert any("current positive on discharge in the file (its step types say so" in n and "sign flipped" in n
               for n in df.attrs["notes"])
    # the net charge: discharge first, so it falls by 2 mA over the 5940 s to the discharge's last record
    assert_allclose(df.capacity_Ah.min(), -2e-3 * 5940 / 3600, rtol=1e-12)  # sums of exact steps: rounding only


def test_a_current_positive_on_discharge_is_flipped_by_its_capacity_columns(tmp_path):
    t, amps, kind, volts, charge, discharge = _record(discharge_positive=True)
    path = tmp_path / "arbin.csv"
    pd.DataFrame({"Test_Time(s)": t, "Step_Index": pd.factorize(kind)[0] + 1, "Cycle_Index": 1, "Current(A)": amps,
                  "Voltage(V)": volts, "Charge_Capacity(Ah)": charge,
                  "Discharge_Capacity(Ah)": discharge}).to_csv(path, index=False)
    df = load_cycler(path)
    assert df.attrs["vendor"] == "arbin"
    assert_allclose(df.current_A, -amps, rtol=0)
    assert any("its charge and discharge capacity columns say so" in n and "sign flipped" in n
               for n in df.attrs["notes"])


def test_a_current_positive_on_charge_is_kept(tmp_path):
    path = tmp_path / "bdf.csv"
    amps = _bdf(path, discharge_positive=False)
    df = load_cycler(path)
    assert_allclose(df.current_A, amps, rtol=0)
    assert any(n.startswith("current signed in the file: positive on charge (its step types agree on 100.0 %")
               for n in df.attrs["notes"])


def test_a_signed_current_without_evidence_is_kept_and_said_so(tmp_path):
    t, amps, kind, volts, _, _ = _record(discharge_positive=False)
    path = tmp_path / "pec.csv"
    pd.DataFrame({"Test": 1, "Cell": 1, "Step": pd.factorize(kind)[0] + 1, "Instruction Name": "x", "Cycle": 1,
                  "Total Time (Seconds)": t, "Voltage (V)": volts, "Current (A)": amps}).to_csv(path, index=False)
    df = load_cycler(path)
    assert_allclose(df.current_A, amps, rtol=0)
    assert any("taken as positive on charge (no step-type column" in n for n in df.attrs["notes"])


def test_step_types_that_contradict_the_current_are_an_error(tmp_path):
    t, amps, kind, *_ = _record(discharge_positive=False)
    flowing = np.flatnonzero(kind != "rest")
    kinds = kind.copy()
    kinds[flowing[::3]] = np.where(kind[flowing[::3]] == "charge", "discharge", "charge")  # a third wrong
    path = tmp_path / "bdf.csv"
    _bdf(path, discharge_positive=False, kinds=kinds)
    with pytest.raises(FileFormatError, match=r"bdf.csv: the sign of column 'Current / A' matches its step types "
                                              r"\('Step Type / 1'\) on only 66 %.*vendor='csv', columns=") as info:
        load_cycler(path)
    assert "\n" not in str(info.value)
    assert info.value.read_with["columns"]["current_A"] == "Current / A"


def test_columns_with_a_unit_replace_one_column_of_a_vendor_table(tmp_path):
    path = tmp_path / "bdf.csv"
    _bdf(path, discharge_positive=False)
    raw = pd.read_csv(path)
    raw["Voltage / V"] *= 1000  # millivolts under a volt header
    raw.to_csv(path, index=False)
    with pytest.raises(FileFormatError, match=r"voltage_V of data row 1 .* load_cycler\(path, columns="
                                              r"\{'voltage_mV': 'Voltage / V'\}\)") as info:
        load_cycler(path)
    assert info.value.read_with == {"columns": {"voltage_mV": "Voltage / V"}}
    df = load_cycler(path, columns={"voltage_mV": "Voltage / V"})
    assert_allclose(df.voltage_V, raw["Voltage / V"] / 1000, rtol=1e-15)  # one product each: rounding only
    with pytest.raises(FileFormatError, match="columns= key 'voltage_kV' is neither"):
        load_cycler(path, columns={"voltage_kV": "Voltage / V"})


def test_a_folder_is_named_as_one_and_every_suffix_is_listed(tmp_path):
    with pytest.raises(FileFormatError, match="is a folder, not a file") as info:
        load_cycler(tmp_path)
    for suffix in {x for v in VENDORS for x in SUFFIXES[v]}:
        assert suffix in str(info.value)
    assert {".res", ".txt", ".xlsx"} <= {x for v in VENDORS for x in SUFFIXES[v]}
    with pytest.raises(FileFormatError, match=r"no such file \(expected a cycler record: .*\.res"):
        load_cycler(tmp_path / "nope.csv")


@pytest.mark.parametrize("name, module", [("00_test_04_MB_C01.mpr", "galvani"), ("neware_test.ndax", "NewareNDA")])
def test_binary_readers_record_their_columns_and_units(name, module):
    if not (DATA / name).is_file():
        pytest.skip(f"shared instrument file {name} not found at {DATA}")
    pytest.importorskip(module)
    df = load_cycler(DATA / name)
    assert df.attrs["column_map"]["current_A"] in ("I/mA", "Current(mA)")
    assert df.attrs["units"]["current"] == "mA" and df.attrs["units"]["voltage"] == "V"
    assert any("mA -> A" in v for v in df.attrs["conversions"].values())


def test_an_unsigned_current_takes_its_direction_from_the_growing_capacity_column(tmp_path):
    """No state column, a current never negative: which of the charge and discharge counters grows says the direction
    (before, the whole record was read as charge)."""
    t, amps, kind, volts, charge, discharge = _record(discharge_positive=False)
    path = tmp_path / "arbin.csv"
    pd.DataFrame({"Test_Time(s)": t, "Step_Index": pd.factorize(kind)[0] + 1, "Cycle_Index": 1,
                  "Current(A)": np.abs(amps), "Voltage(V)": volts, "Charge_Capacity(Ah)": charge,
                  "Discharge_Capacity(Ah)": discharge}).to_csv(path, index=False)
    df = load_cycler(path)
    assert_allclose(df.current_A, amps, rtol=0)  # every row, the steps' first samples included: exact
    assert any("sign from which of 'Charge_Capacity(Ah)' and 'Discharge_Capacity(Ah)' grows" in n
               for n in df.attrs["notes"])
    # the net charge follows: the discharge first, 2 mA over the 5940 s to its last record
    assert_allclose(df.capacity_Ah.min(), -2e-3 * 5940 / 3600, rtol=1e-12)
