"""Figures of many runs: a sweep's outputs against its axes, a batch of movies side by side, a population."""

from __future__ import annotations

import numpy as np

from ._common import _plt

__all__ = ["plot_batch_summary", "plot_population", "plot_sweep_outputs"]

#: lines drawn per panel before the rest are left out (the title says how many)
MAX_LINES = 10


def _numeric(values) -> bool:
    try:
        np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return False
    return True


def plot_sweep_outputs(points, *, axes, outputs, labels=None, fig=None):
    """Each output of a sweep against its first axis, one line per combination of the other axes.

    Parameters
    ----------
    points : pandas.DataFrame
        One row per point: a column per axis, a column per output and
        ``status`` (``"done"``, ``"failed"`` or ``"not run"``).
    axes : sequence of str
        The sweep's axes; the first is the abscissa (log-scaled when its
        positive values span a factor of 20 or more).
    outputs : sequence of str
        Columns to draw, one panel each.
    labels : dict, optional
        Axis label of each output column (default: the column name).
    fig : matplotlib Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
        Failed points are marked with a red cross at the foot of each panel.
    """
    plt = _plt()
    axes, outputs, labels = list(axes), list(outputs), dict(labels or {})
    if not axes or not outputs:
        from ..errors import ParameterError

        raise ParameterError(f"plot_sweep_outputs needs at least one axis and one output, got axes={axes}, "
                             f"outputs={outputs}")
    n = len(outputs)
    if fig is None:
        fig = plt.figure(figsize=(min(4.2 * n, 12.6), 3.4), constrained_layout=True)
    panels = fig.subplots(1, n, squeeze=False)[0]
    x_name, others = axes[0], axes[1:]
    xs = points[x_name]
    numeric = _numeric(xs)
    order = sorted(xs.unique(), key=float if numeric else str)
    pos = {v: (float(v) if numeric else k) for k, v in enumerate(order)}
    groups = list(points.groupby(others, sort=True)) if others else [((), points)]
    shown = groups[:MAX_LINES]
    for ax, out in zip(panels, outputs):
        for key, g in shown:
            key = key if isinstance(key, tuple) else (key,)
            g = g.assign(_x=g[x_name].map(pos)).sort_values("_x")
            y = np.where(g["status"] == "done", g[out].astype(float), np.nan)
            label = ", ".join(f"{a} = {v}" for a, v in zip(others, key)) or None
            ax.plot(g["_x"], y, marker="o", ms=4, label=label)
        failed = points[points["status"] == "failed"]
        if len(failed):
            ax.plot(failed[x_name].map(pos), np.full(len(failed), 0.03), "x", color="tab:red", ms=7,
                    transform=ax.get_xaxis_transform(), label="failed" if ax is panels[0] else None)
        if numeric:
            v = np.asarray(order, float)
            if v.min() > 0 and v.max() / v.min() >= 20:
                ax.set_xscale("log")
        else:
            ax.set_xticks(range(len(order)), [str(v) for v in order], rotation=30, fontsize=8)
        ax.set_xlabel(x_name)
        ax.set_ylabel(labels.get(out, out))
    _, names = panels[0].get_legend_handles_labels()
    if names:
        panels[0].legend(fontsize=7, title=None if len(shown) == len(groups) else
                         f"first {len(shown)} of {len(groups)}", title_fontsize=7)
    return fig


def plot_batch_summary(table, *, fig=None):
    """A batch of optical analyses side by side: particles per movie, and each half cycle's asynchrony index.

    Parameters
    ----------
    table : pandas.DataFrame
        ``batch_summary.csv`` of ``socscope optical analyze-batch``: ``movie``,
        ``status``, ``particles`` and ``half_cycle_<k>_asynchrony_index``
        (failed movies have no values; they are named in red).
    fig : matplotlib Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    if fig is None:
        fig = plt.figure(figsize=(8.4, 3.4), constrained_layout=True)
    left, right = fig.subplots(1, 2)
    names = [str(m).replace("\\", "/").rsplit("/", 1)[-1] for m in table["movie"]]
    x = np.arange(len(table))
    done = (table["status"] == "done").to_numpy()
    parts = np.where(done, table.get("particles", np.nan), np.nan).astype(float)
    left.bar(x[done], parts[done], color="tab:blue")
    left.set_ylabel("particles")
    cols = sorted((c for c in table.columns if c.startswith("half_cycle_") and c.endswith("_asynchrony_index")),
                  key=lambda c: int(c.split("_")[2]))
    for k, c in enumerate(cols):
        right.plot(x + (k - (len(cols) - 1) / 2) * 0.12, table[c].astype(float), "o",
                   label=f"half cycle {c.split('_')[2]}")
    right.axhline(1.0, color="grey", ls="--", lw=0.8)
    right.set_ylabel("asynchrony index")
    if cols:
        right.legend(fontsize=7)
    for ax in (left, right):
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        for tick, ok in zip(ax.get_xticklabels(), done):
            if not ok:
                tick.set_color("tab:red")
    left.set_title("movies (red: failed)", fontsize=9)
    return fig


def plot_population(ds, *, fig=None):
    """A particle population after its final charge: DOL histograms and DOL against diameter.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`socscope.simulate.population.simulate_population`
        (``dol``, ``diameter_um``, ``isolated``).
    fig : matplotlib Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
        Left: relative histograms of the DOL of connected and isolated
        particles; right: each particle's DOL against its diameter.
    """
    plt = _plt()
    if fig is None:
        fig = plt.figure(figsize=(8.4, 3.4), constrained_layout=True)
    left, right = fig.subplots(1, 2)
    dol = np.asarray(ds["dol"].values, float)
    diameter = np.asarray(ds["diameter_um"].values, float)
    iso = np.asarray(ds["isolated"].values, bool)
    edges = np.linspace(min(0.0, dol.min()), max(1.0, dol.max()), 41)
    for mask, label, colour in ((~iso, "connected", "tab:blue"), (iso, "isolated", "tab:orange")):
        if mask.any():
            left.hist(dol[mask], bins=edges, weights=np.full(mask.sum(), 100.0 / dol.size), histtype="stepfilled",
                      alpha=0.6, color=colour, label=f"{label} ({mask.sum()})")
            right.plot(diameter[mask], dol[mask], ".", color=colour, ms=4, label=label)
    left.set_xlabel("DOL after the final charge")
    left.set_ylabel("particles [%]")
    left.legend(fontsize=7)
    right.set_xlabel("diameter [µm]")
    right.set_ylabel("DOL")
    right.legend(fontsize=7)
    fig.suptitle(f"{dol.size} particles, {100 * iso.mean():.1f} % isolated", fontsize=10)
    return fig
