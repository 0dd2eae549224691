"""Figures; the only place matplotlib is imported (inside the functions)."""

from .particle import plot_periphery_core, plot_theta_maps, plot_traces

__all__ = ["plot_theta_maps", "plot_traces", "plot_periphery_core"]
