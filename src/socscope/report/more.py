"""Report kinds of the instruments' and many-run results: SP-ICP-OES analyses, calibrations and
populations, AFM and NEXAFS folders, sweep stores and batches of optical analyses.

Detectors and builders only; they are registered in :mod:`socscope.report.builtin`.
"""

from __future__ import annotations

import json
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

__all__ = ["afm_folder", "batch_folder", "is_spicp_calibration", "is_sweep_store", "nexafs_folder",
           "population", "spicp_calibration", "spicp_folder", "sweep_points", "sweep_store"]

#: the first line ``socscope spicp calibrate`` writes
_CALIBRATION_MARK = "# socscope SP-ICP-OES calibration"
#: rows of a sweep's or batch's point table shown before the page says where the rest is
MAX_POINTS = 200


def _percent(value, se=None) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{100 * value:.2f} %" if se is None or not np.isfinite(se) else f"{100 * value:.2f} ± {100 * se:.2f} %"


# -- SP-ICP-OES -----------------------------------------------------------------------------------

def spicp_folder(path: Path) -> Content:
    """A folder of ``socscope spicp analyze``: fractions per replicate, particles, the three figures
    (drawn from the tables when the folder was written with ``--no-figures``)."""
    c = folder_content(path, "SP-ICP-OES analysis", kind="SP-ICP-OES analysis",
                       tables=["fractions.csv", "particles.csv"],
                       figures=["histogram.png", "fractions.png", "calibration.png"])
    s = read_json(path / "summary.json")
    frame, pooled, mix = s.get("frame", {}), s.get("pooled", {}), s.get("mixture", {})
    c.summary = {
        "expected DOL": s.get("expected_dol"),
        "frame of the expected DOL": f"{frame.get('dol_low', float('nan')):.3f} .. {frame.get('dol_high', float('nan')):.3f}",
        "replicates": s.get("n_replicates"),
        "particles (pooled)": pooled.get("n_particles"),
        "diverging (pooled)": _percent(pooled.get("diverging_fraction"), pooled.get("se")),
        "Li-rich / Li-poor (pooled)": f"{_percent(pooled.get('li_rich_fraction'))} / "
                                      f"{_percent(pooled.get('li_poor_fraction'))}",
        "diverging (Gaussian + flat mixture)": _percent(mix.get("weight"), mix.get("weight_se")),
        **c.summary,
    }
    if not c.figures:
        c.figures = _spicp_figures(path, frame)
    return c


def _spicp_figures(path: Path, frame: dict) -> list:
    import pandas as pd

    from ..io._guard import reading
    from ..plotting.spicp import plot_diverging_fractions, plot_spicp_histogram

    with reading(path / "particles.csv", "the particle table of 'socscope spicp analyze'"):
        parts = pd.read_csv(path / "particles.csv")
    with reading(path / "fractions.csv", "the fractions table of 'socscope spicp analyze'"):
        table = pd.read_csv(path / "fractions.csv", index_col=0)
    reps = {str(k): g["dol"].to_numpy(float) for k, g in parts.groupby("replicate", sort=False)}
    expected = (frame["dol_low"], frame["dol_high"]) if "dol_low" in frame and "dol_high" in frame else None
    return [Figure("DOL of every particle (drawn from particles.csv)",
                   figure_png(plot_spicp_histogram(reps, expected=expected))),
            Figure("diverging fractions (drawn from fractions.csv)", figure_png(plot_diverging_fractions(table)))]


def is_spicp_calibration(path: Path) -> bool:
    """A calibration file of ``socscope spicp calibrate`` (its first line says so)."""
    if not (path.is_file() and path.suffix.lower() == ".toml"):
        return False
    with open(path, "rb") as fh:
        return fh.read(len(_CALIBRATION_MARK)).decode("utf-8", "replace") == _CALIBRATION_MARK


def spicp_calibration(path: Path) -> Content:
    """A calibration of ``socscope spicp calibrate``: the line with its band, the references, the fit."""
    import pandas as pd

    from ..analysis.spicp import load_calibration
    from ..io.spicp import read_calibration
    from ..plotting.spicp import plot_calibration

    raw = read_calibration(path)  # parsed once: the line is built from it, and its provenance shown
    cal = load_calibration(path, contents=raw)
    refs = cal.references
    frame = pd.DataFrame({"reference": [str(i) for i in refs.index], **{
        c: np.round(refs[c].to_numpy(float), 5) for c in ("dol", "mean_ratio", "mean_ratio_se", "sigma_ratio",
                                                         "dol_frame_low", "dol_frame_high")},
        "n_particles": refs["n_particles"].to_numpy(int)})
    lo, hi = cal.ci95("slope")
    params = {"intercept": cal.intercept, "intercept_se": cal.intercept_se, "slope": cal.slope,
              "slope_se": cal.slope_se, "slope_ci95": f"{lo:.6g} .. {hi:.6g}", "covariance_intercept_slope":
              float(cal.covariance[0, 1]), "chi2": cal.chi2, "dof": cal.dof}
    prov = raw.get("provenance")
    prov = json.loads(prov) if isinstance(prov, str) else None
    summary = {"line": f"I(Li)/I(Mn) = {cal.intercept:.5g} + {cal.slope:.5g} · DOL",
               "references": len(refs), "chi2 / dof": f"{cal.chi2:.3g} / {cal.dof}"}
    return Content(title="SP-ICP-OES calibration", kind="SP-ICP-OES calibration", source=str(path.resolve()),
                   summary=summary, figures=[Figure("calibration line (±2 s.e.) and references (±2σ)",
                                                    figure_png(plot_calibration(cal)))],
                   tables=[Table("references", frame)], parameters=flatten(params), provenance=prov)


def population(path: Path) -> Content:
    """A population of ``socscope simulate population``: DOL histograms, DOL against size, groups."""
    import pandas as pd

    from .._provenance import read_provenance
    from ..io.results import open_results
    from ..plotting.sweep import plot_population
    from .builtin import _attr_parameters

    ds = open_results(path)
    a = ds.attrs
    iso = np.asarray(ds["isolated"].values, bool)
    dol = np.asarray(ds["dol"].values, float)
    diameter = np.asarray(ds["diameter_um"].values, float)
    rows = []
    for name, m in (("connected", ~iso), ("isolated", iso), ("all", np.ones_like(iso))):
        rows.append({"particles": name, "n": int(m.sum()),
                     "dol_mean": round(float(dol[m].mean()), 5) if m.any() else np.nan,
                     "dol_median": round(float(np.median(dol[m])), 5) if m.any() else np.nan,
                     "dol_std": round(float(dol[m].std()), 5) if m.any() else np.nan,
                     "diameter_median_um": round(float(np.median(diameter[m])), 4) if m.any() else np.nan})
    tables = [Table("DOL after the final charge", pd.DataFrame(rows))]
    if "step_sentence" in ds:
        tables.append(Table("protocol steps (charge passed per gram of all particles)", pd.DataFrame({
            "step": np.arange(1, ds.sizes["step_index"] + 1), "sentence": ds.step_sentence.values.astype(str),
            "capacity_mAh_g": np.round(ds.step_capacity.values.astype(float), 3)})))
    summary = {"particles": int(a.get("n_particles", dol.size)),
               "isolated (final)": _percent(float(a.get("isolated_fraction_final", iso.mean()))),
               "isolated (initial)": _percent(float(a.get("isolated_fraction_initial", np.nan))),
               "connected mean DOL": round(float(a.get("connected_mean_dol", np.nan)), 4),
               "inactive Li [mAh/g]": round(float(a.get("inactive_li_mAh_g", np.nan)), 3)}
    return Content(title="Particle population", kind="particle population", source=str(path.resolve()),
                   summary=summary, figures=[Figure("DOL of the population", figure_png(plot_population(ds)))],
                   tables=tables, parameters=_attr_parameters(ds), provenance=read_provenance(ds))


# -- AFM and NEXAFS -------------------------------------------------------------------------------

def _settings(summary: dict) -> dict:
    return {"settings": summary.get("settings", {}),
            **{k: v for k, v in summary.items() if k in ("maps", "n_particles")}}


def afm_folder(path: Path) -> Content:
    """A folder of ``socscope afm analyze``: maps with particles, per-SOC summaries, particles, profiles."""
    c = folder_content(path, "AFM analysis", kind="AFM analysis",
                       tables=["soc_summary.csv", "particles.csv", "correlations.csv"],
                       figures=["maps.png", "histograms.png", "mean_vs_soc.png", "profiles.png"],
                       parameters_from=_settings)
    s = read_json(path / "summary.json")
    st = s.get("settings", {})
    c.summary = {"maps": len(s.get("maps", [])), "particles": s.get("n_particles"),
                 "channel": f"{st.get('channel', '?')} [{st.get('unit') or '-'}]",
                 "particles found on": st.get("mask_from", st.get("channel")), **c.summary}
    return c


def nexafs_folder(path: Path) -> Content:
    """A folder of ``socscope nexafs ratio``: the L3 high/low ratio per spectrum and channel."""
    c = folder_content(path, "NEXAFS L3 ratios", kind="NEXAFS", tables=["ratios.csv"],
                       figures=["ratio_vs_soc.png"], parameters_from=lambda s: s.get("settings", {}))
    s = read_json(path / "summary.json")
    spectra = s.get("spectra", [])
    c.summary = {"spectra × channels": len(spectra),
                 "channels": ", ".join(sorted({str(r.get("mode")) for r in spectra})), **c.summary}
    return c


# -- sweeps and batches ---------------------------------------------------------------------------

def is_sweep_store(path: Path) -> bool:
    """A zarr store of ``socscope sweep`` (its root attributes carry the sweep's definition)."""
    attrs = path / ".zattrs"
    if not (path.is_dir() and attrs.is_file()):
        return False
    return "socscope_sweep" in json.loads(attrs.read_text(encoding="utf-8"))


#: outputs drawn against a sweep's axes, in order of preference (their last record of each point)
_SWEEP_OUTPUTS = {"theta_mean": "final mean θ", "voltage": "final voltage [V]",
                  "theta_periphery_minus_core": "final θ periphery − core", "theta_std": "final s.d. of θ",
                  "dol_asynchrony": "final asynchrony"}


def sweep_points(path: Path):
    """One row per point of a sweep store: its axis values, status, error, wall time and final outputs.

    Returns
    -------
    (DataFrame, list of str, list of str, xarray.Dataset)
        The table, the axis names, the output columns (``final_<variable>``)
        and the opened store.
    """
    import pandas as pd

    from ..sweep.store import open_with_records

    ds, point_records = open_with_records(path)  # the records are read once, for the errors and the wall times
    axes = list(ds["status"].dims)
    shape = tuple(ds.sizes[d] for d in axes)
    n_rec = np.asarray(ds["n_records"].values, int) if "n_records" in ds else None
    series = [v for v in ds.data_vars if ds[v].dims == (*axes, "sample") and v != "time"]
    chosen = [v for v in _SWEEP_OUTPUTS if v in series] or series[:3]
    finals = {}
    for v in chosen:
        a = np.asarray(ds[v].values, float)
        idx = np.clip((n_rec if n_rec is not None else np.full(shape, a.shape[-1])) - 1, 0, a.shape[-1] - 1)
        last = np.take_along_axis(a, idx[..., None], axis=-1)[..., 0]
        if np.isfinite(last).any() and len(finals) < 4:  # an output no point records (a voltage without kinetics) is left out
            finals[v] = last
    status = np.asarray(ds["status"].values, int)
    errors = np.asarray(ds["error"].values, object)
    records = {}
    for rec in point_records:
        try:
            records[int(rec["index"])] = rec
        except (ValueError, KeyError):
            continue
    rows = []
    for i in range(int(np.prod(shape)) if shape else 1):
        where = np.unravel_index(i, shape) if shape else ()
        row = {"point": i, **{a: ds[a].values[k].item() for a, k in zip(axes, where)},
               "status": {0: "not run", 1: "done", 2: "failed"}.get(int(status[where]), str(status[where])),
               "error": str(errors[where] or "")}
        for v, arr in finals.items():
            row[f"final_{v}"] = round(float(arr[where]), 6) if row["status"] == "done" else np.nan
        row["records"] = int(n_rec[where]) if n_rec is not None else None
        row["wall_s"] = records.get(i, {}).get("wall_s")
        rows.append(row)
    return pd.DataFrame(rows), axes, [f"final_{v}" for v in finals], ds


def _blank_missing(frame):
    """A copy whose missing values show as empty cells (a failed point has no outputs, not 'nan')."""
    return frame.astype(object).where(frame.notna(), None)


def sweep_store(path: Path) -> Content:
    """A sweep store of ``socscope sweep``: points with status and errors, outputs against the axes."""
    from .._provenance import read_provenance
    from ..plotting.sweep import plot_sweep_outputs

    table, axes, outputs, ds = sweep_points(path)
    labels = {f"final_{k}": v for k, v in _SWEEP_OUTPUTS.items()}
    figures = []
    if outputs and (table.status == "done").any():
        figures.append(Figure(f"final outputs of every point against {axes[0]}"
                              + (f" (a line per {', '.join(axes[1:])})" if axes[1:] else ""),
                              figure_png(plot_sweep_outputs(table, axes=axes, outputs=outputs, labels=labels))))
    counts = table.status.value_counts()
    definition = json.loads(ds.attrs.get("socscope_sweep", "{}"))
    summary = {"sweep": ds.attrs.get("title", "socscope sweep"),
               "axes": ", ".join(f"{a} ({ds.sizes[a]})" for a in axes),
               "points": len(table), "done": int(counts.get("done", 0)), "failed": int(counts.get("failed", 0)),
               "not run": int(counts.get("not run", 0)), "sweep file": ds.attrs.get("sweep_source", "")}
    note = ""
    if len(table) > MAX_POINTS:
        note = f"first {MAX_POINTS} of {len(table)} points; every point's record is in points/"
    notes = [] if figures else ["no point has finished, so there is no figure of the outputs"]
    return Content(title=f"Sweep: {path.name}", kind="sweep store", source=str(Path(path).resolve()),
                   summary=summary, figures=figures, notes=notes,
                   tables=[Table("points (final values: the last record of each point)",
                                 _blank_missing(table.head(MAX_POINTS)), note)],
                   parameters=flatten(definition), provenance=read_provenance(ds))


def batch_folder(path: Path) -> Content:
    """A folder of ``socscope optical analyze-batch``: one row per movie with status and error,
    the movies side by side, and each analysed movie's traces against SOC."""
    from ..plotting.sweep import plot_batch_summary
    from ._content import read_table

    c = folder_content(path, "Batch of optical analyses", kind="optical analysis batch", figures=[])
    table = read_table(path / "batch_summary.csv", "movies (one row each; the analysis of each is in its folder)",
                       max_rows=MAX_POINTS)
    import pandas as pd

    whole = pd.read_csv(path / "batch_summary.csv")
    c.tables = [table]
    c.figures = [Figure("particles and asynchrony index of every movie", figure_png(plot_batch_summary(whole)))]
    for _, row in whole[whole.status == "done"].head(6).iterrows():
        png = Path(str(row["folder"])) / "traces_vs_soc.png"
        if not png.is_file():
            png = path / Path(str(row["folder"])).name / "traces_vs_soc.png"
        if png.is_file():
            c.figures.append(Figure(f"{Path(str(row['movie'])).name}: traces against SOC", png.read_bytes()))
    prov = c.provenance or {}
    first = next((Path(str(f)) for f, s in zip(whole["folder"], whole["status"]) if s == "done"), None)
    shared = {}
    if first is not None and (first / "summary.json").is_file():
        shared = {k: v for k, v in read_json(first / "summary.json").items()
                  if not isinstance(v, (list, dict)) and k not in ("movie", "cycler", "particles", "binned_frames",
                                                                    "max_drift_px")}
    c.parameters = flatten({"batch": prov.get("settings", {}), "each movie": shared})
    failed = whole[whole.status != "done"]
    c.summary = {"movies": len(whole), "analysed": int((whole.status == "done").sum()), "failed": len(failed),
                 **({"first failure": f"{Path(str(failed.iloc[0]['movie'])).name}: {failed.iloc[0]['error']}"}
                    if len(failed) else {}), **c.summary}
    return c
