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
