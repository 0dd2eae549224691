"""Pure analyses of measured data: cycling summaries and GITT (more to come: PITT, optical, SP-ICP-OES, AFM)."""

from .cycling import cycle_summary, dqdv, half_cycles
from .gitt import detect_pulses, gitt_diffusivity

__all__ = ["half_cycles", "cycle_summary", "dqdv", "detect_pulses", "gitt_diffusivity"]
