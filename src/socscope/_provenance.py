"""Provenance: what made a result (command or call, package version, inputs and their
SHA-256, random seed, platform), recorded in every result file and folder.

Results store it as one JSON text attribute, ``attrs["provenance"]`` (netCDF attributes
hold text), and folders as ``provenance.json``. :func:`read_provenance` gives it back.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import shlex
import sys
from pathlib import Path
from typing import Any, Iterable

__all__ = ["provenance", "sha256_file", "attach_provenance", "read_provenance", "PROVENANCE_FILE"]

PROVENANCE_FILE = "provenance.json"


def sha256_file(path, *, chunk: int = 1 << 20) -> str:
    """The SHA-256 hex digest of a file, read in chunks (files larger than memory are fine)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _command_line(argv) -> str:
    argv = list(sys.argv if argv is None else argv)
    if argv and argv[0].endswith(("__main__.py", "main.py")):
        argv[0] = "socscope"
    elif argv:
        argv[0] = Path(argv[0]).name
    return shlex.join(str(a) for a in argv)


def provenance(*, inputs: Iterable = (), seed: int | None = None, argv: list[str] | None = None,
               call: str | None = None, settings: dict | None = None) -> dict[str, Any]:
    """Describe what is making a result.

    Parameters
    ----------
    inputs : iterable of path
        Input files; each is recorded with its absolute path, size and SHA-256
        (a path that is not a file is recorded with ``sha256: null``).
    seed : int, optional
        The random seed, if the result depends on one.
    argv : list of str, optional
        The command line; defaults to ``sys.argv``. Ignored when ``call`` is given.
    call : str, optional
        The Python call that made the result (for library use), e.g.
        ``"simulate_particle(material='ni88-xu2022', ...)"``.
    settings : dict, optional
        Further settings worth keeping (JSON-serialisable).
    """
    from . import __version__

    files = []
    for p in inputs:
        p = Path(p)
        entry: dict[str, Any] = {"path": str(p.resolve()) if p.exists() else str(p)}
        if p.is_file():
            entry["bytes"] = p.stat().st_size
            entry["sha256"] = sha256_file(p)
        else:
            entry["sha256"] = None
        files.append(entry)
    out = {
        "socscope_version": __version__,
        "command": call if call is not None else _command_line(argv),
        "kind": "python" if call is not None else "command line",
        "inputs": files,
        "seed": None if seed is None else int(seed),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    if settings:
        out["settings"] = settings
    return out


def attach_provenance(ds, prov: dict):
    """A copy of Dataset ``ds`` with ``prov`` stored as JSON text in ``attrs["provenance"]``."""
    ds = ds.copy(deep=False)
    ds.attrs = dict(ds.attrs)
    ds.attrs["provenance"] = json.dumps(prov, sort_keys=True, default=str)
    return ds


def read_provenance(obj) -> dict | None:
    """Provenance from a Dataset/DataFrame (``attrs``), a results folder or a ``provenance.json`` file.

    Returns ``None`` where none is recorded.
    """
    attrs = getattr(obj, "attrs", None)
    if attrs is not None:
        text = attrs.get("provenance")
        return json.loads(text) if isinstance(text, str) else (text if isinstance(text, dict) else None)
    p = Path(obj)
    if p.is_dir():
        p = p / PROVENANCE_FILE
    if p.is_file() and p.suffix == ".json":
        return json.loads(p.read_text(encoding="utf-8"))
    return None
