"""Comparisons with Xu et al. (Joule 2022): kinetically induced Li heterogeneity in single-crystal Ni-rich NMC.

One parameter set for every row (the alpha sweep aside):

* material ``ni88-xu2022`` with α = 2.7, the value Xu et al. (Joule 2022) found best at C/3
  (D_app ≈ 1e-14 cm²/s near full lithiation; D(θ) shaped like a fit to
  measured NMC811 diffusivities); U(θ) is a measured NMC811 OCP on x in
  Li_xMO2, a stand-in (the paper gives no OCP table), i0 ∝ sqrt(θ(1 − θ));
* a disc of diameter 2 µm: Xu et al.'s particles are ~2 µm single crystals
  whose Li moves in the ab-plane (Fig. 1B–C, Fig. 3A);
* initial θ = 0.97: Xu et al. (Joule 2022) Fig. 4A estimates ~97 % lithiation from the OCV
  (~3.5 V) after a 2 h hold at 3 V; the stand-in OCP gives U(0.97) ≈ 3.55 V;
* Butler–Volmer kinetics (the default) so that charges end at 4.3 V and
  discharges at 3.0 V as in the experiments; the centre-lag comparison
  uses the constant-flux transport model of (Xu et al., Joule 2022)'s own finite-element
  simulations (kinetics off), because its constant-D twin has no OCP;
* C-rates on the practical capacity, 210 mAh/g (C/3 = 70 mA/g, (Xu et al., Joule 2022)).

Periphery: cells within 0.2 R of the surface; core: cells deeper than
0.6 R (:mod:`socscope.observe.heterogeneity`). "p−c" below is the mean θ of
the periphery minus that of the core (negative: Li-poor periphery).
"""

from __future__ import annotations

import math

import numpy as np

from . import Row

__all__ = ["run", "make_figures", "FIGURES", "TITLE", "SETTINGS"]

TITLE = "socscope against Xu et al. (Joule 2022) (single-crystal LiNi0.88Mn0.05Co0.07O2)"
COMMAND = "socscope validate xu2022"
FIGURES = ("theta_maps_rates.png", "centre_traces.png", "voltage_capacity.png", "periphery_core_sweeps.png",
           "charge_rest.png")

#: settings shared by every row
SETTINGS = {
    "material": "ni88-xu2022",
    "alpha": 2.7,
    "geometry": "disc, diameter 2 µm (ab-plane cross-section), polar grid",
    "initial_theta": 0.97,
    "c_rate_basis_mAh_g": 210.0,
    "kinetics": "Butler-Volmer (alpha_a = alpha_c = 0.5) except the centre-lag runs (constant flux)",
    "resolution_m": {"full": 34.7e-9, "quick": 100e-9},
    "rtol": {"full": 1e-5, "quick": 1e-4},
    "periphery": "cells within 0.2 R of the surface; core: deeper than 0.6 R",
}
DIAMETER = 2e-6
THETA0 = 0.97
ALPHA = 2.7
RATES = (("C/30", 1 / 30), ("C/3", 1 / 3), ("1C", 1.0), ("2C", 2.0))
SIZES_UM = (1.0, 2.0, 4.0)
ALPHAS = (1.0, 2.7, 5.0, 20.0)
#: mean θ at which the core–shell is compared across runs: 12 % of the
#: sites emptied from 0.97 (~33 mAh/g; ~28 min at C/3, between the 25 and
#: 35 min images of (Xu et al., Joule 2022) Fig. 2B)
THETA_CMP = 0.85
LAG_DROP = 0.01  # centre-θ drop that marks the arrival of delithiation at the centre
LAG_MINUTES = 120  # length of the constant-flux C/3 charge of the centre-lag comparison


def _f(v, fmt="+.3f") -> str:
    return "n/a" if v is None or not np.isfinite(v) else format(v, fmt)


def _first_below(t, y, level) -> float:
    """First time [same units as t] where ``y`` falls below ``level`` (linear interpolation); NaN if never."""
    idx = np.nonzero(y < level)[0]
    if idx.size == 0:
        return math.nan
    k = int(idx[0])
    if k == 0:
        return float(t[0])
    return float(t[k - 1] + (level - y[k - 1]) * (t[k] - t[k - 1]) / (y[k] - y[k - 1]))


def _lag_text(v: dict) -> str:
    if np.isfinite(v["lag_min"]):
        return f"{v['lag_min']:.1f} min"
    return f"> {v['window_min']:.0f} min (the run's end)"


def _charge_part(ds, step: int = 0):
    return ds.isel(time=np.nonzero(ds.step.values == step)[0])


def _at_mean(ds, var: str, target: float, step: int = 0) -> float:
    """``var`` where the mean θ of a charge step passes ``target`` (NaN if it never does)."""
    part = _charge_part(ds, step)
    m = part.theta_mean.values
    if not (m.min() <= target <= m.max()):
        return math.nan
    return float(np.interp(target, m[::-1], part[var].values[::-1]))


def _peak_pc(ds, step: int = 0) -> float:
    return float(_charge_part(ds, step).theta_periphery_minus_core.min())


def _end(ds, var: str, step: int = 0) -> float:
    return float(_charge_part(ds, step)[var].values[-1])


def _constant_d_material(d: float, label: str):
    from ..materials import Material, Property, get

    ref = get("ni88-xu2022")
    return Material(
        name=f"constant-D {d:.3g} m2/s", description=f"ni88-xu2022 scalars with a constant diffusivity ({label})",
        source="validation twin of ni88-xu2022", c_max=ref.c_max, density=ref.density, capacity=ref.capacity,
        molar_mass=ref.molar_mass, U=None,
        D=Property("D", "m2/s", lambda th, d=d: np.full(np.shape(th), d), source=label),
        i0=None, sigma=None,
    )


class _Runner:
    def __init__(self, quick: bool):
        from ..numerics import SolverOptions

        self.quick = quick
        self.res = SETTINGS["resolution_m"]["quick" if quick else "full"]
        self.solver = SolverOptions(rtol=SETTINGS["rtol"]["quick" if quick else "full"])
        # samples per nominal charge time: every sample of a run with kinetics
        # solves the surface state again, so the quick mode keeps fewer
        self.n_out = 150 if quick else 400

    def __call__(self, material, protocol, *, diameter=DIAMETER, output_interval=60.0, kinetics="auto",
                 resolution=None):
        from ..geometry import Disc
        from ..simulate import simulate_particle

        return simulate_particle(
            material, Disc(diameter), list(protocol), initial_theta=THETA0,
            resolution=resolution or self.res * diameter / DIAMETER, kinetics=kinetics,
            output_interval=output_interval, solver=self.solver)


#: the named alternatives of the material's unknowns (``--sensitivity``): keyword
#: arguments of ``socscope.materials.get("ni88-xu2022", ...)``; the first is the shipped choice
ALTERNATIVES = {
    "shipped (ocp zhuo2023, D karanth-weijers2024)": {},
    "ocp chen2020-mapped": {"ocp": "chen2020-mapped"},
    "ocp chen2020 (unmapped)": {"ocp": "chen2020"},
    "D logistic-xu2022": {"diffusivity": "logistic-xu2022"},
    "D flat": {"diffusivity": "flat"},
    "D divacancy": {"diffusivity": "divacancy"},
    "D ecker2015": {"diffusivity": "ecker2015"},
}
#: what each row would need that no public source gives (stated in the sensitivity table)
OUT_OF_REACH = {
    "a2": "Xu et al. (Joule 2022) Fig. 3B (the measured D_app(θ) below θ ≈ 0.8)",
    "a3": "Xu et al. (Joule 2022) Fig. 3B (where D_app starts to rise sets how long the core stays at 0.97)",
    "b": "Xu et al. (Joule 2022) Fig. 3B",
    "c": "Xu et al. (Joule 2022) Fig. 3B",
    "d1": "Xu et al. (Joule 2022) Fig. 3B and the definition of its 'SoC difference'",
    "f2": "Xu et al. (Joule 2022) Fig. 3B",
    "h1": "the OCP of this Ni0.88 material (not published)",
    "h2": "the OCP of this Ni0.88 material (not published)",
    "h3": "the OCP of this Ni0.88 material (not published)",
}


def run(*, quick: bool = False, report=lambda row: None, material_options: dict | None = None) -> dict:
    """Run the simulations and measure every row (see the module docstring).

    ``material_options``: named choices for ``ni88-xu2022`` (see
    :data:`ALTERNATIVES`); the shipped ones by default.
    """
    from ..materials import get
    from ..observe import cycle_summary

    opts = dict(material_options or {})
    sim = _Runner(quick)
    mat = get("ni88-xu2022", **opts).with_parameters(alpha=ALPHA)
    rows: list[Row] = []

    def add(row: Row) -> None:
        rows.append(row)
        report(row)

    # -- (a) core–shell on charge at four rates, to 4.3 V --------------------
    charge = {}
    for name, n in RATES:
        charge[name] = sim(mat, [f"Charge at {name} until 4.3 V"], output_interval=3600.0 / n / sim.n_out)
    pc_cmp = {k: _at_mean(ds, "theta_periphery_minus_core", THETA_CMP) for k, ds in charge.items()}
    add(Row(
        "a1", "(Xu et al., Joule 2022) Figs. 2–3, S8–S11",
        "Li-poor periphery and Li-rich core at the beginning of charge at every rate from C/30 to 2C",
        f"p−c at mean θ = {THETA_CMP}: " + ", ".join(f"{k} {_f(v)}" for k, v in pc_cmp.items()),
        f"p−c < −0.02 at mean θ = {THETA_CMP} for all four rates",
        all(v < -0.02 for v in pc_cmp.values()), COMMAND,
        {"theta_compare": THETA_CMP, "periphery_minus_core": pc_cmp}))
    pc_end = {k: _end(ds, "theta_periphery_minus_core") for k, ds in charge.items()}
    cap_end = {k: _end(ds, "specific_capacity") for k, ds in charge.items()}
    add(Row(
        "a2", "(Xu et al., Joule 2022) Discussion, Fig. 5",
        "the front reaches the centre and the particle is uniform for the rest of the charge",
        "at 4.3 V: " + ", ".join(f"{k} p−c {_f(pc_end[k])} after {cap_end[k]:.0f} mAh/g" for k in pc_end),
        "|p−c| < 0.05 at the end of the charge at C/30 and C/3",
        abs(pc_end["C/30"]) < 0.05 and abs(pc_end["C/3"]) < 0.05, COMMAND,
        {"periphery_minus_core_end": pc_end, "charge_capacity_mAh_g": cap_end}))
    c3 = charge["C/3"]
    tl = {m: float(np.interp(m * 60.0, c3.time.values, c3.theta_periphery_minus_core.values)) for m in (5, 15, 25, 35)}
    centre35 = float(np.interp(35 * 60.0, c3.time.values, c3.theta_centre.values))
    add(Row(
        "a3", "(Xu et al., Joule 2022) Fig. 2A–B (C/3)",
        "periphery Li-poor after 5 min, core lagging at 15 and 25 min, contrast reasonably uniform after 35 min",
        "p−c at 5/15/25/35 min: " + "/".join(_f(v) for v in tl.values()) + f"; centre θ at 35 min {centre35:.3f}",
        "p−c(5 min) < −0.02 and |p−c(35 min)| < 0.05",
        tl[5] < -0.02 and abs(tl[35]) < 0.05, COMMAND,
        {"periphery_minus_core_by_minute": tl, "centre_theta_35min": centre35}))

    # -- (b) centre lag: ni88 against constant D (constant flux, (Xu et al., Joule 2022) model) --
    d_plateau = float(mat.D(0.5))
    d_mid = float(mat.D(0.87))
    lag_mats = {
        "ni88 D(θ)": mat,
        f"constant D = D(0.5) = {d_plateau:.2g} m²/s": _constant_d_material(d_plateau, "ni88 D at θ = 0.5"),
        f"constant D = D(0.87) = {d_mid:.2g} m²/s": _constant_d_material(d_mid, "ni88 D at θ = 0.87"),
    }
    lag_runs, lag = {}, {}
    for k, m in lag_mats.items():
        ds = sim(m, [f"Charge at C/3 for {LAG_MINUTES} minutes or until surface theta 0.01"], output_interval=30.0,
                 kinetics="none")
        lag_runs[k] = ds
        t, c, mean = ds.time.values, ds.theta_centre.values, ds.theta_mean.values
        mean_rate = (mean[0] - mean[-1]) / (t[-1] - t[0])
        w = 4  # 2-minute windows
        rates = (c[:-w] - c[w:]) / (t[w:] - t[:-w])
        c_half = float(np.interp(t[-1] / 2, t, c))
        lag[k] = {
            "lag_min": _first_below(t, c, c[0] - LAG_DROP) / 60.0,
            # NaN when the run is shorter than one window (a surface that empties at once)
            "max_centre_rate_over_mean_rate": float(rates.max() / mean_rate) if rates.size and mean_rate > 0
            else math.nan,
            "drop_first_half": float(c[0] - c_half), "drop_second_half": float(c_half - c[-1]),
            "window_min": float(t[-1] / 60.0),
        }
    keys = list(lag_mats)
    ours = "; ".join(
        f"{k}: lag {_lag_text(v)}, max centre rate {v['max_centre_rate_over_mean_rate']:.2f}× mean, "
        f"centre drop 1st/2nd half of {v['window_min']:.0f} min {v['drop_first_half']:.3f}/{v['drop_second_half']:.3f}"
        for k, v in lag.items())
    add(Row(
        "b", "(Xu et al., Joule 2022) Fig. 3F, S13, S15",
        "the centre lags behind the start of charge with a non-linear trace; a constant D gives a linear centre "
        "trace",
        ours,
        "ni88: max centre rate > 2× the mean rate (delayed, then accelerating) and lag longer than with "
        "D(0.5); constant D: max centre rate ≤ 1.1× mean (no acceleration)",
        lag[keys[0]]["max_centre_rate_over_mean_rate"] > 2.0
        and lag[keys[0]]["lag_min"] > lag[keys[1]]["lag_min"]
        and all(lag[k]["max_centre_rate_over_mean_rate"] <= 1.1 for k in keys[1:]), COMMAND,
        {"centre_lag": lag, "lag_drop": LAG_DROP}))

    # -- (c) charge–rest ------------------------------------------------------
    rest = sim(mat, ["Charge at C/3 for 20 minutes", "Rest for 1 hour"], output_interval=30.0)
    r_end, r_rest = _end(rest, "theta_range", 0), _end(rest, "theta_range", 1)
    pc_e, pc_r = _end(rest, "theta_periphery_minus_core", 0), _end(rest, "theta_periphery_minus_core", 1)
    add(Row(
        "c", "(Xu et al., Joule 2022) Fig. 2C–D",
        "20 min of C/3 then rest: the heterogeneity disappears and the particle is uniform by the end of the rest",
        f"θ max−min {r_end:.3f} at the end of charge, {r_rest:.3f} after 1 h rest ({100 * (1 - r_rest / r_end):.0f} % "
        f"smaller); p−c {_f(pc_e)} → {_f(pc_r)}; centre θ {_end(rest, 'theta_centre', 1):.3f}",
        "θ max−min < 0.05 after the rest", r_rest < 0.05, COMMAND,
        {"range_end_charge": r_end, "range_after_rest": r_rest, "pc_end_charge": pc_e, "pc_after_rest": pc_r}))

    # -- (d) rate dependence ----------------------------------------------------
    peak = {k: _peak_pc(ds) for k, ds in charge.items()}
    add(Row(
        "d1", "(Xu et al., Joule 2022) Practical implications, fig. S11; the project's model notes (docs/numerics.md)",
        "periphery–core SoC difference as large as 20–30 % at 1C–2C",
        "largest |p−c| during the charge: " + ", ".join(f"{k} {-v:.3f}" for k, v in peak.items()),
        "largest |p−c| at 1C and at 2C within [0.20, 0.30]",
        all(0.20 <= -peak[k] <= 0.30 for k in ("1C", "2C")), COMMAND, {"peak_periphery_minus_core": peak}))
    order = [-peak[k] for k, _ in RATES]
    add(Row(
        "d2", "(Xu et al., Joule 2022) Fig. 3 text, S8–S11",
        "the heterogeneity grows with the C-rate",
        "largest |p−c|: " + " < ".join(f"{v:.3f}" for v in order) + " (C/30, C/3, 1C, 2C)"
        if all(np.diff(order) > 0) else "largest |p−c| (C/30, C/3, 1C, 2C): " + ", ".join(f"{v:.3f}" for v in order),
        "largest |p−c| increases from C/30 to C/3 to 1C to 2C", bool(np.all(np.diff(order) > 0)), COMMAND,
        {"peak_abs_periphery_minus_core": dict(zip([k for k, _ in RATES], order))}))

    # -- (e) particle size -----------------------------------------------------
    size_runs = {2.0: charge["C/3"]}
    for d in SIZES_UM:
        if d not in size_runs:
            size_runs[d] = sim(mat, ["Charge at C/3 until 4.3 V"], diameter=d * 1e-6,
                               output_interval=3.0 * 3600.0 / sim.n_out)
    size_runs = dict(sorted(size_runs.items()))
    size_peak = {d: -_peak_pc(ds) for d, ds in size_runs.items()}
    size_cap = {d: _end(ds, "specific_capacity") for d, ds in size_runs.items()}
    add(Row(
        "e", "(Xu et al., Joule 2022) Fig. 3 text, S13–S14",
        "smaller particles show less pronounced heterogeneity",
        "C/3, largest |p−c|: " + ", ".join(f"{d:g} µm {v:.3f}" for d, v in size_peak.items())
        + "; charge to 4.3 V: " + ", ".join(f"{size_cap[d]:.0f}" for d in size_cap) + " mAh/g",
        "largest |p−c| increases with the diameter (1 < 2 < 4 µm)",
        bool(np.all(np.diff(list(size_peak.values())) > 0)), COMMAND,
        {"peak_abs_periphery_minus_core": size_peak, "charge_capacity_mAh_g": size_cap}))

    # -- (f) alpha ---------------------------------------------------------------
    alpha_runs = {ALPHA: charge["C/3"]}
    for a in ALPHAS:
        if a not in alpha_runs:
            alpha_runs[a] = sim(get("ni88-xu2022", **opts).with_parameters(alpha=a), ["Charge at C/3 until 4.3 V"],
                                output_interval=3.0 * 3600.0 / sim.n_out)
    alpha_runs = dict(sorted(alpha_runs.items()))
    a_peak = {a: -_peak_pc(ds) for a, ds in alpha_runs.items()}
    a_cmp = {a: _at_mean(ds, "theta_periphery_minus_core", THETA_CMP) for a, ds in alpha_runs.items()}
    add(Row(
        "f1", "(Xu et al., Joule 2022) Fig. 3 text, S12",
        "the Li-poor periphery appears for every α in 1 ≤ α ≤ 5",
        "C/3, largest |p−c|: " + ", ".join(f"α={a:g} {a_peak[a]:.3f}" for a in a_peak if a <= 5),
        "largest |p−c| > 0.10 for α = 1, 2.7 and 5",
        all(a_peak[a] > 0.10 for a in a_peak if a <= 5), COMMAND,
        {"peak_abs_periphery_minus_core": a_peak, "periphery_minus_core_at_theta_compare": a_cmp}))
    big = max(ALPHAS)
    add(Row(
        "f2", "(Xu et al., Joule 2022) Fig. 3 text, S12",
        "for larger α diffusion is fast enough that the particle delithiates approximately uniformly",
        f"C/3, α = {big:g}: largest |p−c| {a_peak[big]:.3f} (α = 5: {a_peak[5.0]:.3f})",
        f"largest |p−c| < 0.05 at α = {big:g}", a_peak[big] < 0.05, COMMAND,
        {"alpha": big, "peak_abs_periphery_minus_core": a_peak[big]}))

    # -- (g, h) full cycles: CC charge, CC discharge, 2 h hold at 3.0 V ---------
    ce_runs, ce = {}, {}
    for name, n in (("C/3", 1 / 3), ("1C", 1.0)):
        ds = sim(mat, [f"Charge at {name} until 4.3 V", f"Discharge at {name} until 3.0 V",
                       "Hold at 3.0 V for 2 hours"], output_interval=3600.0 / n / sim.n_out * 2)
        ce_runs[name] = ds
        s = cycle_summary(ds).iloc[0]
        ce[name] = {
            "charge_mAh_g": float(s.charge_mAh_g), "discharge_cc_mAh_g": float(s.discharge_cc_mAh_g),
            "discharge_cv_mAh_g": float(s.discharge_cv_mAh_g), "discharge_mAh_g": float(s.discharge_mAh_g),
            "ce_cc": float(s.coulombic_efficiency_cc), "ce_hold": float(s.coulombic_efficiency),
            "pc_end_cc_discharge": _end(ds, "theta_periphery_minus_core", 1),
            "surface_end_cc_discharge": _end(ds, "theta_surface", 1),
            "centre_end_cc_discharge": _end(ds, "theta_centre", 1),
            "mean_end_cc_discharge": _end(ds, "theta_mean", 1),
            "mean_end_hold": _end(ds, "theta_mean", 2),
        }
    add(Row(
        "g", "(Xu et al., Joule 2022) Fig. 4B, S16–S17",
        "at the end of CC discharge a thin Li-rich rim and a Li-poor core remain",
        "; ".join(f"{k}: p−c {_f(v['pc_end_cc_discharge'])} (surface θ {v['surface_end_cc_discharge']:.3f}, "
                  f"centre {v['centre_end_cc_discharge']:.3f}, mean {v['mean_end_cc_discharge']:.3f})"
                  for k, v in ce.items()),
        "p−c > +0.02 at the end of CC discharge at C/3 and 1C",
        all(v["pc_end_cc_discharge"] > 0.02 for v in ce.values()), COMMAND,
        {k: {q: v[q] for q in ("pc_end_cc_discharge", "surface_end_cc_discharge", "centre_end_cc_discharge",
                               "mean_end_cc_discharge")} for k, v in ce.items()}))
    c = ce["C/3"]
    add(Row(
        "h1", "(Xu et al., Joule 2022) Fig. 1E text",
        "C/3: CC charge 229.0, CC discharge 192.4 mAh/g, 2 h hold at 3 V +16.4 mAh/g",
        f"charge {c['charge_mAh_g']:.1f}, CC discharge {c['discharge_cc_mAh_g']:.1f}, hold "
        f"+{c['discharge_cv_mAh_g']:.1f} mAh/g",
        "charge and CC discharge capacity within 10 % of theirs",
        abs(c["charge_mAh_g"] / 229.0 - 1) < 0.10 and abs(c["discharge_cc_mAh_g"] / 192.4 - 1) < 0.10, COMMAND,
        {k: c[k] for k in ("charge_mAh_g", "discharge_cc_mAh_g", "discharge_cv_mAh_g")}))
    for rid, name, (their_cc, their_hold), where in (("h2", "C/3", (0.840, 0.912), "(Xu et al., Joule 2022) Fig. 1E text"),
                                                     ("h3", "1C", (0.823, 0.943), "(Xu et al., Joule 2022) Fig. 4A text")):
        v = ce[name]
        add(Row(
            rid, where,
            f"{name}: first-cycle CE {100 * their_cc:.1f} % (CC only) → {100 * their_hold:.1f} % with a 2 h hold "
            "at 3 V",
            f"CE {100 * v['ce_cc']:.1f} % (CC only) → {100 * v['ce_hold']:.1f} % with the hold (charge "
            f"{v['charge_mAh_g']:.1f}, CC discharge {v['discharge_cc_mAh_g']:.1f}, hold +{v['discharge_cv_mAh_g']:.1f} "
            "mAh/g)",
            "both CEs within ±5 percentage points of theirs",
            abs(v["ce_cc"] - their_cc) < 0.05 and abs(v["ce_hold"] - their_hold) < 0.05, COMMAND,
            {k: v[k] for k in ("ce_cc", "ce_hold", "charge_mAh_g", "discharge_cc_mAh_g", "discharge_cv_mAh_g")}))
    rec = {k: (v["ce_hold"] - v["ce_cc"]) / (1 - v["ce_cc"]) for k, v in ce.items()}
    their_rec = {"C/3": (0.912 - 0.840) / (1 - 0.840), "1C": (0.943 - 0.823) / (1 - 0.823)}
    add(Row(
        "h4", "(Xu et al., Joule 2022) Figs. 1E, 4; Discussion",
        "CC discharge stops short of the charge (first-cycle loss ≥ 10 %); the CV hold recovers much of it "
        f"({100 * their_rec['C/3']:.0f} % of the CC loss at C/3, {100 * their_rec['1C']:.0f} % at 1C)",
        "; ".join(f"{k}: CC loss {100 * (1 - v['ce_cc']):.1f} %, hold recovers {100 * rec[k]:.0f} % of it"
                  for k, v in ce.items()),
        "CC loss ≥ 10 % and the hold recovers ≥ 40 % of it, at C/3 and 1C",
        all(1 - v["ce_cc"] >= 0.10 and rec[k] >= 0.40 for k, v in ce.items()), COMMAND,
        {"recovered_fraction": rec, "their_recovered_fraction": their_rec}))

    order_ids = ["a1", "a2", "a3", "b", "c", "d1", "d2", "e", "f1", "f2", "g", "h1", "h2", "h3", "h4"]
    rows.sort(key=lambda r: order_ids.index(r.id))
    settings = dict(SETTINGS, resolution_used_m=sim.res, rtol_used=sim.solver.rtol,
                    theta_compare=THETA_CMP, d_plateau_m2_s=d_plateau, d_mid_m2_s=d_mid)
    return {
        "rows": rows, "settings": settings,
        "preamble": _preamble(quick, sim.res, mat, _end(charge["C/3"], "theta_surface"), d_plateau),
        "charge": charge, "lag_runs": lag_runs, "rest": rest, "size_runs": size_runs, "alpha_runs": alpha_runs,
        "ce_runs": ce_runs,
    }


def _preamble(quick: bool, res: float, mat, theta_s_cutoff: float, d_plateau: float) -> str:
    u0 = float(mat.U(THETA0))
    q_theor = mat.theoretical_capacity / 3600.0
    return f"""
All rows: material `ni88-xu2022` with α = {ALPHA} (D_app = α·D_GITT, (Xu et al., Joule 2022)'s best match at C/3), a disc of
diameter 2 µm (the ~2 µm single crystals of (Xu et al., Joule 2022), Li moving in the ab-plane), polar grid with
{res * 1e9:.1f} nm rings, initial θ = {THETA0} (Xu et al., Joule 2022 Fig. 4A: ~97 % from the OCV of ~3.5 V; the stand-in OCP
gives U({THETA0}) = {u0:.2f} V), Butler–Volmer kinetics, C-rates on 210 mAh/g (C/3 = 70 mA/g). Only the
α sweep (f1, f2) changes α. The centre-lag row (b) uses constant flux without kinetics, as (Xu et al., Joule 2022)'s
finite-element model does. p−c: mean θ of the periphery (within 0.2 R of the surface) minus that
of the core (deeper than 0.6 R); negative means a Li-poor periphery. θ is the fraction of Li sites
filled (theoretical capacity {q_theor:.0f} mAh/g), so 0.01 in θ is {q_theor / 100:.2f} mAh/g.

U(θ) is a stand-in, the measured OCP of an NMC811 cathode on x in Li_xMO2 (Xu et al. (Joule 2022) gives no OCP table; see
docs/validation.md for why this one): the C/3 charge reaches 4.3 V at a surface θ of {theta_s_cutoff:.2f}. D(θ) has
the shape of a fit to measured NMC811 diffusivities, set to Xu et al.'s D_app at θ = 0.98 (D(0.5) = {d_plateau:.2g}
m²/s). Both are parameter sources chosen on physical grounds, not fitted to any row; `--sensitivity`
would rerun the rows under the named alternatives.
{"Quick mode: coarse grid and looser tolerances; use the full run for numbers." if quick else ""}
"""


def make_figures(result: dict, out) -> None:
    """Write the figures of :data:`FIGURES` into ``out``."""
    from pathlib import Path

    from ..plotting.validation import plot_line_panels, plot_map_grid, plot_voltage_capacity_runs, save_figure

    out = Path(out)
    charge = result["charge"]
    panels = []
    for k, ds in charge.items():
        part = _charge_part(ds)
        t_cmp = float(np.interp(THETA_CMP, part.theta_mean.values[::-1], part.time.values[::-1]))
        panels.append((ds, t_cmp, f"{k}, mean θ = {THETA_CMP}"))
    for k, ds in charge.items():
        panels.append((ds, float(_charge_part(ds).time.values[-1]), f"{k}, end of charge (4.3 V)"))
    save_figure(plot_map_grid(panels, ncols=len(charge), suptitle="ni88-xu2022, 2 µm disc: θ on charge at four "
                              "C-rates (top: mean θ = 0.85; bottom: at 4.3 V)"), out / FIGURES[0])

    lines = {"centre": [], "mean": [], "surface": []}
    for k, ds in result["lag_runs"].items():
        t = ds.time.values / 60.0
        lines["centre"].append((t, ds.theta_centre.values, k))
        lines["mean"].append((t, ds.theta_mean.values, k))
        lines["surface"].append((t, ds.theta_surface.values, k))
    save_figure(plot_line_panels(
        [{"title": f"{q} θ", "xlabel": "time [min]", "ylabel": "θ", "lines": v} for q, v in lines.items()],
        suptitle="C/3 charge at constant flux: ni88 D(θ) against constant D"), out / FIGURES[1])

    save_figure(plot_voltage_capacity_runs(
        [(f"{k}: CC charge, CC discharge, 2 h at 3.0 V", ds) for k, ds in result["ce_runs"].items()],
        suptitle="first cycle from θ = 0.97 (stand-in OCP: measured NMC811, Sturm/Zhuo)"), out / FIGURES[2])

    rate_lines = [(_charge_part(ds).specific_capacity.values, _charge_part(ds).theta_periphery_minus_core.values, k)
                  for k, ds in charge.items()]
    peak_rate = [-_peak_pc(ds) for ds in charge.values()]
    sizes = list(result["size_runs"])
    alphas = list(result["alpha_runs"])
    save_figure(plot_line_panels([
        {"title": "p−c during the charge", "xlabel": "charge passed [mAh/g]", "ylabel": "p−c (θ)",
         "lines": rate_lines, "hline": 0.0},
        {"title": "largest |p−c| vs C-rate", "xlabel": "C-rate [1/h]", "ylabel": "|p−c|", "xscale": "log",
         "lines": [([n for _, n in RATES], peak_rate, "", "o-")], "band": (0.20, 0.30)},
        {"title": "largest |p−c| vs diameter (C/3)", "xlabel": "diameter [µm]", "ylabel": "|p−c|",
         "lines": [(sizes, [-_peak_pc(result["size_runs"][d]) for d in sizes], "", "o-")]},
        {"title": "largest |p−c| vs α (C/3)", "xlabel": "α", "ylabel": "|p−c|", "xscale": "log",
         "lines": [(alphas, [-_peak_pc(result["alpha_runs"][a]) for a in alphas], "", "o-")]},
    ], ncols=2, suptitle="periphery − core (grey band: (Xu et al., Joule 2022)'s 20–30 % at 1C–2C)"), out / FIGURES[3])

    rest = result["rest"]
    t = rest.time.values / 60.0
    save_figure(plot_line_panels([
        {"title": "20 min at C/3, then 1 h rest", "xlabel": "time [min]", "ylabel": "Δθ",
         "lines": [(t, rest.theta_range.values, "max − min"), (t, rest.theta_periphery_minus_core.values, "p−c")],
         "hline": 0.0},
        {"title": "θ traces", "xlabel": "time [min]", "ylabel": "θ",
         "lines": [(t, rest.theta_centre.values, "centre"), (t, rest.theta_mean.values, "mean"),
                   (t, rest.theta_surface.values, "surface")]},
    ]), out / FIGURES[4])
