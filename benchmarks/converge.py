"""Refine mesh and tolerances until the reported quantities settle; write reference.json.

P1: radial cells 1000 -> 8000 at rtol = 1e-8, then rtol 1e-6 -> 1e-9 on the
finest mesh. P2 (polar disc grid): resolution R/40 -> R/160 (cell count doubling each time) at
rtol = 1e-6, and rtol 1e-6 vs 1e-7 at R/80 for the time error. Each run prints
one JSON line; the reference is the finest run, stored with both ladders and
the change between their last two rungs.

    python benchmarks/converge.py                 # both problems (P2 takes ~20 min on 2 cores)
    python benchmarks/converge.py --problem p1    # P1 only (~15 s)
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time

import numpy as np

import socscope as ss
from socscope.numerics import SolverOptions

import problems as pb

P1_MESHES = (1000, 2000, 4000, 8000)
P1_MESH_SOLVER = SolverOptions(rtol=1e-8, atol=1e-10)
P1_TOLERANCES = (1e-6, 1e-7, 1e-8, 1e-9)  # atol = rtol / 100

P2_DIVISIONS = (40, 56, 80, 113, 160)
P2_MESH_SOLVER = SolverOptions(rtol=1e-6, atol=1e-8)
P2_TOLERANCE_DIVISION = 80
P2_TOLERANCES = (1e-6, 1e-7)


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _p1_run(mat, n: int, opts: SolverOptions) -> dict:
    t0 = time.perf_counter()
    _, ds = pb.run_p1(mat, n, opts)
    wall = time.perf_counter() - t0
    rec = {"problem": "P1", "n_cells": n, "solver": pb.solver_dict(opts, int(ds.attrs["solver_steps"])),
           "wall_s": round(wall, 3), **pb.p1_quantities(ds)}
    _emit(rec)
    return rec


def _ladder_entry(rec: dict, keys) -> dict:
    return {k: rec[k] for k in keys}


def converge_p1() -> dict:
    mat = pb.p1_material()
    keys = ("loss", "t_lith_s", "theta_mean_end", "theta_centre_end")
    mesh = [_p1_run(mat, n, P1_MESH_SOLVER) for n in P1_MESHES]
    n_fine = P1_MESHES[-1]
    tol = []
    for rtol in P1_TOLERANCES:
        if rtol == P1_MESH_SOLVER.rtol:
            tol.append(mesh[-1])
        else:
            tol.append(_p1_run(mat, n_fine, SolverOptions(rtol=rtol, atol=float(f"{rtol / 100:g}"))))
    ref = {k: tol[-1][k] for k in keys}
    d_mesh = pb.max_abs_change({k: mesh[-1][k] for k in keys}, {k: mesh[-2][k] for k in keys})
    d_tol = pb.max_abs_change({k: tol[-1][k] for k in keys}, {k: tol[-2][k] for k in keys})
    return {
        "definition": "shared benchmarks README, P1 (5 µm sphere, D = 1e-4*10**(-12 + 2/(1+exp((θ-0.87)/0.03))) m²/s, "
                      "C/3 charge 2.4 h, C/3 discharge to surface θ 0.995, surface θ hold 0.995 for 2 h)",
        "quantities": {"loss": "0.97 - mean θ at the end of step 2", "t_lith_s": "duration of step 2 [s]",
                       "theta_mean_end": "mean θ after step 3", "theta_centre_end": "centre θ after step 3"},
        "reference": ref,
        "reference_run": {"n_cells": n_fine, "solver": tol[-1]["solver"]},
        "how": f"radial cells {list(P1_MESHES)} at rtol={P1_MESH_SOLVER.rtol:g}, atol={P1_MESH_SOLVER.atol:g}; "
               f"then rtol {list(P1_TOLERANCES)} (atol = rtol/100) at {n_fine} cells; reference = the last run",
        "change_last_two_meshes": d_mesh,
        "change_last_two_tolerances": d_tol,
        "mesh_ladder": [_ladder_entry(r, ("n_cells", "solver", "wall_s") + keys) for r in mesh],
        "tolerance_ladder": [_ladder_entry(r, ("n_cells", "solver", "wall_s") + keys) for r in tol],
    }


def _p2_run(mat, division: int, case: str, opts: SolverOptions) -> dict:
    t0 = time.perf_counter()
    model, ds = pb.run_p2(mat, division, case, opts)
    wall = time.perf_counter() - t0
    rec = {"problem": "P2", "case": case, "division": division, "n_cells": int(model.grid.n_cells),
           "solver": pb.solver_dict(opts, int(ds.attrs["solver_steps"])), "wall_s": round(wall, 3),
           **pb.p2_check_factors(model, case), **pb.p2_quantities(ds)}
    _emit(rec)
    return rec


def _linear_in_h(records: list, key: str) -> dict:
    """Least-squares ``q = a + b h`` over the given runs, per time (an error estimate)."""
    h = np.array([1.0 / r["division"] for r in records])
    out = {}
    for t in records[0][key]:
        q = np.array([r[key][t] for r in records])
        b, a = np.polyfit(h, q, 1)
        out[t] = {"h_to_0": float(a), "finest_minus_h_to_0": float(q[-1] - a),
                  "max_residual": float(np.max(np.abs(q - (a + b * h))))}
    return out


def converge_p2(divisions) -> dict:
    mat = pb.p2_material()
    out = {
        "definition": "shared benchmarks README, P2 (2 µm disc, D = 1e-4*10**(-14 + 2/(1+exp((θ-0.87)/0.03))) m²/s, "
                      "C/3 for 1 h, perimeter flux uniform or 0.1 / 1.3 on |φ| < π/4 / elsewhere)",
        "quantities": {"theta_centre_by_min": "θ of the cell at the disc centre every 5 min",
                       "dtheta_by_min": "max θ - min θ over cells and reconstructed perimeter values at 10 and 30 min"},
        "resolution": "R / division, R = 1 µm",
        "cases": {},
    }
    for case in pb.P2_CASES:
        mesh = [_p2_run(mat, d, case, P2_MESH_SOLVER) for d in divisions]
        tol = []
        for rtol in P2_TOLERANCES:
            if rtol == P2_MESH_SOLVER.rtol and P2_TOLERANCE_DIVISION in divisions:
                tol.append(mesh[list(divisions).index(P2_TOLERANCE_DIVISION)])
            else:
                tol.append(_p2_run(mat, P2_TOLERANCE_DIVISION, case, SolverOptions(rtol=rtol, atol=float(f"{rtol / 100:g}"))))
        keys = ("theta_centre_by_min", "dtheta_by_min")
        fine = mesh[-1]
        extra = {k: fine[k] for k in ("flux_factors", "gamma") if k in fine}
        out["cases"][case] = {
            "reference": {k: fine[k] for k in keys},
            "reference_run": {"division": fine["division"], "n_cells": fine["n_cells"], "solver": fine["solver"], **extra},
            "how": f"resolution R/{list(divisions)} at rtol={P2_MESH_SOLVER.rtol:g}, atol={P2_MESH_SOLVER.atol:g}; "
                   f"time error from rtol {list(P2_TOLERANCES)} at R/{P2_TOLERANCE_DIVISION}; reference = the finest mesh",
            "change_last_two_meshes": pb.max_abs_change({k: mesh[-1][k] for k in keys}, {k: mesh[-2][k] for k in keys}),
            "change_last_two_tolerances": pb.max_abs_change({k: tol[-1][k] for k in keys}, {k: tol[-2][k] for k in keys}),
            "dtheta_linear_in_h_last_four": _linear_in_h(mesh[-4:], "dtheta_by_min") if len(mesh) >= 4 else None,
            "mesh_ladder": [_ladder_entry(r, ("division", "n_cells", "solver", "wall_s") + keys) for r in mesh],
            "tolerance_ladder": [_ladder_entry(r, ("division", "n_cells", "solver", "wall_s") + keys) for r in tol],
        }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problem", choices=("p1", "p2", "all"), default="all")
    ap.add_argument("--p2-divisions", default=",".join(map(str, P2_DIVISIONS)),
                    help="comma-separated R/division ladder for P2 (default %(default)s)")
    args = ap.parse_args(argv)
    ref = pb.load_reference() or {}
    meta = {
        "socscope_version": ss.__version__,
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }
    if args.problem in ("p1", "all"):
        ref["p1"] = {**converge_p1(), **meta}
    if args.problem in ("p2", "all"):
        divisions = tuple(int(x) for x in args.p2_divisions.split(","))
        ref["p2"] = {**converge_p2(divisions), **meta}
    pb.save_reference(ref)
    print(f"wrote {pb.REFERENCE_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
