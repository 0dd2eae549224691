"""The package's own report kinds: simulations, optical, cycler, GITT/PITT, validation, SP-ICP-OES, AFM,
NEXAFS, sweep and batch results (the builders of the last ones are in :mod:`socscope.report.more`).

Each kind is a detector (what files or attributes mark it) and a builder
(which figures and tables it shows); see :mod:`socscope.report` to add one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._content import (
    Content,
    Figure,
    Table,
    figure_png,
    flatten,
    folder_content,
    read_json,
)
from ._registry import _KINDS, register_kind

__all__: list[str] = []


def _has(*names):
    """Detector: a folder holding every one of ``names``."""
    return lambda p: p.is_dir() and all((p / n).is_file() for n in names)


def _nc_title(path: Path) -> str:
    """The ``title`` attribute of a netCDF file ('' for anything else), read without loading data."""
    if not (path.is_file() and path.suffix.lower() in (".nc", ".nc4", ".h5")):
        return ""
    import h5netcdf

    with h5netcdf.File(path, "r") as f:
        if "socscope_version" not in f.attrs:
            return ""
        title = f.attrs.get("title", "socscope result")
        return title.decode() if isinstance(title, bytes) else str(title)


def _open(path: Path):
    from ..io.results import open_results

    return open_results(path)


def _attr_parameters(ds) -> dict:
    out = {}
    for k, v in ds.attrs.items():
        if k == "provenance":
            continue
        out[k] = v.tolist() if isinstance(v, np.ndarray) else v
    return flatten(out)


def _steps_table(ds) -> Table | None:
    import pandas as pd

    if "step_sentence" not in ds:
        return None
    frame = pd.DataFrame({
        "step": np.arange(1, ds.sizes["step_index"] + 1),
        "sentence": ds.step_sentence.values.astype(str),
        "capacity_mAh_g": np.round(ds.step_capacity.values.astype(float), 3),
        "ended_by": ds.step_end_reason.values.astype(str),
        "end_time_h": np.round(ds.step_end_time.values.astype(float) / 3600, 4),
    })
    return Table("protocol steps", frame)


def _simulation(path: Path, title: str) -> Content:
    from .._provenance import read_provenance
    from ..plotting.quicklook import quick_look

    ds = _open(path)
    summary = {"times recorded": ds.sizes.get("time", 0),
               "simulated time [h]": round(float(ds.time.values[-1]) / 3600, 4) if ds.sizes.get("time") else 0}
    for var, label in (("theta_mean", "final mean θ"), ("theta_centre", "final centre θ"),
                       ("voltage", "final voltage [V]")):
        if var in ds and ds[var].dims == ("time",):
            summary[label] = round(float(ds[var].values[-1]), 4)
    tables = [t for t in (_steps_table(ds),) if t is not None]
    if "asynchrony_index" in ds and ds.sizes.get("half_cycle", 0):
        import pandas as pd

        cols = {"half_cycle": ds.half_cycle.values}
        for var in ("half_cycle_direction", "asynchrony_index", "classification", "fraction_unreacted",
                    "voltage_dips"):
            if var in ds:
                v = ds[var].values
                cols[var] = np.round(v.astype(float), 4) if v.dtype.kind == "f" else v.astype(str)
        tables.append(Table("per half-cycle: asynchrony of the particles", pd.DataFrame(cols)))
    figs = [Figure("quick look", figure_png(quick_look(ds)))]
    return Content(title=title, kind=title, source=str(path.resolve()), summary=summary, figures=figs,
                   tables=tables, parameters=_attr_parameters(ds), provenance=read_provenance(ds))


def _validation(path: Path) -> Content:
    s = read_json(path / "summary.json")
    figures = [f for f in s.get("files", []) if f.endswith(".png")] or None
    c = folder_content(path, f"Validation: {s.get('title', s.get('paper', ''))}", kind="validation",
                       tables=["table.csv"], figures=figures, max_rows=500,
                       parameters_from=lambda d: {k: v for k, v in d.items() if k not in ("rows", "files")})
    c.summary = {"paper": s.get("paper"), "mode": s.get("mode"),
                 "comparisons that hold": f"{s.get('n_hold')} of {s.get('n_rows')}",
                 "wall time [s]": s.get("wall_time_s"), **c.summary}
    return c


def _generic_nc(path: Path) -> Content:
    from .._provenance import read_provenance

    ds = _open(path)
    import pandas as pd

    frame = pd.DataFrame([{"variable": n, "dims": " × ".join(map(str, v.dims)), "units": v.attrs.get("units", ""),
                           "shape": " × ".join(map(str, v.shape))} for n, v in ds.data_vars.items()])
    return Content(title=str(ds.attrs.get("title", "socscope result")), kind="result file",
                   source=str(path.resolve()), tables=[Table("variables", frame)],
                   parameters=_attr_parameters(ds), provenance=read_provenance(ds))


def _generic_folder(path: Path) -> Content:
    tables = sorted(p.name for p in path.glob("*.csv"))
    return folder_content(path, f"Results in {path.name}/", kind="result folder", tables=tables)


def _register() -> None:
    if "particle" in _KINDS:
        return
    register_kind("particle", title="single-particle simulation", priority=100,
                  detect=lambda p: "single-particle" in _nc_title(p),
                  build=lambda p: _simulation(p, "single-particle simulation"))
    register_kind("electrode", title="network-electrode simulation", priority=100,
                  detect=lambda p: "network-electrode" in _nc_title(p),
                  build=lambda p: _simulation(p, "network-electrode simulation"))
    register_kind("validation", title="validation folder", priority=90,
                  detect=lambda p: _has("table.csv", "summary.json")(p) and "paper" in read_json(p / "summary.json"),
                  build=_validation)
    register_kind("optical", title="optical analysis folder", priority=80,
                  detect=_has("particles.csv", "traces.csv", "transitions.csv"),
                  build=lambda p: folder_content(
                      p, "Optical analysis", kind="optical analysis",
                      tables=["particles.csv", "half_cycles.csv", "transitions.csv"],
                      figures=["particles.png", "traces_vs_soc.png", "differential_images.png", "com_distance.png",
                               "drift.png"]))
    register_kind("cycler", title="cycler summary folder", priority=80,
                  detect=_has("cycles.csv", "half_cycles.csv", "dqdv.csv"),
                  build=lambda p: folder_content(
                      p, "Cycler summary", kind="cycler summary", tables=["cycles.csv", "half_cycles.csv"],
                      figures=["cycles.png", "voltage_capacity.png", "dqdv.png"]))
    register_kind("gitt", title="GITT folder", priority=80, detect=_has("gitt.csv"),
                  build=lambda p: folder_content(p, "GITT analysis", kind="GITT", tables=["gitt.csv"],
                                                 max_rows=200))
    register_kind("pitt", title="PITT folder", priority=80, detect=_has("pitt.csv"),
                  build=lambda p: folder_content(p, "PITT analysis", kind="PITT", tables=["pitt.csv"],
                                                 max_rows=200))
    register_kind("demo", title="demo folder", priority=85, detect=_has("summary.md", "electrode_C20.nc"),
                  build=lambda p: folder_content(
                      p, "socscope demo", kind="demo",
                      figures=["theta_maps.png", "theta_traces.png", "periphery_core.png", "voltage_curve.png",
                               "cycle_maps.png", "electrode_traces.png", "electrode_dol.png"]))
    from . import more

    register_kind("population", title="particle population (.nc)", priority=100,
                  detect=lambda p: "particle population" in _nc_title(p), build=more.population)
    register_kind("spicp", title="SP-ICP-OES analysis folder", priority=80,
                  detect=lambda p: _has("particles.csv", "fractions.csv", "summary.json")(p)
                  and "expected_dol" in read_json(p / "summary.json"),
                  build=more.spicp_folder)
    register_kind("spicp-calibration", title="SP-ICP-OES calibration (.toml)", priority=80,
                  detect=more.is_spicp_calibration, build=more.spicp_calibration)
    register_kind("afm", title="AFM analysis folder", priority=80,
                  detect=_has("particles.csv", "soc_summary.csv", "profiles.csv", "summary.json"),
                  build=more.afm_folder)
    register_kind("nexafs", title="NEXAFS ratio folder", priority=80, detect=_has("ratios.csv", "summary.json"),
                  build=more.nexafs_folder)
    register_kind("sweep", title="sweep store (.zarr)", priority=80, detect=more.is_sweep_store,
                  build=more.sweep_store)
    register_kind("batch", title="batch of optical analyses", priority=80, detect=_has("batch_summary.csv"),
                  build=more.batch_folder)
    register_kind("result-file", title="socscope result file (.nc)", priority=-100,
                  detect=lambda p: bool(_nc_title(p)), build=_generic_nc)
    register_kind("result-folder", title="result folder (provenance.json or summary.json)", priority=-100,
                  detect=lambda p: p.is_dir() and any((p / n).is_file() for n in ("provenance.json", "summary.json")),
                  build=_generic_folder)


_register()
