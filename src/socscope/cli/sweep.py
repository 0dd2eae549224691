"""``socscope sweep``: a sweep file in, one zarr store of every point's result out.

No science here: the file is checked by :func:`socscope.sweep.load_sweep`
before any work starts, :func:`socscope.sweep.run_sweep` runs the points on a
local cluster or a scheduler, and a progress bar counts the points.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import SocscopeError
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


class _PointBar:
    """A tqdm bar over the sweep's points, opened at the first finished point."""

    def __init__(self, quiet: bool, desc: str = "sweep"):
        self.quiet, self.desc, self.bar = quiet, desc, None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit="point", file=sys.stderr, leave=True)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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
    bar = _PointBar(args.quiet)
    try:
        report = run_sweep(definition, out, scheduler=_scheduler(args.scheduler), n_workers=args.workers,
                           overwrite=args.overwrite, progress=bar)
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
