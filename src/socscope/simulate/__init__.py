"""Simulations that return xarray Datasets: single particles (and, later, electrodes)."""

from .particle import ParticleModel, simulate_particle

__all__ = ["ParticleModel", "simulate_particle"]
