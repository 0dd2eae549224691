"""Benchmark P1: a 5 µm sphere whose D(θ) spans two decades (see benchmarks/README.md).

Prints one JSON line per configuration: radial cells N = 50, 200, 1000, each
with the default solver tolerances (rtol 1e-5, atol 1e-7: these meet the
accuracy target, converged answers to 1e-4 with t_lith relative, from
N = 200) and with tighter ones. Wall time is the
median of 3 calls of model construction + run, after one untimed warm-up call
(which includes any just-in-time compilation; reported as ``first_call_s``).

    python benchmarks/p1_sphere.py            # N = 50, 200, 1000
    python benchmarks/p1_sphere.py --quick    # N = 200, default tolerances only
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from socscope.numerics import SolverOptions

import problems as pb

#: Tighter tolerances, for comparison: the time error of every reported
#: quantity falls to ~3e-5 and the spatial error decides (see README).
TUNED = SolverOptions(rtol=3e-6, atol=1e-8)


def bench(mat, n_cells: int, solver: SolverOptions | None, label: str, reference: dict | None) -> dict:
    t0 = time.perf_counter()
    pb.run_p1(mat, n_cells, solver)
    first = time.perf_counter() - t0
    wall, (model, ds) = pb.timed(lambda: pb.run_p1(mat, n_cells, solver), warmup=False)
    q = pb.p1_quantities(ds)
    opts = solver if solver is not None else SolverOptions()
    rec = {
        "problem": "P1",
        "config": f"N={n_cells}, {label} tolerances",
        "n_cells": n_cells,
        "wall_s": round(wall, 4),
        "first_call_s": round(first, 4),
        **q,
        "error_vs_converged": None,
        "meets_accuracy_1e-4": None,
        "target_s": pb.P1_TARGET_S if n_cells == 200 else None,
        "solver": pb.solver_dict(opts, int(ds.attrs["solver_steps"])),
    }
    if reference is not None:
        err = pb.p1_errors(q, reference["p1"]["reference"])
        rec["error_vs_converged"] = {k: float(f"{v:.3g}") for k, v in err.items()}
        rec["meets_accuracy_1e-4"] = pb.p1_meets(err)
    if rec["target_s"] is not None:
        rec["meets_target_s"] = wall <= pb.P1_TARGET_S
    return rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="only N = 200 with the default tolerances")
    args = ap.parse_args(argv)
    mat = pb.p1_material()
    reference = pb.load_reference()
    if reference is None or "p1" not in reference:
        print("benchmarks/reference.json has no P1 entry: run benchmarks/converge.py --problem p1 "
              "for errors against the converged solution", file=sys.stderr)
        reference = None
    configs = [(200, None, "default")] if args.quick else [
        (n, s, label) for n in pb.P1_N_CELLS for s, label in ((None, "default"), (TUNED, "tuned"))
    ]
    for n, solver, label in configs:
        print(json.dumps(bench(mat, n, solver, label, reference)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
