"""Benchmark: what a user waits for before the first result — ``import socscope`` and the first
``socscope simulate particle`` after a fresh install.

Prints three JSON lines:

- ``import``: ``import socscope`` in a fresh interpreter (median of 5), and the heavy libraries it loaded;
- ``cli_first_run``: the whole ``socscope simulate particle`` process (a 5 µm sphere, C/3 for 1 hour)
  with an empty numba cache (``NUMBA_CACHE_DIR`` set to a new folder): a fresh install, where the
  compiled kernels are built on first use;
- ``cli_warm_run``: the same command again, the kernels now loaded from that cache.

    python benchmarks/first_run.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT = ("import sys, time; t = time.perf_counter(); import socscope; dt = time.perf_counter() - t; "
          "print(dt, ','.join(m for m in ('numpy', 'scipy', 'xarray', 'pandas', 'numba', 'matplotlib') "
          "if m in sys.modules))")
CLI = ["-m", "socscope.cli.main", "simulate", "particle", "--material", "ni88-xu2022", "--shape", "sphere",
       "--radius-um", "5", "--protocol", "Charge at C/3 for 1 hour", "--quiet"]


def _import_line() -> dict:
    runs = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True, check=True).stdout.split()
        runs.append((float(out[0]), out[1] if len(out) > 1 else ""))
    return {"benchmark": "first_run", "what": "import", "import_s": round(statistics.median(r[0] for r in runs), 4),
            "heavy_modules_loaded": runs[0][1], "target_s": 0.3}


def _cli(tmp: Path, name: str, env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *CLI, "--out", str(tmp / name)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    print(json.dumps(_import_line()), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp / "numba-cache")}
        first = _cli(tmp, "first.nc", env)
        print(json.dumps({"benchmark": "first_run", "what": "cli_first_run", "wall_s": round(first, 3),
                          "numba_cache": "empty (fresh install)", "target_s": 2.0}), flush=True)
        warm = _cli(tmp, "warm.nc", env)
        print(json.dumps({"benchmark": "first_run", "what": "cli_warm_run", "wall_s": round(warm, 3),
                          "numba_cache": "filled by the first run"}), flush=True)
    print(json.dumps({"benchmark": "first_run", "what": "load", "cpus": os.cpu_count(),
                      "load_avg_1min": round(os.getloadavg()[0], 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
