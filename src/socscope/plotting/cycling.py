"""Figures of cycler records (matplotlib imported inside the functions)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_voltage_capacity", "plot_dqdv", "plot_capacity_efficiency", "voltage_capacity_curves"]


def voltage_capacity_curves(df, half, *, mass_g=None):
    """The voltage-capacity curve of every half cycle, as one long table (what the figure draws).

    Parameters
    ----------
    df : pandas.DataFrame
        Record from :func:`socscope.io.load_cycler`.
    half : pandas.DataFrame
        From :func:`socscope.analysis.cycling.half_cycles`.
    mass_g : float, optional
        Adds ``capacity_mAh_g``.

    Returns
    -------
    pandas.DataFrame
        ``half_cycle``, ``cycle`` (half_cycle // 2: pairs of half cycles from the first), ``direction``, ``time_s``,
        ``capacity_mAh`` (counted from the half cycle's start), ``voltage_V``
        and, with ``mass_g``, ``capacity_mAh_g``.
    """
    import pandas as pd

    v = df["voltage_V"].to_numpy(float)
    q = df["capacity_Ah"].to_numpy(float) * 1e3
    t = df["time_s"].to_numpy(float)
    parts = []
    for k, h in half.iterrows():
        seg = slice(int(h.start), int(h.stop))
        part = pd.DataFrame({"half_cycle": int(k), "cycle": int(k) // 2, "direction": h.direction,
                             "time_s": t[seg], "capacity_mAh": np.abs(q[seg] - q[int(h.start)]),
                             "voltage_V": v[seg]})
        if mass_g:
            part["capacity_mAh_g"] = part["capacity_mAh"] / mass_g
        parts.append(part)
    cols = ["half_cycle", "cycle", "direction", "time_s", "capacity_mAh", "voltage_V"] + (
        ["capacity_mAh_g"] if mass_g else [])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def plot_voltage_capacity(df, half, *, ax=None, mass_g=None):
    """Voltage against capacity, one line per half cycle (charge solid, discharge dashed).

    Cycles are coloured along viridis, with a colour bar (or, for up to six
    cycles, a legend) that names them.

    Parameters
    ----------
    df : pandas.DataFrame
        Record from :func:`socscope.io.load_cycler`.
    half : pandas.DataFrame
        From :func:`socscope.analysis.cycling.half_cycles`.
    mass_g : float, optional
        Plot in mAh/g instead of mAh.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    curves = voltage_capacity_curves(df, half, mass_g=mass_g)
    x = "capacity_mAh_g" if mass_g else "capacity_mAh"
    n_cycles = max(1, (len(half) + 1) // 2)
    cmap = plt.get_cmap("viridis")
    norm = mpl.colors.Normalize(vmin=-0.5, vmax=n_cycles - 0.5)
    labelled = set()
    for (k, cycle, direction), g in curves.groupby(["half_cycle", "cycle", "direction"], sort=True):
        label = None
        if n_cycles <= 6 and cycle not in labelled:
            label, _ = f"cycle {cycle}", labelled.add(cycle)
        ax.plot(g[x], g.voltage_V, "-" if direction == "charge" else "--", color=cmap(0.9 * norm(cycle)),
                lw=1, label=label)
    if n_cycles <= 6:
        if labelled:
            ax.legend(frameon=False, fontsize=8)
    else:
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=mpl.colors.ListedColormap(cmap(np.linspace(0, 0.9, 256))))
        ax.figure.colorbar(sm, ax=ax, label="cycle")
    ax.set_xlabel("capacity [mAh/g]" if mass_g else "capacity [mAh]")
    ax.set_ylabel("voltage [V]")
    ax.set_title("charge (solid) and discharge (dashed) by cycle")
    return ax


def plot_capacity_efficiency(cycles, *, axes=None):
    """Charge and discharge capacity, and coulombic efficiency, against cycle number.

    Parameters
    ----------
    cycles : pandas.DataFrame
        From :func:`socscope.analysis.cycling.cycle_summary` (index ``cycle``).
    axes : pair of Axes, optional
        Capacity (top) and efficiency (bottom).

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(5.5, 5), sharex=True, layout="constrained")
    top, bottom = axes
    n = np.asarray(cycles.index, dtype=float)
    unit = "mAh_g" if any(c.endswith("_mAh_g") for c in cycles.columns) else "mAh"
    for col, mk, label in ((f"charge_{unit}", "o", "charge"), (f"discharge_{unit}", "s", "discharge")):
        if col in cycles:
            top.plot(n, cycles[col], mk + "-", mfc="none", label=label)
    top.set_ylabel("capacity [mAh/g]" if unit == "mAh_g" else "capacity [mAh]")
    if top.lines:
        top.legend(frameon=False, fontsize=8)
    if "coulombic_efficiency" in cycles:
        bottom.plot(n, 100 * cycles["coulombic_efficiency"].astype(float), "o-", color="C2")
    bottom.set_ylabel("coulombic efficiency [%]")
    bottom.set_xlabel("cycle")
    if n.size:
        bottom.set_xticks(n if n.size <= 15 else np.unique(np.linspace(n[0], n[-1], 10).round()))
    else:
        bottom.text(0.5, 0.5, "no complete cycle", ha="center", va="center", transform=bottom.transAxes)
    return [top, bottom]


def plot_dqdv(table, *, ax=None):
    """dQ/dV against voltage, one line per half cycle."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    for (k, direction), g in table.groupby(["half_cycle", "direction"]):
        sign = 1 if direction == "charge" else -1
        ax.plot(g.voltage_V, sign * g.dqdv_mAh_V, lw=1, label=f"{k}: {direction}" if k < 4 else None)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("voltage [V]")
    ax.set_ylabel("dQ/dV [mAh/V] (discharge negative)")
    return ax
