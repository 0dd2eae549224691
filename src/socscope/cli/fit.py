"""``socscope fit particle|gitt|electrode``: measurements in, fitted parameters with intervals out.

No science here: arguments are parsed and checked, :mod:`socscope.fitting` does
the work, and every output is written atomically into ``--out`` (existing
outputs are replaced only with ``--overwrite``; an input is never replaced).
Each folder gets ``provenance.json`` (command, version, input SHA-256, seed,
settings) and ``fit.json`` (values, intervals, verdict, diagnostics).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import SocscopeError
from ._quicklook import command_provenance
from ._common import _usage
from ._flags import not_an_input, positive

__all__ = ["ELECTRODE_OUTPUTS", "GITT_OUTPUTS", "PARTICLE_OUTPUTS", "add_fit_parser"]

PARTICLE_OUTPUTS = ("fit.json", "parameters.csv", "comparison.nc", "simulation.nc", "residual_maps.png",
                    "traces.png", "side_by_side.tif", "provenance.json")
GITT_OUTPUTS = ("fit.json", "gitt_fit.csv", "material.toml", "material.csv", "gitt_fit.png", "provenance.json")
ELECTRODE_OUTPUTS = ("fit.json", "parameters.csv", "onsets.csv", "onsets.png", "electrode.nc", "provenance.json")


def add_fit_parser(sub) -> None:
    """Register ``socscope fit`` and its three subcommands."""
    f = sub.add_parser("fit", help="fit model parameters to a movie, a GITT record or onset maps",
                       description="Fit model parameters, with profile-likelihood intervals and a 'not "
                                   "identifiable' verdict when the data cannot determine them.")
    fsub = f.add_subparsers(dest="fit_command", metavar="{particle,gitt,electrode}")
    f.set_defaults(func=lambda args: _usage(f))

    p = fsub.add_parser("particle", help="α, D(θ) shape, k0, calibration of one particle from its movie",
                        description="Fit one particle's transport and kinetics to its operando optical movie and "
                                    "the cycler's current and voltage.")
    p.add_argument("movie", help="image stack (TIFF) of the particle(s)")
    p.add_argument("--cycler", required=True, help="cycler file (current and voltage) on the movie's clock")
    p.add_argument("--particle", type=int, help="label of the particle (segmentation order); default the largest")
    p.add_argument("--pixel-size-nm", type=float, help="pixel size [nm] (default: from the file)")
    p.add_argument("--material", default="ni88-xu2022", help="material name or file (default ni88-xu2022)")
    p.add_argument("--free", default="alpha,k0", help="parameters to fit, comma-separated, from alpha, d_shape, k0, "
                                                     "contrast_full (default alpha,k0)")
    _mass_flags(p)
    p.add_argument("--frame-interval-s", type=float, help="time between frames [s] (overrides the file)")
    p.add_argument("--time-offset-s", type=float, default=0.0, help="cycler time of the first frame [s]")
    p.add_argument("--drift", choices=("gaussian", "xcorr", "none"), default="gaussian", help="drift correction")
    p.add_argument("--reference-spot", help="Y,X of the drift reference spot [px] (default: picked)")
    p.add_argument("--max-frames", type=int, default=60, help="frames compared, evenly spaced (default 60)")
    p.add_argument("--shape", choices=("mask", "sphere"), default="mask",
                   help="simulate the particle's own outline (default) or a sphere surrogate")
    p.add_argument("--cells-across", type=int, help="coarsen the outline to about this many cells across")
    p.add_argument("--initial-theta", type=float, default=0.97, help="occupancy at the first frame (default 0.97)")
    p.add_argument("--psf-fwhm-nm", type=float, default=265.0, help="FWHM of the microscope's PSF [nm]")
    p.add_argument("--no-voltage", action="store_true", help="leave the voltage out of the objective")
    _common(p)
    p.set_defaults(func=cmd_fit_particle)

    g = fsub.add_parser("gitt", help="D per pulse of a GITT record with the particle model",
                        description="Model-based GITT: D per pulse from the full particle model with kinetics, "
                                    "beside the classic Weppner–Huggins estimate; writes a material file.")
    g.add_argument("cycler", help="cycler file of the GITT train")
    g.add_argument("--mass-mg", type=float, required=True, help="active mass [mg]")
    g.add_argument("--material", required=True, help="material supplying U(θ), i0(θ) and the scalars")
    g.add_argument("--radius-um", type=float, required=True, help="particle radius [µm]")
    g.add_argument("--initial-theta", type=float, default=0.97, help="occupancy at the start (default 0.97)")
    g.add_argument("--n-shells", type=int, default=40, help="radial shells (default 40)")
    g.add_argument("--no-series-resistance", action="store_true", help="fit no series resistance")
    g.add_argument("--ocv", choices=("material", "measured"), default="material",
                   help="OCP of the model: the material's (default) or the record's relaxed voltages")
    _common(g, seed=False)
    g.set_defaults(func=cmd_fit_gitt)

    e = fsub.add_parser("electrode", help="σ scale, carbon coverage, contact size from onsets of a first charge",
                        description="Fit the wiring of a network electrode to the per-particle onsets measured by "
                                    "the optical pipeline, on a layout taken from the same movie.")
    e.add_argument("movie", help="image stack (TIFF) of the electrode")
    e.add_argument("--cycler", required=True, help="cycler file on the movie's clock")
    e.add_argument("--layout-from-movie", action="store_true", required=True,
                   help="take the layout from the movie's particles (the one layout source)")
    e.add_argument("--free", default="sigma_scale", help="from sigma_scale, coverage, contact_scale (default sigma_scale)")
    e.add_argument("--material", default="nmc532-sharma2022", help="material with σ(θ) (default nmc532-sharma2022)")
    e.add_argument("--pixel-size-nm", type=float, help="pixel size [nm] (default: from the file)")
    _mass_flags(e)
    e.add_argument("--protocol", default="Charge at C/20 until 4.3 V", help="the first charge as run")
    e.add_argument("--collector", choices=("bottom", "top", "left", "right"), default="bottom",
                   help="image edge at the current collector")
    e.add_argument("--coverage", type=float, default=0.5, help="carbon coverage when held (default 0.5)")
    e.add_argument("--carbon-particles", help="labels of the particles that carry carbon, comma-separated "
                                              "(default all)")
    e.add_argument("--contact-scale", type=float, default=1.0,
                   help="size of the NMC contacts relative to the pixel contacts, when held (default 1)")
    e.add_argument("--onset-noise", type=float, default=0.01, help="standard deviation of an onset [SOC]")
    e.add_argument("--frame-interval-s", type=float, help="time between frames [s] (overrides the file)")
    e.add_argument("--drift", choices=("gaussian", "xcorr", "none"), default="gaussian", help="drift correction")
    e.add_argument("--reference-spot", help="Y,X of the drift reference spot [px] (default: picked)")
    _common(e)
    e.set_defaults(func=cmd_fit_electrode)


def _mass_flags(p) -> None:
    p.add_argument("--mass-mg", type=float, help="active mass of the electrode [mg]")
    p.add_argument("--capacity-mAh", type=float,
                   help="cell capacity [mAh] instead of --mass-mg (mass = capacity / the material's practical "
                        "capacity)")


def _map_starts(args):
    """How the fit runs its starts: in this process, or on the Dask cluster of ``--scheduler``."""
    if not getattr(args, "scheduler", None):
        return None
    import functools

    from ..sweep import map_points

    return functools.partial(map_points, scheduler=args.scheduler)


def _common(p, seed: bool = True) -> None:
    if seed:
        p.add_argument("--seed", type=int, default=0, help="seed of the multi-start draws (default 0)")
        p.add_argument("--n-starts", type=int, default=2, help="optimiser starts (default 2)")
        p.add_argument("--scheduler", default=None,
                       help="run the starts as Dask tasks: 'local' (a cluster on this machine) or a scheduler "
                            "address (tcp://scheduler:8786); needs socscope[sweep]; default: one after the other")
    p.add_argument("--level", type=float, default=0.95, help="confidence level of the intervals (default 0.95)")
    p.add_argument("--no-intervals", action="store_true", help="skip the profile-likelihood intervals")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")


def _free(text: str, allowed) -> tuple:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in allowed]
    if not names or bad:
        raise SocscopeError(f"--free {text!r}: choose from {', '.join(allowed)} (comma-separated), e.g. "
                            f"--free {allowed[0]}")
    return names


def _spot(text):
    if text is None:
        return "auto"
    try:
        y, x = (float(v) for v in text.replace(";", ",").split(","))
    except ValueError:
        raise SocscopeError(f"--reference-spot {text!r} must be Y,X in pixels, e.g. 412,88") from None
    return (y, x)


def _mass_g(args, mat) -> float:
    positive(args.mass_mg, "--mass-mg", 8.1)
    positive(args.capacity_mAh, "--capacity-mAh", 1.7)
    if (args.mass_mg is None) == (args.capacity_mAh is None):
        raise SocscopeError("give the active mass once: --mass-mg (e.g. 8.1) or --capacity-mAh (e.g. 1.7)")
    if args.mass_mg is not None:
        return args.mass_mg * 1e-3
    return args.capacity_mAh / mat.capacity_mAh_g


def _prepare_out(args, names, inputs) -> Path:
    from ..io.results import check_output_folder

    out = Path(args.out)
    not_an_input([out / n for n in names], inputs)
    check_output_folder(out, names, overwrite=args.overwrite)
    return out


def _open_movie(args):
    from ..io.movies import open_movie

    positive(args.frame_interval_s, "--frame-interval-s", 30)
    movie = open_movie(args.movie, frame_interval_s=args.frame_interval_s)
    pixel = args.pixel_size_nm if args.pixel_size_nm is not None else movie.metadata.get("pixel_size_nm")
    if pixel is None:
        raise SocscopeError(f"{args.movie} states no pixel size; give --pixel-size-nm (e.g. 34.7)")
    positive(pixel, "--pixel-size-nm", 34.7)
    return movie, float(pixel)


def _write_json(path: Path, obj) -> None:
    from ..io.results import write_text_atomic

    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=str, allow_nan=False) + "\n")


def _write_csv(path: Path, df) -> None:
    from ..io.results import write_text_atomic

    write_text_atomic(path, df.to_csv(index=False))


def _write_tiff(path: Path, stack) -> None:
    import tifffile

    from ..io.results import atomic_target

    path, tmp = atomic_target(path, overwrite=True)
    try:
        tifffile.imwrite(tmp, np.asarray(stack, dtype=np.float32), imagej=True, metadata={"axes": "TYX"})
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _save_nc(ds, path: Path, prov) -> None:
    from .._provenance import attach_provenance
    from ..io.results import save_results

    ds = attach_provenance(ds, prov)
    ds.attrs.setdefault("socscope_version", prov["socscope_version"])
    # netCDF attributes hold text and numbers only
    ds.attrs = {k: (v if isinstance(v, (str, int, float, np.integer, np.floating)) else json.dumps(v, default=str))
                for k, v in ds.attrs.items()}
    save_results(ds, path, overwrite=True)


def _write_fit(args, res, out: Path) -> dict:
    """Create ``out``; write a movie fit's ``fit.json`` and ``parameters.csv``; return the provenance of its files."""
    out.mkdir(parents=True, exist_ok=True)
    prov = command_provenance(args, inputs=[args.movie, args.cycler], seed=args.seed, settings=res.settings)
    _write_json(out / "fit.json", res.summary())
    _write_csv(out / "parameters.csv", res.table())
    return prov


def _report(args, res, out: Path) -> None:
    if args.quiet:
        return
    print(res.message)
    print(f"outputs in {out}/")


def cmd_fit_particle(args) -> int:
    """``socscope fit particle``."""
    from ..fitting.particle import (
        FREE_PARTICLE_PARAMETERS,
        fit_particle_movie,
        prepare_particle_data,
    )
    from ..io.cycler import load_cycler
    from ..materials import as_material, load
    from ..plotting._common import save_figure
    from ..plotting.fitting import (
        plot_particle_fit,
        plot_particle_residuals,
        side_by_side,
    )

    free = _free(args.free, FREE_PARTICLE_PARAMETERS)
    mat = load(args.material) if Path(args.material).suffix in (".toml", ".csv") else as_material(args.material)
    mass = _mass_g(args, mat)
    out = _prepare_out(args, PARTICLE_OUTPUTS, [args.movie, args.cycler])
    movie, pixel = _open_movie(args)
    with movie:
        frames = movie.read()
        t = movie.time_s.copy()
    cyc = load_cycler(args.cycler)
    data = prepare_particle_data(frames, t, pixel_size_nm=pixel, cycler=cyc, mass_g=mass, particle=args.particle,
                                 drift=args.drift, reference_spot=_spot(args.reference_spot),
                                 time_offset_s=args.time_offset_s, psf_fwhm_nm=args.psf_fwhm_nm,
                                 max_frames=args.max_frames)
    res = fit_particle_movie(data, mat, free=free, initial_theta=args.initial_theta, psf_fwhm_nm=args.psf_fwhm_nm,
                             cells_across=args.cells_across, shape=args.shape, use_voltage=not args.no_voltage,
                             n_starts=args.n_starts, rng=args.seed, level=args.level,
                             intervals=not args.no_intervals, map_starts=_map_starts(args))
    prov = _write_fit(args, res, out)
    if res.fitted is not None:
        _save_nc(res.fitted, out / "comparison.nc", prov)
        _save_nc(res.extra["simulation"], out / "simulation.nc", prov)
        save_figure(plot_particle_residuals(res.fitted), out / "residual_maps.png")
        save_figure(plot_particle_fit(res.fitted), out / "traces.png")
        _write_tiff(out / "side_by_side.tif", side_by_side(res.fitted))
    from ..io.results import write_provenance
    write_provenance(out, prov)
    _report(args, res, out)
    return 0


def cmd_fit_gitt(args) -> int:
    """``socscope fit gitt``."""
    from ..fitting.gitt import fit_gitt
    from ..io.cycler import load_cycler
    from ..materials import as_material, load, save
    from ..plotting._common import _plt, save_figure
    from ..plotting.fitting import plot_gitt_fit

    positive(args.mass_mg, "--mass-mg", 8.1)
    positive(args.radius_um, "--radius-um", 2)
    mat = load(args.material) if Path(args.material).suffix in (".toml", ".csv") else as_material(args.material)
    out = _prepare_out(args, GITT_OUTPUTS, [args.cycler, args.material])
    cyc = load_cycler(args.cycler)
    fit = fit_gitt(cyc, mat, mass_g=args.mass_mg * 1e-3, radius_m=args.radius_um * 1e-6,
                   initial_theta=args.initial_theta, n_shells=args.n_shells,
                   series_resistance=not args.no_series_resistance, ocv=args.ocv, level=args.level,
                   intervals=not args.no_intervals)
    out.mkdir(parents=True, exist_ok=True)
    prov = command_provenance(args, inputs=[args.cycler], seed=None, settings=fit.settings)
    _write_csv(out / "gitt_fit.csv", fit.table)
    save(fit.material, out / "material.toml", overwrite=True)
    fig = _plt().figure(figsize=(6, 4))
    plot_gitt_fit(fit.table, ax=fig.add_subplot(111))
    save_figure(fig, out / "gitt_fit.png")
    n_ok = int(fit.table["identifiable"].sum())
    summary = {"pulses": len(fit.table), "identifiable_pulses": n_ok, "settings": fit.settings,
               "table": json.loads(fit.table.to_json(orient="records"))}
    _write_json(out / "fit.json", summary)
    from ..io.results import write_provenance
    write_provenance(out, prov)
    if not args.quiet:
        print(f"model-based GITT: D fitted on {n_ok} of {len(fit.table)} pulses "
              f"({int(fit.table['long_pulse'].sum())} long); outputs in {out}/")
    return 0


def cmd_fit_electrode(args) -> int:
    """``socscope fit electrode``."""
    from ..analysis.optical import analyze_movie
    from ..fitting.electrode import FREE_ELECTRODE_PARAMETERS, fit_electrode_onsets
    from ..materials import as_material, load
    from ..plotting._common import _plt, save_figure
    from ..plotting.fitting import plot_onsets_fit

    free = _free(args.free, FREE_ELECTRODE_PARAMETERS)
    mat = load(args.material) if Path(args.material).suffix in (".toml", ".csv") else as_material(args.material)
    mass = _mass_g(args, mat)
    positive(args.onset_noise, "--onset-noise", 0.01)
    out = _prepare_out(args, ELECTRODE_OUTPUTS, [args.movie, args.cycler])
    movie, pixel = _open_movie(args)
    with movie:
        opt = analyze_movie(movie, cycler=args.cycler, mass_g=mass, capacity_mAh_g=mat.capacity_mAh_g,
                            drift=args.drift, reference_spot=_spot(args.reference_spot), pixel_size_nm=pixel)
    measured = opt.particles.rename(columns={"label": "particle"})
    n = int(opt.labels.max())
    carbon = None
    if args.carbon_particles:
        try:
            chosen = {int(v) for v in args.carbon_particles.split(",") if v.strip()}
        except ValueError:
            raise SocscopeError(f"--carbon-particles {args.carbon_particles!r} must be labels, e.g. 1,4,7") from None
        if not chosen <= set(range(1, n + 1)):
            raise SocscopeError(f"--carbon-particles {args.carbon_particles!r}: the movie has particles 1..{n}")
        carbon = np.array([k in chosen for k in range(1, n + 1)])
    positive(args.contact_scale, "--contact-scale", 0.01)
    res = fit_electrode_onsets(measured, opt.labels, mat, pixel_size_nm=pixel, protocol=args.protocol, free=free,
                               coverage=args.coverage, has_carbon=carbon, start={"contact_scale": args.contact_scale}, collector=args.collector, onset_noise=args.onset_noise,
                               n_starts=args.n_starts, rng=args.seed, level=args.level,
                               intervals=not args.no_intervals, map_starts=_map_starts(args))
    prov = _write_fit(args, res, out)
    if "onsets" in res.extra:
        _write_csv(out / "onsets.csv", res.extra["onsets"])
        fig = _plt().figure(figsize=(4.5, 4.5))
        plot_onsets_fit(res.extra["onsets"], ax=fig.add_subplot(111))
        save_figure(fig, out / "onsets.png")
    if res.fitted is not None:
        _save_nc(res.fitted, out / "electrode.nc", prov)
    from ..io.results import write_provenance
    write_provenance(out, prov)
    _report(args, res, out)
    return 0
