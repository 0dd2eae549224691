"""Maps grouped by state of charge: SOC from file names or a table, histograms, mean ± s.d. per SOC.

The SOC is carried in percent (``soc_percent``), as file names and Jetybayeva et al. (ACS Appl. Energy Mater. 2022) give it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import FileFormatError, ParameterError
from ...io._guard import reading

__all__ = ["read_soc_table", "soc_from_name", "soc_histograms", "soc_summary"]


def soc_from_name(name, pattern: str) -> float:
    """The SOC [%] in a file name: the first group of ``pattern`` (a regular expression).

    Examples
    --------
    >>> soc_from_name("maps/NCM622_SOC50_area3.ibw", r"SOC(\\d+)")
    50.0
    >>> soc_from_name("x_soc_12.5pc.ibw", r"soc_([\\d.]+)")
    12.5
    """
    try:
        regex = re.compile(pattern)
    except (re.error, TypeError) as exc:
        raise ParameterError(f"--soc-from-name {pattern!r} is not a regular expression ({exc}); "
                             r"e.g. 'SOC(\d+)'") from None
    if regex.groups < 1:
        raise ParameterError(f"--soc-from-name {pattern!r} needs one group around the number, e.g. 'SOC(\\d+)'")
    stem = Path(str(name)).name
    m = regex.search(stem)
    if m is None:
        raise ParameterError(f"{name}: the name does not match --soc-from-name {pattern!r}; rename it or give "
                             "a --soc-table")
    try:
        value = float(m.group(1).replace(",", "."))
    except ValueError:
        raise ParameterError(f"{name}: {m.group(1)!r} (from {pattern!r}) is not a number") from None
    if not (math.isfinite(value) and 0 <= value <= 100):
        raise ParameterError(f"{name}: SOC {value:g} % from the name lies outside [0, 100] %")
    return value


def read_soc_table(path) -> dict[str, float]:
    """A CSV table ``file,soc_percent`` as a dict from file name (without folder) to SOC [%]."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file (expected a CSV table with columns file,soc_percent)")
    with reading(path, "a CSV table with columns file,soc_percent"):
        table = pd.read_csv(path)
    missing = {"file", "soc_percent"} - set(table.columns)
    if missing:
        raise FileFormatError(f"{path}: lacks column(s) {sorted(missing)}; expected columns file,soc_percent")
    soc = pd.to_numeric(table["soc_percent"], errors="coerce")
    if soc.isna().any() or not ((soc >= 0) & (soc <= 100)).all():
        raise FileFormatError(f"{path}: soc_percent must hold numbers in [0, 100]")
    return {Path(str(f)).name: float(s) for f, s in zip(table["file"], soc)}


def soc_summary(particles: pd.DataFrame, *, value: str = "mean") -> pd.DataFrame:
    """Mean ± s.d. of a channel over the particle areas, per SOC (Jetybayeva et al. (ACS Appl. Energy Mater. 2022) Figs. 3a and 7a).

    Parameters
    ----------
    particles : pandas.DataFrame
        The per-particle table of the pipeline: ``soc_percent``, ``map``, ``n_px``, ``value``
        column (the particle's mean), ``std``, ``rim_minus_bulk``.
    value : str
        The column averaged.

    Returns
    -------
    pandas.DataFrame
        One row per SOC: ``soc_percent``, ``n_maps``, ``n_particles``, ``mean`` (area-weighted
        over all particle pixels), ``std`` (pixel s.d. over all particle pixels), ``std_between_maps``
        (s.d. of the per-map area-weighted means), ``rim_minus_bulk_mean`` (mean over the particles
        of their rim-minus-bulk contrast).
    """
    need = {"soc_percent", "map", "n_px", value, "std"}
    if not need <= set(particles.columns):
        raise ParameterError(f"particles lacks column(s) {sorted(need - set(particles.columns))}")
    rows = []
    for soc, group in particles.dropna(subset=[value]).groupby("soc_percent", dropna=False):  # NaN: SOC unknown
        w = group["n_px"].to_numpy(float)
        m = group[value].to_numpy(float)
        s = group["std"].to_numpy(float)
        total = w.sum()
        mean = float((w * m).sum() / total)
        # pooled variance: within-particle variance plus the spread of particle means
        var = float((w * (s ** 2 + (m - mean) ** 2)).sum() / total)
        weighted = group[value] * group["n_px"]
        per_map = weighted.groupby(group["map"]).sum() / group["n_px"].groupby(group["map"]).sum()
        rows.append({"soc_percent": float(soc), "n_maps": int(group["map"].nunique()),
                     "n_particles": len(group), "mean": mean, "std": math.sqrt(var),
                     "std_between_maps": float(per_map.std(ddof=1)) if len(per_map) > 1 else np.nan,
                     "rim_minus_bulk_mean": float(group["rim_minus_bulk"].mean())
                     if "rim_minus_bulk" in group else np.nan})
    columns = ["soc_percent", "n_maps", "n_particles", "mean", "std", "std_between_maps", "rim_minus_bulk_mean"]
    out = pd.DataFrame(rows, columns=columns)
    floats = [c for c in columns if c not in ("n_maps", "n_particles")]
    out[floats] = out[floats].astype(np.float64)
    return out


def soc_histograms(values_by_soc: dict, *, bins: int = 50, value_range=None) -> pd.DataFrame:
    """Histograms of a channel's particle pixels per SOC (Jetybayeva et al. (ACS Appl. Energy Mater. 2022) Figs. 1–2 (iii)), on common bins.

    Parameters
    ----------
    values_by_soc : dict
        SOC [%] → 1-D array of pixel values (the particle pixels of every map at that SOC).
    bins : int
        Number of bins.
    value_range : (float, float), optional
        Bin range; by default the 0.5th to 99.5th percentile of all values.

    Returns
    -------
    pandas.DataFrame
        ``soc_percent``, ``bin_left``, ``bin_right``, ``count``, ``density`` (integrates to 1
        over the bins of one SOC).
    """
    if not isinstance(bins, int) or bins < 1:
        raise ParameterError(f"bins = {bins!r} must be a whole number >= 1, e.g. 50")
    arrays = {float(k): np.asarray(v, dtype=np.float64).ravel() for k, v in values_by_soc.items()}
    arrays = {k: v[np.isfinite(v)] for k, v in arrays.items()}
    allv = np.concatenate([v for v in arrays.values()]) if arrays else np.empty(0)
    if allv.size == 0:
        return pd.DataFrame(columns=["soc_percent", "bin_left", "bin_right", "count", "density"])
    if value_range is None:
        lo, hi = np.percentile(allv, [0.5, 99.5])
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
    else:
        lo, hi = value_range
    edges = np.linspace(lo, hi, bins + 1)
    frames = []
    for soc in sorted(arrays):
        count, _ = np.histogram(arrays[soc], bins=edges)
        total = count.sum()
        density = count / (total * np.diff(edges)) if total else np.zeros(bins)
        frames.append(pd.DataFrame({"soc_percent": soc, "bin_left": edges[:-1], "bin_right": edges[1:],
                                    "count": count, "density": density}))
    return pd.concat(frames, ignore_index=True)
