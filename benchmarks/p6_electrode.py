"""Benchmark P6: a network electrode of N particles through one full C/20 cycle.

The network-electrode issue's target: 10 000 particles (radial transport,
20 shells each, Butler–Volmer at every surface, Kirchhoff on the electronic
network), one full C/20 cycle, in under 2 minutes on the 2-core machine, with
the cost growing no worse than N log N.

Problem: ``random_layout(N, dim=2, rng=np.random.default_rng(0))`` (2D
cross-section strip, mean radius 2.5 µm, carbon-binder junctions in the
pores), material ``nmc532``, protocol ``Charge at C/20 until 4.2 V`` then
``Discharge at C/20 until 3.0 V``, 20 shells, ``output_interval=1800`` s,
``radial_profiles=False``, default solver tolerances (rtol 1e-4, atol 1e-6).

Timed: ``simulate_electrode`` only (the layout is built once per N, before,
and its build time is reported as ``layout_s``). One untimed warm-up run at
N = 100 first (compiled kernels). ``wall_s`` is the median of ``repeats``
runs (3 for N <= 1000, 1 above unless ``--repeats-large``). One JSON line per
N, then one line with the scaling exponent between the two largest N,
``log(t2/t1) / log(N2/N1)``, and the N log N ratio for comparison.

    python benchmarks/p6_electrode.py                 # N = 100, 1000, 10000 (~1.5 min)
    python benchmarks/p6_electrode.py --sizes 100 1000
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np

import socscope as ss
from socscope.geometry.electrode import random_layout

PROTOCOL = ["Charge at C/20 until 4.2 V", "Discharge at C/20 until 3.0 V"]
N_SHELLS = 20
OUTPUT_INTERVAL_S = 1800.0
TARGET_N = 10_000
TARGET_S = 120.0


def layout(n: int):
    t0 = time.perf_counter()
    lay = random_layout(n, dim=2, rng=np.random.default_rng(0))
    return lay, time.perf_counter() - t0


def run(mat, lay):
    return ss.simulate_electrode(mat, lay, PROTOCOL, n_shells=N_SHELLS, output_interval=OUTPUT_INTERVAL_S,
                                 radial_profiles=False)


def measure(mat, n: int, repeats: int) -> dict:
    lay, layout_s = layout(n)
    walls = []
    ds = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        ds = run(mat, lay)
        walls.append(time.perf_counter() - t0)
    wall = statistics.median(walls)
    kinds = [str(k) for k in ds.step_kind.values]
    cap = ds.step_capacity.values
    rec = {
        "problem": "P6",
        "config": "random 2D layout, nmc532, C/20 to 4.2 V and back to 3.0 V, 20 shells, default tolerances",
        "n_particles": n,
        "n_nodes": int(ds.attrs["n_nodes"]),
        "n_edges": int(ds.attrs["n_edges"]),
        "n_isolated": int(ds.attrs["n_isolated"]),
        "layout_s": round(layout_s, 3),
        "wall_s": round(wall, 3),
        "repeats": repeats,
        "walls_s": [round(w, 3) for w in walls],
        "solver_steps": int(ds.attrs["solver_steps"]),
        "capacity_charge_mAh_g": round(float(cap[kinds.index("charge")]), 4),
        "capacity_discharge_mAh_g": round(float(-cap[kinds.index("discharge")]), 4),
        "step_end_reason": [str(r) for r in ds.step_end_reason.values],
        "asynchrony_index": [round(float(a), 4) for a in ds.asynchrony_index.values],
        "capacity_not_recovered": round(float(ds.capacity_not_recovered), 5),
    }
    if n == TARGET_N:
        rec["target_s"] = TARGET_S
        rec["meets_target_s"] = wall < TARGET_S
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000], help="particle counts")
    ap.add_argument("--repeats", type=int, default=3, help="runs per N up to 1000 (median reported)")
    ap.add_argument("--repeats-large", type=int, default=1, help="runs per N above 1000")
    args = ap.parse_args()
    mat = ss.materials.get("nmc532")
    t0 = time.perf_counter()
    run(mat, layout(100)[0])  # warm-up: compiled kernels, imports
    warmup_s = time.perf_counter() - t0
    lines = []
    for n in args.sizes:
        rec = measure(mat, n, args.repeats if n <= 1000 else args.repeats_large)
        if not lines:
            rec["warmup_s"] = round(warmup_s, 3)
        lines.append(rec)
        print(json.dumps(rec), flush=True)
    if len(lines) >= 2:
        a, b = lines[-2], lines[-1]
        ratio_n = b["n_particles"] / a["n_particles"]
        exponent = math.log(b["wall_s"] / a["wall_s"]) / math.log(ratio_n)
        nlogn = (b["n_particles"] * math.log(b["n_particles"])) / (a["n_particles"] * math.log(a["n_particles"]))
        print(json.dumps({
            "problem": "P6", "scaling": f"N = {a['n_particles']} -> {b['n_particles']}",
            "time_ratio": round(b["wall_s"] / a["wall_s"], 3), "exponent": round(exponent, 3),
            "nlogn_ratio": round(nlogn, 3), "nlogn_exponent": round(math.log(nlogn) / math.log(ratio_n), 3),
            "no_worse_than_nlogn": b["wall_s"] / a["wall_s"] <= nlogn,
        }), flush=True)


if __name__ == "__main__":
    main()
