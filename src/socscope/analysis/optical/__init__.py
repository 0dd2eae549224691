"""Operando optical microscopy: from a movie to per-particle intensity traces.

* drift: :func:`fit_gaussian_spot`, :func:`pick_reference_spot`, :func:`drift_gaussian`,
  :func:`drift_xcorr`, :func:`shift_frames`;
* particles: :func:`background_threshold`, :func:`segment_particles`, :func:`labels_from_rois`,
  :func:`load_labels`, :func:`particle_table`.

Reading the movie is :func:`socscope.io.open_movie`. Needs the optional extra
``socscope[image]``.
"""

from .drift import (
    drift_gaussian,
    drift_xcorr,
    fit_gaussian_spot,
    pick_reference_spot,
    shift_frames,
)
from .segment import (
    background_threshold,
    labels_from_rois,
    load_labels,
    particle_table,
    segment_particles,
)

__all__ = [
    "background_threshold",
    "drift_gaussian",
    "drift_xcorr",
    "fit_gaussian_spot",
    "labels_from_rois",
    "load_labels",
    "particle_table",
    "pick_reference_spot",
    "segment_particles",
    "shift_frames",
]

# contrast and per-particle measures, the join with the cycler record, and the whole pipeline
# (analyze_movie: a movie in, per-particle SOC traces, asynchrony and core–shell metrics out)
from .contrast import (
    differential_contrast,
    particle_depth,
    particle_means,
    periphery_core,
    unreacted_com,
)
from .join import capacity_basis_Ah, derivative_vs_soc, join_cycler, read_cycler
from .pipeline import OpticalResult, analyze_movie

__all__ += [
    "OpticalResult",
    "analyze_movie",
    "capacity_basis_Ah",
    "derivative_vs_soc",
    "differential_contrast",
    "join_cycler",
    "particle_depth",
    "particle_means",
    "periphery_core",
    "read_cycler",
    "unreacted_com",
]
