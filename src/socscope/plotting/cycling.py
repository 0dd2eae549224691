"""Figures of cycler records (matplotlib imported inside the functions)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_voltage_capacity", "plot_dqdv"]


def plot_voltage_capacity(df, half, *, ax=None, mass_g=None):
    """Voltage against capacity, one line per half cycle (charge solid, discharge dashed).

    Parameters
    ----------
    df : pandas.DataFrame
        Record from :func:`socscope.io.load_cycler`.
    half : pandas.DataFrame
        From :func:`socscope.analysis.cycling.half_cycles`.
    mass_g : float, optional
        Plot in mAh/g instead of mAh.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    v = df["voltage_V"].to_numpy()
    q = df["capacity_Ah"].to_numpy() * 1e3
    scale = 1.0 / mass_g if mass_g else 1.0
    colours = plt.cm.viridis(np.linspace(0, 0.9, max(1, (len(half) + 1) // 2)))
    for k, h in half.iterrows():
        seg = slice(h.start, h.stop)
        ax.plot(np.abs(q[seg] - q[h.start]) * scale, v[seg], "-" if h.direction == "charge" else "--",
                color=colours[min(k // 2, len(colours) - 1)], lw=1)
    ax.set_xlabel("capacity [mAh/g]" if mass_g else "capacity [mAh]")
    ax.set_ylabel("voltage [V]")
    ax.set_title("charge (solid) and discharge (dashed) by cycle")
    return ax


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
