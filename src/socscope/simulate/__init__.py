"""Simulations that return xarray Datasets: single particles (and, later, electrodes)."""

from .particle import ParticleBatch, ParticleModel, simulate_particle, simulate_particles

__all__ = ["ParticleModel", "ParticleBatch", "simulate_particle", "simulate_particles"]
