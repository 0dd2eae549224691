"""Benchmark: fitting α and k0 to a 200-frame movie of one 2 µm particle.

Target (the fitting issue): under 2 minutes on this machine.

A synthetic record is made with known α = 4 and k0 = 0.3·k0_ref of ``ni88-xu2022``
(:func:`socscope.fitting.synthetic.synthetic_particle_record`): a 2 µm disc at
34.7 nm pixels, charged at 140 mA/g for 30 min, 200 frames through the optical
model (265 nm PSF, reference spot, random drift, shot noise at 2e4 photons per
unit intensity), voltage every 10 s with 1 mV noise. Then, timed:
:func:`~socscope.fitting.particle.prepare_particle_data` (drift correction on the
spot, crop, noise model; 60 of the frames compared, evenly spaced, as the command line does
by default) and :func:`~socscope.fitting.particle.fit_particle_movie`
with α and k0 free, two starts and profile-likelihood intervals. The particle is
simulated as ``--shape`` (default the mask itself, coarsened to ``--cells-across``
cells; ``sphere`` for the surrogate) against a record made with the same model,
at full resolution for the mask.

Prints one JSON line per shape.

    python benchmarks/fit_particle.py
    python benchmarks/fit_particle.py --shape sphere
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import socscope as ss  # noqa: E402
from socscope.fitting._model import reference_rate_constant  # noqa: E402
from socscope.fitting.particle import fit_particle_movie, prepare_particle_data  # noqa: E402
from socscope.fitting.synthetic import synthetic_particle_record  # noqa: E402


def run(shape: str, cells_across: int | None, frames: int, max_frames: int) -> dict:
    mat = ss.materials.get("ni88-xu2022")
    k0 = 0.3 * reference_rate_constant(mat)
    px = 34.7
    n = int(round(2000 / px))
    yy, xx = np.mgrid[:n, :n]
    disc = (yy - (n - 1) / 2) ** 2 + (xx - (n - 1) / 2) ** 2 < (n / 2) ** 2
    t0 = time.perf_counter()
    rec = synthetic_particle_record(mat, disc, pixel_size_nm=px, alpha=4.0, k0=k0, specific_current_mA_g=140.0,
                                    duration_s=1800.0, n_frames=frames, shape=shape, pad_px=50, rng=1)
    t_make = time.perf_counter() - t0
    t0 = time.perf_counter()
    data = prepare_particle_data(rec.frames, rec.time_s, pixel_size_nm=px, cycler=rec.cycler, mass_g=rec.mass_g,
                                 labels=rec.labels, reference_spot=rec.reference_spot, max_frames=max_frames)
    radius = math.sqrt(disc.sum() / math.pi) * px * 1e-9 if shape == "sphere" else None
    res = fit_particle_movie(data, mat, free=("alpha", "k0"), shape=shape, radius_m=radius,
                             cells_across=cells_across, rng=0)
    wall = time.perf_counter() - t0
    lo_a, hi_a = res.intervals.get("alpha", (math.nan, math.nan))
    lo_k, hi_k = res.intervals.get("k0", (math.nan, math.nan))
    return {"benchmark": "fit_particle", "shape": shape, "cells_across": cells_across, "frames": frames,
            "frames_compared": int(data.time_s.size),
            "pixels_in_particle": int(disc.sum()), "wall_s": round(wall, 1), "make_record_s": round(t_make, 1),
            "evaluations": res.diagnostics.get("nfev"), "alpha": round(res.values["alpha"], 4),
            "alpha_interval": [round(lo_a, 4), round(hi_a, 4)], "alpha_true": 4.0,
            "k0_over_true": round(res.values["k0"] / k0, 4),
            "k0_interval_over_true": [round(lo_k / k0, 4), round(hi_k / k0, 4)],
            "identifiable": res.identifiable, "target_s": 120}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=("mask", "sphere"), default="mask")
    ap.add_argument("--cells-across", type=int, default=None)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--max-frames", type=int, default=60,
                    help="frames compared, evenly spaced (the command line's default, 60)")
    a = ap.parse_args()
    print(json.dumps(run(a.shape, a.cells_across, a.frames, a.max_frames)), flush=True)


if __name__ == "__main__":
    main()
