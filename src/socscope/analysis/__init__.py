"""Pure analyses of measured data: cycling summaries, GITT and PITT (more to come: optical, SP-ICP-OES, AFM)."""

from .cycling import cycle_summary, dqdv, half_cycles
from .gitt import detect_pulses, gitt_diffusivity, gitt_to_material
from .pitt import detect_holds, pitt_diffusivity

__all__ = ["half_cycles", "cycle_summary", "dqdv", "detect_pulses", "gitt_diffusivity", "gitt_to_material",
           "detect_holds", "pitt_diffusivity"]
