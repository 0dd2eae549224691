"""Run a sweep: every point a task, each task writing its own region of the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._checks import flag
from ..errors import ParameterError
from .definition import SweepDefinition, load_sweep
from .execute import map_points
from .points import layout, run_point
from .store import (
    create_store,
    done_indices,
    finalize,
    finished_points,
    point_records,
    write_point,
)

__all__ = ["SweepReport", "run_sweep"]


@dataclass(frozen=True)
class SweepReport:
    """What a run of :func:`run_sweep` did.

    Attributes
    ----------
    path : pathlib.Path
        The store.
    n_points : int
        Points in the sweep.
    computed : int
        Points run by this call.
    skipped : int
        Points a previous run had finished (not recomputed).
    failed : dict of int -> str
        Points that failed in this call, with their error.
    wall_s : float
        Sum of the computed points' run times [s] (the serial cost).
    """

    path: Path
    n_points: int
    computed: int
    skipped: int
    failed: dict
    wall_s: float


def _task(job: dict) -> dict:
    """One point on a worker: run it, write its region and its record; return a small summary."""
    from .. import __version__
    from .._provenance import provenance

    settings = job["settings"]
    result = run_point(settings, job["variables"])
    record = {
        "index": result["index"], "status": result["status"], "error": result["error"],
        "wall_s": round(result["wall_s"], 6), "settings": settings,
        "provenance": provenance(call=f"socscope.sweep point {result['index']}", seed=settings.get("seed"),
                                 settings={"store": str(job["path"])}),
        "socscope_version": __version__,
    }
    if result["status"] != 1:
        record["traceback"] = result.get("traceback")
    write_point(job["path"], job["shape"], job["axis_names"], job["variables"], result, record)
    return {"index": result["index"], "status": result["status"], "error": result["error"],
            "wall_s": result["wall_s"]}


def run_sweep(definition, out, *, scheduler=None, n_workers: int | None = None, overwrite: bool = False,
              retry_failed: bool = True, progress: Callable[[int, int], None] | None = None,
              provenance: dict | None = None) -> SweepReport:
    """Run every point of a sweep and record it in one zarr store.

    Parameters
    ----------
    definition : SweepDefinition, dict, str or path-like
        A checked definition, a dict (checked by :func:`parse_sweep`) or a
        sweep file (checked by :func:`load_sweep`); checked before any work.
    out : str or path-like
        The store (a ``.zarr`` folder). If it holds this same sweep, its
        finished points are kept and only the others run (resumption).
    scheduler : None, "serial", "local", str or distributed.Client
        Where the points run (see :func:`map_points`); ``None`` runs them in
        this process.
    n_workers : int, optional
        Worker processes of a local cluster.
    overwrite : bool
        Replace a store holding another sweep.
    retry_failed : bool
        Run again the points a previous run recorded as failed (default).
    progress : callable, optional
        ``progress(done, total)`` after each point of this run.
    provenance : dict, optional
        The provenance to store (default: the Python call).

    Returns
    -------
    SweepReport

    Notes
    -----
    A point's settings and seed (see :class:`SweepDefinition`) are fixed before
    it is sent anywhere, so its result depends on the sweep file alone, not on
    where or in which order it ran: a rerun gives bit-identical arrays.
    """
    from .._provenance import provenance as make_provenance
    from .definition import parse_sweep

    if isinstance(definition, SweepDefinition):
        d = definition
    elif isinstance(definition, dict):
        d = parse_sweep(definition)
    elif isinstance(definition, (str, Path)):
        d = load_sweep(definition)
    else:
        raise ParameterError(f"definition = {definition!r} must be a SweepDefinition, a dict or a sweep file path")
    overwrite = flag("overwrite", overwrite)
    retry_failed = flag("retry_failed", retry_failed)
    out = Path(out)
    prov = provenance or make_provenance(inputs=[d.source] if Path(d.source).is_file() else [], seed=d.seed,
                                         call=f"socscope.sweep.run_sweep({d.source!r}, {str(out)!r})")
    create_store(d, out, overwrite=overwrite, provenance=prov)
    done = finished_points(out, include_failed=not retry_failed)
    variables = layout(d)
    shape, names = d.shape, tuple(d.axes)
    jobs = [{"settings": d.point(i), "variables": variables, "path": str(out.resolve()), "shape": shape,
             "axis_names": names} for i in range(d.n_points) if i not in done]
    results = map_points(_task, jobs, scheduler=scheduler, n_workers=n_workers, progress=progress)
    failed = {r["index"]: r["error"] for r in results if r["status"] != 1}
    records = point_records(out)  # every record after the run, read once for the summary
    all_failed = {int(rec["index"]): rec["error"] for rec in records if rec.get("status") == 2}
    finalize(out, summary={"n_points": d.n_points, "finished": len(done_indices(records)),
                           "failed": {str(k): v for k, v in all_failed.items()}})
    return SweepReport(path=out, n_points=d.n_points, computed=len(results), skipped=len(done), failed=failed,
                       wall_s=float(sum(r["wall_s"] for r in results)))
