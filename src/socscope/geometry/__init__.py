"""Particle shapes (Sphere, Disc, Ellipse, Polygon, Mask) and their finite-volume grids."""

from .shapes import DEFAULT_THICKNESS, Disc, Ellipse, Mask, Polygon, Sphere

__all__ = ["Sphere", "Disc", "Ellipse", "Polygon", "Mask", "DEFAULT_THICKNESS"]
