"""Model parameters a fit may change: a material with D and i0 rescaled, and the
recorded current as a protocol."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..errors import ParameterError
from ..materials import Property, as_material
from ..materials._constants import F

__all__ = ["DIFFUSION_REFERENCE_THETA", "current_protocol", "material_variant", "reference_rate_constant"]

#: θ at which the D(θ) shape parameter leaves D unchanged (the lithiated end)
DIFFUSION_REFERENCE_THETA = 1.0


def reference_rate_constant(material) -> float:
    """The material's rate constant ``k0 = i0(0.5) / (F c_max · 0.5)`` [m/s].

    For the ``i0 = F k c_max sqrt(θ(1-θ))`` form of the shipped materials this is
    their ``k``; for any other i0(θ) it is the rate constant of the same i0 at
    half occupancy, so that ``k0`` always scales the whole i0(θ) curve.
    """
    mat = as_material(material)
    if mat.i0 is None:
        raise ParameterError(f"material {mat.name!r} has no exchange current i0(θ), so k0 cannot be fitted; "
                             "choose a material with i0 or leave k0 out of --free")
    return float(mat.i0(0.5)) / (F * mat.c_max * 0.5)


def _scaled(prop: Property, factor: float, name: str, units: str, *, formula: str) -> Property:
    """``prop`` multiplied by ``factor`` (its derivative with it) as ``name`` [``units``], same source and range."""

    def func(th, base=prop, f=factor):
        return f * np.asarray(base(th))

    def dfunc(th, base=prop, f=factor):
        return f * np.asarray(base.derivative(th))

    return Property(name, units, func, source=prop.source, valid_range=prop.valid_range, formula=formula,
                    dfunc=dfunc)


def material_variant(material, *, alpha: float | None = None, d_shape: float | None = None,
                     k0: float | None = None, sigma_scale: float | None = None):
    """A copy of ``material`` with D(θ) and i0(θ) rescaled.

    Parameters
    ----------
    material : Material or str
    alpha : float, optional
        ``D_app = α · D_GITT``: D(θ) is multiplied by ``alpha / alpha_ref``,
        ``alpha_ref`` the material's own ``alpha`` parameter (1 if it has none).
    d_shape : float, optional
        Stretch of D(θ) in log space about θ = 1:
        ``log D'(θ) = log D(1) + d_shape · (log D(θ) − log D(1))``; 1 leaves it,
        2 doubles the decades by which D rises on delithiation.
    k0 : float, optional
        Rate constant [m/s]; i0(θ) is multiplied by ``k0 / k0_ref``
        (:func:`reference_rate_constant`).
    sigma_scale : float, optional
        Multiplies the electronic conductivity σ(θ).

    Returns
    -------
    Material
    """
    mat = as_material(material)
    D, i0 = mat.D, mat.i0
    notes = []
    if alpha is not None or d_shape is not None:
        a_ref = float(mat.parameters.get("alpha", 1.0))
        scale = 1.0 if alpha is None else float(alpha) / a_ref
        s = 1.0 if d_shape is None else float(d_shape)
        d0 = float(D(DIFFUSION_REFERENCE_THETA))
        base = D

        def d_func(th, base=base, scale=scale, s=s, d0=d0):
            return scale * d0 * (np.asarray(base(th)) / d0) ** s

        def d_dfunc(th, base=base, scale=scale, s=s, d0=d0):
            v = np.asarray(base(th))
            return scale * s * (v / d0) ** (s - 1.0) * np.asarray(base.derivative(th))

        D = Property("D", "m2/s", d_func, source=base.source, valid_range=base.valid_range,
                     formula=f"{scale:.6g} * D(1) * (D(θ)/D(1))**{s:.6g} of {mat.name}", dfunc=d_dfunc)
        notes += [f"alpha={alpha!r}" if alpha is not None else "", f"d_shape={d_shape!r}" if d_shape is not None else ""]
    if k0 is not None:
        f = float(k0) / reference_rate_constant(mat)
        i0 = _scaled(i0, f, "i0", "A/m2", formula=f"{f:.6g} * i0(θ) of {mat.name} (k0 = {float(k0):.6g} m/s)")
        notes.append(f"k0={float(k0)!r}")
    sigma = mat.sigma
    if sigma_scale is not None and float(sigma_scale) != 1.0:
        if sigma is None:
            raise ParameterError(f"material {mat.name!r} has no σ(θ) to scale; choose one with sigma "
                                 "(e.g. nmc532-sharma2022)")
        g = float(sigma_scale)
        sigma = _scaled(sigma, g, "sigma", "S/m", formula=f"{g:.6g} * sigma(θ) of {mat.name}")
        notes.append(f"sigma_scale={g!r}")
    if D is mat.D and i0 is mat.i0 and sigma is mat.sigma:
        return mat
    params = dict(mat.parameters)
    if alpha is not None and "alpha" in params:
        params["alpha"] = float(alpha)
    desc = ", ".join(n for n in notes if n)
    return replace(mat, D=D, i0=i0, sigma=sigma, parameters=params, factory=None,
                   description=f"{mat.description} (fitted variant: {desc})")


def current_protocol(time_s, current_A, *, mass_g: float, rtol: float = 0.02, min_step_s: float = 0.0) -> list[str]:
    """Experiment sentences that replay a recorded current on a particle.

    The record is cut into runs of nearly constant current (within ``rtol`` of the
    run's largest magnitude, and of one sign); each run becomes "Charge at X mA/g
    for T seconds", "Discharge ..." or "Rest for T seconds", X the run's mean
    current per gram of active material (``current_A / mass_g``), so that the
    particle passes the same charge per gram as the electrode.

    Parameters
    ----------
    time_s, current_A : array_like
        The record (time increasing; positive current = charge). Each sample's
        current holds until the next sample.
    mass_g : float
        Active mass of the electrode [g].
    rtol : float
        Relative tolerance of a run.
    min_step_s : float
        Runs shorter than this are merged into the next one.
    """
    t = np.asarray(time_s, dtype=float)
    i = np.asarray(current_A, dtype=float)
    if t.ndim != 1 or t.shape != i.shape or t.size < 2:
        raise ParameterError(f"time_s and current_A must be two 1-D arrays of the same length >= 2, got "
                             f"{t.shape} and {i.shape}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(i))) or np.any(np.diff(t) <= 0):
        raise ParameterError("time_s must increase strictly and time_s, current_A must be finite")
    if not (math.isfinite(mass_g) and mass_g > 0):
        raise ParameterError(f"mass_g = {mass_g!r} must be a positive mass in grams, e.g. 8.1e-3")
    dt = np.diff(t)
    cur = i[:-1]
    tiny = 1e-9 * max(float(np.abs(cur).max()), 1e-300)
    runs, start = [], 0
    for k in range(1, cur.size + 1):
        if k < cur.size:
            seg = cur[start:k + 1]
            big = float(np.abs(seg).max())
            same_sign = np.all(seg > tiny) or np.all(seg < -tiny) or np.all(np.abs(seg) <= tiny)
            if same_sign and (big <= tiny or float(seg.max() - seg.min()) <= rtol * big):
                continue
        runs.append((start, k))
        start = k
    out = []
    carry = 0.0
    for a, b in runs:
        dur = float(dt[a:b].sum()) + carry
        if dur < min_step_s:
            carry = dur
            continue
        carry = 0.0
        mean = float((cur[a:b] * dt[a:b]).sum() / dt[a:b].sum())
        spec = mean / mass_g * 1e3  # mA/g
        if abs(mean) <= tiny:
            out.append(f"Rest for {dur:.9g} seconds")
        elif spec > 0:
            out.append(f"Charge at {spec:.9g} mA/g for {dur:.9g} seconds")
        else:
            out.append(f"Discharge at {-spec:.9g} mA/g for {dur:.9g} seconds")
    return out
