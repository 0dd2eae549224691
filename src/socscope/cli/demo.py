"""``socscope demo``: the built-in demonstration, on built-in defaults.

A 2 µm single-crystal Ni-rich disc (``ni88-xu2022``) charged at C/3 for
35 minutes: the periphery delithiates first and the core stays Li-rich
(Xu et al. [004], Figs. 2–3). Writes the results (netCDF), three figures and
a summary (Markdown and JSON) into one folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["run_demo", "DEMO_PROTOCOL", "DEMO_MAP_TIMES_S"]

DEMO_PROTOCOL = ("Charge at C/3 for 35 minutes",)
DEMO_MAP_TIMES_S = (300.0, 900.0, 1500.0, 2100.0)
_FILES = ("disc_charge_C3.nc", "theta_maps.png", "theta_traces.png", "periphery_core.png",
          "summary.md", "summary.json")


def _prepare(out: Path, overwrite: bool) -> None:
    from ..io.results import check_output_folder

    check_output_folder(out, _FILES, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)


def _save_fig(fig, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=150)
    tmp.replace(path)


def run_demo(out: Path, *, overwrite: bool = False, quiet: bool = False) -> dict:
    """Run the demo and write its files into ``out``.

    Returns
    -------
    dict
        The summary numbers (also written to ``summary.json``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import __version__, materials
    from ..constants import F
    from ..geometry import Disc
    from ..io.results import save_results
    from ..plotting import plot_periphery_core, plot_theta_maps, plot_traces
    from ..simulate import ParticleModel
    from .main import _progress_bar

    out = Path(out)
    _prepare(out, overwrite)
    mat = materials.get("ni88-xu2022")
    geo = Disc(diameter=2e-6)
    t0 = time.perf_counter()
    model = ParticleModel(mat, geo, resolution=25e-9)
    bar, cb = _progress_bar(35 * 60.0, "demo: C/3 charge of a 2 µm ni88 disc") if not quiet else (None, None)
    try:
        ds = model.run(list(DEMO_PROTOCOL), initial_theta=0.97, output_interval=30.0, progress=cb)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    save_results(ds, out / "disc_charge_C3.nc", overwrite=True)

    fig = plot_theta_maps(ds, DEMO_MAP_TIMES_S)
    fig.suptitle("ni88-xu2022, 2 µm disc, C/3 charge: Li-poor periphery, Li-rich core")
    _save_fig(fig, out / "theta_maps.png")
    plt.close(fig)
    ax = plot_traces(ds)
    ax.set_title("mean, centre and surface occupancy")
    _save_fig(ax.figure, out / "theta_traces.png")
    plt.close(ax.figure)
    ax = plot_periphery_core(ds)
    ax.set_title("periphery − core and max − min occupancy")
    _save_fig(ax.figure, out / "periphery_core.png")
    plt.close(ax.figure)

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
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    rows = "\n".join(
        f"| {m:.0f} | {a:.3f} | {c:.3f} | {s:.3f} | {p:+.3f} | {d:.0f} |"
        for m, a, c, s, p, d in zip(summary["map_times_min"], summary["theta_mean"], summary["theta_centre"],
                                    summary["theta_surface"], summary["periphery_minus_core"],
                                    summary["front_depth_nm"])
    )
    lag_text = (f"{summary['centre_lag_min']:.1f} min" if summary["centre_lag_min"] is not None
                else "more than 35 min")
    md = f"""# socscope demo

A 2 µm single-crystal LiNi0.88Mn0.05Co0.07O2 disc (`ni88-xu2022`, D_app = 2.7 × D_GITT, about
1e-18 m²/s at full lithiation rising ~100× after 20 % delithiation) charged at C/3
({summary['c_rate_basis_mAh_g']:.0f} mAh/g basis) for 35 minutes from θ = 0.97, Li moving only in
the ab-plane. The periphery delithiates first; the core stays Li-rich and lags behind, the
core–shell state Xu et al. observed by operando optical microscopy (Figs. 2–3).

| time [min] | mean θ | centre θ | surface θ | periphery − core | front depth [nm] |
|---:|---:|---:|---:|---:|---:|
{rows}

- The centre starts to delithiate (θ drops by 0.005) after {lag_text}.
- Li inventory matches the passed charge to a relative {inventory_err:.1e}.
- {summary['n_cells']} cells, {summary['solver_steps']} time steps, {summary['wall_time_s']} s.

Files: `disc_charge_C3.nc` (all fields, open with `socscope.open_results` or xarray),
`theta_maps.png`, `theta_traces.png`, `periphery_core.png`, `summary.json`.
Periphery: cells within 0.2 × the inradius of the surface; core: beyond 0.6 × the inradius.
"""
    (out / "summary.md").write_text(md)
    if not quiet:
        print(md)
        print(f"wrote {out.resolve()}/")
    return summary
