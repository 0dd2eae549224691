"""Properties defined by tables of values at given occupancies.

Interpolation (the same for shipped tables, user files and reloaded files):

* ``U``: monotone piecewise-cubic Hermite (PCHIP) in θ; outside the table a
  straight line with the end slope (strictly negative), so U stays strictly
  decreasing and C1.
* ``D``, ``i0``, ``sigma``: PCHIP of log10 of the values (keeps them positive
  and log-smooth); outside the table the end value is held constant. The end
  slopes of the log-interpolant are set to zero so that the constant
  extension joins with a continuous derivative (C1); interior slopes are the
  usual PCHIP ones, so the curve passes through every tabulated point and is
  monotone wherever the data are.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicHermiteSpline, PchipInterpolator

from ..errors import MaterialError
from ._material import PROPERTY_UNITS, U_RISE_TOL, Property

__all__ = ["tabulated_property", "LOG_INTERPOLATED"]

#: Properties interpolated in log10 space.
LOG_INTERPOLATED = frozenset({"D", "i0", "sigma"})


def _pchip_slopes(theta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """PCHIP (Fritsch–Butland) slopes at the nodes; linear for two nodes."""
    if theta.size == 2:
        s = (y[1] - y[0]) / (theta[1] - theta[0])
        return np.array([s, s])
    return PchipInterpolator(theta, y).derivative()(theta)


def _linear_extension_spline(theta: np.ndarray, y: np.ndarray):
    """Hermite spline of U with end slopes that are strictly negative."""
    slopes = _pchip_slopes(theta, y).copy()
    secant = np.diff(y) / np.diff(theta)
    if not slopes[0] < 0.0:
        slopes[0] = secant[0]
    if not slopes[-1] < 0.0:
        slopes[-1] = secant[-1]
    return CubicHermiteSpline(theta, y, slopes, extrapolate=False), slopes


def _make_u(theta: np.ndarray, values: np.ndarray):
    spline, slopes = _linear_extension_spline(theta, values)
    dspline = spline.derivative()
    t0, t1 = theta[0], theta[-1]
    u0, u1 = values[0], values[-1]
    s0, s1 = slopes[0], slopes[-1]

    def func(th):
        th = np.asarray(th, dtype=np.float64)
        inside = np.clip(th, t0, t1)
        out = spline(inside)
        out = np.where(th < t0, u0 + s0 * (th - t0), out)
        return np.where(th > t1, u1 + s1 * (th - t1), out)

    def dfunc(th):
        th = np.asarray(th, dtype=np.float64)
        out = dspline(np.clip(th, t0, t1))
        out = np.where(th < t0, s0, out)
        return np.where(th > t1, s1, out)

    return func, dfunc


def _make_log(theta: np.ndarray, values: np.ndarray):
    logv = np.log10(values)
    slopes = _pchip_slopes(theta, logv).copy()
    slopes[0] = 0.0
    slopes[-1] = 0.0
    spline = CubicHermiteSpline(theta, logv, slopes, extrapolate=False)
    dspline = spline.derivative()
    t0, t1 = theta[0], theta[-1]
    ln10 = np.log(10.0)

    def func(th):
        th = np.asarray(th, dtype=np.float64)
        return 10.0 ** spline(np.clip(th, t0, t1))

    def dfunc(th):
        th = np.asarray(th, dtype=np.float64)
        inside = np.clip(th, t0, t1)
        d = ln10 * 10.0 ** spline(inside) * dspline(inside)
        return np.where((th < t0) | (th > t1), 0.0, d)

    return func, dfunc


def _checked_table(name, theta, values) -> tuple[np.ndarray, np.ndarray]:
    """``theta`` and ``values`` of :func:`tabulated_property` as float arrays, checked.

    Material files are checked row by row before they get here (with file,
    line and column in the message); this covers tables given directly.
    """
    if name not in PROPERTY_UNITS:
        raise MaterialError(f"tabulated_property: name = {name!r} is not a property slot; use one of "
                            f"{', '.join(PROPERTY_UNITS)}")
    try:
        th = np.asarray(theta, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise MaterialError(f"tabulated_property({name!r}): theta and values must be numbers") from None
    if th.ndim != 1 or v.shape != th.shape or th.size < 2:
        raise MaterialError(f"tabulated_property({name!r}): theta and values must be 1-D of one length, at least 2 "
                            f"(got shapes {th.shape} and {v.shape})")
    if not (np.all(np.isfinite(th)) and np.all(np.isfinite(v))):
        raise MaterialError(f"tabulated_property({name!r}): theta and values must be finite (NaN or inf at index "
                            f"{int(np.flatnonzero(~np.isfinite(th) | ~np.isfinite(v))[0])})")
    if th[0] < 0.0 or th[-1] > 1.0 or np.any(np.diff(th) <= 0.0):
        k = int(np.flatnonzero(np.diff(th) <= 0.0)[0]) + 1 if np.any(np.diff(th) <= 0.0) else None
        where = f" (θ[{k}] = {th[k]:g} after θ[{k - 1}] = {th[k - 1]:g})" if k is not None else ""
        raise MaterialError(f"tabulated_property({name!r}): theta must strictly increase within [0, 1]{where}; "
                            "sort the rows by θ and remove duplicates")
    if name == "U" and (v[-1] >= v[0] or np.any(np.diff(v) > U_RISE_TOL)):
        # as a Material allows: flat stretches and wiggles below U_RISE_TOL
        k = int(np.argmax(np.diff(v)))
        raise MaterialError(f"tabulated_property('U'): U must fall with θ (the OCP falls as Li is inserted), but "
                            f"U = {v[k]:g} V at θ = {th[k]:g} and {v[k + 1]:g} V at θ = {th[k + 1]:g}")
    if name != "U" and np.any(v <= 0.0):
        k = int(np.flatnonzero(v <= 0.0)[0])
        raise MaterialError(f"tabulated_property({name!r}): values must be > 0 (they are interpolated in log10); "
                            f"got {v[k]:g} at θ = {th[k]:g}")
    return th, v


def tabulated_property(
    name: str,
    theta,
    values,
    *,
    source: str,
    valid_range: tuple[float, float] | None = None,
    formula: str | None = None,
) -> Property:
    """Build a :class:`Property` that interpolates a table.

    The table must be valid (θ strictly increasing in [0, 1], at least two
    rows, finite values, U falling (flat stretches and rises below 1 mV
    allowed), D/i0/sigma > 0); a
    :class:`~socscope.errors.MaterialError` names what is not.

    Parameters
    ----------
    name : {"U", "D", "i0", "sigma"}
        Property slot; fixes the units and the interpolation.
    theta : array_like, shape (n,)
        Occupancies [-].
    values : array_like, shape (n,)
        Values in the slot's SI units.
    source : str
        Citation.
    valid_range : tuple of float, optional
        Defaults to the table range ``(theta[0], theta[-1])``.
    formula : str, optional
        Prepended to the description of the interpolation.

    Returns
    -------
    Property

    Examples
    --------
    >>> p = tabulated_property("D", [0.2, 1.0], [1e-15, 1e-18], source="example")
    >>> float(p(0.2)), float(p(1.0)), float(p(0.0))
    (1e-15, 1e-18, 1e-15)
    """
    th, v = _checked_table(name, theta, values)
    if name == "U":
        func, dfunc = _make_u(th, v)
        how = "PCHIP in θ through {n} points (θ {a:g}..{b:g}); linear extension with the end slopes outside"
    else:
        func, dfunc = _make_log(th, v)
        how = (
            "PCHIP of log10 through {n} points (θ {a:g}..{b:g}, zero end slopes); "
            "constant extension outside"
        )
    how = how.format(n=th.size, a=th[0], b=th[-1])
    if valid_range is None:
        valid_range = (float(th[0]), float(th[-1]))
    return Property(
        name=name,
        units=PROPERTY_UNITS[name],
        func=func,
        source=source,
        valid_range=valid_range,
        formula=f"{formula}; {how}" if formula else how,
        dfunc=dfunc,
    )
