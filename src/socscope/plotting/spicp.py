"""SP-ICP-OES figures (Kröger et al. Fig. 4–5): DOL/ratio histograms with ±2σ frames, the calibration line,
diverging fractions per sample."""

from __future__ import annotations

import numpy as np

from ._common import _plt

__all__ = ["plot_calibration", "plot_diverging_fractions", "plot_spicp_histogram"]


def plot_spicp_histogram(values_by_replicate: dict, *, frames=(), expected=None, xlabel: str = "DOL", ax=None):
    """Relative histograms of each replicate in one axis, reference frames drawn as shaded bands.

    Parameters
    ----------
    values_by_replicate : dict of str -> array_like
    frames : sequence of (low, high, label)
        The ±2σ frames of the references (in the same units).
    expected : (low, high), optional
        The frame of the expected state, outlined in black.
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    allv = np.concatenate([np.asarray(v, float) for v in values_by_replicate.values()])
    edges = np.linspace(np.percentile(allv, 0.1), np.percentile(allv, 99.9), 80)
    colours = plt.cm.viridis(np.linspace(0.1, 0.9, max(len(frames), 1)))
    for (lo, hi, label), c in zip(frames, colours):
        ax.axvspan(lo, hi, color=c, alpha=0.15, label=f"±2σ {label}")
    for name, v in values_by_replicate.items():
        w = np.full(np.size(v), 100.0 / np.size(v))
        ax.hist(np.asarray(v, float), bins=edges, weights=w, histtype="step", label=str(name))
    if expected is not None:
        for x in expected:
            ax.axvline(x, color="k", lw=1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("particles [%]")
    ax.legend(fontsize=7, ncol=2)
    return ax.figure


def plot_calibration(cal, *, ax=None):
    """Mean ratio of each reference (±2σ of its distribution as bars) and the line with its 95 % band."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 4.0))
    refs = cal.references
    ax.errorbar(refs["dol"], refs["mean_ratio"], yerr=2 * refs["sigma_ratio"], fmt="o", capsize=3,
                label="references (mean, ±2σ)")
    d = np.linspace(0, max(1.0, float(refs["dol"].max())), 100)
    y = cal.intercept + cal.slope * d
    c = cal.covariance
    u = np.sqrt(c[0, 0] + d ** 2 * c[1, 1] + 2 * d * c[0, 1])
    ax.plot(d, y, "k-", label=f"{cal.intercept:.4g} + {cal.slope:.4g}·DOL")
    ax.fill_between(d, y - 2 * u, y + 2 * u, color="k", alpha=0.2, label="line ±2 s.e.")
    ax.set_xlabel("DOL")
    ax.set_ylabel("I(Li)/I(Mn)")
    ax.legend(fontsize=8)
    return ax.figure


def plot_diverging_fractions(table, *, ax=None):
    """Diverging fraction of each replicate and pooled, with error bars (``se``), split Li-rich / Li-poor."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.6))
    x = np.arange(len(table))
    ax.errorbar(x, 100 * table["diverging_fraction"], yerr=100 * table["se"], fmt="o", capsize=3, label="diverging")
    ax.plot(x, 100 * table["li_rich_fraction"], "^", label="Li-rich")
    ax.plot(x, 100 * table["li_poor_fraction"], "v", label="Li-poor")
    ax.plot(x, 100 * table["fraction_outside"], "x", color="grey", label="outside the frame (raw)")
    ax.set_xticks(x, [str(i) for i in table.index], rotation=30, fontsize=8)
    ax.set_ylabel("particles [%]")
    ax.legend(fontsize=7)
    ax.figure.tight_layout()
    return ax.figure
