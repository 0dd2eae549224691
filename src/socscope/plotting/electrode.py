"""Figures of network-electrode results (matplotlib imported inside the functions)."""

from __future__ import annotations

import numpy as np

from ._common import _plt

__all__ = ["plot_particle_traces", "plot_dol_histogram", "plot_asynchrony"]


def plot_particle_traces(ds, *, particles=None, ax=None, signal: str = "theta_particle_mean",
                         colorbar: bool = True):
    """Each particle's occupancy against cell SOC, one panel per half-cycle (Sharma et al., Nano Lett. 2022 Fig. 1c / 4d).

    Lines are coloured by electrical distance to the collector (viridis: near
    dark, far light), and a colour bar gives the scale.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`~socscope.simulate.simulate_electrode` result (with its observables).
    particles : array_like of int, optional
        Particles to draw; default the top layer (what a microscope sees), at
        most 30. The panel titles give the asynchrony index of all particles
        by default, of the drawn ones when ``particles`` is given
        (:func:`~socscope.observe.asynchrony_of`).
    ax : sequence of Axes, optional
        One per half-cycle.
    signal : str
        Per-particle variable to draw.
    colorbar : bool
        Add the colour bar of electrical distance beside the panels.

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    from ..observe.electrode import asynchrony_of, cell_half_cycles, cell_soc

    plt = _plt()
    soc = cell_soc(ds)
    hc = cell_half_cycles(ds)
    halves = np.unique(hc)
    # per half-cycle: the index of all particles, or of the drawn ones when chosen
    index = {}
    if particles is None:
        top = np.nonzero(np.asarray(ds["top"].values, dtype=bool))[0]
        particles = (top if top.size else np.arange(ds.sizes["particle"]))[:30]
        if "asynchrony_index" in ds:
            index = {int(h): ("index", float(x), str(c)) for h, x, c in zip(
                ds["half_cycle"].values, ds["asynchrony_index"].values, ds["classification"].values)}
    elif "asynchrony_index" in ds:
        tab = asynchrony_of(ds, particles)
        index = {int(h): ("index (drawn)", float(x), str(c)) for h, x, c in zip(
            tab.half_cycle, tab.asynchrony_index, tab.classification)}
    particles = np.asarray(particles, dtype=int)
    if ax is None:
        _, ax = plt.subplots(1, len(halves), figsize=(3.2 * len(halves), 3.4), layout="constrained", squeeze=False)
        ax = ax[0]
    import matplotlib as mpl

    dist = np.asarray(ds["electrical_distance"].values, dtype=float)[particles]
    finite = dist[np.isfinite(dist)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    norm = mpl.colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    cmap = mpl.colors.ListedColormap(plt.cm.viridis(np.linspace(0, 0.95, 256)))
    order = np.argsort(dist)
    values = np.asarray(ds[signal].values)
    for a, h in zip(ax, halves):
        sel = hc == h
        for j in order:  # far particles drawn last, on top
            colour = cmap(norm(dist[j])) if np.isfinite(dist[j]) else "0.6"  # isolated: grey
            a.plot(soc[sel], values[sel, particles[j]], color=colour, lw=1)
        direction = "charge" if soc[sel][-1] > soc[sel][0] else "discharge"
        title = f"half-cycle {h}: {direction}"
        if int(h) in index:
            label, x, classification = index[int(h)]
            title += f"\n{label} {x:.2f} ({classification})"
        a.set_title(title, fontsize=9)
        a.set_xlabel("cell SOC (sites emptied)")
    ax[0].set_ylabel("particle mean θ")
    if colorbar and len(ax):
        units = ds["electrical_distance"].attrs.get("units", "")
        units = {"ohm": "Ω"}.get(units, units)
        label = "electrical distance to the collector" + (f" [{units}]" if units and units != "1" else "")
        ax[0].figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(ax), label=label,
                              fraction=0.05 if len(ax) > 1 else 0.08)
    return list(ax)


def plot_dol_histogram(ds, *, times=None, ax=None, bins: int = 30):
    """Histograms of the particles' degree of lithiation (mean θ) at chosen times (single-particle-ICP-OES-like).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`~socscope.simulate.simulate_electrode` result.
    times : sequence of float, optional
        Times [s]; default the end of every protocol step.
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
    t = np.asarray(ds["time"].values, dtype=float)
    if times is None:
        times = np.asarray(ds["step_end_time"].values, dtype=float)
    theta = np.asarray(ds["theta_particle_mean"].values)
    edges = np.linspace(0.0, 1.0, bins + 1)
    colours = plt.cm.viridis(np.linspace(0, 0.9, max(len(times), 1)))
    for k, tt in enumerate(times):
        j = int(np.argmin(np.abs(t - tt)))
        # light fills under opaque outlines, each later outline thinner and on top: where two
        # histograms coincide (the ends of two charges) the earlier one still shows around the later
        face = (*colours[k][:3], 0.25)
        lw = 1.2 + 2.4 * (len(times) - 1 - k) / max(len(times) - 1, 1)
        ax.hist(theta[j], bins=edges, histtype="stepfilled", facecolor=face, edgecolor=colours[k], lw=lw,
                label=f"{t[j] / 3600:.1f} h", zorder=2 + k)
    ax.set_xlabel("degree of lithiation (particle mean θ)")
    ax.set_ylabel("particles")
    ax.legend(fontsize=8, title="time")
    return ax


def plot_asynchrony(results: dict, *, ax=None, threshold: float = 1.0):
    """Asynchrony index per half-cycle for one or several runs (e.g. a model and its controls).

    Parameters
    ----------
    results : dict of str → xarray.Dataset
        Electrode results with observables, by label.
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
    for label, ds in results.items():
        ax.plot(ds["half_cycle"].values, np.maximum(ds["asynchrony_index"].values, 1e-4), "o-", label=label)
    ax.axhline(threshold, color="0.5", ls="--", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("half-cycle (0 = first charge)")
    ax.set_ylabel("asynchrony index (IQR of switch centres / median switch width)")
    ax.legend(fontsize=8)
    return ax
