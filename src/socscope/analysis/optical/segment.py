"""Particle masks for operando microscopy.

The implementation is shared with the AFM analysis and lives in :mod:`socscope.analysis.regions`
(thresholds, watershed segmentation, ImageJ ROIs, label images, per-particle tables); this module
keeps the names under which the optical pipeline has always offered them.
"""

from __future__ import annotations

from ..regions import (
    THRESHOLD_METHODS,
    auto_settings,
    background_threshold,
    labels_from_rois,
    load_labels,
    particle_table,
    segment_particles,
    typical_radius_px,
)

__all__ = ["THRESHOLD_METHODS", "background_threshold", "labels_from_rois", "load_labels", "particle_table",
           "segment_particles", "typical_radius_px", "auto_settings"]
