"""socscope: simulate, measure and connect state-of-charge heterogeneity in cathode particles.

>>> import socscope as ss
>>> mat = ss.materials.get("ni88-xu2022")
>>> ds = ss.simulate_particle(mat, ss.geometry.Disc(diameter=2e-6),
...                           ["Charge at C/3 for 1 hour", "Rest for 1 hour"])  # doctest: +SKIP

Subpackages and the top-level functions are imported on first use
(``ss.materials``, ``ss.simulate_particle``, ``ss.plotting``, ...): ``import socscope``
itself loads none of numpy, scipy, xarray, pandas, numba, matplotlib or jinja2. The
``ds.socscope`` accessor (quick looks, provenance) is registered with xarray as soon as
any socscope module that makes or reads results is imported.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: subpackages, imported on first attribute access
_SUBMODULES = (
    "analysis", "errors", "fitting", "geometry", "io", "materials", "numerics", "observe", "physics", "plotting",
    "protocols", "report", "simulate", "sweep", "validation",
)
#: top-level names -> the module that defines them
_FUNCTIONS = {
    "simulate_particle": "simulate", "simulate_particles": "simulate", "simulate_electrode": "simulate",
    "save_results": "io.results", "open_results": "io.results",
}

__all__ = [
    "__version__", "analysis", "errors", "geometry", "io", "materials", "numerics", "observe", "open_results",
    "physics", "plotting", "protocols", "save_results", "simulate_electrode", "simulate_particle",
    "simulate_particles",
]


def __getattr__(name: str):
    """Import a subpackage or a top-level function the first time it is used (PEP 562)."""
    if name in _SUBMODULES or name in _FUNCTIONS:
        if name != "errors":
            importlib.import_module("._accessor", __name__)  # ds.socscope: xarray only, no matplotlib
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(f".{_FUNCTIONS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'socscope' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_FUNCTIONS))
