"""When does each particle react, and do the particles react together?

One set of definitions, shared by the optical analysis (per-particle
intensity vs SOC) and by electrode simulations (per-particle θ vs SOC), so
that measurement and model are compared with the same numbers.

Definitions
-----------
SOC is a fraction (0–1). A *half-cycle* is a run of samples over which the SOC
moves one way (charge: up, discharge: down). Within a half-cycle, one
particle's signal ``y(s)`` (intensity, contrast or θ) is fitted with a logistic::

    f(s) = a + b · expit((s − s0) / w),   w > 0

(:func:`fit_transition`). From the fit, within the half-cycle's SOC window
``[s_start, s_end]`` (in the order the half-cycle travels):

* **progress** ``P(s) = (f(s) − f(s_start)) / (f(s_end) − f(s_start))`` — the
  fraction of the particle's change during this half-cycle that has happened at
  SOC ``s`` (0 at the start, 1 at the end);
* **onset_soc** — the SOC where ``P`` = 0.1 (10 % of the change); for a sharp
  transition well inside the window this is ``s0 − 2.197 w`` on charge;
* **midpoint_soc** — the SOC where ``P`` = 0.5;
* **width_soc** — the SOC between ``P`` = 0.1 and ``P`` = 0.9 (``2 ln 9 · w`` for a
  transition well inside the window, never more than 0.8 × the window for a
  uniform, linear change);
* **amplitude** — ``f(s_end) − f(s_start)``, the signed change of the fitted
  signal over the half-cycle (in the signal's units);
* **step_likeness** — the largest slope of ``P`` times the SOC span of the
  half-cycle: how many times steeper the particle's steepest change is than a
  particle that reacts uniformly through the half-cycle (a linear ramp gives 1;
  a logistic of width ``W`` well inside a span ``S`` gives ``ln 9 / 2 · S / W ≈ 1.1 S/W``).
  The asynchronous first charge of Sharma et al. (Nano Lett. 2022) (Fig. 1c: a single peak
  in d(intensity)/d(SOC), the particle "switching" in ~10 % SOC) gives ≳ 10; the
  gradual later charges give 1–2. ``step_like`` is ``step_likeness >= 4``
  (the middle 80 % of the change takes less than about a quarter of the half-cycle);
* **reacted** — ``|amplitude|`` exceeds ``snr`` (default 5) times the noise of
  the trace (estimated from its sample-to-sample differences:
  ``1.4826 · MAD(diff) / √2``) and ``min_amplitude``. Unreacted particles get
  NaN onset, midpoint, width and step-likeness.

Per half-cycle, over the particles that reacted (:func:`asynchrony_index`):

* **asynchrony index** ``A = IQR(midpoint_soc) / median(width_soc)`` — the spread
  of the particles' transitions (interquartile range of their midpoints: robust
  to a stray particle, and better determined than onsets, which also carry the
  width's uncertainty) measured in units of the typical time one particle
  takes to react. Undefined (NaN) with fewer than two reacted particles.
* **classification** (:func:`classify_half_cycles`) — "asynchronous" when
  ``A > 1``, else "synchronous" ("undetermined" when ``A`` is NaN). At
  ``A = 1`` the middle half of the particles' transitions are spread over one
  transition width: above it particles react mostly one after another, below
  it mostly together. A first charge as in (Sharma et al., Nano Lett. 2022) (onsets spread over ~50 % SOC,
  widths ~10 % SOC) has ``A ≈ 0.25/0.1 ≈ 2.5``; later charges, with every particle
  changing through the whole half-cycle (midpoints within a few % SOC of each
  other, widths ~60–80 % SOC), have ``A ≲ 0.1``. The threshold sits between the
  two with a margin of ~2.5× on one side and ≳ 10× on the other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from .._checks import positive_float
from ..errors import ParameterError

__all__ = [
    "ASYNCHRONY_THRESHOLD",
    "STEP_LIKE_THRESHOLD",
    "TransitionFit",
    "asynchrony_index",
    "classify_half_cycles",
    "fit_transition",
    "split_half_cycles",
    "switching",
    "transition_table",
]

#: asynchrony index above which a half-cycle is "asynchronous" (see module docstring)
ASYNCHRONY_THRESHOLD = 1.0
#: step-likeness at and above which one particle's transition is "step-like"
STEP_LIKE_THRESHOLD = 4.0
_LN9 = float(np.log(9.0))


@dataclass
class TransitionFit:
    """Result of :func:`fit_transition` (definitions in the module docstring).

    Attributes
    ----------
    onset_soc, midpoint_soc, width_soc : float
        SOC at 10 % and 50 % of the particle's change in the half-cycle, and SOC
        between 10 % and 90 % (NaN when not reacted or not converged).
    amplitude : float
        Signed change of the fitted signal from the start to the end of the half-cycle.
    r2 : float
        Coefficient of determination of the fit (NaN for a constant signal).
    step_likeness : float
        ``1 / switch_width_soc`` (see :func:`switching`).
    step_like : bool
        ``step_likeness >= STEP_LIKE_THRESHOLD``.
    reacted : bool
    converged : bool
        The least-squares fit converged to finite parameters.
    direction : str
        "rising" or "falling": how the fitted signal changes as the half-cycle proceeds.
    noise : float
        Noise standard deviation used for ``reacted``.
    soc_start, soc_end : float
        First and last SOC of the half-cycle.
    a, b, s0, w : float
        Logistic parameters ``f(s) = a + b·expit((s − s0)/w)``.
    n_samples : int
    switch_soc, switch_width_soc : float
        Centre and full width at half maximum of the fitted curve's derivative
        peak (:func:`switching`), NaN when not reacted.
    """

    onset_soc: float
    midpoint_soc: float
    width_soc: float
    amplitude: float
    r2: float
    step_likeness: float
    step_like: bool
    reacted: bool
    converged: bool
    direction: str
    noise: float
    soc_start: float
    soc_end: float
    a: float
    b: float
    s0: float
    w: float
    n_samples: int
    switch_soc: float = float("nan")
    switch_width_soc: float = float("nan")

    def as_dict(self) -> dict:
        return asdict(self)

    def predict(self, soc) -> np.ndarray:
        """The fitted logistic at the given SOCs."""
        return self.a + self.b * expit((np.asarray(soc, dtype=float) - self.s0) / self.w)


def _noise_sigma(y: np.ndarray) -> float:
    """Robust noise estimate from first differences: 1.4826·MAD(diff)/√2."""
    if y.size < 3:
        return 0.0
    d = np.diff(y)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


def _logistic(x, a, b, s0, w):
    return a + b * expit((x - s0) / w)


def _logistic_jac(x, a, b, s0, w):
    L = expit((x - s0) / w)
    dL = L * (1.0 - L)
    return np.column_stack([np.ones_like(x), L, -b * dL / w, -b * dL * (x - s0) / w**2])


def _derived(a, b, s0, w, s_start, s_end):
    """Onset, midpoint, width and amplitude of a fitted logistic in its window."""
    La = expit((s_start - s0) / w)
    Lb = expit((s_end - s0) / w)
    dL = Lb - La
    amplitude = b * dL
    if abs(dL) < 1e-12:
        return np.nan, np.nan, np.nan, amplitude

    def at(q):
        return s0 + w * logit(np.clip(La + q * dL, 1e-300, 1 - 1e-16))

    on, mid, hi = at(0.1), at(0.5), at(0.9)
    return on, mid, abs(hi - on), amplitude


#: default smoothing of the derivative in :func:`switching` [SOC]
SWITCH_SMOOTH_SOC = 0.02
#: smallest share of a particle's change in the half-cycle that its derivative
#: peak (above half maximum) must hold to count as its switch; a logistic holds
#: 0.71 there, so a switch followed by a shared tail of up to ~60 % of the
#: change still counts
SWITCH_MIN_SHARE = 0.25


def switching(soc, signal, *, smooth_soc: float = SWITCH_SMOOTH_SOC):
    """Where and over how much SOC each particle switches: its derivative peak.

    The signal of every particle (columns of ``signal``) is differentiated
    against SOC in the direction of its change over the half-cycle, on a
    uniform SOC grid (the median step of the samples), the derivative
    averaged over ``smooth_soc``. Around its highest point, the contiguous
    region where it is at least half the peak is the particle's *switch*:

    * ``switch_soc``: the derivative-weighted mean SOC over that region (the
      peak's centre; for a logistic of scale ``w`` its midpoint ``s0``);
    * ``switch_width_soc``: the region's extent, the full width at half
      maximum of the peak (``2 ln(3 + √8) w ≈ 3.53 w`` for a logistic);
    * ``step_likeness``: ``1 / switch_width_soc``, how many such switches fit
      in the whole SOC range 0–1 (a particle changing evenly through a full
      half-cycle: ~1; one switching within 10 % SOC: ~10).

    A peak that holds less than :data:`SWITCH_MIN_SHARE` of the particle's
    change in the half-cycle (a short burst before a long change shared with
    the others) is not a switch: such a particle changes through the
    half-cycle, and gets the derivative-weighted mean SOC of the whole
    half-cycle as its centre and the half-cycle's span as its width.

    None of the three depends on where the half-cycle ends, as long as the
    switch lies inside it: a tail a particle shares with the whole electrode
    after switching lies below half the peak and adds nothing (the 10/50/90 %
    points of :func:`fit_transition`'s progress move with the end point). A
    switch that the window cuts has its width cut too (at most the span of
    the half-cycle).

    Parameters
    ----------
    soc : array_like, shape (n,)
        SOC of each sample, monotone over the half-cycle.
    signal : array_like, shape (n,) or (n, n_particles)
    smooth_soc : float
        Width of the moving average applied to the derivative [SOC], ≥ 0.

    Returns
    -------
    tuple of ndarray, each shape (n_particles,) (scalars for a 1D signal)
        ``(switch_soc, switch_width_soc, step_likeness)``; NaN for a particle
        whose signal does not change.

    Examples
    --------
    >>> s = np.linspace(0, 1, 401)
    >>> c, w, k = switching(s, expit((s - 0.3) / 0.02), smooth_soc=0.0)
    >>> round(float(c), 3), round(float(w), 3)
    (0.3, 0.071)
    """
    s = np.asarray(soc, dtype=float).ravel()
    y = np.asarray(signal, dtype=float)
    one = y.ndim == 1
    if one:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != s.size:
        raise ParameterError(f"signal has {y.shape[0]} samples for {s.size} SOCs; give one row per sample")
    smooth = float(smooth_soc)
    if not (np.isfinite(smooth) and smooth >= 0):
        raise ParameterError(f"smooth_soc = {smooth_soc!r} must be a finite SOC width >= 0, e.g. 0.02")
    n_p = y.shape[1]
    nan = np.full(n_p, np.nan)
    ok = np.isfinite(s)
    s, y = s[ok], y[ok]
    order = np.argsort(s, kind="stable")
    xs = s[order]
    ux, inv = np.unique(xs, return_inverse=True)
    if ux.size < 3:
        return (nan, nan, nan) if not one else (np.nan, np.nan, np.nan)
    steps = np.diff(ux)
    h = min(float(np.median(steps)), (ux[-1] - ux[0]) / 20.0)
    grid = np.linspace(ux[0], ux[-1], int(np.ceil((ux[-1] - ux[0]) / h)) + 1)
    h = grid[1] - grid[0]
    win = max(1, int(round(smooth / h)))
    centre, width = nan.copy(), nan.copy()
    for j in range(n_p):
        yj = y[order, j]
        good = np.isfinite(yj)
        if good.sum() < 3:
            continue
        uy = np.bincount(inv[good], weights=yj[good], minlength=ux.size)
        cnt = np.bincount(inv[good], minlength=ux.size)
        keep = cnt > 0
        g = np.gradient(np.interp(grid, ux[keep], uy[keep] / cnt[keep]), h)
        if win > 1:
            g = np.convolve(np.pad(g, (win // 2, win - 1 - win // 2), mode="edge"), np.ones(win) / win, mode="valid")
        # in the direction the signal changes over the SOC range
        sign = np.sign((uy[keep] / cnt[keep])[-1] - (uy[keep] / cnt[keep])[0]) or 1.0
        g = g * sign
        i = int(np.argmax(g))
        peak = float(g[i])
        if not peak > 0:
            continue
        half = 0.5 * peak
        lo = i
        while lo > 0 and g[lo - 1] >= half:
            lo -= 1
        hi = i
        while hi < g.size - 1 and g[hi + 1] >= half:
            hi += 1
        # edges where the derivative crosses half the peak, interpolated
        left = grid[lo] - (h * (g[lo] - half) / (g[lo] - g[lo - 1]) if lo > 0 else 0.0)
        right = grid[hi] + (h * (g[hi] - half) / (g[hi] - g[hi + 1]) if hi < g.size - 1 else 0.0)
        region = slice(lo, hi + 1)
        weights = g[region]
        total = float(np.sum(np.clip(g, 0.0, None)))
        if float(np.sum(weights)) < SWITCH_MIN_SHARE * total:
            # the peak holds little of the particle's change (a short burst before a
            # long shared change): the particle changes through the half-cycle
            pos = np.clip(g, 0.0, None)
            centre[j] = float(np.sum(grid * pos) / total)
            width[j] = float(grid[-1] - grid[0])
            continue
        centre[j] = float(np.sum(grid[region] * weights) / np.sum(weights))
        width[j] = float(right - left)
    width = np.where(width > 0, width, np.nan)
    like = 1.0 / width
    if one:
        return float(centre[0]), float(width[0]), float(like[0])
    return centre, width, like


def fit_transition(soc, signal, *, direction: str = "auto", noise: float | None = None, snr: float = 5.0,
                   min_amplitude: float = 0.0) -> TransitionFit:
    """Fit one particle's transition during one half-cycle with a logistic in SOC.

    Parameters
    ----------
    soc : array_like, shape (n,)
        SOC of each sample (fraction), monotone over the half-cycle (rests, with
        repeated SOC, are allowed). The order of the samples is the order in time.
    signal : array_like, shape (n,)
        The particle's intensity, differential contrast or θ. Non-finite samples are dropped.
    direction : {"auto", "rising", "falling"}
        How the signal changes as the half-cycle proceeds (intensity: rising on
        charge, falling on discharge). "auto" takes the sign of the change
        between the first and last tenth of the samples.
    noise : float, optional
        Noise standard deviation of the signal; default estimated from the trace.
    snr : float
        A particle has reacted when ``|amplitude| > snr × noise`` (and ``> min_amplitude``).
    min_amplitude : float
        Smallest change counted as a reaction, in signal units (e.g. 0.02 in contrast).

    Returns
    -------
    TransitionFit

    Notes
    -----
    The fit is :func:`scipy.optimize.curve_fit` (trust-region reflective, with
    bounds: ``w`` between a quarter of the median SOC step and twice the span,
    ``s0`` within one span of the window, ``b`` of the sign of ``direction``), started
    from the peak of the smoothed derivative dy/dSOC (``s0``), the difference of
    the end levels (``b``) and ``|b| / (4 · peak slope)`` (``w``), and again from the
    window centre; the better of the two is kept.

    Examples
    --------
    >>> s = np.linspace(0, 1, 101)
    >>> fit = fit_transition(s, 1 + 0.6 * (s > 0.4))
    >>> round(fit.midpoint_soc, 2), fit.reacted
    (0.4, True)
    """
    from scipy.optimize import curve_fit

    s = np.asarray(soc, dtype=float).ravel()
    y = np.asarray(signal, dtype=float).ravel()
    if s.shape != y.shape:
        raise ParameterError(f"soc has {s.size} samples but signal has {y.size}; give one SOC per sample")
    if direction not in ("auto", "rising", "falling"):
        raise ParameterError(f"direction = {direction!r} must be 'auto', 'rising' or 'falling'")
    ok = np.isfinite(s) & np.isfinite(y)
    s, y = s[ok], y[ok]
    if s.size < 5:
        raise ParameterError(f"only {s.size} finite samples; a transition fit needs at least 5")
    d = np.diff(s)
    if not (np.all(d >= 0) or np.all(d <= 0)):
        raise ParameterError(
            "soc is not monotone: pass one half-cycle at a time (transition_table splits a record into half-cycles)"
        )
    s_start, s_end = float(s[0]), float(s[-1])
    span = abs(s_end - s_start)
    if span <= 0:
        raise ParameterError(f"soc does not change over the samples (all {s_start:g}); nothing to fit against")
    travel = 1.0 if s_end > s_start else -1.0
    sigma = _noise_sigma(y) if noise is None else float(noise)
    if not np.isfinite(sigma) or sigma < 0:
        raise ParameterError(f"noise = {noise!r} must be a finite standard deviation >= 0")
    k = max(2, y.size // 10)
    change = float(y[-k:].mean() - y[:k].mean())  # along the half-cycle
    if direction == "auto":
        sign_along = 1.0 if change >= 0 else -1.0
    else:
        sign_along = 1.0 if direction == "rising" else -1.0
    sign_b = sign_along * travel  # sign of b in f(s) = a + b expit((s - s0)/w)
    # sorted by SOC for the guesses
    order = np.argsort(s, kind="stable")
    xs, ys = s[order], y[order]
    ux, inv = np.unique(xs, return_inverse=True)
    uy = np.bincount(inv, weights=ys) / np.bincount(inv)
    pos_steps = np.diff(ux)
    w_min = max(0.25 * float(np.median(pos_steps)) if pos_steps.size else 0.0, 1e-4 * span)
    w_max = 2.0 * span
    y_range = float(np.ptp(ys)) or 1.0
    lo_level = float(uy[: max(1, ux.size // 10)].mean())
    hi_level = float(uy[-max(1, ux.size // 10):].mean())
    b0 = hi_level - lo_level
    if b0 * sign_b <= 0:
        b0 = sign_b * max(abs(b0), 1e-3 * y_range)
    starts = []
    if ux.size >= 3:
        win = max(1, ux.size // 20)
        smooth = np.convolve(np.pad(uy, win, mode="edge"), np.ones(2 * win + 1) / (2 * win + 1), mode="valid")
        dy = np.gradient(smooth, ux)
        i = int(np.argmax(sign_b * dy))
        peak = abs(float(dy[i]))
        w0 = abs(b0) / (4 * peak) if peak > 0 else span / 4
        starts.append((lo_level, b0, float(ux[i]), float(np.clip(w0, w_min * 1.01, w_max * 0.99))))
    starts.append((lo_level, b0, 0.5 * (ux[0] + ux[-1]), float(np.clip(span / 4, w_min * 1.01, w_max * 0.99))))
    big = 1e3 * y_range + 1e3 * abs(lo_level)
    b_lo, b_hi = (0.0, big) if sign_b > 0 else (-big, 0.0)
    lower = [-np.inf, b_lo, ux[0] - span, w_min]
    upper = [np.inf, b_hi, ux[-1] + span, w_max]
    best, best_sse = None, np.inf
    for p0 in starts:
        if best is not None and best_sse <= 0.05 * np.sum((y - y.mean()) ** 2):
            break  # the first start already explains 95 % of the variance
        p0 = np.clip(np.array(p0, dtype=float), np.array(lower) + 1e-12 * span, np.array(upper) - 1e-12 * span)
        if sign_b > 0:
            p0[1] = max(p0[1], 1e-9 * y_range)
        else:
            p0[1] = min(p0[1], -1e-9 * y_range)
        try:
            popt, _ = curve_fit(_logistic, s, y, p0=p0, bounds=(lower, upper), method="trf", max_nfev=2000, jac=_logistic_jac,
                                x_scale=np.array([y_range, y_range, span, span]))
        except (RuntimeError, ValueError):
            continue
        if not np.all(np.isfinite(popt)):
            continue
        sse = float(np.sum((y - _logistic(s, *popt)) ** 2))
        if sse < best_sse:
            best, best_sse = popt, sse
    sst = float(np.sum((y - y.mean()) ** 2))
    nan = float("nan")
    if best is None:
        return TransitionFit(nan, nan, nan, change, nan, nan, False, abs(change) > max(snr * sigma, min_amplitude),
                             False, "rising" if sign_along > 0 else "falling", sigma, s_start, s_end,
                             nan, nan, nan, nan, int(s.size))
    a, b, s0, w = (float(v) for v in best)
    on, mid, width, amp = _derived(a, b, s0, w, s_start, s_end)
    # the switch of the fitted curve, on a fine grid over the window (the
    # derivative of noisy data would need smoothing; the fit is the smooth trace)
    fine = np.linspace(min(s_start, s_end), max(s_start, s_end), 4001)
    centre, sw, step = switching(fine, _logistic(fine, a, b, s0, w), smooth_soc=0.0)
    r2 = 1.0 - best_sse / sst if sst > 0 else nan
    floor = 1e-9 * max(1.0, float(np.max(np.abs(y))))
    reacted = bool(abs(amp) > max(snr * sigma, float(min_amplitude), floor) and np.isfinite(on))
    if not reacted:
        on = mid = width = step = centre = sw = nan
    return TransitionFit(
        onset_soc=float(on), midpoint_soc=float(mid), width_soc=float(width), amplitude=float(amp), r2=float(r2),
        step_likeness=float(step), step_like=bool(reacted and step >= STEP_LIKE_THRESHOLD), reacted=reacted,
        converged=True, direction="rising" if amp * 1.0 >= 0 else "falling", noise=sigma,
        soc_start=s_start, soc_end=s_end, a=a, b=b, s0=s0, w=w, n_samples=int(s.size),
        switch_soc=float(centre), switch_width_soc=float(sw),
    )


def split_half_cycles(soc, *, tolerance: float = 0.0, min_reversal: float = 0.0) -> np.ndarray:
    """Half-cycle number (0, 1, ...) of every sample, from the turns of the SOC.

    A new half-cycle starts where the SOC turns round: once it has gone back
    by more than ``max(tolerance, min_reversal)`` from the furthest point the
    half-cycle reached. That point (the turning point) ends one half-cycle and
    starts the next; it stays with the first. Samples where the SOC does not
    move by more than ``tolerance`` from the one before (rests) belong to the
    half-cycle before them (rests at the very start, to the first one); a rest
    at the furthest point moves the turning point to its last sample.

    Parameters
    ----------
    soc : array_like, shape (n_samples,)
        SOC of each sample, in time order.
    tolerance : float
        Moves up to this between two samples are round-off, not charge.
    min_reversal : float
        Smallest way back that counts as a turn: to-and-fro moves below it
        (noise of a voltage hold near equilibrium) stay in one half-cycle.

    Examples
    --------
    >>> split_half_cycles([0.0, 0.5, 1.0, 1.0, 0.5, 0.0]).tolist()
    [0, 0, 0, 0, 1, 1]
    >>> split_half_cycles([0.0, 0.5, 0.5 - 1e-8, 0.5, 1.0], min_reversal=1e-6).tolist()
    [0, 0, 0, 0, 0]
    """
    s = np.asarray(soc, dtype=float).ravel()
    if s.size == 0:
        return np.zeros(0, dtype=int)
    if not np.isfinite(s).all():
        raise ParameterError("soc has non-finite values; fill or drop them before splitting into half-cycles")
    back = max(float(tolerance), float(min_reversal))
    labels = np.zeros(s.size, dtype=int)
    current, direction, ext = 0, 0, 0  # ext: the furthest sample in the current direction
    for i in range(1, s.size):
        if direction == 0:
            if abs(s[i] - s[i - 1]) > tolerance:
                direction = 1 if s[i] > s[i - 1] else -1
                ext = i
        elif direction * (s[i] - s[ext]) > 0:
            ext = i
        elif ext == i - 1 and abs(s[i] - s[ext]) <= tolerance:
            ext = i  # a rest at the furthest point: the turn comes after it
        elif direction * (s[ext] - s[i]) > back:
            current += 1
            labels[ext + 1:i] = current  # the way back so far belongs to the new half-cycle
            direction = -direction
            ext = ext + 1 + int(np.argmax(direction * s[ext + 1:i + 1]))
        labels[i] = current
    return labels


def transition_table(soc, traces, *, half_cycle=None, particle=None, direction: str = "auto", noise=None,
                     snr: float = 5.0, min_amplitude: float = 0.0, min_samples: int = 8) -> pd.DataFrame:
    """Fit every particle's transition in every half-cycle.

    Parameters
    ----------
    soc : array_like, shape (n_samples,)
        SOC of each sample (fraction), in time order.
    traces : array_like, shape (n_samples, n_particles) or (n_samples,)
        Per-particle signals (mean intensity, contrast or θ).
    half_cycle : array_like, shape (n_samples,), optional
        Half-cycle label of each sample; default :func:`split_half_cycles`.
    particle : array_like, shape (n_particles,), optional
        Particle identifiers (e.g. label numbers); default 0, 1, ...
    direction : {"auto", "rising", "falling"}
        Passed to :func:`fit_transition` for every fit.
    noise : float or array_like (n_particles,), optional
        Noise standard deviation per particle; default estimated per trace.
    snr, min_amplitude
        Reaction criterion, see :func:`fit_transition`.
    min_samples : int
        Half-cycles with fewer samples, or without SOC change, are left out.

    Returns
    -------
    pandas.DataFrame
        One row per particle and half-cycle: ``particle``, ``half_cycle``, ``direction``
        ("charge" when the SOC rises, "discharge"), ``onset_soc``, ``midpoint_soc``,
        ``width_soc``, ``amplitude``, ``r2``, ``step_likeness``, ``step_like``, ``reacted``,
        ``converged``, ``soc_start``, ``soc_end``.
    """
    s = np.asarray(soc, dtype=float).ravel()
    tr = np.asarray(traces, dtype=float)
    if tr.ndim == 1:
        tr = tr[:, None]
    if tr.ndim != 2 or tr.shape[0] != s.size:
        raise ParameterError(f"traces must be (n_samples={s.size}, n_particles), got shape {tr.shape}")
    n_p = tr.shape[1]
    pid = np.arange(n_p) if particle is None else np.asarray(particle).ravel()
    if pid.size != n_p:
        raise ParameterError(f"particle has {pid.size} identifiers for {n_p} traces")
    hc = split_half_cycles(s) if half_cycle is None else np.asarray(half_cycle).ravel()
    if hc.size != s.size:
        raise ParameterError(f"half_cycle has {hc.size} labels for {s.size} samples")
    nz = np.broadcast_to(np.asarray(noise if noise is not None else np.nan, dtype=float), (n_p,))
    _, first = np.unique(hc, return_index=True)
    rows = []
    for lab in hc[np.sort(first)]:
        idx = np.flatnonzero(hc == lab)
        ss = s[idx]
        if idx.size < min_samples or ss[-1] == ss[0]:
            continue
        kind = "charge" if ss[-1] > ss[0] else "discharge"
        for j in range(n_p):
            fit = fit_transition(ss, tr[idx, j], direction=direction,
                                 noise=None if np.isnan(nz[j]) else float(nz[j]), snr=snr,
                                 min_amplitude=min_amplitude)
            rows.append({
                "particle": pid[j], "half_cycle": lab, "direction": kind, "onset_soc": fit.onset_soc,
                "midpoint_soc": fit.midpoint_soc, "width_soc": fit.width_soc, "amplitude": fit.amplitude,
                "r2": fit.r2, "step_likeness": fit.step_likeness, "step_like": fit.step_like,
                "reacted": fit.reacted, "converged": fit.converged, "soc_start": fit.soc_start,
                "soc_end": fit.soc_end, "switch_soc": fit.switch_soc, "switch_width_soc": fit.switch_width_soc,
            })
    cols = ["particle", "half_cycle", "direction", "onset_soc", "midpoint_soc", "width_soc", "amplitude", "r2",
            "step_likeness", "step_like", "reacted", "converged", "soc_start", "soc_end", "switch_soc",
            "switch_width_soc"]
    return pd.DataFrame(rows, columns=cols)


def _iqr(x: np.ndarray) -> float:
    q1, q3 = np.percentile(x, [25, 75])
    return float(q3 - q1)


def _index_columns(t: pd.DataFrame) -> tuple[str, str]:
    """The position and width columns the index uses: the switches when the table has them."""
    if {"switch_soc", "switch_width_soc"} <= set(t):
        return "switch_soc", "switch_width_soc"
    if {"midpoint_soc", "width_soc"} <= set(t):
        return "midpoint_soc", "width_soc"
    raise ParameterError("the table lacks columns switch_soc and switch_width_soc (or midpoint_soc and width_soc); "
                         "pass a transition_table result")


def asynchrony_index(table_or_onsets, widths=None) -> float:
    """Asynchrony index of one half-cycle: ``IQR(midpoints) / median(widths)`` over reacted particles.

    Parameters
    ----------
    table_or_onsets : pandas.DataFrame or array_like
        Rows of :func:`transition_table` for one half-cycle (columns ``midpoint_soc``,
        ``width_soc``, ``reacted``), or the per-particle transition positions
        [SOC] (midpoints; onsets give the same number when the widths are
        alike). NaN entries (particles that did not react) are left out.
    widths : array_like, optional
        Per-particle 10–90 % widths [SOC], with an array of positions.

    Returns
    -------
    float
        NaN with fewer than two reacted particles.

    Examples
    --------
    >>> round(asynchrony_index([0.1, 0.3, 0.5, 0.7], [0.1, 0.1, 0.1, 0.1]), 6)  # IQR 0.3 over width 0.1
    3.0
    """
    if isinstance(table_or_onsets, pd.DataFrame):
        t = table_or_onsets
        if "half_cycle" in t and t["half_cycle"].nunique() > 1:
            raise ParameterError(
                f"the table holds {t['half_cycle'].nunique()} half-cycles; select one "
                "(table[table.half_cycle == k]) or use classify_half_cycles"
            )
        pos_col, wid_col = _index_columns(t)
        keep = t["reacted"].to_numpy(bool) if "reacted" in t else np.ones(len(t), bool)
        pos = t[pos_col].to_numpy(float)[keep]
        wid = t[wid_col].to_numpy(float)[keep]
    else:
        if widths is None:
            raise ParameterError("with an array of transition positions, pass widths too")
        pos = np.asarray(table_or_onsets, dtype=float).ravel()
        wid = np.asarray(widths, dtype=float).ravel()
        if wid.size == 1:
            wid = np.full(pos.size, float(wid[0]))
        if wid.size != pos.size:
            raise ParameterError(f"{pos.size} positions but {wid.size} widths")
    ok = np.isfinite(pos) & np.isfinite(wid)
    pos, wid = pos[ok], wid[ok]
    if pos.size < 2:
        return float("nan")
    if wid.min() <= 0:
        raise ParameterError(f"widths must be > 0, got minimum {wid.min():g}")
    return _iqr(pos) / float(np.median(wid))


def classify_half_cycles(table: pd.DataFrame, *, threshold: float = ASYNCHRONY_THRESHOLD) -> pd.DataFrame:
    """Asynchrony index and classification of every half-cycle of a :func:`transition_table`.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`transition_table` result.
    threshold : float
        ``asynchrony_index > threshold`` → "asynchronous", else "synchronous"
        (default 1: the middle half of the transitions spread over one
        transition width; see the module docstring for why).

    Returns
    -------
    pandas.DataFrame
        One row per half-cycle: ``half_cycle``, ``direction``, ``asynchrony_index``,
        ``classification`` ("asynchronous", "synchronous", or "undetermined" with
        fewer than two reacted particles), ``n_reacted``, ``n_particles``,
        ``fraction_unreacted``, ``midpoint_iqr_soc``, ``median_width_soc``
        (the IQR of the positions and the median width the index used: the
        switches when the table has them, else the midpoints and 10–90 %
        widths), ``fraction_step_like`` (of the reacted particles).
    """
    if not isinstance(table, pd.DataFrame) or not {"half_cycle", "reacted"} <= set(table):
        raise ParameterError("classify_half_cycles needs a transition_table result (a DataFrame)")
    pos_col, wid_col = _index_columns(table)
    thr = positive_float("threshold", threshold, example="1 (the default)")
    rows = []
    for hc, t in table.groupby("half_cycle", sort=False):
        r = t[t["reacted"].to_numpy(bool)]
        idx = asynchrony_index(t)
        if np.isnan(idx):
            cls = "undetermined"
        else:
            cls = "asynchronous" if idx > thr else "synchronous"
        n = len(t)
        rows.append({
            "half_cycle": hc,
            "direction": t["direction"].iloc[0] if "direction" in t else "",
            "asynchrony_index": idx,
            "classification": cls,
            "n_reacted": len(r),
            "n_particles": n,
            "fraction_unreacted": (n - len(r)) / n if n else np.nan,
            "midpoint_iqr_soc": _iqr(r[pos_col].to_numpy(float)) if len(r) >= 2 else np.nan,
            "median_width_soc": float(np.median(r[wid_col])) if len(r) else np.nan,
            "fraction_step_like": float(r["step_like"].mean()) if len(r) and "step_like" in r else np.nan,
        })
    return pd.DataFrame(rows, columns=["half_cycle", "direction", "asynchrony_index", "classification", "n_reacted",
                                       "n_particles", "fraction_unreacted", "midpoint_iqr_soc",
                                       "median_width_soc", "fraction_step_like"])
