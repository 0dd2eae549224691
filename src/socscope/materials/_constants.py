"""Physical constants and atomic masses used by the material definitions.

Values are CODATA 2018 (exact SI definitions for ``F``) and the IUPAC
standard atomic weights (conventional values for Li).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from ..constants import C_KG_PER_MAH_G, F, R, T_REF  # noqa: F401  (re-exported)

#: Standard atomic weights [g/mol] (IUPAC; Li is the conventional value 6.94)
ATOMIC_MASS_G_MOL: Mapping[str, float] = MappingProxyType(
    {
        "Li": 6.94,
        "Ni": 58.6934,
        "Mn": 54.938043,
        "Co": 58.933194,
        "O": 15.999,
    }
)


def molar_mass(composition: Mapping[str, float]) -> float:
    """Molar mass of a formula unit.

    Parameters
    ----------
    composition : mapping of str to float
        Element symbol -> number of atoms per formula unit, e.g.
        ``{"Li": 1, "Ni": 0.88, "Mn": 0.05, "Co": 0.07, "O": 2}``.

    Returns
    -------
    float
        Molar mass [kg/mol].

    Examples
    --------
    >>> round(molar_mass({"Li": 1, "Ni": 0.5, "Mn": 0.3, "Co": 0.2, "O": 2}) * 1e3, 2)
    96.55
    """
    total_g = 0.0
    for element, count in composition.items():
        total_g += ATOMIC_MASS_G_MOL[element] * float(count)
    return total_g / 1000.0
