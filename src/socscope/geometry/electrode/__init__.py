"""Electrode layouts: the electronic network a network-electrode solve runs on.

An :class:`ElectrodeLayout` is a graph. Its nodes are the current collector
(node 0), carbon-binder junctions (nodes ``1..J``) and active particles (nodes
``J+1..J+N``); its edges are the electronic links between them. Every edge is
a series of at most three resistors, each given by a geometric factor
``L/A`` [m⁻¹]: a carbon-binder segment and, for each end that is a particle,
the path through that particle's NMC::

    R_e = carbon_factor / σ_CB + nmc_factor[:, 0] / σ(θ_a) + nmc_factor[:, 1] / σ(θ_b)

so the conductances follow the state of charge of the particles they pass
through (:func:`edge_conductance`).

Geometric factors (all spheres, also in 2D cross-sections, whose particles are
spheres cut through their centres):

* **Through a particle** (:func:`nmc_path_factor`), from a circular contact
  spot of radius ``a`` on a sphere of radius ``R`` to the sphere's bulk::

      nmc_factor = 1/(4 a) + 1/(π R)

  ``1/(4σa)`` is the spreading (constriction) resistance of a disc contact on
  one body (Holm; Maxwell), so a contact between two particles of equal σ has
  the familiar Holm resistance ``1/(2σa)`` in total; ``1/(σπR)`` is the bulk
  path from the contact to the centre, a cylinder of length ``R`` and
  cross-section ``πR²``. An estimate, good when ``a ≲ R``.
* **Contact radii.** Particle–particle and particle–collector contacts of a
  packing have ``a = contact_fraction · min(R_i, R_j)`` (default 0.1, a flat
  of diameter 0.2 R pressed into each particle). A particle's carbon-binder
  coverage ``c`` sets its total contact area with carbon, ``c · 4πR²``,
  shared equally among its ``n_c`` carbon links: each is a disc of radius
  ``a = 2R √(c / n_c)``. From a label image the contact length ``ℓ`` between
  two particles is measured in pixels and ``a = ℓ / 2`` (the chord seen in
  the section is taken as the contact spot's diameter).
* **Carbon binder** (:func:`carbon_link_factor`): a strand of length ``L``
  and diameter ``carbon_width`` (default 1 µm), ``carbon_factor = L / A_cb``
  with ``A_cb = π carbon_width² / 4``. Links ending on a particle run from
  the junction to the particle's surface; every carbon length is at least
  ``carbon_width / 2``.

Factories: :func:`random_layout` (deposited packings in 2D or 3D),
:func:`layered_layout` (the cross-section of Sharma et al. (Nano Lett. 2022), Fig. 4a),
:func:`layout_from_labels` (particles and contacts from a label image),
:func:`identical_wired_layout` and :func:`ladder_layout` (checks of the
network solve).
"""

from .factors import SIGMA_CB, carbon_link_factor, nmc_path_factor
from .labels import layout_from_labels
from .layered import layered_layout
from .layout import (
    MAX_RADIUS,  # noqa: F401 - the plausible radii, importable from here as before
    MIN_RADIUS,  # noqa: F401
    ElectrodeLayout,
    edge_conductance,
    edge_particle_ends,
    electrolyte_links,
    unique_edges,
)
from .packing import random_layout
from .simple import identical_wired_layout, ladder_layout

__all__ = [
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
    "unique_edges",
]
