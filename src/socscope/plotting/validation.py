"""Figures of the validation runs (``socscope validate``); matplotlib is imported inside the functions.

Each function returns the :class:`matplotlib.figure.Figure` it drew;
:func:`save_figure` writes one atomically and closes it.
"""

from __future__ import annotations


import numpy as np

from ._common import _extent_um, _plt, save_figure  # noqa: F401 (save_figure re-exported)

__all__ = ["plot_map_grid", "plot_line_panels", "plot_voltage_capacity_runs", "save_figure"]


def plot_map_grid(panels, *, ncols: int, suptitle: str = "", vmin=None, vmax=None, cmap: str = "viridis",
                  label: str = "θ (Li occupancy)"):
    """θ maps of 2D particles on a grid of panels with one colour scale.

    Parameters
    ----------
    panels : sequence of (Dataset, float, str)
        Result, time [s] (the nearest recorded one is shown) and panel title.
    ncols : int
        Panels per row.
    suptitle : str
    vmin, vmax : float, optional
        Colour range (default: the range over all panels).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    fields = [ds.theta.sel(time=t, method="nearest").values for ds, t, _ in panels]
    lo = float(min(np.nanmin(f) for f in fields)) if vmin is None else vmin
    hi = float(max(np.nanmax(f) for f in fields)) if vmax is None else vmax
    nrows = -(-len(panels) // ncols)
    width, height = 2.6 * ncols + 1.2, 2.6 * nrows + 0.6
    fig = plt.figure(figsize=(width, height))
    # fixed margins (a layout engine costs seconds per figure)
    fig.subplots_adjust(left=0.7 / width, right=1 - 1.3 / width, bottom=0.5 / height,
                        top=1 - (0.55 if suptitle else 0.3) / height, wspace=0.35, hspace=0.35)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    im = None
    for ax, (ds, _, title), field in zip(axes.flat, panels, fields):
        im = ax.imshow(field, origin="lower", extent=_extent_um(ds), cmap=cmap, vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=8)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("y [µm]", fontsize=8)
    for ax in axes[-1, :]:
        ax.set_xlabel("x [µm]", fontsize=8)
    cax = fig.add_axes((1 - 1.0 / width, 0.15, 0.18 / width, 0.7))
    fig.colorbar(im, cax=cax, label=label)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def plot_line_panels(panels, *, ncols: int | None = None, suptitle: str = "", panel_size=(4.2, 3.2)):
    """Panels of line plots.

    Parameters
    ----------
    panels : sequence of dict
        Each with ``lines`` (sequence of ``(x, y, label)`` or ``(x, y, label,
        style)``), and optionally ``title``, ``xlabel``, ``ylabel``, ``hline``
        (a y value drawn as a grey line), ``xscale``/``yscale`` and ``band``
        (``(lo, hi)`` shaded in y, e.g. a published range).
    ncols : int, optional
        Panels per row (default: all in one row).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    n = len(panels)
    ncols = ncols or n
    nrows = -(-n // ncols)
    width, height = panel_size[0] * ncols, panel_size[1] * nrows + 0.4
    fig = plt.figure(figsize=(width, height))
    fig.subplots_adjust(left=0.75 / width, right=1 - 0.2 / width, bottom=0.5 / height,
                        top=1 - (0.65 if suptitle else 0.35) / height, wspace=0.75 * 4.2 / panel_size[0] * 0.4,
                        hspace=0.45)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, p in zip(axes.flat, panels):
        for line in p["lines"]:
            x, y, lab = line[:3]
            style = line[3] if len(line) > 3 else "-"
            ax.plot(x, y, style, label=lab, lw=1.3, ms=4)
        if "band" in p:
            ax.axhspan(*p["band"], color="0.85", zorder=0, label=p.get("band_label"))
        if "hline" in p:
            ax.axhline(p["hline"], color="0.6", lw=0.8)
        ax.set_xscale(p.get("xscale", "linear"))
        ax.set_yscale(p.get("yscale", "linear"))
        ax.set_title(p.get("title", ""), fontsize=9)
        ax.set_xlabel(p.get("xlabel", ""), fontsize=8)
        ax.set_ylabel(p.get("ylabel", ""), fontsize=8)
        ax.tick_params(labelsize=7)
        if any(line[2] for line in p["lines"]):
            ax.legend(frameon=False, fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def plot_voltage_capacity_runs(runs, *, suptitle: str = ""):
    """Voltage against the capacity passed in each step, one colour per run.

    Charge steps are drawn solid (capacity counted up), discharge and
    voltage-hold steps dashed (capacity counted down from the end of charge),
    so the gap at the end is the capacity lost in the cycle.

    Parameters
    ----------
    runs : sequence of (str, Dataset)
        Label and result with ``voltage``, ``specific_capacity`` and ``step``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    fig = plt.figure(figsize=(5.6, 4.0))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.92)
    ax = fig.subplots()
    colours = plt.cm.viridis(np.linspace(0.0, 0.8, max(1, len(runs))))
    for colour, (label, ds) in zip(colours, runs):
        q = ds.specific_capacity.values
        v = ds.voltage.values
        kinds = ds.step_kind.values.astype(str)
        step = ds.step.values
        for k, kind in enumerate(kinds):
            sel = step == k
            ax.plot(q[sel], v[sel], "-" if kind == "charge" else "--", color=colour, lw=1.3,
                    label=label if k == 0 else None)
    ax.set_xlabel("net charge passed [mAh/g] (charge up, discharge and hold back down)")
    ax.set_ylabel("voltage vs Li/Li⁺ [V]")
    ax.legend(frameon=False, fontsize=8)
    if suptitle:
        ax.set_title(suptitle, fontsize=9)
    return fig
