"""A synthetic single-particle ICP-OES instrument: particles in, an event table out.

What the instrument does to each particle (Kröger et al.; its method paper, Kröger et
al., Anal. Chem. 93, 7532, 2021, describes the arrangement):

* the Mn emission of a particle is proportional to its volume (the Mn content
  per volume of NMC532 does not change with cycling), the Li emission to its
  volume times its DOL: ``I_Mn = s_Mn·V``, ``I_Li = s_Li·V·DOL``;
* both are counted: Poisson noise on each;
* the plasma spreads the ratio of the two lines from particle to particle (gas
  flows, where a particle crosses the plasma): a lognormal factor on the Li
  line of relative width ``ratio_cv``, best taken from the width of a measured
  reference (σ/mean of its ratio distribution);
* a particle whose Mn burst stays below the detection threshold is not
  recorded: the size detection limit ``min_diameter_um``.

The table has the columns the analysis reads (:func:`socscope.io.spicp.read_events`):
``event``, ``li_intensity_counts``, ``mn_intensity_counts``, and the truth
``true_dol`` and ``true_diameter_um`` for checks.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._checks import in_range, positive_float, whole_number
from ..errors import ParameterError

__all__ = ["spicp_events", "spicp_transient"]


def spicp_events(dol, diameter_um, *, rng: np.random.Generator, mn_counts_per_um3: float = 50.0,
                 li_counts_per_um3: float = 40.0, ratio_cv: float = 0.08, min_diameter_um: float = 2.0
                 ) -> pd.DataFrame:
    """Measure a population of particles (see the module docstring).

    Parameters
    ----------
    dol : array_like (n,)
        Degree of lithiation of each particle, in [0, 1.2].
    diameter_um : array_like (n,)
        Particle diameters [µm], > 0.
    rng : numpy.random.Generator
        Source of the counting and plasma noise.
    mn_counts_per_um3, li_counts_per_um3 : float
        Counts per µm³ of particle (Li: per µm³ at DOL 1); defaults give
        ~3300 Mn counts for a 5 µm particle.
    ratio_cv : float
        Plasma spread of the Li/Mn ratio (relative σ), in [0, 1).
    min_diameter_um : float
        Particles smaller than this are not detected (>= 0).

    Returns
    -------
    pandas.DataFrame
        One row per detected particle.
    """
    d = np.asarray(dol, dtype=float)
    size = np.asarray(diameter_um, dtype=float)
    if d.ndim != 1 or d.shape != size.shape:
        raise ParameterError(f"dol and diameter_um must be 1-D of equal length, got {d.shape} and {size.shape}")
    if not np.all(np.isfinite(d)) or np.any((d < 0) | (d > 1.2)):
        raise ParameterError("dol must hold fractions in [0, 1.2]")
    if not np.all(np.isfinite(size)) or np.any(size <= 0):
        raise ParameterError("diameter_um must hold finite diameters > 0 µm")
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                             "e.g. rng=np.random.default_rng(0)")
    s_mn = positive_float("mn_counts_per_um3", mn_counts_per_um3, example="50")
    s_li = positive_float("li_counts_per_um3", li_counts_per_um3, example="40")
    cv = in_range("ratio_cv", ratio_cv, 0.0, 1.0, closed="l", example="0.08")
    dmin = in_range("min_diameter_um", min_diameter_um, 0.0, math.inf, closed="l", example="2")
    vol = math.pi / 6.0 * size ** 3
    seen = size >= dmin
    vol, d, size = vol[seen], d[seen], size[seen]
    # lognormal with mean 1 and relative width cv
    s2 = math.log1p(cv ** 2)
    plasma = np.exp(rng.normal(-0.5 * s2, math.sqrt(s2), size=vol.size)) if cv > 0 else np.ones(vol.size)
    mn = rng.poisson(s_mn * vol).astype(float)
    li = rng.poisson(s_li * vol * d * plasma).astype(float)
    keep = mn > 0
    return pd.DataFrame({"event": np.arange(int(keep.sum())), "li_intensity_counts": li[keep],
                         "mn_intensity_counts": mn[keep], "true_dol": d[keep], "true_diameter_um": size[keep]})


def spicp_transient(li_counts, mn_counts, *, n_readings: int, rng: np.random.Generator,
                    li_background: float = 2.0, mn_background: float = 2.0, width_readings: float = 1.5
                    ) -> pd.DataFrame:
    """A time-resolved transient holding the given particle bursts.

    Each particle's counts are spread over a few readings with a Gaussian time
    profile (σ ``width_readings``) at a random arrival; Poisson background on
    every reading. Readings are numbered; ``time_s`` assumes 1 ms dwell.

    Returns
    -------
    pandas.DataFrame
        ``time_s``, ``li_counts``, ``mn_counts``; ``attrs["arrivals"]`` holds
        the reading of each particle's centre.
    """
    li = np.asarray(li_counts, dtype=float)
    mn = np.asarray(mn_counts, dtype=float)
    n = whole_number("n_readings", n_readings, minimum=10, example=100000)
    if li.shape != mn.shape or li.ndim != 1:
        raise ParameterError("li_counts and mn_counts must be 1-D of equal length")
    if n < 10 * max(li.size, 1):
        raise ParameterError(f"n_readings = {n} is too few for {li.size} particles; give at least 10 per particle")
    w = positive_float("width_readings", width_readings, example="1.5")
    arrivals = np.sort(rng.choice(np.arange(10, n - 10), size=li.size, replace=False)).astype(float)
    arrivals = arrivals + rng.uniform(-0.5, 0.5, size=li.size)
    half = math.ceil(4 * w)
    li_sig = rng.poisson(li_background, size=n).astype(float)
    mn_sig = rng.poisson(mn_background, size=n).astype(float)
    offs = np.arange(-half, half + 1)
    for a, l_, m_ in zip(arrivals, li, mn):
        idx = np.round(a).astype(int) + offs
        ok = (idx >= 0) & (idx < n)
        prof = np.exp(-0.5 * ((idx - a) / w) ** 2)
        prof /= prof.sum()
        li_sig[idx[ok]] += rng.poisson(l_ * prof[ok])
        mn_sig[idx[ok]] += rng.poisson(m_ * prof[ok])
    df = pd.DataFrame({"time_s": np.arange(n) * 1e-3, "li_counts": li_sig, "mn_counts": mn_sig})
    df.attrs["arrivals"] = arrivals.tolist()
    return df
