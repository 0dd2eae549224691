"""Exceptions raised by socscope.

Every error a user can cause is a :class:`SocscopeError`; those caused by bad
values are also :class:`ValueError` so that generic ``except ValueError``
handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "SocscopeError",
    "ParameterError",
    "MaterialError",
    "GeometryError",
    "ProtocolError",
    "SolverError",
    "FileFormatError",
    "SocscopeWarning",
    "StepWarning",
    "RangeWarning",
]


class SocscopeError(Exception):
    """Base class of every error socscope raises on purpose."""


class ParameterError(SocscopeError, ValueError):
    """A value is outside its allowed range (the message names value, range and fix)."""


class MaterialError(ParameterError):
    """A material definition or material file is invalid."""


class GeometryError(ParameterError):
    """A particle geometry is invalid (negative size, empty mask, ...)."""


class ProtocolError(ParameterError):
    """An experiment sentence or protocol cannot be understood or is impossible."""


class SolverError(SocscopeError, RuntimeError):
    """The numerical solver failed (no convergence, state left the physical range)."""


class FileFormatError(SocscopeError, ValueError):
    """A file is corrupt, empty or of an unexpected kind (the message names the file)."""


class SocscopeWarning(UserWarning):
    """Base class of every warning socscope gives on purpose (the command line prints them as one line)."""


class StepWarning(SocscopeWarning):
    """A protocol step ran, but not as its sentence suggests (e.g. it ended at once at its cut-off)."""


class RangeWarning(SocscopeWarning):
    """A run took θ outside the range a material property's source covers (the value there is extrapolated)."""
