"""Render a report's :class:`Content` into one self-contained HTML page (jinja2)."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from ..errors import ParameterError

__all__ = ["build_report", "render_html", "write_report"]


def build_report(path):
    """Detect the kind of result at ``path`` and gather its :class:`~socscope.report.Content`."""
    import matplotlib

    matplotlib.use("Agg")
    from ._registry import detect_kind

    path = Path(path)
    kind = detect_kind(path)
    return kind.build(path)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def render_html(content, *, title: str | None = None, report_provenance: dict | None = None) -> str:
    """The HTML text of a report (figures inline as PNG, no external resource).

    Parameters
    ----------
    content : Content
    title : str, optional
        Page title (default: the content's).
    report_provenance : dict, optional
        Provenance of the report itself, embedded as JSON in the page.
    """
    import jinja2

    from .. import __version__

    env = jinja2.Environment(loader=jinja2.PackageLoader("socscope.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["cell"] = _cell
    prov = content.provenance or {}
    inputs = prov.get("inputs", []) if isinstance(prov, dict) else []
    prov_rows = {k: v for k, v in prov.items() if k not in ("inputs", "settings")} if isinstance(prov, dict) else {}
    if isinstance(prov, dict) and prov.get("settings"):
        from ._content import flatten

        prov_rows.update({f"settings.{k}": v for k, v in flatten(prov["settings"]).items()})
    tables = [{"caption": t.caption, "note": t.note, "columns": [str(c) for c in t.frame.columns],
               "rows": [[_cell(v) for v in row] for row in t.frame.itertuples(index=False)]} for t in content.tables]
    return env.get_template("report.html.j2").render(
        title=title or content.title, content=content, tables=tables, prov_rows=prov_rows, inputs=inputs,
        version=__version__, made=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        report_provenance=json.dumps(report_provenance or {}, sort_keys=True, default=str).replace("</", "<\\/"),
    )


def write_report(path, out, *, overwrite: bool = False, title: str | None = None,
                 provenance: dict | None = None):
    """Write the HTML report of the result at ``path`` to ``out``.

    Parameters
    ----------
    path : str or Path
        A results file (``.nc``) or an output folder of a socscope command.
    out : str or Path
        The HTML file to write (``.html``).
    overwrite : bool
        Replace an existing ``out``.
    title : str, optional
        Page title.
    provenance : dict, optional
        Provenance of the report (default: this Python call); the result's
        own provenance is shown in the page.

    Returns
    -------
    Path

    Raises
    ------
    ParameterError
        If ``out`` is not an ``.html`` file name, exists without ``overwrite``, or lies inside ``path``'s files.
    FileFormatError
        If ``path`` holds no result the report knows.
    """
    from .._provenance import provenance as _make
    from ..io.results import atomic_target, write_text_atomic

    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ParameterError(f"report file {out} must end in .html (e.g. {out.with_suffix('.html').name})")
    if Path(path).exists() and out.resolve() == Path(path).resolve():
        raise ParameterError(f"{out} is the result being reported on; choose another --out")
    atomic_target(out, overwrite=overwrite)[1].unlink()  # fail before the work
    content = build_report(path)
    prov = provenance if provenance is not None else _make(
        inputs=[path] if Path(path).is_file() else [], call=f"socscope.report.write_report({str(path)!r}, {str(out)!r})")
    html = render_html(content, title=title, report_provenance=prov)
    if out.exists() and not overwrite:  # appeared while the report was built
        raise ParameterError(f"{out} already exists; pass overwrite=True (--overwrite) to replace it")
    return write_text_atomic(out, html)
