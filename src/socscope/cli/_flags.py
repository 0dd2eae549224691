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
