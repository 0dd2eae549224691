"""[000] side by side with the population model and the SP-ICP-OES analysis (docs/validation.md).

For each of [000]'s protocols a population of NMC532 particles (random 3D contact groups) is
cycled (the last repetition simulated, every charge counted by the contact-loss rule), charged at
6 mA/g to 4.4 V, measured by the synthetic instrument in three replicates and analysed like a
measurement: calibration on synthetic references, ±2σ frame of the expected state, diverging
fractions. Prints one JSON line per protocol.

    python benchmarks/spicp_validation.py [--particles 6000]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

PROTOCOLS = [
    ("slow delithiation to 4.4 V", [], 0.06, None),
    ("100 cycles at 1C", "Repeat 100: [Charge at 1C until 4.2 V, Discharge at 1C until 3.0 V]", 0.08, 4.5),
    ("100 cycles at 2C", "Repeat 100: [Charge at 2C until 4.2 V, Discharge at 2C until 3.0 V]", 0.15, 12.1),
    ("50 cycles at 2C", "Repeat 50: [Charge at 2C until 4.2 V, Discharge at 2C until 3.0 V]", 0.11, 9.5),
    ("100 cycles at 3C", "Repeat 100: [Charge at 3C until 4.2 V, Discharge at 3C until 3.0 V]", 0.10, 10.1),
]
REF_DOL = (1.00, 0.77, 0.59, 0.39, 0.19)


def main(argv=None):
    from socscope.analysis.spicp import (
        calibrate_ratios,
        diverging_fractions,
        dol_from_ratio,
        expected_frame,
        intensity_ratios,
        mixture_fraction,
    )
    from socscope.observe.spicp import spicp_events
    from socscope.simulate.population import simulate_population

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--particles", type=int, default=6000)
    a = p.parse_args(argv)
    rng = np.random.default_rng(2024)
    size = lambda n: 2 * 2.5 * rng.lognormal(-0.5 * np.log1p(0.09), np.sqrt(np.log1p(0.09)), n)
    results = []
    for k, (name, protocol, published, table1) in enumerate(PROTOCOLS):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = simulate_population("nmc532", a.particles, protocol, rng=np.random.default_rng(k),
                                     isolated_fraction=0.06)
        state = float(ds.attrs["connected_mean_dol"])
        if k == 0:  # references: uniform particles at each DOL and at the model's 4.4 V state
            dols = REF_DOL + (round(state, 4),)
            refs = []
            for d in dols:
                ev = spicp_events(np.full(3000, d), size(3000), rng=rng)
                refs.append(intensity_ratios(ev.li_intensity_counts, ev.mn_intensity_counts))
            cal, _ = calibrate_ratios(refs, dols)
        ev = spicp_events(ds.dol.values, ds.diameter_um.values, rng=rng)
        r = intensity_ratios(ev.li_intensity_counts, ev.mn_intensity_counts)
        d, _ = dol_from_ratio(r, cal)
        fr = expected_frame(cal, state)
        reps = dict(zip(("rep1", "rep2", "rep3"), np.array_split(rng.permutation(d), 3)))
        t = diverging_fractions(reps, (fr["dol_low"], fr["dol_high"])).loc["pooled"]
        mix = mixture_fraction(d)
        results.append({
            "protocol": name, "particles": a.particles, "detected": len(ev),
            "isolated_model": round(float(ds.isolated.mean()), 4),
            "outside_frame_raw": round(float(t.fraction_outside), 4),
            "diverging": round(float(t.diverging_fraction), 4), "diverging_se": round(float(t.se), 4),
            "li_rich": round(float(t.li_rich_fraction), 4), "li_poor": round(float(t.li_poor_fraction), 4),
            "mixture": round(mix["weight"], 4), "published_diverging": published,
            "expected_dol": round(state, 4), "frame_dol": [round(fr["dol_low"], 4), round(fr["dol_high"], 4)],
            "inactive_li_model_mAh_g": round(float(ds.attrs["inactive_li_mAh_g"]), 2),
            "published_inactive_mAh_g": table1, "wall_s": round(time.perf_counter() - t0, 1),
        })
        print(json.dumps(results[-1]), flush=True)


if __name__ == "__main__":
    main()
