"""What an instrument would see: heterogeneity measures of simulated fields."""

from .heterogeneity import front_depth, periphery_core_masks, periphery_minus_core, weighted_mean, weighted_std

__all__ = ["front_depth", "periphery_core_masks", "periphery_minus_core", "weighted_mean", "weighted_std"]
