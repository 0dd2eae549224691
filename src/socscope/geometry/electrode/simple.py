"""Small layouts with known answers, for checking the network solve."""

from __future__ import annotations

import numpy as np

from ...errors import GeometryError
from ._args import _count, _fraction, _nonnegative, _positive_float
from .layout import ElectrodeLayout

# ---------------------------------------------------------------------------
# layouts for checking the network solve
# ---------------------------------------------------------------------------


def identical_wired_layout(
    n_particles: int,
    radius: float,
    *,
    conductance_factor: float = 1e6,
    coverage: float = 1.0,
) -> ElectrodeLayout:
    """Identical particles, each wired straight to the collector.

    Every particle has one edge, to the collector, with
    ``carbon_factor = conductance_factor`` (resistance
    ``conductance_factor / σ_CB``, 100 Ω by default) and no NMC factor, so
    σ(θ) never enters and every particle sits at the collector's potential
    to within ``I_p × 100 Ω`` (1e-10 V for a 2.5 µm particle at C/20): the
    network must behave like the single-particle model. The default is far
    below a particle's charge-transfer resistance (~1e8 Ω) but not so far
    that the network matrix loses its accuracy (a wire of 1e-16 Ω would put
    17 decades between its entries). Particles lie side by side on the
    collector, ``3R`` apart, not touching; all are on top.

    Parameters
    ----------
    n_particles : int
        Number of particles (>= 1).
    radius : float
        Particle radius [m].
    conductance_factor : float
        Carbon factor of each wire [m⁻¹], > 0.
    coverage : float
        Coverage recorded for every particle.
    """
    owner = "identical_wired_layout"
    n = _count(n_particles, "n_particles", owner)
    r = _positive_float(radius, "radius", owner)
    f = _positive_float(conductance_factor, "conductance_factor", owner)
    pos = np.column_stack([(3.0 * np.arange(n) + 1.5) * r, np.full(n, r)])
    return ElectrodeLayout(
        particle_radius=np.full(n, r), particle_position=pos, junction_position=np.zeros((0, 2)),
        edges=np.column_stack([np.zeros(n, np.int64), np.arange(n) + 1]),
        carbon_factor=np.full(n, f), nmc_factor=np.zeros((n, 2)),
        coverage=np.full(n, _fraction(coverage, "coverage", owner)), top=np.ones(n, bool),
        name="identical-wired",
    )


def ladder_layout(
    n: int,
    *,
    carbon_factor: float,
    rung_carbon_factor: float | None = None,
    rung_nmc_factor: float = 0.0,
    radius: float = 2.5e-6,
    coverage: float = 1.0,
) -> ElectrodeLayout:
    """A resistor ladder: a chain of junctions from the collector, a particle on each rung.

    Nodes: collector 0, junctions ``J_1..J_n`` (node ``k``), particles
    ``P_1..P_n`` (node ``n + k``). Edges, in this order: the rails
    ``0–J_1, J_1–J_2, ..., J_{n−1}–J_n`` (each ``carbon_factor``), then the
    rungs ``J_k–P_k`` (carbon ``rung_carbon_factor``, default
    ``carbon_factor``, plus ``rung_nmc_factor`` through the particle). With
    rail resistance ``r`` and rung resistance ``R`` and every particle held
    at one potential, the resistance from the collector to the particles is
    ``r cosh(γ(n+½)) / (2 sinh(γn) sinh(γ/2))`` with ``cosh γ = 1 + r/(2R)``.
    Junction ``J_k`` sits at height ``2.2 k R``; its particle beside it.

    Parameters
    ----------
    n : int
        Number of rungs (>= 1).
    carbon_factor : float
        ``L/A`` of each rail segment [m⁻¹], > 0.
    rung_carbon_factor, rung_nmc_factor : float
        Factors of each rung [m⁻¹], >= 0, not both 0.
    radius : float
        Particle radius [m].
    coverage : float
        Coverage recorded for every particle.
    """
    owner = "ladder_layout"
    n = _count(n, "n", owner)
    cf = _positive_float(carbon_factor, "carbon_factor", owner)
    rc = cf if rung_carbon_factor is None else _nonnegative(rung_carbon_factor, "rung_carbon_factor", owner)
    rn = _nonnegative(rung_nmc_factor, "rung_nmc_factor", owner)
    if rc == 0 and rn == 0:
        raise GeometryError(f"{owner}: rung_carbon_factor and rung_nmc_factor are both 0: a rung needs a "
                            "resistance (e.g. rung_carbon_factor=1e6)")
    r = _positive_float(radius, "radius", owner)
    k = np.arange(n)
    z = 2.2 * (k + 1) * r
    rails = np.column_stack([k, k + 1])
    rungs = np.column_stack([k + 1, n + 1 + k])
    nmc = np.zeros((2 * n, 2))
    nmc[n:, 1] = rn
    return ElectrodeLayout(
        particle_radius=np.full(n, r),
        particle_position=np.column_stack([np.full(n, 2.0 * r), z]),
        junction_position=np.column_stack([np.zeros(n), z]),
        edges=np.vstack([rails, rungs]),
        carbon_factor=np.concatenate([np.full(n, cf), np.full(n, rc)]),
        nmc_factor=nmc,
        coverage=np.full(n, _fraction(coverage, "coverage", owner)),
        top=np.ones(n, bool),
        name="ladder",
    )
