"""Benchmark: load_cycler on a 10⁶-row export of each vendor text layout (target: under 5 s each).

Each layout is written once to a temporary folder (Arbin CSV without units, Maccor tab text
with a header block and decimal commas, Maccor comma text with ``d hh:mm:ss`` times, Neware
CSV with mA/mAh, EC-Lab semicolon CSV with decimal commas); the timed part is
``load_cycler(path)`` with the vendor and layout detected from the content. Prints one JSON
line per layout: rows, wall time (the best of 2), target.

    python benchmarks/cycler_load.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from socscope.io.cycler import load_cycler

N_ROWS = 1_000_000
TARGET_S = 5.0


def _signal(n: int):
    t = np.arange(n, dtype=float)
    phase = t % 7200
    i = np.where(phase < 3600, 1e-3, -1e-3)
    v = np.where(phase < 3600, 3.5 + phase / 1e4, 3.9 - (phase - 3600) / 1e4)
    step = np.where(phase < 3600, 1, 2)
    cycle = (t // 7200).astype(int) + 1
    q = np.abs(i) * np.where(phase < 3600, phase, phase - 3600) / 3600
    return t, v, i, step, cycle, q


def _clock(t: np.ndarray) -> pd.Series:
    d, rest = np.divmod(t.astype(np.int64), 86400)
    h, rest = np.divmod(rest, 3600)
    m, s = np.divmod(rest, 60)
    pad = lambda a: pd.Series(a).astype(str).str.zfill(2)
    return pd.Series(d).astype(str) + "d " + pad(h) + ":" + pad(m) + ":" + pad(s) + ".00"


def write_layouts(folder: Path, n: int) -> dict:
    t, v, i, step, cycle, q = _signal(n)
    files = {}
    files["arbin csv, no units"] = folder / "arbin.csv"
    pd.DataFrame({"Data_Point": np.arange(n), "Test_Time": t, "Step_Index": step, "Cycle_Index": cycle,
                  "Current": i, "Voltage": v, "Charge_Capacity": np.where(i > 0, q, 0.0),
                  "Discharge_Capacity": np.where(i < 0, q, 0.0)}).to_csv(files["arbin csv, no units"], index=False)
    maccor = pd.DataFrame({"Rec": np.arange(n) + 1, "Cycle P": cycle, "Step": step, "TestTime": t / 60,
                           "Cap. [Ah]": q, "Current [A]": np.abs(i), "Voltage [V]": v,
                           "Md": np.where(i > 0, "C", "D"),
                           "DPT Time": pd.Timestamp("2021-05-06 11:23:46") + pd.to_timedelta(t, unit="s")})
    files["maccor tab, header block, decimal comma"] = folder / "maccor.txt"
    files["maccor tab, header block, decimal comma"].write_text(
        "Name:\tcell\nTester\tMaccor\n\n" + maccor.to_csv(sep="\t", index=False, decimal=","))
    files["maccor comma, d hh:mm:ss"] = folder / "maccor_clock.csv"
    pd.DataFrame({"Rec#": np.arange(n) + 1, "Cyc#": cycle, "Step": step, "TestTime": _clock(t), "Amp-hr": q,
                  "Amps": np.abs(i), "Volts": v, "State": np.where(i > 0, "C", "D")}).to_csv(
        files["maccor comma, d hh:mm:ss"], index=False)
    files["neware csv, mA"] = folder / "neware.csv"
    pd.DataFrame({"DataPoint": np.arange(n) + 1, "Cycle Index": cycle, "Step Index": step,
                  "Step Type": np.where(i > 0, "CC Chg", "CC DChg"), "Total Time(s)": t, "Current(mA)": i * 1e3,
                  "Voltage(V)": v, "Chg. Cap.(mAh)": np.where(i > 0, q, 0.0) * 1e3,
                  "DChg. Cap.(mAh)": np.where(i < 0, q, 0.0) * 1e3}).to_csv(files["neware csv, mA"], index=False)
    files["eclab semicolon csv, decimal comma"] = folder / "eclab.csv"
    pd.DataFrame({"mode": 1, "time/s": t, "Ewe/V": v, "I/mA": i * 1e3, "Ns": step - 1, "cycle number": cycle}).to_csv(
        files["eclab semicolon csv, decimal comma"], sep=";", decimal=",", index=False)
    return files


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for layout, path in write_layouts(Path(tmp), N_ROWS).items():
            walls = []
            for _ in range(2):
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    df = load_cycler(path)
                walls.append(time.perf_counter() - t0)
            print(json.dumps({"benchmark": "cycler load", "layout": layout, "vendor": df.attrs["vendor"],
                              "rows": len(df), "wall_s": round(min(walls), 3), "target_s": TARGET_S,
                              "meets_target_s": bool(min(walls) <= TARGET_S)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
