"""Checks of command-line values shared by the subcommands (messages name the flag, not the keyword)."""

from __future__ import annotations

import math

from ..errors import SocscopeError


def positive(value, flag: str, example) -> None:
    """A flag's number, when given, must be finite and > 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise SocscopeError(f"{flag} {value:g} must be a positive number, e.g. {example}")
