"""Benchmark: ``socscope report`` of the SP-ICP-OES, population and sweep kinds at a working size.

Made first (not timed): an SP-ICP-OES calibration of five references and an analysis of three
replicates of 1500 particles each, a population of ``--particles`` particles (default 2000), and a
serial sweep of 3 × 3 single-particle points. Timed: the whole ``socscope report`` command for each,
in a fresh Python process (import, detection, reading, drawing, rendering), median of ``--repeat``.
Prints one JSON line per kind.

    python benchmarks/report_kinds.py --particles 2000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SWEEP = """\
[sweep]
seed = 1
samples = 40

[base]
kind = "particle"
material = "ni88-xu2022"
radius_um = 1.0
n_cells = 12
protocol = ["Charge at {c_rate}C for 20 minutes"]
kinetics = "none"

[axes]
c_rate = [0.5, 1, 2]
alpha = [1, 3, 10]
"""


def _cli(*args, ok=(0,)) -> None:
    rc = subprocess.run([sys.executable, "-m", "socscope.cli.main", *map(str, args), "--quiet"], check=False).returncode
    if rc not in ok:
        raise SystemExit(f"socscope {args[0]} failed with exit status {rc}")


def _make(tmp: Path, particles: int) -> dict:
    from socscope.observe.spicp import spicp_events

    rng = np.random.default_rng(0)
    refs = []
    for k, dol in enumerate((1.0, 0.77, 0.59, 0.39, 0.19)):
        refs.append(tmp / f"ref_{k}.csv")
        spicp_events(np.full(1500, dol), rng.lognormal(np.log(6.0), 0.3, 1500), rng=rng, ratio_cv=0.06).to_csv(
            refs[-1], index=False)
    _cli("spicp", "calibrate", *refs, "--dol", "1.00,0.77,0.59,0.39,0.19", "--out", tmp / "cal.toml")
    reps = []
    for k in range(3):
        dol = np.full(1500, 0.19)
        dol[:120] = rng.uniform(0.7, 1.0, 120)
        reps.append(tmp / f"rep_{k}.csv")
        spicp_events(dol, rng.lognormal(np.log(6.0), 0.3, 1500), rng=rng, ratio_cv=0.06).to_csv(reps[-1], index=False)
    _cli("spicp", "analyze", *reps, "--calibration", tmp / "cal.toml", "--expected-dol", "0.19", "--out", tmp / "spicp")
    _cli("simulate", "population", "--particles", particles, "--protocol",
         "Repeat 10: [Charge at 1C until 4.2 V, Discharge at 1C until 3.0 V]", "--out", tmp / "pop.nc")
    (tmp / "sweep.toml").write_text(SWEEP, encoding="utf-8")
    _cli("sweep", tmp / "sweep.toml", "--scheduler", "serial", "--out", tmp / "sweep.zarr", ok=(0, 1))  # 1: a point failed
    return {"spicp": tmp / "spicp", "spicp-calibration": tmp / "cal.toml", "population": tmp / "pop.nc",
            "sweep": tmp / "sweep.zarr"}


def _points(path: Path) -> dict:
    from socscope.sweep import open_sweep

    status = open_sweep(path)["status"].values
    return {"points": int(status.size), "failed": int((status == 2).sum())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--particles", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = _make(tmp, args.particles)
        for kind, path in paths.items():
            out = tmp / f"{kind}.html"
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                _cli("report", path, "--out", out, "--overwrite")
                times.append(time.perf_counter() - t0)
            print(json.dumps({"benchmark": "report_kind", "kind": kind, "wall_s": round(statistics.median(times), 2),
                              "html_MB": round(out.stat().st_size / 1e6, 3),
                              **({"particles": args.particles} if kind == "population" else {}),
                              **(_points(path) if kind == "sweep" else {})}), flush=True)


if __name__ == "__main__":
    main()
