"""Exact series solutions of linear diffusion under a constant boundary flux.

These are reference solutions for validating the finite-volume solver. Both
describe a field θ (an occupancy: dimensionless) that starts uniform at
``theta0`` and diffuses with a constant diffusivity ``D`` [m²/s] while a
constant flux ``q`` [m/s] of θ leaves through the whole boundary::

    ∂θ/∂t = D ∇²θ                  for 0 ≤ r < R, t > 0
    -D ∂θ/∂r = q                   at r = R, t > 0
    θ = θ0                         at t = 0

Sign convention: ``q`` is the *outward* flux, so ``q > 0`` removes θ (the
mean falls) and ``q < 0`` adds it. With the dimensionless time
``τ = D t / R²`` and radius ``x = r / R`` the solutions are

sphere (radius R)::

    θ = θ0 - (q R / D) [3 τ + x²/2 - 3/10
                        - (2/x) Σ sin(α_n x) / (α_n² sin α_n) exp(-α_n² τ)]

    α_n: positive roots of α cot α = 1 (tan α = α), α_n ∈ (nπ, nπ + π/2)

disc (infinite cylinder, or a disc with insulated faces)::

    θ = θ0 - (q R / D) [2 τ + x²/2 - 1/4
                        - 2 Σ J0(β_n x) / (β_n² J0(β_n)) exp(-β_n² τ)]

    β_n: positive roots of J1(β) = 0, β_n ∈ (nπ, nπ + π/2)

The bracket is ``d τ + x²/2 - d/(2(d + 2))`` plus a series, ``d`` the number
of dimensions (3 or 2). Each is checked term by term:

* PDE: ``∇²(x²/2) = d`` balances ``∂(d τ)/∂τ``; every series term is a
  Laplacian eigenfunction (``sin(α x)/x`` and ``J0(β x)``) with eigenvalue
  ``-α²`` (``-β²``) decaying as ``exp(-α² τ)``.
* Boundary flux: ``∂(x²/2)/∂x = 1`` at ``x = 1`` gives ``-D ∂θ/∂r = q``;
  the series terms have zero slope there because ``tan α_n = α_n``
  (``J0'(β_n) = -J1(β_n) = 0``).
* Mean: the volume average of ``x²/2`` is ``3/10`` (sphere) and ``1/4``
  (disc) and every series term averages to zero, so the mean is exactly
  ``θ0 - 3 q t / R`` (sphere) and ``θ0 - 2 q t / R`` (disc): the outflow
  ``q × area`` divided by the volume.
* Initial value: at ``τ = 0`` the series is the eigenfunction expansion of
  ``x²/2 - 3/10`` (``x²/2 - 1/4``), so θ = θ0. The disc coefficients follow
  from ``∫₀¹ x³ J0(β x) dx = 2 J0(β)/β²`` and ``∫₀¹ x J0(β x)² dx = J0(β)²/2``
  at ``J1(β) = 0``.

Truncation
----------
The series is cut after ``n_terms`` terms. For ``τ > 0`` the error of the
bracket, at every ``x``, is bounded by :func:`sphere_tail_bound` and
:func:`disc_tail_bound`; the error of θ is at most ``|q| R / D`` times that.
The bounds fall like ``exp(-(n_terms π)² τ)``, so the number of terms needed
grows like ``1/sqrt(τ)``: about ``1.4/sqrt(τ)`` terms (sphere) and
``1.25/sqrt(τ)`` terms (disc) for an error of 1e-10 in the bracket. The
default 200 terms give errors below 1e-10 for ``τ ≥ 4.8e-5`` (sphere) and
``τ ≥ 4.1e-5`` (disc); see the tables in the function docstrings. Below that a
:class:`SeriesTruncationWarning` is issued. At ``t = 0`` the exact initial
value ``theta0`` is returned.

References
----------
J. Crank, *The Mathematics of Diffusion*, 2nd ed., Oxford (1975), ch. 5
(cylinder) and ch. 6 (sphere), constant surface flux.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
from scipy.optimize import brentq
from scipy.special import erfc, exp1, j0, jn_zeros

from socscope.errors import ParameterError, SocscopeWarning

__all__ = [
    "SeriesTruncationWarning",
    "sphere_eigenvalues",
    "disc_eigenvalues",
    "sphere_tail_bound",
    "disc_tail_bound",
    "sphere_constant_flux",
    "disc_constant_flux",
    "sphere_mean",
    "disc_mean",
]

#: Default absolute tolerance on θ for the truncation check.
DEFAULT_TAIL_TOL = 1e-10

# Lower bound of |J0(β_n)| sqrt(β_n) over all roots β_n of J1: the product
# increases with n from 0.78839 (n = 1) towards sqrt(2/π) = 0.79788.
_J0_AT_J1_ZEROS_MIN = 0.788

# Exponents beyond which exp(-a) is exactly zero in double precision.
_EXP_UNDERFLOW = 746.0


class SeriesTruncationWarning(SocscopeWarning):
    """The truncated series may be less accurate than the requested tolerance."""


# --------------------------------------------------------------------------
# eigenvalues
# --------------------------------------------------------------------------


def _check_n_terms(n_terms: int) -> int:
    if isinstance(n_terms, bool) or int(n_terms) != n_terms or n_terms < 1:
        raise ParameterError(f"n_terms must be a positive integer, got {n_terms!r}")
    return int(n_terms)


@functools.lru_cache(maxsize=16)
def _sphere_roots(n_terms: int) -> np.ndarray:
    def f(a: float) -> float:
        # sin α - α cos α vanishes where tan α = α and has no poles.
        return math.sin(a) - a * math.cos(a)

    roots = np.empty(n_terms)
    for n in range(1, n_terms + 1):
        lo, hi = n * math.pi, n * math.pi + 0.5 * math.pi
        roots[n - 1] = brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
    roots.flags.writeable = False
    return roots


@functools.lru_cache(maxsize=16)
def _disc_roots(n_terms: int) -> np.ndarray:
    roots = np.asarray(jn_zeros(1, n_terms), dtype=float)
    roots.flags.writeable = False
    return roots


def sphere_eigenvalues(n_terms: int) -> np.ndarray:
    """Positive roots of ``α cot α = 1`` (``tan α = α``).

    Parameters
    ----------
    n_terms : int
        Number of roots.

    Returns
    -------
    ndarray, shape (n_terms,)
        ``α_1 < α_2 < ...``, with ``α_n ∈ (nπ, nπ + π/2)`` (dimensionless).
        The array is cached and read-only.

    Examples
    --------
    >>> sphere_eigenvalues(2).round(6)
    array([4.493409, 7.725252])
    """
    return _sphere_roots(_check_n_terms(n_terms))


def disc_eigenvalues(n_terms: int) -> np.ndarray:
    """Positive roots of ``J1(β) = 0``.

    Parameters
    ----------
    n_terms : int
        Number of roots.

    Returns
    -------
    ndarray, shape (n_terms,)
        ``β_1 < β_2 < ...``, with ``β_n ∈ (nπ, nπ + π/2)`` (dimensionless).
        The array is cached and read-only.

    Examples
    --------
    >>> disc_eigenvalues(2).round(6)
    array([3.831706, 7.015587])
    """
    return _disc_roots(_check_n_terms(n_terms))


# --------------------------------------------------------------------------
# truncation bounds
# --------------------------------------------------------------------------


def sphere_tail_bound(tau, n_terms: int) -> np.ndarray:
    """Bound on the bracket error of the sphere series cut after `n_terms` terms.

    Term ``n`` of the bracket is at most ``2 sqrt(1 + α_n²)/α_n² exp(-α_n² τ)``
    in magnitude for every ``x`` (``|sin(α x)/x| ≤ α`` and
    ``|sin α_n| = α_n / sqrt(1 + α_n²)``). With ``α_n > nπ`` and comparing the
    sum with an integral, the omitted terms add up to at most
    ``sqrt(1 + 1/π²)/π E1((n_terms π)² τ)``.

    Parameters
    ----------
    tau : array_like
        Dimensionless time ``D t / R²``, > 0.
    n_terms : int
        Number of terms kept.

    Returns
    -------
    ndarray
        Upper bound of the absolute error of the bracket (dimensionless);
        multiply by ``|q| R / D`` for the error of θ.

    Examples
    --------
    >>> float(sphere_tail_bound(1e-3, 50)) < 1e-10
    True
    """
    n = _check_n_terms(n_terms)
    tau = np.asarray(tau, dtype=float)
    with np.errstate(divide="ignore", over="ignore"):
        return math.sqrt(1.0 + 1.0 / math.pi**2) / math.pi * exp1((n * math.pi) ** 2 * tau)


def disc_tail_bound(tau, n_terms: int) -> np.ndarray:
    """Bound on the bracket error of the disc series cut after `n_terms` terms.

    Term ``n`` of the bracket is at most ``2/(β_n² |J0(β_n)|) exp(-β_n² τ)``
    in magnitude (``|J0| ≤ 1``), and ``|J0(β_n)| sqrt(β_n) ≥ 0.788`` for all
    roots of ``J1``. With ``β_n > nπ`` the omitted terms add up to at most
    ``(2/0.788) ∫_N^∞ (π s)^(-3/2) exp(-π² τ s²) ds``, which is bounded by
    the smaller of ``(π N)^(-3/2) erfc(π N sqrt τ)/(2 sqrt(π τ))`` and
    ``2 π^(-3/2) / sqrt(N)`` (times ``2/0.788``), ``N = n_terms``.

    Parameters
    ----------
    tau : array_like
        Dimensionless time ``D t / R²``, > 0.
    n_terms : int
        Number of terms kept.

    Returns
    -------
    ndarray
        Upper bound of the absolute error of the bracket (dimensionless);
        multiply by ``|q| R / D`` for the error of θ.

    Examples
    --------
    >>> float(disc_tail_bound(1e-3, 50)) < 1e-10
    True
    """
    n = _check_n_terms(n_terms)
    tau = np.asarray(tau, dtype=float)
    pn = n * math.pi
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        gaussian = pn**-1.5 * erfc(pn * np.sqrt(tau)) / (2.0 * np.sqrt(math.pi * tau))
        gaussian = np.where(tau > 0, gaussian, np.inf)
    algebraic = 2.0 * math.pi**-1.5 / math.sqrt(n)
    return (2.0 / _J0_AT_J1_ZEROS_MIN) * np.minimum(gaussian, algebraic)


def _terms_needed(bound, tau: float, tol: float) -> int:
    """Smallest number of terms for which ``bound(tau, n) <= tol``."""
    if bound(tau, 1) <= tol:
        return 1
    hi = 2
    while bound(tau, hi) > tol:
        hi *= 2
        if hi > 2**40:
            return hi
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if bound(tau, mid) > tol:
            lo = mid
        else:
            hi = mid
    return hi


# --------------------------------------------------------------------------
# common argument handling
# --------------------------------------------------------------------------


def _check_params(radius, diffusivity, flux, theta0) -> tuple[float, float | None, float, float]:
    radius = float(radius)
    if not (math.isfinite(radius) and radius > 0):
        raise ParameterError(f"radius must be finite and > 0 [m], got {radius!r}")
    if diffusivity is not None:
        diffusivity = float(diffusivity)
        if not (math.isfinite(diffusivity) and diffusivity > 0):
            raise ParameterError(f"diffusivity must be finite and > 0 [m²/s], got {diffusivity!r}")
    flux = float(flux)
    if not math.isfinite(flux):
        raise ParameterError(f"flux must be finite [m/s], got {flux!r}")
    theta0 = float(theta0)
    if not math.isfinite(theta0):
        raise ParameterError(f"theta0 must be finite, got {theta0!r}")
    return radius, diffusivity, flux, theta0


def _check_time(t) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ParameterError("t must be finite and >= 0 [s]; the solutions start at t = 0")
    return t


def _check_radius(r, radius: float) -> np.ndarray:
    r = np.asarray(r, dtype=float)
    if not np.all(np.isfinite(r)) or np.any(r < 0) or np.any(r > radius * (1.0 + 1e-12)):
        raise ParameterError(f"r must lie in [0, radius] = [0, {radius!r}] m")
    return np.minimum(r, radius)


def _series(
    r,
    t,
    *,
    radius,
    diffusivity,
    flux,
    theta0,
    n_terms,
    tail_tol,
    dim: int,
) -> np.ndarray:
    radius, diffusivity, flux, theta0 = _check_params(radius, diffusivity, flux, theta0)
    if diffusivity is None:
        raise ParameterError("diffusivity is required [m²/s]")
    n_terms = _check_n_terms(n_terms)
    r = _check_radius(r, radius)
    t = _check_time(t)
    shape = np.broadcast_shapes(r.shape, t.shape)

    x = r / radius
    tau = diffusivity * t / radius**2
    scale = flux * radius / diffusivity  # θ per unit of the bracket

    if dim == 3:
        roots = _sphere_roots(n_terms)
        tail_bound = sphere_tail_bound
        name = "sphere"
    else:
        roots = _disc_roots(n_terms)
        tail_bound = disc_tail_bound
        name = "disc"

    positive = tau[tau > 0]
    tau_min = float(positive.min()) if positive.size else math.inf
    if scale != 0.0 and math.isfinite(tau_min):
        err = abs(scale) * float(tail_bound(tau_min, n_terms))
        if err > tail_tol:
            need = _terms_needed(tail_bound, tau_min, tail_tol / abs(scale))
            warnings.warn(
                f"{name} series with n_terms={n_terms} at D t/R² = {tau_min:.3g}: "
                f"truncation error of θ may reach {err:.2g} > tail_tol={tail_tol:.2g}; "
                f"use n_terms >= {need}",
                SeriesTruncationWarning,
                stacklevel=3,
            )

    series = np.zeros(shape)
    for a in roots:
        if a * a * tau_min > _EXP_UNDERFLOW:
            break  # this and all later terms are exactly zero for every t > 0
        if dim == 3:
            # (2/x) sin(α x) without the 0/0 at the centre: 2 α sinc(α x / π)
            spatial = 2.0 * a * np.sinc(a * x / math.pi) / (a * a * math.sin(a))
        else:
            spatial = 2.0 * j0(a * x) / (a * a * j0(a))
        series += spatial * np.exp(-a * a * tau)

    c = dim / (2.0 * (dim + 2))  # mean of x²/2 over the unit ball: 3/10, 1/4
    bracket = dim * tau + 0.5 * x * x - c - series
    theta = theta0 - scale * bracket
    return np.where(tau == 0, theta0, theta)


# --------------------------------------------------------------------------
# public solutions
# --------------------------------------------------------------------------


def sphere_constant_flux(
    r,
    t,
    *,
    radius: float,
    diffusivity: float,
    flux: float,
    theta0: float,
    n_terms: int = 200,
    tail_tol: float = DEFAULT_TAIL_TOL,
) -> np.ndarray:
    """θ(r, t) in a sphere losing a constant outward flux through its surface.

    Solves ``∂θ/∂t = D (θ_rr + 2 θ_r / r)`` on ``0 ≤ r < R`` with
    ``-D ∂θ/∂r = q`` at ``r = R`` and ``θ = θ0`` at ``t = 0``::

        θ = θ0 - (q R / D) [3 τ + x²/2 - 3/10
                            - (2/x) Σ sin(α_n x)/(α_n² sin α_n) exp(-α_n² τ)]

    with ``τ = D t / R²``, ``x = r / R`` and ``tan α_n = α_n``. At ``r = 0`` the
    limit ``(2/x) sin(α x) → 2 α`` is used.

    Parameters
    ----------
    r : array_like
        Radial position [m], ``0 ≤ r ≤ radius``.
    t : array_like
        Time [s], ``t ≥ 0``; broadcast against `r` (e.g. ``r`` of shape
        ``(M,)`` and ``t`` of shape ``(K, 1)`` give ``(K, M)``).
    radius : float
        Sphere radius R [m].
    diffusivity : float
        Diffusivity D [m²/s].
    flux : float
        Outward flux q of θ through the surface [m/s]; ``q > 0`` removes θ.
    theta0 : float
        Initial uniform value of θ (dimensionless).
    n_terms : int, optional
        Number of series terms.
    tail_tol : float, optional
        Absolute tolerance on θ. If the truncation bound
        ``|q| R / D × sphere_tail_bound(τ_min, n_terms)`` at the smallest
        positive time exceeds it, a :class:`SeriesTruncationWarning` naming
        the number of terms needed is issued.

    Returns
    -------
    ndarray
        θ at the broadcast shape of `r` and `t` (dimensionless). Exactly
        ``theta0`` where ``t == 0``.

    Raises
    ------
    ParameterError
        For ``r`` outside ``[0, radius]``, ``t < 0``, non-positive radius or
        diffusivity, or a non-finite flux or theta0.

    Notes
    -----
    Valid for ``t > 0``. The error of the bracket is below
    ``sphere_tail_bound(τ, n_terms)``; terms needed for a bracket error
    below 1e-10:

    ========  =======
    τ         n_terms
    ========  =======
    1e-1          5
    1e-2         14
    1e-3         44
    1e-4        139
    1e-5        439
    1e-6       1386
    ========  =======

    Within ``τ ≲ 0.01`` the surface value follows the plane-wall result
    ``θ0 - 2 q sqrt(t/(π D))`` with relative correction ``sqrt(π τ)/2``
    from curvature. At later times the series decays like its first term,
    at most ``0.456 exp(-20.19 τ)`` in the bracket, and θ approaches the
    quasi-steady parabola ``θ0 - (q R/D)(3 τ + x²/2 - 3/10)``.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.linspace(0.0, 1e-6, 5)
    >>> theta = sphere_constant_flux(r, 100.0, radius=1e-6, diffusivity=1e-15,
    ...                              flux=1e-10, theta0=0.9)
    >>> theta.shape
    (5,)
    >>> round(float(sphere_mean(100.0, radius=1e-6, flux=1e-10, theta0=0.9)), 6)
    0.87
    """
    return _series(
        r,
        t,
        radius=radius,
        diffusivity=diffusivity,
        flux=flux,
        theta0=theta0,
        n_terms=n_terms,
        tail_tol=tail_tol,
        dim=3,
    )


def disc_constant_flux(
    r,
    t,
    *,
    radius: float,
    diffusivity: float,
    flux: float,
    theta0: float,
    n_terms: int = 200,
    tail_tol: float = DEFAULT_TAIL_TOL,
) -> np.ndarray:
    """θ(r, t) in a disc (infinite cylinder) losing a constant outward flux.

    Solves ``∂θ/∂t = D (θ_rr + θ_r / r)`` on ``0 ≤ r < R`` with
    ``-D ∂θ/∂r = q`` at ``r = R`` and ``θ = θ0`` at ``t = 0``; this is a disc
    whose flat faces are insulated, or a long cylinder away from its ends::

        θ = θ0 - (q R / D) [2 τ + x²/2 - 1/4
                            - 2 Σ J0(β_n x)/(β_n² J0(β_n)) exp(-β_n² τ)]

    with ``τ = D t / R²``, ``x = r / R`` and ``J1(β_n) = 0``.

    Parameters
    ----------
    r : array_like
        Radial position [m], ``0 ≤ r ≤ radius``.
    t : array_like
        Time [s], ``t ≥ 0``; broadcast against `r`.
    radius : float
        Disc radius R [m].
    diffusivity : float
        Diffusivity D [m²/s].
    flux : float
        Outward flux q of θ through the rim [m/s]; ``q > 0`` removes θ.
    theta0 : float
        Initial uniform value of θ (dimensionless).
    n_terms : int, optional
        Number of series terms.
    tail_tol : float, optional
        Absolute tolerance on θ. If the truncation bound
        ``|q| R / D × disc_tail_bound(τ_min, n_terms)`` at the smallest
        positive time exceeds it, a :class:`SeriesTruncationWarning` naming
        the number of terms needed is issued.

    Returns
    -------
    ndarray
        θ at the broadcast shape of `r` and `t` (dimensionless). Exactly
        ``theta0`` where ``t == 0``.

    Raises
    ------
    ParameterError
        For ``r`` outside ``[0, radius]``, ``t < 0``, non-positive radius or
        diffusivity, or a non-finite flux or theta0.

    Notes
    -----
    Valid for ``t > 0``. The error of the bracket is below
    ``disc_tail_bound(τ, n_terms)``; terms needed for a bracket error below
    1e-10:

    ========  =======
    τ         n_terms
    ========  =======
    1e-1          5
    1e-2         14
    1e-3         42
    1e-4        129
    1e-5        400
    1e-6       1243
    ========  =======

    Within ``τ ≲ 0.01`` the rim value follows the plane-wall result
    ``θ0 - 2 q sqrt(t/(π D))`` with relative correction ``sqrt(π τ)/4``
    from curvature. At later times the series decays like its first term,
    at most ``0.338 exp(-14.68 τ)`` in the bracket, and θ approaches the
    quasi-steady parabola ``θ0 - (q R/D)(2 τ + x²/2 - 1/4)``.

    Examples
    --------
    >>> import numpy as np
    >>> theta = disc_constant_flux(np.array([0.0, 1e-6]), [[10.0], [100.0]],
    ...                            radius=1e-6, diffusivity=1e-15,
    ...                            flux=1e-10, theta0=0.9)
    >>> theta.shape
    (2, 2)
    >>> round(float(disc_mean(100.0, radius=1e-6, flux=1e-10, theta0=0.9)), 6)
    0.88
    """
    return _series(
        r,
        t,
        radius=radius,
        diffusivity=diffusivity,
        flux=flux,
        theta0=theta0,
        n_terms=n_terms,
        tail_tol=tail_tol,
        dim=2,
    )


def sphere_mean(
    t,
    *,
    radius: float,
    flux: float,
    theta0: float,
    diffusivity: float | None = None,
) -> np.ndarray:
    """Exact volume-averaged θ in the sphere: ``θ0 - 3 q t / R``.

    The surface ``4πR²`` loses ``q`` per unit area from the volume
    ``4πR³/3``; the mean does not depend on the diffusivity.

    Parameters
    ----------
    t : array_like
        Time [s], ``t ≥ 0``.
    radius : float
        Sphere radius R [m].
    flux : float
        Outward flux q [m/s]; ``q > 0`` removes θ.
    theta0 : float
        Initial uniform value of θ.
    diffusivity : float, optional
        Diffusivity [m²/s]; accepted (and checked) so that the same keyword
        arguments serve :func:`sphere_constant_flux`, not used otherwise.

    Returns
    -------
    ndarray
        Mean θ at each `t` (dimensionless).

    Examples
    --------
    >>> float(sphere_mean(10.0, radius=2e-6, flux=1e-8, theta0=0.5))
    0.35
    """
    radius, _, flux, theta0 = _check_params(radius, diffusivity, flux, theta0)
    t = _check_time(t)
    return theta0 - 3.0 * flux * t / radius


def disc_mean(
    t,
    *,
    radius: float,
    flux: float,
    theta0: float,
    diffusivity: float | None = None,
) -> np.ndarray:
    """Exact area-averaged θ in the disc: ``θ0 - 2 q t / R``.

    The rim ``2πR`` (per unit thickness) loses ``q`` per unit area from the
    area ``πR²``; the mean does not depend on the diffusivity.

    Parameters
    ----------
    t : array_like
        Time [s], ``t ≥ 0``.
    radius : float
        Disc radius R [m].
    flux : float
        Outward flux q [m/s]; ``q > 0`` removes θ.
    theta0 : float
        Initial uniform value of θ.
    diffusivity : float, optional
        Diffusivity [m²/s]; accepted (and checked) so that the same keyword
        arguments serve :func:`disc_constant_flux`, not used otherwise.

    Returns
    -------
    ndarray
        Mean θ at each `t` (dimensionless).

    Examples
    --------
    >>> float(disc_mean(10.0, radius=2e-6, flux=1e-8, theta0=0.5))
    0.4
    """
    radius, _, flux, theta0 = _check_params(radius, diffusivity, flux, theta0)
    t = _check_time(t)
    return theta0 - 2.0 * flux * t / radius
