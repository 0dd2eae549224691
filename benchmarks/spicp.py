"""SP-ICP-OES benchmarks ([000]): analysis of 10^6 events, and a population through one C/20 cycle.

Prints one JSON line per run:

* ``analysis``: ratios, the main-population fit, DOL and diverging fractions of N events
  (5 replicates) with a 5-reference calibration; target < 10 s at 10^6 events;
* ``population``: ``simulate_population`` of N NMC532 particles (random 3D contact groups of
  200 from a pool of 40, 6 shells) through "Charge at C/20 until 4.2 V", "Discharge at C/20
  until 3.0 V" and the final 6 mA/g charge to 4.4 V, then the synthetic instrument; wall time
  and peak RSS of the process (of its largest worker with ``--workers``); target < 5 min and
  < 4 GB at 10^5.

    python benchmarks/spicp.py                      # both, at 10^6 events and 10^5 particles
    python benchmarks/spicp.py --events 100000 --particles 2000   # quick
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings

import numpy as np


def bench_analysis(n_events: int) -> dict:
    from socscope.analysis.spicp import (
        calibrate_ratios,
        diverging_fractions,
        dol_from_ratio,
        expected_frame,
        intensity_ratios,
    )

    rng = np.random.default_rng(0)
    refs = [0.02 + 0.8 * d + rng.normal(0, 0.03, 2000) for d in (1.0, 0.77, 0.59, 0.39, 0.19)]
    mn = rng.uniform(500, 5000, n_events)
    dol = np.where(rng.random(n_events) < 0.08, rng.uniform(0.6, 1.0, n_events), 0.31)
    li = mn * (0.02 + 0.8 * dol + rng.normal(0, 0.03, n_events))
    t0 = time.perf_counter()
    cal, _ = calibrate_ratios(refs, (1.0, 0.77, 0.59, 0.39, 0.19))
    r = intensity_ratios(li, mn)
    d, _u = dol_from_ratio(r, cal)
    fr = expected_frame(cal, 0.31)
    table = diverging_fractions(np.array_split(d, 5), (fr["dol_low"], fr["dol_high"]))
    wall = time.perf_counter() - t0
    return {"bench": "spicp_analysis", "events": n_events, "wall_s": round(wall, 3),
            "diverging_fraction": round(float(table.loc["pooled", "diverging_fraction"]), 4), "true_fraction": 0.08,
            "target_s": 10}


def bench_population(n: int, workers: int = 1) -> dict:
    from socscope.observe.spicp import spicp_events
    from socscope.simulate.population import simulate_population

    protocol = ["Charge at C/20 until 4.2 V", "Discharge at C/20 until 3.0 V"]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = simulate_population("nmc532", n, protocol, rng=np.random.default_rng(0), isolated_fraction=0.06,
                                 workers=workers)
    t_sim = time.perf_counter() - t0
    ev = spicp_events(ds.dol.values, ds.diameter_um.values, rng=np.random.default_rng(1))
    wall = time.perf_counter() - t0
    rss = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024.0
    return {"bench": "spicp_population", "particles": n, "workers": workers, "wall_s": round(wall, 1), "simulate_s": round(t_sim, 1),
            "peak_rss_MB": round(rss, 0), "bytes_per_particle_result": round(ds.nbytes / n, 1),
            "events": len(ev), "isolated": round(float(ds.isolated.mean()), 4),
            "connected_mean_dol": round(float(ds.attrs["connected_mean_dol"]), 4), "target_s": 300,
            "target_MB": 4096}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--particles", type=int, default=100_000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--skip-population", action="store_true")
    a = p.parse_args(argv)
    print(json.dumps(bench_analysis(a.events)), flush=True)
    if not a.skip_population:
        print(json.dumps(bench_population(a.particles, a.workers)), flush=True)


if __name__ == "__main__":
    main()
