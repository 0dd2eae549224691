"""Comparisons with Sharma et al. (Nano Lett. 2022): asynchronous first charge, synchronous later charges (NMC532).

(Sharma et al., Nano Lett. 2022) images NMC532 particles at C/20 between 4.3 and 2.5 V: in the first
charge they switch on one after another, later (dis)charges are
synchronous, and ~10 % of the first charge is not put back by the first
discharge. Its model attributes the first to the low electronic
conductivity of pristine NMC seen through an incomplete carbon network, the
second to the first-cycle loss, which leaves the particles partly
delithiated and so conductive. Settings, chosen once from (Sharma et al., Nano Lett. 2022) and the project's model notes (docs/numerics.md)
and not fitted to any row:

* material ``nmc532-sharma2022``: D(θ) a log-logistic step from 1e-17 m²/s
  at x = 1 to 1e-14 m²/s below x ≈ 0.8 (Sharma et al., Nano Lett. 2022 Fig. 4c as its text describes
  it), the Mohtat2020 OCP mapped onto θ (4.30 V at θ = 0.294), i0 of
  ``nmc532``, and Amin & Chiang's σ(θ) with its pristine point (x = 0) at
  1e-7 S/cm, their abstract's value (:data:`MAP_CHOICE`; the 1.9e-6 S/cm read
  from their figure is ``sigma="amin-chiang-figure"``);
* the layered layout of (Sharma et al., Nano Lett. 2022) Fig. 4a (:func:`~socscope.geometry.layered_layout`,
  5 columns × 3 layers, carbon pillar on the left column, coverage 0.5,
  NMC–NMC contact radius 0.1 R): the five top particles reach the collector
  through 0, 1, 2, 3 and 4 NMC particles. Radius 3.5 µm, the positive
  particle radius of the Mohtat2020 parameter set the OCP and i0 come from;
* a random 2D cross-section (24 particles, coverage 0.5 ± 0.3, 10 %
  isolated, seed 1) for the isolated particles and as a second geometry;
* σ_CB = 1e4 S/m (Sharma et al., Nano Lett. 2022), the electrolyte at 0 V (C/20);
* initial θ = 0.99: pristine (x ≈ 1), where σ = 1.2e-5 S/m, within 25 % of
  the 1e-5 S/m at x = 0 (x in Li(1-x)NMC);
* C/20 on 160 mAh/g, charges to 4.3 V and discharges to 2.5 V (see below).

The discharge cut-off is (Sharma et al., Nano Lett. 2022)'s 2.5 V. The OCP ends at 2.82 V at full
lithiation, so 2.5 V is met through the overpotential of surfaces that
saturate: the voltage runs through the cut-off within less than the
solver's smallest step, and the step ends there (its last recorded voltage
is the last one the solver resolved, ~2.7 V).

Asynchrony: the definitions of :mod:`socscope.observe.asynchrony` (each
particle's switch: centre and full width at half maximum of the peak of
d(mean θ)/d(cell SOC); index = IQR(centres)/median(width), asynchronous
above 1; step-likeness = 1/width, step-like at ≥ 4), which do not depend on
where a half-cycle ends.

The map over the two unknowns (:func:`sigma_contact_map`, ``socscope validate sharma2022 --map``):
first-charge step-likeness and second-charge asynchrony over the pristine σ (Amin & Chiang's table
with its x = 0 point replaced, :func:`pristine_sigma_material`) × the NMC–NMC contact radius; the
point chosen on physical grounds is :data:`MAP_CHOICE` (docs/validation.md).

Rows S, S2 and S3 scan around this point: σ(θ) scaled down to the map's
lowest pristine value, and contact radii that keep the pristine contact
conductance (σ(x = 0) · a, the Holm resistance 1/(2σa)) of the scan made
around the earlier 1.9e-6 S/cm table. The outcome is in ``docs/validation.md``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..errors import ProtocolError, StepWarning
from ..observe.electrode import DIP_DEPTH
from . import Row

__all__ = ["FIGURES", "SETTINGS", "TITLE", "make_figures", "make_map_figure", "pristine_sigma_material", "run", "run_map",
           "sigma_contact_map"]

TITLE = "socscope against Sharma et al. (Nano Lett. 2022) (NMC532 network electrode: asynchronous first charge)"
COMMAND = "socscope validate sharma2022"
FIGURES = ("particle_traces.png", "asynchrony_index.png", "voltage.png")
RADIUS = 3.5e-6
THETA0 = 0.99
#: Sharma et al. (Nano Lett. 2022) "electrochemically cycled by enforcing a constant current": the 4.3 V
#: limit ignores the first hour (5 % of a C/20 charge), as a cycler's delayed
#: limit does, so the minutes in which only the carbon-wired column reacts
#: (and the voltage under load starts above 4.3 V) do not end the charge; no
#: C/20 charge reaches its end within an hour
CHARGE = "Charge at C/20 until 4.3 V after 1 hour"
DISCHARGE = "Discharge at C/20 until 2.5 V"
#: σ scale factors of the sensitivity row (first charge only), from the chosen
#: pristine σ (1e-7 S/cm) down to the map's lowest: 0.5 puts x = 0 at 5e-8
#: S/cm (pristine NMC333), 0.2 at 2e-8, 0.1 at 1e-8 S/cm (a decade below the
#: lowest report). (Around the earlier 1.9e-6 S/cm table the scales were 0.1,
#: 0.04 and 0.03, pristine 1.9e-7 to 5.7e-8 S/cm.)
SIGMA_SCALES = (0.5, 0.2, 0.1)
#: ratio of the earlier pristine σ (Amin & Chiang's figure, 1.9e-6 S/cm) to the chosen one (1e-7 S/cm)
_PRISTINE_RATIO = 19.0
#: NMC–NMC contact radii (fractions of R) of the contact-size row (first
#: charge only): the radii of the scan made around the 1.9e-6 S/cm table
#: (0.003, 0.0015 and 0.001 R: point contacts down to the size at which the
#: unwired columns could no longer take C/20 below 4.3 V) times 19, so that the
#: pristine contact conductance σ(x = 0) · a (Holm: 1/(2σa) per contact) is
#: the same as in that scan
CONTACT_FRACTIONS = tuple(round(_PRISTINE_RATIO * c, 6) for c in (0.003, 0.0015, 0.001))
#: carbon-wired columns beside the (Sharma et al., Nano Lett. 2022) Fig. 4a chain in row S3 (the rest of
#: the electrode, which carries the cell current); in a scan (with the 1.9e-6 S/cm table) the chain's
#: first-charge index at 0.001 R was 2.37, 2.55 and 2.61 with 4, 8 and 16
#: columns, so 8 is within 3 % of the limit
RESERVOIR_COLUMNS = 8
#: contact radii of row S3: those of S2 and one below (0.0005 R × 19: where, with the 1.9e-6 S/cm
#: table, the far particles no longer reacted); the whole cycle is run at RESERVOIR_CYCLED, the
#: smallest of S2 (0.001 R × 19)
RESERVOIR_CONTACT_FRACTIONS = CONTACT_FRACTIONS + (round(_PRISTINE_RATIO * 0.0005, 6),)
RESERVOIR_CYCLED = CONTACT_FRACTIONS[-1]
LOSS_BAND = (0.05, 0.20)  # what counts as "roughly 10 %"
#: the microscope of row S3 (render_top_layer): 200 nm pixels put ~17 pixels
#: across a 3.5 µm radius, the 265 nm PSF is the renderer's default, and 2000
#: photo-electrons per unit intensity with 0.2 % read noise are a dim but
#: usable camera; the rendered stage does not drift, so the pipeline corrects
#: none; frames in 16-bit counts as a camera writes them (~40 MB for the cycle)
MOVIE = {"pixel_size_nm": 200.0, "psf_fwhm_nm": 265.0, "photons": 2000.0, "read_noise": 0.002,
         "dtype": "uint16"}
SETTINGS = {
    "material": "nmc532-sharma2022",
    "sigma": "amin-chiang-abstract (Amin & Chiang's table, σ(x = 0) = 1e-7 S/cm)",
    "d_lithiated_m2_s": 1e-17,
    "d_delithiated_m2_s": 1e-14,
    "layout": "layered_layout(5, 3, radius=3.5e-6, coverage=0.5, carbon_columns=(0,), contact_fraction=0.1)",
    "random_layout": ("random_layout(24, dim=2, mean_radius=3.5e-6, coverage=(0.5, 0.3), isolated_fraction=0.1, "
                      "rng=numpy.random.default_rng(1))"),
    "sigma_cb_S_m": 1e4,
    "initial_theta": THETA0,
    "c_rate_basis_mAh_g": 160.0,
    "protocol": [CHARGE, DISCHARGE, CHARGE, DISCHARGE],
    "control_protocol": [CHARGE, DISCHARGE, CHARGE],
    "n_shells": {"full": 20, "quick": 8},
    "output_interval_s": {"full": 600.0, "quick": 1800.0},
    "rtol": {"full": 1e-4, "quick": 1e-3},
    "loss_band": LOSS_BAND,
    "contact_fractions": CONTACT_FRACTIONS,
    "reservoir_layout": ("layered_layout(8 + 4, 3, radius=3.5e-6, coverage=0.5, carbon_columns=range(8), "
                         "contact_fraction=cf); observed: the top particles of columns 7–11"),
    "reservoir_contact_fractions": RESERVOIR_CONTACT_FRACTIONS,
    "dip_depth_V": DIP_DEPTH,  # socscope.observe.electrode.DIP_DEPTH
    "movie": MOVIE,
}


def _f(v, fmt=".3f") -> str:
    return "n/a" if v is None or not np.isfinite(v) else format(v, fmt)


def _scaled_sigma(mat, factor: float):
    """``mat`` with σ(θ) multiplied by ``factor`` (a sensitivity twin, not a material of (Sharma et al., Nano Lett. 2022))."""
    from ..materials import Material, Property

    s = mat.sigma
    sigma = Property("sigma", "S/m", lambda th, s=s: factor * np.asarray(s(th)),
                     source=f"{s.source} (times {factor:g}: sensitivity)", valid_range=s.valid_range,
                     dfunc=lambda th, s=s: factor * np.asarray(s.derivative(th)))
    return Material(name=f"{mat.name} sigma x{factor:g}", description=f"{mat.description}; sigma x {factor:g}",
                    source=mat.source, c_max=mat.c_max, density=mat.density, capacity=mat.capacity,
                    molar_mass=mat.molar_mass, U=mat.U, D=mat.D, i0=mat.i0, sigma=sigma)


def _reservoir_layout(contact_fraction: float):
    """(Sharma et al., Nano Lett. 2022) Fig. 4a's chain beside :data:`RESERVOIR_COLUMNS` carbon-wired columns; ``(layout, chain)``.

    The chain is the top particles of the last five columns: the first has its
    own carbon pillar, the others reach it through 1–4 NMC contacts, as the top
    particles of Fig. 4a do.
    """
    from ..geometry.electrode import layered_layout

    k = RESERVOIR_COLUMNS
    lay = layered_layout(k + 4, 3, radius=RADIUS, coverage=0.5, carbon_columns=tuple(range(k)),
                         contact_fraction=contact_fraction)
    return lay, np.nonzero(lay.top)[0][k - 1:]


def _through_microscope(ds, particles) -> dict:
    """The asynchrony of ``particles`` as the optical pipeline reads it off a synthetic movie of the top layer."""
    from ..analysis.optical import analyze_movie
    from ..observe import cycler_record, electrode_transitions, render_top_layer, site_capacity_Ah
    from ..observe.asynchrony import classify_half_cycles

    movie = render_top_layer(ds, **MOVIE, rng=np.random.default_rng(0))
    shown = np.concatenate([[0], movie.meta["particle"]])  # label -> particle (label 0: background)
    labels = np.where(np.isin(shown[movie.labels], particles) & (movie.labels > 0), movie.labels, 0)
    res = analyze_movie(movie.frames, time_s=movie.time_s, labels=labels, drift="none",
                        cycler=cycler_record(ds), capacity_Ah=site_capacity_Ah(ds))
    first = res.transitions.query("half_cycle == 0").sort_values("particle")
    # what the simulation itself gives with the pipeline's method (logistic fits) on
    # the occupancy the movie shows
    sim = electrode_transitions(ds, signal=movie.meta["signal"], method="fit")
    sim_index = classify_half_cycles(sim[sim.particle.isin(particles)]).asynchrony_index.tolist()
    return {"index": res.half_cycles.asynchrony_index.tolist(), "simulated_fit_index": sim_index,
            "classification_first_charge": first.classification.tolist(),
            "midpoints_first_charge": first.midpoint_soc.tolist(),
            "widths_first_charge": first.width_soc.tolist(),
            "step_likeness_first_charge": first.step_likeness.tolist()}


def _half(ds, hc: int) -> dict:
    """Observables of one half-cycle, over the connected particles."""
    from scipy.stats import spearmanr

    if hc >= ds.sizes.get("half_cycle", 0):
        return {"index": math.nan, "classification": "n/a", "spread": math.nan, "spearman": math.nan,
                "n_reacted": 0, "fraction_step_like": math.nan}
    ok = ~ds.isolated.values
    r = ds.reacted.values[hc] & ok
    on = ds.onset_soc.values[hc]
    dist = ds.electrical_distance.values
    rho = float(spearmanr(dist[r], on[r]).correlation) if r.sum() > 2 else math.nan
    return {
        "index": float(ds.asynchrony_index.values[hc]),
        "classification": str(ds.classification.values[hc]),
        "direction": str(ds.half_cycle_direction.values[hc]),
        "spread": float(np.nanmax(on[r]) - np.nanmin(on[r])) if r.any() else math.nan,
        "spearman": rho,
        "n_reacted": int(r.sum()),
        "midpoint_range": [float(np.nanmin(ds.switch_soc.values[hc][r])),
                           float(np.nanmax(ds.switch_soc.values[hc][r]))] if r.any() else [math.nan] * 2,
        "median_width": float(np.nanmedian(ds.switch_width_soc.values[hc][r])) if r.any() else math.nan,
        "fraction_step_like": float(ds.fraction_step_like.values[hc]),
    }


def _step_end(ds, var: str, step: int):
    sel = ds.step.values == step
    return ds[var].values[sel][-1]


def _measure(ds, sigma) -> dict:
    """Everything the rows read from one run (``sigma``: the material's σ(θ))."""
    caps = [float(c) for c in ds.step_capacity.values]
    n_hc = ds.sizes.get("half_cycle", 0)  # none when a charge ends at once
    # mass-weighted mean θ of the electrode at the end of the first discharge
    theta_start2 = float(_step_end(ds, "theta_mean", 1)) if len(caps) > 1 else math.nan
    second = (1.0 - abs(caps[3]) / caps[2]) if len(caps) > 3 and caps[2] > 0 else math.nan
    first = ds.step.values == 0
    return {
        "halves": [_half(ds, h) for h in range(n_hc)],
        "step_capacity_mAh_g": caps,
        "end_reasons": [str(r) for r in ds.step_end_reason.values],
        "capacity_not_recovered": float(ds.capacity_not_recovered) if "capacity_not_recovered" in ds else math.nan,
        "second_cycle_loss": second,
        "theta_mean_end_first_discharge": theta_start2,
        "sigma_end_first_discharge_S_m": float(sigma(theta_start2)) if np.isfinite(theta_start2) else math.nan,
        "max_drop_first_charge_V": float(np.max(ds.voltage.values[first][:, None]
                                                - ds.particle_potential.values[first])),
        "voltage_dips_first_charge": int(ds.voltage_dips.values[0]) if n_hc else 0,
    }


#: the named alternatives of the unknowns (``--sensitivity``, a reduced set): keyword arguments of
#: ``get("nmc532-sharma2022", ...)`` and ``sigma_scale`` (σ(θ) times a factor, every run); the
#: first is the shipped choice. Not yet here: the contact size (rows S2, S3 scan it) and the map
#: over σ scale × contact size.
ALTERNATIVES = {
    # the shipped σ(θ) is the one chosen on physical grounds (docs/validation.md): Amin & Chiang's table
    # with their abstract's pristine value, 1e-7 S/cm
    "shipped": {},
    "D(1) = 1e-16 m²/s": {"d_lithiated": 1e-16},
    # pristine σ at 5e-8 S/cm (pristine NMC333) and at 1e-8 S/cm (a decade below the lowest report)
    "σ × 0.5": {"sigma_scale": 0.5},
    "σ × 0.1": {"sigma_scale": 0.1},
    # the earlier table: the pristine point as read from Amin & Chiang's figure
    "σ(x=0) = 1.9e-6 S/cm": {"sigma": "amin-chiang-figure"},
}
#: what each row would need that no public source gives
OUT_OF_REACH = {
    "A1": "Sharma et al.'s σ(SOC) curve (Fig. 4b) and NMC–NMC contact sizes (SI)",
    "C1": "Sharma et al.'s σ(SOC) curve and contact sizes",
    "C2": "Sharma et al.'s σ(SOC) curve and contact sizes",
    "L1": "Sharma et al.'s D at full lithiation (Fig. 4c gives no number)",
}


def run(*, quick: bool = False, report=lambda row: None, material_options: dict | None = None) -> dict:
    """Run the simulations and measure every row (see the module docstring)."""
    from ..geometry.electrode import layered_layout, random_layout
    from ..materials import get
    from ..numerics import SolverOptions
    from ..simulate.electrode import simulate_electrode

    mode = "quick" if quick else "full"
    rtol = SETTINGS["rtol"][mode]
    solver = SolverOptions(rtol=rtol, atol=rtol * 1e-2)
    n_shells = SETTINGS["n_shells"][mode]
    out_dt = SETTINGS["output_interval_s"][mode]
    opts = dict(material_options or {})
    scale = float(opts.pop("sigma_scale", 1.0))
    sigma_x0 = opts.pop("sigma_x0_s_cm", None)

    def make(**params):
        """The run's material with some parameters changed (and σ scaled or its pristine point replaced)."""
        m = get("nmc532-sharma2022", **{**opts, **params})
        if sigma_x0 is not None:
            m = pristine_sigma_material(m, sigma_x0)
        return m if scale == 1.0 else _scaled_sigma(m, scale)

    mat = make()
    lay = layered_layout(5, 3, radius=RADIUS, coverage=0.5, carbon_columns=(0,), contact_fraction=0.1)
    rand = random_layout(24, dim=2, mean_radius=RADIUS, coverage=(0.5, 0.3), isolated_fraction=0.1,
                         rng=np.random.default_rng(1))
    cycle = [CHARGE, DISCHARGE, CHARGE, DISCHARGE]

    def sim(material, layout, protocol, **kw):
        return simulate_electrode(material, layout, protocol, n_shells=n_shells, initial_theta=THETA0,
                                  sigma_cb=SETTINGS["sigma_cb_S_m"], output_interval=out_dt, solver=solver, **kw)

    runs = {
        "model": sim(mat, lay, cycle),
        "constant σ": sim(mat, lay, cycle[:3], conductivity="constant"),
        "no low-D region": sim(make(d_lithiated=SETTINGS["d_delithiated_m2_s"]), lay, cycle[:3]),
        "random 2D": sim(mat, rand, cycle[:3]),
        "D(1) = 1e-16": sim(make(d_lithiated=1e-16), lay, cycle[:2]),
    }
    cannot_pass = {}
    for k in SIGMA_SCALES:
        with warnings.catch_warnings():
            # a scale that cannot pass C/20 below 4.3 V ends its charge at once,
            # which row S reports as "no charge"
            warnings.simplefilter("ignore", StepWarning)
            try:
                runs[f"σ × {k:g}"] = sim(_scaled_sigma(mat, k), lay, cycle[:1])
            except ProtocolError as exc:
                # no collector voltage within a cycler's compliance passes C/20 (a σ
                # already scaled in a sensitivity, scaled again here): "no charge" too
                cannot_pass[k] = str(exc).splitlines()[0]
    for cf in CONTACT_FRACTIONS:
        runs[f"contacts {cf:g} R"] = sim(mat, layered_layout(5, 3, radius=RADIUS, coverage=0.5, carbon_columns=(0,),
                                                            contact_fraction=cf), cycle[:1])
    chains = {}
    for cf in RESERVOIR_CONTACT_FRACTIONS:
        r_lay, chains[cf] = _reservoir_layout(cf)
        runs[f"reservoir {cf:g} R"] = sim(mat, r_lay, cycle if cf == RESERVOIR_CYCLED else cycle[:1])
    r_lay = _reservoir_layout(RESERVOIR_CYCLED)[0]
    runs["reservoir constant σ"] = sim(mat, r_lay, cycle[:3], conductivity="constant")
    runs["reservoir no low-D region"] = sim(make(d_lithiated=SETTINGS["d_delithiated_m2_s"]),
                                           r_lay, cycle[:3])
    meas = {k: _measure(ds, mat.sigma) for k, ds in runs.items()}
    main, c1, c2, rnd = (meas[k] for k in ("model", "constant σ", "no low-D region", "random 2D"))
    ds_main = runs["model"]
    theta_end = main["theta_mean_end_first_discharge"]
    sigma0 = float(mat.sigma(THETA0))
    rows: list[Row] = []

    def add(row: Row) -> None:
        rows.append(row)
        report(row)

    h0, later = main["halves"][0], main["halves"][1:]
    top = ds_main.top.values
    top_on = ds_main.onset_soc.values[0][top]
    # -- A1: first charge asynchronous -------------------------------------------
    add(Row(
        "A1", "(Sharma et al., Nano Lett. 2022) Figs. 1c, 2, 4d",
        "first charge asynchronous: particles brighten abruptly one after another (a step per particle); "
        "index > 1 (the optical definition)",
        f"index {h0['index']:.4f} ({h0['classification']}): onsets spread over {h0['spread']:.3f} of cell SOC "
        f"(top particles, near → far: {', '.join(_f(v) for v in top_on)}); switch centres within "
        f"{_f(h0['midpoint_range'][0])}–{_f(h0['midpoint_range'][1])}, median switch width "
        f"{h0['median_width']:.2f}, {100 * h0['fraction_step_like']:.0f} % of the particles step-like; largest collector-to-particle drop {main['max_drop_first_charge_V']:.2f} V; "
        f"random 2D: index {rnd['halves'][0]['index']:.4f}",
        "first charge classified asynchronous (index > 1)",
        h0["index"] > 1.0, COMMAND,
        {"first_charge": h0, "random_2d_first_charge": rnd["halves"][0],
         "max_drop_first_charge_V": main["max_drop_first_charge_V"]}))

    # -- A2: later half-cycles synchronous -----------------------------------------
    add(Row(
        "A2", "(Sharma et al., Nano Lett. 2022) Figs. 1c, 3",
        "subsequent (dis)charges are synchronous: gradual, uniform change of every particle",
        "index per later half-cycle: " + ", ".join(
            f"{h['direction']} {h['index']:.4f} ({100 * h['fraction_step_like']:.0f} % step-like)" for h in later)
        + f"; second-charge onsets within {later[1]['spread']:.4f} of SOC (first charge: {h0['spread']:.3f})",
        "index ≤ 1 in every half-cycle after the first",
        all(h["index"] <= 1.0 for h in later), COMMAND,
        {"later_half_cycles": later}))

    # -- A3: onset order --------------------------------------------------------------
    add(Row(
        "A3", "(Sharma et al., Nano Lett. 2022) Fig. 4d, text",
        "activity is delayed with the electrical resistance to the collector: the leftmost top particle "
        "reacts first, the rightmost last",
        f"Spearman ρ(electrical distance, first-charge onset SOC) over the {h0['n_reacted']} particles: "
        f"{h0['spearman']:.3f}; top particles' onsets increase left to right: "
        f"{'yes' if np.all(np.diff(top_on) > 0) else 'no'}; random 2D ({rnd['halves'][0]['n_reacted']} "
        f"connected particles): ρ = {rnd['halves'][0]['spearman']:.3f}",
        "ρ > 0.8 in the layered layout of (Sharma et al., Nano Lett. 2022) Fig. 4a",
        h0["spearman"] > 0.8, COMMAND,
        {"spearman_layered": h0["spearman"], "spearman_random_2d": rnd["halves"][0]["spearman"],
         "top_onsets_soc": top_on}))

    # -- L1, L2: capacity -----------------------------------------------------------------
    caps = main["step_capacity_mAh_g"]
    loss = main["capacity_not_recovered"]
    alt = meas["D(1) = 1e-16"]["capacity_not_recovered"]
    add(Row(
        "L1", "(Sharma et al., Nano Lett. 2022) Fig. 1a, S2, text",
        "roughly 10 % of the capacity is not recovered at the end of the first discharge",
        f"{100 * loss:.1f} % (charge {caps[0]:.1f}, discharge {-caps[1]:.1f} mAh/g; mean θ at the end of the "
        f"discharge {theta_end:.3f}); with D(1) = 1e-16 m²/s (two orders below the plateau instead of three): "
        f"{100 * alt:.1f} %",
        f"{100 * LOSS_BAND[0]:.0f}–{100 * LOSS_BAND[1]:.0f} %",
        LOSS_BAND[0] <= loss <= LOSS_BAND[1], COMMAND,
        {"capacity_not_recovered": loss, "step_capacity_mAh_g": caps, "loss_with_d_lithiated_1e-16": alt,
         "random_2d_loss": rnd["capacity_not_recovered"]}))
    second = main["second_cycle_loss"]
    add(Row(
        "L2", "(Sharma et al., Nano Lett. 2022) text",
        "the capacity loss for the second cycle is negligible",
        f"{100 * second + 0.0:.2f} % (charge {caps[2]:.1f}, discharge {-caps[3]:.1f} mAh/g)".replace("-0.00", "0.00"),
        "second-cycle loss < 2 %", abs(second) < 0.02, COMMAND,
        {"second_cycle_loss": second}))

    # -- controls -------------------------------------------------------------------------
    c1h, c2h = c1["halves"], c2["halves"]
    add(Row(
        "C1", "(Sharma et al., Nano Lett. 2022) Fig. 4b text",
        "without the SOC dependence of σ (constant σ) the asynchrony does not vanish in the later charge",
        f"σ fixed at σ(θ0) = {sigma0:.2g} S/m: index first charge {c1h[0]['index']:.3f}, discharge "
        f"{c1h[1]['index']:.3f}, second charge {c1h[2]['index']:.3f} ({c1h[2]['classification']}); the charges "
        f"end at 4.3 V after {c1['step_capacity_mAh_g'][0]:.0f} and {c1['step_capacity_mAh_g'][2]:.0f} mAh/g",
        "second charge classified asynchronous (index > 1)",
        c1h[2]["index"] > 1.0, COMMAND,
        {"halves": c1h, "step_capacity_mAh_g": c1["step_capacity_mAh_g"], "sigma_fixed_S_m": sigma0}))
    add(Row(
        "C2", "(Sharma et al., Nano Lett. 2022) text",
        "in the absence of first-cycle capacity loss the asynchronous reactions would have continued into "
        "subsequent cycles",
        f"D = 1e-14 m²/s everywhere: loss {100 * c2['capacity_not_recovered']:.1f} %, mean θ "
        f"{c2['theta_mean_end_first_discharge']:.3f} after the discharge; index first charge "
        f"{c2h[0]['index']:.4f}, second charge {c2h[2]['index']:.4f} ({c2h[2]['classification']})",
        "second charge classified asynchronous (index > 1)",
        c2h[2]["index"] > 1.0, COMMAND,
        {"halves": c2h, "capacity_not_recovered": c2["capacity_not_recovered"],
         "theta_mean_end_first_discharge": c2["theta_mean_end_first_discharge"]}))

    # -- M: mechanism, relative ----------------------------------------------------------------
    ratio = {k: m["halves"][2]["spread"] / m["halves"][0]["spread"] for k, m in
             (("model", main), ("constant σ", c1), ("no low-D region", c2))}
    ok = ratio["model"] < 0.5 and ratio["constant σ"] >= 0.5 and ratio["no low-D region"] >= 0.5
    add(Row(
        "M", "(Sharma et al., Nano Lett. 2022) Fig. 4b–c text, conclusions (1)–(3)",
        "the heterogeneity of the first charge disappears in later charges because the first-cycle loss leaves "
        "the NMC at a higher conductivity; removing either the σ(SOC) dependence or the loss keeps it",
        "onset spread, second / first charge: " + ", ".join(f"{k} {v:.2f}" for k, v in ratio.items())
        + f"; model: mean θ {theta_end:.3f} after the first discharge, σ {main['sigma_end_first_discharge_S_m']:.2g} "
        f"S/m against {sigma0:.2g} S/m pristine; no low-D region: θ {c2['theta_mean_end_first_discharge']:.3f}, "
        f"σ {c2['sigma_end_first_discharge_S_m']:.2g} S/m",
        "ratio < 0.5 for the model and ≥ 0.5 for both controls (a comparison of the heterogeneity, not of "
        "the asynchronous/synchronous classification)",
        ok, COMMAND,
        {"onset_spread_ratio": ratio,
         "onset_spread": {k: [h["spread"] for h in m["halves"]] for k, m in
                          (("model", main), ("constant σ", c1), ("no low-D region", c2))},
         "sigma_end_first_discharge_S_m": main["sigma_end_first_discharge_S_m"], "sigma_pristine_S_m": sigma0}))

    # -- I: isolated particles ---------------------------------------------------------------------
    ds_r = runs["random 2D"]
    iso = ds_r.isolated.values
    th = ds_r.theta_particle_mean.values
    change = float(np.max(np.abs(th[:, iso] - th[0, iso]))) if iso.any() else math.nan
    never = bool(iso.any() and not ds_r.reacted.values[:, iso].any())
    add(Row(
        "I", "the project's model notes (docs/numerics.md)",
        "isolated particles never react",
        f"random 2D: {int(iso.sum())} of {iso.size} particles isolated; largest change of their mean θ over "
        f"three half-cycles {change:.1e}; reacted in no half-cycle: {'yes' if never else 'no'}",
        "|Δθ| < 1e-9 and never reacted", bool(iso.any()) and change < 1e-9 and never, COMMAND,
        {"n_isolated": int(iso.sum()), "max_theta_change": change, "fraction_unreacted":
         [float(v) for v in ds_r.fraction_unreacted.values]}))

    # -- S: sensitivity to σ ---------------------------------------------------------------------------
    sens = {1.0: h0["index"]}
    sens_cap = {1.0: caps[0]}
    for k in SIGMA_SCALES:
        if k in cannot_pass:
            sens_cap[k], sens[k] = 0.0, math.nan
            continue
        m = meas[f"σ × {k:g}"]
        sens_cap[k] = m["step_capacity_mAh_g"][0]
        # a charge that stops at 4.3 V before half of the full charge (the carbon-wired column alone, once
        # the delayed limit applies) says nothing about switching: as in row S2 and the map
        sens[k] = m["halves"][0]["index"] if m["halves"] and sens_cap[k] >= 0.5 * caps[0] else math.nan
    scales = sorted(sens, reverse=True)
    charging = [sens[k] for k in scales if np.isfinite(sens[k])]
    stuck = [k for k in scales if not np.isfinite(sens[k])]

    def _sens_text(k):
        if np.isfinite(sens[k]):
            return f"{k:g}: {sens[k]:.3f} ({sens_cap[k]:.0f} mAh/g to 4.3 V)"
        if k in cannot_pass:
            return f"{k:g}: no charge (no collector voltage up to 10 V passes C/20 through the pristine NMC)"
        if sens_cap[k] > 1.0:
            return (f"{k:g}: the charge stops at 4.3 V after {sens_cap[k]:.0f} mAh/g (C/20 cannot pass the "
                    "pristine NMC below 4.3 V)")
        return f"{k:g}: no charge (4.3 V at once: C/20 cannot pass the pristine NMC below 4.3 V)"

    add(Row(
        "S", "(Sharma et al., Nano Lett. 2022) conclusion (1) (sensitivity, not a number of (Sharma et al., Nano Lett. 2022))",
        "the low electronic conductivity of pristine NMC creates the spatial variation of the potential that "
        "makes the first charge asynchronous",
        "first-charge index with σ(θ) × " + "; ".join(_sens_text(k) for k in scales)
        + ("; no σ gives an index above 1 before the charge becomes impossible"
           if max(charging, default=0.0) <= 1.0 else ""),
        "the first-charge index grows as σ is lowered (over the scales that still charge)",
        len(charging) >= 2 and bool(np.all(np.diff(charging) > 0)), COMMAND,
        {"first_charge_index_by_sigma_scale": sens, "charge_capacity_by_sigma_scale": sens_cap,
         "scales_without_charge": stuck, "scales_that_cannot_pass": {f"{k:g}": v for k, v in cannot_pass.items()}}))

    # -- S2: sensitivity to the contact size --------------------------------------------------------
    def _contact(m, ds):
        h = m["halves"][0] if m["halves"] else None
        cap = m["step_capacity_mAh_g"][0]
        top_mid = ds.switch_soc.values[0][ds.top.values] if h else np.array([math.nan])
        return {"index": h["index"] if h and cap > 1.0 else math.nan, "capacity_mAh_g": cap,
                "dips": m["voltage_dips_first_charge"], "median_width": h["median_width"] if h else math.nan,
                "top_midpoints_soc": top_mid.tolist(),
                "top_midpoint_spread": float(np.nanmax(top_mid) - np.nanmin(top_mid)) if h else math.nan}

    contact = {0.1: _contact(main, ds_main)}
    for cf in CONTACT_FRACTIONS:
        contact[cf] = _contact(meas[f"contacts {cf:g} R"], runs[f"contacts {cf:g} R"])

    def _contact_text(cf):
        c = contact[cf]
        if not np.isfinite(c["index"]) or c["capacity_mAh_g"] < 0.5 * caps[0]:
            return (f"{cf:g} R: the charge stops at 4.3 V after {c['capacity_mAh_g']:.0f} mAh/g (the unwired "
                    "columns cannot take C/20 below 4.3 V)")
        return (f"{cf:g} R: index {c['index']:.3f}, {c['dips']} voltage dips, top switch centres "
                f"{', '.join(_f(v, '.2f') for v in c['top_midpoints_soc'])}, median switch width {c['median_width']:.2f}, "
                f"{c['capacity_mAh_g']:.0f} mAh/g")

    pc = contact[CONTACT_FRACTIONS[0]]
    indices = [contact[cf]["index"] for cf in sorted(contact, reverse=True) if np.isfinite(contact[cf]["index"])
               and contact[cf]["capacity_mAh_g"] >= 0.5 * caps[0]]
    add(Row(
        "S2", "(Sharma et al., Nano Lett. 2022) Fig. 4a text (sensitivity, not a number of (Sharma et al., Nano Lett. 2022))",
        "particles reached through NMC contacts switch on one after another in the first charge",
        "NMC–NMC contact radius " + "; ".join(_contact_text(cf) for cf in sorted(contact, reverse=True))
        + (f"; the largest index among the radii that still charge: {max(indices):.2f}" if indices else ""),
        f"at {CONTACT_FRACTIONS[0]:g} R: ≥ 2 voltage dips of ≥ {1000 * DIP_DEPTH:.0f} mV and top-particle "
        "midpoints spread over > 0.2 of SOC",
        pc["dips"] >= 2 and pc["top_midpoint_spread"] > 0.2, COMMAND,
        {"by_contact_fraction": {f"{cf:g}": v for cf, v in contact.items()}}))

    # -- S3: the observed chain when the rest of the electrode carries the current ----------------------
    from ..observe.electrode import asynchrony_of

    chain = {}
    for cf in RESERVOIR_CONTACT_FRACTIONS:
        ds = runs[f"reservoir {cf:g} R"]
        tab = asynchrony_of(ds, chains[cf])
        first = ds.sizes.get("half_cycle", 0) > 0  # the first charge is half-cycle 0
        chain[cf] = {
            "index": tab.asynchrony_index.tolist(),
            "n_reacted_first_charge": int(tab.n_reacted.iloc[0]) if len(tab) else 0,
            "median_width_first_charge": float(tab.median_width_soc.iloc[0]) if len(tab) else math.nan,
            "widths_first_charge": ds.switch_width_soc.values[0][chains[cf]].tolist() if first else [],
            "capacity_mAh_g": meas[f"reservoir {cf:g} R"]["step_capacity_mAh_g"],
        }

    def _chain_text(cf):
        c = chain[cf]
        first = c["index"][0] if c["index"] else math.nan
        text = f"{cf:g} R: {first:.2f}"
        if c["n_reacted_first_charge"] < len(chains[cf]):
            text += (f" ({len(chains[cf]) - c['n_reacted_first_charge']} of {len(chains[cf])} never react; "
                     f"{c['capacity_mAh_g'][0]:.0f} mAh/g to 4.3 V)")
        elif cf == RESERVOIR_CYCLED:
            text += (f" (widths near → far {', '.join(_f(w, '.2f') for w in c['widths_first_charge'])}), later "
                     f"half-cycles {', '.join(f'{v:.2f}' for v in c['index'][1:])}")
        return text

    cyc = chain[RESERVOIR_CYCLED]["index"]
    n_chain = len(chains[RESERVOIR_CYCLED])
    seen = _through_microscope(runs[f"reservoir {RESERVOIR_CYCLED:g} R"], chains[RESERVOIR_CYCLED])
    controls = {}
    for key in ("constant σ", "no low-D region"):
        ds = runs[f"reservoir {key}"]
        tab = asynchrony_of(ds, chains[RESERVOIR_CYCLED])
        th = ds.theta_particle_mean.values[ds.step.values == 1][-1][chains[RESERVOIR_CYCLED]]
        controls[key] = {"index": tab.asynchrony_index.tolist(), "n_reacted": tab.n_reacted.tolist(),
                         "chain_theta_end_first_discharge": th.tolist(),
                         "capacity_not_recovered": meas[f"reservoir {key}"]["capacity_not_recovered"]}

    def _control_text(key):
        c = controls[key]
        text = f"{key}: chain index {', '.join(f'{v:.2f}' for v in c['index'])} by half-cycle"
        if min(c["n_reacted"]) < n_chain:
            text += f" ({n_chain - min(c['n_reacted'])} of {n_chain} never react)"
        return text + (f", {100 * c['capacity_not_recovered']:.0f} % not recovered, chain θ after the discharge "
                       f"{min(c['chain_theta_end_first_discharge']):.2f}–{max(c['chain_theta_end_first_discharge']):.2f}")
    add(Row(
        "S3", "(Sharma et al., Nano Lett. 2022) Figs. 1c, 2 text (sensitivity, not a number of (Sharma et al., Nano Lett. 2022))",
        "many particles show no change after 13 h of the C/20 first charge, so the cell current runs through "
        "particles out of view; the observed ones brighten abruptly one after another, and change together later",
        f"the top particles of (Sharma et al., Nano Lett. 2022) Fig. 4a's chain (0–4 NMC contacts from carbon) beside {RESERVOIR_COLUMNS} "
        "carbon-wired columns that carry the current; index of the chain in the first charge, by NMC–NMC contact "
        "radius: " + "; ".join(_chain_text(cf) for cf in RESERVOIR_CONTACT_FRACTIONS)
        + f". Through the microscope (the chain in a synthetic movie of the top layer, {MOVIE['pixel_size_nm']:g} nm "
        f"pixels, {MOVIE['psf_fwhm_nm']:g} nm PSF, shot and read noise, read by the optical pipeline): index "
        f"{', '.join(f'{v:.2f}' for v in seen['index'])} by half-cycle, first charge "
        f"{seen['classification_first_charge'].count('step-like')} of {n_chain} step-like (logistic fits of the "
        f"surface θ in the simulation: {', '.join(f'{v:.2f}' for v in seen['simulated_fit_index'])})"
        + f". Controls at {RESERVOIR_CYCLED:g} R: " + "; ".join(_control_text(k) for k in controls)
        + (" (neither keeps the second charge asynchronous)"
           if all(len(c["index"]) < 3 or c["index"][2] <= 1.0 for c in controls.values())
           else " (a control keeps the second charge asynchronous)"),
        f"at {RESERVOIR_CYCLED:g} R: first charge index > 1 and every later half-cycle ≤ 1",
        len(cyc) >= 4 and cyc[0] > 1.0 and all(v <= 1.0 for v in cyc[1:]), COMMAND,
        {"by_contact_fraction": {f"{cf:g}": v for cf, v in chain.items()}, "reservoir_columns": RESERVOIR_COLUMNS,
         "controls": controls, "through_microscope": seen}))

    settings = dict(SETTINGS, n_shells_used=n_shells, output_interval_used_s=out_dt, rtol_used=rtol,
                    sigma_pristine_S_m=sigma0,
                    sigma_scales=list(SIGMA_SCALES), contact_fractions=list(CONTACT_FRACTIONS))
    return {"rows": rows, "settings": settings, "preamble": _preamble(quick, n_shells, sigma0, mat),
            "runs": runs, "meas": meas}


def _preamble(quick: bool, n_shells: int, sigma0: float, mat) -> str:
    q = mat.theoretical_capacity / 3600.0
    return f"""
All runs: material `nmc532-sharma2022` (D from 1e-17 m²/s at x = 1 to 1e-14 m²/s below x ≈ 0.8, a
log-logistic step centred at x = 0.9; the Mohtat2020 OCP on θ, 4.30 V at θ = 0.294; i0 of `nmc532`;
σ(θ): {mat.sigma.source.split(" (electronic")[0]}{'' if 'pristine point' not in mat.sigma.source else ', ' + mat.sigma.source.split('; ')[-1]}), the layered layout of (Sharma et al., Nano Lett. 2022) Fig. 4a (5 × 3 particles of radius 3.5 µm, carbon
pillar on the left column, coverage 0.5, NMC–NMC contacts of radius 0.1 R: the top particles reach the
collector through 0–4 NMC particles), σ_CB = 1e4 S/m, {n_shells} radial shells, initial θ = {THETA0} (pristine;
σ = {sigma0:.2g} S/m), C/20 on 160 mAh/g, "{CHARGE}" and "{DISCHARGE}" (the OCP ends at 2.82 V at
full lithiation: 2.5 V is met when saturating surfaces run the voltage through it). Cell SOC = share of all sites emptied since the start (theoretical {q:.0f} mAh/g).
Controls: `conductivity="constant"` (σ fixed at σ(θ0)), and `d_lithiated = 1e-14` (D constant, no
low-D region). Row I uses a random 2D cross-section of 24 particles (10 % isolated). Asynchrony: each
particle's switch, the peak of d(mean θ)/d(cell SOC) in the half-cycle (its centre and full width at half
maximum); index = IQR(switch centres)/median(switch width), asynchronous above 1; step-like: switch width
below 0.25 of SOC (the optical analysis' definitions, which do not depend on where a half-cycle ends).
Onsets (rows A3, M) stay at 10 % of each particle's change.
{"Quick mode: coarse radial grid and sparse samples; use the full run for numbers." if quick else ""}
"""


def make_figures(result: dict, out) -> None:
    """Write the figures of :data:`FIGURES` into ``out``."""
    from pathlib import Path

    from ..plotting._common import _plt
    from ..plotting.electrode import plot_asynchrony, plot_particle_traces
    from ..plotting.validation import plot_voltage_capacity_runs, save_figure

    out = Path(out)
    runs = result["runs"]
    plt = _plt()
    reservoir = f"reservoir {RESERVOIR_CYCLED:g} R"
    shown = ("model", "constant σ", "no low-D region", f"contacts {CONTACT_FRACTIONS[0]:g} R", reservoir)
    ncol = max(runs[k].sizes["half_cycle"] for k in shown)
    fig, axes = plt.subplots(len(shown), ncol, figsize=(3.1 * ncol, 3.0 * len(shown)), squeeze=False,
                             layout="constrained")
    for row, key in zip(axes, shown):
        ds = runs[key]
        # the reservoir run: only the observed chain (row S3), not the wired columns
        particles = _reservoir_layout(RESERVOIR_CYCLED)[1] if key == reservoir else None
        used = plot_particle_traces(ds, particles=particles, ax=list(row[: ds.sizes["half_cycle"]]))
        label = f"{key} (chain)" if key == reservoir else key
        used[0].set_ylabel(f"{label}\nparticle mean θ", fontsize=8)
        for a in row[ds.sizes["half_cycle"]:]:
            a.set_visible(False)
    fig.suptitle("top particles, mean θ against cell SOC per half-cycle (colour: electrical distance, "
                 "dark = near the collector)", fontsize=10)
    save_figure(fig, out / FIGURES[0])

    fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
    plot_asynchrony({k: runs[k] for k in ("model", "constant σ", "no low-D region", "random 2D")}, ax=ax)
    ax.set_title("asynchrony index per half-cycle (asynchronous above the dashed line)", fontsize=9)
    save_figure(fig, out / FIGURES[1])

    save_figure(plot_voltage_capacity_runs(
        [(k, runs[k]) for k in ("model", "constant σ", "no low-D region")],
        suptitle="C/20 between 4.3 and 2.5 V from θ = 0.99 (layered layout)"), out / FIGURES[2])


# -- the map over σ(θ) and contact size (issue 21, item 5) -------------------------------------------------
#: pristine (x = 0) conductivities of the map [S/cm], each with its source: the σ(θ) of the map is Amin &
#: Chiang's table with its x = 0 point replaced (the other points, x = 0.1–0.75, kept)
MAP_PRISTINE_SIGMA_S_CM = {
    1.9e-6: "Amin & Chiang, read from their figure (the shipped nmc532)",
    1e-7: "Amin & Chiang's abstract (~1e-7 S/cm at x = 0): the chosen value",
    5e-8: "pristine NMC333 (literature value)",
    1e-8: "a decade below the lowest report (issue 21's steep-σ case)",
}
#: NMC–NMC contact radii of the map (fractions of R): the shipped 0.1 R, and two smaller ones in the band
#: where rows S2 and S3 find sequential switching
MAP_CONTACT_FRACTIONS = (0.1, 0.01, 0.003)
#: the point chosen on physical grounds (docs/validation.md, Sharma et al. (Nano Lett. 2022) section), before the map was run
MAP_CHOICE = (1e-7, 0.1)
MAP_FILES = ("map.csv", "map.png", "map.md", "provenance.json")


def pristine_sigma_material(mat, sigma_x0_s_cm: float):
    """``mat`` with σ(θ) = Amin & Chiang's table whose x = 0 point is ``sigma_x0_s_cm`` [S/cm].

    The points at x = 0.1, 0.3, 0.5, 0.75 (2.8e-4 … 1.4e-2 S/cm) stay; log10 σ is interpolated by PCHIP
    as in :func:`socscope.materials.amin_chiang_sigma`.
    """
    from .._checks import positive_float
    from ..materials import Material
    from ..materials._library import amin_chiang_sigma

    s0 = positive_float("sigma_x0_s_cm", sigma_x0_s_cm, unit=" S/cm", example="1e-7")
    sigma = amin_chiang_sigma(sigma_x0_s_cm=s0)
    return Material(name=f"{mat.name} sigma0 {s0:g} S/cm", description=f"{mat.description}; σ(x=0) = {s0:g} S/cm",
                    source=mat.source, c_max=mat.c_max, density=mat.density, capacity=mat.capacity,
                    molar_mass=mat.molar_mass, U=mat.U, D=mat.D, i0=mat.i0, sigma=sigma)


def sigma_contact_map(*, sigma_x0_s_cm=tuple(MAP_PRISTINE_SIGMA_S_CM), contact_fractions=MAP_CONTACT_FRACTIONS,
                      quick: bool = False, report=lambda line: None):
    """First-charge step-likeness and second-charge asynchrony over pristine σ × NMC–NMC contact size.

    Each point runs charge, discharge and charge (the rows' protocol) on the Fig. 4a layout of Sharma et al. (Nano Lett. 2022)
    (Sharma et al., Nano Lett. 2022) with σ(θ) from :func:`pristine_sigma_material` and the given contact
    radius, serially.

    Parameters
    ----------
    sigma_x0_s_cm : sequence of float
        Pristine conductivities [S/cm].
    contact_fractions : sequence of float
        NMC–NMC contact radii as fractions of the particle radius.
    quick : bool
        Quick settings (8 shells, rtol 1e-3, 30 min samples) or the full ones (20 shells, rtol 1e-4,
        10 min samples; default: the quick ones move the band's edges, see docs/validation.md).
    report : callable
        Called with one line of text per point.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``sigma_x0_S_cm``, ``contact_fraction``, ``charge1_mAh_g``,
        ``index_charge1``, ``fraction_step_like_charge1``, ``median_width_charge1`` (SOC),
        ``index_charge2``, ``fraction_step_like_charge2``, ``loss_first_cycle``, ``verdict``
        (Sharma et al.'s behaviour: first charge asynchronous with step-like switches, second charge synchronous),
        ``note``.
    """
    import pandas as pd

    from .._checks import fraction
    from ..errors import SocscopeError
    from ..geometry.electrode import layered_layout
    from ..materials import get
    from ..numerics import SolverOptions
    from ..simulate.electrode import simulate_electrode

    mode = "quick" if quick else "full"
    rtol = SETTINGS["rtol"][mode]
    base = get("nmc532-sharma2022")
    rows = []
    for s0 in sigma_x0_s_cm:
        mat = pristine_sigma_material(base, s0)
        for cf in contact_fractions:
            cf = fraction("contact_fraction", cf, example="0.1")
            lay = layered_layout(5, 3, radius=RADIUS, coverage=0.5, carbon_columns=(0,), contact_fraction=cf)
            row = {"sigma_x0_S_cm": float(s0), "contact_fraction": cf}
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", StepWarning)
                    ds = simulate_electrode(mat, lay, [CHARGE, DISCHARGE, CHARGE], n_shells=SETTINGS["n_shells"][mode],
                                            initial_theta=THETA0, sigma_cb=SETTINGS["sigma_cb_S_m"],
                                            output_interval=SETTINGS["output_interval_s"][mode],
                                            solver=SolverOptions(rtol=rtol, atol=rtol * 1e-2))
                m = _measure(ds, mat.sigma)
                h = m["halves"]
                cap = m["step_capacity_mAh_g"]
                row.update({
                    "charge1_mAh_g": cap[0],
                    "index_charge1": h[0]["index"] if h else math.nan,
                    "fraction_step_like_charge1": h[0]["fraction_step_like"] if h else math.nan,
                    "median_width_charge1": h[0]["median_width"] if h else math.nan,
                    "index_charge2": h[2]["index"] if len(h) > 2 else math.nan,
                    "fraction_step_like_charge2": h[2]["fraction_step_like"] if len(h) > 2 else math.nan,
                    "loss_first_cycle": m["capacity_not_recovered"], "note": ""})
            except SocscopeError as exc:
                row.update({"charge1_mAh_g": math.nan, "index_charge1": math.nan,
                            "fraction_step_like_charge1": math.nan, "median_width_charge1": math.nan,
                            "index_charge2": math.nan, "fraction_step_like_charge2": math.nan,
                            "loss_first_cycle": math.nan, "note": str(exc).splitlines()[0][:200]})
            row["verdict"] = _map_verdict(row)
            rows.append(row)
            report(f"σ(x=0) {s0:g} S/cm, contacts {cf:g} R: first charge index {row['index_charge1']:.3g} "
                   f"({100 * row['fraction_step_like_charge1']:.0f} % step-like), second charge index "
                   f"{row['index_charge2']:.3g}: {row['verdict']}")
    return pd.DataFrame(rows)


def _map_verdict(row: dict) -> str:
    """Sharma et al.'s behaviour at a map point: 'as Sharma et al. (Nano Lett. 2022)', or what differs."""
    if not np.isfinite(row["index_charge1"]) or not row["charge1_mAh_g"] > 0.5 * 193.0:
        return "first charge does not complete"
    first = row["index_charge1"] > 1.0 and row["fraction_step_like_charge1"] >= 0.5
    second = np.isfinite(row["index_charge2"]) and row["index_charge2"] <= 1.0
    if first and second:
        return "as Sharma et al. (Nano Lett. 2022)"
    if not first:
        return "first charge synchronous or gradual"
    return "second charge asynchronous"


def run_map(out=None, *, overwrite: bool = False, quick: bool = False, verbose: bool = True):
    """Run :func:`sigma_contact_map` and write ``map.csv``, ``map.md``, ``map.png`` and ``provenance.json``.

    Parameters
    ----------
    out : str or Path, optional
        Output folder; default ``./map-sharma2022``.
    overwrite : bool
        Replace the files of an existing folder.
    quick : bool
        Quick settings instead of the full ones.
    verbose : bool
        Print one line per point.

    Returns
    -------
    pandas.DataFrame
        The map (see :func:`sigma_contact_map`).
    """
    import time
    from pathlib import Path

    from .._provenance import provenance
    from ..io.results import check_output_folder, write_text_atomic

    out = Path(out) if out is not None else Path("map-sharma2022")
    check_output_folder(out, MAP_FILES, overwrite=overwrite)
    t0 = time.perf_counter()
    table = sigma_contact_map(quick=quick, report=(lambda line: print(line, flush=True)) if verbose else (lambda s: None))
    wall = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "map.csv", table.to_csv(index=False))
    write_text_atomic(out / "map.md", _map_markdown(table, quick, wall))
    make_map_figure(table, out / "map.png")
    from ..io.results import write_provenance

    write_provenance(out, provenance())
    if verbose:
        print(f"wrote {out}/ ({wall:.0f} s)")
    return table


def _map_markdown(table, quick: bool, wall: float) -> str:
    lines = [("| σ(x = 0) [S/cm] | contact radius [R] | first charge [mAh/g] | index, 1st charge | step-like, 1st "
              "charge | median width, 1st charge | index, 2nd charge | loss, 1st cycle | verdict |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        mark = " (chosen)" if (r.sigma_x0_S_cm, r.contact_fraction) == MAP_CHOICE else ""
        lines.append(f"| {r.sigma_x0_S_cm:g}{mark} | {r.contact_fraction:g} | {r.charge1_mAh_g:.0f} | "
                     f"{r.index_charge1:.3g} | {100 * r.fraction_step_like_charge1:.0f} % | "
                     f"{r.median_width_charge1:.2f} | {r.index_charge2:.3g} | {100 * r.loss_first_cycle:.1f} % | "
                     f"{r.verdict}{'; ' + r.note if r.note else ''} |")
    lines += ["", f"Mode: {'quick' if quick else 'full'}; {wall:.0f} s.", ""]
    return "\n".join(lines)


def make_map_figure(table, path) -> None:
    """Two panels over pristine σ × contact size: first-charge step-like share, second-charge index."""
    from ..plotting._common import _plt
    from ..plotting.validation import save_figure

    plt = _plt()
    sig = sorted(table.sigma_x0_S_cm.unique(), reverse=True)
    cfs = sorted(table.contact_fraction.unique(), reverse=True)

    def grid(col):
        g = np.full((len(cfs), len(sig)), np.nan)
        stops = {}
        for r in table.itertuples():
            i, j = cfs.index(r.contact_fraction), sig.index(r.sigma_x0_S_cm)
            if r.verdict == "first charge does not complete":
                stops[i, j] = r.charge1_mAh_g  # the switches of a charge that stops say nothing
            else:
                g[i, j] = getattr(r, col)
        return g, stops

    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), layout="constrained")
    panels = (("fraction_step_like_charge1", "first charge: share of particles step-like", 0.0, 1.0),
              ("index_charge2", "second charge: asynchrony index (> 1 asynchronous)", 0.0, 2.0))
    for ax, (col, title, lo, hi) in zip(axes, panels):
        g, stops = grid(col)
        im = ax.imshow(g, cmap="viridis", vmin=lo, vmax=hi, aspect="auto")
        for i in range(len(cfs)):
            for j in range(len(sig)):
                if (i, j) in stops:
                    text = f"stops at\n{stops[i, j]:.0f} mAh/g" if np.isfinite(stops[i, j]) else "no charge"
                else:
                    text = "n/a" if not np.isfinite(g[i, j]) else f"{g[i, j]:.2g}"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="w" if (i, j) not in stops else "k")
        if MAP_CHOICE[0] in sig and MAP_CHOICE[1] in cfs:
            ax.add_patch(plt.Rectangle((sig.index(MAP_CHOICE[0]) - 0.5, cfs.index(MAP_CHOICE[1]) - 0.5), 1, 1,
                                       fill=False, ec="r", lw=2))
        ax.set_xticks(range(len(sig)), [f"{s:g}" for s in sig], fontsize=8)
        ax.set_yticks(range(len(cfs)), [f"{c:g}" for c in cfs], fontsize=8)
        ax.set_xlabel("pristine σ(x = 0) [S/cm]")
        ax.set_ylabel("NMC–NMC contact radius [R]")
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle("Sharma et al. (Nano Lett. 2022) layout, C/20: where the first charge is step-like and the second synchronous "
                 "(red: the chosen point)", fontsize=9)
    save_figure(fig, path)
