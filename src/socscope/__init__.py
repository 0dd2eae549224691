"""socscope: simulate, measure and connect state-of-charge heterogeneity in cathode particles.

>>> import socscope as ss
>>> mat = ss.materials.get("ni88-xu2022")
>>> ds = ss.simulate_particle(mat, ss.geometry.Disc(diameter=2e-6),
...                           ["Charge at C/3 for 1 hour", "Rest for 1 hour"])  # doctest: +SKIP
"""

__version__ = "0.1.0"

from . import analysis, errors, geometry, io, materials, numerics, observe, physics, protocols  # noqa: E402
from . import fitting  # noqa: E402
from .io.results import open_results, save_results  # noqa: E402
from .simulate import simulate_electrode, simulate_particle, simulate_particles  # noqa: E402

__all__ = [
    "__version__", "analysis", "errors", "fitting", "io", "geometry", "materials", "numerics", "observe", "physics",
    "protocols", "simulate_electrode", "simulate_particle", "simulate_particles", "save_results", "open_results",
]
