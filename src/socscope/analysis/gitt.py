"""Galvanostatic intermittent titration (GITT): pulses in, D(θ) and OCV(θ) out.

:func:`detect_pulses` finds pulse / relaxation pairs in a cycler record (the
schema of :func:`socscope.io.load_cycler`); :func:`gitt_diffusivity`
estimates the diffusivity of every pulse three ways:

* **classic** (Lun et al. eq. 1, Weppner–Huggins):
  ``D = 4/(π τ) · (L)² · (ΔE_s/ΔE_t)²`` with ``L = m V_m / (M S)``, the volume
  per active area (``R/3`` for spheres). Valid for ``τ ≪ L²/D``; even there a
  sphere's curved surface makes it read low.
* **sqrt_t**: the same with ``ΔE_t`` replaced by ``√τ · dE/d√t``, the slope of
  a straight-line fit of the pulse voltage against ``√t`` (first 40 % of the
  pulse, which also removes the IR step: the intercept is ``E(0+)``).
* **sphere**: a least-squares fit of the whole pulse transient to the exact
  constant-flux solution for a sphere of radius ``R``,
  ``E(t) = E(0+) + ΔE_s · R²/(3 τ D) · g(D t / R²)``, with
  ``g(s) = 3 s + 1/5 − 2 Σ exp(−α_n² s)/α_n²`` (``tan α_n = α_n``), fitted for
  ``D`` and ``E(0+)``. Unbiased for spherical particles in any regime.

Definitions. ``E0``: voltage at the end of the relaxation before the pulse
(for the first pulse, the rest before it), the mean of its last five points.
``ΔE_s``: relaxed voltage after the pulse (mean of the last five points of its
relaxation) minus ``E0``. ``ΔE_t``: voltage at the end of the pulse minus
``E(0+)`` from the √t fit (IR step removed). Quality flags: ``short_pulse``
is False when ``τ`` exceeds ``0.1 L²/D_sphere`` (the semi-infinite
assumption of the classic formula fails); ``relaxed`` is False when the last
10 % of the relaxation still drifts by more than ``drift_V`` (1 mV) over the
whole relaxation time; ``complete`` is False when the pulse has no
relaxation after it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._checks import flag, fraction, positive_float, whole_number
from ..errors import ParameterError, SocscopeWarning
from ._steps import charge_times, check_record, clock_times, current_runs, measured_charge, radius_metres

__all__ = ["detect_pulses", "gitt_diffusivity", "gitt_to_material", "sphere_g"]


def detect_pulses(df: pd.DataFrame, *, rest_fraction: float = 1e-3, min_points: int = 3,
                  current_tol: float = 0.02, min_charge_fraction: float = 1e-2) -> pd.DataFrame:
    """Pulse / relaxation pairs of a GITT record.

    A pulse is a current run (one sign, one instrument step; see
    :mod:`socscope.analysis._steps`) of at least ``min_points`` records
    that passes a real net charge: more than ``min_charge_fraction`` (1 %)
    of the largest such run's charge. The charge is the instrument's count
    where the record has one, else the logged current integrated over the
    run. An impedance measurement between pulses oscillates around zero
    current: each of its runs of one sign lasts half a period (seconds)
    at a current no larger than the pulse's, and an instrument's count
    does not move at all, while the pulses of one titration pass similar
    charges (minutes to hours at one current), so 1 % separates them with
    room on both sides. Such runs are left out (their number is in
    ``attrs["left_out"]``) but still end the relaxation before them. Its
    relaxation is the rest up to the next run. A pulse is
    ``constant_current`` when its records (the first and last aside, which
    may catch the switch) stay within ``current_tol`` (2 %) of their median:
    only those are GITT pulses (a CC-CV charge or a cycling record is not).

    Its start and duration come from the instrument's charge count where the
    record has one (exact for a constant current), else from the time stamps
    (the rule in :mod:`socscope.analysis._steps`; ``timing_uncertainty_s``
    bounds the error of ``tau_s``).

    Returns
    -------
    pandas.DataFrame
        One row per pulse: ``start``, ``stop`` (row positions of the pulse,
        stop exclusive), ``relax_stop`` (end of the following relaxation),
        ``current_A``, ``t_start_s``, ``tau_s``, ``relax_s``, ``timing``
        ("charge" or "clock"), ``timing_uncertainty_s``,
        ``constant_current``, ``complete``; ``attrs["left_out"]`` (runs of
        ``min_points`` or more left out for their charge) and
        ``attrs["left_out_note"]`` (one line saying so).
    """
    t, _, i = check_record(df)
    whole_number("min_points", min_points, minimum=2, example=3)
    fraction("current_tol", current_tol, example=0.02)
    fraction("min_charge_fraction", min_charge_fraction, example=0.01)
    runs = current_runs(df, i, rest_fraction)
    if not runs:
        raise ParameterError("the record has no current: no GITT pulses to analyse")
    q = measured_charge(df)
    long_runs = [k for k, (a, b) in enumerate(runs) if b - a >= min_points]
    charge = {k: _run_charge(t, i, q, *runs[k]) for k in long_runs}
    largest = max(charge.values(), default=0.0)
    real = {k for k in long_runs if charge[k] > min_charge_fraction * largest}
    left_out = len(long_runs) - len(real)
    rows = []
    for k, (a, b) in enumerate(runs):
        if k not in real:
            continue
        nxt = runs[k + 1][0] if k + 1 < len(runs) else len(i)
        current = float(np.median(i[a:b]))
        inner = i[a + 1:b - 1] if b - a >= 5 else i[a:b]
        constant = bool(np.max(np.abs(inner - current)) <= current_tol * abs(current))
        times = charge_times(t, q, current, a, b) if (constant and q is not None) else None
        if times is not None:
            (start, end), timing, err = times, "charge", 0.0
        else:
            (start, end, err), timing = clock_times(t, a, b), "clock"
        rows.append({
            "start": a, "stop": b, "relax_stop": int(nxt), "current_A": current,
            "t_start_s": start, "tau_s": end - start,
            "relax_s": float(t[nxt - 1] - end) if nxt > b else 0.0,
            "timing": timing, "timing_uncertainty_s": err,
            "constant_current": constant, "complete": bool(nxt - b >= min_points),
        })
    if not rows:
        raise ParameterError(f"no current pulses of at least {min_points} records found in the record (a GITT "
                             "train alternates pulses and rests)")
    out = pd.DataFrame(rows)
    out.attrs["left_out"] = left_out
    out.attrs["left_out_note"] = (
        f"{left_out} current run(s) passing <= {min_charge_fraction:g} of the largest pulse's charge left out "
        "(impedance or noise)") if left_out else ""
    return out


def _run_charge(t: np.ndarray, i: np.ndarray, q: np.ndarray | None, a: int, b: int) -> float:
    """Net charge [A s] of run ``[a, b)``: the instrument's count, else the logged current over the run's time."""
    if q is not None:
        return abs(float(q[b - 1] - (q[a - 1] if a > 0 else q[a]))) * 3600.0
    # each record stands for the time to the next one (the last for the interval before it)
    dt = np.diff(t[a:b + 1]) if b < t.size else np.diff(t[a:b], append=t[b - 1] + (t[b - 1] - t[b - 2]))
    return abs(float(np.sum(i[a:b] * dt)))


def sphere_g(s: np.ndarray, n_terms: int = 200) -> np.ndarray:
    """``g(s) = 3 s + 1/5 − 2 Σ exp(−α_n² s)/α_n²``: the surface response of a sphere to unit flux.

    ``θ_surface − θ0 = −(q R / D) g(D t / R²)`` for an outward flux ``q``.
    """
    from ..numerics.analytic import sphere_eigenvalues

    s = np.asarray(s, dtype=float)
    alpha = sphere_eigenvalues(n_terms)
    series = np.exp(-np.multiply.outer(s, alpha**2)) / alpha**2
    g = 3 * s + 0.2 - 2 * series.sum(axis=-1)
    # short times: the truncated series misses the √s start; use the
    # semi-infinite limit 2 √(s/π) where it is the better value
    return np.where(s < 1e-3, 2 * np.sqrt(np.maximum(s, 0) / np.pi), g)


def gitt_diffusivity(
    df: pd.DataFrame,
    *,
    mass_g: float,
    molar_mass_g_mol: float,
    density_g_cm3: float | None = None,
    molar_volume_cm3_mol: float | None = None,
    bet_m2_g: float | None = None,
    radius_m: float | None = None,
    capacity_mAh_g: float | None = None,
    drift_V: float = 1e-3,
    pulses: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """D per pulse by the classic, √t and sphere-fit estimates, with OCV and quality flags.

    Parameters
    ----------
    df : pandas.DataFrame
        Record from :func:`socscope.io.load_cycler`.
    mass_g, molar_mass_g_mol : float
        Active mass [g] and molar mass [g/mol].
    density_g_cm3 or molar_volume_cm3_mol : float
        One of the two (V_m = M / ρ).
    bet_m2_g or radius_m : float
        Active area from a BET area per gram, or from spherical particles of
        this radius (S = 3 m / (ρ R)). The sphere fit needs ``radius_m``
        (with BET only, the equivalent radius ``3 V_m/(M a_BET)·M`` is used).
    capacity_mAh_g : float, optional
        Capacity defining the state of charge column (θ from charge passed).
    drift_V : float
        Allowed voltage drift over a relaxation (see ``relaxed``).

    Returns
    -------
    pandas.DataFrame
        Per pulse: ``tau_s``, ``current_A``, ``E0_V``, ``E_relaxed_V``,
        ``dEs_V``, ``dEt_V``, ``soc`` (if a capacity is given), ``D_classic``,
        ``D_sqrt_t``, ``D_sphere`` [m²/s], ``short_pulse``, ``relaxed``,
        ``rest_before``, ``complete``, ``constant_current`` (the D columns
        are NaN for pulses that are incomplete, not at constant current, or
        without a rest before them to give E0) and
        ``timing`` (how τ was found, see :func:`detect_pulses`).
    """
    from scipy.optimize import least_squares

    mass_g = positive_float("mass_g", mass_g, unit=" g", example="8.1e-3 (8.1 mg of active material)")
    molar_mass_g_mol = positive_float("molar_mass_g_mol", molar_mass_g_mol, unit=" g/mol", example="96.5 (NMC532)")
    if molar_volume_cm3_mol is None:
        if density_g_cm3 is None:
            raise ParameterError("give density_g_cm3 (e.g. 4.7) or molar_volume_cm3_mol")
        density_g_cm3 = positive_float("density_g_cm3", density_g_cm3, unit=" g/cm³", example="4.7")
        molar_volume_cm3_mol = molar_mass_g_mol / density_g_cm3
    molar_volume_cm3_mol = positive_float("molar_volume_cm3_mol", molar_volume_cm3_mol, unit=" cm³/mol",
                                          example="20.5")
    drift_V = positive_float("drift_V", drift_V, unit=" V", example="1e-3")
    if capacity_mAh_g is not None:
        capacity_mAh_g = positive_float("capacity_mAh_g", capacity_mAh_g, unit=" mAh/g", example="160")
    vm = molar_volume_cm3_mol * 1e-6  # m³/mol
    n_mol = mass_g / molar_mass_g_mol
    volume = n_mol * vm  # m³ of active material
    if radius_m is not None:
        radius_m = radius_metres(radius_m)
        area = 3 * volume / radius_m
    elif bet_m2_g is not None:
        bet_m2_g = positive_float("bet_m2_g", bet_m2_g, unit=" m²/g", example="0.6")
        area = bet_m2_g * mass_g
        radius_m = 3 * volume / area
    else:
        raise ParameterError("give the active area: bet_m2_g (m²/g) or radius_m (particle radius in m)")
    length = volume / area  # m V_m / (M S)
    t, v, _ = check_record(df)
    pulses = detect_pulses(df) if pulses is None else pulses
    missing = [c for c in ("start", "stop", "relax_stop", "current_A", "t_start_s", "tau_s", "constant_current",
                           "complete") if c not in getattr(pulses, "columns", ())]
    if missing:
        raise ParameterError(f"pulses lacks columns {missing}; pass the table of detect_pulses (or leave it out)")
    q = df["capacity_Ah"].to_numpy(float) if "capacity_Ah" in df.columns else None
    rows = []
    prev_stop = 0
    for _, p in pulses.iterrows():
        a, b, c = int(p.start), int(p.stop), int(p.relax_stop)
        # relaxed voltages: mean of the last (up to) 5 rest points, which
        # averages the instrument noise of a single reading
        # no rest sample before the pulse (it starts the record, or follows another
        # pulse at once): there is no relaxed E0, only a voltage under current
        rested = a > prev_stop
        e0 = float(np.mean(v[max(prev_stop, a - 5):a])) if rested else np.nan
        prev_stop = b
        t0, tau = float(p.t_start_s), float(p.tau_s)
        tp = t[a:b] - t0
        ep = v[a:b]
        early = tp <= 0.4 * tau
        if early.sum() < 2:
            early = np.arange(tp.size) < max(2, tp.size // 2)
        slope, e_plus = np.polyfit(np.sqrt(tp[early]), ep[early], 1)
        d_et = ep[-1] - e_plus
        if p.complete:
            e_rel = float(np.mean(v[max(b, c - 5):c]))
            tail = slice(b + int(0.9 * (c - b)), c)
            tr, er = t[tail], v[tail]
            drift = abs(np.polyfit(tr, er, 1)[0]) * (t[c - 1] - t[b - 1]) if tr.size >= 2 else np.inf
            relaxed = bool(drift <= drift_V)
        else:
            e_rel, relaxed = np.nan, False
        d_es = e_rel - e0
        # D needs a complete constant-current pulse whose voltage moved (a flat transient divides by 0)
        usable = bool(rested and p.complete and p.constant_current and d_et != 0 and slope != 0)
        pref = 4.0 / np.pi * length**2
        d_classic = pref / tau * (d_es / d_et) ** 2 if usable else np.nan
        d_sqrt = pref / tau * (d_es / (slope * np.sqrt(tau))) ** 2 if usable else np.nan
        d_sphere = np.nan
        if usable and np.isfinite(d_classic) and d_es != 0:
            R = radius_m

            def resid(x):
                d = 10.0 ** x[0]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = x[1] + d_es * R**2 / (3 * tau * d) * sphere_g(d * tp / R**2)
                return (model - ep) / max(abs(d_et), 1e-12)

            guess = np.log10(max(d_classic, 1e-30))
            fit = least_squares(resid, x0=[guess, e_plus], x_scale=[1.0, abs(d_et) + 1e-6])
            d_sphere = 10.0 ** fit.x[0]
        row = {
            "tau_s": tau, "current_A": p.current_A, "E0_V": e0, "E_relaxed_V": e_rel,
            "dEs_V": d_es, "dEt_V": d_et, "D_classic": d_classic, "D_sqrt_t": d_sqrt, "D_sphere": d_sphere,
            "short_pulse": bool(np.isfinite(d_sphere) and tau <= 0.1 * length**2 / d_sphere),
            "relaxed": relaxed, "rest_before": rested, "complete": bool(p.complete),
            "constant_current": bool(p.constant_current),
            "timing": p.get("timing", "given"),
        }
        if q is not None and capacity_mAh_g:
            row["soc"] = float((q[b - 1] - q[0]) * 1e3 / (capacity_mAh_g * mass_g))
        rows.append(row)
    table = pd.DataFrame(rows)
    # what the pulse detection left out (impedance, noise) travels with the table
    table.attrs.update({k: pulses.attrs[k] for k in ("left_out", "left_out_note") if k in pulses.attrs})
    if table.empty or not np.isfinite(table[["D_classic", "D_sqrt_t", "D_sphere"]].to_numpy(float)).any():
        raise ParameterError(
            f"no GITT pulse gives a diffusivity ({len(table)} pulse(s) found, none a complete constant-current "
            "pulse after a rest and followed by one); is this a GITT record? A galvanostatic cycling record goes "
            "to socscope.analysis.cycle_summary")
    if "soc" in table and np.nanmax(np.abs(table["soc"].to_numpy(float))) > 1.5:
        worst = float(np.nanmax(np.abs(table["soc"].to_numpy(float))))
        raise ParameterError(
            f"the pulses pass {worst:.3g} times the capacity (mass_g={mass_g:g} g, capacity_mAh_g="
            f"{capacity_mAh_g:g}); an electrode cannot give more than its capacity: is the mass in grams "
            f"(8.1 mg is mass_g=8.1e-3)?")
    return table


def gitt_to_material(table: pd.DataFrame, base, *, estimate: str = "D_sphere", alpha: float = 1.0,
                     name: str | None = None, initial_theta: float = 1.0, use_flagged: bool = False):
    """A :class:`~socscope.materials.Material` whose D(θ) and U(θ) come from a GITT table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`gitt_diffusivity`, with its ``soc`` column.
    base : Material
        Supplies the scalars (c_max, density, capacity, molar mass) and
        i0/σ; its U is replaced only where the table gives relaxed voltages.
    estimate : {"D_sphere", "D_classic", "D_sqrt_t"}
        Which estimate to tabulate.
    use_flagged : bool
        Build the material even when every pulse is flagged as too long
        (``short_pulse`` False) or not relaxed (``relaxed`` False); without
        it such a table is refused. Flagged pulses among good ones are kept,
        with a warning that counts them.
    alpha : float
        Scale factor, D_app = α D (as Xu et al. use).
    initial_theta : float
        Occupancy at the start of the titration: θ = initial_theta − soc ×
        (practical / theoretical capacity).

    Returns
    -------
    Material
    """
    from ..materials import Material, tabulated_property

    if "soc" not in table.columns:
        raise ParameterError("the GITT table has no 'soc' column: pass capacity_mAh_g to gitt_diffusivity")
    if estimate not in ("D_sphere", "D_classic", "D_sqrt_t"):
        raise ParameterError(f"estimate = {estimate!r} must be D_sphere, D_classic or D_sqrt_t")
    if not (np.isfinite(alpha) and alpha > 0):
        raise ParameterError(f"alpha = {alpha!r} must be > 0")
    use_flagged = flag("use_flagged", use_flagged)
    ok = table[np.isfinite(table[estimate]) & (table[estimate] > 0) & np.isfinite(table["E_relaxed_V"])]
    if {"short_pulse", "relaxed"} <= set(ok.columns):
        good = ok.short_pulse.astype(bool) & ok.relaxed.astype(bool)
        n_bad = int((~good).sum())
        why = (f"{int((~ok.short_pulse.astype(bool)).sum())} too long for the particle (short_pulse False), "
               f"{int((~ok.relaxed.astype(bool)).sum())} not relaxed")
        if n_bad and int(good.sum()) == 0 and not use_flagged:
            raise ParameterError(
                f"all {n_bad} usable pulses are flagged ({why}); a material built from them misstates D: use "
                "shorter pulses or longer rests, or pass use_flagged=True (--use-flagged) to build it anyway")
        if n_bad:
            warnings.warn(f"gitt_to_material: {n_bad} of the {len(ok)} pulses tabulated are flagged ({why}); their "
                          "D is less reliable (gitt.csv marks them)", SocscopeWarning, stacklevel=2)
    if len(ok) < 2:
        raise ParameterError(f"the GITT table has {len(ok)} usable pulse(s); a material table needs at least 2")
    theta = initial_theta - ok["soc"].to_numpy() * base.capacity / base.theoretical_capacity
    outside = theta[(theta < 0) | (theta > 1)]
    if outside.size:
        kind = "a discharge (lithiating) titration" if np.nanmean(ok["soc"]) < 0 else "the titration"
        raise ParameterError(
            f"{kind} from initial_theta={initial_theta:g} reaches θ = {float(outside[0]):.3g}, outside [0, 1]; pass "
            "initial_theta, the occupancy where the titration started (e.g. 0.3 for a discharge after a full "
            "charge)")
    order = np.argsort(theta)
    theta, d, u = theta[order], ok[estimate].to_numpy()[order] * alpha, ok["E_relaxed_V"].to_numpy()[order]
    keep = np.concatenate([[True], np.diff(theta) > 1e-9])
    theta, d, u = theta[keep], d[keep], u[keep]
    if np.any(np.diff(u) >= 0):
        # relaxed voltages must fall with θ for an OCP; keep the base U otherwise
        u_prop = base.U
    else:
        u_prop = tabulated_property("U", theta, u, source="GITT relaxed voltages")
    d_prop = tabulated_property("D", theta, d, source=f"GITT {estimate} x alpha={alpha:g}")
    return Material(
        name=name or f"{base.name}-gitt", description=f"{base.description}; D(θ) and OCV from GITT",
        source=f"GITT analysis ({estimate}); scalars from {base.name}", c_max=base.c_max, density=base.density,
        capacity=base.capacity, molar_mass=base.molar_mass, U=u_prop, D=d_prop, i0=base.i0, sigma=base.sigma,
        parameters={"alpha": float(alpha)}, temperature=base.temperature,
    )
