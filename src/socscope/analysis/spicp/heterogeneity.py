"""Diverging particles: the share of a sample outside the ±2σ frame of its expected state.

Kröger et al. counts the particles whose ratio lies outside the frame of the
reference at the state the sample should be in after the final slow charge
("diverging", 6–15 %). A Gaussian main population itself puts 4.55 % of its
particles outside ±2σ, so two numbers are reported per sample:

* ``fraction_outside``: the raw share outside the frame (what a histogram
  shows), with its binomial standard error;
* ``diverging_fraction``: the excess over the main population's own tails,
  ``(f_out − t)/(1 − t)``, where ``t`` is the mass of the sample's fitted main
  Gaussian (:func:`~socscope.analysis.spicp.fit_main_population`) outside
  the frame. This is the share of particles that do not belong to the main
  population, the quantity a synthetic sample with a known share of
  diverging particles gives back.

Both split into Li-rich (trapped Li: above the frame in DOL) and Li-poor
(below). Replicates are reported one by one and pooled; the pooled value
carries the binomial error and the between-replicate error (standard
deviation of the replicates / √k), and ``se`` is the larger of the two.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import ParameterError
from .ratios import fit_main_population

__all__ = ["diverging_fractions", "mixture_fraction"]


def _one(x: np.ndarray, low: float, high: float, clip: float) -> dict:
    fit = fit_main_population(x, clip=clip)
    n = x.size
    above, below = int(np.sum(x > high)), int(np.sum(x < low))
    t_hi = float(stats.norm.sf(high, fit.mean, fit.sigma))
    t_lo = float(stats.norm.cdf(low, fit.mean, fit.sigma))
    f_out = (above + below) / n
    t = t_hi + t_lo
    div = (f_out - t) / (1.0 - t)
    return {
        "n_particles": n, "n_outside": above + below, "n_above": above, "n_below": below,
        "fraction_outside": f_out, "fraction_outside_se": math.sqrt(f_out * (1 - f_out) / n),
        "main_mean": fit.mean, "main_sigma": fit.sigma, "main_tail": t,
        "diverging_fraction": div, "binomial_se": math.sqrt(max(f_out * (1 - f_out), 1.0 / n) / n) / (1.0 - t),
        "above_fraction": (above / n - t_hi) / (1.0 - t), "below_fraction": (below / n - t_lo) / (1.0 - t),
    }


def diverging_fractions(replicates, frame, *, rich: str = "above", clip: float = 2.5) -> pd.DataFrame:
    """Share of particles outside ``frame``, per replicate and pooled.

    Parameters
    ----------
    replicates : dict of str -> array_like, or sequence of array_like
        Per-particle values (DOL or ratio) of each replicate measurement.
    frame : (float, float)
        ``(low, high)`` in the same units, e.g. the ``dol_low``, ``dol_high`` of
        :func:`~socscope.analysis.spicp.expected_frame`.
    rich : {"above", "below"}
        Which side of the frame holds Li-rich particles: ``"above"`` for DOL
        and for ratios with a positive calibration slope.
    clip : float
        Clipping window of the main-population fit [σ].

    Returns
    -------
    pandas.DataFrame
        Index: replicate names and ``"pooled"``. Columns: ``n_particles``,
        ``n_outside``, ``fraction_outside`` (+ ``_se``), ``main_mean``,
        ``main_sigma``, ``main_tail``, ``diverging_fraction``,
        ``binomial_se``, ``replicate_sd``, ``replicate_se``, ``se``,
        ``li_rich_fraction``, ``li_poor_fraction``, ``n_li_rich``, ``n_li_poor``.
    """
    if isinstance(replicates, dict):
        names, sets = list(replicates), list(replicates.values())
    else:
        sets = list(replicates)
        names = [f"replicate {i + 1}" for i in range(len(sets))]
    if not sets:
        raise ParameterError("no replicate given; pass at least one array of per-particle values")
    try:
        low, high = (float(v) for v in frame)
    except (TypeError, ValueError):
        raise ParameterError(f"frame must be (low, high), got {frame!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ParameterError(f"frame ({low:g}, {high:g}) must be finite with low < high")
    if rich not in ("above", "below"):
        raise ParameterError(f"rich = {rich!r}; use 'above' (DOL, or ratio with positive slope) or 'below'")
    arrays = [np.asarray(s, dtype=float) for s in sets]
    rows = {nm: _one(a, low, high, clip) for nm, a in zip(names, arrays)}
    pooled = _one(np.concatenate(arrays), low, high, clip)
    k = len(arrays)
    vals = np.array([r["diverging_fraction"] for r in rows.values()])
    sd = float(np.std(vals, ddof=1)) if k > 1 else float("nan")
    pooled["replicate_sd"] = sd
    pooled["replicate_se"] = sd / math.sqrt(k) if k > 1 else float("nan")
    pooled["se"] = max(pooled["binomial_se"], pooled["replicate_se"]) if k > 1 else pooled["binomial_se"]
    for r in rows.values():
        r["replicate_sd"] = r["replicate_se"] = float("nan")
        r["se"] = r["binomial_se"]
    df = pd.DataFrame.from_dict({**rows, "pooled": pooled}, orient="index")
    df.index.name = "replicate"
    up, down = ("above", "below") if rich == "above" else ("below", "above")
    df = df.rename(columns={f"{up}_fraction": "li_rich_fraction", f"{down}_fraction": "li_poor_fraction",
                            f"n_{up}": "n_li_rich", f"n_{down}": "n_li_poor"})
    df.attrs["frame"] = [low, high]
    return df


def mixture_fraction(values, *, max_iter: int = 1000, tol: float = 1e-10) -> dict:
    """Second opinion: a Gaussian main population plus a flat diverging component.

    Maximum likelihood by expectation–maximisation of
    ``p(x) = (1 − w) N(x; μ, σ) + w / (max − min)``: the flat part stands for
    particles spread over every DOL between the two extremes (trapped to
    fully charged). Its weight ``w`` is the share of diverging particles,
    whether inside or outside the frame; ``w_se`` is its standard error from
    the observed information of ``w``.

    Returns
    -------
    dict
        ``weight``, ``weight_se``, ``mean``, ``sigma``, ``iterations``, ``log_likelihood``.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size < 20 or not np.all(np.isfinite(x)):
        raise ParameterError("mixture_fraction needs at least 20 finite values")
    span = float(x.max() - x.min())
    if span <= 0:
        raise ParameterError("every value is the same; there is no distribution to fit")
    flat = 1.0 / span
    fit = fit_main_population(x)
    mu, sd, w = fit.mean, fit.sigma, 0.05
    ll_old = -np.inf
    for it in range(1, max_iter + 1):
        g = (1.0 - w) * stats.norm.pdf(x, mu, sd)
        f = w * flat
        tot = g + f
        ll = float(np.sum(np.log(tot)))
        r = g / tot
        w = float(1.0 - r.mean())
        mu = float(np.sum(r * x) / r.sum())
        sd = float(math.sqrt(np.sum(r * (x - mu) ** 2) / r.sum()))
        if abs(ll - ll_old) < tol * abs(ll):
            break
        ll_old = ll
    gp, fp = stats.norm.pdf(x, mu, sd), flat
    tot = (1 - w) * gp + w * fp
    info = float(np.sum(((fp - gp) / tot) ** 2))
    return {"weight": w, "weight_se": 1.0 / math.sqrt(info) if info > 0 else float("nan"), "mean": mu,
            "sigma": sd, "iterations": it, "log_likelihood": ll}
