"""Model-based GITT: D per pulse from the full particle model with kinetics.

The classic Weppner–Huggins formula (Lun et al. eq. 1) assumes planar,
semi-infinite diffusion (``τ ≪ L²/D``) and a constant D over the pulse; on a
sphere, on long pulses and where D changes quickly with θ it reads wrong. Here
every pulse and its relaxation are simulated with
:func:`socscope.simulate_particle` on a sphere of the given radius, with the
material's OCP and Butler–Volmer kinetics, and D is fitted to the whole
voltage transient.

D(θ) is a table of nodes, one per pulse at the θ of the pulse's middle,
interpolated by :func:`socscope.materials.tabulated_property`; pulse ``k``
fits node ``k`` with the nodes before it held at their fitted values and those
after it held equal to it (first sweep) or at their first-sweep values (later
sweeps), so that a D that changes within a pulse is modelled as it changes.
Each pulse starts from a uniform θ given by the charge passed (the record's
rests must relax the particle; the classic table's ``relaxed`` flag says
whether they did). Two nuisance terms are solved for linearly at every
evaluation: a constant offset (the material's OCP against the cell's relaxed
voltage) and, optionally, a series resistance ``R·I`` (the IR step the
particle model does not hold). Intervals are profile-likelihood intervals of
log D with the voltage noise estimated from each relaxation's tail.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .._checks import positive_float, whole_number
from ..errors import ParameterError, SocscopeWarning
from ..geometry import Sphere
from ..materials import as_material
from ..materials._constants import F
from ._core import Parameter, least_squares_fit, noise_sigma

__all__ = ["GittFit", "fit_gitt"]

#: smallest voltage noise assumed [V] (a perfect synthetic record would otherwise weigh infinitely)
MIN_VOLTAGE_NOISE_V = 1e-4


@dataclass
class GittFit:
    """What :func:`fit_gitt` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per pulse: ``pulse``, ``t_start_s``, ``tau_s``, ``current_A``,
        ``theta_start``, ``theta_end``, ``theta_mid``, ``D_model`` with
        ``D_lower``/``D_upper`` [m²/s], ``identifiable``, ``chi2_reduced``,
        ``offset_V``, ``R_series_ohm``, the classic table's ``D_classic``,
        ``D_sphere``, ``relaxed``, and ``tau_D_over_L2`` (``τ·D_model/L²``,
        ``L = R/3``: above 0.1 the pulse is long and the classic formula's
        semi-infinite assumption fails), ``classic_over_model``.
    material : Material
        The base material with D(θ) replaced by the fitted nodes (and, with
        ``ocv="measured"``, U(θ) by the relaxed voltages).
    settings : dict
    fits : list of FitResult
        One per pulse (last sweep).
    """

    table: pd.DataFrame
    material: object
    settings: dict = field(default_factory=dict)
    fits: list = field(default_factory=list)


def _d_property(theta_nodes, d_nodes):
    """D(θ) through the nodes: log-linear between them, extended log-linearly with the end
    slopes over 0.1 in θ (a D that keeps rising past the last pulse's middle keeps rising over
    the rest of that pulse), clipped to 1e-24..1e-8 m²/s."""
    from ..materials import Property

    th = np.asarray(theta_nodes, dtype=float)
    d = np.log(np.asarray(d_nodes, dtype=float))
    order = np.argsort(th)
    th, d = th[order], d[order]
    keep = np.concatenate([[True], np.diff(th) > 1e-6])
    th, d = th[keep], d[keep]
    if th.size == 1:
        th, d = np.array([th[0], th[0] + 1.0]), np.array([d[0], d[0]])
    s_lo = (d[1] - d[0]) / (th[1] - th[0])
    s_hi = (d[-1] - d[-2]) / (th[-1] - th[-2])
    lo_c, hi_c = math.log(1e-24), math.log(1e-8)
    reach = 0.1  # the end slopes extend 0.1 in θ beyond the end nodes, D is constant further out

    def log_d(x):
        x = np.asarray(x, dtype=float)
        y = np.interp(x, th, d)
        y = np.where(x < th[0], d[0] + s_lo * (np.maximum(x, th[0] - reach) - th[0]), y)
        y = np.where(x > th[-1], d[-1] + s_hi * (np.minimum(x, th[-1] + reach) - th[-1]), y)
        return np.clip(y, lo_c, hi_c)

    return Property("D", "m2/s", lambda x: np.exp(log_d(x)), source="model-based GITT (socscope.fitting.fit_gitt)",
                    formula=f"log-linear through {th.size} nodes, extended with the end slopes")


def _measured_ocv(mat, plans, classic):
    """``mat`` with U(θ) through the record's relaxed voltages (E0 before each pulse, the last relaxed after)."""
    from ..materials import tabulated_property

    th, u = [], []
    for pl in plans:
        row = classic.iloc[pl["pulse"]] if pl["pulse"] < len(classic) else None
        if row is not None and np.isfinite(row["E0_V"]):
            th.append(pl["theta_start"])
            u.append(float(row["E0_V"]))
    last = plans[-1]
    row = classic.iloc[last["pulse"]] if last["pulse"] < len(classic) else None
    if row is not None and np.isfinite(row["E_relaxed_V"]):
        th.append(last["theta_end"])
        u.append(float(row["E_relaxed_V"]))
    th, u = np.asarray(th), np.asarray(u)
    order = np.argsort(th)
    th, u = th[order], u[order]
    if th.size < 2 or np.any(np.diff(th) <= 0) or np.any(np.diff(u) >= 0):
        raise ParameterError(f"ocv='measured' needs at least two relaxed voltages that fall as θ rises; the record "
                             f"gives {th.size} (θ {np.round(th, 4).tolist()}, E {np.round(u, 4).tolist()} V); "
                             "use ocv='material'")
    return replace(mat, U=tabulated_property("U", th, u, source="relaxed voltages of the GITT record"),
                   factory=None)


def _sample_index(n: int, max_points: int) -> np.ndarray:
    """Indices 0..n-1, at most ``max_points``, dense at the start (geometric) and the end kept."""
    if n <= max_points:
        return np.arange(n)
    idx = np.unique(np.round(np.geomspace(1, n, max_points)).astype(int) - 1)
    return idx


def fit_gitt(df: pd.DataFrame, material, *, mass_g: float, radius_m: float, initial_theta: float = 0.97,
             n_shells: int = 40, series_resistance: bool = True, ocv: str = "material", sweeps: int = 2,
             max_points: int = 60,
             d_bounds: tuple[float, float] = (1e-20, 1e-10), level: float = 0.95, intervals: bool = True,
             pulses: pd.DataFrame | None = None, progress=None) -> GittFit:
    """Fit D per pulse of a GITT record with the particle model and kinetics.

    Parameters
    ----------
    df : pandas.DataFrame
        Cycler record (``time_s``, ``voltage_V``, ``current_A``), e.g. from
        :func:`socscope.io.load_cycler`.
    material : Material or str
        Supplies c_max, density, the OCP U(θ) and i0(θ); its D is replaced.
    mass_g : float
        Active mass [g].
    radius_m : float
        Particle radius [m].
    initial_theta : float
        Occupancy at the start of the record.
    n_shells : int
        Radial shells of the sphere.
    series_resistance : bool
        Fit a series resistance (linear nuisance) besides the offset.
    ocv : {"material", "measured"}
        The OCP of the model: the material's U(θ) (with a fitted offset), or
        the record's own relaxed voltages (``E0`` before every pulse and the
        relaxed voltage after the last), interpolated by
        :func:`socscope.materials.tabulated_property` (PCHIP, linear beyond the
        ends): use it when the material's OCP is a stand-in and the pulses are
        small enough that the OCP is close to straight between relaxed points
        (a few mV of interpolation error already bias D by tens of per cent).
    sweeps : int
        Passes over the pulses (see the module docstring).
    max_points : int
        Voltage samples compared per pulse and per relaxation (geometrically
        denser at the start of each).
    d_bounds : (float, float)
        Bounds of D [m²/s].
    level, intervals
        Profile-likelihood intervals (last sweep only).
    pulses : pandas.DataFrame, optional
        From :func:`socscope.analysis.gitt.detect_pulses`.
    progress : callable, optional
        ``progress(done, total)`` after every pulse fit.

    Returns
    -------
    GittFit
    """
    from ..analysis._steps import check_record, radius_metres
    from ..analysis.gitt import detect_pulses, gitt_diffusivity

    mat = as_material(material)
    if mat.U is None:
        raise ParameterError(f"material {mat.name!r} has no OCP U(θ); model-based GITT needs one")
    mass_g = positive_float("mass_g", mass_g, unit=" g", example="8.1e-3")
    radius_m = radius_metres(radius_m)
    n_shells = whole_number("n_shells", n_shells, minimum=5, example=40)
    sweeps = whole_number("sweeps", sweeps, minimum=1, example=2)
    max_points = whole_number("max_points", max_points, minimum=5, example=60)
    if not 0 < initial_theta < 1:
        raise ParameterError(f"initial_theta = {initial_theta!r} must lie in (0, 1)")
    t, v, _ = check_record(df)
    pulses = detect_pulses(df) if pulses is None else pulses
    classic = gitt_diffusivity(df, mass_g=mass_g, molar_mass_g_mol=mat.molar_mass * 1e3,
                               density_g_cm3=mat.density / 1e3, radius_m=radius_m, pulses=pulses)
    # occupancy from the charge of the pulses before (I·τ of each, as the pulse table times them):
    # θ falls by Q / (m c_max F / ρ)
    q_sites = mass_g * 1e-3 / mat.density * mat.c_max * F
    passed = 0.0
    rows, plans = [], []
    for k, p in enumerate(pulses.itertuples()):
        th0 = initial_theta - passed / q_sites
        passed += float(p.current_A) * float(p.tau_s)
        if not (p.constant_current and p.complete):
            continue
        a, b, c = int(p.start), int(p.stop), int(p.relax_stop)
        t0, tau = float(p.t_start_s), float(p.tau_s)
        th1 = th0 - p.current_A * tau / q_sites
        rest = float(t[c - 1] - (t0 + tau))
        ip = np.arange(a, b)[_sample_index(b - a, max_points)]
        ir = np.arange(b, c)[_sample_index(c - b, max_points)]
        idx = np.concatenate([ip, ir])
        ts = t[idx] - t0
        ok = (ts > 0) & (ts <= tau + rest)
        idx, ts = idx[ok], ts[ok]
        tail = v[b + int(0.8 * (c - b)):c]
        vn = noise_sigma(tail) if tail.size >= 3 else math.nan
        vn = max(vn if math.isfinite(vn) else 0.0, MIN_VOLTAGE_NOISE_V)
        spec = p.current_A / mass_g * 1e3
        verb = "Charge" if spec > 0 else "Discharge"
        protocol = [f"{verb} at {abs(spec):.9g} mA/g for {tau:.9g} seconds", f"Rest for {rest:.9g} seconds"]
        cur = np.where(ts <= tau, p.current_A, 0.0)
        plans.append({"pulse": k, "protocol": protocol, "times": ts, "volt": v[idx], "noise": vn, "cur": cur,
                      "theta_start": th0, "theta_end": th1, "theta_mid": 0.5 * (th0 + th1), "tau": tau,
                      "t_start_s": t0, "current_A": float(p.current_A)})
    if not plans:
        raise ParameterError("the record has no complete constant-current pulse with a rest after it to fit")
    if ocv == "measured":
        mat = _measured_ocv(mat, plans, classic)
    elif ocv != "material":
        raise ParameterError(f"ocv = {ocv!r} must be 'material' or 'measured'")
    mids = np.array([pl["theta_mid"] for pl in plans])
    geo = Sphere(radius_m)
    lo_d, hi_d = (float(x) for x in d_bounds)
    guess = classic.set_index(classic.index)["D_sphere"].to_numpy() if "D_sphere" in classic else None
    nodes = np.full(len(plans), math.nan)
    fits = [None] * len(plans)
    total = sweeps * len(plans)
    done = 0
    for sweep in range(sweeps):
        last = sweep == sweeps - 1
        for j, pl in enumerate(plans):
            start = nodes[j] if math.isfinite(nodes[j]) else (nodes[j - 1] if j and math.isfinite(nodes[j - 1]) else None)
            if start is None:
                start = 1e-15
                if guess is not None and j < len(guess) and math.isfinite(guess[j]) and guess[j] > 0:
                    start = float(guess[j])
            start = min(max(start, lo_d * 1.001), hi_d / 1.001)

            def residuals(vals, j=j, pl=pl, sweep=sweep):
                trial = nodes.copy()
                trial[j] = vals["D"]
                if sweep == 0:
                    trial[j + 1:] = vals["D"]
                known = np.isfinite(trial)
                trial_mat = replace(mat, D=_d_property(mids[known], trial[known]), factory=None)
                from ..simulate import simulate_particle

                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", SocscopeWarning)
                        ds = simulate_particle(trial_mat, geo, pl["protocol"], initial_theta=pl["theta_start"],
                                               n_cells=n_shells, output_times=pl["times"], kinetics="butler-volmer")
                except Exception:  # noqa: BLE001 - a failed run is a bad parameter set
                    return np.full(pl["times"].size, np.nan)
                tm = np.asarray(ds["time"].values)
                vi = np.minimum(np.searchsorted(tm, pl["times"] - 1e-9), tm.size - 1)
                e = pl["volt"] - np.asarray(ds["voltage"].values)[vi]
                cols = [np.ones_like(e)] + ([pl["cur"]] if series_resistance else [])
                A = np.column_stack(cols)
                coef, *_ = np.linalg.lstsq(A, e, rcond=None)
                pl["_nuisance"] = coef
                return (e - A @ coef) / pl["noise"]

            par = [Parameter("D", start, (lo_d, hi_d), unit="m2/s")]
            res = least_squares_fit(residuals, par, n_starts=1, intervals=intervals and last, level=level,
                                    max_nfev=30, settings={"pulse": pl["pulse"]})
            nodes[j] = res.parameters[0].value
            fits[j] = res
            if last:
                residuals({"D": nodes[j]})  # the nuisance terms at the optimum
            done += 1
            if progress is not None:
                progress(done, total)
    length = radius_m / 3.0
    for j, pl in enumerate(plans):
        res = fits[j]
        residuals = res.residuals
        coef = pl.get("_nuisance", np.array([math.nan, math.nan]))
        lo_i, hi_i = res.intervals.get("D", (math.nan, math.nan))
        cl = classic.iloc[pl["pulse"]] if pl["pulse"] < len(classic) else None
        d_model = nodes[j] if res.identifiable else math.nan
        rows.append({
            "pulse": pl["pulse"], "t_start_s": pl["t_start_s"], "tau_s": pl["tau"], "current_A": pl["current_A"],
            "theta_start": pl["theta_start"], "theta_end": pl["theta_end"], "theta_mid": pl["theta_mid"],
            "D_model": d_model, "D_lower": lo_i, "D_upper": hi_i, "identifiable": bool(res.identifiable),
            "chi2_reduced": float(residuals @ residuals) / max(residuals.size - 1, 1),
            "voltage_noise_V": pl["noise"], "offset_V": float(coef[0]),
            "R_series_ohm": float(coef[1]) if series_resistance and coef.size > 1 else 0.0,
            "D_classic": float(cl["D_classic"]) if cl is not None else math.nan,
            "D_sphere": float(cl["D_sphere"]) if cl is not None else math.nan,
            "relaxed": bool(cl["relaxed"]) if cl is not None else False,
            "tau_D_over_L2": pl["tau"] * nodes[j] / length ** 2,
        })
    table = pd.DataFrame(rows)
    table["long_pulse"] = table["tau_D_over_L2"] > 0.1
    table["classic_over_model"] = table["D_classic"] / table["D_model"]
    good = np.isfinite(table["D_model"].to_numpy())
    fitted_mat = mat
    if good.sum() >= 1:
        fitted_mat = replace(mat, D=_d_property(table["theta_mid"].to_numpy()[good], table["D_model"].to_numpy()[good]),
                             factory=None, name=f"{mat.name}-gitt-model",
                             description=f"{mat.description}; D(θ) from model-based GITT")
    settings = {"material": mat.name, "mass_g": mass_g, "radius_m": radius_m, "initial_theta": initial_theta,
                "n_shells": n_shells, "series_resistance": series_resistance, "sweeps": sweeps,
                "max_points": max_points, "ocv": ocv, "d_bounds": [lo_d, hi_d], "level": level, "kinetics": "butler-volmer",
                "geometry": f"Sphere(radius={radius_m!r})"}
    return GittFit(table=table, material=fitted_mat, settings=settings, fits=fits)
