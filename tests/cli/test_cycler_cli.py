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
