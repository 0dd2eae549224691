"""What an instrument would see: heterogeneity measures and cycling summaries of simulated runs."""

from .cycling import cycle_summary, step_summary
from .heterogeneity import front_depth, periphery_core_masks, periphery_minus_core, unreacted_com_distance, weighted_mean, weighted_std

__all__ = ["cycle_summary", "step_summary", "front_depth", "periphery_core_masks", "periphery_minus_core", "unreacted_com_distance", "weighted_mean", "weighted_std"]
