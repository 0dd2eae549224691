"""``socscope afm info|analyze`` and ``socscope nexafs ratio``: AFM maps and NEXAFS spectra (Jetybayeva et al. (ACS Appl. Energy Mater. 2022)).

No science here: arguments are checked, :mod:`socscope.analysis.afm` and
:mod:`socscope.analysis.nexafs` do the work, and the outputs are written into a temporary folder
and moved into ``--out`` only when all are written; an error leaves ``--out`` as it was. Only
socscope's own outputs are ever replaced (with ``--overwrite``); other files in ``--out`` stay.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .._filemode import default_dir_mode
from ..errors import SocscopeError
from ._quicklook import command_provenance
from ._common import _CountBar, _usage, _write_tables
from ._flags import not_an_input, positive

__all__ = ["AFM_OUTPUTS", "NEXAFS_OUTPUTS", "add_afm_parser"]

#: what ``socscope afm analyze`` writes into ``--out``
AFM_OUTPUTS = ("particles.csv", "soc_summary.csv", "histograms.csv", "profiles.csv", "correlations.csv",
               "summary.json", "provenance.json", "levelled", "masks", "histograms.png", "mean_vs_soc.png",
               "profiles.png", "maps.png")
#: what ``socscope nexafs ratio`` writes into ``--out``
NEXAFS_OUTPUTS = ("ratios.csv", "summary.json", "provenance.json", "ratio_vs_soc.png")


def _check_out(out: Path, names, overwrite: bool, inputs) -> None:
    from ..io.results import check_output_folder

    not_an_input([out / name for name in names], inputs)
    for given in inputs:  # an input inside an output folder (levelled/, masks/) would be replaced too
        for name in names:
            if given and (out / name).is_dir() and Path(given).resolve().is_relative_to((out / name).resolve()):
                raise SocscopeError(f"{given} lies in {out / name}, which the outputs replace; choose another --out")
    if out.exists() and not out.is_dir():
        raise SocscopeError(f"{out} exists and is not a folder; choose another --out")
    clash = [n for n in names if (out / n).exists()]
    if clash and not overwrite:
        raise SocscopeError(f"{out}/ already holds {', '.join(clash)}; pass --overwrite or choose another --out")
    files = [n for n in names if "." in n]
    check_output_folder(out, files, overwrite=overwrite)  # a folder, device or pipe where a file goes
    odd = [n for n in names if "." not in n and (out / n).exists() and not (out / n).is_dir()]
    if odd:
        raise SocscopeError(f"{out}/{odd[0]} is a file where an output folder goes; move it or choose another --out")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise SocscopeError(f"cannot write {out}: folder {parent} does not exist")


def _staging(out: Path, prefix: str) -> Path:
    if out.exists():
        return Path(tempfile.mkdtemp(prefix=f".{prefix}.partial.", dir=out))
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial.", dir=out.absolute().parent))
    tmp.chmod(default_dir_mode())  # it becomes --out: an ordinary folder, not a private one
    return tmp


def _publish(tmp: Path, out: Path, names) -> None:
    """Move the outputs from ``tmp`` into ``out``; what they replace goes aside and comes back on an error."""
    if not out.exists():
        os.replace(tmp, out)
        return
    aside = tmp / ".replaced"
    aside.mkdir()
    placed = []
    try:
        for name in names:
            if not (tmp / name).exists():
                continue
            placed.append(name)
            if (out / name).exists():
                os.replace(out / name, aside / name)
            os.replace(tmp / name, out / name)
    except BaseException:
        for name in reversed(placed):
            if not (tmp / name).exists() and (out / name).exists():
                os.replace(out / name, tmp / name)
            if (aside / name).exists():
                os.replace(aside / name, out / name)
        raise
    shutil.rmtree(tmp)


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _clean_json(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_json(v) for v in obj]
    return obj


def _write_json(path: Path, data) -> None:
    from ..io.results import write_text_atomic

    write_text_atomic(path, json.dumps(_clean_json(data), indent=2, default=_json_default) + "\n")


def cmd_afm_info(args) -> int:
    """Print a map's channels, size, scan, units and notes."""
    from ..io.afm import info, open_afm

    positive(args.pixel_size_nm, "--pixel-size-nm", 7.8)
    ds = open_afm(args.file, pixel_size_nm=args.pixel_size_nm)
    summary = info(ds)
    if args.json:
        print(json.dumps(_clean_json(summary), indent=2))
        return 0
    print(f"{summary['source']}: {summary['format']}, {summary['shape_px'][0]} x {summary['shape_px'][1]} px, "
          f"scan {summary['scan_size_um']:.4g} um, pixel {summary['pixel_size_nm']:.4g} nm"
          + (f", {summary['imaging_mode']}" if "imaging_mode" in summary else ""))
    for ch in summary["channels"]:
        print(f"  {ch['name']:<24} [{ch['units'] or '-'}]  {ch['min']:.4g} .. {ch['max']:.4g}")
    notes = summary["notes"]
    if notes and not args.no_notes:
        print(f"notes ({len(notes)}):")
        for key, value in notes.items():
            print(f"  {key}: {value}")
    return 0


def _level_steps(text: str) -> tuple:
    from ..analysis.afm.level import LEVEL_STEPS

    if text.strip().lower() == "none":
        return ()
    steps = tuple(s.strip() for s in text.split(",") if s.strip())
    bad = [s for s in steps if s not in LEVEL_STEPS]
    if bad:
        raise SocscopeError(f"--level {text!r}: step {bad[0]!r} is unknown; choose from {', '.join(LEVEL_STEPS)} "
                            "(comma-separated, e.g. plane,median) or none")
    return steps


def cmd_afm_analyze(args) -> int:
    """Analyse maps per particle and SOC and write :data:`AFM_OUTPUTS`."""
    from ..analysis.afm import analyze_maps, read_soc_table

    out = Path(args.out)
    inputs = [*args.maps, args.soc_table]
    if args.labels:
        inputs += [p for p in Path(args.labels).iterdir() if p.is_file()] if Path(args.labels).is_dir() else []
    _check_out(out, AFM_OUTPUTS, args.overwrite, inputs)
    positive(args.rim_nm, "--rim-nm", 300)
    positive(args.pixel_size_nm, "--pixel-size-nm", 7.8)
    if args.min_area_px < 1:
        raise SocscopeError(f"--min-area-px {args.min_area_px} must be a whole number of pixels >= 1, e.g. 20")
    if args.smooth_px < 0 or not math.isfinite(args.smooth_px):
        raise SocscopeError(f"--smooth-px {args.smooth_px} must be >= 0 pixels, e.g. 1")
    if args.bins < 1:
        raise SocscopeError(f"--bins {args.bins} must be >= 1, e.g. 50")
    if args.soc_from_name and args.soc_table:
        raise SocscopeError("give the SOC once: --soc-from-name REGEX or --soc-table FILE")
    steps = _level_steps(args.level)
    soc = read_soc_table(args.soc_table) if args.soc_table else None
    labels = _labels_for(args.labels, args.maps) if args.labels else None
    bar = _CountBar(args.quiet, "afm", "map")
    try:
        result = analyze_maps(args.maps, channel=args.channel, mask_from=args.mask_from,
                              soc_pattern=args.soc_from_name, soc=soc, rim_nm=args.rim_nm, level_steps=steps,
                              level_channel=args.level_channel, mask_method=args.mask_method,
                              threshold=args.threshold, invert_mask=args.invert_mask, min_area_px=args.min_area_px,
                              smooth_px=args.smooth_px, pixel_size_nm=args.pixel_size_nm, bins=args.bins,
                              labels=labels, progress=bar)
    finally:
        bar.close()
    prov = command_provenance(args, inputs=inputs, settings=result.settings)
    tmp = _staging(out, "afm")
    try:
        _write_afm(tmp, result, prov)
        _publish(tmp, out, AFM_OUTPUTS)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not args.quiet:
        for line in _afm_summary_lines(result):
            print(line)
        print(f"wrote {out}/")
    return 0


def _afm_summary_lines(result) -> list[str]:
    """What ``afm analyze`` prints: counts as whole numbers, one line per SOC, or one for all maps without SOCs."""
    def plural(n, word):
        return f"{n} {word}{'' if n == 1 else 's'}"

    s = result.summary
    unit = result.settings["unit"] or "-"
    by_soc = bool(len(s)) and bool(np.isfinite(s["soc_percent"].to_numpy(np.float64)).any())
    lines = [f"{plural(len(result.maps), 'map')}, {plural(len(result.particles), 'particle')}; "
             f"{result.settings['channel']} [{unit}] over particle areas{' per SOC' if by_soc else ''}:"]
    for _, row in s.iterrows():
        soc = row["soc_percent"]
        where = f"SOC {soc:g} %" if np.isfinite(soc) else ("SOC unknown" if by_soc else "all maps")
        rim = row["rim_minus_bulk_mean"]
        rim_text = f"{rim:.3g}" if np.isfinite(rim) else "none (no particle has a bulk inside its rim)"
        lines.append(f"  {where}: {row['mean']:.4g} +- {row['std']:.3g} ({plural(int(row['n_particles']), 'particle')} "
                     f"in {plural(int(row['n_maps']), 'map')}), rim - bulk {rim_text}")
    return lines


def _labels_for(folder, maps) -> dict:
    """For each map, its labels in ``folder``: ``<stem>.tif``, ``<stem>_labels.tif``, ``<stem>.roi`` or ``<stem>.zip``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SocscopeError(f"--labels {folder}: not a folder; give a folder holding <map name>.tif (label images) "
                            "or <map name>.roi/.zip (ImageJ ROIs)")
    found = {}
    for m in maps:
        stem = Path(m).stem
        for name in (f"{stem}.tif", f"{stem}.tiff", f"{stem}_labels.tif", f"{stem}.roi", f"{stem}.zip"):
            if (folder / name).is_file():
                found[Path(m).name] = folder / name
                break
        else:
            raise SocscopeError(f"--labels {folder}: no labels for {Path(m).name}; expected {stem}.tif, "
                                f"{stem}_labels.tif, {stem}.roi or {stem}.zip there")
    return found


def _write_afm(folder: Path, result, prov) -> None:
    import tifffile

    _write_tables(folder, {"particles": result.particles, "soc_summary": result.summary,
                           "histograms": result.histograms, "profiles": result.profiles,
                           "correlations": result.correlations})
    (folder / "levelled").mkdir()
    (folder / "masks").mkdir()
    for m in result.maps:
        stem = Path(m.name).stem
        # two float32 planes: the levelled mask channel and the analysed channel, with the pixel size
        res = 1e7 / m.pixel_size_nm  # pixels per cm (TIFF resolution unit)
        tifffile.imwrite(folder / "levelled" / f"{stem}.tif", np.stack([m.mask_channel, m.channel]).astype(np.float32),
                         photometric="minisblack", resolution=(res, res), resolutionunit="CENTIMETER",
                         metadata={"channels": [result.settings["mask_from"], result.settings["channel"]],
                                   "pixel_size_nm": m.pixel_size_nm})
        tifffile.imwrite(folder / "masks" / f"{stem}_labels.tif", m.labels.astype(np.int32), photometric="minisblack")
    summary = {"settings": result.settings, "maps": [m.name for m in result.maps],
               "n_particles": len(result.particles), "per_soc": result.summary.to_dict(orient="records"),
               "outputs": list(AFM_OUTPUTS)}
    _write_json(folder / "summary.json", summary)
    from ..io.results import write_provenance
    write_provenance(folder, prov)
    _afm_figures(folder, result)


def _afm_figures(folder: Path, result) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from ..plotting._common import _plt, save_figure
    from ..plotting.afm import (
        plot_map_particles,
        plot_mean_vs_soc,
        plot_rim_profiles,
        plot_soc_histograms,
    )

    unit, channel = result.settings["unit"], result.settings["channel"]
    save_figure(plot_soc_histograms(result.histograms, unit=unit, channel=channel).figure, folder / "histograms.png")
    save_figure(plot_mean_vs_soc(result.summary, unit=unit, channel=channel).figure, folder / "mean_vs_soc.png")
    save_figure(plot_rim_profiles(result.profiles, unit=unit, channel=channel).figure, folder / "profiles.png")
    shown = result.maps[:4]
    fig, axes = _plt().subplots(1, len(shown), figsize=(4.2 * len(shown), 4.0), constrained_layout=True,
                                squeeze=False)
    for ax, m in zip(axes[0], shown):
        plot_map_particles(m.channel, m.labels, pixel_size_nm=m.pixel_size_nm,
                           title=f"{m.name} ({'SOC ' + format(m.soc_percent, 'g') + ' %' if np.isfinite(m.soc_percent) else 'SOC ?'})",
                           ax=ax)
    save_figure(fig, folder / "maps.png")


def _references(items) -> dict:
    refs = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise SocscopeError(f"--reference {item!r} must be NAME=FILE, e.g. --reference Ni2=nio.csv")
        refs[name.strip()] = path.strip()
    return refs


#: --window names -> the keys of socscope.analysis.nexafs.EDGES entries
_WINDOW_NAMES = {"pre-edge": "pre_edge_eV", "post-edge": "post_edge_eV", "low": "low_eV", "high": "high_eV"}


def _windows(items) -> dict:
    """``--window NAME=LO:HI`` [eV] as the windows= overrides of analyze_spectra."""
    out = {}
    for item in items or []:
        name, sep, span = item.partition("=")
        lo, colon, hi = span.partition(":")
        key = _WINDOW_NAMES.get(name.strip().lower())
        try:
            pair = (float(lo), float(hi)) if sep and colon else None
        except ValueError:
            pair = None
        if key is None or pair is None or not (0 < pair[0] < pair[1] < 1e5):
            raise SocscopeError(f"--window {item!r} must be NAME=LO:HI in eV with 0 < LO < HI, NAME one of "
                                f"{', '.join(_WINDOW_NAMES)}; e.g. --window low=852.5:854.5")
        out[key] = pair
    return out


def cmd_nexafs_ratio(args) -> int:
    """The L3 ratio of every spectrum and channel: :data:`NEXAFS_OUTPUTS`."""
    from ..analysis.nexafs import analyze_spectra

    out = Path(args.out)
    refs = _references(args.reference)
    inputs = [*args.spectra, *refs.values()]
    _check_out(out, NEXAFS_OUTPUTS, args.overwrite, inputs)
    windows = _windows(args.window)
    table = analyze_spectra(args.spectra, edge=args.edge, channels=args.channels, soc_pattern=args.soc_from_name,
                            references=refs or None, normalize_i0=args.i0, windows=windows or None)
    settings = {"edge": args.edge, "channels": args.channels, "soc_pattern": args.soc_from_name,
                "references": refs, "normalize_i0": args.i0, "windows_eV": windows}
    prov = command_provenance(args, inputs=inputs, settings=settings)
    tmp = _staging(out, "nexafs")
    try:
        from ..io.results import write_text_atomic

        write_text_atomic(tmp / "ratios.csv", table.to_csv(index=False))
        _write_json(tmp / "summary.json", {"settings": settings, "spectra": table.to_dict(orient="records"),
                                           "outputs": list(NEXAFS_OUTPUTS)})
        from ..io.results import write_provenance
        write_provenance(tmp, prov)
        import matplotlib

        matplotlib.use("Agg")
        from ..plotting._common import save_figure
        from ..plotting.afm import plot_nexafs_ratio

        save_figure(plot_nexafs_ratio(table).figure, tmp / "ratio_vs_soc.png")
        _publish(tmp, out, NEXAFS_OUTPUTS)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not args.quiet:
        for _, row in table.iterrows():
            soc = "" if not np.isfinite(row["soc_percent"]) else f" SOC {row['soc_percent']:g} %"
            print(f"  {row['file']}{soc} {row['mode']}: high/low {row['high_low_ratio']:.3f} "
                  f"(peaks {row['low_peak_eV']:.2f}, {row['high_peak_eV']:.2f} eV)")
        print(f"wrote {out}/")
    return 0


def add_afm_parser(sub) -> None:
    """Add ``afm info``, ``afm analyze`` and ``nexafs ratio`` to the command line's sub-parsers."""
    from ..analysis.afm.level import LEVEL_STEPS

    a = sub.add_parser("afm", help="AFM maps (ESM amplitude, C-AFM current, topography) per particle and SOC",
                       description="Read AFM maps (Asylum .ibw, Gwyddion .gwy, Bruker, TIFF, NumPy) and analyse "
                                   "them per particle and state of charge.")
    asub = a.add_subparsers(dest="what", metavar="WHAT")
    i = asub.add_parser("info", help="channels, size, scan, units and notes of a map",
                        description="Print the channels (with units and ranges), size, scan and instrument notes "
                                    "of one AFM map.", epilog="example: socscope afm info map.ibw")
    i.add_argument("file", help="AFM map (.ibw, .gwy, .tif, .npy/.npz, Bruker)")
    i.add_argument("--pixel-size-nm", type=float, help="pixel size [nm] for TIFF/NumPy files without one")
    i.add_argument("--json", action="store_true", help="print JSON")
    i.add_argument("--no-notes", action="store_true", help="leave the instrument notes out")
    i.set_defaults(func=cmd_afm_info)

    z = asub.add_parser(
        "analyze", help="levelling, particle masks, per-particle and rim/bulk statistics, per-SOC summaries",
        description="Level the mask channel, find the particles on it, measure the analysed channel per particle "
                    "(area, mean, median, s.d., rim minus bulk), rim-to-centre profiles and correlations with the "
                    "other channels, and summarise per SOC (histograms, mean +- s.d.). Writes "
                    + ", ".join(AFM_OUTPUTS) + ".",
        epilog=r"example: socscope afm analyze maps/*.ibw --channel Amplitude --mask-from Height "
               r'--soc-from-name "SOC(\d+)" --rim-nm 300 --out afm/')
    z.add_argument("maps", nargs="+", help="AFM maps")
    z.add_argument("--channel", required=True, help="channel to measure, e.g. Amplitude (ESM) or Current (C-AFM)")
    z.add_argument("--mask-from", help="channel to find the particles on, e.g. Height (default: --channel)")
    z.add_argument("--soc-from-name", metavar="REGEX", help=r"regular expression whose first group is the SOC [%%] "
                   r"in each file name, e.g. 'SOC(\d+)'")
    z.add_argument("--soc-table", metavar="CSV", help="table with columns file,soc_percent")
    z.add_argument("--rim-nm", type=float, default=300.0, help="rim width [nm] (default 300)")
    z.add_argument("--level", default="plane,median",
                   help=f"levelling of the mask channel, comma-separated from {', '.join(LEVEL_STEPS)}, or none "
                        "(default plane,median)")
    z.add_argument("--level-channel", action="store_true", help="level the measured channel too")
    z.add_argument("--labels", metavar="DIR",
                   help="folder of particle labels per map instead of finding them: <map name>.tif (label image, "
                        "0 = background; masks/ of an earlier run works), <map name>.roi or .zip (ImageJ ROIs)")
    z.add_argument("--mask-method", choices=["watershed", "threshold"], default="watershed",
                   help="split touching particles (watershed, default) or not (threshold)")
    z.add_argument("--threshold", type=float, help="mask threshold in the mask channel's unit (default: Otsu)")
    z.add_argument("--invert-mask", action="store_true", help="particles are the low values of the mask channel")
    z.add_argument("--min-area-px", type=int, default=20, help="smallest particle [px] (default 20)")
    z.add_argument("--smooth-px", type=float, default=1.0, help="smoothing before masking [px] (default 1)")
    z.add_argument("--pixel-size-nm", type=float, help="pixel size [nm] for TIFF/NumPy maps without one")
    z.add_argument("--bins", type=int, default=50, help="histogram bins (default 50)")
    z.add_argument("--out", required=True, help="output folder")
    z.add_argument("--overwrite", action="store_true", help="replace socscope's outputs already in --out")
    z.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    z.set_defaults(func=cmd_afm_analyze)
    a.set_defaults(func=lambda _a, parser=a: _usage(parser))

    n = sub.add_parser("nexafs", help="NEXAFS spectra: Ni L3 peak ratios, surface (TEY) against bulk (FY)",
                       description="Analyse NEXAFS spectra at the Ni L-edge.")
    nsub = n.add_subparsers(dest="what", metavar="WHAT")
    r = nsub.add_parser(
        "ratio", help="normalise and give the L3 high/low peak ratio per spectrum and channel",
        description="Normalise each spectrum (pre-edge line, post-edge jump) and give the Ni L3 high/low-energy "
                    "peak ratio per file and channel (TEY, FY, ...); with two --reference spectra also their "
                    "shares. Writes " + ", ".join(NEXAFS_OUTPUTS) + ".",
        epilog=r'example: socscope nexafs ratio spectra/*.csv --edge Ni-L3 --soc-from-name "SOC(\d+)" --out nexafs/')
    r.add_argument("spectra", nargs="+", help="spectra: two-column text, beamline CSV/TSV or .xdi")
    r.add_argument("--edge", default="Ni-L3", choices=["Ni-L3"], help="edge (default Ni-L3)")
    r.add_argument("--channels", nargs="+", metavar="NAME", help="channels to use, e.g. TEY FY (default: all but I0)")
    r.add_argument("--soc-from-name", metavar="REGEX", help=r"regular expression whose first group is the SOC [%%]")
    r.add_argument("--reference", action="append", metavar="NAME=FILE",
                   help="reference spectrum for a component fit (repeatable), e.g. Ni2=nio.csv")
    r.add_argument("--i0", action="store_true", help="divide by the I0 column first")
    r.add_argument("--window", action="append", metavar="NAME=LO:HI",
                   help="move one of the edge's energy windows [eV] (repeatable; NAME: pre-edge, post-edge, low, "
                        "high), e.g. --window low=852.5:854.5 for a beamline whose energy scale is offset")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--overwrite", action="store_true", help="replace socscope's outputs already in --out")
    r.add_argument("--quiet", action="store_true", help="print nothing on success")
    r.set_defaults(func=cmd_nexafs_ratio)
    n.set_defaults(func=lambda _a, parser=n: _usage(parser))
