"""What a report shows: figures, tables, parameters and provenance, and helpers to gather them."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Content", "Figure", "Table", "figure_png", "flatten", "folder_content"]

#: rows of a CSV shown in a report before it says where the rest is
MAX_ROWS = 40


@dataclass
class Figure:
    """A figure: PNG bytes and a caption."""

    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Table:
    """A table (a pandas DataFrame), with a caption and a note (e.g. rows left out)."""

    caption: str
    frame: object
    note: str = ""


@dataclass
class Content:
    """Everything a report page holds for one result."""

    title: str
    kind: str
    source: str
    summary: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    provenance: dict | None = None
    notes: list = field(default_factory=list)


def figure_png(fig, *, dpi: int = 90) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buf.getvalue()


def flatten(d, prefix: str = "") -> dict:
    """A nested dict as one level, keys joined with '.', lists of scalars as text."""
    out = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, (list, tuple)) and any(isinstance(x, (dict, list)) for x in v):
            out[key] = f"({len(v)} entries)"
        else:
            out[key] = v if not isinstance(v, (list, tuple)) else ", ".join(str(x) for x in v)
    return out


def read_table(path: Path, caption: str | None = None, *, max_rows: int = MAX_ROWS) -> Table:
    """A CSV file as a report table, its first ``max_rows`` rows (the note says how many are left out)."""
    import pandas as pd

    from ..io._guard import reading

    with reading(path, "a CSV table written by socscope"):
        frame = pd.read_csv(path, comment="#")
    note = ""
    if len(frame) > max_rows:
        note = f"first {max_rows} of {len(frame)} rows; the whole table is {path.name}"
        frame = frame.head(max_rows)
    return Table(caption or path.name, frame, note)


def read_json(path: Path) -> dict:
    from ..io._guard import reading

    with reading(path, "a JSON file written by socscope"):
        return json.loads(path.read_text(encoding="utf-8"))


def folder_content(folder, title: str, *, kind: str | None = None, tables=(), figures=None, summary_file="summary.json",
                   parameters_from=None, max_rows: int = MAX_ROWS) -> Content:
    """A report of an output folder: its PNG figures, chosen CSV tables, summary and provenance.

    Parameters
    ----------
    folder : path
    title : str
    kind : str, optional
        Shown in the page (default: ``title``).
    tables : sequence of str
        CSV files to show, in order (missing ones are skipped).
    figures : sequence of str, optional
        PNG files, in order; default every PNG of the folder, sorted by name.
    summary_file : str
        JSON file whose contents become the parameter table.
    parameters_from : callable, optional
        ``f(summary_dict) -> dict`` choosing what the parameter table shows.
    """
    from .._provenance import read_provenance

    folder = Path(folder)
    summary = read_json(folder / summary_file) if (folder / summary_file).is_file() else {}
    names = list(figures) if figures is not None else sorted(p.name for p in folder.glob("*.png"))
    figs = [Figure(caption=n, png=(folder / n).read_bytes()) for n in names if (folder / n).is_file()]
    tabs = [read_table(folder / t, max_rows=max_rows) for t in tables if (folder / t).is_file()]
    params = flatten(parameters_from(summary) if parameters_from else summary)
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return Content(title=title, kind=kind or title, source=str(folder.resolve()), figures=figs, tables=tabs,
                   parameters=params, provenance=read_provenance(folder), summary={"files": ", ".join(files)})
