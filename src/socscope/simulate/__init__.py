"""Simulations that return xarray Datasets: single particles, batches of particles, network electrodes and particle populations."""

from .. import _accessor  # noqa: F401  registers the ds.socscope accessor on results made or read here
from .electrode import ElectrodeModel, simulate_electrode
from .particle import ParticleBatch, ParticleModel, simulate_particle, simulate_particles
from .population import ContactLossRule, simulate_population

__all__ = ["ElectrodeModel", "ParticleBatch", "ParticleModel", "simulate_electrode", "simulate_particle",
           "simulate_particles", "ContactLossRule", "simulate_population"]
