"""Li transport inside a particle: the effective diffusivity of the flux law.

Two flux laws (the project's model notes (docs/numerics.md)):

* ``"chemical"`` (Fickian): ``J = −N_L D(θ) ∇θ`` with the material's
  (apparent) chemical diffusivity.
* ``"thermodynamic"`` (Lun et al. eq. 10): ``J = (N_L F / RT) θ D(θ) (dU/dθ) ∇θ``,
  i.e. an effective diffusivity ``−(F/RT) θ D(θ) U'(θ)`` (positive because
  ``U' < 0``).

Both are "``D_eff(θ)`` times the gradient", which the finite-volume engine
handles through the Kirchhoff potential of ``D_eff``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import ParameterError

__all__ = ["FLUX_LAWS", "effective_diffusivity", "F", "R"]

from ..constants import F, R

FLUX_LAWS = ("chemical", "thermodynamic")

# the thermodynamic factor contains U'(θ), which diverges at θ -> 0, 1 for
# OCPs with ideal-solution ends; evaluate it a hair inside the interval
_EDGE = 1e-6


def effective_diffusivity(material, flux: str = "chemical") -> Callable[[np.ndarray], np.ndarray]:
    """``D_eff(θ)`` [m²/s] of a flux law for a material.

    Parameters
    ----------
    material : socscope.materials.Material
    flux : {"chemical", "thermodynamic"}

    Returns
    -------
    callable
        Vectorised θ -> D_eff(θ).
    """
    if flux == "chemical":
        return lambda th: np.asarray(material.D(np.asarray(th, dtype=float)), dtype=float)
    if flux == "thermodynamic":
        if material.U is None:
            raise ParameterError(
                f"flux='thermodynamic' needs the open-circuit potential U(θ), which material "
                f"{material.name!r} does not define; use flux='chemical' or add U_V to the material"
            )
        f_rt = F / (R * material.temperature)

        def d_eff(th):
            th = np.clip(np.asarray(th, dtype=float), _EDGE, 1 - _EDGE)
            return -f_rt * th * material.D(th) * material.dU_dtheta(th)

        return d_eff
    raise ParameterError(f"flux = {flux!r} is not a flux law; use one of {FLUX_LAWS}")
