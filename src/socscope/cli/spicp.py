"""``socscope spicp ...`` (single-particle ICP-OES, Kröger et al.) and ``socscope simulate population``.

No science here: files are read with :mod:`socscope.io.spicp`, analysed with
:mod:`socscope.analysis.spicp`, simulated with
:func:`socscope.simulate.population.simulate_population` and measured with
:func:`socscope.observe.spicp.spicp_events`; outputs are written atomically
with their provenance.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from ..errors import SocscopeError
from ._quicklook import command_provenance
from ._flags import not_an_input, positive

__all__ = ["add_population_parser", "add_spicp_parser"]

#: files ``spicp analyze`` writes into its folder
ANALYZE_OUTPUTS = ("particles.csv", "fractions.csv", "summary.json", "provenance.json", "histogram.png",
                   "fractions.png", "calibration.png")


def _numbers(text: str, flag: str, example: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise SocscopeError(f"{flag} {text!r} must be numbers separated by commas, e.g. {flag} {example}") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise SocscopeError(f"{flag} {text!r} must be finite numbers separated by commas, e.g. {flag} {example}")
    return values


def _columns(args) -> dict | None:
    cols = {k: v for k, v in (("li", args.li_column), ("mn", args.mn_column)) if v}
    return cols or None


def _events(path: Path, args):
    """Per-particle Li and Mn intensities of one file: an event table, or a transient (--transient)."""
    from ..analysis.spicp import detect_events, integrate_events
    from ..io.spicp import read_events, read_transient

    if not args.transient:
        df = read_events(path, columns=_columns(args))
        return df["li_intensity_counts"].to_numpy(), df["mn_intensity_counts"].to_numpy(), None
    tr = read_transient(path, columns=_columns(args))
    ev = detect_events(tr["mn_counts"].to_numpy(), alpha=args.alpha)
    if ev.empty:
        raise SocscopeError(f"{path}: no Mn event above the detection threshold "
                            f"({ev.attrs['threshold']['value']:.4g}); is this a particle transient?")
    li = integrate_events(tr["li_counts"].to_numpy(), ev)
    return np.clip(li, 0, None), ev["intensity"].to_numpy(), ev.attrs["threshold"]


def _cmd_calibrate(args) -> int:
    from ..analysis.spicp import calibrate_ratios, intensity_ratios
    from ..io.results import atomic_target
    from ..io.spicp import write_calibration

    dol = _numbers(args.dol, "--dol", "1.00,0.77,0.59,0.39,0.19")
    files = [Path(f) for f in args.files]
    if len(dol) != len(files):
        raise SocscopeError(f"{len(files)} reference files but {len(dol)} values in --dol; give one DOL per file, in "
                            "the order of the files")
    if any(d > 1.5 for d in dol):
        raise SocscopeError(f"--dol {args.dol}: DOLs are fractions (1.00 = fully lithiated), not percent")
    not_an_input([args.out], files)
    atomic_target(args.out, overwrite=args.overwrite)[1].unlink()
    ratios = []
    for f in files:
        li, mn, _ = _events(f, args)
        ratios.append(intensity_ratios(li, mn, source=str(f)))
    cal, fits = calibrate_ratios(ratios, dol, clip=args.clip, sources=[f.name for f in files])
    prov = command_provenance(args, inputs=files, settings={"dol": dol, "clip": args.clip})
    write_calibration(cal.to_dict(), args.out, overwrite=args.overwrite, provenance=prov)
    if not args.quiet:
        print(f"{'reference':<24} {'DOL':>5} {'particles':>9} {'mean ratio':>11} {'sigma':>8} {'chi2/dof':>9}")
        for f, d, fit in zip(files, dol, fits):
            print(f"{f.name:<24} {d:>5.2f} {fit.n_total:>9d} {fit.mean:>11.5g} {fit.sigma:>8.4g} "
                  f"{fit.chi2 / fit.dof:>9.2f}")
        lo, hi = cal.ci95("slope")
        print(f"ratio = {cal.intercept:.5g} (± {cal.intercept_se:.2g}) + {cal.slope:.5g} (± {cal.slope_se:.2g}) · DOL; "
              f"slope 95 % interval [{lo:.5g}, {hi:.5g}]; chi2 = {cal.chi2:.3g} on {cal.dof} dof")
        print(f"wrote {args.out}")
    return 0


def _cmd_analyze(args) -> int:
    import pandas as pd

    from ..analysis.spicp import (
        Threshold,
        diverging_fractions,
        dol_from_ratio,
        expected_frame,
        intensity_ratios,
        load_calibration,
        mixture_fraction,
        size_detection_limit,
    )
    from ..io.results import check_output_folder, write_text_atomic

    files = [Path(f) for f in args.files]
    out = Path(args.out)
    not_an_input([out / n for n in ANALYZE_OUTPUTS], files + [Path(args.calibration)])
    check_output_folder(out, ANALYZE_OUTPUTS, overwrite=args.overwrite)
    if not (math.isfinite(args.expected_dol) and 0.0 <= args.expected_dol <= 1.2):
        raise SocscopeError(f"--expected-dol {args.expected_dol:g} must be a fraction in [0, 1.2], e.g. 0.19")
    cal = load_calibration(args.calibration)
    frame = expected_frame(cal, args.expected_dol)
    lo, hi = frame["dol_low"], frame["dol_high"]
    reps, rows, thresholds, names = {}, [], {}, []
    for f in files:
        li, mn, th = _events(f, args)
        r = intensity_ratios(li, mn, source=str(f))
        d, u = dol_from_ratio(r, cal)
        name = f.stem if f.stem not in names else str(f)
        names.append(name)
        reps[name] = d
        if th is not None:
            thresholds[name] = th
        rows.append(pd.DataFrame({"replicate": name, "li_intensity_counts": li, "mn_intensity_counts": mn,
                                  "ratio": r, "dol": d, "dol_u": u, "outside": (d < lo) | (d > hi),
                                  "li_rich": d > hi, "li_poor": d < lo}))
    table = diverging_fractions(reps, (lo, hi), clip=args.clip)
    mix = mixture_fraction(np.concatenate(list(reps.values())))
    summary = {"expected_dol": args.expected_dol, "frame": frame, "calibration": args.calibration,
               "pooled": {k: float(v) for k, v in table.loc["pooled"].items()}, "mixture": mix,
               "n_replicates": len(files)}
    if thresholds:
        summary["thresholds"] = thresholds
        if args.median_diameter_um:
            mn_all = pd.concat(rows)["mn_intensity_counts"]
            summary["size_detection_limit_um"] = {
                k: size_detection_limit(Threshold(**v), mn_all, median_diameter_um=args.median_diameter_um)
                for k, v in thresholds.items()}
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "particles.csv", pd.concat(rows).to_csv(index=False))
    write_text_atomic(out / "fractions.csv", table.to_csv())
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2, default=float) + "\n")
    from ..io.results import write_provenance
    write_provenance(out, command_provenance(args, inputs=files + [Path(args.calibration)],
                                             settings={"expected_dol": args.expected_dol}))
    if not args.no_figures:
        from ..plotting._common import save_figure
        from ..plotting.spicp import (
            plot_calibration,
            plot_diverging_fractions,
            plot_spicp_histogram,
        )

        refs = cal.references
        frames = [(a, b, f"DOL {d:.2f}") for a, b, d in zip(refs["dol_frame_low"], refs["dol_frame_high"], refs["dol"])]
        save_figure(plot_spicp_histogram(reps, frames=frames, expected=(lo, hi)), out / "histogram.png")
        save_figure(plot_diverging_fractions(table), out / "fractions.png")
        save_figure(plot_calibration(cal), out / "calibration.png")
    if not args.quiet:
        print(f"frame of DOL {args.expected_dol:g} ({frame['source']}): DOL {lo:.3f} .. {hi:.3f}")
        print(f"{'replicate':<24} {'particles':>9} {'outside':>8} {'diverging':>10} {'Li-rich':>8} {'Li-poor':>8}")
        for name, row in table.iterrows():
            print(f"{name!s:<24} {int(row.n_particles):>9d} {100 * row.fraction_outside:>7.2f}% "
                  f"{100 * row.diverging_fraction:>6.2f}±{100 * row.se:.2f}% {100 * row.li_rich_fraction:>7.2f}% "
                  f"{100 * row.li_poor_fraction:>7.2f}%")
        print(f"mixture (Gaussian + flat): diverging {100 * mix['weight']:.2f} ± {100 * mix['weight_se']:.2f} %")
        print(f"wrote {out}/")
    return 0


def _cmd_inactive(args) -> int:
    from ..analysis.spicp import inactive_li_capacity

    total = _numbers(args.total_li_mAh_g, "--total-li-mAh-g", "150.2,151.0")
    rec = _numbers(args.recovered_mAh_g, "--recovered-mAh-g", "140.1")
    if args.total_se_mAh_g is not None and args.total_se_mAh_g < 0:
        raise SocscopeError(f"--total-se-mAh-g {args.total_se_mAh_g:g} must be >= 0")
    if args.recovered_se_mAh_g is not None and args.recovered_se_mAh_g < 0:
        raise SocscopeError(f"--recovered-se-mAh-g {args.recovered_se_mAh_g:g} must be >= 0")
    r = inactive_li_capacity(total, rec, total_se_mAh_g=args.total_se_mAh_g,
                             recovered_se_mAh_g=args.recovered_se_mAh_g)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"total Li {r['total_mAh_g']:.2f} ± {r['total_se_mAh_g']:.2f} mAh/g ({r['n_total']} value(s)), "
              f"recovered {r['recovered_mAh_g']:.2f} ± {r['recovered_se_mAh_g']:.2f} mAh/g ({r['n_recovered']}): "
              f"inactive Li {r['inactive_mAh_g']:.2f} ± {r['inactive_se_mAh_g']:.2f} mAh/g")
    return 0


def add_spicp_parser(sub) -> None:
    """Add ``spicp calibrate|analyze|inactive-li`` to the top-level sub-parsers."""
    s = sub.add_parser("spicp", help="single-particle ICP-OES: calibrate, analyse, inactive Li (Kröger et al.)",
                       description="Single-particle ICP-OES of cathode particles (Kröger et al.): Li/Mn ratio "
                                   "per particle, matrix-matched calibration, diverging fractions, inactive Li.")
    ss = s.add_subparsers(dest="what", metavar="WHAT")

    def common(p):
        p.add_argument("--li-column", help="header of the Li column (default: found by name, e.g. 'Li 670.776')")
        p.add_argument("--mn-column", help="header of the Mn column (default: found by name)")
        p.add_argument("--transient", action="store_true",
                       help="the files are time-resolved transients: detect Mn events, integrate Li over them")
        p.add_argument("--alpha", type=float, default=1e-6,
                       help="false-positive probability per reading of the detection threshold (default 1e-6)")
        p.add_argument("--clip", type=float, default=2.5, help="clipping window of the main-population fit [σ] "
                                                               "(default 2.5)")
        p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
        p.add_argument("--quiet", action="store_true", help="print nothing on success")

    c = ss.add_parser("calibrate", help="fit mean ratio against reference DOL (matrix-matched)",
                      description="Fit the main population of each reference's I(Li)/I(Mn) and a weighted line of "
                                  "mean ratio against DOL; write the calibration (TOML).",
                      epilog="example: socscope spicp calibrate ref_*.csv --dol 1.00,0.77,0.59,0.39,0.19 --out cal.toml")
    c.add_argument("files", nargs="+", help="event tables of the references (CSV/TXT)")
    c.add_argument("--dol", required=True, help="reference DOL of each file, in order, e.g. 1.00,0.77,0.59")
    c.add_argument("--out", required=True, help="calibration file (.toml)")
    common(c)
    c.set_defaults(func=_cmd_calibrate)

    a = ss.add_parser("analyze", help="per-particle DOL and diverging fractions of a sample",
                      description="DOL of every particle, the ±2σ frame of the expected state, the share of "
                                  "particles outside it (per replicate and pooled, Li-rich and Li-poor) and figures.",
                      epilog="example: socscope spicp analyze sample_rep*.csv --calibration cal.toml "
                             "--expected-dol 0.19 --out spicp/")
    a.add_argument("files", nargs="+", help="event tables of the sample's replicates")
    a.add_argument("--calibration", required=True, help="file from 'socscope spicp calibrate'")
    a.add_argument("--expected-dol", type=float, required=True, help="DOL the sample should have, e.g. 0.19")
    a.add_argument("--median-diameter-um", type=float,
                   help="median particle diameter [µm]: with --transient, report the size detection limit")
    a.add_argument("--no-figures", action="store_true", help="write tables only")
    a.add_argument("--out", required=True, help="output folder")
    common(a)
    a.set_defaults(func=_cmd_analyze)

    i = ss.add_parser("inactive-li", help="capacity equivalent of inactive Li (Kröger et al. Table 1)",
                      description="Total Li (digestion ICP-OES, as capacity) minus the capacity recovered against "
                                  "Li metal at C/20, with uncertainty (replicates: comma-separated values).",
                      epilog="example: socscope spicp inactive-li --total-li-mAh-g 150.1,151.3 --recovered-mAh-g 141.2")
    i.add_argument("--total-li-mAh-g", required=True, help="capacity equivalent of the total Li [mAh/g] (values)")
    i.add_argument("--recovered-mAh-g", required=True, help="recovered charge capacity [mAh/g] (values)")
    i.add_argument("--total-se-mAh-g", type=float, help="uncertainty of the total (default: replicates' s.d.)")
    i.add_argument("--recovered-se-mAh-g", type=float, help="uncertainty of the recovered capacity")
    i.add_argument("--json", action="store_true", help="print the result as JSON")
    i.set_defaults(func=_cmd_inactive)
    from ._common import _usage

    s.set_defaults(func=lambda _a: _usage(s))


# ---------------------------------------------------------------------------------------------
# simulate population
# ---------------------------------------------------------------------------------------------

def _cmd_population(args) -> int:
    from .._provenance import attach_provenance
    from ..io.results import atomic_target, save_results, write_text_atomic
    from ..observe.spicp import spicp_events
    from ..simulate.population import ContactLossRule, simulate_population
    from ._common import _material_from_args

    if not 1 <= args.particles <= 1_000_000:
        raise SocscopeError(f"--particles {args.particles} must be in 1..1000000, e.g. 20000")
    if not (math.isfinite(args.isolated) and 0 <= args.isolated < 1):
        raise SocscopeError(f"--isolated {args.isolated:g} must lie in [0, 1), e.g. 0.06")
    if args.seed < 0:
        raise SocscopeError(f"--seed {args.seed} must be >= 0")
    if args.workers < 1:
        raise SocscopeError(f"--workers {args.workers} must be >= 1, e.g. 2")
    positive(args.mean_radius_um, "--mean-radius-um", 2.5)
    if args.spicp is not None and Path(args.spicp).resolve() == Path(args.out).resolve():
        raise SocscopeError(f"--spicp {args.spicp} and --out {args.out} are the same file; choose two names")
    for t in [args.out] + ([args.spicp] if args.spicp else []):
        atomic_target(t, overwrite=args.overwrite)[1].unlink()
    ratio_cv = args.ratio_cv
    if args.ratio_cv_from is not None:
        if args.spicp is None:
            raise SocscopeError("--ratio-cv-from sets the plasma spread of the synthetic measurement; add --spicp FILE")
        from ..analysis.spicp import load_calibration

        refs = load_calibration(args.ratio_cv_from).references
        ratio_cv = float(np.median(refs["sigma_ratio"] / refs["mean_ratio"].abs()))
        if not (math.isfinite(ratio_cv) and 0 < ratio_cv < 1):
            raise SocscopeError(f"--ratio-cv-from {args.ratio_cv_from}: the references' relative width {ratio_cv:g} "
                                "is not in (0, 1); give --ratio-cv instead")
    elif not (math.isfinite(ratio_cv) and 0 <= ratio_cv < 1):
        raise SocscopeError(f"--ratio-cv {ratio_cv:g} must lie in [0, 1), e.g. 0.08")
    rule = None if args.no_contact_loss else ContactLossRule(k_per_cycle=args.k_per_cycle, exponent=args.rate_exponent)
    material = _material_from_args(args)
    rng = np.random.default_rng(args.seed)
    bar = None
    if not args.quiet:
        import sys

        from tqdm import tqdm

        bar = tqdm(total=args.particles, desc="population", unit="particle", file=sys.stderr)

    def progress(done, total):
        if bar is not None:
            bar.update(done - bar.n)

    try:
        ds = simulate_population(
            material, args.particles, args.protocol or (), rng=rng, isolated_fraction=args.isolated,
            contact_loss=rule, mean_radius=args.mean_radius_um * 1e-6, radius_cv=args.radius_cv,
            network=args.network, group_size=args.group_size, final_charge=args.final_charge,
            simulate_cycles=args.simulate_cycles, initial_theta=args.initial_theta, n_shells=args.n_shells,
            workers=args.workers, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    inputs = [p for p in (args.material, args.ratio_cv_from) if p and Path(p).is_file()]
    prov = command_provenance(args, inputs=inputs, seed=args.seed,
                              settings={"particles": args.particles, "isolated": args.isolated})
    save_results(attach_provenance(ds, prov), args.out, overwrite=args.overwrite)
    if args.spicp:
        ev = spicp_events(ds.dol.values, ds.diameter_um.values, rng=rng, ratio_cv=ratio_cv,
                          min_diameter_um=args.min_diameter_um)
        text = f"# provenance = {json.dumps(prov, default=str)}\n" + ev.to_csv(index=False)
        write_text_atomic(args.spicp, text)
    if not args.quiet:
        dol = ds.dol.values
        a = ds.attrs
        print(f"wrote {args.out}: {a['n_particles']} particles, isolated {100 * a['isolated_fraction_final']:.2f} % "
              f"(initial {100 * a['isolated_fraction_initial']:.2f} %, {a['charges_counted']} charges counted); "
              f"DOL median {np.median(dol):.4f}, connected mean {a['connected_mean_dol']:.4f}; "
              f"inactive Li {a['inactive_li_mAh_g']:.2f} mAh/g")
        if args.spicp:
            print(f"wrote {args.spicp}: {len(ev)} detected particles (of {dol.size}; smaller than "
                  f"{args.min_diameter_um:g} µm not detected)")
    return 0


def add_population_parser(ssub) -> None:
    """Add ``simulate population`` to the ``simulate`` sub-parsers."""
    from ..simulate.population import FINAL_CHARGE

    p = ssub.add_parser(
        "population", help="a particle population cycled and slowly charged, for SP-ICP-OES (Kröger et al.)",
        description="Thousands of particles in contact groups of the network electrode, with size, carbon-contact "
                    "and isolation distributions, cycled by a protocol and finished by a slow charge to 4.4 V; "
                    "optionally measured by a synthetic SP-ICP-OES instrument.",
        epilog='example: socscope simulate population --material nmc532 --particles 20000 --protocol '
               '"Repeat 100: [Charge at 1C until 4.2 V, Discharge at 1C until 3.0 V]" --isolated 0.06 '
               '--out pop.nc --spicp pop_events.csv',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--material", default="nmc532", help="built-in name or material file (default nmc532)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="material parameter (repeatable)")
    p.add_argument("--particles", type=int, default=2000, help="particles in the population (default 2000)")
    p.add_argument("--protocol", nargs="*", metavar="SENTENCE", help="cycling before the final charge")
    p.add_argument("--final-charge", default=FINAL_CHARGE, help=f"final step(s) (default {FINAL_CHARGE!r})")
    p.add_argument("--simulate-cycles", type=int, default=1, help="repetitions of a Repeat block simulated "
                                                                  "(the others count for contact loss; default 1)")
    p.add_argument("--isolated", type=float, default=0.06, help="share isolated from the start (default 0.06)")
    p.add_argument("--no-contact-loss", action="store_true", help="no growth of isolation with cycling")
    p.add_argument("--k-per-cycle", type=float, default=2.15e-4, help="contact loss per 1C charge (default 2.15e-4)")
    p.add_argument("--rate-exponent", type=float, default=2.23, help="C-rate exponent of contact loss (default 2.23)")
    p.add_argument("--mean-radius-um", type=float, default=2.5, help="mean particle radius [µm] (default 2.5)")
    p.add_argument("--radius-cv", type=float, default=0.3, help="coefficient of variation of radii (default 0.3)")
    p.add_argument("--network", choices=["random", "wired"], default="random",
                   help="contact groups as random 3D electrodes, or every particle wired alike (default random)")
    p.add_argument("--group-size", type=int, default=200, help="particles per contact group (default 200)")
    p.add_argument("--initial-theta", type=float, default=0.97, help="initial occupancy (default 0.97)")
    p.add_argument("--n-shells", type=int, default=6, help="radial shells per particle (default 6)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--workers", type=int, default=1, help="batches solved at once in separate processes (default 1)")
    p.add_argument("--spicp", metavar="EVENTS.csv", help="also write a synthetic SP-ICP-OES event table")
    p.add_argument("--ratio-cv", type=float, default=0.08, help="plasma spread of the Li/Mn ratio (default 0.08)")
    p.add_argument("--ratio-cv-from", metavar="CAL.toml",
                   help="take the plasma spread from a calibration: the median relative width (σ/mean) of its "
                        "references (it includes their counting noise, so it is an upper bound)")
    p.add_argument("--min-diameter-um", type=float, default=2.0, help="size detection limit [µm] (default 2)")
    p.add_argument("--out", required=True, help="results file (.nc)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--quiet", action="store_true", help="no progress bar or report")
    p.set_defaults(func=_cmd_population)
