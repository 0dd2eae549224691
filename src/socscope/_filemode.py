"""File permissions for atomically written outputs (used by every layer that writes files)."""

from __future__ import annotations

import os

__all__ = ["default_dir_mode", "default_file_mode"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """``0o666`` less the process's umask: the mode ``open()`` gives a new file.

    Outputs are written to a ``tempfile.mkstemp`` file (private, 0600) and
    renamed into place; they get this mode first, like any file the user
    creates.
    """
    return 0o666 & ~_umask()


def default_dir_mode() -> int:
    """``0o777`` less the umask: the mode ``mkdir`` gives a new folder (``mkdtemp`` gives 0700)."""
    return 0o777 & ~_umask()
