"""The fitting framework: parameters with bounds and units, weighted least squares
with multi-start, profile-likelihood intervals and an identifiability verdict.

The optimiser is :func:`scipy.optimize.least_squares` (trust-region reflective,
bounds respected). A positive parameter whose bounds are both positive is fitted
in log space, so that a rate constant known to within a decade is searched evenly
and its interval is asymmetric as it should be.

Intervals are **profile likelihood** intervals: for each parameter, the other
free parameters are re-fitted along a line of fixed values of that parameter and
the interval ends where the weighted sum of squares has risen by
``s² · χ²₁(level)``. Profiles were chosen over the bootstrap because each forward
model here is a PDE solve: a profile needs about a dozen re-fits per parameter, a
bootstrap hundreds of full fits; and, unlike the Jacobian (Wald) interval, the
profile follows the model's non-linearity (D enters through a square root, k0
through an arcsinh) and it shows when the data stop constraining a parameter
(a profile that never rises to the threshold before a bound).

The verdict "not identifiable" is given, instead of numbers, when the weighted
Jacobian at the optimum is singular (a relative singular value below
``1e-6``: the data cannot tell some combination of parameters apart), when a
parameter's Wald standard error in log space exceeds ``ln 10`` (a decade), or when
its profile stays below the threshold up to a bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .._checks import fraction, whole_number
from ..errors import ParameterError

__all__ = ["NOT_IDENTIFIABLE", "FitResult", "Parameter", "least_squares_fit", "noise_sigma"]

#: the verdict text of a fit whose data do not determine its parameters
NOT_IDENTIFIABLE = "not identifiable"
#: relative singular value of the weighted Jacobian below which it counts as singular
SINGULAR_RTOL = 1e-6
#: largest Wald standard error of a log-space parameter still called identifiable (a decade)
MAX_LOG_SE = math.log(10.0)


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    Parameters
    ----------
    name : str
    value : float
        Starting value (and the value used when the parameter is held fixed).
    bounds : (float, float)
        Lower and upper bound, ``lower < upper``; the value must lie between them.
    unit : str
        Unit of the value ("1" for dimensionless).
    prior : (float, float) or None
        Gaussian prior ``(mean, standard deviation)`` added to the objective as one
        more weighted residual; None (default) for none.
    free : bool
        Fitted (True) or held at ``value``.
    log : bool or None
        Fit in log space; default: when both bounds are positive.
    """

    name: str
    value: float
    bounds: tuple[float, float]
    unit: str = "1"
    prior: tuple[float, float] | None = None
    free: bool = True
    log: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ParameterError(f"parameter name {self.name!r} must be an identifier, e.g. 'alpha'")
        try:
            lo, hi = (float(b) for b in self.bounds)
        except (TypeError, ValueError):
            raise ParameterError(f"parameter {self.name}: bounds = {self.bounds!r} must be two numbers "
                                 "(lower, upper), e.g. (0.1, 10)") from None
        v = float(self.value)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ParameterError(f"parameter {self.name}: bounds ({lo:g}, {hi:g}) must be finite with "
                                 "lower < upper")
        if not (math.isfinite(v) and lo <= v <= hi):
            raise ParameterError(f"parameter {self.name}: value {v:g} must lie within its bounds "
                                 f"[{lo:g}, {hi:g}]; move the start or widen the bounds")
        if self.prior is not None:
            m, s = (float(x) for x in self.prior)
            if not (math.isfinite(m) and math.isfinite(s) and s > 0):
                raise ParameterError(f"parameter {self.name}: prior {self.prior!r} must be (mean, sd) "
                                     "with a positive, finite sd")
            object.__setattr__(self, "prior", (m, s))
        log = self.log if self.log is not None else lo > 0
        if log and lo <= 0:
            raise ParameterError(f"parameter {self.name}: log = True needs positive bounds, got "
                                 f"({lo:g}, {hi:g})")
        object.__setattr__(self, "bounds", (lo, hi))
        object.__setattr__(self, "value", v)
        object.__setattr__(self, "log", bool(log))

    def to_internal(self, value: float) -> float:
        """The optimiser's coordinate of ``value`` (its log for a log-space parameter)."""
        return math.log(value) if self.log else float(value)

    def from_internal(self, z: float) -> float:
        """Inverse of :meth:`to_internal`, clipped to the bounds (round-off of exp/log)."""
        v = math.exp(z) if self.log else float(z)
        return min(max(v, self.bounds[0]), self.bounds[1])


def parameter_set(defaults: dict, free, *, start: dict | None = None, bounds: dict | None = None,
                  none_free: str) -> list[Parameter]:
    """One :class:`Parameter` per name of ``defaults``, with the caller's starts and bounds; names not in ``free`` held.

    Parameters
    ----------
    defaults : dict
        ``name -> (start, (lower, upper), unit)``, in the order the parameters are returned; its names are
        the ones that may be fitted.
    free : sequence of str
        The fitted names, at least one, each a name of ``defaults``.
    start, bounds : dict, optional
        Starting values and ``(lower, upper)`` bounds by name, replacing the defaults'.
    none_free : str
        The error message when ``free`` is empty.

    Returns
    -------
    list of Parameter

    Raises
    ------
    ParameterError
        For a name in ``free``, ``start`` or ``bounds`` not in ``defaults`` (the message lists them), an
        empty ``free`` (``none_free``), or a start outside its bounds (as :class:`Parameter` says it).

    Examples
    --------
    >>> [(p.name, p.value, p.free) for p in parameter_set({"a": (1.0, (0.1, 10.0), "1"), "b": (2.0, (1.0, 3.0), "m")},
    ...                                                    ("a",), start={"b": 2.5}, none_free="fit something")]
    [('a', 1.0, True), ('b', 2.5, False)]
    """
    names = tuple(defaults)
    free = tuple(free)
    unknown = [n for n in free if n not in names]
    if unknown:
        raise ParameterError(f"cannot fit {unknown}; free parameters must come from {names}")
    if not free:
        raise ParameterError(none_free)
    start, bounds = dict(start or {}), dict(bounds or {})
    for what, given in (("start", start), ("bounds", bounds)):
        stray = [n for n in given if n not in names]
        if stray:  # a misspelt name would otherwise leave the default in place without a word
            raise ParameterError(f"{what} names {stray}, which are not parameters of this fit; use names from {names}")
    return [Parameter(name, float(start.get(name, value)), tuple(bounds.get(name, limits)), unit=unit,
                      free=name in free)
            for name, (value, limits, unit) in defaults.items()]


@dataclass
class FitResult:
    """What a fit returns.

    Attributes
    ----------
    parameters : list of Parameter
        All parameters, with the fitted values (free ones) or the held ones.
    identifiable : bool
        False when the data do not determine the free parameters; ``values``
        then holds NaN for those named in ``diagnostics["not_identifiable"]``.
    message : str
        One paragraph saying what was fitted, how well, and the verdict.
    intervals : dict
        ``name -> (lower, upper)`` profile-likelihood interval at ``level``
        (NaN ends where the profile did not rise to the threshold).
    level : float
        Confidence level of the intervals.
    covariance, correlation : ndarray or None
        Of the free parameters in their internal coordinates (log for
        log-space parameters), from the weighted Jacobian, scaled by ``s²``.
    residuals : ndarray
        Weighted residuals at the optimum (data minus model over noise).
    chi2 : float
        Sum of squared weighted residuals; ``s2 = max(1, chi2 / (n - p))``.
    n_data : int
    fitted : xarray.Dataset or None
        The fitted simulation.
    diagnostics : dict
        ``singular_values``, ``condition``, ``starts`` (cost of each start),
        ``not_identifiable`` (names), ``profiles`` (name -> list of
        ``(value, delta_chi2)``), ``nfev``.
    settings : dict
        Model settings, seed and inputs (JSON-serialisable): what makes the fit
        reproducible.
    extra : dict
        Whatever the specific fit adds (tables, images).
    """

    parameters: list
    identifiable: bool
    message: str
    intervals: dict
    level: float
    covariance: np.ndarray | None
    correlation: np.ndarray | None
    residuals: np.ndarray
    chi2: float
    n_data: int
    fitted: object = None
    diagnostics: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def values(self) -> dict:
        """``name -> value`` of every parameter (NaN for a non-identifiable one)."""
        bad = set(self.diagnostics.get("not_identifiable", ()))
        return {p.name: (math.nan if p.name in bad else p.value) for p in self.parameters}

    @property
    def free_names(self) -> list[str]:
        return [p.name for p in self.parameters if p.free]

    def table(self) -> pd.DataFrame:
        """One row per parameter: ``name``, ``value``, ``unit``, ``lower``, ``upper``, ``free``, ``identifiable``."""
        bad = set(self.diagnostics.get("not_identifiable", ()))
        rows = []
        for p in self.parameters:
            lo, hi = self.intervals.get(p.name, (math.nan, math.nan))
            ok = p.name not in bad
            rows.append({"name": p.name, "value": p.value if ok else math.nan, "unit": p.unit,
                         "lower": lo if ok else math.nan, "upper": hi if ok else math.nan,
                         "free": p.free, "identifiable": ok if p.free else True})
        return pd.DataFrame(rows)

    def summary(self) -> dict:
        """JSON-serialisable summary (values, intervals, verdict, diagnostics)."""
        diag = {k: v for k, v in self.diagnostics.items() if k != "profiles"}
        return _jsonable({
            "identifiable": bool(self.identifiable), "message": self.message, "level": self.level,
            "parameters": self.table().to_dict(orient="records"), "chi2": self.chi2, "n_data": self.n_data,
            "correlation": None if self.correlation is None else np.asarray(self.correlation).tolist(),
            "free": self.free_names, "diagnostics": diag, "settings": self.settings,
        })


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def noise_sigma(values, axis: int = 0) -> float:
    """Robust noise standard deviation of samples that change slowly along ``axis``.

    ``1.4826 · MAD`` of the second differences divided by ``sqrt(6)`` (the
    standard deviation of a second difference of white noise is ``sqrt(6) σ``);
    a smooth trend contributes only its curvature. NaN values are ignored.
    """
    a = np.asarray(values, dtype=float)
    if a.shape[axis] < 3:
        raise ParameterError(f"noise_sigma needs at least 3 samples along axis {axis}, got {a.shape[axis]}")
    d = np.diff(a, n=2, axis=axis).ravel()
    d = d[np.isfinite(d)]
    if d.size == 0:
        return math.nan
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(6.0))


def _check_parameters(parameters) -> list[Parameter]:
    params = list(parameters)
    if not params or not all(isinstance(p, Parameter) for p in params):
        raise ParameterError("parameters must be a non-empty list of socscope.fitting.Parameter")
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ParameterError(f"parameter names {names} repeat; give each parameter once")
    if not any(p.free for p in params):
        raise ParameterError(f"no free parameter among {names}; set free=True on the ones to fit")
    return params


class _Objective:
    """Weighted residuals as a function of the internal coordinates of the free parameters."""

    def __init__(self, residuals: Callable[[dict], np.ndarray], params: list[Parameter]):
        self.fn = residuals
        self.params = params
        self.free = [p for p in params if p.free]
        self.nfev = 0
        self.n_data = None

    def values(self, z) -> dict:
        out = {p.name: p.value for p in self.params}
        for p, zi in zip(self.free, z):
            out[p.name] = p.from_internal(float(zi))
        return out

    def __call__(self, z) -> np.ndarray:
        vals = self.values(z)
        r = np.asarray(self.fn(vals), dtype=float).ravel()
        self.nfev += 1
        if self.n_data is None:
            self.n_data = r.size
        elif r.size != self.n_data:
            raise ParameterError(f"the residual function returned {r.size} values, earlier {self.n_data}; "
                                 "it must return the same number for every parameter set")
        if not np.all(np.isfinite(r)):
            # a failed or diverged model run: a large, finite cost steers the optimiser away
            r = np.where(np.isfinite(r), r, 1e6)
        priors = [(vals[p.name] - p.prior[0]) / p.prior[1] for p in self.free if p.prior is not None]
        return np.concatenate([r, np.asarray(priors, dtype=float)]) if priors else r

    def bounds(self):
        lo = [p.to_internal(p.bounds[0]) for p in self.free]
        hi = [p.to_internal(p.bounds[1]) for p in self.free]
        return np.array(lo), np.array(hi)


def _solve(obj: _Objective, z0, lo, hi, *, max_nfev: int, diff_step: float):
    z0 = np.clip(np.asarray(z0, dtype=float), lo + 1e-12 * (hi - lo), hi - 1e-12 * (hi - lo))
    return optimize.least_squares(obj, z0, bounds=(lo, hi), method="trf", x_scale="jac",
                                  diff_step=diff_step, max_nfev=max_nfev, xtol=1e-6, ftol=1e-8)


def least_squares_fit(residuals: Callable[[dict], np.ndarray], parameters: Sequence[Parameter], *,
                      n_starts: int = 3, rng=None, level: float = 0.95, intervals: bool = True,
                      max_nfev: int = 60, diff_step: float = 1e-3, scale_by_fit: bool = True,
                      scan: int = 0, jac_step: float = 0.02, settings: dict | None = None,
                      map_starts: Callable | None = None) -> FitResult:
    """Fit parameters by weighted least squares with multi-start and profile intervals.

    Parameters
    ----------
    residuals : callable
        ``residuals(values) -> array``: weighted residuals (data minus model,
        each divided by its noise standard deviation) for ``values``, a dict of
        every parameter's value by name. Must return the same number of values
        every time; non-finite values count as a failed model run.
    parameters : sequence of Parameter
    n_starts : int
        Starts of the optimiser: the given values, then ``n_starts - 1`` drawn
        uniformly (in the internal coordinates) within the bounds from ``rng``.
    rng : numpy.random.Generator or int, optional
    level : float
        Confidence level of the profile intervals, in (0, 1).
    intervals : bool
        Compute profile-likelihood intervals (costs about six re-fits per end).
    max_nfev : int
        Most residual evaluations per start.
    diff_step : float
        Relative step of the finite-difference Jacobian (internal coordinates).
    scan : int
        Before the starts, evaluate this many points spread over the bounds
        (a regular grid in internal coordinates for one parameter, uniform draws
        otherwise) and replace the given start by the best of them and it: for objectives with
        jumps (onsets that switch particle order) that trap a local optimiser.
    jac_step : float
        Step of the central-difference Jacobian at the optimum, which gives
        the covariance and the singularity check: in log space a relative
        change (0.02 = 2 %), otherwise that fraction of the bound range. The
        same step for every parameter keeps the columns of parameters that
        enter only as a product exactly parallel, and a step this size steps
        over the small jumps of objectives built on detected events (onsets).
    scale_by_fit : bool
        Scale the interval threshold by ``s² = max(1, χ²/(n − p))``, so that a
        misfit or underestimated noise widens the intervals.
    settings : dict, optional
        Stored in the result (model settings, seed, inputs).
    map_starts : callable, optional
        ``map_starts(func, starts) -> list``: how the starts are run. Default: one
        after the other in this process. ``functools.partial(socscope.sweep.map_points,
        scheduler="tcp://...")`` runs them as tasks on a Dask cluster (``socscope fit
        ... --scheduler``); the residual function is then sent to the workers
        (cloudpickle), and the result is the same as a serial fit's.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 50)
    >>> y = 2.0 * np.exp(-3.0 * x)
    >>> res = least_squares_fit(lambda v: (y - v["a"] * np.exp(-v["k"] * x)) / 0.01,
    ...                         [Parameter("a", 1.0, (0.1, 10)), Parameter("k", 1.0, (0.1, 10), unit="1")],
    ...                         rng=0)
    >>> round(res.values["k"], 3)
    3.0
    """
    params = _check_parameters(parameters)
    n_starts = whole_number("n_starts", n_starts, minimum=1, example=3)
    level = fraction("level", level, example="0.95")
    max_nfev = whole_number("max_nfev", max_nfev, minimum=2, example=60)
    g = np.random.default_rng(rng)
    obj = _Objective(residuals, params)
    lo, hi = obj.bounds()
    starts = [np.array([p.to_internal(p.value) for p in obj.free])]
    for _ in range(n_starts - 1):
        starts.append(g.uniform(lo, hi))
    scan = whole_number("scan", scan, minimum=0, example=7)
    if scan:
        if lo.size == 1:
            pts = [np.array([x]) for x in np.linspace(lo[0], hi[0], scan + 2)[1:-1]]
        else:
            pts = [g.uniform(lo, hi) for _ in range(scan)]
        pts = [starts[0]] + pts
        costs_scan = []
        for z0 in pts:
            r0 = obj(z0)
            costs_scan.append(float(r0 @ r0))
        starts[0] = pts[int(np.argmin(costs_scan))]
    def one_start(z0):
        return _solve(obj, z0, lo, hi, max_nfev=max_nfev, diff_step=diff_step)

    if map_starts is None:
        sols = [one_start(z0) for z0 in starts]
    else:
        sols = list(map_starts(one_start, starts))
        obj.nfev += int(sum(getattr(sol, "nfev", 0) for sol in sols))  # evaluated in other processes
    best, costs = None, []
    for sol in sols:
        costs.append(float(2 * sol.cost))
        if best is None or sol.cost < best.cost:
            best = sol
    z = best.x
    # the optimiser's residuals at its solution (one model run fewer); starts run elsewhere left this
    # objective without its residual count, which one run here sets
    r = np.asarray(best.fun, dtype=float) if obj.n_data is not None else obj(z)
    chi2 = float(r @ r)
    n = r.size
    p = len(obj.free)
    J = _central_jacobian(obj, z, r, lo, hi, jac_step)
    sv = np.linalg.svd(J, compute_uv=False) if J.size else np.zeros(0)
    rel = sv / sv[0] if sv.size and sv[0] > 0 else np.zeros_like(sv)
    s2 = max(1.0, chi2 / max(n - p, 1)) if scale_by_fit else 1.0
    cov = corr = None
    bad: list[str] = []
    singular = (sv.size < p) or (sv.size and (sv[0] == 0 or rel[-1] < SINGULAR_RTOL))
    if not singular:
        cov = s2 * np.linalg.inv(J.T @ J)
        se = np.sqrt(np.diag(cov))
        corr = cov / np.outer(se, se)
        for q, s in zip(obj.free, se):
            if (q.log and s > MAX_LOG_SE) or (not q.log and s > (q.bounds[1] - q.bounds[0])):
                bad.append(q.name)
    else:
        # which parameters the null direction involves
        _, _, vt = np.linalg.svd(J, full_matrices=True)
        null = vt[-1] if vt.size else np.ones(p)
        bad = [q.name for q, c in zip(obj.free, null) if abs(c) > 0.1] or [q.name for q in obj.free]
        se = np.full(p, np.nan)
    fitted = [replace(q, value=obj.values(z)[q.name]) for q in params]
    ints: dict = {}
    profiles: dict = {}
    threshold = s2 * float(stats.chi2.ppf(level, 1))
    if intervals and not singular:
        for i, q in enumerate(obj.free):
            if q.name in bad:
                continue
            ends, prof = [], []
            for sign in (-1.0, 1.0):
                zi, reached = _profile_end(obj, z, i, sign, se[i], chi2, threshold, lo, hi, max_nfev, diff_step, prof)
                ends.append(q.from_internal(zi) if reached else math.nan)
            ints[q.name] = tuple(ends)
            profiles[q.name] = sorted(prof)
            if not all(math.isfinite(e) for e in ends):
                bad.append(q.name)
    identifiable = not bad
    names = ", ".join(q.name for q in obj.free)
    if identifiable:
        vals = "; ".join(f"{q.name} = {fq.value:.4g} {q.unit} [{ints.get(q.name, (math.nan,) * 2)[0]:.4g}, "
                         f"{ints.get(q.name, (math.nan,) * 2)[1]:.4g}]"
                         for q, fq in zip(params, fitted) if q.free)
        msg = (f"fitted {names} to {n} data: {vals} ({level:.0%} profile-likelihood intervals); "
               f"chi2/(n-p) = {chi2 / max(n - p, 1):.3g}")
    else:
        why = ("the Jacobian is singular (relative singular value "
               f"{rel[-1] if rel.size else 0:.2g} < {SINGULAR_RTOL:g})" if singular else
               "their profiles stay flat (or the standard error exceeds a decade) within the bounds")
        msg = (f"{NOT_IDENTIFIABLE}: the data do not determine {', '.join(bad)}: {why}; fix them, add data "
               "that depend on them, or give priors")
    diag = {"singular_values": sv.tolist(), "condition": float(sv[0] / sv[-1]) if sv.size and sv[-1] > 0 else math.inf,
            "starts": costs, "not_identifiable": bad, "profiles": profiles, "nfev": obj.nfev,
            "threshold_delta_chi2": threshold, "s2": s2,
            "internal": {q.name: ("log" if q.log else "linear") for q in obj.free}}
    return FitResult(parameters=fitted, identifiable=identifiable, message=msg, intervals=ints, level=level,
                     covariance=cov, correlation=corr, residuals=r, chi2=chi2, n_data=n,
                     diagnostics=diag, settings=dict(settings or {}))


def _central_jacobian(obj, z, r0, lo, hi, step):
    """Central differences of the residuals at ``z`` (one-sided at a bound)."""
    cols = []
    for i, q in enumerate(obj.free):
        h = step if q.log else step * (hi[i] - lo[i])
        up, down = z.copy(), z.copy()
        up[i] = min(z[i] + h, hi[i])
        down[i] = max(z[i] - h, lo[i])
        if up[i] == down[i]:
            cols.append(np.zeros_like(r0))
            continue
        ru = obj(up) if up[i] != z[i] else r0
        rd = obj(down) if down[i] != z[i] else r0
        cols.append((ru - rd) / (up[i] - down[i]))
    return np.column_stack(cols) if cols else np.zeros((r0.size, 0))


def _profile_value(obj, z, i, zi, lo, hi, max_nfev, diff_step):
    """Lowest χ² with free parameter ``i`` held at ``zi`` (the others re-fitted from ``z``)."""
    others = [k for k in range(z.size) if k != i]
    if not others:
        zz = z.copy()
        zz[i] = zi
        r = obj(zz)
        return float(r @ r), zz

    def sub(w):
        zz = z.copy()
        zz[i] = zi
        zz[others] = w
        return obj(zz)

    sol = _solve(sub, z[others], lo[others], hi[others], max_nfev=max_nfev, diff_step=diff_step)
    zz = z.copy()
    zz[i] = zi
    zz[others] = sol.x
    return float(2 * sol.cost), zz


def _profile_end(obj, z, i, sign, se, chi2, threshold, lo, hi, max_nfev, diff_step, prof):
    """Where the profile of parameter ``i`` crosses ``chi2 + threshold`` on side ``sign``.

    Secant steps on the signed root ``sqrt(Δχ²)``, which is close to linear in the
    internal coordinate; starts at the Wald estimate. Returns ``(z_i, reached)``.
    """
    target = math.sqrt(threshold)
    bound = lo[i] if sign < 0 else hi[i]
    step = sign * (se * target if math.isfinite(se) and se > 0 else 0.1 * (hi[i] - lo[i]))
    zi = z[i] + step
    for _ in range(8):
        at_bound = (zi <= lo[i]) if sign < 0 else (zi >= hi[i])
        zi = min(max(zi, lo[i]), hi[i])
        c, _ = _profile_value(obj, z, i, zi, lo, hi, max_nfev, diff_step)
        d = max(c - chi2, 0.0)
        prof.append((obj.free[i].from_internal(zi), d))
        root = math.sqrt(d)
        # within 5 % of the threshold's root: the end to ~5 % of the interval's half-width
        if abs(root - target) < 0.05 * target:
            return zi, True
        if root < target and at_bound:
            return bound, False
        if root <= 1e-9:
            zi = z[i] + 2.0 * (zi - z[i])
            continue
        new = z[i] + (zi - z[i]) * target / root
        # never jump more than 4x further out than the last try
        if abs(new - z[i]) > 4 * abs(zi - z[i]):
            new = z[i] + 4 * (zi - z[i])
        zi = new
    # not converged in 8 secant steps: accept an end within 20 % of the threshold's root
    return zi, abs(root - target) < 0.2 * target
