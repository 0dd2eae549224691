"""Comparisons with Lun et al. (Supplementary Information) (SI): aged single crystals with a rock-salt surface arc.

(Lun et al.) models an aged particle as a disc in the ab-plane whose perimeter is
partly covered by rock salt: a fraction γ passes η times the flux of the
bare surface, the rest ``j/(1 − γ + ηγ)`` (eqs. 13–15), so the total
current is that of the C-rate. Settings taken from (Lun et al.):

* transport: the thermodynamic flux law of eq. 10 with D(θ) and the OCP
  of Xu et al. — here ``ni88-xu2022`` at α = 2.7 (the same parameter set as
  the xu2022 rows; its OCP is a measured NMC811 stand-in);
* the surface flux imposed (``BlockedArc(mode="flux")``, no electrode
  kinetics), steps ended by mean or surface θ (there is no voltage);
* initial θ = 0.95 everywhere (Lun et al.); C-rate on Q = 200 mAh/g (Lun et al. eq. 13);
* a disc of diameter 2 µm (the particles of (Lun et al.) Fig. S3 are the ~2 µm
  crystals of (Xu et al., Joule 2022)), grid cells of 34.7 nm, the pixel size of the (Lun et al.)
  microscope.

Measures: the asymmetry (mean θ of the half of the particle on the blocked
side minus that of the open half) and the distance between the particle's
centre of mass and that of its unreacted region
(:func:`socscope.observe.unreacted_com_distance`). (Lun et al.) calls a pixel
unreacted while its differential optical contrast is below 0.05; taking the
intensity as linear in θ with (Xu et al., Joule 2022)'s +62 % over its 229 mAh/g charge, that
is θ above θ0 − 0.05/0.62 · 229/275 ≈ θ0 − 0.067.
"""

from __future__ import annotations

import math

import numpy as np

from . import Row

__all__ = ["run", "make_figures", "FIGURES", "TITLE", "SETTINGS"]

TITLE = "socscope against Lun et al. (Supplementary Information) (aged single-crystal Ni-rich NMC, rock-salt arc)"
COMMAND = "socscope validate lun2023"
FIGURES = ("theta_maps_aged.png", "com_distance.png", "asymmetry.png")
DIAMETER = 2e-6
THETA0 = 0.95
BASIS = 200.0
RATES = (("C/3", 1 / 3), ("1C", 1.0), ("2C", 2.0))
#: (γ, η) of the rock-salt arc; None: a fresh particle
LAYOUTS = (None, (0.25, 0.0), (0.25, 0.2), (0.5, 0.0), (0.5, 0.2))
ARC_CENTRE = 0.0  # the arc is centred on +x: the blocked half is x > 0
Q_POINTS = (10.0, 20.0, 30.0)  # charge passed [mAh/g] at which the measures are reported
CONTRAST_THRESHOLD = 0.05  # (Lun et al.): unreacted while the differential contrast is below this
INTENSITY_RISE = 0.62  # (Xu et al., Joule 2022) Fig. 1E: intensity ~62 % higher at the end of the C/3 charge
CHARGE_004 = 229.0  # (Xu et al., Joule 2022): CC charge capacity of that charge [mAh/g]
SETTINGS = {
    "material": "ni88-xu2022",
    "alpha": 2.7,
    "flux_law": "thermodynamic (Lun et al. eq. 10); the chemical law as a sensitivity check",
    "geometry": "disc, diameter 2 µm, polar grid",
    "initial_theta": THETA0,
    "c_rate_basis_mAh_g": BASIS,
    "surface": "BlockedArc(mode='flux') centred on +x, or uniform (fresh)",
    "protocol": "Charge at RATE until mean theta 0.45 or surface theta 0.02",
    "resolution_m": {"full": 34.7e-9, "quick": 100e-9},
    "rtol": {"full": 1e-5, "quick": 1e-4},
}


def _name(layout) -> str:
    return "fresh" if layout is None else f"γ={layout[0]:g}, η={layout[1]:g}"


def _f(v, fmt=".3f") -> str:
    return "n/a" if v is None or not np.isfinite(v) else format(v, fmt)


def _measure(ds, threshold: float) -> dict:
    """Asymmetry, unreacted-region offset and p−c against the charge passed."""
    from ..constants import F
    from ..observe import unreacted_com_distance

    th = ds.theta_cell.values
    x, y, v = ds.cell_x.values, ds.cell_y.values, ds.cell_volume.values
    # signed distance from the line through the centre that splits the arc's
    # side from the other; cells centred on the line belong to neither half
    side = x * np.cos(ARC_CENTRE) + y * np.sin(ARC_CENTRE)
    tol = 1e-9 * DIAMETER
    blk, opn = side > tol, side < -tol
    asym = th[:, blk] @ v[blk] / v[blk].sum() - th[:, opn] @ v[opn] / v[opn].sum()
    dist = unreacted_com_distance(th, np.c_[x, y], v, threshold)
    q = ds.specific_capacity.values
    gone = np.nonzero(np.isnan(dist))[0]
    q_gone = float(q[gone[0]]) if gone.size else math.nan
    valid = ~np.isnan(dist)

    def at(series, qq, ok=None):
        ok = np.ones(q.size, bool) if ok is None else ok
        if qq > q[ok].max() or (np.isfinite(q_gone) and qq >= q_gone and ok is valid):
            return math.nan
        return float(np.interp(qq, q[ok], series[ok]))

    charge = float(ds.charge.values[-1])
    inventory = float(abs(F * (ds.lithium.values[0] - ds.lithium.values[-1]) - charge) / charge)
    ff = ds.flux_factor.values
    return {
        "q": q, "asym": asym, "dist": dist,
        "asym_at": {qq: at(asym, qq) for qq in Q_POINTS},
        "dist_nm_at": {qq: at(dist, qq, valid) * 1e9 for qq in Q_POINTS},
        "q_unreacted_gone": q_gone,
        "max_dist_nm": float(np.nanmax(dist) * 1e9) if valid.any() else math.nan,
        "peak_pc": float(ds.theta_periphery_minus_core.min()),
        "q_end": float(q[-1]), "end_reason": str(ds.step_end_reason.values[0]),
        "inventory_error": inventory,
        "f_open": float(ff.max()), "f_blocked": float(ff.min()),
        "gamma_grid": float(np.mean(ff < ff.max())) if ff.min() < ff.max() else 0.0,
    }


def run(*, quick: bool = False, report=lambda row: None) -> dict:
    """Run the simulations and measure every row (see the module docstring)."""
    from ..geometry import Disc
    from ..materials import get
    from ..numerics import SolverOptions
    from ..physics import BlockedArc
    from ..simulate import simulate_particle

    res = SETTINGS["resolution_m"]["quick" if quick else "full"]
    solver = SolverOptions(rtol=SETTINGS["rtol"]["quick" if quick else "full"])
    mat = get("ni88-xu2022").with_parameters(alpha=2.7)
    threshold = THETA0 - CONTRAST_THRESHOLD / INTENSITY_RISE * CHARGE_004 / (mat.theoretical_capacity / 3600.0)
    rows: list[Row] = []

    def add(row: Row) -> None:
        rows.append(row)
        report(row)

    runs, meas = {}, {}
    for law in ("thermodynamic", "chemical"):
        for rate, n in RATES:
            for layout in LAYOUTS:
                surface = None if layout is None else BlockedArc(eta=layout[1], fraction=layout[0],
                                                                 center=ARC_CENTRE, mode="flux")
                ds = simulate_particle(
                    mat, Disc(DIAMETER), [f"Charge at {rate} until mean theta 0.45 or surface theta 0.02"],
                    initial_theta=THETA0, resolution=res, flux=law, surface=surface, kinetics="none",
                    c_rate_basis_mAh_g=BASIS, output_interval=3600.0 / n / 300, solver=solver)
                key = (law, rate, layout)
                runs[key] = ds
                meas[key] = _measure(ds, threshold)
    aged = [lay for lay in LAYOUTS if lay is not None]
    rates = [r for r, _ in RATES]
    T = "thermodynamic"

    # -- eq. 14: the flux split keeps the total current --------------------------
    split = {}
    for lay in aged:
        m = meas[(T, "1C", lay)]
        g_, eta = m["gamma_grid"], lay[1]
        split[_name(lay)] = {"f_open": m["f_open"], "f_blocked": m["f_blocked"], "gamma_grid": g_,
                             "f_open_eq14": 1 / (1 - g_ + eta * g_),
                             "f_open_eq14_nominal_gamma": 1 / (1 - lay[0] + eta * lay[0])}
    inv = max(m["inventory_error"] for m in meas.values())
    ok = all(abs(s["f_open"] / s["f_open_eq14"] - 1) < 1e-9 and abs(s["f_blocked"] - lay[1] * s["f_open"]) < 1e-9
             for s, lay in zip(split.values(), aged)) and inv < 1e-9
    add(Row(
        "L1", "(Lun et al.) eqs. 13–15",
        "j_NMC = j/(1 − γ + ηγ) on the bare surface, j_RSL = η·j_NMC on the rock salt; total current unchanged",
        "bare-surface flux / mean flux: " + ", ".join(
            f"{k}: {s['f_open']:.4f} (eq. 14 with the grid's γ = {s['gamma_grid']:.4f}: {s['f_open_eq14']:.4f})"
            for k, s in split.items()) + f"; Li lost vs ∫I dt/F: largest relative error {inv:.1e} over all runs",
        "flux factors equal eq. 14 (with the γ of the grid's boundary elements) to 1e-9, and the Li inventory "
        "matches the passed charge to 1e-9",
        bool(ok), COMMAND, {"flux_split": split, "max_inventory_error": inv}))

    # -- asymmetric delithiation -------------------------------------------------
    asym20 = {f"{r}, {_name(lay)}": meas[(T, r, lay)]["asym_at"][20.0] for r in rates for lay in aged}
    fresh = max(abs(meas[(T, r, None)]["asym"]).max() for r in rates)
    add(Row(
        "L2", "(Lun et al.) title, Fig. S3",
        "aged particles delithiate asymmetrically: Li leaves through the bare surface, the rock-salt side stays "
        "Li-rich",
        "blocked − open half mean θ at 20 mAh/g: " + "; ".join(
            f"{r}: " + ", ".join(f"{_name(lay)} {_f(meas[(T, r, lay)]['asym_at'][20.0], '+.3f')}" for lay in aged)
            for r in rates) + f"; fresh: largest |blocked − open| {fresh:.1e}",
        "blocked − open > +0.01 at 20 mAh/g for every (γ, η) and rate; |blocked − open| < 1e-6 for a fresh particle",
        all(np.isfinite(v) and v > 0.01 for v in asym20.values()) and fresh < 1e-6, COMMAND,
        {"asymmetry_at_20_mAh_g": asym20, "fresh_max_abs_asymmetry": fresh}))

    # -- offset of the unreacted region (Fig. S4) --------------------------------
    r_nm = DIAMETER / 2 * 1e9
    dist = {f"{r}, {_name(lay)}": meas[(T, r, lay)]["dist_nm_at"] for r in rates for lay in aged}
    gone = {f"{r}, {_name(lay)}": meas[(T, r, lay)]["q_unreacted_gone"] for r in rates for lay in LAYOUTS}
    fresh_d = max(meas[(T, r, None)]["max_dist_nm"] for r in rates)
    grows = all(np.isfinite(d[10.0]) and np.isfinite(d[20.0]) and d[20.0] > d[10.0] for d in dist.values())
    big = all(np.isfinite(d[20.0]) and d[20.0] > 0.1 * r_nm for d in dist.values())
    lay_show = (0.5, 0.0)
    ours = "; ".join(
        f"{r}, {_name(lay_show)}: " + "/".join(_f(meas[(T, r, lay_show)]['dist_nm_at'][q], '.0f') for q in Q_POINTS)
        + f" nm at {'/'.join(f'{q:g}' for q in Q_POINTS)} mAh/g, unreacted region gone at "
        + _f(meas[(T, r, lay_show)]['q_unreacted_gone'], '.0f') + " mAh/g" for r in rates)
    lay_small = (0.25, 0.2)
    ours += "; " + "; ".join(
        f"{r}, {_name(lay_small)}: " + "/".join(_f(meas[(T, r, lay_small)]['dist_nm_at'][q], '.0f') for q in Q_POINTS)
        + " nm" for r in rates)
    ours += f"; fresh: ≤ {fresh_d:.1e} nm, unreacted region gone at " + "/".join(
        _f(gone[f'{r}, fresh'], '.0f') for r in rates) + " mAh/g"
    add(Row(
        "L3", "(Lun et al.) Fig. S4",
        "the distance between the centre of mass of an aged particle and that of its unreacted region "
        "(differential contrast < 0.05) is quantified against SOC at several rates (values in the figure only, "
        "not in the text): the unreacted region sits off-centre (asymmetric ion flux)",
        ours,
        f"aged: distance > 0.1 R ({0.1 * r_nm:.0f} nm) at 20 mAh/g and larger than at 10 mAh/g, for every (γ, η) "
        "and rate; fresh: < 1 nm",
        grows and big and fresh_d < 1.0, COMMAND,
        {"distance_nm": dist, "q_unreacted_gone_mAh_g": gone, "fresh_max_distance_nm": fresh_d,
         "threshold_theta": threshold}))

    # -- fresh particles: core–shell (Fig. S2) ----------------------------------
    pk = {r: meas[(T, r, None)]["peak_pc"] for r in rates}
    add(Row(
        "L4", "(Lun et al.) Fig. S2; (Xu et al., Joule 2022) Figs. 2–3",
        "fresh particles at the beginning of charge: the Li-poor periphery and Li-rich core of (Xu et al., Joule 2022)",
        "fresh, largest p−c: " + ", ".join(f"{r} {_f(v, '+.3f')}" for r, v in pk.items()),
        "p−c < −0.02 at every rate", all(v < -0.02 for v in pk.values()), COMMAND,
        {"fresh_peak_periphery_minus_core": pk}))

    # -- flux-law sensitivity ----------------------------------------------------
    C = "chemical"
    a_c = {f"{r}, {_name(lay)}": meas[(C, r, lay)]["asym_at"][20.0] for r in rates for lay in aged}
    d_c = {f"{r}, {_name(lay)}": meas[(C, r, lay)]["dist_nm_at"][20.0] for r in rates for lay in aged}
    add(Row(
        "L5", "(Lun et al.) eq. 10 vs the project's model notes (docs/numerics.md) (chemical flux)",
        "(sensitivity) the asymmetry follows from the flux split, not from the flux law",
        "chemical law, at 20 mAh/g, γ=0.5, η=0: blocked − open " + ", ".join(
            f"{r} {_f(meas[(C, r, (0.5, 0.0))]['asym_at'][20.0], '+.3f')}" for r in rates)
        + "; COM distance " + ", ".join(f"{r} {_f(meas[(C, r, (0.5, 0.0))]['dist_nm_at'][20.0], '.0f')} nm"
                                        for r in rates)
        + "; fresh largest p−c " + ", ".join(f"{r} {_f(meas[(C, r, None)]['peak_pc'], '+.3f')}" for r in rates),
        "blocked − open > +0.01 at 20 mAh/g for every (γ, η) and rate (as in L2)",
        all(np.isfinite(v) and v > 0.01 for v in a_c.values()), COMMAND,
        {"asymmetry_at_20_mAh_g": a_c, "distance_nm_at_20_mAh_g": d_c}))

    settings = dict(SETTINGS, resolution_used_m=res, rtol_used=solver.rtol, threshold_theta=threshold,
                    q_points_mAh_g=list(Q_POINTS))
    return {"rows": rows, "settings": settings, "preamble": _preamble(quick, res, threshold, mat),
            "runs": runs, "meas": meas}


def _preamble(quick: bool, res: float, threshold: float, mat) -> str:
    q_theor = mat.theoretical_capacity / 3600.0
    return f"""
All rows: material `ni88-xu2022` (α = 2.7, the parameter set of the xu2022 rows), the thermodynamic
flux law of (Lun et al.) eq. 10 (row L5 repeats the grid with the chemical law), a disc of diameter 2 µm on a
polar grid with {res * 1e9:.1f} nm rings, initial θ = {THETA0} and C-rates on {BASIS:.0f} mAh/g as in (Lun et al.),
the (Lun et al.) flux split imposed on a rock-salt arc centred on +x (γ ∈ {{0.25, 0.5}}, η ∈ {{0, 0.2}}) or a
uniform flux (fresh), each charge at C/3, 1C and 2C run until the mean θ is 0.45 or the lowest
surface θ is 0.02. "blocked − open": mean θ of the half disc on the rock-salt side minus that of the
other half. Unreacted: θ > {threshold:.4f} (Lun et al.'s contrast threshold 0.05 read as a θ change with
(Xu et al., Joule 2022)'s +62 % intensity over its {CHARGE_004:.0f} mAh/g charge, linear in θ). Charge passed in mAh/g
(theoretical capacity {q_theor:.0f} mAh/g: 10 mAh/g is Δθ = {10 / q_theor:.4f}). The SI of (Lun et al.) gives the
model, its settings and figure captions but no numbers from its figures, so the rows test the
behaviour the figures show, not values. The OCP (through dU/dθ in eq. 10) is a measured NMC811
stand-in.
{"Quick mode: coarse grid and looser tolerances; use the full run for numbers." if quick else ""}
"""


def make_figures(result: dict, out) -> None:
    """Write the figures of :data:`FIGURES` into ``out``."""
    from pathlib import Path

    from ..plotting.validation import plot_line_panels, plot_map_grid, save_figure

    out = Path(out)
    runs, meas = result["runs"], result["meas"]
    T = "thermodynamic"
    panels = []
    for rate, _ in RATES:
        for lay in LAYOUTS:
            ds = runs[(T, rate, lay)]
            q = ds.specific_capacity.values
            t = float(np.interp(min(20.0, q[-1]), q, ds.time.values))
            panels.append((ds, t, f"{rate}, {_name(lay)}"))
    save_figure(plot_map_grid(panels, ncols=len(LAYOUTS), suptitle="θ after 20 mAh/g of charge (rock salt on the "
                              "+x side of the aged particles; (Lun et al.) eq. 10, θ0 = 0.95)"), out / FIGURES[0])
    aged = [lay for lay in LAYOUTS if lay is not None]
    for fname, key, ylabel, scale in ((FIGURES[1], "dist", "distance [nm]", 1e9),
                                      (FIGURES[2], "asym", "blocked − open mean θ", 1.0)):
        save_figure(plot_line_panels([
            {"title": _name(lay), "xlabel": "charge passed [mAh/g]", "ylabel": ylabel, "hline": 0.0,
             "lines": [(meas[(T, r, lay)]["q"], meas[(T, r, lay)][key] * scale, r) for r, _ in RATES]}
            for lay in aged], ncols=2,
            suptitle=("distance between the centres of mass of the unreacted region and of the particle"
                      if key == "dist" else "asymmetric delithiation: rock-salt half minus open half")), out / fname)
