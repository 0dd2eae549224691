"""The registry of report kinds: a detector and a builder per kind of result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import FileFormatError, ParameterError

__all__ = ["Kind", "detect_kind", "kinds", "register_kind"]


@dataclass(frozen=True)
class Kind:
    """One kind of result a report can show.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"particle"``.
    title : str
        What a person calls it, e.g. ``"single-particle simulation"``.
    detect : callable
        ``detect(path) -> bool``: does this path hold this kind? Cheap, and
        never raises for a path of another kind.
    build : callable
        ``build(path) -> Content``.
    priority : int
        Higher is tried first; generic kinds use negative values.
    """

    name: str
    title: str
    detect: Callable[[Path], bool]
    build: Callable
    priority: int = 0


# name -> Kind; filled by socscope.report.builtin at import, and by register_kind
_KINDS: dict[str, Kind] = {}


def register_kind(name: str, *, title: str, detect: Callable[[Path], bool], build: Callable,
                  priority: int = 0, replace: bool = False) -> Kind:
    """Add a kind of result to the reports (see :mod:`socscope.report` for an example).

    Raises
    ------
    ParameterError
        If ``name`` is taken and ``replace`` is False, or ``detect``/``build`` are not callable.
    """
    if not isinstance(name, str) or not name:
        raise ParameterError(f"report kind name must be a non-empty string, got {name!r}")
    if not callable(detect) or not callable(build):
        raise ParameterError(f"report kind {name!r}: detect and build must be callables (path -> bool, path -> Content)")
    if name in _KINDS and not replace:
        raise ParameterError(f"report kind {name!r} is registered already; pass replace=True to replace it")
    kind = Kind(name=name, title=title, detect=detect, build=build, priority=int(priority))
    _KINDS[name] = kind
    return kind


def kinds() -> list[Kind]:
    """Registered kinds, in the order they are tried (highest priority first)."""
    from . import builtin  # noqa: F401  registers the package's own kinds

    return sorted(_KINDS.values(), key=lambda k: -k.priority)


def detect_kind(path) -> Kind:
    """The kind of result ``path`` holds.

    Raises
    ------
    FileFormatError
        If the path is missing or no kind recognises it.
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path}: no such file or folder (give a socscope result file .nc or a result folder)")
    for kind in kinds():
        try:
            if kind.detect(path):
                return kind
        except Exception:  # noqa: BLE001, S112 - a detector failing on a foreign path just does not recognise it
            continue
    names = ", ".join(k.title for k in kinds())
    raise FileFormatError(f"{path}: not a socscope result this report knows ({names}); give a results .nc file or "
                          "an output folder of a socscope command")
