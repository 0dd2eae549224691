"""``socscope optical analyze``: an operando optical movie in, per-particle tables, figures and a contrast stack out.

No science here: arguments are parsed and checked, the library's
:func:`socscope.analysis.optical.analyze_movie` does the work, and the
outputs are written into a temporary folder and swapped into ``--out`` only
when everything is written (:func:`socscope.io.results.output_folder`) — an
error leaves ``--out`` as it was. Only the
files of :data:`OUTPUTS` are ever replaced (with ``--overwrite``); anything
else in ``--out``, such as the movie itself, stays.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import SocscopeError
from ._common import _CountBar, _usage, _write_tables
from ._flags import not_an_input, positive

__all__ = ["OUTPUTS", "add_optical_parser", "cmd_optical_analyze"]

#: what ``socscope optical analyze`` writes into ``--out``
OUTPUTS = (
    "particles.csv", "traces.csv", "transitions.csv", "half_cycles.csv", "drift.csv", "contrast.tif",
    "labels.tif", "summary.json", "particles.png", "traces_vs_soc.png", "differential_images.png",
    "com_distance.png", "drift.png", "provenance.json",
)


def _spot(text: str | None):
    if text is None or text.strip().lower() == "auto":
        return "auto"
    try:
        y, x = (float(v) for v in text.replace(";", ",").split(","))
    except ValueError:
        raise SocscopeError(f"--reference-spot {text!r} must be Y,X in pixels (row, column), e.g. 412,88, "
                            "or 'auto'") from None
    return (y, x)


def _check_out(out: Path, overwrite: bool, inputs) -> None:
    """``--out`` may take the outputs: not a file, no outputs of ours there unless ``--overwrite``, no input among them.

    Other files in ``--out`` are never touched (``--overwrite`` replaces only :data:`OUTPUTS`).
    """
    from ..io.results import check_output_folder

    not_an_input([out / name for name in OUTPUTS], inputs)
    folders = [name for name in OUTPUTS if (out / name).is_dir()]
    if folders:
        raise SocscopeError(f"{out}/{folders[0]} is a folder where an output file goes; move it or choose another "
                            "--out")
    check_output_folder(out, OUTPUTS, overwrite=overwrite)


def _capacity(args):
    """Capacity basis keywords for the library (None values when not given)."""
    positive(args.capacity_mAh, "--capacity-mAh", 1.7)
    positive(args.mass_mg, "--mass-mg", 8.1)
    positive(args.capacity_mAh_g, "--capacity-mAh-g", 210)
    if args.capacity_mAh is not None and (args.mass_mg is not None or args.capacity_mAh_g is not None):
        raise SocscopeError("give the capacity once: --capacity-mAh, or --mass-mg with --capacity-mAh-g")
    if (args.mass_mg is None) != (args.capacity_mAh_g is None):
        raise SocscopeError("--mass-mg and --capacity-mAh-g go together (e.g. --mass-mg 8.1 --capacity-mAh-g 210); "
                            "or give --capacity-mAh, or neither (SOC then spans the record's largest charge swing)")
    if not args.cycler:
        given = [flag for flag, value in (("--capacity-mAh", args.capacity_mAh), ("--mass-mg", args.mass_mg),
                                          ("--capacity-mAh-g", args.capacity_mAh_g),
                                          ("--time-offset-s", args.time_offset_s or None)) if value is not None]
        if given:
            raise SocscopeError(f"{', '.join(given)} set(s) the SOC from the cycler record, but no --cycler is given; "
                                "pass the record (--cycler cell.mpr) or leave them out")
    return {
        "capacity_Ah": args.capacity_mAh * 1e-3 if args.capacity_mAh is not None else None,
        "mass_g": args.mass_mg * 1e-3 if args.mass_mg is not None else None,
        "capacity_mAh_g": args.capacity_mAh_g,
    }


def _checked_cycler(args, capacity: dict):
    """The --cycler record, read once; a capacity basis the record overfills (a unit slip) is refused."""
    if not args.cycler:
        return None
    from ..analysis.optical.join import read_cycler
    from ._flags import plausible_mass

    df = read_cycler(args.cycler)
    plausible_mass(df, args.mass_mg)
    basis_Ah = capacity["capacity_Ah"] or (capacity["mass_g"] * capacity["capacity_mAh_g"] * 1e-3
                                          if capacity["mass_g"] else None)
    if basis_Ah:
        t, i = df["time_s"].to_numpy(float), df["current_A"].to_numpy(float)
        q = np.concatenate([[0.0], np.cumsum(0.5 * (i[1:] + i[:-1]) * np.diff(t))]) / 3600.0
        swing = float(np.ptp(q)) / basis_Ah
        if swing > 1.5:
            given = (f"--capacity-mAh {args.capacity_mAh:g}" if args.capacity_mAh is not None
                     else f"--mass-mg {args.mass_mg:g} with --capacity-mAh-g {args.capacity_mAh_g:g}")
            raise SocscopeError(f"{args.cycler}: the record passes {swing:.3g} times the capacity of {given} "
                                f"({basis_Ah * 1e3:.3g} mAh), an SOC of {100 * swing:.0f} %: is a unit off (mg, "
                                "mAh)? Leave the capacity out to let SOC span the record's largest charge swing")
    return df


def _segmentation(args) -> dict:
    """The segmentation settings given on the command line (the library's defaults otherwise)."""
    if args.smooth_px is not None and not (math.isfinite(args.smooth_px) and args.smooth_px >= 0):
        raise SocscopeError(f"--smooth-px {args.smooth_px} must be >= 0 pixels (0: no smoothing), e.g. 3")
    if args.min_distance_px is not None and not (math.isfinite(args.min_distance_px) and args.min_distance_px >= 1):
        raise SocscopeError(f"--min-distance-px {args.min_distance_px} must be >= 1 pixel, e.g. 8")
    out = {"smooth_px": args.smooth_px, "min_distance_px": args.min_distance_px}
    out = {k: v for k, v in out.items() if v is not None}
    if args.no_split:
        out["split_touching"] = False
    if out and (args.labels or args.rois):
        raise SocscopeError("--smooth-px, --min-distance-px and --no-split apply only when the particles are "
                            "segmented; drop them, or drop --labels/--rois")
    return out


def cmd_optical_analyze(args) -> int:
    """Run the pipeline on one movie and write every output (see :data:`OUTPUTS`)."""
    from ..analysis.optical.drift import NoReferenceSpotError
    from ..analysis.optical.pipeline import analyze_movie
    from ..io.movies import open_movie

    out = Path(args.out)
    _check_out(out, args.overwrite, (args.movie, args.labels, args.rois, args.cycler))
    positive(args.pixel_size_nm, "--pixel-size-nm", 34.7)
    positive(args.frame_interval_s, "--frame-interval-s", 0.5)
    if args.min_area_px is not None and args.min_area_px < 1:
        raise SocscopeError(f"--min-area-px {args.min_area_px} must be >= 1 pixel, e.g. 300 (default: a tenth of a "
                            "typical particle's area)")
    if args.bin < 1:
        raise SocscopeError(f"--bin {args.bin} must be a whole number of frames >= 1 (20-80 is usual)")
    if args.labels and args.rois:
        raise SocscopeError("give particles once: --labels FILE or --rois FILE, not both")
    capacity = _capacity(args)
    spot = _spot(args.reference_spot) if args.drift == "gaussian" else None
    parent = out.absolute().parent
    if not parent.is_dir():
        raise SocscopeError(f"cannot write {out}: folder {parent} does not exist")

    cycler = _checked_cycler(args, capacity)
    movie = open_movie(args.movie, frame_interval_s=args.frame_interval_s)
    with movie:
        labels = None
        if args.labels:
            from ..analysis.optical.segment import load_labels

            labels = load_labels(args.labels)
            if labels.shape != tuple(movie.shape):
                raise SocscopeError(f"{args.labels}: the label image is {labels.shape[0]}x{labels.shape[1]} but the "
                                    f"movie's frames are {movie.shape[0]}x{movie.shape[1]} (y x)")
        elif args.rois:
            from ..analysis.optical.segment import labels_from_rois

            labels = labels_from_rois(args.rois, movie.shape)
        if isinstance(spot, tuple):
            ny, nx = movie.shape
            if not (0 <= spot[0] <= ny - 1 and 0 <= spot[1] <= nx - 1):
                raise SocscopeError(
                    f"--reference-spot {args.reference_spot}: (y, x) = ({spot[0]:g}, {spot[1]:g}) is outside the "
                    f"{ny}x{nx} frames; give Y,X with 0 <= Y <= {ny - 1} and 0 <= X <= {nx - 1} (row, column)"
                )
        # written into a temporary sibling of --out and swapped in as a whole (io.results.output_folder):
        # an error, an interrupt or a full disk leaves --out as it was
        from ..io.results import output_folder

        bar = _CountBar(args.quiet, "optical", "frame")
        try:
            with output_folder(out, OUTPUTS, overwrite=args.overwrite) as tmp:
                import tifffile

                n_bins = movie.n_frames // args.bin
                big = n_bins * movie.shape[0] * movie.shape[1] * 4 > 2**32 - 2**25
                with tifffile.TiffWriter(tmp / "contrast.tif", bigtiff=big) as writer:
                    try:
                        result = analyze_movie(
                            movie, labels=labels, reference_spot=spot if spot is not None else "auto",
                            drift=args.drift, bin_frames=args.bin, cycler=cycler,
                            time_offset_s=args.time_offset_s, threshold=args.threshold,
                            min_area_px=args.min_area_px, segmentation=_segmentation(args),
                            unreacted_threshold=args.unreacted_threshold, pixel_size_nm=args.pixel_size_nm,
                            contrast_writer=writer, progress=bar, **capacity,
                        )
                    except NoReferenceSpotError as exc:
                        # the finder's advice names its Python options; say it in flags
                        raise SocscopeError(
                            f"{str(exc).split(';')[0]}; give a fixed bright spot of the first frame with "
                            "--reference-spot Y,X (row, column in pixels), or measure the drift with --drift xcorr"
                        ) from None
                bar.close()
                _write_outputs(tmp, result, args)
        finally:
            bar.close()
    if not args.quiet:
        _report(result, out)
    return 0


def _write_outputs(folder: Path, result, args) -> None:
    import tifffile

    from ..io.results import write_provenance, write_text_atomic
    from ._quicklook import command_provenance

    _write_tables(folder, {name: getattr(result, name)
                           for name in ("particles", "traces", "transitions", "half_cycles", "drift")})
    tifffile.imwrite(folder / "labels.tif", result.labels.astype(np.int32), photometric="minisblack")
    summary = {**result.summary, "movie": str(args.movie), "cycler": str(args.cycler) if args.cycler else None,
               "outputs": list(OUTPUTS)}
    write_text_atomic(folder / "summary.json", json.dumps(summary, indent=2, default=_json_default) + "\n")
    _figures(folder, result, args.pixel_size_nm if args.pixel_size_nm is not None else result.summary["pixel_size_nm"])
    write_provenance(folder, command_provenance(args, inputs=[args.movie, args.labels, args.rois, args.cycler]))


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _figures(folder: Path, result, pixel_size_nm) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from ..plotting._common import save_figure
    from ..plotting.optical import (
        plot_com_distance,
        plot_differential_images,
        plot_drift,
        plot_particle_map,
        plot_traces_vs_soc,
    )

    ax = plot_particle_map(result.first_frame, result.labels, particles=result.particles, pixel_size_nm=pixel_size_nm)
    save_figure(ax.figure, folder / "particles.png")
    has_soc = bool(np.isfinite(result.traces["soc"]).any())
    axes = plot_traces_vs_soc(result.traces if has_soc else result.traces.assign(soc=result.traces.time_s / 3600,
                                                                                  half_cycle=0,
                                                                                  direction="no cycler record"))
    if not has_soc:
        for a in axes[1]:
            a.set_xlabel("time [h]")
    save_figure(axes[0, 0].figure, folder / "traces_vs_soc.png")
    frames = result.extra["frame_table"].set_index("frame")
    titles = []
    for k in result.image_frames:
        t_min = frames.time_s.loc[k] / 60
        soc = frames.soc.loc[k]
        titles.append(f"{t_min:.0f} min" + (f", SOC {soc:.2f}" if np.isfinite(soc) else ""))
    axes = plot_differential_images(result.images, titles=titles, pixel_size_nm=pixel_size_nm)
    save_figure(axes[0].figure, folder / "differential_images.png")
    com = result.traces if has_soc else result.traces.assign(soc=result.traces.time_s / 3600)
    ax = plot_com_distance(com, directions=("charge",) if has_soc else None)
    if not has_soc:
        ax.set_xlabel("time [h]")
    save_figure(ax.figure, folder / "com_distance.png")
    ax = plot_drift(result.drift)
    save_figure(ax.figure, folder / "drift.png")


def _report(result, out: Path) -> None:
    s = result.summary
    print(f"{s['particles']} particles ({s['particles_touching_edge']} cut by the image edge), "
          f"{s['binned_frames']} binned frames of {s['bin_frames']}; largest drift {s['max_drift_px']:.2f} px")
    for row in s["half_cycles"]:
        idx = row.get("asynchrony_index")
        print(f"  half cycle {row['half_cycle']} ({row['direction']}): {row['classification']}"
              + (f", asynchrony index {idx:.2f}" if idx is not None else "")
              + f", {row['n_reacted']}/{row['n_particles']} particles reacted")
    print(f"wrote {out}/")


def add_optical_parser(sub) -> None:
    """Add ``optical analyze`` to the command line's sub-parsers."""
    o = sub.add_parser("optical", help="analyse operando optical microscopy movies",
                       description="Analyse operando optical microscopy movies.")
    osub = o.add_subparsers(dest="what", metavar="WHAT")
    a = osub.add_parser(
        "analyze", help="per-particle SOC traces, asynchrony and core-shell metrics from a movie",
        description="Bin, drift-correct and segment a movie; compute the differential contrast (I - I1)/I1; "
                    "join with the cycler record for SOC; fit each particle's transition per half cycle and "
                    "classify half cycles as asynchronous or synchronous. Writes " + ", ".join(OUTPUTS) + ".",
        epilog="example: socscope optical analyze movie.tif --cycler cell.mpr --mass-mg 8.1 --capacity-mAh-g 210 "
               "--pixel-size-nm 34.7 --bin 20 --reference-spot 412,88 --out results/",
    )
    a.add_argument("movie", help="TIFF / OME-TIFF / ImageJ-TIFF stack (or video)")
    a.add_argument("--out", required=True, help="output folder (replaced as a whole at the end)")
    a.add_argument("--cycler", help="cycler record (.mpr, .mpt, .ndax, .nda, Arbin/Maccor export, or a CSV "
                                    "with time, voltage, current columns; current positive on charge)")
    a.add_argument("--capacity-mAh", type=float, help="capacity that SOC 0→1 stands for [mAh]")
    a.add_argument("--mass-mg", type=float, help="active mass [mg] (with --capacity-mAh-g)")
    a.add_argument("--capacity-mAh-g", type=float, help="specific capacity for SOC [mAh/g], e.g. 210 or 278")
    a.add_argument("--time-offset-s", type=float, default=0.0,
                   help="cycler time of the movie's first frame [s] (default 0: both start together)")
    a.add_argument("--pixel-size-nm", type=float, help="pixel size [nm] (default: from the file, if stated)")
    a.add_argument("--frame-interval-s", type=float, help="time between frames [s] (overrides the file)")
    a.add_argument("--bin", type=int, default=1, help="frames per bin (default 1; 20-80 in the papers)")
    a.add_argument("--drift", choices=["gaussian", "xcorr", "none"], default="gaussian",
                   help="drift from a Gaussian fit to a reference spot (default), cross-correlation, or none")
    a.add_argument("--reference-spot", metavar="Y,X", default="auto",
                   help="bright fixed spot for the Gaussian drift fit, row,column in pixels of the first frame "
                        "(default: auto, the brightest isolated spot)")
    a.add_argument("--labels", help="particle label image (TIFF of integers, 0 = background) instead of segmenting")
    a.add_argument("--rois", help="ImageJ ROI file (.roi or RoiSet .zip) instead of segmenting")
    a.add_argument("--threshold", type=float, help="background threshold on the first frame (default: Otsu)")
    a.add_argument("--min-area-px", type=int, default=None,
                   help="smallest particle kept [px] (default: a tenth of a typical particle's area, 0.1 x pi r^2, "
                        "r the typical inscribed radius on the thresholded first frame)")
    a.add_argument("--smooth-px", type=float, default=None,
                   help="Gaussian smoothing before segmenting [px] (default r/6, at least 1; raise it when cracked "
                        "or textured particles are cut into pieces)")
    a.add_argument("--min-distance-px", type=float, default=None,
                   help="smallest distance between the centres of two touching particles [px] (default 0.6 x the "
                        "typical inscribed radius; raise it if single particles are cut)")
    a.add_argument("--no-split", action="store_true",
                   help="one particle per connected bright object (no watershed split of touching particles)")
    a.add_argument("--unreacted-threshold", type=float, default=0.05,
                   help="contrast below which a pixel counts as unreacted (default 0.05)")
    a.add_argument("--overwrite", action="store_true",
                   help="replace socscope's outputs already in --out (other files there are kept)")
    a.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    a.set_defaults(func=cmd_optical_analyze)
    from .sweep import add_analyze_batch_parser  # optical analyze-batch

    add_analyze_batch_parser(osub, a)

    o.set_defaults(func=lambda _a, parser=o: _usage(parser))
