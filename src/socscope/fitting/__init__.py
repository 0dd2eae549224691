"""From measurement to model: fit parameters to movies, titrations and onset maps.

:class:`Parameter` (name, value, bounds, unit, prior), :func:`least_squares_fit`
(weighted least squares with multi-start, profile-likelihood intervals and a
"not identifiable" verdict) and :class:`FitResult`; the fits built on them:

:func:`fit_particle_movie`
    α of D(θ), a D(θ) shape parameter, k0 and the intensity calibration of one
    particle from its operando optical movie (and the cycler's current/voltage).
:func:`fit_gitt`
    D per pulse of a GITT record with the full particle model and kinetics,
    beside the classic Weppner–Huggins estimate.
:func:`fit_electrode_onsets`
    network parameters (NMC σ scale, carbon coverage, contact size) of an
    electrode from the per-particle onset SOCs of an asynchronous charge.
"""

from ._core import (
    NOT_IDENTIFIABLE,
    FitResult,
    Parameter,
    least_squares_fit,
    noise_sigma,
)
from ._model import current_protocol, material_variant, reference_rate_constant
from .electrode import fit_electrode_onsets
from .gitt import GittFit, fit_gitt
from .particle import ParticleData, fit_particle_movie, prepare_particle_data
from .synthetic import synthetic_gitt_record, synthetic_particle_record

__all__ = [
    "NOT_IDENTIFIABLE",
    "FitResult",
    "GittFit",
    "Parameter",
    "ParticleData",
    "current_protocol",
    "fit_electrode_onsets",
    "fit_gitt",
    "fit_particle_movie",
    "least_squares_fit",
    "material_variant",
    "noise_sigma",
    "prepare_particle_data",
    "reference_rate_constant",
    "synthetic_gitt_record",
    "synthetic_particle_record",
]
