"""Atomic force microscopy maps (Jetybayeva et al. (ACS Appl. Energy Mater. 2022)): levelling, particles, rim versus bulk, across SOC.

* levelling: :func:`plane_level`, :func:`align_rows`, :func:`remove_scars`, :func:`flatten`;
* particles: :func:`particle_mask`, :func:`particle_summary`, :func:`rim_profile`,
  :func:`channel_correlation` (masks, depths and statistics shared with the optical pipeline
  through :mod:`socscope.analysis.regions`);
* across SOC: :func:`soc_from_name`, :func:`read_soc_table`, :func:`soc_summary`, :func:`soc_histograms`;
* the whole: :func:`analyze_maps`.

Reading the maps is :func:`socscope.io.afm.open_afm`.
"""

from .level import (
    ALIGN_METHODS,
    LEVEL_STEPS,
    align_rows,
    flatten,
    plane_level,
    remove_scars,
)
from .particles import (
    MASK_METHODS,
    channel_correlation,
    particle_mask,
    particle_summary,
    rim_profile,
)
from .pipeline import AFMMap, AFMResult, analyze_maps
from .soc import read_soc_table, soc_from_name, soc_histograms, soc_summary

__all__ = [
    "ALIGN_METHODS", "LEVEL_STEPS", "MASK_METHODS", "AFMMap", "AFMResult", "align_rows", "analyze_maps",
    "channel_correlation", "flatten", "particle_mask", "particle_summary", "plane_level", "read_soc_table",
    "remove_scars", "rim_profile", "soc_from_name", "soc_histograms", "soc_summary",
]
