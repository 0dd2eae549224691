"""``socscope report``: one self-contained HTML page for a result file or folder."""

from __future__ import annotations

from pathlib import Path

__all__ = ["add_report_parser", "cmd_report"]


def cmd_report(args) -> int:
    """Write the report of ``args.result`` to ``args.out``."""
    from ..report import write_report
    from ._flags import not_an_input
    from ._quicklook import command_provenance

    result = Path(args.result)
    out = Path(args.out) if args.out else Path(result.name.rstrip("/") + ".html" if result.is_dir()
                                                else result.with_suffix(".html"))
    # the report never replaces what it reads (an earlier report in the folder may be replaced)
    read = [p for p in result.iterdir() if p.suffix.lower() not in (".html", ".htm")] if result.is_dir() else [result]
    not_an_input([out], read)
    prov = command_provenance(args, inputs=[result])
    path = write_report(result, out, overwrite=args.overwrite, title=args.title, provenance=prov)
    if not args.quiet:
        print(f"wrote {path}  ({path.stat().st_size / 1e6:.2f} MB; open it in a browser, it needs no network)")
    return 0


def _description() -> str:
    """The help's description, with every kind of result the report knows (from its registry), wrapped."""
    import textwrap

    from ..report import kinds

    known = "; ".join(k.title for k in kinds())
    text = ("Write one HTML file with the figures (inline), tables, every parameter and the provenance of a "
            "socscope result. It opens offline in any browser. Results it knows (tried in this order): "
            f"{known}.")
    return textwrap.fill(text, width=100, break_on_hyphens=False)


def add_report_parser(sub) -> None:
    """Add ``socscope report`` to the top-level sub-parsers."""
    r = sub.add_parser(
        "report", help="one self-contained HTML page for a result file or folder",
        description=_description(),
        epilog="examples:\n  socscope report run.nc --out run.html\n"
               "  socscope report validation-xu2022/ --out xu.html",
    )
    import argparse

    r.formatter_class = argparse.RawDescriptionHelpFormatter
    r.add_argument("result", help="results file (.nc) or output folder")
    r.add_argument("--out", help="HTML file to write (default: RESULT.html beside the result)")
    r.add_argument("--title", help="page title (default: what the result is)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing HTML file")
    r.add_argument("--quiet", action="store_true", help="print nothing on success")
    r.set_defaults(func=cmd_report)
