"""Particle shapes (Sphere, Disc, Ellipse, Polygon, Mask) and their finite-volume grids."""

from .shapes import DEFAULT_THICKNESS, Disc, Ellipse, Mask, Polygon, Sphere

__all__ = ["Sphere", "Disc", "Ellipse", "Polygon", "Mask", "DEFAULT_THICKNESS"]

from . import electrode as _electrode
from .electrode import *  # noqa: F403 - the layouts; the list is electrode.__all__

__all__ += _electrode.__all__
