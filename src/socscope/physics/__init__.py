"""Pure physics kernels: flux laws, Butler–Volmer kinetics and surface-flux layouts (arrays in, arrays out, SI)."""

from .kinetics import butler_volmer, overpotential
from .surface import BlockedArc, UniformFlux
from .transport import FLUX_LAWS, F, R, effective_diffusivity

__all__ = ["butler_volmer", "overpotential", "BlockedArc", "UniformFlux", "FLUX_LAWS", "F", "R", "effective_diffusivity"]
