"""Figures of fits: measured against fitted images, traces and profiles; GITT D per pulse; onsets."""

from __future__ import annotations

import numpy as np

from ._common import _plt

__all__ = ["plot_gitt_fit", "plot_onsets_fit", "plot_particle_fit", "plot_particle_residuals", "side_by_side"]


def side_by_side(comparison) -> np.ndarray:
    """The movie ``measured | fitted`` differential contrast, frames (n, ny, 2·nx + 1), NaN outside the particle."""
    meas = np.asarray(comparison["contrast_measured"].values)
    fit = np.asarray(comparison["contrast_fitted"].values)
    gap = np.full(meas.shape[:2] + (1,), np.nan)
    return np.concatenate([meas, gap, fit], axis=2)


def plot_particle_residuals(comparison, *, frames=None, fig=None):
    """Measured, fitted and residual contrast maps at a few frames (columns) of a particle fit."""
    plt = _plt()
    n = comparison.sizes["frame"]
    idx = np.unique(np.round(np.linspace(1, n - 1, min(4, n - 1))).astype(int)) if frames is None else np.asarray(frames)
    fig = fig or plt.figure(figsize=(2.6 * len(idx), 7.2))
    meas = comparison["contrast_measured"].values
    fit = comparison["contrast_fitted"].values
    res = comparison["residual"].values
    vmax = float(np.nanmax(np.abs(meas[idx]))) or 1.0
    rmax = float(np.nanmax(np.abs(res[idx]))) or 1.0
    axes = fig.subplots(3, len(idx), squeeze=False)
    for j, k in enumerate(idx):
        t_min = float(comparison["time"].values[k]) / 60.0
        for i, (img, title, lim, cmap) in enumerate([(meas[k], "measured", vmax, "viridis"),
                                                     (fit[k], "fitted", vmax, "viridis"),
                                                     (res[k], "residual", rmax, "RdBu_r")]):
            ax = axes[i, j]
            im = ax.imshow(img, cmap=cmap, vmin=-lim if cmap == "RdBu_r" else min(0.0, float(np.nanmin(img))),
                           vmax=lim)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{title}, {t_min:.0f} min", fontsize=8)
            if j == len(idx) - 1:
                fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def plot_particle_fit(comparison, *, fig=None):
    """Centre trace, mean contrast, voltage and line profiles: measured (dots) against fitted (lines)."""
    plt = _plt()
    fig = fig or plt.figure(figsize=(10, 7))
    axes = fig.subplots(2, 2)
    t = comparison["time"].values / 60.0
    ax = axes[0, 0]
    ax.plot(t, comparison["centre_measured"], "o", ms=3, label="centre, measured")
    ax.plot(t, comparison["centre_fitted"], "-", label="centre, fitted")
    ax.plot(t, comparison["mean_measured"], "s", ms=3, label="mean, measured")
    ax.plot(t, comparison["mean_fitted"], "--", label="mean, fitted")
    ax.set_xlabel("time [min]")
    ax.set_ylabel("differential contrast")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    if "voltage_measured" in comparison:
        ax.plot(t, comparison["voltage_measured"], "o", ms=3, label="measured")
    if "voltage_fitted" in comparison:
        ax.plot(t, comparison["voltage_fitted"], "-", label="fitted")
    ax.set_xlabel("time [min]")
    ax.set_ylabel("voltage [V]")
    ax.legend(fontsize=7)
    ax = axes[1, 0]
    n = comparison.sizes["frame"]
    idx = np.unique(np.round(np.linspace(1, n - 1, min(5, n - 1))).astype(int))
    x = comparison["x"].values
    for k in idx:
        line, = ax.plot(x, comparison["profile_fitted"].values[k], "-")
        ax.plot(x, comparison["profile_measured"].values[k], "o", ms=3, color=line.get_color(),
                label=f"{comparison['time'].values[k] / 60:.0f} min")
    ax.set_xlabel("x [px] (row through the centre)")
    ax.set_ylabel("differential contrast")
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    ax.plot(t, comparison["theta_mean"], "-")
    ax.set_xlabel("time [min]")
    ax.set_ylabel("fitted mean θ")
    fig.tight_layout()
    return fig


def plot_gitt_fit(table, *, ax=None):
    """D per pulse against θ: model-based (with intervals) beside the classic and sphere estimates."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    th = table["theta_mid"].to_numpy()
    d = table["D_model"].to_numpy()
    err = np.vstack([d - table["D_lower"].to_numpy(), table["D_upper"].to_numpy() - d])
    ax.errorbar(th, d, yerr=np.where(np.isfinite(err), err, 0.0), fmt="o", label="model-based")
    ax.plot(th, table["D_classic"], "x", label="classic (Weppner–Huggins)")
    if "D_sphere" in table:
        ax.plot(th, table["D_sphere"], "+", label="sphere fit")
    long = table["long_pulse"].to_numpy(bool)
    if long.any():
        ax.plot(th[long], d[long], "o", mfc="none", ms=11, color="k", label="long pulse (τD/L² > 0.1)")
    ax.set_yscale("log")
    ax.set_xlabel("θ (pulse middle)")
    ax.set_ylabel("D [m²/s]")
    ax.legend(fontsize=7)
    return ax


def plot_onsets_fit(onsets, *, ax=None):
    """Measured against fitted onset SOC per particle."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    m = onsets["onset_soc_measured"].to_numpy()
    f = onsets["onset_soc_fitted"].to_numpy()
    ax.plot(m, f, "o")
    lim = [float(np.nanmin([m.min(), f.min()])), float(np.nanmax([m.max(), f.max()]))]
    ax.plot(lim, lim, "k--", lw=0.8)
    for p, a, b in zip(onsets["particle"], m, f):
        ax.annotate(str(p), (a, b), fontsize=7)
    ax.set_xlabel("measured onset SOC")
    ax.set_ylabel("fitted onset SOC")
    return ax
