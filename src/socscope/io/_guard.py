"""One wrapper for every reader: whatever a parsing library raises becomes a
:class:`~socscope.errors.FileFormatError` that names the file and what was expected.

Readers call their library inside ``with reading(path, "an Igor binary wave (.ibw)"):``. Errors socscope raises
on purpose pass through unchanged; ``KeyboardInterrupt`` and ``SystemExit`` are never
caught. A ``MemoryError`` (a damaged header announcing a huge array) and a
``RecursionError`` (a symlink loop, a nested structure) are reported like any other damage.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..errors import FileFormatError, SocscopeError

__all__ = ["reading", "file_error"]


def file_error(path, what: str, exc: BaseException | None = None, *, detail: str = "") -> FileFormatError:
    """The one-line error for an unreadable ``path`` that should have been ``what``."""
    why = detail or (f"{type(exc).__name__}: {exc}" if exc is not None else "unreadable")
    why = " ".join(str(why).split())  # one line, whatever the library put in its message
    if len(why) > 300:
        why = why[:297] + "..."
    return FileFormatError(f"{path}: not readable as {what} ({why})")


@contextlib.contextmanager
def reading(path, what: str):
    """Turn any library exception raised inside the block into a FileFormatError naming ``path``.

    Parameters
    ----------
    path : str or Path
        The file being read (named in the message).
    what : str
        What the file was expected to be, e.g. ``"an Arbin .res database"``.
    """
    try:
        yield
    except SocscopeError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - libraries raise anything on damaged files
        raise file_error(Path(path), what, exc) from None
