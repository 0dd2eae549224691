"""``socscope sweep``: a sweep file in, one zarr store of every point's result out.

No science here: the file is checked by :func:`socscope.sweep.load_sweep`
before any work starts, :func:`socscope.sweep.run_sweep` runs the points on a
local cluster or a scheduler, and a progress bar counts the points.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SocscopeError
from ._common import _CountBar
from ._quicklook import command_provenance
from ._flags import not_an_input

__all__ = ["add_sweep_parser", "cmd_sweep"]

_EXAMPLE = """\
example sweep.toml:
  [sweep]
  seed = 7
  samples = 61                      # records kept per point

  [base]
  kind = "particle"                 # particle, population or electrode
  material = "ni88-xu2022"
  radius_um = 1.0
  n_cells = 20
  protocol = ["Charge at {c_rate}C for 30 minutes"]
  kinetics = "none"

  [axes]
  c_rate = [0.5, 1, 2]
  alpha = [1, 5, 10]                # a material parameter
  radius_um = [0.5, 1, 2]

examples:
  socscope sweep sweep.toml --out sweep.zarr
  socscope sweep sweep.toml --scheduler tcp://scheduler:8786 --out /shared/sweep.zarr
"""


def _scheduler(text: str | None):
    return "local" if text is None else text


def cmd_sweep(args) -> int:
    """Run ``socscope sweep``."""
    from ..sweep import load_sweep, run_sweep

    if args.workers is not None and args.workers < 1:
        raise SocscopeError(f"--workers {args.workers} must be a whole number >= 1, e.g. 4")
    if args.workers is not None and args.scheduler not in (None, "local"):
        raise SocscopeError("--workers sizes a local cluster; a --scheduler address brings its own workers")
    out = Path(args.out)
    not_an_input([out], [args.file])
    if out.suffix != ".zarr":
        raise SocscopeError(f"--out {out} must be a .zarr folder, e.g. sweep.zarr")

    definition = load_sweep(args.file)  # everything is checked before any work starts
    prov = command_provenance(args, inputs=[args.file], seed=definition.seed,
                              settings={"scheduler": str(_scheduler(args.scheduler)), "workers": args.workers})
    bar = _CountBar(args.quiet, "sweep", "point")
    try:
        report = run_sweep(definition, out, scheduler=_scheduler(args.scheduler), n_workers=args.workers,
                           overwrite=args.overwrite, progress=bar, provenance=prov)
    finally:
        bar.close()
    if not args.quiet:
        print(f"wrote {out}  ({report.n_points} points: {report.computed} computed, {report.skipped} kept from "
              f"an earlier run, {len(report.failed)} failed)")
        for index, error in sorted(report.failed.items())[:10]:
            print(f"  point {index}: {error}")
        if len(report.failed) > 10:
            print(f"  ... and {len(report.failed) - 10} more (see {out}/points/)")
    return 1 if report.failed else 0


def add_sweep_parser(sub) -> None:
    """Add ``socscope sweep`` to the command line's sub-parsers."""
    import argparse

    s = sub.add_parser(
        "sweep", help="run a parameter sweep on a local cluster or a Dask scheduler, results in one zarr store",
        description="Run every point of a sweep file (a base simulation and the axes to vary) as Dask tasks and "
                    "write every point's result into one zarr store along the sweep's axes. A rerun with the same "
                    "file and --out computes only the points not finished; a failed point is recorded with its "
                    "error (exit status 1) and the others go on.",
        epilog=_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("file", help="sweep definition (TOML)")
    s.add_argument("--out", required=True, help="zarr store (a .zarr folder); an existing store of the same sweep "
                                                "is resumed")
    s.add_argument("--scheduler", help="Dask scheduler address (e.g. tcp://scheduler:8786), 'local' (default: a "
                                       "cluster on this machine) or 'serial' (this process only)")
    s.add_argument("--workers", type=int, help="worker processes of the local cluster (default: the CPU count)")
    s.add_argument("--overwrite", action="store_true", help="replace a store that holds another sweep")
    s.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    s.set_defaults(func=cmd_sweep)


# -- socscope optical analyze-batch ---------------------------------------------------------------
#: flags of 'optical analyze' that name one movie's own files: a batch sets them per movie
_PER_MOVIE = {"help", "movie", "out", "cycler", "labels", "rois", "quiet", "overwrite", "func"}
#: the batch's table of every movie's summary
BATCH_TABLE = "batch_summary.csv"


def _cycler_for(movie: Path, pattern: str | None) -> str | None:
    if not pattern:
        return None
    try:
        name = pattern.format(stem=movie.stem, name=movie.name, dir=str(movie.parent))
    except (KeyError, IndexError, ValueError) as exc:
        raise SocscopeError(f"--cycler-pattern {pattern!r}: {exc!r} is not a field; use {{stem}}, {{name}} or "
                            "{dir}, e.g. \"{stem}.mpr\"") from None
    p = Path(name)
    return str(p if p.is_absolute() or "{dir}" in pattern else movie.parent / p)


def _summary_row(movie: str, folder: Path) -> dict:
    import json

    s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    row = {"particles": s.get("particles"), "binned_frames": s.get("binned_frames"),
           "max_drift_px": s.get("max_drift_px"), "half_cycles": len(s.get("half_cycles", []))}
    for hc in s.get("half_cycles", []):
        k = hc.get("half_cycle")
        row[f"half_cycle_{k}_direction"] = hc.get("direction")
        row[f"half_cycle_{k}_classification"] = hc.get("classification")
        row[f"half_cycle_{k}_asynchrony_index"] = hc.get("asynchrony_index")
        row[f"half_cycle_{k}_reacted"] = hc.get("n_reacted")
    return row


def _analyze_one(job: dict) -> dict:
    """One movie on a worker: 'optical analyze' into its own folder; the error is recorded, never raised."""
    import argparse
    import time
    import warnings

    from .optical import cmd_optical_analyze

    t0 = time.perf_counter()
    ns = argparse.Namespace(**job["args"])
    row = {"movie": ns.movie, "cycler": ns.cycler, "folder": ns.out}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cmd_optical_analyze(ns)
        row.update(status="done", error="", **_summary_row(ns.movie, Path(ns.out)))
    except Exception as exc:  # noqa: BLE001 - recorded per movie, the batch goes on
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        row.update(status="failed", error=f"{type(exc).__name__}: {text}")
    row["wall_s"] = round(time.perf_counter() - t0, 3)
    return row


def cmd_analyze_batch(args) -> int:
    """Run ``socscope optical analyze-batch``: every movie in its own folder, one table of all summaries."""

    import pandas as pd

    from .._provenance import PROVENANCE_FILE
    from ..io.results import write_text_atomic
    from ..sweep import map_points

    movies = [Path(m) for m in args.movies]
    missing = [str(m) for m in movies if not m.is_file()]
    if missing:
        raise SocscopeError(f"{missing[0]}: no such movie file" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    stems = {}
    for m in movies:
        if m.stem in stems:
            raise SocscopeError(f"{m} and {stems[m.stem]} have the same name {m.stem!r}, and each movie's outputs go "
                                "to a folder of that name; rename one")
        stems[m.stem] = m
    if args.workers is not None and args.workers < 1:
        raise SocscopeError(f"--workers {args.workers} must be a whole number >= 1, e.g. 4")
    out = Path(args.out)
    cyclers = [_cycler_for(m, args.cycler_pattern) for m in movies]
    absent = [c for c in cyclers if c is not None and not Path(c).is_file()]
    if absent:
        raise SocscopeError(f"--cycler-pattern {args.cycler_pattern!r} gives {absent[0]}, which does not exist"
                            + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""))
    inputs = [str(m) for m in movies] + [c for c in cyclers if c]
    folders = [out / m.stem for m in movies]
    not_an_input([out / BATCH_TABLE, out / PROVENANCE_FILE, *folders], inputs)
    for f in [out / BATCH_TABLE, *folders]:
        if f.exists() and not args.overwrite:
            raise SocscopeError(f"{f} already exists; pass --overwrite to replace socscope's outputs there, or "
                                "choose another --out")
    if not out.absolute().parent.is_dir():
        raise SocscopeError(f"cannot write {out}: folder {out.absolute().parent} does not exist")
    out.mkdir(exist_ok=True)
    shared = {k: v for k, v in vars(args).items() if k not in _PER_MOVIE and k not in (
        "movies", "cycler_pattern", "scheduler", "workers", "command", "what")}
    jobs = [{"args": {**shared, "movie": str(m.resolve()), "cycler": str(Path(c).resolve()) if c else None,
                      "out": str(f.resolve()), "labels": None, "rois": None, "quiet": True,
                      "overwrite": args.overwrite}} for m, c, f in zip(movies, cyclers, folders)]
    bar = _CountBar(args.quiet, "movies", "movie")
    try:
        rows = map_points(_analyze_one, jobs, scheduler=_scheduler(args.scheduler), n_workers=args.workers,
                          progress=bar)
    finally:
        bar.close()
    table = pd.DataFrame(rows)
    write_text_atomic(out / BATCH_TABLE, table.to_csv(index=False))
    prov = command_provenance(args, inputs=inputs,
                              settings={"movies": len(movies), "scheduler": str(args.scheduler or "local")})
    from ..io.results import write_provenance
    write_provenance(out, prov)
    failed = table[table.status != "done"]
    if not args.quiet:
        print(f"wrote {out}/  ({len(table) - len(failed)} of {len(table)} movies analysed; table {BATCH_TABLE})")
        for _, r in failed.head(10).iterrows():
            print(f"  {r.movie}: {r.error}")
    return 1 if len(failed) else 0


def add_analyze_batch_parser(osub, analyze) -> None:
    """Add ``optical analyze-batch`` beside ``optical analyze`` (``analyze`` is its parser: its options are shared)."""
    b = osub.add_parser(
        "analyze-batch", help="analyse many movies (on a local cluster or a Dask scheduler), one folder each",
        description="Run 'socscope optical analyze' on every movie as a Dask task: each movie's outputs go to "
                    "--out/<movie name>/, and --out/batch_summary.csv holds one row per movie (particles, drift, "
                    "each half cycle's classification and asynchrony index, or the error of a movie that failed). "
                    "Every option of 'optical analyze' except --labels and --rois applies to all movies.",
        epilog='example: socscope optical analyze-batch movies/*.tif --cycler-pattern "{stem}.mpr" '
               "--capacity-mAh-g 210 --mass-mg 8.1 --bin 20 --scheduler tcp://scheduler:8786 --out batch/",
    )
    b.add_argument("movies", nargs="+", help="movie files (TIFF stacks or videos)")
    b.add_argument("--out", required=True, help="batch folder: one sub-folder per movie and batch_summary.csv")
    b.add_argument("--cycler-pattern", metavar="PATTERN",
                   help='each movie\'s cycler record, e.g. "{stem}.mpr" ({stem}: the movie\'s name without its '
                        "extension, {name}: with it; relative to the movie's folder)")
    b.add_argument("--scheduler", help="Dask scheduler address (e.g. tcp://scheduler:8786), 'local' (default) or "
                                       "'serial'")
    b.add_argument("--workers", type=int, help="worker processes of the local cluster (default: the CPU count)")
    for action in analyze._actions:  # the single-movie options, shared by every movie of the batch
        if action.dest not in _PER_MOVIE:
            b._add_action(action)
    b.add_argument("--overwrite", action="store_true", help="replace socscope's outputs already in --out")
    b.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    b.set_defaults(func=cmd_analyze_batch)
