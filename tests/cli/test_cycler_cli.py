"""socscope cycler summary --verbose: what was read is printed."""

import json

import numpy as np
import pandas as pd

from socscope.cli.main import main


def test_cycler_summary_verbose_prints_what_was_read(tmp_path, capsys):
    t = np.arange(240) * 30.0
    i = np.where(t < 3600, 2.0, -2.0)  # mA
    q = 2.0 * np.where(t < 3600, t, t - 3600) / 3600  # mA h since the step began
    table = pd.DataFrame({"DataPoint": np.arange(t.size) + 1, "Cycle Index": 1, "Step Index": np.where(i > 0, 1, 2),
                          "Step Type": np.where(i > 0, "CC Chg", "CC DChg"), "Total Time(s)": t, "Current(mA)": i,
                          "Voltage(V)": np.where(i > 0, 3.6, 3.9) + t / 1e6,
                          "Chg. Cap.(mAh)": np.where(i > 0, q, 0), "DChg. Cap.(mAh)": np.where(i < 0, q, 0)})
    path = tmp_path / "neware.csv"
    table.to_csv(path, index=False)
    assert main(["cycler", "summary", str(path), "--out", str(tmp_path / "out"), "--verbose"]) == 0
    out = capsys.readouterr().out
    for line in ("vendor: neware-csv", "current_A    <- Current(mA)", "converted 'Current(mA)': mA -> SI: x 0.001",
                 "comma-separated, decimal point"):
        assert line in out
    # the folder records what made it, with the record as read
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert prov["inputs"][0]["path"] == str(path.resolve()) and len(prov["inputs"][0]["sha256"]) == 64
    assert prov["settings"]["record_as_read"]["vendor"] == "neware-csv"
    # the counters in mA h are read in A h: the summary's charge is the file's last charge count
    cycles = pd.read_csv(tmp_path / "out" / "cycles.csv")
    np.testing.assert_allclose(cycles.charge_mAh, [q[i > 0][-1]], rtol=1e-9)  # a count, exact to rounding


def test_cycler_summary_says_how_to_read_a_table_from_the_command_line(tmp_path, capsys):
    t = np.arange(200) * 60.0
    i = np.where(t < 6000, 2.0, -2.0)  # mA
    lines = ["# instrument export;;", "# operator;x;"] + ["Zeit;Zelle_Volt;Strom_mA"] + [
        f"{a:.1f};{3.5 + (k % 100) / 1000:.4f};{b:.3f}" for k, (a, b) in enumerate(zip(t, i))]
    path = tmp_path / "lab.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["cycler", "summary", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "load_cycler(path, vendor='csv', sep=';', skiprows=2" in err
    hint = err.split("from the command line: ")[1]
    assert "--sep ';' --skiprows 2" in hint and "--columns time_s=Zeit,voltage_V=Zelle_Volt,current_A=Strom_mA" in hint
    # the options it names, with the current's unit given by its name, read the file
    assert main(["cycler", "summary", str(path), "--out", str(tmp_path / "out"), "--columns",
                 "time_s=Zeit,voltage_V=Zelle_Volt,current_mA=Strom_mA", "--sep", ";", "--skiprows", "2",
                 "--first", "charge"]) == 0
    cycles = pd.read_csv(tmp_path / "out" / "cycles.csv")
    # 2 mA from the first record to the charge's last (5940 s) is 3.3 mA h (the trapezoid across the
    # reversal adds nothing); a constant current integrates exactly, to rounding
    np.testing.assert_allclose(cycles.charge_mAh.iloc[0], 2.0 * 5940 / 3600, rtol=1e-9)
    assert main(["cycler", "summary", str(path), "--out", str(tmp_path / "o2"), "--columns", "time_s"]) == 2
    assert "is not NAME=COLUMN" in capsys.readouterr().err


def test_cycler_summary_names_its_own_flags_and_says_what_it_left_out(tmp_path, capsys):
    t = np.arange(0.0, 7200.0, 30.0)
    i = np.where(t < 3600, 2e-3, -1.8e-3)
    i[(t > 3500) & (t < 3600)] = 0.0
    rec = pd.DataFrame({"time_s": t, "voltage_V": np.where(i >= 0, 3.6, 3.9), "current_A": i})
    path = tmp_path / "rec.csv"
    rec.to_csv(path, index=False)
    # an infinite mass passed the check (> 0) and was refused by the library as mass_g
    assert main(["cycler", "summary", str(path), "--mass-mg", "inf", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "--mass-mg inf must be a positive, finite" in err and "mass_g" not in err
    # a charge with a one-point blip of discharge current after it and no discharge: the blip made a
    # "cycle" whose efficiency was reported; without a counterpart it is unknown (null)
    blip = rec[t < 3600].copy()  # the charge and the rest after it
    blip.loc[blip.index[-2], "current_A"] = -1.8e-3  # in the rest
    blip.to_csv(path, index=False)
    assert main(["cycler", "summary", str(path), "--out", str(tmp_path / "b"), "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "1 current block(s) of a single record" in out
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["half_cycles"] == 1 and summary["current_blocks_left_out"] == 1
    assert summary["coulombic_efficiency"] == [None]
    # an idle channel with single samples of 1 µA: no half cycle, said in one line
    idle = rec.assign(current_A=0.0)
    idle.loc[[20, 80, 140], "current_A"] = -1e-6
    idle.to_csv(path, index=False)
    assert main(["cycler", "summary", str(path), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "no real charge or discharge found (3 current block(s) left out" in err and err.count("\n") == 1
    assert not (tmp_path / "c").exists()
