"""Particle shapes (Sphere, Disc, Ellipse, Polygon, Mask) and their finite-volume grids."""

from .shapes import DEFAULT_THICKNESS, Disc, Ellipse, Mask, Polygon, Sphere

__all__ = ["Sphere", "Disc", "Ellipse", "Polygon", "Mask", "DEFAULT_THICKNESS"]

from .electrode import (
    SIGMA_CB,
    ElectrodeLayout,
    carbon_link_factor,
    edge_conductance,
    edge_particle_ends,
    electrolyte_links,
    identical_wired_layout,
    ladder_layout,
    layered_layout,
    layout_from_labels,
    nmc_path_factor,
    random_layout,
)

__all__ += [
    "SIGMA_CB",
    "ElectrodeLayout",
    "carbon_link_factor",
    "edge_conductance",
    "edge_particle_ends",
    "electrolyte_links",
    "identical_wired_layout",
    "ladder_layout",
    "layered_layout",
    "layout_from_labels",
    "nmc_path_factor",
    "random_layout",
]
