"""Helpers shared by the command modules (progress bar, protocol duration, material by name, usage).

Below every command module: ``main.py`` and the command modules import from here, never the reverse.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import SocscopeError


class _ProgressBar:
    """A tqdm bar over simulated time with a percentage and the time left, opened at the first report
    (so an input error raised before the run prints no empty bar).

    ``total_s`` is the protocol's duration, or an estimate of it (``estimated``): a step that ends on a
    condition ("until 4.3 V") is counted at 1.2 full swings at its C-rate (the C-rate's capacity basis is the
    practical one; a discharge may go deeper), so the bar may finish early; past the estimate the total
    grows with the run.
    """

    def __init__(self, total_s: float | None, desc: str, *, estimated: bool = False):
        self.total = total_s / 60.0 if total_s else None
        self.desc = desc
        self.estimated = estimated
        self.bar = None

    def __call__(self, t, step, n_steps):
        from tqdm import tqdm

        now = t / 60.0
        if self.bar is None:
            about = "≤" if self.estimated else ""
            fmt = ("{l_bar}{bar}| {n:.0f}/" + about + "{total:.0f} simulated min [{elapsed}<{remaining}]"
                   if self.total else "{desc}: {n:.1f} simulated min [{elapsed}]")
            self.bar = tqdm(total=self.total, desc=self.desc, unit="min", bar_format=fmt, file=sys.stderr, leave=True)
        if self.total and now >= self.bar.total and self.estimated:
            self.bar.total = 1.1 * now  # past the estimate: it grows with the run, never showing 100 % early
        now = min(now, self.bar.total) if self.total else now
        if now > self.bar.n:
            self.bar.update(now - self.bar.n)  # tqdm throttles the redraws

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _CountBar:
    """A tqdm bar over a count of finished items (frames, maps, sweep points, movies), opened at the first
    report (so an input error raised before the work prints no empty bar); nothing when ``quiet``.

    Called as ``bar(done, total)``, the shape of the library's progress callbacks; ``close()`` ends it.
    """

    def __init__(self, quiet: bool, desc: str, unit: str):
        self.quiet, self.desc, self.unit, self.bar = quiet, desc, unit, None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, leave=True)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _progress_bar(total_s: float | None, desc: str, *, estimated: bool = False):
    """A progress bar over simulated time and the callback that advances it."""
    bar = _ProgressBar(total_s, desc, estimated=estimated)
    return bar, bar


def _estimated_duration(steps) -> tuple[float | None, bool]:
    """The protocol's duration [s] and whether it is an estimate.

    A step with a duration counts it. A charge or discharge at a C-rate that ends on a condition
    counts 1.2 full swings, 1.2 · 3600/C seconds (or its duration if shorter);
    anything else without a duration (a hold, a current in A, a titration train) leaves it unknown.
    """
    total, estimated = 0.0, False
    for s in steps:
        d = getattr(s, "duration", None)
        if getattr(s, "kind", None) in ("charge", "discharge") and getattr(s, "current_unit", None) == "C" \
                and getattr(s, "until", ()):
            swing = 1.2 * 3600.0 / float(s.current_value)
            d, estimated = (swing, True) if d is None or swing < d else (d, estimated or False)
        if d is None:
            return None, False
        total += float(d)
    return total, estimated


def _material_from_args(args):
    """``--material`` with its ``--param`` values (``materials.resolve`` tells a built-in name from a file)."""
    from .. import materials

    params = {}
    for item in args.param or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SocscopeError(f"--param {item!r} must look like NAME=VALUE, e.g. alpha=5")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            raise SocscopeError(f"--param {item!r}: value {value!r} is not a number") from None
    return materials.resolve(args.material, **params)


def _usage(parser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _write_tables(folder: Path, tables: dict) -> None:
    """Each ``name: DataFrame`` of ``tables`` as ``folder/name.csv`` (no index column), written atomically."""
    from ..io.results import write_text_atomic

    for name, df in tables.items():
        write_text_atomic(folder / f"{name}.csv", df.to_csv(index=False))
