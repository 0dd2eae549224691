"""``socscope demo``: the built-in demonstration, on built-in defaults.

A 2 µm single-crystal Ni-rich disc (``ni88-xu2022``) charged at C/3 for
35 minutes: the periphery delithiates first and the core lags (Xu et al.
(Joule 2022), Figs. 2–3, where the contrast is nearly uniform again by 35 minutes;
``docs/validation.md`` row a3 compares the two). Then a full C/3 cycle of the same disc with
Butler–Volmer kinetics (charge to 4.3 V, discharge to 3.0 V, 2 h hold at
3.0 V): the voltage curve, the Li-rich rim and Li-poor core left at the end
of discharge, and what the hold recovers. Last, a network electrode of 15
NMC532 particles wired as in Sharma et al. (Nano Lett. 2022) Fig. 4a through two C/20
charges: onsets in order of electrical distance, the first-cycle loss, and
the asynchrony index per half-cycle. Writes the results (netCDF), seven
figures and a summary (Markdown and JSON) into one folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["DEMO_CYCLE", "DEMO_ELECTRODE", "DEMO_MAP_TIMES_S", "DEMO_PROTOCOL", "add_demo_parser", "run_demo"]

DEMO_PROTOCOL = ("Charge at C/3 for 35 minutes",)
DEMO_MAP_TIMES_S = (300.0, 900.0, 1500.0, 2100.0)
DEMO_CYCLE = ("Charge at C/3 until 4.3 V", "Discharge at C/3 until 3.0 V", "Hold at 3.0 V for 2 hours")
#: Sharma et al.'s protocol: constant current, the 4.3 V limit ignoring the first hour (the start-up
#: transient of the carbon-wired column; see docs/validation.md)
DEMO_ELECTRODE = ("Charge at C/20 until 4.3 V after 1 hour", "Discharge at C/20 until 2.5 V",
                  "Charge at C/20 until 4.3 V after 1 hour")
_FILES = ("disc_charge_C3.nc", "disc_cycle_C3.nc", "electrode_C20.nc", "theta_maps.png", "theta_traces.png",
          "periphery_core.png", "voltage_curve.png", "cycle_maps.png", "electrode_traces.png",
          "electrode_dol.png", "summary.md", "summary.json", "provenance.json")


def _prepare(out: Path, overwrite: bool) -> None:
    from ..io.results import check_output_folder

    check_output_folder(out, _FILES, overwrite=overwrite)


def _run(model, protocol, total_s, desc, quiet, interval, *, initial_theta=0.97, **run_options):
    """Run a protocol with a progress bar (unless quiet)."""
    from ..protocols import parse_protocol
    from ._common import _estimated_duration, _progress_bar

    estimated = False
    if total_s is None:  # condition-ended steps: estimated at their C-rate, as simulate does
        total_s, estimated = _estimated_duration(parse_protocol(list(protocol)))
    bar, cb = _progress_bar(total_s, desc, estimated=estimated) if not quiet else (None, None)
    try:
        return model.run(list(protocol), initial_theta=initial_theta, output_interval=interval, progress=cb,
                         **run_options)
    finally:
        if bar is not None:
            bar.close()


def run_demo(out: Path, *, overwrite: bool = False, quiet: bool = False, provenance: dict | None = None) -> dict:
    """Run the demo and write its files into ``out``, all of them or (after an error) none.

    ``provenance`` (from the command) goes into every results file and
    ``provenance.json``; without it the Python call is recorded.

    Returns
    -------
    dict
        The summary numbers (also written to ``summary.json``).
    """
    from .._provenance import provenance as _make
    from ..io.results import output_folder

    prov = provenance if provenance is not None else _make(call=f"socscope.cli.demo.run_demo({str(out)!r})")
    out = Path(out)
    _prepare(out, overwrite)
    with output_folder(out, _FILES, overwrite=overwrite) as tmp:
        summary = _run_demo_into(tmp, quiet=quiet, prov=prov)
    if not quiet:
        print(f"wrote {out.resolve()}/")
    return summary


def _run_demo_into(out: Path, *, quiet: bool, prov: dict) -> dict:
    """The demo's runs and files, written into the (temporary) folder ``out``."""
    import matplotlib

    matplotlib.use("Agg")

    from .. import __version__, materials
    from ..constants import F
    from ..geometry import Disc
    from ..io.results import save_results, write_text_atomic
    from ..observe import cycle_summary
    from ..plotting import (
        plot_dol_histogram,
        plot_particle_traces,
        plot_periphery_core,
        plot_theta_maps,
        plot_traces,
        plot_voltage_curve,
        save_figure,
    )
    from ..simulate import ParticleModel

    mat = materials.get("ni88-xu2022")
    geo = Disc(diameter=2e-6)
    t0 = time.perf_counter()
    model = ParticleModel(mat, geo, resolution=25e-9)
    ds = _run(model, DEMO_PROTOCOL, 35 * 60.0, "demo: C/3 charge of a 2 µm ni88 disc", quiet, 30.0)
    wall = time.perf_counter() - t0
    save_results(ds, out / "disc_charge_C3.nc", overwrite=True, provenance=prov)

    # a full C/3 cycle with a CV hold, at the pixel size of the optical images of (Lun et al.)
    t1 = time.perf_counter()
    cycle_model = ParticleModel(mat, geo, resolution=34.7e-9)
    cyc = _run(cycle_model, DEMO_CYCLE, None, "demo: C/3 cycle with a 2 h hold at 3.0 V", quiet, 60.0)
    wall_cycle = time.perf_counter() - t1
    save_results(cyc, out / "disc_cycle_C3.nc", overwrite=True, provenance=prov)
    ce = cycle_summary(cyc).iloc[0]
    ends = [float(x) for x in cyc.step_end_time.values]

    # a network electrode: the layered layout of (Sharma et al., Nano Lett. 2022) Fig. 4a, NMC532 of (Sharma et al., Nano Lett. 2022)
    t2 = time.perf_counter()
    el = _electrode(quiet)
    wall_el = time.perf_counter() - t2
    save_results(el, out / "electrode_C20.nc", overwrite=True, provenance=prov)

    fig = plot_theta_maps(ds, DEMO_MAP_TIMES_S)
    fig.suptitle("ni88-xu2022, 2 µm disc, C/3 charge: Li-poor periphery, Li-rich core")
    save_figure(fig, out / "theta_maps.png", dpi=150)
    ax = plot_traces(ds)
    ax.set_title("mean, centre and surface occupancy")
    save_figure(ax.figure, out / "theta_traces.png", dpi=150)
    ax = plot_periphery_core(ds)
    ax.set_title("periphery − core and max − min occupancy")
    save_figure(ax.figure, out / "periphery_core.png", dpi=150)
    ax = plot_voltage_curve(cyc)
    ax.set_title("ni88-xu2022, 2 µm disc: C/3 cycle and 2 h hold at 3.0 V")
    save_figure(ax.figure, out / "voltage_curve.png", dpi=150)
    fig = plot_theta_maps(cyc, ends)
    for a, title in zip(fig.axes, ("end of charge (4.3 V)", "end of discharge (3.0 V)", "after the 2 h hold")):
        a.set_title(title)
    fig.suptitle("the Li-rich rim and Li-poor core left by the discharge, and what the hold recovers")
    save_figure(fig, out / "cycle_maps.png", dpi=150)
    axes = plot_particle_traces(el)
    for a, share in zip(axes, el.fraction_step_like.values):
        # the asynchrony index is in each panel's title; the step-likeness beside it
        a.set_title(f"{a.get_title()}\n{100 * float(share):.0f} % of the particles step-like", fontsize=8)
    axes[0].figure.suptitle("15 NMC532 particles wired as in Sharma et al. (Nano Lett. 2022) Fig. 4a, C/20 (colour: electrical distance)")
    save_figure(axes[0].figure, out / "electrode_traces.png", dpi=150)
    ax = plot_dol_histogram(el)
    ax.set_title("degree of lithiation of the 15 particles at the end of each step")
    save_figure(ax.figure, out / "electrode_dol.png", dpi=150)

    centre = ds.theta_centre
    lag = ds.time.where(centre < float(centre[0]) - 0.005).min()
    inventory_err = float(abs(ds.lithium[-1] - (ds.lithium[0] - ds.charge[-1] / F)) / ds.lithium[0])
    at = ds.sel(time=list(DEMO_MAP_TIMES_S), method="nearest")
    summary = {
        "socscope_version": __version__,
        "material": mat.name,
        "geometry": "disc, diameter 2 µm, polar grid with 25 nm rings",
        "n_cells": model.grid.n_cells,
        "protocol": list(DEMO_PROTOCOL),
        "c_rate_basis_mAh_g": model.basis / 3600,
        "wall_time_s": round(wall, 2),
        "solver_steps": int(ds.attrs["solver_steps"]),
        "map_times_min": [t / 60 for t in DEMO_MAP_TIMES_S],
        "theta_mean": [round(float(v), 4) for v in at.theta_mean],
        "theta_centre": [round(float(v), 4) for v in at.theta_centre],
        "theta_surface": [round(float(v), 4) for v in at.theta_surface],
        "periphery_minus_core": [round(float(v), 4) for v in at.theta_periphery_minus_core],
        "front_depth_nm": [round(float(v) * 1e9, 1) for v in at.front_depth],
        "centre_lag_min": None if bool(lag.isnull()) else round(float(lag) / 60, 2),
        "li_inventory_relative_error": inventory_err,
        "cycle": {
            "protocol": list(DEMO_CYCLE),
            "n_cells": cycle_model.grid.n_cells,
            "resolution_nm": 34.7,
            "wall_time_s": round(wall_cycle, 2),
            "charge_mAh_g": round(float(ce.charge_mAh_g), 2),
            "discharge_cc_mAh_g": round(float(ce.discharge_cc_mAh_g), 2),
            "recovered_by_hold_mAh_g": round(float(ce.discharge_cv_mAh_g), 2),
            "coulombic_efficiency_cc": round(float(ce.coulombic_efficiency_cc), 4),
            "coulombic_efficiency_with_hold": round(float(ce.coulombic_efficiency), 4),
            "periphery_minus_core_end_of_discharge": round(float(
                cyc.theta_periphery_minus_core.sel(time=ends[1], method="nearest")), 4),
            "theta_range_after_hold": round(float(cyc.theta_range[-1]), 4),
        },
        "electrode": {
            "protocol": list(DEMO_ELECTRODE),
            "material": "nmc532-sharma2022",
            # σ(θ) rise from the pristine start (θ = 0.99) to a tenth delithiated (θ = 0.9)
            "sigma_rise_first_tenth": round(_sigma_rise(), 0),
            "layout": "layered_layout(5, 3, radius=3.5e-6): top particles reach the collector through 0-4 NMC particles",
            "wall_time_s": round(wall_el, 2),
            "step_capacity_mAh_g": [round(float(v), 2) for v in el.step_capacity.values],
            "capacity_not_recovered": round(float(el.capacity_not_recovered), 4),
            "asynchrony_index": [round(float(v), 4) for v in el.asynchrony_index.values],
            "fraction_step_like": [round(float(v), 4) for v in el.fraction_step_like.values],
            "classification": [str(v) for v in el.classification.values],
            "first_charge_onset_order_spearman": round(_onset_order(el), 4),
        },
    }
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    rows = "\n".join(
        f"| {m:.0f} | {a:.3f} | {c:.3f} | {s:.3f} | {p:+.3f} | {d:.0f} |"
        for m, a, c, s, p, d in zip(summary["map_times_min"], summary["theta_mean"], summary["theta_centre"],
                                    summary["theta_surface"], summary["periphery_minus_core"],
                                    summary["front_depth_nm"])
    )
    lag_text = (f"{summary['centre_lag_min']:.1f} min" if summary["centre_lag_min"] is not None
                else "more than 35 min")
    md = f"""# socscope demo

A 2 µm single-crystal LiNi0.88Mn0.05Co0.07O2 disc (`ni88-xu2022`: D(θ) shaped like measured NMC811
diffusivities, 1e-18 m²/s at θ = 0.98 as Xu et al.'s D_app = 2.7 × D_GITT, ~340× higher at θ = 0.8)
charged at C/3 ({summary['c_rate_basis_mAh_g']:.0f} mAh/g basis) for 35 minutes from θ = 0.97, Li
moving only in the ab-plane. The periphery delithiates first and the core lags behind, the
core–shell Xu et al. observed by operando optical microscopy (Figs. 2–3) at 5–25 minutes. At
35 minutes Xu et al. (Joule 2022) sees a nearly uniform contrast; here periphery − core is still
{summary['periphery_minus_core'][-1]:+.3f} (`docs/validation.md`, row a3).

| time [min] | mean θ | centre θ | surface θ | periphery − core | front depth [nm] |
|---:|---:|---:|---:|---:|---:|
{rows}

- The centre starts to delithiate (θ drops by 0.005) after {lag_text}.
- Li inventory matches the passed charge to a relative {inventory_err:.1e}.
- {summary['n_cells']} cells, {summary['solver_steps']} time steps, {summary['wall_time_s']} s.

## A full C/3 cycle with Butler–Volmer kinetics

{' → '.join(DEMO_CYCLE)} (34.7 nm rings, {summary['cycle']['n_cells']} cells,
{summary['cycle']['wall_time_s']} s):

| charge | CC discharge | recovered by the hold | CE, CC only | CE with the hold |
|---:|---:|---:|---:|---:|
| {ce.charge_mAh_g:.1f} mAh/g | {ce.discharge_cc_mAh_g:.1f} mAh/g | {ce.discharge_cv_mAh_g:.1f} mAh/g | {100 * ce.coulombic_efficiency_cc:.1f} % | {100 * ce.coulombic_efficiency:.1f} % |

At the end of the CC discharge the rim is Li-rich and the core Li-poor (periphery − core =
{summary['cycle']['periphery_minus_core_end_of_discharge']:+.3f}): Li enters the nearly full surface
so slowly that 3.0 V is reached with capacity still missing, which the hold at 3.0 V then
recovers (Xu et al. measured 84.0 % → 91.2 % at C/3; our OCP is a stand-in, a measured NMC811
curve; `docs/validation.md`, rows h1–h4).

## A network electrode at C/20

15 NMC532 particles (`nmc532-sharma2022`, radius 3.5 µm) stacked in 5 columns of 3 above the
current collector as in Sharma et al. (Nano Lett. 2022) Fig. 4a: a carbon pillar wires the left column, and the
top particles reach the collector through 0–4 pristine NMC particles, whose conductivity rises
{summary['electrode']['sigma_rise_first_tenth']:.0f}× between θ = 0.99 and θ = 0.9 (Amin & Chiang's
σ(θ) with the pristine 1e-7 S/cm of their abstract; `docs/validation.md`). {' → '.join(DEMO_ELECTRODE)} from θ = 0.99 ({summary['electrode']['wall_time_s']} s):

| half-cycle | asynchrony index | step-like particles | classification |
|---:|---:|---:|---|
{chr(10).join(f"| {k} | {a:.4f} | {100 * f:.0f} % | {c} |" for k, (a, f, c) in enumerate(zip(summary['electrode']['asynchrony_index'], summary['electrode']['fraction_step_like'], summary['electrode']['classification'])))}

- Asynchrony index: the spread of the particles' switches (the peaks of d θ/d SOC) over their
  width; a particle is step-like when it switches within a quarter of the SOC range.
- First charge: the particles start in order of their electrical distance to the collector
  (Spearman ρ = {summary['electrode']['first_charge_onset_order_spearman']:.2f}) and the half-cycle
  is {summary['electrode']['classification'][0]}; Sharma et al. (Nano Lett. 2022) observed step-like, asynchronous switching
  here. `docs/validation.md` (row A1 of `socscope validate sharma2022`) says how far this model
  reproduces it.
- {100 * summary['electrode']['capacity_not_recovered']:.1f} % of the first charge is not put back by the
  discharge (Sharma et al., Nano Lett. 2022: about 10 %): Li diffuses 1000× slower in nearly full NMC.

Files: `disc_charge_C3.nc`, `disc_cycle_C3.nc`, `electrode_C20.nc` (all fields, open with
`socscope.open_results` or xarray), `theta_maps.png`, `theta_traces.png`, `periphery_core.png`,
`voltage_curve.png`, `cycle_maps.png`, `electrode_traces.png`, `electrode_dol.png`, `summary.json`.
Periphery: cells within 0.2 × the inradius of the surface; core: beyond 0.6 × the inradius.
"""
    write_text_atomic(out / "summary.md", md)
    from ..io.results import write_provenance

    write_provenance(out, prov)
    if not quiet:
        print(md)
    return summary


def _electrode(quiet: bool):
    """The (Sharma et al., Nano Lett. 2022) Fig. 4a-like electrode through two C/20 charges (coarse grid: a demonstration)."""
    from .. import materials
    from ..geometry import layered_layout
    from ..numerics import SolverOptions
    from ..observe import electrode_summary
    from ..simulate import ElectrodeModel

    model = ElectrodeModel(materials.get("nmc532-sharma2022"), layered_layout(5, 3, radius=3.5e-6), n_shells=10)
    ds = _run(model, DEMO_ELECTRODE, None, "demo: network electrode at C/20", quiet, 1800.0, initial_theta=0.99,
              solver=SolverOptions(rtol=1e-3, atol=1e-5))
    return electrode_summary(ds)


def _sigma_rise() -> float:
    """σ(θ = 0.9) / σ(θ = 0.99) of the demo electrode's material."""
    from .. import materials

    sigma = materials.get("nmc532-sharma2022").sigma
    return float(sigma(0.9) / sigma(0.99))


def _onset_order(ds) -> float:
    """Spearman ρ between electrical distance and first-charge onset SOC (reacting particles)."""
    from scipy.stats import spearmanr

    r = ds.reacted.values[0]
    return float(spearmanr(ds.electrical_distance.values[r], ds.onset_soc.values[0][r]).correlation)


def _cmd_demo(args) -> int:
    from ._quicklook import command_provenance

    run_demo(Path(args.out), overwrite=args.overwrite, quiet=args.quiet, provenance=command_provenance(args))
    return 0


def add_demo_parser(sub) -> None:
    """Register ``socscope demo`` on the top-level subparsers ``sub``."""
    d = sub.add_parser("demo", help="run the built-in demonstration and write figures, results and a summary",
                       description="Three runs, with results (.nc), figures and a summary (summary.md, "
                                   "summary.json) in one folder: a 2 µm single-crystal Ni-rich disc charged at C/3 "
                                   "for 35 minutes, showing its Li-poor periphery and Li-rich core (Xu et al., "
                                   "Joule 2022, Figs. 2–3); the same disc through a full C/3 cycle with a 2 h "
                                   "hold at 3.0 V (capacity the hold recovers, coulombic efficiency); and a "
                                   "15-particle network electrode wired as in Sharma et al. (Nano Lett. 2022, "
                                   "Fig. 4a) through C/20 charge, discharge and charge (asynchrony of the "
                                   "particles). About a minute on two cores.")
    d.add_argument("--out", default="socscope-demo", help="output folder (default: ./socscope-demo)")
    d.add_argument("--overwrite", action="store_true", help="replace files in an existing output folder")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=_cmd_demo)
