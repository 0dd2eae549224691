"""One self-contained HTML page for any socscope result: ``socscope report``.

:func:`write_report` detects what a path holds (a particle or electrode
result file, an optical-analysis, cycler, GITT/PITT or validation folder, or
a kind added later) with a registry of *kinds*, builds its
:class:`Content` (figures, tables, parameters, provenance) and renders it
through a jinja2 template into one HTML file: figures are inline PNG, the
page loads nothing from the network and opens offline.

Adding a kind takes a detector and a builder::

    from socscope.report import Content, register_kind, folder_content

    register_kind(
        "afm", title="AFM analysis",
        detect=lambda p: p.is_dir() and (p / "afm.csv").is_file(),
        build=lambda p: folder_content(p, "AFM analysis", tables=["afm.csv"]),
    )

Kinds are tried in order of ``priority`` (highest first); the generic
folder and netCDF kinds come last.
"""

from ._content import Content, Figure, Table, figure_png, folder_content
from ._registry import Kind, detect_kind, kinds, register_kind
from ._render import build_report, render_html, write_report

__all__ = [
           "Content",
           "Figure",
           "Kind",
           "Table",
           "build_report",
           "detect_kind",
           "figure_png",
           "folder_content",
           "kinds",
           "register_kind",
           "render_html",
           "write_report",
]
