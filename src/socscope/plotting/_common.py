"""What every plotting module needs: pyplot on demand, and an atomic PNG writer."""

from __future__ import annotations

import os
from pathlib import Path

from .._filemode import default_file_mode


def _plt():
    """``matplotlib.pyplot``, imported on first use (matplotlib is the ``plot`` extra)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'socscope[plot]'") from None
    return plt


def save_figure(fig, path, *, dpi: int = 110, provenance: dict | None = None) -> Path:
    """Write a figure as PNG atomically (temporary file, then rename) and close it.

    ``provenance`` (a dict from :func:`socscope._provenance.provenance`), when
    given, is stored as JSON in the PNG's ``Description`` text chunk.
    """
    import tempfile

    plt = _plt()
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.png", dir=path.parent)  # unique: no collisions
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, default_file_mode())
    try:
        metadata = None
        if provenance is not None:
            import json

            metadata = {"Software": f"socscope {provenance.get('socscope_version', '')}".strip(),
                        "Description": json.dumps({"provenance": provenance}, sort_keys=True, default=str)}
        fig.savefig(tmp, dpi=dpi, format="png", metadata=metadata)
        tmp.replace(path)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()
    return path


def _extent_um(ds) -> list[float]:
    """Image extent [µm] of a Dataset's ``x``/``y`` cell centres, half a cell beyond each edge."""
    dx = float(ds.x[1] - ds.x[0])
    dy = float(ds.y[1] - ds.y[0])
    return [float(ds.x[0]) * 1e6 - dx * 5e5, float(ds.x[-1]) * 1e6 + dx * 5e5,
            float(ds.y[0]) * 1e6 - dy * 5e5, float(ds.y[-1]) * 1e6 + dy * 5e5]
