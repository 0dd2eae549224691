"""Benchmark: parallel efficiency of a sweep on a 2-worker LocalCluster against the serial run.

A population sweep (20 000 spheres a point by default: about 2 s a point on one core, inside the
1-10 s the sweep issue names) runs
once serially in this process and once on a ``LocalCluster`` of ``--workers``
processes (one thread each), in the same session. Prints one JSON line:

    efficiency = serial_s / (workers x parallel_s)

``parallel_s`` is the sweep itself on a started cluster whose workers have
imported socscope; ``cluster_start_s`` is that start, and
``efficiency_with_start`` counts it too. ``identical`` says whether both stores
hold the same arrays bit for bit. ``control_efficiency`` runs the same points
(without the store) on a plain ``multiprocessing`` pool of as many processes:
the most this machine gives two processes at that moment (on a shared machine
it is far below 1, and the sweep's efficiency should be read against it).

    python benchmarks/sweep.py                 # 8 points, 2 workers
    python benchmarks/sweep.py --points 4 --particles 2000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _definition(points: int, particles: int) -> dict:
    seeds = list(range(1, points // 2 + 1))
    return {
        "sweep": {"seed": 2, "samples": 40},
        "base": {"kind": "population", "material": "nmc532", "mean_radius_um": 2.0, "radius_cv": 0.3,
                 "n_particles": particles, "n_cells": 20,
                 "protocol": ["Charge at {c_rate}C for 30 minutes", "Rest for 30 minutes"],
                 "output_interval_s": 120.0},
        "axes": {"c_rate": [0.5, 1.0], "seed": seeds},
    }


def _warm():
    import warnings

    import socscope as ss

    warnings.simplefilter("ignore")
    ss.simulate_particles("nmc532", [ss.geometry.Sphere(1e-6)] * 2, ["Charge at 1C for 1 minute"], n_cells=20)
    return os.getpid()


def _bare(settings: dict) -> float:
    from socscope.sweep.definition import parse_sweep
    from socscope.sweep.points import layout, run_point

    return run_point(settings, layout(parse_sweep(settings.pop("_definition"))))["wall_s"]


def _control(d, definition: dict, workers: int) -> float:
    """Wall time of the points on a plain process pool (spawned, warmed, one thread each)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    jobs = [{**d.point(i), "_definition": definition} for i in range(d.n_points)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_warm) as pool:
        t0 = time.perf_counter()
        list(pool.map(_bare, jobs))
        return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=8, help="points (even; default 8)")
    ap.add_argument("--particles", type=int, default=20000, help="particles per point (default 20000: about 2 s a point)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-control", action="store_true", help="skip the plain process-pool control")
    args = ap.parse_args(argv)
    from socscope.sweep import dask_client, open_sweep, parse_sweep, run_sweep

    definition = _definition(args.points, args.particles)
    d = parse_sweep(definition)
    _warm()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        serial = run_sweep(d, tmp / "serial.zarr")
        serial_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with dask_client("local", n_workers=args.workers) as client:
            client.run(_warm)
            start_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            par = run_sweep(d, tmp / "parallel.zarr", scheduler=client)
            parallel_s = time.perf_counter() - t1
        control_s = None if args.no_control else _control(d, definition, args.workers)
        a, b = open_sweep(tmp / "serial.zarr"), open_sweep(tmp / "parallel.zarr")
        identical = all(np.array_equal(a[k].values, b[k].values, equal_nan=a[k].dtype.kind == "f")
                        for k in a.data_vars if k != "error")
    rec = {
        "benchmark": "sweep", "kind": "population", "points": d.n_points, "particles": args.particles,
        "workers": args.workers, "point_s_mean": round(serial.wall_s / d.n_points, 3),
        "point_s_mean_on_workers": round(par.wall_s / d.n_points, 3),
        "serial_s": round(serial_s, 3), "parallel_s": round(parallel_s, 3), "cluster_start_s": round(start_s, 3),
        "efficiency": round(serial_s / (args.workers * parallel_s), 3),
        "efficiency_with_start": round(serial_s / (args.workers * (parallel_s + start_s)), 3),
        "control_s": None if control_s is None else round(control_s, 3),
        "control_efficiency": None if control_s is None else round(serial_s / (args.workers * control_s), 3),
        "failed": len(serial.failed) + len(par.failed), "identical": bool(identical),
        "cpus": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(rec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
