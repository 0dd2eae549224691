"""Figures of AFM maps across SOC (Jetybayeva et al. (ACS Appl. Energy Mater. 2022) Figs. 1–3, 7) and of NEXAFS ratios (Jetybayeva et al. (ACS Appl. Energy Mater. 2022) Fig. 4)."""

from __future__ import annotations

import numpy as np

from ._common import _plt

__all__ = ["plot_map_particles", "plot_mean_vs_soc", "plot_nexafs_ratio", "plot_rim_profiles", "plot_soc_histograms"]


def _soc_label(soc) -> str:
    return "SOC unknown" if not np.isfinite(soc) else f"SOC {soc:g} %"


def _ax(ax, size=(5.0, 3.6)):
    if ax is None:
        _, ax = _plt().subplots(figsize=size, constrained_layout=True)
    return ax


def plot_soc_histograms(histograms, *, unit: str = "", channel: str = "", ax=None):
    """Histogram (density) of the particle pixels per SOC, on common bins (Jetybayeva et al. (ACS Appl. Energy Mater. 2022) Figs. 1–2 (iii)).

    Parameters
    ----------
    histograms : pandas.DataFrame
        From :func:`socscope.analysis.afm.soc_histograms`.
    """
    ax = _ax(ax)
    for soc, g in histograms.groupby("soc_percent", dropna=False):
        centres = 0.5 * (g["bin_left"] + g["bin_right"])
        ax.step(centres, g["density"], where="mid", label=_soc_label(soc))
    ax.set_xlabel(f"{channel} [{unit}]" if unit else channel or "value")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    return ax


def plot_mean_vs_soc(summary, *, unit: str = "", channel: str = "", ax=None):
    """Mean over the particle areas ± s.d. against SOC (Jetybayeva et al. (ACS Appl. Energy Mater. 2022) Figs. 3a, 7a)."""
    ax = _ax(ax)
    s = summary.sort_values("soc_percent")
    err = s["std_between_maps"].where(np.isfinite(s["std_between_maps"]), s["std"])
    ax.errorbar(s["soc_percent"], s["mean"], yerr=err, marker="o", capsize=3)
    ax.set_xlabel("SOC [%]")
    ax.set_ylabel(f"mean {channel} over particles" + (f" [{unit}]" if unit else ""))
    return ax


def plot_rim_profiles(profiles, *, unit: str = "", channel: str = "", max_nm: float | None = None, ax=None):
    """Mean of the channel against the distance from the particle edge, one line per SOC."""
    ax = _ax(ax)
    every = profiles[profiles["label"] == 0]
    for soc, g in every.groupby("soc_percent", dropna=False):
        weighted = (g["mean"] * g["n_px"]).groupby(g["distance_nm"]).sum()
        pooled = weighted / g["n_px"].groupby(g["distance_nm"]).sum()
        if max_nm is not None:
            pooled = pooled[pooled.index <= max_nm]
        ax.plot(pooled.index, pooled.to_numpy(), label=_soc_label(soc))
    ax.set_xlabel("distance from the particle edge [nm]")
    ax.set_ylabel(f"{channel}" + (f" [{unit}]" if unit else ""))
    ax.legend(fontsize="small")
    return ax


def plot_map_particles(image, labels, *, pixel_size_nm: float, title: str = "", ax=None):
    """A map with the outlines of its particles."""
    ax = _ax(ax, size=(4.2, 4.0))
    ny, nx = np.shape(image)
    extent = [0, nx * pixel_size_nm * 1e-3, ny * pixel_size_nm * 1e-3, 0]
    im = ax.imshow(image, cmap="viridis", extent=extent)
    if np.any(labels):
        ax.contour(np.asarray(labels) > 0, levels=[0.5], colors="w", linewidths=0.6, extent=extent,
                   origin="upper")
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    ax.set_xlabel("x [µm]")
    ax.set_ylabel("y [µm]")
    ax.set_title(title, fontsize="small")
    return ax


def plot_nexafs_ratio(table, *, ax=None):
    """Ni L3 high/low peak ratio against SOC, one line per detection mode (TEY surface, FY bulk)."""
    ax = _ax(ax)
    for mode, g in table.groupby("mode"):
        g = g.sort_values("soc_percent")
        x = g["soc_percent"] if np.isfinite(g["soc_percent"]).any() else np.arange(len(g))
        ax.plot(x, g["high_low_ratio"], marker="o", label=mode)
    ax.set_xlabel("SOC [%]" if np.isfinite(table["soc_percent"]).any() else "spectrum")
    ax.set_ylabel("L3 high/low peak ratio")
    ax.legend(fontsize="small")
    return ax
