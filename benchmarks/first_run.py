"""Benchmark: what a user waits for before the first result — ``import socscope`` and the first
``socscope simulate particle`` after a fresh install.

Run it with the interpreter of a fresh installation (``pip install .`` compiles the kernels of
a particle run into the package, see ``socscope.numerics._kernel_cache``). Prints JSON lines:

- ``import``: ``import socscope`` in a fresh interpreter (median of 5), and the heavy libraries it loaded;
- ``cli_first_run``: the whole ``socscope simulate particle`` process (a 5 µm sphere, C/3 for 1 hour)
  with an empty numba cache (``NUMBA_CACHE_DIR`` set to a new folder): a fresh install, which
  loads the kernels compiled at install time when the package has them (``kernel_cache``);
- ``cli_first_run_jit``: the same with the installed kernels ignored (``SOCSCOPE_NO_KERNEL_CACHE=1``,
  another empty ``NUMBA_CACHE_DIR``): numba compiles them on first use;
- ``cli_warm_run``: the command again after the JIT run, the kernels now loaded from that cache;
- ``load``: the machine's load while it ran (timings on a loaded machine are longer).

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
SHIPPED = ("import pathlib, importlib.util as u; s = u.find_spec('socscope'); "
           "d = pathlib.Path(s.origin).parent / 'numerics' / '_numba_cache'; "
           "print(len(list(d.glob('*.nbi'))) if d.is_dir() else 0)")
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
    shipped = int(subprocess.run([sys.executable, "-c", SHIPPED], capture_output=True, text=True,
                                 check=True).stdout.strip() or 0)
    kernel_cache = f"{shipped} kernels compiled at install" if shipped else "none (compiled on first use)"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp / "numba-cache")}
        env.pop("SOCSCOPE_NO_KERNEL_CACHE", None)
        first = _cli(tmp, "first.nc", env)
        print(json.dumps({"benchmark": "first_run", "what": "cli_first_run", "wall_s": round(first, 3),
                          "numba_cache": "empty (fresh install)", "kernel_cache": kernel_cache,
                          "target_s": 2.0}), flush=True)
        jit_env = {**env, "NUMBA_CACHE_DIR": str(tmp / "numba-cache-jit"), "SOCSCOPE_NO_KERNEL_CACHE": "1"}
        jit = _cli(tmp, "jit.nc", jit_env)
        print(json.dumps({"benchmark": "first_run", "what": "cli_first_run_jit", "wall_s": round(jit, 3),
                          "numba_cache": "empty", "kernel_cache": "ignored (SOCSCOPE_NO_KERNEL_CACHE=1)"}),
              flush=True)
        warm = _cli(tmp, "warm.nc", jit_env)
        print(json.dumps({"benchmark": "first_run", "what": "cli_warm_run", "wall_s": round(warm, 3),
                          "numba_cache": "filled by the JIT run"}), flush=True)
        import xarray as xr

        with xr.open_dataset(tmp / "first.nc") as a, xr.open_dataset(tmp / "jit.nc") as b:
            same = all(a[v].equals(b[v]) for v in a.data_vars)
        print(json.dumps({"benchmark": "first_run", "what": "installed_vs_jit_results",
                          "bit_identical": bool(same)}), flush=True)
    print(json.dumps({"benchmark": "first_run", "what": "load", "cpus": os.cpu_count(),
                      "load_avg_1min": round(os.getloadavg()[0], 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
