"""Cathode materials: SI scalars and functions of the Li occupancy θ.

A :class:`Material` holds the lattice-site concentration ``c_max`` [mol/m³],
density [kg/m³], practical capacity (the C-rate basis) [C/kg], molar mass
[kg/mol], temperature [K], and up to four :class:`Property` functions of θ:
``U`` (open-circuit potential, V), ``D`` (diffusivity, m²/s, required),
``i0`` (exchange current density, A/m²) and ``sigma`` (electronic
conductivity, S/m). Every function carries its source and validity range and
is finite and at least C1 on all of [0, 1], so implicit solvers may evaluate
it anywhere.

:func:`resolve` takes either a built-in name or a material file (the one
rule for telling them apart is :func:`is_material_file`).

Shipped materials (see :func:`available`):

``ni88-xu2022``
    single-crystal LiNi0.88Mn0.05Co0.07O2 (Xu et al.; Lun et al.), parameter
    ``alpha`` (D_app = α·D_GITT, default 2.7) and the named choices ``ocp``
    (:data:`NI88_OCPS`) and ``diffusivity`` (:data:`NI88_DIFFUSIVITIES`).
``nmc532``
    LiNi0.5Mn0.3Co0.2O2 (Kröger et al.; Mohtat2020; Amin & Chiang 2016).
``nmc532-sharma2022``
    NMC532 as modelled by Sharma et al. (2022): D(θ) rising by orders of
    magnitude on charge, the Mohtat2020 OCP on a 4.3–2.5 V window;
    parameters ``d_lithiated`` and ``d_delithiated`` (m²/s).
``nmc811-chen2020``
    LG M50 NMC811 (Chen et al. 2020, PyBaMM ``Chen2020``).

Examples
--------
>>> import socscope.materials as m
>>> mat = m.get("ni88-xu2022", alpha=2.7)
>>> round(mat.capacity_mAh_g)
210
>>> mat.D(1.0) < mat.D(0.5)
True
"""

from ._files import load, save, save_targets
from ._library import NI88_DIFFUSIVITIES, NI88_OCPS, chen2020_ocp_data
from ._material import Material, Property
from ._registry import as_material, available, get, is_material_file, resolve
from ._tables import tabulated_property

__all__ = [
    "Material",
    "Property",
    "get",
    "available",
    "as_material",
    "resolve",
    "is_material_file",
    "load",
    "save",
    "save_targets",
    "tabulated_property",
    "chen2020_ocp_data",
    "NI88_OCPS",
    "NI88_DIFFUSIVITIES",
]
