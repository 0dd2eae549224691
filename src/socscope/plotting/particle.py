"""Figures of single-particle results (matplotlib is imported inside the functions).

Every function takes a results Dataset from :func:`socscope.simulate_particle`
and an optional ``ax``/``fig``, and returns the matplotlib object it drew on.
"""

from __future__ import annotations

import numpy as np

from ._common import _extent_um, _plt

__all__ = ["plot_theta_maps", "plot_traces", "plot_periphery_core"]


def plot_theta_maps(ds, times_s=None, *, times_min=None, fig=None, cmap="viridis", vmin=None, vmax=None,
                    label="θ"):
    """θ maps (2D particles) or profiles (spheres) at the given times.

    Parameters
    ----------
    ds : xarray.Dataset
    times_s : sequence of float, optional
        Times [s]; the nearest recorded time is shown.
    times_min : sequence of float, optional
        The same in minutes (give one of the two; default: four times spread over the run).
    fig : matplotlib Figure, optional
    cmap : str
        Colour map for 2D maps.
    vmin, vmax : float, optional
        Colour range (default: the range over the shown maps).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .quicklook import _times

    plt = _plt()
    times_s = _times(times_s, times_min, ds)
    sel = ds.theta.sel(time=list(times_s), method="nearest")
    if "x" in ds.theta.dims:
        n = len(times_s)
        if fig is None:
            fig = plt.figure(figsize=(3.2 * n + 1.0, 3.4), layout="constrained")
        axes = fig.subplots(1, n, squeeze=False)[0]
        lo = float(np.nanmin(sel)) if vmin is None else vmin
        hi = float(np.nanmax(sel)) if vmax is None else vmax
        extent_um = _extent_um(ds)
        im = None
        for ax, t, field in zip(axes, sel.time.values, sel.values):
            im = ax.imshow(field, origin="lower", extent=extent_um, cmap=cmap, vmin=lo, vmax=hi)
            ax.set_title(f"t = {t / 60:.0f} min")
            ax.set_xlabel("x [µm]")
            ax.set_aspect("equal")
        axes[0].set_ylabel("y [µm]")
        fig.colorbar(im, ax=list(axes), label=f"{label} (Li occupancy)", shrink=0.9)
        return fig
    if fig is None:
        fig = plt.figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.subplots()
    r_um = ds.r.values * 1e6
    for t, prof in zip(sel.time.values, sel.values):
        ax.plot(r_um, prof, label=f"{t / 60:.0f} min")
    ax.set_xlabel("r [µm]")
    ax.set_ylabel(f"{label} (Li occupancy)")
    ax.legend(frameon=False)
    return fig


def plot_traces(ds, *, ax=None, quantities=("theta_mean", "theta_centre", "theta_surface")):
    """Mean, centre and surface θ against time.

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
    labels = {"theta_mean": "mean", "theta_centre": "centre", "theta_surface": "surface (mean)"}
    t_min = ds.time.values / 60
    for q in quantities:
        ax.plot(t_min, ds[q].values, label=labels.get(q, q))
    ax.set_xlabel("time [min]")
    ax.set_ylabel("θ (Li occupancy)")
    ax.legend(frameon=False)
    return ax


def plot_periphery_core(ds, *, ax=None):
    """Periphery-minus-core θ and max−min θ against time.

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
    t_min = ds.time.values / 60
    ax.plot(t_min, ds.theta_periphery_minus_core.values, label="periphery − core")
    ax.plot(t_min, ds.theta_range.values, "--", label="max − min")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("time [min]")
    ax.set_ylabel("Δθ")
    ax.legend(frameon=False)
    return ax


def plot_voltage_curve(ds, *, ax=None):
    """Voltage against the charge passed, one colour per protocol step.

    Parameters
    ----------
    ds : xarray.Dataset
        A simulated run with a voltage (Butler–Volmer kinetics).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    step = ds.step.values
    q = ds.specific_capacity.values
    v = ds.voltage.values
    colours = plt.cm.viridis(np.linspace(0, 0.85, max(1, ds.sizes["step_index"])))
    for k in range(ds.sizes["step_index"]):
        sel = np.nonzero(step == k)[0]
        if k > 0 and sel.size:
            sel = np.concatenate(([sel[0] - 1], sel))  # join each step to the previous one
        label = str(ds.step_sentence.values[k])
        ax.plot(q[sel], v[sel], color=colours[k], label=label if len(label) < 45 else label[:42] + "...")
    ax.set_xlabel("charge passed [mAh/g] (positive = Li removed)")
    ax.set_ylabel("voltage vs Li/Li⁺ [V]")
    ax.legend(frameon=False, fontsize=8)
    return ax
