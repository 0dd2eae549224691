"""Comparisons of socscope's single-particle model with the source papers (``socscope validate``).

:func:`run_validation` runs the simulations behind one paper's comparisons
and writes, into one folder:

* ``table.md`` and ``table.csv`` — one row per comparison: ``source`` (where
  the paper says it), ``their`` (the published number or statement),
  ``ours`` (measured from the runs just made), ``criterion`` (the test that
  decides ``holds``), ``holds`` (does ours show the stated behaviour) and
  ``command`` (what reproduces the row);
* ``summary.json`` — the settings, every measured number behind the rows,
  the run time and the socscope version;
* PNG figures.

Papers: ``"xu2022"`` — Xu et al. (Joule 2022) (core–shell on charge, centre lag,
charge–rest, rate, size and α dependence, Li-rich rim after discharge,
first-cycle coulombic efficiencies; :mod:`socscope.validation.xu2022`);
``"lun2023"`` — Lun et al. (Supplementary Information) (aged particles with a rock-salt arc:
asymmetric delithiation and the offset of the unreacted region;
:mod:`socscope.validation.lun2023`); ``"sharma2022"`` — Sharma et al. (Nano Lett. 2022)
(network electrode of NMC532: asynchronous first charge, synchronous later
charges, first-cycle loss, and the two controls;
:mod:`socscope.validation.sharma2022`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["run_validation", "run_sensitivity", "Row", "PAPERS", "TABLE_COLUMNS"]

#: paper name -> module that runs its comparisons
PAPERS = {"xu2022": "xu2022", "lun2023": "lun2023", "sharma2022": "sharma2022"}
#: columns of the comparison table, in order
TABLE_COLUMNS = ("id", "source", "their", "ours", "criterion", "holds", "command")
_COMMON_FILES = ("table.md", "table.csv", "summary.json", "provenance.json")


@dataclass
class Row:
    """One comparison with a paper.

    ``metrics`` holds the measured numbers ``ours`` is written from (they go
    to ``summary.json``); a quantity that does not exist in a run (e.g. the
    lag of a centre that never moves within the run) is NaN there and
    ``null`` in the JSON.
    """

    id: str
    source: str
    their: str
    ours: str
    criterion: str
    holds: bool
    command: str
    metrics: dict = field(default_factory=dict)

    def line(self) -> str:
        """The one-line report printed while the validation runs."""
        return f"[{self.id}] {'holds' if self.holds else 'DIFFERS'} | {self.source} | ours: {self.ours}"


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if math.isfinite(v) else None
    return x


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(title: str, preamble: str, rows: list[Row], footer: str) -> str:
    lines = [f"# {title}", "", preamble.strip(), "",
             "| id | source | their number / statement | ours | criterion | holds | command |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join(_md_cell(v) for v in (
            r.id, r.source, r.their, r.ours, r.criterion, "yes" if r.holds else "**no**", f"`{r.command}`")) + " |")
    lines += ["", footer.strip(), ""]
    return "\n".join(lines)


#: comparisons (table rows) each paper's run makes: the total of the progress bar
COMPARISONS = {"xu2022": 15, "lun2023": 5, "sharma2022": 12}


@contextlib.contextmanager
def _comparison_bar(name: str, verbose: bool):
    """A progress bar over the paper's comparisons, its clock redrawn every second (the first comparison
    may take a minute), with the time left; each comparison's line is printed above it. Yields the
    ``report`` callback of the validation modules."""
    if not verbose:
        yield lambda row: None
        return
    import sys
    import threading

    from tqdm import tqdm

    bar = tqdm(total=COMPARISONS.get(name) or None, desc=f"validate {name}", unit="comparison", file=sys.stderr,
               bar_format="{l_bar}{bar}| {n}/{total} comparisons [{elapsed}<{remaining}]")
    stop = threading.Event()

    def tick():
        while not stop.wait(1.0):
            bar.refresh()

    clock = threading.Thread(target=tick, daemon=True)
    clock.start()

    def report(row):
        bar.write(row.line())
        if bar.total is not None and bar.n >= bar.total:
            bar.total = bar.n + 1
        bar.update(1)

    try:
        yield report
    finally:
        stop.set()
        clock.join()
        bar.close()


def run_validation(name: str, out=None, *, overwrite: bool = False, quick: bool = False,
                   verbose: bool = True, provenance: dict | None = None) -> pd.DataFrame:
    """Run one paper's comparisons and write the table, summary and figures.

    Parameters
    ----------
    name : {"xu2022", "lun2023", "sharma2022"}
        Which paper: Xu et al. (Joule 2022), Lun et al. (Supplementary Information) or Sharma et al. (Nano Lett. 2022).
    out : str or Path, optional
        Output folder (created if missing); default ``./validation-NAME``.
    overwrite : bool
        Replace the files of an earlier run in ``out``; without it a folder
        that already holds any of them is refused before anything runs.
    quick : bool
        Coarser grids and looser tolerances (numbers less converged; the
        table says so), for a fast look and for tests.
    verbose : bool
        Print one line per comparison as it is made, and where the files went.
    provenance : dict, optional
        What runs it (``socscope validate`` passes its command line), written
        to ``provenance.json``; default: this Python call.

    Returns
    -------
    pandas.DataFrame
        The table: columns ``id, source, their, ours, criterion, holds, command``.

    Raises
    ------
    ParameterError
        Unknown ``name``, or ``out`` holds earlier results and ``overwrite``
        is False.

    Examples
    --------
    >>> from socscope.validation import run_validation
    >>> table = run_validation("xu2022", "validation-xu2022", quick=True)  # doctest: +SKIP
    >>> table[["source", "holds"]]  # doctest: +SKIP
    """
    if name not in PAPERS:
        raise ParameterError(f"unknown validation {name!r}; choose one of {', '.join(PAPERS)}")
    from ..io.results import check_output_folder, output_folder, write_text_atomic

    mod = importlib.import_module(f".{PAPERS[name]}", __name__)
    out = Path(out) if out is not None else Path(f"validation-{name}")
    files = _COMMON_FILES + tuple(mod.FIGURES)
    check_output_folder(out, files, overwrite=overwrite)
    final = out

    import matplotlib

    matplotlib.use("Agg")
    from .. import __version__

    t0 = time.perf_counter()
    with _comparison_bar(name, verbose) as report:
        result = mod.run(quick=quick, report=report)
    t_runs = time.perf_counter() - t0
    with output_folder(final, files, overwrite=overwrite) as out:  # every file, or (after an error) none
        mod.make_figures(result, out)
        wall = time.perf_counter() - t0
        rows: list[Row] = result["rows"]

        table = pd.DataFrame([{c: getattr(r, c) for c in TABLE_COLUMNS} for r in rows])
        table["holds"] = table["holds"].astype(bool)
        tmp = out / ".table.csv.tmp"
        table.to_csv(tmp, index=False)
        tmp.replace(out / "table.csv")
        mode = "quick (coarse grid, looser tolerances: numbers less converged)" if quick else "full"
        footer = (f"{sum(r.holds for r in rows)} of {len(rows)} comparisons hold. Mode: {mode}; "
                  f"socscope {__version__}; simulations {t_runs:.0f} s, total {wall:.0f} s. "
                  f"Figures: {', '.join(f'`{f}`' for f in mod.FIGURES)}; every measured number is in `summary.json`.")
        write_text_atomic(out / "table.md", _markdown(mod.TITLE, result["preamble"], rows, footer))
        summary = {
            "paper": name,
            "title": mod.TITLE,
            "socscope_version": __version__,
            "mode": "quick" if quick else "full",
            "settings": result["settings"],
            "rows": [asdict(r) for r in rows],
            "n_rows": len(rows),
            "n_hold": int(sum(r.holds for r in rows)),
            "simulation_time_s": round(t_runs, 2),
            "wall_time_s": round(wall, 2),
            "files": list(files),
        }
        write_text_atomic(out / "summary.json", json.dumps(_jsonable(summary), indent=2, ensure_ascii=False) + "\n")
        from .._provenance import provenance as _make
        from ..io.results import write_provenance

        write_provenance(out, provenance if provenance is not None else _make(
            call=f"socscope.validation.run_validation({name!r}, {str(final)!r}, quick={quick})",
            settings={"mode": summary["mode"]}))
    if verbose:
        print(f"{summary['n_hold']} of {len(rows)} comparisons hold; {wall:.0f} s; wrote {final.resolve()}/")
    return table


SENSITIVITY_FILES = ("sensitivity.md", "sensitivity.csv", "sensitivity.json", "sensitivity.png", "provenance.json")


def _run_alternative(point: dict) -> dict:
    """One alternative's rows (a task of its own: module-level, plain data in and out)."""
    mod = importlib.import_module(f".{PAPERS[point['name']]}", __name__)
    try:
        rows = mod.run(quick=point["quick"], report=lambda row: None,
                       material_options=mod.ALTERNATIVES[point["label"]])["rows"]
        return {"rows": rows}
    except Exception as exc:  # noqa: BLE001 - one alternative that cannot run the rows is a result
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}


def run_sensitivity(name: str, out=None, *, overwrite: bool = False, quick: bool = False,
                    verbose: bool = True, map_alternatives=None) -> pd.DataFrame:
    """Run every row of one paper under every named alternative of its unknown parameters.

    The alternatives are the paper module's ``ALTERNATIVES`` (for xu2022: the
    named OCP and D(θ) choices of ``ni88-xu2022``, one changed at a time);
    the first is the shipped choice. Writes ``sensitivity.md`` (rows ×
    alternatives: holds or not, and which rows stay out of reach without
    data that is not public), ``sensitivity.csv`` (one line per row and
    alternative, with the measured text), ``sensitivity.json``,
    ``sensitivity.png`` (the holds matrix) and ``provenance.json``.

    Parameters
    ----------
    name : str
        A paper with named alternatives (``"xu2022"``).
    out : str or Path, optional
        Output folder; default ``./sensitivity-NAME``.
    overwrite, quick, verbose
        As in :func:`run_validation`.
    map_alternatives : callable, optional
        ``map_alternatives(func, points) -> list``: how the alternatives are run.
        Default: one after the other in this process, each row printed as it
        comes. ``functools.partial(socscope.sweep.map_points, scheduler=...)``
        runs each alternative as a task on a Dask cluster (``socscope validate
        NAME --sensitivity --scheduler ...``); the table is the same.

    Returns
    -------
    pandas.DataFrame
        Long table: ``id, alternative, holds, ours``.
    """
    if name not in PAPERS:
        raise ParameterError(f"unknown validation {name!r}; choose one of {', '.join(PAPERS)}")
    mod = importlib.import_module(f".{PAPERS[name]}", __name__)
    if not hasattr(mod, "ALTERNATIVES"):
        have = [p for p in PAPERS if hasattr(importlib.import_module(f".{PAPERS[p]}", __name__), "ALTERNATIVES")]
        raise ParameterError(f"validate {name} has no named alternatives to run (--sensitivity is available for "
                             f"{', '.join(have)}); run it without --sensitivity")
    from .. import __version__
    from .._provenance import provenance
    from ..io.results import check_output_folder, write_text_atomic

    out = Path(out) if out is not None else Path(f"sensitivity-{name}")
    check_output_folder(out, SENSITIVITY_FILES, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results, errors = {}, {}
    if map_alternatives is not None:
        points = [{"name": name, "label": label, "quick": quick} for label in mod.ALTERNATIVES]
        for point, got in zip(points, map_alternatives(_run_alternative, points)):
            if "rows" in got:
                results[point["label"]] = got["rows"]
            else:
                errors[point["label"]] = got["error"]
            if verbose:
                print(f"== {point['label']}: " + (f"{sum(r.holds for r in got['rows'])} of {len(got['rows'])} rows hold"
                                                  if "rows" in got else f"could not run the rows: {got['error']}"),
                      flush=True)
    for label, options in (mod.ALTERNATIVES.items() if map_alternatives is None else ()):
        if verbose:
            print(f"== {label}", flush=True)
        report = (lambda row: print("  " + row.line()[:200], flush=True)) if verbose else (lambda row: None)
        try:
            results[label] = mod.run(quick=quick, report=report, material_options=options)["rows"]
        except Exception as exc:  # one alternative that cannot run the rows is a result, not the end
            errors[label] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if verbose:
                print(f"  could not run the rows: {errors[label]}", flush=True)
    wall = time.perf_counter() - t0
    labels = list(mod.ALTERNATIVES)
    ran = [lab for lab in labels if lab in results]
    if not ran:
        raise ParameterError(f"validate {name} --sensitivity: no alternative could run its rows; first error: "
                             f"{next(iter(errors.values()))}")
    first = results[ran[0]]
    ids = [r.id for r in first]

    def cell(lab, k):
        if lab not in results:
            return None
        return results[lab][k] if k < len(results[lab]) else None

    long = pd.DataFrame([{"id": rid, "alternative": lab,
                          "holds": bool(cell(lab, k).holds) if cell(lab, k) is not None else False,
                          "ours": cell(lab, k).ours if cell(lab, k) is not None else f"not run: {errors.get(lab)}"}
                         for lab in labels for k, rid in enumerate(ids)])
    tmp = out / ".sensitivity.csv.tmp"
    long.to_csv(tmp, index=False)
    tmp.replace(out / "sensitivity.csv")
    reach = getattr(mod, "OUT_OF_REACH", {})
    lines = [f"# Sensitivity: {mod.TITLE}", "",
             "Every row run under every named alternative of the unknown parameter sources (one changed at a "
             "time; the first column is the shipped choice). 'yes': the row's criterion holds. The last column "
             "says which rows stay out of reach without data that is not public.", "",
             "| id | their number / statement | " + " | ".join(_md_cell(lab) for lab in labels)
             + " | out of reach without |",
             "|---|---|" + "---|" * len(labels) + "---|"]
    for k, r in enumerate(first):
        cells = ["not run" if cell(lab, k) is None else ("yes" if cell(lab, k).holds else "**no**") for lab in labels]
        lines.append(f"| {r.id} | {_md_cell(r.their)} | " + " | ".join(cells) + f" | {_md_cell(reach.get(r.id, ''))} |")
    counts = [f"{sum(x.holds for x in results[lab])} of {len(first)}" if lab in results else "not run"
              for lab in labels]
    lines += ["", "Rows holding: " + "; ".join(f"{lab}: {c}" for lab, c in zip(labels, counts))]
    lines += [f"Not run under {lab}: {_md_cell(err)}" for lab, err in errors.items()]
    lines += ["", f"Mode: {'quick' if quick else 'full'}; socscope {__version__}; {wall:.0f} s.", ""]
    write_text_atomic(out / "sensitivity.md", "\n".join(lines))
    write_text_atomic(out / "sensitivity.json", json.dumps(_jsonable({
        "paper": name, "mode": "quick" if quick else "full", "alternatives": mod.ALTERNATIVES,
        "rows": {lab: [asdict(r) for r in results[lab]] for lab in ran}, "errors": errors, "out_of_reach": reach,
        "wall_time_s": round(wall, 2)}), indent=1))
    import matplotlib
    matplotlib.use("Agg")
    from ..plotting._common import _plt, save_figure

    plt = _plt()
    grid = np.array([[np.nan if cell(lab, k) is None else float(cell(lab, k).holds) for lab in labels]
                     for k in range(len(first))])
    fig, ax = plt.subplots(figsize=(2.0 + 1.1 * len(labels), max(3.0, 1.5 + 0.35 * len(first))), layout="constrained")
    ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(len(first)), [r.id for r in first], fontsize=8)
    ax.set_title(f"{name}: rows holding (green) under each alternative", fontsize=9)
    save_figure(fig, out / "sensitivity.png")
    from ..io.results import write_provenance

    write_provenance(out, provenance())
    if verbose:
        print(f"wrote {out}/ ({wall:.0f} s)")
    return long
