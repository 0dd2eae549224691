"""Compiled BDF2 segment integrator for tridiagonal systems (radial particles).

This is the algorithm of :func:`socscope.numerics.integrate.integrate_segment`
— same predictor, Newton rate test, conservation projection, error estimate,
step-size rules, event location and dense output — written for numba and
specialised to a tridiagonal ``A`` (a chain of cells, one or many particles).
The interpreted version spends ~0.5 ms of Python overhead per step on a
200-cell sphere; compiled, a step costs a few microseconds, which is what
the P1 benchmark measures. ``tests/numerics/test_integrate_kernel.py`` checks
that both versions give the same answers.

Events are described by data instead of Python callables:
``kind`` 0 = mean of the state (volume-weighted), 1 = minimum and
2 = maximum over boundary elements of the reconstructed surface value
``K⁻¹(w1 K(u[bcell]) + w2 K(u[bcell2]) − qd)``, each compared with ``target``.
A second reconstruction (``tc1, tc2, tw1, tw2, tqd``), the *trace*, is kept
as its lowest and highest value over every accepted step: what a caller
needs for the extremes of a quantity between output samples (a particle's
voltage is a function of its surface θ at a constant current).
"""

from __future__ import annotations

import numpy as np

from ._kernel_cache import HAVE_NUMBA, cached_njit

__all__ = ["HAVE_NUMBA", "kirchhoff_evaluate", "tridiagonal_segment", "warm_up"]


@cached_njit
def _kval(lo, hi, kt, dt, u):
    m = kt.size - 1
    h = (hi - lo) / m
    if u < lo:
        return kt[0] + dt[0] * (u - lo), dt[0]
    if u > hi:
        return kt[m] + dt[m] * (u - hi), dt[m]
    s = (u - lo) / h
    i = int(np.floor(s))
    if i > m - 1:
        i = m - 1
    if i < 0:
        i = 0
    t = s - i
    k0 = kt[i]
    k1 = kt[i + 1]
    d0 = dt[i] * h
    d1 = dt[i + 1] * h
    t2 = t * t
    t3 = t2 * t
    val = (2 * t3 - 3 * t2 + 1) * k0 + (t3 - 2 * t2 + t) * d0 + (-2 * t3 + 3 * t2) * k1 + (t3 - t2) * d1
    der = ((6 * t2 - 6 * t) * (k0 - k1) + (3 * t2 - 4 * t + 1) * d0 + (3 * t2 - 2 * t) * d1) / h
    return val, der


@cached_njit
def kirchhoff_evaluate(lo, hi, kt, dt, u):
    """``K(u)`` and ``dK/du`` for a 1D array ``u`` (compiled :meth:`KirchhoffTable.evaluate`)."""
    k = np.empty(u.size)
    d = np.empty(u.size)
    for i in range(u.size):
        k[i], d[i] = _kval(lo, hi, kt, dt, u[i])
    return k, d


@cached_njit
def _search_left(a, v):
    """``np.searchsorted(a, v)`` for a sorted float array without NaNs (first ``j`` with ``a[j] >= v``).

    Written out because numba's ``searchsorted`` brings NaN- and complex-aware comparisons
    that more than double the compile time of the event kernels.
    """
    lo = 0
    hi = a.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@cached_njit
def _kinv(lo, hi, kt, dt, kv):
    m = kt.size - 1
    h = (hi - lo) / m
    if kv < kt[0]:
        u = lo + (kv - kt[0]) / dt[0]
    elif kv > kt[m]:
        u = hi + (kv - kt[m]) / dt[m]
    else:
        j = _search_left(kt, kv)
        if j < 1:
            j = 1
        if j > m:
            j = m
        span = kt[j] - kt[j - 1]
        f = (kv - kt[j - 1]) / span if span > 0 else 0.0
        u = lo + (j - 1 + f) * h
    for _ in range(3):
        val, der = _kval(lo, hi, kt, dt, u)
        u = u - (val - kv) / der
    return u


@cached_njit
def _surface_value(y, j, bcell, bcell2, w1, w2, qd, lo, hi, kt, dt):
    """The reconstructed surface value of boundary element ``j`` (module docstring)."""
    kc, _ = _kval(lo, hi, kt, dt, y[bcell[j]])
    kc = w1[j] * kc - qd[j]
    if w2[j] != 0.0:
        k2, _ = _kval(lo, hi, kt, dt, y[bcell2[j]])
        kc += w2[j] * k2
    return _kinv(lo, hi, kt, dt, kc)


@cached_njit
def _events(y, V, vtot, ev_kind, ev_target, bcell, bcell2, w1, w2, qd, lo, hi, kt, dt, out):
    for e in range(ev_kind.size):
        kind = ev_kind[e]
        if kind == 0:
            s = 0.0
            for i in range(y.size):
                s += V[i] * y[i]
            out[e] = s / vtot - ev_target[e]
        else:
            best = np.inf if kind == 1 else -np.inf
            for j in range(bcell.size):
                us = _surface_value(y, j, bcell, bcell2, w1, w2, qd, lo, hi, kt, dt)
                if kind == 1:
                    if us < best:
                        best = us
                else:
                    if us > best:
                        best = us
            out[e] = best - ev_target[e]


@cached_njit
def _widen_trace(y, tc1, tc2, tw1, tw2, tqd, lo, hi, kt, dt, tr):
    """Widen ``tr[0]``/``tr[1]`` (lowest/highest so far) to the traced surface values of state ``y``."""
    for j in range(tc1.size):
        us = _surface_value(y, j, tc1, tc2, tw1, tw2, tqd, lo, hi, kt, dt)
        if us < tr[0, j]:
            tr[0, j] = us
        if us > tr[1, j]:
            tr[1, j] = us


@cached_njit
def _apply(lower, diag, upper, kk, b, out):
    """``out = A kk + b`` for tridiagonal ``A``."""
    n = kk.size
    for i in range(n):
        a = diag[i] * kk[i] + b[i]
        if i > 0:
            a += lower[i - 1] * kk[i - 1]
        if i < n - 1:
            a += upper[i] * kk[i + 1]
        out[i] = a


@cached_njit
def _wnorm(e, y, rtol, atol, use_max):
    acc = 0.0
    for i in range(e.size):
        w = abs(e[i]) / (atol + rtol * abs(y[i]))
        if use_max:
            if w > acc:
                acc = w
        else:
            acc += w * w
    if use_max:
        return acc
    return np.sqrt(acc / e.size)


@cached_njit
def tridiagonal_segment(V, lower, diag, upper, b, lo, hi, kt, dt, u0, t0, t_end, out_times,
                        ev_kind, ev_target, ev_init, bcell, bcell2, w1, w2, qd, tc1, tc2, tw1, tw2, tqd,
                        blocks, use_blocks, rtol, atol, use_max, newton_tol, max_newton, first_step, max_step, min_step,
                        event_tol, bound_lo, bound_hi, use_bounds):
    """Integrate ``V du/dt = A K(u) + b`` with tridiagonal ``A`` (see module docstring).

    Returns
    -------
    status : int
        0 finished, 1 step fell below ``min_step``.
    t, u : float, ndarray
        End time and state.
    event : int
        Index of the event that ended the segment, −1 if none.
    n_out : int
        Number of outputs written into ``u_out``.
    u_out : ndarray, shape (len(out_times), n)
    counts : ndarray of int, (steps, rejected, newton)
    trace : ndarray, shape (2, len(tc1))
        Lowest and highest value of each traced surface element
        ``K⁻¹(tw1 K(u[tc1]) + tw2 K(u[tc2]) − tqd)`` over the start and every
        accepted step.
    """
    n = u0.size
    vtot = 0.0
    for i in range(n):
        vtot += V[i]
    nb = blocks.size - 1
    vol_block = np.empty(max(nb, 1))
    for p in range(vol_block.size):
        vol_block[p] = 0.0
    if use_blocks:
        for p in range(nb):
            for i in range(blocks[p], blocks[p + 1]):
                vol_block[p] += V[i]
    kk = np.empty(n)
    dd = np.empty(n)
    f0 = np.empty(n)
    for i in range(n):
        kk[i], dd[i] = _kval(lo, hi, kt, dt, u0[i])
    _apply(lower, diag, upper, kk, b, f0)
    for i in range(n):
        f0[i] /= V[i]
    nev = ev_kind.size
    g_prev = np.empty(nev)
    g_new = np.empty(nev)
    _events(u0, V, vtot, ev_kind, ev_target, bcell, bcell2, w1, w2, qd, lo, hi, kt, dt, g_prev)
    trace = np.empty((2, tc1.size))
    for j in range(tc1.size):
        trace[0, j] = np.inf
        trace[1, j] = -np.inf
    _widen_trace(u0, tc1, tc2, tw1, tw2, tqd, lo, hi, kt, dt, trace)
    for e in range(nev):
        if not np.isnan(ev_init[e]):
            g_prev[e] = ev_init[e]  # value at the first instant, given by the caller
    # explicit loops instead of slice assignments and np.zeros: numba's slice assignment
    # brings a shape-mismatch error formatter that compiles most of its string library
    # (seconds on the first run); the values are the same
    ht = np.empty(3)
    hu = np.empty((3, n))
    u = np.empty(n)
    for i in range(n):
        hu[0, i] = u0[i]
        u[i] = u0[i]
    nh = 1
    ht[0] = t0
    h_prev = -1.0
    t = t0
    h_next = first_step
    h_forced = -1.0
    crate = 1.0
    event_hit = -1
    u_out = np.empty((out_times.size, n))
    n_out = 0
    while n_out < out_times.size and out_times[n_out] <= t0:
        n_out += 1
    o_first = n_out
    n_out = 0
    oi = o_first
    steps = 0
    rejected = 0
    newton = 0
    y = np.empty(n)
    upred = np.empty(n)
    hist = np.empty(n)
    g = np.empty(n)
    cp = np.empty(n)
    dp = np.empty(n)
    delta = np.empty(n)
    est = np.empty(n)
    status = 0
    while True:
        if np.isfinite(t_end) and t_end - t <= 1e-12 * max(1.0, abs(t_end)):
            break
        remaining = t_end - t
        if h_forced > 0:
            h = min(h_forced, remaining)
            h_forced = -1.0
        else:
            h = min(h_next, max_step)
            if h_prev > 0:
                h = min(h, 2.4 * h_prev)
            if remaining <= h:
                h = remaining
            elif remaining < 2.0 * h:
                h = 0.5 * remaining
        if h < min_step:
            status = 1
            break
        if h_prev < 0:
            a0, a1, a2 = 1.0, -1.0, 0.0
        else:
            w = h / h_prev
            a0, a1, a2 = (1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w)
        last = nh - 1
        for i in range(n):
            hist[i] = a1 * hu[last, i]
            if a2 != 0.0:
                hist[i] += a2 * hu[last - 1, i]
        tn = ht[last]
        t_new = tn + h
        c_pred = -1.0
        if nh >= 3:
            t1, t2, t3 = ht[0], ht[1], ht[2]
            l1 = (t_new - t2) * (t_new - t3) / ((t1 - t2) * (t1 - t3))
            l2 = (t_new - t1) * (t_new - t3) / ((t2 - t1) * (t2 - t3))
            l3 = (t_new - t1) * (t_new - t2) / ((t3 - t1) * (t3 - t2))
            for i in range(n):
                upred[i] = l1 * hu[0, i] + l2 * hu[1, i] + l3 * hu[2, i]
            h1 = t3 - t2
            h2 = t2 - t1
            c_pred = h * (h + h1) * (h + h1 + h2) / 6.0
        elif nh == 2:
            hh = ht[1] - ht[0]
            s = t_new - ht[0]
            for i in range(n):
                c = (hu[1, i] - hu[0, i] - f0[i] * hh) / (hh * hh)
                upred[i] = hu[0, i] + f0[i] * s + c * s * s
            c_pred = h * (h + hh) ** 2 / 6.0
        else:
            for i in range(n):
                upred[i] = u[i] + h * f0[i]
        for i in range(n):
            y[i] = upred[i]
        converged = False
        prev_norm = -1.0
        for it in range(max_newton):
            for i in range(n):
                kk[i], dd[i] = _kval(lo, hi, kt, dt, y[i])
            _apply(lower, diag, upper, kk, b, g)
            for i in range(n):
                g[i] = V[i] * (a0 * y[i] + hist[i]) - h * g[i]
            # Thomas algorithm on (a0 V − h A diag(D)) delta = g; the matrix
            # is a column-diagonally-dominant M-matrix, so no pivoting
            bi = a0 * V[0] - h * diag[0] * dd[0]
            ci = -h * upper[0] * dd[1] if n > 1 else 0.0
            cp[0] = ci / bi
            dp[0] = g[0] / bi
            for i in range(1, n):
                ai = -h * lower[i - 1] * dd[i - 1]
                bi = a0 * V[i] - h * diag[i] * dd[i]
                ci = -h * upper[i] * dd[i + 1] if i < n - 1 else 0.0
                den = bi - ai * cp[i - 1]
                cp[i] = ci / den
                dp[i] = (g[i] - ai * dp[i - 1]) / den
            delta[n - 1] = dp[n - 1]
            for i in range(n - 2, -1, -1):
                delta[i] = dp[i] - cp[i] * delta[i + 1]
            for i in range(n):
                y[i] -= delta[i]
            newton += 1
            nrm = _wnorm(delta, y, rtol, atol, use_max)
            if not np.isfinite(nrm):
                break
            if prev_norm >= 0:
                crate = max(0.3 * crate, nrm / prev_norm)
                if nrm > 0.9 * prev_norm:
                    break
            if nrm * min(1.0, crate) <= newton_tol:
                converged = True
                break
            prev_norm = nrm
        if converged and use_blocks:
            for p in range(nb):
                dsum = 0.0
                for i in range(blocks[p], blocks[p + 1]):
                    dsum += V[i] * (a0 * y[i] + hist[i]) - h * b[i]
                shift = dsum / (a0 * vol_block[p])
                for i in range(blocks[p], blocks[p + 1]):
                    y[i] -= shift
        ok = converged
        if ok:
            for i in range(n):
                if not np.isfinite(y[i]) or (use_bounds and (y[i] <= bound_lo or y[i] >= bound_hi)):
                    ok = False
                    break
        if not ok:
            crate = 1.0
            rejected += 1
            h_next = h * (0.5 if converged else 0.25)
            continue
        if c_pred < 0:
            for i in range(n):
                kk[i], dd[i] = _kval(lo, hi, kt, dt, y[i])
            _apply(lower, diag, upper, kk, b, est)
            for i in range(n):
                est[i] = 0.5 * h * (est[i] / V[i] - f0[i])
            order = 2
        else:
            if h_prev < 0:
                c_corr = -0.5 * h * h
            else:
                w = h / h_prev
                c_corr = -(h ** 3) * (1 + w) ** 2 / (6 * w * (1 + 2 * w))
            fac = c_corr / (c_pred - c_corr)
            for i in range(n):
                est[i] = fac * (y[i] - upred[i])
            order = 3 if h_prev > 0 else 2
        err = _wnorm(est, y, rtol, atol, use_max)
        if err > 1.0:
            rejected += 1
            h_next = h * max(0.2, 0.9 * err ** (-1.0 / order))
            continue
        if nev > 0:
            _events(y, V, vtot, ev_kind, ev_target, bcell, bcell2, w1, w2, qd, lo, hi, kt, dt, g_new)
            best_frac = np.inf
            i_ev = -1
            for e in range(nev):
                if g_prev[e] != 0.0 and np.sign(g_new[e]) != np.sign(g_prev[e]):
                    frac = g_prev[e] / (g_prev[e] - g_new[e])
                    if frac < best_frac:
                        best_frac = frac
                        i_ev = e
            if i_ev >= 0:
                if abs(g_new[i_ev]) > event_tol and h > 2.0 * min_step * (1.0 + 1e-6):
                    rejected += 1
                    h_forced = max(h * best_frac * (1 + 1e-9), min_step * 2)
                    continue
                event_hit = i_ev
            for e in range(nev):
                g_prev[e] = g_new[e]
        steps += 1
        _widen_trace(y, tc1, tc2, tw1, tw2, tqd, lo, hi, kt, dt, trace)
        h_prev = h
        t = t_new
        for i in range(n):
            u[i] = y[i]
        if nh < 3:
            ht[nh] = t
            for i in range(n):
                hu[nh, i] = y[i]
            nh += 1
        else:
            ht[0] = ht[1]
            ht[1] = ht[2]
            ht[2] = t
            for i in range(n):
                hu[0, i] = hu[1, i]
                hu[1, i] = hu[2, i]
                hu[2, i] = y[i]
        while oi < out_times.size and out_times[oi] <= t * (1 + 1e-12):
            to = out_times[oi]
            if abs(to - t) <= 1e-12 * max(1.0, abs(to)):
                for i in range(n):
                    u_out[n_out, i] = u[i]
            else:
                m0 = max(0, nh - 3)
                for i in range(n):
                    acc = 0.0
                    for a_ in range(m0, nh):
                        wgt = 1.0
                        for b_ in range(m0, nh):
                            if b_ != a_:
                                wgt *= (to - ht[b_]) / (ht[a_] - ht[b_])
                        acc += wgt * hu[a_, i]
                    u_out[n_out, i] = acc
            n_out += 1
            oi += 1
        if event_hit >= 0:
            break
        grow = h * min(3.0, max(0.2, 0.9 * max(err, 1e-10) ** (-1.0 / order)))
        h_next = max(h_next if h < h_next else 0.0, grow)
    counts = np.empty(3, dtype=np.int64)
    counts[0] = steps
    counts[1] = rejected
    counts[2] = newton
    return status, t, u, event_hit, n_out, u_out[:n_out], counts, trace


def warm_up_arguments() -> tuple:
    """Arguments of :func:`tridiagonal_segment` with the types a particle run passes.

    A three-cell chain with a mean-state and a surface event and one traced surface, run for one second;
    ``tests/numerics/test_kernel_cache.py`` checks that a real run compiles this signature.
    """
    f8 = np.float64
    i8 = np.int64
    return (
        np.ones(3), np.ones(2), np.array([-1.0, -2.0, -1.0]), np.ones(2), np.zeros(3),
        0.0, 1.0, np.linspace(0.0, 1.0, 5), np.ones(5), np.full(3, 0.5), 0.0, 1.0, np.array([0.5, 1.0]),
        np.array([0, 1], dtype=i8), np.array([2.0, 2.0]), np.full(2, np.nan), np.array([2], dtype=i8),
        np.array([1], dtype=i8), np.ones(1), np.zeros(1), np.zeros(1),
        np.array([2], dtype=i8), np.array([1], dtype=i8), np.ones(1), np.zeros(1), np.zeros(1),
        np.array([0, 3], dtype=i8), False,
        1e-3, 1e-6, False, 0.1, 4, 1e-3, 1.0, 1e-12, 1e-8, f8(0.0), f8(1.0), True,
    )


def warm_up() -> None:
    """Compile (or load) the kernels of a particle run with the signatures it uses."""
    tridiagonal_segment(*warm_up_arguments())
    kirchhoff_evaluate(0.0, 1.0, np.linspace(0.0, 1.0, 5), np.ones(5), np.full(3, 0.5))
