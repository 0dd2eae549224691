"""Quick looks: the figure a person wants first from any socscope simulation result.

:func:`quick_look` is what ``socscope simulate particle|electrode --plot``
writes and what ``res.socscope.plot()`` shows:

* a particle: θ maps (or radial profiles of a sphere) at four times, the
  mean/centre/surface θ traces, and voltage against charge passed (or the
  periphery − core difference when the run has no voltage);
* an electrode: voltage against charge passed, the asynchrony index per
  half-cycle, and each top-layer particle's SOC against cell SOC, one panel
  per half-cycle, titled with the index.
"""

from __future__ import annotations

import numpy as np

from ._common import _plt

__all__ = ["default_times_s", "quick_look"]


def default_times_s(ds, n: int = 4) -> list[float]:
    """``n`` recorded times spread over the run, the first after the start (nothing has moved at t = 0)."""
    t = np.asarray(ds.time.values, dtype=float)
    if t.size <= n:
        return [float(v) for v in t]
    picks = np.linspace(0, t.size - 1, n + 1)[1:]
    return [float(t[round(k)]) for k in picks]


def quick_look(ds, *, times_s=None, times_min=None, fig=None):
    """The quick-look figure of a particle or electrode result.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`socscope.simulate_particle`, :func:`socscope.simulate_electrode`
        or :func:`socscope.open_results`.
    times_s, times_min : sequence of float, optional
        Times of the θ maps of a particle [s or min]; default four times spread
        over the run. Give one or the other.
    fig : matplotlib Figure, optional
        Figure to draw into (default: a new one).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ParameterError
        If ``ds`` is not a socscope particle or electrode result.
    """
    from .._accessor import result_kind
    from ..errors import ParameterError

    kind = result_kind(ds)
    if kind is None:
        raise ParameterError("quick_look needs a socscope particle or electrode result (attrs 'title' names "
                             "which); open a results file with socscope.open_results")
    if kind == "particle":
        return _particle(ds, times_s=_times(times_s, times_min, ds), fig=fig)
    return _electrode(ds, fig=fig)


def _times(times_s, times_min, ds):
    from ..errors import ParameterError

    if times_s is not None and times_min is not None:
        raise ParameterError("give times_s or times_min, not both")
    if times_min is not None:
        return [60.0 * float(t) for t in times_min]
    return list(times_s) if times_s is not None else default_times_s(ds)


def _particle(ds, *, times_s, fig):
    from .particle import (
        plot_periphery_core,
        plot_theta_maps,
        plot_traces,
        plot_voltage_curve,
    )

    plt = _plt()
    if fig is None:
        fig = plt.figure(figsize=(11, 7), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.0])
    plot_theta_maps(ds, times_s, fig=top)
    left, right = bottom.subplots(1, 2)
    plot_traces(ds, ax=left)
    if "voltage" in ds and np.isfinite(np.asarray(ds.voltage.values, dtype=float)).any():
        plot_voltage_curve(ds, ax=right)
    elif "theta_periphery_minus_core" in ds:
        plot_periphery_core(ds, ax=right)
    else:
        right.set_axis_off()
    fig.suptitle(_title(ds))
    return fig


def _electrode(ds, *, fig):
    from .electrode import plot_particle_traces
    from .particle import plot_voltage_curve

    plt = _plt()
    if fig is None:
        fig = plt.figure(figsize=(11, 7), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.1])
    left, right = top.subplots(1, 2)
    plot_voltage_curve(ds, ax=left)
    if "asynchrony_index" in ds and ds.sizes.get("half_cycle", 0):
        h = np.asarray(ds.half_cycle.values)
        idx = np.asarray(ds.asynchrony_index.values, dtype=float)
        right.plot(h, np.maximum(idx, 1e-4), "o-", color="C0")
        right.axhline(1.0, color="0.5", ls="--", lw=0.8)
        right.set_yscale("log")
        right.set_xticks(h)
        right.set_xlabel("half-cycle (0 = first)")
        right.set_ylabel("asynchrony index")
        right.set_title("asynchrony per half-cycle (dashed: 1)", fontsize=9)
        n = max(1, ds.sizes["half_cycle"])
        plot_particle_traces(ds, ax=list(np.atleast_1d(bottom.subplots(1, n))))
    else:
        right.set_axis_off()
        bottom.text(0.5, 0.5, "no half-cycle with a change of state of charge", ha="center", va="center")
    fig.suptitle(_title(ds))
    return fig


def _title(ds) -> str:
    a = ds.attrs
    name = a.get("material_name", "")
    if "n_particles" in a:
        return f"{name}: {int(a['n_particles'])} particles"
    geom = a.get("geometry", "")
    return f"{name}: {geom}".strip(": ")
