"""What an instrument would see: heterogeneity measures, cycling summaries, synthetic optical movies, asynchrony and electrode observables."""

from .asynchrony import (
    TransitionFit,
    asynchrony_index,
    classify_half_cycles,
    fit_transition,
    split_half_cycles,
    transition_table,
)
from .cycling import cycle_summary, step_summary
from .electrode import asynchrony_of, cell_soc, electrode_summary, electrode_transitions, voltage_dips
from .electrode_movie import render_top_layer
from .heterogeneity import (
    front_depth,
    periphery_core_masks,
    periphery_minus_core,
    unreacted_com_distance,
    weighted_mean,
    weighted_std,
)
from .optical import (
    SocTraces,
    SyntheticMovie,
    core_shell_profile,
    disc_labels,
    intensity_from_theta,
    psf_blur,
    radial_particle,
    random_drift,
    random_particles,
    rasterize_dataset,
    rasterize_particle,
    soc_traces,
    synthetic_movie,
    theta_from_intensity,
)

__all__ = [
    "SocTraces",
    "SyntheticMovie",
    "TransitionFit",
    "asynchrony_index",
    "asynchrony_of",
    "cell_soc",
    "classify_half_cycles",
    "core_shell_profile",
    "cycle_summary",
    "disc_labels",
    "electrode_summary",
    "electrode_transitions",
    "fit_transition",
    "front_depth",
    "intensity_from_theta",
    "periphery_core_masks",
    "periphery_minus_core",
    "psf_blur",
    "radial_particle",
    "random_drift",
    "random_particles",
    "rasterize_dataset",
    "rasterize_particle",
    "render_top_layer",
    "soc_traces",
    "split_half_cycles",
    "step_summary",
    "synthetic_movie",
    "theta_from_intensity",
    "transition_table",
    "unreacted_com_distance",
    "voltage_dips",
    "weighted_mean",
    "weighted_std",
]
