"""Import of optional dependencies, with one message naming the extra that installs them."""

from __future__ import annotations

import importlib

__all__ = ["require"]


def require(module: str, purpose: str, extra: str = "image"):
    """Import ``module`` (e.g. ``"skimage.feature"``) or raise an ImportError naming the extra.

    Parameters
    ----------
    module : str
        Dotted module name.
    purpose : str
        What needs it, for the message (e.g. ``"drift measurement"``).
    extra : str
        The socscope extra that installs it.

    Returns
    -------
    module
        The imported (sub)module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"{purpose} needs {module.split('.')[0]}, part of the optional extra: "
                          f"pip install 'socscope[{extra}]'") from exc
