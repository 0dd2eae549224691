"""The ``socscope`` command line: parse arguments, call the library, write outputs.

No science lives here. Every command has ``--help``; errors print one line
``socscope: error: ...`` to stderr and exit with status 2 (bad input) or 1
(a failure while running).
"""

from __future__ import annotations

import argparse
import json
import contextlib
import math
import sys
import warnings
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import ParameterError, SocscopeError, SocscopeWarning, SolverError
from ..io.results import check_output_folder, output_folder, write_text_atomic
from ._common import (  # noqa: F401 - _ProgressBar: importable from here as before
    _estimated_duration, _material_from_args, _progress_bar, _ProgressBar, _usage,
)
from ._flags import material_files, netcdf_out, not_an_input, plausible_mass, plausible_size_um

__all__ = ["main", "build_parser"]


def _geometry_from_args(args):
    from .. import geometry as geo

    um = 1e-6
    shape = args.shape
    thickness = args.thickness_um * um
    for flag_, value in (("--diameter-um", args.diameter_um), ("--radius-um", args.radius_um),
                         ("--width-um", args.width_um), ("--height-um", args.height_um)):
        plausible_size_um(value, flag_)
    if shape in ("sphere", "disc") and args.radius_um is not None and args.diameter_um is not None:
        raise SocscopeError(f"--shape {shape}: give --radius-um or --diameter-um, not both "
                            f"(got --radius-um {args.radius_um:g} and --diameter-um {args.diameter_um:g})")
    if shape == "sphere":
        if args.radius_um is None and args.diameter_um is None:
            raise SocscopeError("--shape sphere needs --radius-um or --diameter-um")
        r = args.radius_um if args.radius_um is not None else args.diameter_um / 2
        return geo.Sphere(radius=r * um)
    if shape == "disc":
        if args.diameter_um is None and args.radius_um is None:
            raise SocscopeError("--shape disc needs --diameter-um (or --radius-um)")
        d = args.diameter_um if args.diameter_um is not None else 2 * args.radius_um
        return geo.Disc(diameter=d * um, thickness=thickness)
    if shape == "ellipse":
        if args.width_um is None or args.height_um is None:
            raise SocscopeError("--shape ellipse needs --width-um and --height-um")
        return geo.Ellipse(width=args.width_um * um, height=args.height_um * um,
                           angle=math.radians(args.angle_deg), thickness=thickness)
    if shape == "polygon":
        if not args.vertices_um:
            raise SocscopeError('--shape polygon needs --vertices-um "x1,y1;x2,y2;x3,y3"')
        try:
            pts = [[float(v) * um for v in pair.split(",")] for pair in args.vertices_um.split(";") if pair.strip()]
        except ValueError:
            raise SocscopeError(f'--vertices-um {args.vertices_um!r} must look like "0,0;2,0;1,1.7"') from None
        return geo.Polygon(pts, thickness=thickness)
    if shape == "mask":
        if not args.mask or args.pixel_size_nm is None:
            raise SocscopeError("--shape mask needs --mask FILE (.npy, .tif, .png) and --pixel-size-nm")
        return geo.Mask(_read_mask(Path(args.mask)), pixel_size=args.pixel_size_nm * 1e-9, thickness=thickness)
    raise SocscopeError(f"unknown shape {shape!r}")  # pragma: no cover - argparse restricts choices


def _read_mask(path: Path):
    import numpy as np

    from ..errors import FileFormatError
    from ..io._guard import reading
    from ..io.movies import read_tiff_image

    if not path.is_file():
        raise FileFormatError(f"{path}: no such file (expected a mask image: .npy, .tif/.tiff or .png)")
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".tif", ".tiff", ".png"):
        raise FileFormatError(f"{path}: unknown mask format {suffix!r}; use .npy, .tif/.tiff or .png")
    try:
        if suffix in (".tif", ".tiff"):
            import tifffile  # noqa: F401 - read_tiff_image needs it
        elif suffix == ".png":
            import matplotlib.image as mpimg
    except ImportError as exc:
        raise FileFormatError(f"{path}: reading {suffix} needs an optional package ({exc.name}); "
                              "pip install 'socscope[image]' or save the mask as .npy") from None
    # numpy, tifffile and matplotlib raise anything on a damaged file (TokenError, SyntaxError,
    # ZeroDivisionError, EOFError, MemoryError, ...): one wrapper names the file
    with reading(path, f"a mask image ({suffix})"):
        if suffix == ".npy":
            img = np.load(path, allow_pickle=False)
        elif suffix == ".png":
            img = mpimg.imread(path)
            if img.ndim == 3:
                img = img[..., :3].mean(axis=-1)
    if suffix in (".tif", ".tiff"):  # a cut stack is refused, not read as its first page
        img = read_tiff_image(path, "a mask image (.tif)")
    img = np.asarray(img)
    if img.ndim != 2 or img.size == 0:
        raise FileFormatError(f"{path}: mask must be a non-empty 2D image, got shape {img.shape}")
    if img.dtype.kind not in "biuf":
        raise FileFormatError(f"{path}: the mask holds {img.dtype} values; a mask holds numbers: 0 (background) and "
                              "non-zero (particle)")
    if img.dtype.kind == "f" and not np.all(np.isfinite(img)):
        bad = np.argwhere(~np.isfinite(img))
        raise FileFormatError(f"{path}: the mask has {len(bad)} NaN or infinite pixel(s), the first at (row, column) "
                              f"{tuple(int(v) for v in bad[0])}; a mask holds 0 (background) and non-zero (particle)")
    # as the help says: every non-zero pixel (a label image's labels alike).
    # Thresholding at half the maximum had made a 400-pixel particle with one
    # marker pixel of 3 a single pixel, and kept only label 2 of labels 1 and 2
    if not np.any(img == 0):
        # e.g. a mask saved through a colour map (plt.imsave): every pixel non-zero
        raise FileFormatError(f"{path}: the mask has no background pixel (0); a mask holds 0 for the background and "
                              f"non-zero for the particle (its values run {img.min():g}..{img.max():g}; a colour-mapped "
                              "image is not a mask: save the boolean array, e.g. np.save('mask.npy', mask))")
    return img != 0


def _surface_from_args(args):
    if not args.blocked_arc:
        return None
    import math as _m

    from ..physics import BlockedArc

    try:
        eta, lo, hi = (float(v) for v in args.blocked_arc.split(","))
    except ValueError:
        raise SocscopeError(
            f"--blocked-arc {args.blocked_arc!r} must be ETA,FROM_DEG,TO_DEG, e.g. 0.1,-45,45"
        ) from None
    return BlockedArc(eta=eta, angles=[(_m.radians(lo), _m.radians(hi))], mode=args.blocked_mode)


def _cmd_simulate_particle(args) -> int:
    from ..io.results import atomic_target, save_results
    from ..protocols import parse_protocol
    from ..simulate import ParticleModel

    from ._quicklook import check_plot_targets, command_provenance, write_quick_look

    out = Path(args.out)
    # the output never replaces an input, even with --overwrite
    not_an_input([out], [*material_files(args.material), args.mask],
                 fix="choose another --out (the inputs are never overwritten)")
    netcdf_out(out)
    atomic_target(out, overwrite=args.overwrite)[1].unlink()  # fail early, before the run
    inputs = [p for p in (args.material, args.mask) if p and Path(p).is_file()]
    if args.plot:
        check_plot_targets(out, overwrite=args.overwrite, inputs=inputs)
    material = _material_from_args(args)
    geometry = _geometry_from_args(args)
    steps = parse_protocol(args.protocol)
    resolution = args.resolution_nm * 1e-9 if args.resolution_nm is not None else None
    model = ParticleModel(material, geometry, resolution=resolution, n_cells=args.n_cells,
                          flux=args.flux, surface=_surface_from_args(args), kinetics=args.kinetics)
    total, estimated = _estimated_duration(steps)
    bar, cb = _progress_bar(total, "simulate", estimated=estimated) if not args.quiet else (None, None)
    try:
        ds = model.run(steps, initial_theta=args.initial_theta, output_interval=args.output_interval_s, progress=cb)
    finally:
        if bar is not None:
            bar.close()
    prov = command_provenance(args, inputs=inputs)
    save_results(ds, out, overwrite=args.overwrite, provenance=prov)
    plots = write_quick_look(ds, out, prov=prov) if args.plot else []
    if not args.quiet:
        print(f"wrote {out}  ({ds.sizes['time']} times, {model.grid.n_cells} cells); "
              f"final mean θ = {float(ds.theta_mean[-1]):.4f}, centre θ = {float(ds.theta_centre[-1]):.4f}"
              + (f", voltage = {float(ds.voltage[-1]):.4f} V" if model.kinetics == "butler-volmer" else ""))
        for k in range(ds.sizes["step_index"]):
            print(f"  step {k + 1}: {ds.step_sentence.values[k]}  ->  {float(ds.step_capacity[k]):+.2f} mAh/g, "
                  f"ended by {ds.step_end_reason.values[k]} at {float(ds.step_end_time[k]) / 3600:.3f} h")
        if plots:
            print("wrote " + " and ".join(str(p) for p in plots))
    return 0


def _cmd_validate(args) -> int:
    from ..validation import run_sensitivity, run_validation

    from ._quicklook import command_provenance

    if getattr(args, "map", False):
        from ..validation.sharma2022 import run_map

        if args.name != "sharma2022" or getattr(args, "sensitivity", False):
            raise ParameterError(f"--map is available for sharma2022 alone (without --sensitivity), not {args.name}; "
                                 "e.g. socscope validate sharma2022 --map")
        run_map(args.out, overwrite=args.overwrite, quick=args.quick, verbose=not args.quiet)
        return 0
    if args.scheduler and not getattr(args, "sensitivity", False):
        raise ParameterError(f"--scheduler {args.scheduler} runs the alternatives of --sensitivity as tasks; add "
                             f"--sensitivity (e.g. socscope validate {args.name} --sensitivity --scheduler local)")
    if getattr(args, "sensitivity", False):
        mapper = None
        if args.scheduler:
            import functools

            from ..sweep import map_points

            mapper = functools.partial(map_points, scheduler=args.scheduler)
        run_sensitivity(args.name, args.out, overwrite=args.overwrite, quick=args.quick, verbose=not args.quiet,
                        map_alternatives=mapper)
        return 0
    run_validation(args.name, args.out, overwrite=args.overwrite, quick=args.quick, verbose=not args.quiet,
                   provenance=command_provenance(args))
    return 0


def _cmd_materials(args) -> int:
    from .. import materials

    if args.name is None:
        for name in materials.available():
            m = materials.get(name)
            print(f"{name:18s} {m.capacity_mAh_g:6.1f} mAh/g  {m.description}")
        return 0
    m = materials.resolve(args.name)
    print(repr(m))
    for key, value in m.to_attrs().items():
        print(f"  {key} = {value}")
    return 0


def _cmd_cycler_summary(args) -> int:
    from ..analysis.cycling import cycle_summary, dqdv, half_cycles
    from ..io.cycler import load_cycler


    names = ("cycles.csv", "half_cycles.csv", "dqdv.csv", "voltage_capacity.csv", "summary.json",
             "voltage_capacity.png", "dqdv.png", "cycles.png", "provenance.json")
    not_an_input([Path(args.out) / n for n in names], [args.file])
    out = check_output_folder(args.out, names, overwrite=args.overwrite)
    if args.mass_mg is not None and not (math.isfinite(args.mass_mg) and args.mass_mg > 0):
        raise SocscopeError(f"--mass-mg {args.mass_mg} must be a positive, finite active mass in mg, e.g. 8.1")
    mass_g = args.mass_mg * 1e-3 if args.mass_mg is not None else None
    df = _load_cycler_from_args(load_cycler, args)
    if args.verbose:
        print(_read_record(df))
    plausible_mass(df, args.mass_mg)
    half = half_cycles(df)
    if half.empty:
        why = (f"{half.attrs['left_out']} current block(s) left out as impedance, blips or noise"
               if half.attrs.get("left_out") else "the current never leaves zero")
        raise SocscopeError(f"{args.file}: no real charge or discharge found ({why})")
    if args.verbose and half.attrs.get("left_out"):
        print(half.attrs["left_out_note"])
    cycles = cycle_summary(df, mass_g=mass_g, first=args.first)
    table = dqdv(df)
    with output_folder(out, names, overwrite=args.overwrite) as tmp:  # all the outputs, or none
        _write_cycler_summary(tmp, args, df, half, cycles, table, mass_g)
    if not args.quiet:
        if cycles.empty:
            print(f"no complete cycle (a {args.first} followed by its counterpart); "
                  f"{len(half)} half-cycle(s) in half_cycles.csv")
        else:
            print(cycles.to_string(float_format=lambda x: f"{x:.4g}"))
        print(f"wrote {out}/")
    return 0


def _column_pairs(text: str) -> dict:
    """``--columns time_s=TestTime,voltage_V=Volts`` as a dict (a key may carry another unit: current_mA)."""
    pairs = {}
    for item in (x for x in text.split(",") if x.strip()):
        key, eq, col = item.partition("=")
        if not eq or not key.strip() or not col.strip():
            raise SocscopeError(f"--columns {text!r}: {item!r} is not NAME=COLUMN; give e.g. "
                                "--columns time_s=TestTime,voltage_V=Volts,current_mA=mAmps")
        pairs[key.strip()] = col.strip()
    return pairs


def _cycler_flags(call: dict) -> str:
    """A ``load_cycler`` call's keywords as ``cycler summary`` options."""
    flags = []
    if call.get("columns"):
        flags.append("--columns " + ",".join(f"{k}={v}" for k, v in call["columns"].items()))
    if call.get("sep") is not None:
        flags.append(f"--sep {'tab' if call['sep'] == chr(9) else repr(call['sep'])}")
    if call.get("skiprows") is not None:
        flags.append(f"--skiprows {call['skiprows']}")
    return " ".join(flags)


def _load_cycler_from_args(load_cycler, args):
    """load_cycler with --columns, --sep and --skiprows; a FileFormatError that shows a Python call
    that reads the file says the same in these options."""
    from ..errors import FileFormatError

    options = {}
    columns = _column_pairs(args.columns) if getattr(args, "columns", None) else None
    if getattr(args, "sep", None):
        options["sep"] = "\t" if args.sep.lower() in ("tab", "\\t") else args.sep
    if getattr(args, "skiprows", None) is not None:
        if args.skiprows < 0:
            raise SocscopeError(f"--skiprows {args.skiprows} must be >= 0 (the lines above the table header)")
        options["skiprows"] = args.skiprows
    vendor = "csv" if options else None
    try:
        return load_cycler(args.file, vendor=vendor, columns=columns, **options)
    except FileFormatError as exc:
        call = getattr(exc, "read_with", None)
        if not call:
            raise
        raise FileFormatError(f"{exc}; from the command line: socscope cycler summary {args.file} "
                              f"{_cycler_flags(call)} ...") from None


def _write_cycler_summary(out: Path, args, df, half, cycles, table, mass_g) -> None:
    from ..plotting.cycling import voltage_capacity_curves

    write_text_atomic(out / "cycles.csv", cycles.to_csv())
    write_text_atomic(out / "half_cycles.csv", half.to_csv())
    write_text_atomic(out / "dqdv.csv", table.to_csv(index=False))
    write_text_atomic(out / "voltage_capacity.csv", voltage_capacity_curves(df, half, mass_g=mass_g).to_csv(index=False))
    summary = {
        "file": str(args.file), "vendor": df.attrs.get("vendor"), "points": len(df),
        "duration_h": float(df.time_s.iloc[-1] / 3600), "half_cycles": len(half), "cycles": len(cycles),
        "current_blocks_left_out": int(half.attrs.get("left_out", 0)),
        "mass_mg": args.mass_mg, "sign_convention": df.attrs.get("sign_convention"),
        "coulombic_efficiency": [None if np.isnan(x) else round(float(x), 5) for x in cycles.get("coulombic_efficiency", [])],
    }
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    read = {k: df.attrs[k] for k in ("vendor", "layout", "column_map", "units", "conversions", "notes",
                                     "capacity_source") if k in df.attrs}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting.cycling import plot_capacity_efficiency, plot_dqdv, plot_voltage_capacity

    ax = plot_voltage_capacity(df, half, mass_g=mass_g)
    ax.figure.savefig(out / "voltage_capacity.png", dpi=150)
    plt.close(ax.figure)
    ax = plot_dqdv(table)
    ax.figure.savefig(out / "dqdv.png", dpi=150)
    plt.close(ax.figure)
    axes = plot_capacity_efficiency(cycles)
    axes[0].figure.savefig(out / "cycles.png", dpi=150)
    plt.close(axes[0].figure)
    from ..io.results import write_provenance
    from ._quicklook import command_provenance

    write_provenance(out, command_provenance(args, inputs=[args.file], settings={
        "record_as_read": read, "first": args.first, "mass_mg": args.mass_mg}))


def _read_record(df) -> str:
    """What load_cycler read: vendor, layout, column mapping, units and conversions (``--verbose``)."""
    a = df.attrs
    lines = [f"read {a.get('source_file')}: {len(df)} points",
             f"  vendor: {a.get('vendor')}", f"  layout: {a.get('layout')}"]
    for key, value in (a.get("column_map") or {}).items():
        lines.append(f"  {key:<12} <- {value}")
    for key, value in (a.get("units") or {}).items():
        lines.append(f"  unit of {key}: {value}")
    for key, value in (a.get("conversions") or {}).items():
        lines.append(f"  converted {key!r}: {value}")
    lines += [f"  note: {n}" for n in a.get("notes") or []]
    lines.append(f"  capacity: {a.get('capacity_source')}; {a.get('sign_convention')}")
    return "\n".join(lines)


def _cmd_gitt(args) -> int:
    from .. import materials
    from ..analysis.gitt import gitt_diffusivity, gitt_to_material
    from ..io.cycler import load_cycler


    names = ("gitt.csv", "summary.json", "diffusivity.png", "provenance.json")
    material_files = ([Path(args.to_material), Path(args.to_material).with_suffix(".csv")] if args.to_material
                      else [])
    not_an_input([Path(args.out) / n for n in names], [args.file])
    not_an_input(material_files, [args.file], fix="choose another --to-material name")
    out = check_output_folder(args.out, names, overwrite=args.overwrite)
    if args.mass_mg is None:
        raise SocscopeError(f"{args.file}: GITT needs the active mass: --mass-mg (e.g. 8.1)")
    if not (math.isfinite(args.mass_mg) and args.mass_mg > 0):
        raise SocscopeError(f"--mass-mg {args.mass_mg} must be a positive, finite active mass in mg, e.g. 8.1")
    if args.bet_m2_g is None and args.radius_um is None:
        raise SocscopeError("give the active area: --bet-m2-g (e.g. 0.6) or --radius-um (particle radius)")
    # the flags checked in their own units (the library would name radius_m and bet_m2_g)
    if args.radius_um is not None and not (math.isfinite(args.radius_um) and 0 < args.radius_um <= 1000):
        raise SocscopeError(f"--radius-um {args.radius_um} must be a particle radius in µm between 0 and 1000 "
                            "(a 5 µm particle is --radius-um 5)")
    if args.bet_m2_g is not None and not (math.isfinite(args.bet_m2_g) and args.bet_m2_g > 0):
        raise SocscopeError(f"--bet-m2-g {args.bet_m2_g} must be a positive BET area in m²/g, e.g. 0.6")
    if args.alpha is not None and not args.to_material:
        raise SocscopeError(f"--alpha {args.alpha} scales D in the material file, so it needs --to-material "
                            "(e.g. --to-material mine.toml); the table gitt.csv is never scaled")
    alpha = 1.0 if args.alpha is None else args.alpha
    if not (math.isfinite(alpha) and alpha > 0):
        raise SocscopeError(f"--alpha {alpha} must be a positive factor on D (default 1; (Xu et al., Joule 2022) used 2.7)")
    if args.to_material:
        # the material file's name, folder and (without --overwrite) absence, before anything is written
        materials.save_targets(args.to_material, overwrite=args.overwrite)
    mat = materials.resolve(args.material)
    df = load_cycler(args.file)
    plausible_mass(df, args.mass_mg)
    try:
        table = gitt_diffusivity(
            df, mass_g=args.mass_mg * 1e-3, molar_mass_g_mol=mat.molar_mass * 1e3, density_g_cm3=mat.density * 1e-3,
            bet_m2_g=args.bet_m2_g, radius_m=args.radius_um * 1e-6 if args.radius_um is not None else None,
            capacity_mAh_g=mat.capacity_mAh_g,
        )
    except SocscopeError as exc:  # say it in flags
        text = str(exc)
        if text.startswith("no GITT pulse"):
            text = (text.replace("socscope.analysis.cycle_summary", "'socscope cycler summary'"))
        elif "times the capacity" in text:
            text = (f"--mass-mg {args.mass_mg:g} with --material {args.material} ({mat.capacity_mAh_g:g} mAh/g): "
                    + text.split(";")[0].split(" (mass_g")[0] + "; is --mass-mg the active mass in mg?")
        raise SocscopeError(f"{args.file}: {text}") from None
    # the analysis is written first: a material that cannot be built from it (all pulses flagged, θ out of
    # range) leaves the table to look at
    with output_folder(out, names, overwrite=args.overwrite) as tmp:  # all the outputs, or none
        _write_gitt(tmp, args, mat, table)
    if not args.quiet:
        print(table[["tau_s", "dEs_V", "dEt_V", "D_classic", "D_sqrt_t", "D_sphere", "short_pulse", "relaxed"]]
              .to_string(float_format=lambda v: f"{v:.3g}"))
        if table.attrs.get("left_out"):
            print(table.attrs["left_out_note"])
    if args.to_material:
        try:
            new = gitt_to_material(table, mat, alpha=alpha, initial_theta=args.initial_theta,
                                   use_flagged=args.use_flagged)
        except SocscopeError as exc:  # say it in flags
            raise SocscopeError(str(exc).replace("use_flagged=True (--use-flagged)", "--use-flagged")
                                .replace("pass initial_theta", "give --initial-theta")
                                .replace("initial_theta=", "--initial-theta ")
                                + f"; the analysis was written to {out}/, no material file") from None
        materials.save(new, args.to_material, overwrite=args.overwrite)
    if not args.quiet:
        print(f"wrote {out}/" + (f" and {args.to_material}" if args.to_material else ""))
    return 0


def _write_gitt(out: Path, args, mat, table) -> None:
    write_text_atomic(out / "gitt.csv", table.to_csv(index_label="pulse"))
    summary = {"file": str(args.file), "material": mat.name, "pulses": len(table),
               "flagged_long": int((~table.short_pulse).sum()), "flagged_unrelaxed": int((~table.relaxed).sum()),
               "incomplete": int((~table.complete).sum()),
               "not_constant_current": int((~table.constant_current).sum()),
               "current_runs_left_out": int(table.attrs.get("left_out", 0)),
               "timed_by": {k: int(v) for k, v in table.timing.value_counts().items()}}
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    x = table["soc"] if "soc" in table else table.index
    for col, mk in (("D_sphere", "o"), ("D_classic", "s"), ("D_sqrt_t", "^")):
        ax.semilogy(x, table[col], mk, mfc="none", label=col)
    bad = ~(table.short_pulse & table.relaxed)
    ax.semilogy(x[bad], table.D_sphere[bad], "x", color="red", label="flagged")
    ax.set_xlabel("state of charge" if "soc" in table else "pulse")
    ax.set_ylabel("D [m²/s]")
    ax.legend(frameon=False)
    fig.savefig(out / "diffusivity.png", dpi=150)
    plt.close(fig)
    from ..io.results import write_provenance
    from ._quicklook import command_provenance

    write_provenance(out, command_provenance(args, inputs=[args.file] + ([args.material] if Path(args.material).is_file()
                                                                        else [])))


class _Parser(argparse.ArgumentParser):
    """argparse with the project's error format: one line on stderr, exit code 2 (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _os_error_line(exc: OSError) -> str:
    """One line for a file-system error, naming the path the user gave (not a temporary file beside it)."""
    import errno

    where = Path(exc.filename) if exc.filename else None
    if where is not None and where.name.startswith(".") and where.name.endswith(".tmp"):
        where = where.parent  # results are written to a temporary file first, then renamed
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"{where}: " if where is not None else "") + (
            "no space left on the device (or over the disk quota); nothing was replaced: earlier outputs are as "
            "they were. Free some space or write --out to another disk")
    what = " ".join((exc.strerror or type(exc).__name__).split())
    fix = ("every folder on the path must exist and be a folder, readable for an input and writable for --out; "
           "create the folder or choose another path")
    return f"{where}: {what}; {fix}" if where is not None else f"{what}; {fix}"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="socscope",
        description="Simulate, measure and connect state-of-charge heterogeneity in cathode particles.",
    )
    p.add_argument("--version", action="version", version=f"socscope {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    from .demo import add_demo_parser  # socscope demo

    add_demo_parser(sub)

    s = sub.add_parser("simulate", help="run a simulation", description="Run a simulation.")
    ssub = s.add_subparsers(dest="what", metavar="WHAT")
    sp = ssub.add_parser(
        "particle", help="one particle through a protocol",
        description="Simulate Li transport in one particle through a protocol of experiment sentences.",
        epilog='example: socscope simulate particle --material ni88-xu2022 --shape disc --diameter-um 2 '
               '--protocol "Charge at C/3 for 1 hour" "Rest for 1 hour" --out run.nc',
    )
    sp.add_argument("--material", required=True, help="built-in name (see 'socscope materials') or a .toml/.csv file")
    sp.add_argument("--param", action="append", metavar="NAME=VALUE", help="material parameter, e.g. alpha=5 (repeatable)")
    sp.add_argument("--shape", required=True, choices=["sphere", "disc", "ellipse", "polygon", "mask"])
    sp.add_argument("--diameter-um", type=float, help="sphere or disc diameter [µm]")
    sp.add_argument("--radius-um", type=float, help="sphere or disc radius [µm]")
    sp.add_argument("--width-um", type=float, help="ellipse axis along x [µm]")
    sp.add_argument("--height-um", type=float, help="ellipse axis along y [µm]")
    sp.add_argument("--angle-deg", type=float, default=0.0, help="ellipse rotation [degrees]")
    sp.add_argument("--vertices-um", help='polygon vertices "x1,y1;x2,y2;..." [µm]')
    sp.add_argument("--mask", help="mask image (.npy, .tif, .png); non-zero pixels are the particle")
    sp.add_argument("--pixel-size-nm", type=float, help="mask pixel size [nm]")
    sp.add_argument("--thickness-um", type=float, default=1.0, help="2D slab thickness along c [µm] (default 1)")
    sp.add_argument("--protocol", nargs="+", required=True, metavar="SENTENCE",
                    help='experiment sentences, e.g. "Charge at C/3 for 1 hour" "Rest for 1 hour"')
    sp.add_argument("--initial-theta", type=float, default=0.97, help="initial Li occupancy (default 0.97)")
    sp.add_argument("--resolution-nm", type=float, help="cell size [nm] (default: size/50, or R/100 for spheres)")
    sp.add_argument("--n-cells", type=int, help="radial shells (spheres)")
    sp.add_argument("--flux", choices=["chemical", "thermodynamic"], default="chemical", help="flux law (default chemical)")
    sp.add_argument("--blocked-arc", metavar="ETA,FROM_DEG,TO_DEG",
                    help="rock-salt blocked arc: relative flux eta on angles FROM..TO, e.g. 0.1,-45,45")
    sp.add_argument("--blocked-mode", choices=["flux", "kinetic"], default="flux",
                    help="blocked arc as an imposed flux split (Lun et al., default) or as exchange current x eta")
    sp.add_argument("--kinetics", choices=["auto", "butler-volmer", "none"], default="auto",
                    help="Butler-Volmer kinetics and a voltage (auto: whenever material and layout allow)")
    sp.add_argument("--output-interval-s", type=float, default=60.0, help="record every N seconds (default 60)")
    sp.add_argument("--out", required=True, help="results file (.nc)")
    sp.add_argument("--plot", action="store_true",
                    help="also write the quick look RUN.png (θ maps, traces, voltage-capacity) and, with a "
                         "voltage, RUN_voltage_capacity.csv beside --out")
    sp.add_argument("--overwrite", action="store_true", help="replace an existing results file")
    sp.add_argument("--quiet", action="store_true", help="no progress bar or summary line")
    sp.set_defaults(func=_cmd_simulate_particle)
    from .electrode import add_electrode_parser  # socscope simulate electrode

    add_electrode_parser(ssub)
    from .spicp import add_population_parser, add_spicp_parser  # simulate population; spicp ...

    add_population_parser(ssub)
    s.set_defaults(func=lambda a: _usage(s))

    v = sub.add_parser(
        "validate", help="reproduce a paper's single-particle results (table + figures)",
        description="Run the comparisons with a source paper and write a table (Markdown, CSV) and figures.",
        epilog="example: socscope validate xu2022 --out validation-xu2022/",
    )
    v.add_argument("name", choices=["lun2023", "sharma2022", "xu2022"],  # validation.PAPERS, without importing it
                   help="which paper: xu2022 (Xu et al., Joule 2022), lun2023 (Lun et al.) or sharma2022 (Sharma et al., Nano Lett. 2022)")
    v.add_argument("--out", help="output folder (default: ./validation-NAME)")
    v.add_argument("--quick", action="store_true", help="coarser grids, for a fast look (numbers less converged)")
    v.add_argument("--overwrite", action="store_true", help="replace files in an existing output folder")
    v.add_argument("--quiet", action="store_true", help="print only errors")
    v.add_argument("--sensitivity", action="store_true",
                   help="run every row under every named alternative of the unknown parameter sources and write "
                        "one table (rows x alternatives; xu2022, sharma2022; default folder ./sensitivity-NAME)")
    v.add_argument("--scheduler", default=None,
                   help="with --sensitivity: run each alternative as a Dask task: 'local' (a cluster on this "
                        "machine) or a scheduler address (tcp://scheduler:8786); needs socscope[sweep]")
    v.add_argument("--map", action="store_true",
                   help="sharma2022: map first-charge step-likeness and second-charge asynchrony over pristine σ x "
                        "NMC-NMC contact size (12 runs, serial; writes map.csv, map.md, map.png; default "
                        "folder ./map-sharma2022)")
    v.set_defaults(func=_cmd_validate)

    c = sub.add_parser("cycler", help="analyse cycler records", description="Analyse cycler records.")
    csub = c.add_subparsers(dest="what", metavar="WHAT")
    cs = csub.add_parser(
        "summary", help="per-cycle capacities, coulombic efficiency, CC/CV parts, dQ/dV",
        description="Per-cycle charge and discharge capacity, coulombic efficiency (with and without the CV "
                    "part), dQ/dV, and figures, from a Bio-Logic .mpr/.mpt/.csv, Neware .ndax/.nda/.csv, Arbin "
                    ".res/.csv or Maccor text file (vendor and layout detected from the content).",
        epilog="example: socscope cycler summary cell.mpr --mass-mg 8.1 --out summary/",
    )
    cs.add_argument("file", help="cycler record")
    cs.add_argument("--mass-mg", type=float, help="active mass [mg] (adds mAh/g columns)")
    cs.add_argument("--first", choices=["charge", "discharge"], default="charge",
                    help="half cycle that opens a cycle (default charge, for cathodes)")
    cs.add_argument("--out", required=True, help="output folder")
    cs.add_argument("--overwrite", action="store_true", help="replace files in an existing output folder")
    cs.add_argument("--quiet", action="store_true", help="print nothing on success")
    cs.add_argument("--verbose", action="store_true",
                    help="print what was read: vendor, layout, column mapping, units and conversions")
    cs.add_argument("--columns", metavar="NAME=COLUMN,...",
                    help="the file's columns for time, voltage and current (and step, cycle, capacity), e.g. "
                         "time_s=TestTime,voltage_V=Volts,current_mA=mAmps: a name may carry another unit "
                         "(time_h, voltage_mV, current_mA, capacity_mAh); for a vendor's table, only the columns "
                         "to replace")
    cs.add_argument("--sep", help="with a plain table: its separator (',', ';' or tab)")
    cs.add_argument("--skiprows", type=int, help="with a plain table: the lines above its header")
    cs.set_defaults(func=_cmd_cycler_summary)
    c.set_defaults(func=lambda a: _usage(c))

    g = sub.add_parser(
        "gitt", help="GITT: D(θ) per pulse (classic, √t, sphere fit), OCV, quality flags",
        description="Analyse a GITT record: per pulse the diffusivity by (Lun et al.) eq. 1, its √t variant and a "
                    "fit to the exact sphere response, the relaxed voltage, and quality flags.",
        epilog="example: socscope gitt cell.mpr --mass-mg 8.1 --material nmc532 --radius-um 2 --out gitt/",
    )
    g.add_argument("file", help="cycler record holding the GITT train")
    g.add_argument("--mass-mg", type=float, help="active mass [mg]")
    g.add_argument("--material", required=True, help="material for molar mass, density and capacity")
    g.add_argument("--bet-m2-g", type=float, help="BET area [m²/g]")
    g.add_argument("--radius-um", type=float, help="particle radius [µm] (also used by the sphere fit)")
    g.add_argument("--alpha", type=float, help="scale D by this factor in --to-material (default 1)")
    g.add_argument("--to-material", help="write a material file (TOML) with D(θ) and OCV from the titration")
    g.add_argument("--initial-theta", type=float, default=1.0,
                   help="Li occupancy where the titration starts, for --to-material (default 1: a charge from "
                        "full lithiation)")
    g.add_argument("--use-flagged", action="store_true",
                   help="build --to-material even when every pulse is flagged (too long, or not relaxed)")
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    g.add_argument("--quiet", action="store_true", help="print nothing on success")
    g.set_defaults(func=_cmd_gitt)

    from .optical import add_optical_parser  # socscope optical analyze

    add_optical_parser(sub)
    from .report import add_report_parser  # socscope report

    add_report_parser(sub)

    from .afm import add_afm_parser  # socscope afm info|analyze, socscope nexafs ratio

    add_afm_parser(sub)
    from .sweep import add_sweep_parser  # socscope sweep

    add_sweep_parser(sub)
    add_spicp_parser(sub)
    from .fit import add_fit_parser  # socscope fit particle|gitt|electrode

    add_fit_parser(sub)

    m = sub.add_parser("materials", help="list built-in materials or show one",
                       description="List the built-in materials, or show every parameter of one (built-in, or "
                                   "read from a .toml/.csv material file).")
    m.add_argument("name", nargs="?", help="material to show: a built-in name or a material file")
    m.set_defaults(func=_cmd_materials)
    return p


@contextlib.contextmanager
def _plain_warnings(say=None):
    """socscope's own warnings as one ``socscope: warning: ...`` line each, every text once per command.

    ``say(text)``, where given, restates a library warning in the command's terms (its flags).

    Python's default would print the source line that raised it, and show a
    warning again after any ``catch_warnings`` block reset its registry.
    """
    shown, default = set(), warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, SocscopeWarning):
            return default(message, category, filename, lineno, file, line)
        text = str(message)
        if text not in shown:
            from tqdm import tqdm

            shown.add(text)
            tqdm.write(f"socscope: warning: {say(text) if say else text}", file=sys.stderr)  # above a running progress bar, not inside it

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (``kill``, a job scheduler's time limit) raises KeyboardInterrupt like Ctrl-C, so that every
    temporary file and folder is removed and no output is half replaced. Yields a list that holds the
    signal number once one arrived. Only in the main thread (elsewhere signals cannot be set)."""
    import signal
    import threading

    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def handler(signum, frame):
        got.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield got
    finally:
        signal.signal(signal.SIGTERM, previous)


def _in_flags(text: str, parser, args) -> str:
    """A library message as the command line says it: a Python keyword that is also this command's option
    (``min_area_px=20`` -> ``--min-area-px 20``, ``initial_theta`` -> ``--initial-theta``), so that no
    message names a setting the command does not have. Only snake_case names (with an underscore) are
    replaced: they cannot be ordinary words. Where a message gives both forms (``overwrite=True
    (--overwrite)``, ``pixel_size_nm=7.8 (--pixel-size-nm 7.8)``, ``--overwrite (overwrite=True)``) only
    the flag stays; the hint that a material file is read with ``socscope.materials.load`` becomes the
    command's way of reading one."""
    import re

    from ..materials._registry import OWN_MATERIAL_HINT

    # a keyword with the flag beside it: the flag alone
    text = re.sub(r"(?<![\w-])[a-z]\w*\s?=\s?[^\s()=]*\s?\((--[\w-]+(?: [^\s()]+)?)\)", r"\1", text)
    text = re.sub(r"(--[\w-]+) \([a-z]\w*=[^\s()]*\)", r"\1", text)
    sub = parser
    for key in ("command", "what"):
        word = getattr(args, key, None)
        actions = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        if not word or not actions or word not in actions[0].choices:
            break
        sub = actions[0].choices[word]
    for action in sub._actions:
        flags = [o for o in action.option_strings if o.startswith("--")]
        if not flags or "_" not in action.dest:
            continue
        flag_ = flags[0]
        text = re.sub(rf"(?<![\w-]){re.escape(action.dest)}\s*=\s*(?=[^=\s])", f"{flag_} ", text)
        text = re.sub(rf"(?<![\w-]){re.escape(action.dest)}(?![\w(])", flag_, text)
    text = re.sub(r"(--[\w-]+(?: [^\s()]+)?) \(\1\)", r"\1", text)  # "--time-offset-s (--time-offset-s)"
    text = re.sub(r"(--[\w-]+) \(([^()]*?);\s*on the command line \1\)", r"\1 (\2)", text)
    options = {o for action in sub._actions for o in action.option_strings}
    if "--material" in options:
        text = text.replace(OWN_MATERIAL_HINT, "A material file works too: --material my-material.toml (or .csv)")
    elif getattr(args, "command", None) == "materials":
        text = text.replace(OWN_MATERIAL_HINT, "A material file is shown with: socscope materials my-material.toml")
    return text


def main(argv=None) -> int:
    """Entry point of the ``socscope`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # the exact command, for the provenance of what it writes
    args.argv_ = ["socscope", *(sys.argv[1:] if argv is None else [str(a) for a in argv])]
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    signalled: list[int] = []
    try:
        with _plain_warnings(lambda text: _in_flags(text, parser, args)), _sigterm_as_interrupt() as signalled:
            return int(args.func(args) or 0)
    except BrokenPipeError:  # the reader of our output went away (socscope materials | head -1): not an error
        with contextlib.suppress(OSError, ValueError):
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so that Python's flush at exit does not fail again
        return 0
    except SolverError as exc:  # a run that failed, not bad input
        print(f"socscope: error: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    except (SocscopeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"socscope: error: {_in_flags(first, parser, args)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if signalled:
            print("socscope: terminated (SIGTERM); outputs are as they were before the run", file=sys.stderr)
            return 143
        print("socscope: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a path that cannot be read or written: bad input
        print(f"socscope: error: {_os_error_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a failure, not bad input: one line, non-zero
        print(f"socscope: error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
