"""Figures; the only place matplotlib is imported (inside the functions)."""

from ._common import save_figure
from .cycling import plot_dqdv, plot_voltage_capacity
from .particle import plot_periphery_core, plot_theta_maps, plot_traces, plot_voltage_curve

__all__ = ["save_figure", "plot_voltage_curve", "plot_theta_maps", "plot_traces", "plot_periphery_core", "plot_voltage_capacity", "plot_dqdv"]
