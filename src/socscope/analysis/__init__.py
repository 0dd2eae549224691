"""Pure analyses of measured data: cycling summaries (more to come: GITT/PITT, optical, SP-ICP-OES, AFM)."""

from .cycling import cycle_summary, dqdv, half_cycles

__all__ = ["half_cycles", "cycle_summary", "dqdv"]
