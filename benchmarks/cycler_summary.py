"""Benchmark: load and summarise a 1-million-point cycler record (target: under 5 s).

A synthetic record (CC-CV charge, rest, CC discharge, rest; 1 s sampling) is
written once to a CSV in a temporary folder; the timed part is
``load_cycler`` (with a column mapping) plus ``cycle_summary`` and ``dqdv``.
Prints one JSON line: points, cycles, wall time (median of 3).

    python benchmarks/cycler_summary.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from socscope.analysis.cycling import cycle_summary, dqdv
from socscope.io.cycler import load_cycler

N_POINTS = 1_000_000
TARGET_S = 5.0


def synthetic(n: int) -> pd.DataFrame:
    period = 20_000  # s per cycle at 1 s sampling
    t = np.arange(n, dtype=float)
    phase = t % period
    i = np.select([phase < 8000, phase < 9000, phase < 9500, phase < 19500], [1e-3, 1e-3 * np.exp(-(phase - 8000) / 300), 0.0, -1e-3], 0.0)
    v = np.select([phase < 8000, phase < 9000, phase < 9500, phase < 19500],
                  [3.5 + 0.8 * phase / 8000, 4.3, 4.2, 4.1 - 1.1 * (phase - 9500) / 10000], 3.1)
    v = v + 1e-4 * np.sin(t)  # measurement noise
    return pd.DataFrame({"Test Time (s)": t, "Voltage (V)": v, "Current (A)": i, "Step": (phase >= 9500).astype(int)})


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record.csv"
        synthetic(N_POINTS).to_csv(path, index=False)
        mapping = {"time_s": "Test Time (s)", "voltage_V": "Voltage (V)", "current_A": "Current (A)", "step": "Step"}
        walls = []
        for _ in range(3):
            t0 = time.perf_counter()
            df = load_cycler(path, columns=mapping, sep=",")
            cyc = cycle_summary(df, mass_g=0.01)
            table = dqdv(df)
            walls.append(time.perf_counter() - t0)
    print(json.dumps({
        "benchmark": "cycler load + summary", "points": len(df), "cycles": len(cyc), "dqdv_rows": len(table),
        "wall_s": round(float(np.median(walls)), 3), "target_s": TARGET_S,
        "meets_target_s": bool(np.median(walls) <= TARGET_S),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
