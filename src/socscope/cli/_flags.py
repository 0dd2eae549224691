"""Checks of command-line values shared by the subcommands (messages name the flag, not the keyword)."""

from __future__ import annotations

import math

from ..errors import SocscopeError


def positive(value, flag: str, example) -> None:
    """A flag's number, when given, must be finite and > 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise SocscopeError(f"{flag} {value:g} must be a positive number, e.g. {example}")


def not_an_input(outputs, inputs, fix: str = "choose another --out") -> None:
    """Refuse (before any work) an output path that is one of the command's input files: it would be replaced."""
    from pathlib import Path

    outs = {Path(o).resolve(): Path(o).name for o in outputs}
    for given in inputs:
        if given and Path(given).resolve() in outs:
            raise SocscopeError(f"{given} is an input and would be replaced by the output "
                                f"{outs[Path(given).resolve()]}; {fix}")


def material_files(name) -> list:
    """The files a ``--material`` argument reads: a .toml/.csv material file and the table its
    ``functions_csv`` names (nothing for a built-in name); so that an output never replaces them."""
    from pathlib import Path

    path = Path(name)
    if not path.is_file():
        return []
    files = [path]
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            with open(path, "rb") as fh:
                ref = tomllib.load(fh).get("functions_csv")
        except (OSError, ValueError):
            return files  # the reader reports it
        if isinstance(ref, str) and ref:
            files.append(path.parent / ref)
    return files




def netcdf_out(out, flag: str = "--out") -> None:
    """A results file is netCDF-4 (HDF5): its name must say so (``run.nc``), not ``.csv`` or ``.tif``."""
    from pathlib import Path

    from ..io.results import RESULT_SUFFIXES

    suffix = Path(out).suffix.lower()
    if suffix not in RESULT_SUFFIXES:
        stem = Path(out).stem if suffix else Path(out).name
        raise SocscopeError(f"{flag} {out}: the results are written as netCDF-4, which a {suffix or 'suffix-less'} "
                            f"name would misstate; name it {stem}.nc (tables and figures come from "
                            "socscope.open_results in Python)")
