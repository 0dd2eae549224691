"""Pure physics kernels: flux laws and surface-flux layouts (arrays in, arrays out, SI)."""

from .surface import BlockedArc, UniformFlux
from .transport import FLUX_LAWS, F, R, effective_diffusivity

__all__ = ["BlockedArc", "UniformFlux", "FLUX_LAWS", "F", "R", "effective_diffusivity"]
