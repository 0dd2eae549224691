"""Particle detection in time-resolved single-particle ICP-OES transients.

A transient is a series of readings of one emission line (counts or
intensity per dwell time). Between particles the line reads the plasma
background; a particle passing through the plasma gives a short burst.
Particles are found where the signal rises above a critical value chosen for a
false-positive rate ``alpha`` per reading:

* **Gaussian** (continuous signals, or counts with a high background): the
  background mean and standard deviation are estimated by iteratively
  discarding readings above ``mean + z·σ`` until nothing changes; the
  threshold is ``mean + z·σ`` with ``z = Φ⁻¹(1 − α)``, and ``σ`` is corrected
  for the upper tail that the iteration cut away.
* **Poisson (Currie)** (counts with a low background, mean below
  :data:`POISSON_BELOW`): the critical value ``L_C`` of Currie (Anal. Chem.
  40, 586, 1968) taken from the exact Poisson distribution of the background
  counts rather than its normal approximation: the whole count ``k`` whose
  tail ``P(X > k | λ_b)`` lies nearest to ``α`` (on a log scale); the tail
  actually reached is reported as ``alpha_actual``.

Contiguous readings above the threshold form one event; an event holding two
maxima separated by a dip below ``split_fraction`` of the smaller maximum
(above background) is split at the dip (two particles arriving within one
burst). A particle is a Mn event; its Li signal is integrated over the same
readings.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..._checks import in_range, positive_float
from ...errors import ParameterError

__all__ = [
    "POISSON_BELOW",
    "Threshold",
    "detect_events",
    "detection_threshold",
    "integrate_events",
    "size_detection_limit",
]

#: background mean [counts per reading] below which integer counts get the Poisson threshold
POISSON_BELOW = 10.0


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A detection threshold and how it was found.

    Attributes
    ----------
    value : float
        Critical value: readings above it belong to an event (signal units).
    background : float
        Background mean (signal units per reading).
    sigma : float
        Background standard deviation (Gaussian) or ``sqrt(background)`` (Poisson).
    statistic : {"gaussian", "poisson"}
    alpha : float
        False-positive probability per reading asked for.
    alpha_actual : float
        The probability the threshold gives for a background reading (equal to
        ``alpha`` for the Gaussian threshold; the Poisson tail at the chosen count otherwise).
    z : float
        ``Φ⁻¹(1 − α)``.
    """

    value: float
    background: float
    sigma: float
    statistic: str
    alpha: float
    alpha_actual: float
    z: float


def _signal(name, values) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or a.size < 10:
        raise ParameterError(f"{name} must be a 1-D series of at least 10 readings, got shape {a.shape}")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise ParameterError(f"{name}[{bad[0]}] = {a[bad[0]]!r} is not finite; remove or fill missing readings")
    return a


def _gaussian_background(x: np.ndarray, z: float, max_iter: int = 100) -> tuple[float, float]:
    """Mean and σ of the readings left after iteratively removing those above ``mean + z σ``."""
    keep = np.ones(x.size, dtype=bool)
    for _ in range(max_iter):
        mu, sd = float(x[keep].mean()), float(x[keep].std(ddof=1))
        new = x <= mu + z * sd
        if np.array_equal(new, keep) or new.sum() < 3:
            break
        keep = new
    # the iteration kept a normal truncated above c = mu + z sd; with the cut at
    # a true standard scores, the kept mean is μ − σλ and the kept variance
    # σ²(1 − aλ − λ²), λ = φ(a)/Φ(a): solve a = z·sqrt(1 − aλ − λ²) + λ, then undo
    def lam(a):
        return stats.norm.pdf(a) / stats.norm.cdf(a)

    def gap(a):
        return z * math.sqrt(max(1.0 - a * lam(a) - lam(a) ** 2, 1e-300)) + lam(a) - a

    a = optimize.brentq(gap, 0.5 * z, z + 10.0) if gap(0.5 * z) > 0 else z
    shrink = 1.0 - a * lam(a) - lam(a) ** 2
    sd_true = sd / math.sqrt(shrink)
    mu_true = mu + sd_true * lam(a)
    return mu_true, sd_true


def detection_threshold(signal, *, alpha: float = 1e-6, statistic: str = "auto") -> Threshold:
    """The critical value above which a reading belongs to a particle.

    Parameters
    ----------
    signal : array_like (n,)
        One emission line's transient (counts or intensity per reading).
    alpha : float
        False-positive probability per background reading, in (0, 0.5).
        The default 1e-6 keeps false events below one in a million readings.
    statistic : {"auto", "gaussian", "poisson"}
        ``"auto"``: Poisson when every reading is a whole number and the
        background mean is below :data:`POISSON_BELOW` counts, Gaussian otherwise.

    Returns
    -------
    Threshold
    """
    x = _signal("signal", signal)
    alpha = in_range("alpha", alpha, 0.0, 0.5, closed="", example="1e-6")
    if statistic not in ("auto", "gaussian", "poisson"):
        raise ParameterError(f"statistic = {statistic!r}; use 'auto', 'gaussian' or 'poisson'")
    z = float(stats.norm.isf(alpha))
    counts = bool(np.all(x >= 0) and np.all(x == np.round(x)))
    if statistic == "poisson" and not counts:
        raise ParameterError("statistic='poisson' needs whole, non-negative counts; this signal has fractional or "
                             "negative readings (use statistic='gaussian')")
    if statistic in ("auto", "poisson"):
        # the background of a count series: iterate mean + z sqrt(mean) the same way
        lam = float(np.median(x)) if np.median(x) > 0 else float(x.mean())
        for _ in range(100):
            keep = x <= lam + z * math.sqrt(max(lam, 1e-12)) + 1
            new = float(x[keep].mean())
            if abs(new - lam) < 1e-9:
                break
            lam = new
        if statistic == "poisson" or (counts and lam < POISSON_BELOW):
            lam = max(lam, 1e-12)
            ks = np.arange(0, int(lam + 20 * math.sqrt(lam) + 50))
            tail = stats.poisson.sf(ks, lam)
            ok = tail > 0
            best = int(np.argmin(np.abs(np.log(tail[ok]) - math.log(alpha))))
            k = int(ks[ok][best])
            return Threshold(value=float(k), background=lam, sigma=math.sqrt(lam), statistic="poisson",
                             alpha=alpha, alpha_actual=float(tail[ok][best]), z=z)
    mu, sd = _gaussian_background(x, z)
    return Threshold(value=mu + z * sd, background=mu, sigma=sd, statistic="gaussian", alpha=alpha,
                     alpha_actual=alpha, z=z)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each run of True values."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _split(x: np.ndarray, start: int, end: int, base: float, split_fraction: float) -> list[tuple[int, int]]:
    """Split readings ``start:end`` at dips deeper than ``split_fraction`` of the smaller neighbouring maximum."""
    seg = x[start:end] - base
    if seg.size < 3:
        return [(start, end)]
    # interior local maxima
    peaks = [i for i in range(seg.size) if (i == 0 or seg[i] > seg[i - 1]) and (i == seg.size - 1 or seg[i] >= seg[i + 1])]
    if len(peaks) < 2:
        return [(start, end)]
    cuts, left = [], peaks[0]
    for right in peaks[1:]:
        dip = left + int(np.argmin(seg[left:right + 1]))
        if seg[dip] < split_fraction * min(seg[left], seg[right]):
            cuts.append(dip)
            left = right
        elif seg[right] > seg[left]:
            left = right
    bounds = [start] + [start + c for c in cuts] + [end]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1) if bounds[i + 1] > bounds[i]]


def detect_events(signal, *, threshold: Threshold | None = None, alpha: float = 1e-6, statistic: str = "auto",
                  split_fraction: float = 0.5) -> pd.DataFrame:
    """Events (particles) in one transient.

    Parameters
    ----------
    signal : array_like (n,)
        The transient of the line that defines a particle (Mn).
    threshold : Threshold, optional
        A threshold found before; default :func:`detection_threshold` of ``signal``.
    alpha, statistic
        Passed to :func:`detection_threshold`.
    split_fraction : float
        A dip between two maxima below this share of the smaller maximum
        (above background) splits the event, in (0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per event: ``start``, ``stop`` (reading indices, stop
        exclusive), ``n_readings``, ``peak`` (highest reading) and
        ``intensity`` (sum of readings minus the background, signal units ×
        readings). ``df.attrs["threshold"]`` holds the threshold as a dict.
    """
    x = _signal("signal", signal)
    split_fraction = in_range("split_fraction", split_fraction, 0.0, 1.0, closed="h", example="0.5")
    th = threshold if threshold is not None else detection_threshold(x, alpha=alpha, statistic=statistic)
    starts, ends = _runs(x > th.value)
    rows = []
    for s, e in zip(starts, ends):
        for a, b in _split(x, int(s), int(e), th.background, split_fraction):
            seg = x[a:b]
            rows.append((a, b, b - a, float(seg.max()), float((seg - th.background).sum())))
    df = pd.DataFrame(rows, columns=["start", "stop", "n_readings", "peak", "intensity"])
    df.attrs["threshold"] = dataclasses.asdict(th)
    return df


def integrate_events(signal, events: pd.DataFrame, *, background: float | None = None) -> np.ndarray:
    """Integrate a second line over the windows of ``events`` (e.g. Li over the Mn events).

    Parameters
    ----------
    signal : array_like (n,)
        The other line's transient, on the same readings.
    events : DataFrame
        From :func:`detect_events` (``start``, ``stop``).
    background : float, optional
        Background per reading to subtract; default the median of the readings
        outside every event.

    Returns
    -------
    ndarray (n_events,)
        Sum over each window minus ``background × n_readings``.
    """
    x = _signal("signal", signal)
    if not {"start", "stop"} <= set(events.columns):
        raise ParameterError("events must have 'start' and 'stop' columns (from detect_events)")
    start = events["start"].to_numpy(int)
    stop = events["stop"].to_numpy(int)
    if stop.size and (stop.max() > x.size or start.min() < 0):
        raise ParameterError(f"events reach reading {int(stop.max())} but the signal has {x.size} readings; "
                             "give the transient the events were found in")
    if background is None:
        inside = np.zeros(x.size, dtype=bool)
        for a, b in zip(start, stop):
            inside[a:b] = True
        background = float(np.median(x[~inside])) if (~inside).any() else 0.0
    csum = np.concatenate([[0.0], np.cumsum(x)])
    return csum[stop] - csum[start] - background * (stop - start)


def size_detection_limit(threshold: Threshold, intensities, *, median_diameter_um: float) -> float:
    """The smallest particle diameter [µm] whose Mn burst clears the threshold.

    The emission of a particle is taken proportional to its volume; the
    smallest detectable burst integrates ``threshold.value − background``
    over one reading. With the median event intensity standing for a particle
    of ``median_diameter_um``::

        d_min = d_median · ((L_C − b) / I_median)^(1/3)

    Parameters
    ----------
    threshold : Threshold
    intensities : array_like
        Integrated Mn intensities of the detected events.
    median_diameter_um : float
        Diameter of the median particle [µm] (e.g. from laser diffraction or SEM).
    """
    d = positive_float("median_diameter_um", median_diameter_um, unit=" µm", example="8")
    i = np.asarray(intensities, dtype=float)
    i = i[np.isfinite(i) & (i > 0)]
    if i.size == 0:
        raise ParameterError("intensities holds no positive value; give the Mn intensities of detected events")
    return d * ((threshold.value - threshold.background) / float(np.median(i))) ** (1.0 / 3.0)
