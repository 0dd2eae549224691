"""Figures; the only place matplotlib is imported (inside the functions)."""

from ._common import save_figure
from .cycling import plot_capacity_efficiency, plot_dqdv, plot_voltage_capacity, voltage_capacity_curves
from .electrode import plot_asynchrony, plot_dol_histogram, plot_particle_traces
from .quicklook import quick_look
from .particle import plot_periphery_core, plot_theta_maps, plot_traces, plot_voltage_curve
from .sweep import plot_batch_summary, plot_population, plot_sweep_outputs

__all__ = ["save_figure", "quick_look", "plot_voltage_curve", "plot_theta_maps", "plot_traces", "plot_periphery_core", "plot_voltage_capacity", "plot_dqdv", "plot_capacity_efficiency", "voltage_capacity_curves",
           "plot_particle_traces", "plot_dol_histogram", "plot_asynchrony",
           "plot_sweep_outputs", "plot_batch_summary", "plot_population"]
