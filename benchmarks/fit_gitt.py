"""Benchmark: model-based GITT of a 40-pulse train.

Target (the fitting issue): under 1 minute on this machine.

A synthetic record (:func:`socscope.fitting.synthetic.synthetic_gitt_record`): a 2 µm
sphere of ``nmc532`` with D(θ) rising log-linearly over two decades (1e-15 m²/s at
θ = 0.95 to 1e-13 at 0.60), 40 pulses alternating 20 s and 900 s at 32 mA/g, each
followed by a 2 h rest, 40 voltage samples per step, 50 µV noise. Timed:
:func:`socscope.fitting.fit_gitt` (two sweeps, 40 shells, offset and series
resistance, profile-likelihood intervals on the last sweep). Reported besides the
time: the largest error of D on any pulse (and where D < 1e-14 m²/s: above it the
transients of a 2 µm sphere end within ~30 s and pulses become not identifiable), how
many profile intervals of identifiable pulses hold the truth, and the median ratio of the classic
estimate to the truth on the long pulses.

Prints one JSON line.

    python benchmarks/fit_gitt.py
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import socscope as ss  # noqa: E402
from socscope.fitting.gitt import fit_gitt  # noqa: E402
from socscope.fitting.synthetic import synthetic_gitt_record  # noqa: E402
from socscope.materials import Property  # noqa: E402


def d_true(theta):
    return 1e-15 * 10 ** (2 * np.clip((0.95 - np.asarray(theta)) / 0.35, 0, 1))


def main() -> None:
    base = ss.materials.get("nmc532")
    mat = dataclasses.replace(base, D=Property("D", "m2/s", d_true, source="benchmark: two decades"), factory=None)
    pulses = [(20.0, 7200.0), (900.0, 7200.0)] * 20
    t0 = time.perf_counter()
    df = synthetic_gitt_record(mat, radius_m=2e-6, pulses=pulses, specific_current_mA_g=32, mass_g=8e-3,
                               initial_theta=0.95, voltage_noise_V=5e-5, samples_per_step=40, rng=0)
    t_make = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = fit_gitt(df, mat, mass_g=8e-3, radius_m=2e-6, initial_theta=0.95)
    wall = time.perf_counter() - t0
    tab = fit.table
    truth = d_true(tab["theta_mid"].to_numpy())
    err = np.abs(tab["D_model"].to_numpy() / truth - 1)
    long = tab["tau_s"].to_numpy() > 100
    ok = tab["identifiable"].to_numpy(bool)
    covers = (tab["D_lower"].to_numpy() <= truth) & (truth <= tab["D_upper"].to_numpy())
    print(json.dumps({
        "benchmark": "fit_gitt", "pulses": int(len(tab)), "wall_s": round(wall, 1), "make_record_s": round(t_make, 1),
        "max_rel_error_D": round(float(np.nanmax(err)), 4), "median_rel_error_D": round(float(np.nanmedian(err)), 4),
        "D_span_decades": round(float(np.log10(truth.max() / truth.min())), 2),
        "classic_over_true_long_median": round(float(np.nanmedian(tab["D_classic"].to_numpy()[long] / truth[long])), 4),
        "identifiable_pulses": int(ok.sum()), "intervals_covering_truth": int(covers[ok].sum()),
        "max_rel_error_D_below_1e-14": round(float(np.nanmax(err[truth < 1e-14])), 4), "target_s": 60,
    }), flush=True)


if __name__ == "__main__":
    main()
