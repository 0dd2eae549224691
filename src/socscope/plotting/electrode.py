"""Figures of network-electrode results (matplotlib imported inside the functions)."""

from __future__ import annotations

import numpy as np

from ._common import _plt

__all__ = ["plot_particle_traces", "plot_dol_histogram", "plot_asynchrony"]


def plot_particle_traces(ds, *, particles=None, ax=None, signal: str = "theta_particle_mean"):
    """Each particle's occupancy against cell SOC, one panel per half-cycle ([002] Fig. 1c / 4d).

    Lines are coloured by electrical distance to the collector (viridis: near dark, far light).

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
    order = np.argsort(np.asarray(ds["electrical_distance"].values)[particles])
    colours = plt.cm.viridis(np.linspace(0, 0.95, max(particles.size, 1)))
    values = np.asarray(ds[signal].values)
    for a, h in zip(ax, halves):
        sel = hc == h
        for c, j in zip(colours, particles[order]):
            a.plot(soc[sel], values[sel, j], color=c, lw=1)
        direction = "charge" if soc[sel][-1] > soc[sel][0] else "discharge"
        title = f"half-cycle {h}: {direction}"
        if int(h) in index:
            label, x, classification = index[int(h)]
            title += f"\n{label} {x:.2f} ({classification})"
        a.set_title(title, fontsize=9)
        a.set_xlabel("cell SOC (sites emptied)")
    ax[0].set_ylabel("particle mean θ")
    return list(ax)


def plot_dol_histogram(ds, *, times=None, ax=None, bins: int = 30):
    """Histograms of the particles' degree of lithiation (mean θ) at chosen times ([000]-like).

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
    for k, tt in enumerate(times):
        j = int(np.argmin(np.abs(t - tt)))
        ax.hist(theta[j], bins=edges, histtype="step", lw=1.2, label=f"{t[j] / 3600:.1f} h")
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
