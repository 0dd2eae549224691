"""``socscope simulate electrode``: a network electrode through a protocol, results to netCDF.

No science here: arguments are parsed and checked; the layout comes from
:func:`socscope.geometry.random_layout`, :func:`~socscope.geometry.layered_layout`
or a micrograph (:func:`~socscope.analysis.optical.segment.segment_particles`
unless it is already a label image, then
:func:`~socscope.geometry.layout_from_labels`); the run is
:func:`socscope.simulate.simulate_electrode`; the optional movie of the top
layer is :func:`socscope.observe.electrode_movie.render_top_layer`. Every
output is written to a temporary file beside its target and renamed into
place only after the run and the rendering succeeded, so an error leaves
nothing behind.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np

from ..errors import FileFormatError, SocscopeError
from ..io._guard import reading
from ..io.movies import read_tiff_image
from ._flags import material_files, netcdf_out, not_an_input, positive

__all__ = ["add_electrode_parser", "cmd_simulate_electrode"]

#: image suffixes ``--from-image`` reads
IMAGE_SUFFIXES = (".tif", ".tiff", ".npy", ".png")

#: default ``--contact-fraction``: the default ``contact_fraction`` of
#: :func:`~socscope.geometry.random_layout` and :func:`~socscope.geometry.layered_layout`
#: (not imported, so that ``--help`` stays light)
CONTACT_FRACTION = 0.1

#: float64 values per stack held while rendering one piece of the movie (~256 MB)
_MOVIE_CHUNK_VALUES = 2**25


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------

#: the most particles a command-line layout holds: ten times the 10 000 of the
#: speed benchmark (39 s a C/20 cycle there; extrapolated ~7 min and ~1 GB of
#: per-particle results at 10-min samples)
MAX_CLI_PARTICLES = 100_000


def _coverage(text: str | None, *, pair_allowed: bool):
    """``--coverage`` as a fraction or a ``MEAN,SPREAD`` pair (None when not given)."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.replace(";", ",").split(",")]
    except ValueError:
        raise SocscopeError(f"--coverage {text!r} must be a fraction (e.g. 0.5) or MEAN,SPREAD (e.g. 0.5,0.3)") \
            from None
    if len(values) not in (1, 2) or not all(math.isfinite(v) for v in values):
        raise SocscopeError(f"--coverage {text!r} must be a fraction (e.g. 0.5) or MEAN,SPREAD (e.g. 0.5,0.3)")
    if not 0.0 <= values[0] <= 1.0:
        raise SocscopeError(f"--coverage {values[0]:g} is outside [0, 1]; it is the share of a particle's "
                            "surface wired by carbon binder, e.g. 0.5")
    if len(values) == 2:
        if not pair_allowed:
            raise SocscopeError(f"--coverage {text!r}: a MEAN,SPREAD pair applies to random layouts; give one "
                                "fraction, e.g. --coverage 0.5")
        if values[1] < 0:
            raise SocscopeError(f"--coverage {text!r}: the spread {values[1]:g} must be >= 0")
        return (values[0], values[1])
    return values[0]


def _check_args(args) -> None:
    if args.from_image is None:
        if args.pixel_size_nm is not None or args.image_kind != "auto" or args.collector != "bottom":
            raise SocscopeError("--pixel-size-nm, --image-kind and --collector apply to --from-image")
        if not (math.isfinite(args.contact_fraction) and 0.0 < args.contact_fraction <= 1.0):
            raise SocscopeError(f"--contact-fraction {args.contact_fraction:g} must lie in (0, 1]: the radius of an "
                                "NMC-NMC contact as a share of the smaller particle's radius, e.g. 0.1")
    else:
        if args.layout is not None or args.particles is not None or args.layers is not None:
            raise SocscopeError("give particles once: --from-image FILE, or --layout/--particles (not both)")
        if args.contact_fraction != CONTACT_FRACTION:
            raise SocscopeError("--contact-fraction applies to --layout; with --from-image the contacts are "
                                "measured from the image (shared boundary length)")
        if args.pixel_size_nm is None:
            raise SocscopeError(f"--from-image {args.from_image} needs --pixel-size-nm (the image's pixel size "
                                "in nm, e.g. 50)")
        positive(args.pixel_size_nm, "--pixel-size-nm", 50)
    if args.particles is not None and not 1 <= args.particles <= MAX_CLI_PARTICLES:
        raise SocscopeError(f"--particles {args.particles} must be a whole number in 1..{MAX_CLI_PARTICLES}, e.g. 200 "
                            "(for more, build a layout in Python with socscope.geometry.random_layout)")
    if args.layers is not None and (args.layout or "random-2d") != "layered":
        raise SocscopeError(f"--layers applies to --layout layered only (the layout is {args.layout or 'random-2d'}); "
                            "e.g. --layout layered --layers 3")
    if args.layers is not None and args.layers < 1:
        raise SocscopeError(f"--layers {args.layers} must be a whole number >= 1, e.g. 3")
    if args.seed < 0:
        raise SocscopeError(f"--seed {args.seed} must be a whole number >= 0, e.g. 0")
    if not (math.isfinite(args.isolated_fraction) and 0.0 <= args.isolated_fraction < 1.0):
        raise SocscopeError(f"--isolated-fraction {args.isolated_fraction:g} must lie in [0, 1), e.g. 0.1")
    if args.n_shells < 3:
        raise SocscopeError(f"--n-shells {args.n_shells} must be >= 3, e.g. 20")
    if not (math.isfinite(args.initial_theta) and 0.0 < args.initial_theta < 1.0):
        raise SocscopeError(f"--initial-theta {args.initial_theta:g} must lie in (0, 1), e.g. 0.97")
    positive(args.sigma_cb, "--sigma-cb", "1e4 (S/m)")
    if args.electrolyte_conductivity is not None:
        positive(args.electrolyte_conductivity, "--electrolyte-conductivity", "0.1 (S/m)")
    positive(args.output_interval_s, "--output-interval-s", 600)
    positive(args.movie_pixel_size_nm, "--movie-pixel-size-nm", 100)
    positive(args.movie_photons, "--movie-photons", 1000)
    _check_segmentation(args)


def _check_segmentation(args) -> None:
    """The segmentation flags apply to a grey --from-image and must be in range."""
    given = [f for f, v in (("--min-area-px", args.min_area_px), ("--smooth-px", args.smooth_px),
                            ("--min-distance-px", args.min_distance_px), ("--threshold", args.threshold),
                            ("--segmentation-figure", args.segmentation_figure)) if v is not None]
    if args.no_split:
        given.append("--no-split")
    if given and (args.from_image is None or args.image_kind == "labels"):
        raise SocscopeError(f"{', '.join(given)} set(s) how a grey --from-image micrograph is segmented; "
                            "drop it, or give --from-image FILE (not --image-kind labels)")
    if args.min_area_px is not None and args.min_area_px < 1:
        raise SocscopeError(f"--min-area-px {args.min_area_px} must be >= 1 pixel, e.g. 300 (default: a tenth of a "
                            "typical particle's area)")
    if args.smooth_px is not None and not (math.isfinite(args.smooth_px) and args.smooth_px >= 0):
        raise SocscopeError(f"--smooth-px {args.smooth_px:g} must be >= 0 pixels (0: no smoothing), e.g. 3")
    if args.min_distance_px is not None and not (math.isfinite(args.min_distance_px) and args.min_distance_px >= 1):
        raise SocscopeError(f"--min-distance-px {args.min_distance_px:g} must be >= 1 pixel, e.g. 20")
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise SocscopeError(f"--threshold {args.threshold} must be a finite intensity, e.g. 100")


def _segmentation_figure_path(args) -> Path | None:
    """Where the labelled segmentation figure goes: --segmentation-figure, else beside --out (grey images only)."""
    if args.from_image is None or args.image_kind == "labels":
        return None
    if args.segmentation_figure is not None:
        path = Path(args.segmentation_figure)
        if path.suffix.lower() != ".png":
            raise SocscopeError(f"--segmentation-figure {path}: the figure is a PNG image; name it .png")
        return path
    out = Path(args.out)
    return out.with_name(out.stem + ".segmentation.png")


def _check_targets(args) -> list[Path]:
    """Fail early (before any work) on outputs that may not be written; nothing is created."""
    from ..io.results import atomic_target

    targets = [Path(args.out)]
    source = Path(args.from_image).resolve() if args.from_image else None
    outputs = [*targets] + ([Path(args.movie), cycler_record_path(args.movie)] if args.movie else [])
    figure = _segmentation_figure_path(args)
    not_an_input(outputs + ([figure] if figure is not None else []), material_files(args.material),
                 fix="choose another output name (the inputs are never overwritten)")
    if args.movie:
        movie = Path(args.movie)
        if movie.resolve() == targets[0].resolve():  # resolve: 'a/../x.tif' and links name the same file
            raise SocscopeError(f"--movie {movie} and --out {args.out} are the same file; choose two names")
        if movie.suffix.lower() not in (".tif", ".tiff"):
            raise SocscopeError(f"--movie {movie}: the movie is written as a TIFF stack; name it .tif or .tiff")
        targets.append(movie)
        record = cycler_record_path(movie)
        if record.resolve() in (targets[0].resolve(), source):
            raise SocscopeError(f"--movie {movie}: its cycler record {record} would replace --out or the input; "
                                "choose another --movie name")
    for path, flag_ in zip(targets, ("--out", "--movie")):
        if source is not None and path.resolve() == source:
            raise SocscopeError(f"{flag_} {path} is the --from-image input; choose another name (the input is "
                                "never overwritten)")
    netcdf_out(args.out)
    for path in targets + ([cycler_record_path(targets[1])] if args.movie else []):
        atomic_target(path, overwrite=args.overwrite)[1].unlink()
    figure = _segmentation_figure_path(args)
    if figure is not None and args.image_kind == "grey":  # "auto" is checked once the image is read
        _check_figure_target(figure, targets, source, args.overwrite)
    return targets


def cycler_record_path(movie) -> Path:
    """The cycler record written beside a ``--movie``: ``top.tif`` -> ``top.cycler.csv``."""
    movie = Path(movie)
    return movie.with_name(movie.stem + ".cycler.csv")


def _check_figure_target(figure: Path, targets, source, overwrite: bool) -> None:
    from ..io.results import atomic_target

    if any(figure.resolve() == t.resolve() for t in targets) or (source is not None and figure.resolve() == source):
        raise SocscopeError(f"the segmentation figure {figure} would replace an input or another output; "
                            "choose --segmentation-figure FILE.png")
    atomic_target(figure, overwrite=overwrite)[1].unlink()


# ---------------------------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------------------------

def _read_image(path: Path) -> np.ndarray:
    """One 2D plane from a TIFF, .npy or .png file (RGB averaged to grey)."""
    expected = "expected a 2D micrograph or label image (.tif/.tiff, .npy or .png)"
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file ({expected})")
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise FileFormatError(f"{path}: unknown image format {suffix!r}; {expected}")
    try:
        if suffix == ".png":
            from skimage.io import imread
        elif suffix != ".npy":
            import tifffile  # noqa: F401 - read_tiff_image needs it
    except ImportError as exc:
        raise FileFormatError(f"{path}: reading {suffix} needs an optional package ({exc.name}); "
                              "pip install 'socscope[image]'") from None
    if suffix in (".tif", ".tiff"):  # a cut stack is refused, not read as its first page
        img = read_tiff_image(path, f"a TIFF image ({expected})")
    else:
        with reading(path, f"an image ({expected})"):  # numpy/imageio raise many types for unreadable files
            img = np.load(path, allow_pickle=False) if suffix == ".npy" else imread(path)
    img = np.squeeze(np.asarray(img))
    if img.size == 0:
        raise FileFormatError(f"{path}: holds an empty array of shape {img.shape}; {expected}")
    if img.ndim == 3 and img.shape[-1] in (3, 4) and img.shape[0] > 4:
        img = img[..., :3].astype(float).mean(axis=-1)
    if img.ndim != 2:
        raise FileFormatError(f"{path}: holds an array of shape {img.shape}; {expected} (one plane, not a stack)")
    if img.dtype == bool:
        img = img.astype(np.uint8)
    if not np.issubdtype(img.dtype, np.number):
        raise FileFormatError(f"{path}: holds {img.dtype} values; {expected}")
    return img


def _looks_like_labels(img: np.ndarray) -> bool:
    """An integer image with background 0, more than two values and flat regions (few value changes
    between neighbouring particle pixels): a label image, not a grey micrograph."""
    if not np.issubdtype(img.dtype, np.integer) or img.min() != 0 or np.unique(img).size <= 2:
        return False
    a, b = img[:, :-1], img[:, 1:]
    both = (a > 0) & (b > 0)
    if not both.any():
        return True
    return float(np.mean(a[both] == b[both])) >= 0.9


def _labels_from_image(args) -> tuple[np.ndarray, str]:
    from ..analysis.optical.segment import load_labels, segment_particles

    path = Path(args.from_image)
    img = _read_image(path)
    kind = args.image_kind
    if kind == "auto":
        kind = "labels" if _looks_like_labels(img) else "grey"
    if kind == "labels":
        if path.suffix.lower() in (".tif", ".tiff"):
            labels = load_labels(path)
        else:
            if not np.issubdtype(img.dtype, np.integer) or img.min() < 0:
                raise FileFormatError(f"{path}: a label image must hold integers >= 0 (0 = background)")
            labels = img.astype(np.int32)
        how = "label image"
    else:
        if not np.all(np.isfinite(img)) or np.ptp(img) == 0:
            raise SocscopeError(f"{path}: the image has no particles (it is uniform, or holds NaN); "
                                "expected bright particles on a darker background")
        figure = _segmentation_figure_path(args)
        if args.image_kind == "auto":
            _check_figure_target(figure, [Path(args.out)] + ([Path(args.movie)] if args.movie else []),
                                 path.resolve(), args.overwrite)
        try:
            labels = segment_particles(img.astype(float), **_segmentation_settings(args))
        except SocscopeError as exc:
            raise SocscopeError(f"{path}: {str(exc).strip().splitlines()[0]}; see --smooth-px, --min-area-px, "
                                "--threshold") from None
        how = "segmented"
        args._segmentation = (img, labels, figure)
    if not labels.any():
        raise SocscopeError(f"{path}: the image has no particles (every label is 0)")
    return labels, how


def _segmentation_settings(args) -> dict:
    """The command line's segmentation settings (the library's automatic ones where not given)."""
    out = {"min_area_px": args.min_area_px, "smooth_px": args.smooth_px, "min_distance_px": args.min_distance_px,
           "threshold": args.threshold}
    out = {k: v for k, v in out.items() if v is not None}
    if args.no_split:
        out["split_touching"] = False
    return out


def write_segmentation_figure(image, labels, path: Path, *, pixel_size_nm=None, overwrite: bool = False) -> Path:
    """A PNG of the micrograph with every segmented particle outlined and numbered, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    from ..io.results import atomic_target
    from ..plotting._common import save_figure
    from ..plotting.optical import plot_particle_map

    atomic_target(path, overwrite=overwrite)[1].unlink()
    ax = plot_particle_map(image, labels, pixel_size_nm=pixel_size_nm)
    ax.set_title(f"{int(labels.max())} particles segmented")
    return save_figure(ax.figure, path)


def _isolate(layout, fraction: float, rng):
    if fraction <= 0:
        return layout
    k = round(fraction * layout.n_particles)
    return layout.disconnect(rng.choice(layout.n_particles, size=k, replace=False)) if k else layout


def _layout_from_args(args):
    """The electrode layout and a one-line description of where it came from."""
    from ..geometry import layered_layout, layout_from_labels, random_layout

    rng = np.random.default_rng(args.seed)
    if args.from_image is not None:
        labels, how = _labels_from_image(args)
        cov = _coverage(args.coverage, pair_allowed=False)
        lay = layout_from_labels(labels, pixel_size_nm=args.pixel_size_nm, collector=args.collector,
                                 carbon_coverage=0.5 if cov is None else cov, rng=rng)
        return _isolate(lay, args.isolated_fraction, rng), f"{args.from_image} ({how})"
    kind = args.layout or "random-2d"
    if kind == "layered":
        layers = args.layers or 3
        n = args.particles if args.particles is not None else 5 * layers
        if n % layers:
            raise SocscopeError(f"--particles {n} with --layout layered must be a multiple of --layers {layers} "
                                f"(columns x layers), e.g. {layers * max(1, round(n / layers))}")
        cov = _coverage(args.coverage, pair_allowed=False)
        lay = layered_layout(n // layers, layers, coverage=0.5 if cov is None else cov,
                             contact_fraction=args.contact_fraction)
        return _isolate(lay, args.isolated_fraction, rng), f"layered, {n // layers} columns x {layers} layers"
    cov = _coverage(args.coverage, pair_allowed=True)
    n = args.particles if args.particles is not None else 200
    lay = random_layout(n, dim=3 if kind == "random-3d" else 2, coverage=(0.5, 0.3) if cov is None else cov,
                        isolated_fraction=args.isolated_fraction, contact_fraction=args.contact_fraction, rng=rng)
    return lay, f"{kind}, seed {args.seed}"


# ---------------------------------------------------------------------------------------------
# movie
# ---------------------------------------------------------------------------------------------

def _write_movie(ds, path: Path, args):
    """Render the top layer piece by piece into an OME-TIFF (float32, frame times as DeltaT)."""
    import tifffile

    from ..observe.electrode_movie import render_top_layer

    g = np.random.default_rng(args.seed)
    opts = {"pixel_size_nm": args.movie_pixel_size_nm, "photons": args.movie_photons, "rng": g}
    first = render_top_layer(ds, frames=[0], **opts)
    n = ds.sizes["time"]
    ny, nx = first.labels.shape
    chunk = max(1, _MOVIE_CHUNK_VALUES // (ny * nx))

    def frames():
        yield first.frames[0].astype(np.float32)
        for s in range(1, n, chunk):
            piece = render_top_layer(ds, frames=slice(s, min(s + chunk, n)), **opts)
            yield from piece.frames.astype(np.float32)

    um = args.movie_pixel_size_nm * 1e-3
    meta = {"axes": "TYX", "PhysicalSizeX": um, "PhysicalSizeXUnit": "µm", "PhysicalSizeY": um,
            "PhysicalSizeYUnit": "µm",
            "Plane": {"DeltaT": [float(t) for t in ds.time.values], "DeltaTUnit": ["s"] * n}}
    with tifffile.TiffWriter(path, ome=True) as w:
        w.write(frames(), shape=(n, ny, nx), dtype=np.float32, photometric="minisblack", metadata=meta)
    return first


# ---------------------------------------------------------------------------------------------
# command
# ---------------------------------------------------------------------------------------------

def cmd_simulate_electrode(args) -> int:
    """Build the layout, run the protocol, write the results (and the movie), print a report."""
    from ..io.results import atomic_target, save_results, write_text_atomic
    from ..protocols import parse_protocol
    from ..simulate import simulate_electrode
    from ._common import _estimated_duration, _material_from_args, _progress_bar
    from ._quicklook import check_plot_targets, command_provenance, write_quick_look

    _check_args(args)
    targets = _check_targets(args)
    inputs = [p for p in (args.material, args.from_image) if p and Path(p).is_file()]
    if args.plot:
        check_plot_targets(targets[0], overwrite=args.overwrite, inputs=inputs + targets[1:])
    material = _material_from_args(args)
    missing = [s for s in ("U", "i0", "sigma") if getattr(material, s, None) is None]
    if missing:
        raise SocscopeError(f"--material {args.material}: {material.name!r} has no {', '.join(f'{s}(θ)' for s in missing)}; the "
                            "network electrode needs U, i0 and sigma (e.g. --material nmc532)")
    steps = parse_protocol(args.protocol)
    layout, source = _layout_from_args(args)
    if args.movie and not np.asarray(layout.top, dtype=bool).any():
        raise SocscopeError("--movie: no particle of this layout is on top; there is nothing to film")
    total, estimated = _estimated_duration(steps)
    bar, cb = _progress_bar(total, "electrode", estimated=estimated) if not args.quiet else (None, None)
    try:
        ds = simulate_electrode(
            material, layout, steps, n_shells=args.n_shells, initial_theta=args.initial_theta,
            sigma_cb=args.sigma_cb, conductivity=args.conductivity,
            electrolyte_conductivity=args.electrolyte_conductivity, output_interval=args.output_interval_s,
            radial_profiles=args.radial_profiles, progress=cb,
        )
    finally:
        if bar is not None:
            bar.close()
    movie_tmp = movie_error = None
    try:
        if args.movie:
            movie_path, movie_tmp = atomic_target(targets[1], overwrite=args.overwrite)
            try:
                movie = _write_movie(ds, movie_tmp, args)
            except SocscopeError as exc:  # the run is done: keep its results, report the movie
                movie_error = exc
        prov = command_provenance(args, inputs=inputs, seed=None if args.from_image else args.seed)
        save_results(ds, targets[0], overwrite=args.overwrite, provenance=prov)
        if movie_tmp is not None and movie_error is None:
            record_text = _cycler_record_text(ds)
            os.replace(movie_tmp, movie_path)
            write_text_atomic(cycler_record_path(movie_path), record_text)
    finally:
        if movie_tmp is not None and movie_tmp.exists():
            movie_tmp.unlink()
    segmented = getattr(args, "_segmentation", None)
    if segmented is not None:
        img, labels, figure = segmented
        write_segmentation_figure(img, labels, figure, pixel_size_nm=args.pixel_size_nm, overwrite=args.overwrite)
    if movie_error is not None:
        raise SocscopeError(f"--movie {targets[1]}: {movie_error}. The results were written to {targets[0]}; render "
                            "the movie from them with socscope.observe.render_top_layer")
    plots = write_quick_look(ds, targets[0], prov=prov) if args.plot else []
    if not args.quiet:
        print(f"layout: {layout.n_particles} particles ({source}), {layout.n_junctions} carbon-binder junctions, "
              f"{int(np.sum(layout.isolated))} isolated, {int(np.sum(layout.top))} on top")
        _report(ds, targets[0], movie if args.movie else None, targets[1] if args.movie else None)
        if plots:
            print("wrote " + " and ".join(str(p) for p in plots))
        if segmented is not None:
            print(f"wrote {segmented[2]}  (the segmentation: {int(segmented[1].max())} particles; check it by eye, "
                  "and adjust --smooth-px / --min-area-px if particles are cut or merged)")
        if args.movie:
            from ..observe.electrode import site_capacity_Ah

            cap_mAh = site_capacity_Ah(ds) * 1e3
            print(f"wrote {cycler_record_path(targets[1])}  (the cell's cycler record); analyse the movie with\n"
                  f"  socscope optical analyze {targets[1]} --cycler {cycler_record_path(targets[1])} "
                  f"--capacity-mAh {cap_mAh:.6g} --drift none --out {targets[1].stem}-optical/")
    return 0


def _cycler_record_text(ds) -> str:
    """The simulated cell as a cycler CSV (time_s, voltage_V, current_A, ...) that ``--cycler`` reads."""
    from ..observe.electrode import cycler_record

    return cycler_record(ds).to_csv(index=False, float_format="%.10g")


def _half_cycle_capacity(ds) -> dict[int, float]:
    """Charge passed in each half-cycle [mAh/g], on the half-cycles of the observables."""
    from ..observe.electrode import cell_half_cycles

    hc = cell_half_cycles(ds)
    q = np.asarray(ds["specific_capacity"].values, dtype=float)
    out, start = {}, 0
    for h in np.unique(hc):
        end = int(np.flatnonzero(hc == h)[-1])
        out[int(h)] = abs(q[end] - q[start])
        start = end
    return out


def _report(ds, out: Path, movie, movie_path) -> None:
    from ..observe.electrode import asynchrony_of

    a = ds.attrs
    print(f"wrote {out}  ({a['n_particles']} particles, {a['n_isolated']} isolated, {ds.sizes['time']} times, "
          f"{a['solver_steps']} solver steps); final voltage {float(ds.voltage[-1]):.4f} V")
    if "half_cycle" in ds.sizes:
        cap = _half_cycle_capacity(ds)
        # the index of what the microscope (and --movie) sees: the top layer
        top = np.asarray(ds.top.values, dtype=bool)
        top_idx = (asynchrony_of(ds, top).asynchrony_index.to_numpy() if top.any()
                   else np.full(ds.sizes["half_cycle"], np.nan))
        print(f"  {'half-cycle':>10}  {'direction':<9}  {'capacity':>13}  {'asynchrony':>10}  {'top layer':>9}  "
              f"{'classification':<14}  {'unreacted':>9}  {'voltage dips':>12}")
        for k, h in enumerate(ds.half_cycle.values):
            idx = float(ds.asynchrony_index.values[k])
            print(f"  {int(h):>10}  {ds.half_cycle_direction.values[k]!s:<9}  "
                  f"{cap.get(int(h), float('nan')):>7.2f} mAh/g  "
                  f"{idx:>10.3f}  {top_idx[k]:>9.3f}  {ds.classification.values[k]!s:<14}  "
                  f"{100 * float(ds.fraction_unreacted.values[k]):>8.1f}%  "
                  f"{int(ds.voltage_dips.values[k]):>12d}")
        lost = float(ds.capacity_not_recovered)
        if math.isfinite(lost):
            print(f"  capacity not recovered after the first discharge: {100 * lost:.1f}%")
            if lost < 0:
                print(f"    (negative: the discharge put back more Li than the charge took out; the run started at "
                      f"θ = {float(a['initial_theta']):g}, below full lithiation: --initial-theta 0.99 starts nearer it)")
    elif np.ptp(ds.charge.values) > 0:
        print(f"  the charge moved, but {ds.sizes['time']} samples are too few to measure transitions; "
              "record more often (--output-interval-s)")
    else:
        print("  no half-cycle with a change of state of charge (rests only): no asynchrony to report")
    for k in range(ds.sizes.get("step_index", 0)):
        print(f"  step {k + 1}: {ds.step_sentence.values[k]}  ->  {float(ds.step_capacity[k]):+.2f} mAh/g, "
              f"ended by {ds.step_end_reason.values[k]} at {float(ds.step_end_time[k]) / 3600:.3f} h")
    if movie is not None:
        print(f"wrote {movie_path}  ({ds.sizes['time']} frames of {movie.labels.shape[0]}x{movie.labels.shape[1]} "
              f"px, {movie.n_particles} top particles)")


def add_electrode_parser(ssub) -> None:
    """Add ``simulate electrode`` to the ``simulate`` sub-parsers."""
    e = ssub.add_parser(
        "electrode", help="many particles wired through carbon binder and each other",
        description="Simulate a network electrode: radial Li transport in every particle, Butler-Volmer at\n"
                    "each surface, Kirchhoff's law on the electronic network (carbon binder, particle contacts\n"
                    "with SOC-dependent conductivity, current collector). Writes a netCDF file with per-particle\n"
                    "traces, the cell voltage and per half-cycle the asynchrony index and unreacted share.",
        epilog='examples:\n  socscope simulate electrode --material nmc532 --particles 200 --layout random-2d '
               '--protocol "Repeat 3: [Charge at C/20 until 4.3 V, Discharge at C/20 until 2.5 V]" --out cell.nc\n'
               '  socscope simulate electrode --material nmc532 --from-image electrode.tif --pixel-size-nm 50 '
               '--protocol "Charge at C/20 until 4.3 V" --out cell.nc --movie top.tif',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("--material", required=True, help="built-in name (see 'socscope materials') or a .toml/.csv "
                                                     "file; needs U, i0 and sigma (e.g. nmc532)")
    e.add_argument("--param", action="append", metavar="NAME=VALUE", help="material parameter (repeatable)")
    e.add_argument("--protocol", nargs="+", required=True, metavar="SENTENCE",
                   help='experiment sentences, e.g. "Charge at C/20 until 4.3 V" "Discharge at C/20 until 2.5 V", '
                        'or "Repeat 3: [Charge at C/20 until 4.3 V, Discharge at C/20 until 2.5 V]"')
    lay = e.add_argument_group("layout (random, layered, or from an image)")
    lay.add_argument("--layout", choices=["random-2d", "random-3d", "layered"],
                     help="random 2D cross-section, random 3D box, or columns stacked on the collector "
                          "(default random-2d)")
    lay.add_argument("--particles", type=int, help="number of particles (default 200; layered: 5 columns x "
                                                   "--layers)")
    lay.add_argument("--layers", type=int, help="layers of the layered layout (default 3)")
    lay.add_argument("--seed", type=int, default=0, help="random seed of the layout and the movie noise (default 0)")
    lay.add_argument("--coverage", help="carbon-binder coverage per particle: a fraction, or MEAN,SPREAD for "
                                        "random layouts (default 0.5,0.3 random; 0.5 otherwise)")
    lay.add_argument("--contact-fraction", type=float, default=CONTACT_FRACTION,
                     help="radius of NMC-NMC and NMC-collector contacts as a share of the particle radius, for "
                          f"--layout (default {CONTACT_FRACTION}; nanometre contacts, e.g. 0.0015 at R = 2.5 µm, make "
                          "particles switch on one after another in a first charge)")
    lay.add_argument("--isolated-fraction", type=float, default=0.0,
                     help="share of particles with every electronic link cut (default 0)")
    lay.add_argument("--from-image", metavar="FILE", help="micrograph or label image of a cross-section "
                                                          "(.tif, .npy, .png); particles are segmented unless "
                                                          "it is a label image")
    lay.add_argument("--pixel-size-nm", type=float, help="pixel size of --from-image [nm]")
    lay.add_argument("--image-kind", choices=["auto", "labels", "grey"], default="auto",
                     help="--from-image is a label image or a grey micrograph (default: auto)")
    lay.add_argument("--collector", choices=["bottom", "top", "left", "right"], default="bottom",
                     help="image edge on the current collector (default bottom)")
    seg = e.add_argument_group("segmentation of a grey --from-image micrograph (defaults scale with the typical "
                               "particle radius r found on the thresholded image)")
    seg.add_argument("--min-area-px", type=int, help="smallest segmented particle [px] (default: 0.1 x pi r^2)")
    seg.add_argument("--smooth-px", type=float, help="Gaussian smoothing before thresholding [px] (default: r/6, at "
                                                     "least 1; raise it when cracked particles are cut into pieces)")
    seg.add_argument("--min-distance-px", type=float,
                     help="smallest distance between the centres of two touching particles [px] (default 0.6 r)")
    seg.add_argument("--threshold", type=float, help="intensity above which a pixel is particle (default: Otsu)")
    seg.add_argument("--no-split", action="store_true",
                     help="one particle per connected bright object (no watershed split of touching particles)")
    seg.add_argument("--segmentation-figure", metavar="FILE.png",
                     help="labelled segmentation figure to check by eye (default: beside --out, "
                          "NAME.segmentation.png)")
    num = e.add_argument_group("model and output")
    num.add_argument("--n-shells", type=int, default=20, help="radial shells per particle (default 20)")
    num.add_argument("--initial-theta", type=float, default=0.97, help="initial Li occupancy (default 0.97)")
    num.add_argument("--conductivity", choices=["theta", "constant"], default="theta",
                     help="NMC conductivity follows each particle's SOC (theta, default) or stays at its "
                          "initial value (constant)")
    num.add_argument("--sigma-cb", type=float, default=1e4, help="carbon-binder conductivity [S/m] (default 1e4)")
    num.add_argument("--electrolyte-conductivity", type=float, default=None,
                     help="effective pore-electrolyte conductivity [S/m] for an ionic network between the particles "
                          "and the separator (fast rates); default: a uniform electrolyte")
    num.add_argument("--output-interval-s", type=float, default=600.0, help="record every N seconds (default 600)")
    num.add_argument("--radial-profiles", action=argparse.BooleanOptionalAction, default=None,
                     help="keep every shell's θ (default: up to 1000 particles)")
    num.add_argument("--out", required=True, help="results file (.nc)")
    num.add_argument("--movie", metavar="FILE.tif", help="also write a synthetic optical movie of the top layer "
                                                         "(OME-TIFF, float32, frame times in the metadata) and the "
                                                         "cell's cycler record beside it (FILE.cycler.csv) for "
                                                         "'socscope optical analyze --cycler'")
    num.add_argument("--movie-pixel-size-nm", type=float, default=100.0, help="movie pixel size [nm] (default 100)")
    num.add_argument("--movie-photons", type=float, help="shot noise: photo-electrons per unit intensity per "
                                                         "pixel (default: no noise)")
    num.add_argument("--plot", action="store_true",
                     help="also write the quick look RUN.png (voltage-capacity, asynchrony index, per-particle SOC) "
                          "and RUN_voltage_capacity.csv beside --out")
    num.add_argument("--overwrite", action="store_true", help="replace existing output files")
    num.add_argument("--quiet", action="store_true", help="no progress bar or report")
    e.set_defaults(func=cmd_simulate_electrode)
