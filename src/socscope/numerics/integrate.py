"""Adaptive implicit time integration of ``V du/dt = A K(u) + b``.

The method is the variable-step, second-order backward differentiation
formula (BDF2), started with one backward-Euler step on every segment (a
segment is a stretch of time with constant ``A`` and ``b``: one protocol
step). It is L-stable, needs one nonlinear solve per step, and — being a
linear multistep method whose coefficients sum to zero — conserves every
linear invariant of the semi-discrete system, which is why the Li inventory
matches the passed charge to round-off.

Error control: the local truncation error is estimated with Milne's device
from the difference between the converged solution and a quadratic predictor
(the predictor is also Newton's first guess) and measured in a weighted RMS
(or max) norm with relative and absolute tolerances.

Terminal events ``g(u) = 0`` are located to ``event_tol`` by repeating the
last step with the secant estimate of the crossing time (or to within two
``min_step`` where ``g`` jumps, e.g. a voltage that collapses when a surface
saturates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .._checks import positive_float, whole_number
from ..errors import ParameterError, SolverError
from ._tridiag_kernel import HAVE_NUMBA, tridiagonal_segment
from .kirchhoff import KirchhoffTable
from .linear import TridiagonalOperator

__all__ = ["Segment", "Coupling", "CouplingTerms", "Event", "SolverOptions", "SegmentResult", "integrate_segment"]


@dataclass(frozen=True)
class SolverOptions:
    """Tolerances and limits of the time integrator.

    Parameters
    ----------
    rtol, atol : float
        Local error tolerances per step: the error estimate ``e`` is accepted
        when its weighted norm ``‖e / (atol + rtol |u|)‖`` is at most 1 (the
        convention of SUNDIALS and ``solve_ivp``). With the defaults the
        reported quantities of benchmark P1 (a 5 µm sphere through charge,
        discharge to a surface event and a surface hold) are within 1e-4 of
        their converged values at 200 shells (measured: 9e-5 after the hold,
        5e-5 relative on the event time); rtol = 1e-4 doubles the step size
        and leaves 4e-4 (see ``benchmarks/README.md``).
    norm : {"rms", "max"}
        Root-mean-square over the cells (the SUNDIALS choice) or the
        maximum (stricter at sharp fronts, several times more steps).
    newton_tol : float
        Newton iterations stop when the estimated remaining error (update
        times convergence rate, in the weighted norm) is below this; 0.1 keeps
        the algebraic error at a tenth of the accepted local time error.
    max_newton : int
        Newton iterations before the step is retried with half the size.
    first_step : float
        First step of every segment [s].
    max_step : float
        Largest allowed step [s]; error control normally sets the steps, this
        only bounds them on very long quiet stretches.
    min_step : float
        Below this step size [s] the solver gives up with :class:`SolverError`.
    event_tol : float
        Events are located until ``|g| <= event_tol``.
    engine : {"auto", "python"}
        "auto" runs tridiagonal (radial) systems in the compiled kernel of
        :mod:`socscope.numerics._tridiag_kernel` when numba is available;
        "python" always uses the interpreted integrator (same algorithm).
    """

    rtol: float = 1e-5
    atol: float = 1e-7
    norm: str = "rms"
    newton_tol: float = 0.1
    max_newton: int = 8
    first_step: float = 1e-3
    max_step: float = 1e5
    min_step: float = 1e-9
    event_tol: float = 1e-7
    engine: str = "auto"

    def __post_init__(self):
        if self.engine not in ("auto", "python"):
            raise ParameterError(f"SolverOptions.engine must be 'auto' or 'python', got {self.engine!r}")
        examples = {"rtol": "1e-5", "atol": "1e-7", "newton_tol": "0.1", "first_step": "1e-3", "max_step": "1e5",
                    "min_step": "1e-9", "event_tol": "1e-7"}
        for name, example in examples.items():
            positive_float(f"SolverOptions.{name}", getattr(self, name), example=example)
        whole_number("SolverOptions.max_newton", self.max_newton, minimum=1, example=8)
        if not (self.min_step <= self.first_step and self.min_step < self.max_step):
            raise ParameterError(
                f"SolverOptions needs min_step ({self.min_step!r}) <= first_step ({self.first_step!r}) "
                f"and min_step < max_step ({self.max_step!r})"
            )
        if self.norm not in ("rms", "max"):
            raise ParameterError(f"SolverOptions.norm must be 'rms' or 'max', got {self.norm!r}")


@dataclass(frozen=True)
class Event:
    """A terminal event ``g(u) = 0`` reached from the side of ``g(u0)``.

    Parameters
    ----------
    name : str
    function : callable
        ``g(u)``.
    spec : tuple, optional
        The same event as data, for the compiled tridiagonal integrator:
        ``(kind, target)`` with ``kind`` 0 (volume mean of ``u`` minus
        ``target``), or ``(kind, target, (cells_out, cells_in), (w_out, w_in), qd)``
        with ``kind`` 1 or 2: the minimum or maximum over boundary elements
        of ``K⁻¹(w_out K(u[cells_out]) + w_in K(u[cells_in]) − qd)`` minus
        ``target``.
    initial : float, optional
        ``g`` at the start of the segment when it differs from
        ``function(u0)`` (a quantity that jumps when the forcing switches on).
    """

    name: str
    function: Callable[[np.ndarray], float]
    spec: tuple | None = None
    initial: float | None = None


@dataclass
class Segment:
    """One stretch of constant forcing: ``V du/dt = A K(u) + b [+ s(u, p)]``.

    Parameters
    ----------
    operator : TridiagonalOperator or SparseOperator
        ``A`` wrapped for fast mat-vecs and solves.
    source : ndarray, shape (n,)
        ``b``.
    blocks : ndarray of int or None
        Offsets of independent blocks whose inventory ``Σ V u`` changes only
        through ``b`` (set when every column of ``A`` sums to zero); enables
        the conservation projection after each Newton solve.
    coupling : object, optional
        A nonlinear boundary source ``s(u, p)`` with one extra unknown ``p``
        (see :class:`Coupling`). With a coupling the state the integrator
        carries, records and passes to events is ``z = [u, p]`` (length
        ``n + 1``).
    """

    operator: object
    source: np.ndarray
    blocks: np.ndarray | None = None
    coupling: object | None = None


@dataclass
class CouplingTerms:
    """What a coupling returns at one state (see :class:`Coupling`).

    Attributes
    ----------
    source : ndarray, shape (n,)
        ``s(u, p)``, added to the right-hand side ``A K(u) + b``.
    dsource_du : ndarray, shape (n,)
        Diagonal of ``∂s/∂u`` (off-diagonal terms may be left out: they only
        slow Newton's convergence, never change its answer).
    dsource_dp : ndarray, shape (n,)
        ``∂s/∂p``.
    constraint : float or None
        ``c(u, p)``; None when ``p`` is given (held), not solved for.
    dconstraint_du : ndarray, shape (n,) or None
    dconstraint_dp : float
    """

    source: np.ndarray
    dsource_du: np.ndarray
    dsource_dp: np.ndarray
    constraint: float | None = None
    dconstraint_du: np.ndarray | None = None
    dconstraint_dp: float = 1.0


class Coupling:
    """Interface of a nonlinear boundary source with one scalar unknown.

    The semi-discrete system becomes the index-1 DAE

    ``V du/dt = A K(u) + b + s(u, p)``, ``0 = c(u, p)``

    (an electrode potential ``p`` fixed by the applied current, for
    example), or, when ``solve_p`` is False, the ODE with ``p`` held at its
    initial value. Newton's method solves for ``(u, p)`` together through a
    bordered (Schur-complement) solve that reuses the transport operator's
    factorisation. ``p`` is not part of the local error estimate (an
    algebraic variable follows ``u``).

    Attributes
    ----------
    solve_p : bool
        Whether ``p`` is an unknown (True) or held (False).
    p_tol : float
        Newton stops only when the update of ``p`` is below this.
    p_max_update : float
        Largest change of ``p`` one Newton iteration may make (a damping that
        keeps strongly nonlinear sources, e.g. exponential kinetics, from
        overshooting; a step that needs more iterations is retried smaller).
    total_source : float or None
        ``Σ s`` whenever ``c = 0`` holds (e.g. minus the applied current in
        inventory units); used for the conservation projection. None when
        the total is not known in advance.
    """

    solve_p: bool = True
    p_tol: float = 1e-8
    p_max_update: float = np.inf
    total_source: float | None = None
    #: number of algebraic unknowns; a coupling with more than one (a
    #: network of potentials, say) supplies its own :meth:`newton_update`
    n_p: int = 1

    def evaluate(self, u: np.ndarray, k: np.ndarray, d: np.ndarray, p: float) -> CouplingTerms:  # pragma: no cover - interface
        raise NotImplementedError

    def start_step(self, z_pred: np.ndarray) -> None:
        """Called with the predicted state ``[u, p]`` before each step's Newton iteration (default: nothing)."""

    def held_prediction(self, p_pred: np.ndarray, p0: np.ndarray) -> np.ndarray:
        """The predicted algebraic unknowns of a step with the held ones put back to their given values.

        ``p_pred`` is the extrapolation from earlier steps, ``p0`` the values
        the segment started with. By default ``p`` is all held when
        :attr:`solve_p` is False (extrapolating a held value would only
        amplify round-off) and all extrapolated otherwise; a coupling that
        holds some unknowns and solves the others (a network held at its
        collector) returns the mix.
        """
        return p_pred if self.solve_p else p0

    def newton_update(self, op, V, a0, h, g, u, k, d, p):
        """Newton update ``(δu, δp)`` of one iteration (see :func:`_coupled_newton_update`).

        ``g`` is the transport residual without the coupling's source; ``p``
        is a float when ``n_p == 1``, else an array of ``n_p`` values, and
        ``δp`` has the same form. A NaN update asks for a smaller step.
        """
        return _coupled_newton_update(self, op, V, a0, h, g, u, k, d, p)


@dataclass
class SegmentResult:
    """What :func:`integrate_segment` returns."""

    t: list = field(default_factory=list)
    u: list = field(default_factory=list)
    t_end: float = 0.0
    u_end: np.ndarray | None = None
    event: str | None = None
    n_steps: int = 0
    n_rejected: int = 0
    n_newton: int = 0
    #: lowest (row 0) and highest (row 1) value of each traced surface element over
    #: the start and every accepted step; None without a ``trace``
    trace: np.ndarray | None = None


def _reconstruction_arrays(spec) -> tuple:
    """``((cells_out, cells_in), (w_out, w_in), qd)`` as the kernel's five arrays (empty for None)."""
    if spec is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), np.zeros(0), np.zeros(0)
    (c_out, c_in), (w_out, w_in), qd = spec
    w_out = np.asarray(w_out, dtype=float)
    return (np.asarray(c_out, dtype=np.int64), np.asarray(c_in, dtype=np.int64), w_out,
            np.asarray(w_in, dtype=float), np.broadcast_to(np.asarray(qd, dtype=float), w_out.shape).copy())


def _surface_values(table, u, spec) -> np.ndarray:
    """The reconstructed surface values ``K⁻¹(w_out K(u[out]) + w_in K(u[in]) − qd)`` of ``spec``."""
    (c_out, c_in), (w_out, w_in), qd = spec
    k_out, _ = table.evaluate(u[np.asarray(c_out)])
    k_in, _ = table.evaluate(u[np.asarray(c_in)])
    return table.inverse(np.asarray(w_out) * k_out + np.asarray(w_in) * k_in - np.asarray(qd))


def _compiled_segment(segment, volumes, table, u0, t0, t_end, out_times, events, opts, bounds,
                      trace=None) -> SegmentResult:
    """Run :func:`integrate_segment` for a tridiagonal operator in compiled code."""
    op = segment.operator
    n = u0.size
    kinds = np.array([ev.spec[0] for ev in events], dtype=np.int64)
    targets = np.array([ev.spec[1] for ev in events], dtype=float)
    g_init = np.array([np.nan if ev.initial is None else ev.initial for ev in events], dtype=float)
    surf = [ev.spec for ev in events if ev.spec[0] != 0]
    if len(surf) > 1 and any(not np.array_equal(surf[0][4], s_[4]) for s_ in surf[1:]):
        raise ValueError("compiled integrator: surface events must share their reconstruction")
    bcell, bcell2, w1, w2, qd = _reconstruction_arrays(surf[0][2:5] if surf else None)
    tc1, tc2, tw1, tw2, tqd = _reconstruction_arrays(trace)
    blocks = segment.blocks if segment.blocks is not None else np.array([0, n])
    status, t, u, ev, n_out, u_out, counts, tr = tridiagonal_segment(
        volumes, op.lower if n > 1 else np.zeros(0), op.diag, op.upper if n > 1 else np.zeros(0),
        np.asarray(segment.source, dtype=float), table.lo, table.hi, table.k, table.d,
        np.asarray(u0, dtype=float), float(t0), float(t_end), np.asarray(out_times, dtype=float),
        kinds, targets, g_init, bcell, bcell2, w1, w2, qd, tc1, tc2, tw1, tw2, tqd, np.asarray(blocks, dtype=np.int64), segment.blocks is not None,
        opts.rtol, opts.atol, opts.norm == "max", opts.newton_tol, opts.max_newton, opts.first_step,
        opts.max_step, opts.min_step, opts.event_tol,
        bounds[0] if bounds is not None else 0.0, bounds[1] if bounds is not None else 0.0, bounds is not None,
    )
    if status == 1:
        raise _step_too_small(opts, t, u)
    res = SegmentResult()
    res.t = list(out_times[:n_out])
    res.u = [row.copy() for row in u_out]
    res.t_end = float(t)
    res.u_end = u
    res.event = events[ev].name if ev >= 0 else None
    res.n_steps, res.n_rejected, res.n_newton = (int(c) for c in counts)
    res.trace = tr if trace is not None else None
    return res


def _step_too_small(opts, t, u) -> SolverError:
    """The error of a step-size collapse; it carries the last accepted time and state."""
    exc = SolverError(
        f"time step fell below {opts.min_step:g} s at t = {t:.6g} s; the problem is too stiff "
        "or the state left its physical range. Try a smaller current or a finer grid."
    )
    exc.t, exc.state = float(t), np.array(u, copy=True)
    return exc


def _interpolate(ts: list, us: list, t: float) -> np.ndarray:
    """Lagrange interpolation through the last (up to three) accepted points.

    Quadratic interpolation has the same order as the BDF2 local error, so
    recorded outputs are as accurate as the steps themselves.
    """
    if abs(t - ts[-1]) <= 1e-12 * max(1.0, abs(t)):
        return us[-1].copy()
    pts = list(zip(ts, us))[-3:]
    out = np.zeros_like(us[-1])
    for i, (ti, ui) in enumerate(pts):
        w = 1.0
        for j, (tj, _) in enumerate(pts):
            if j != i:
                w *= (t - tj) / (ti - tj)
        out += w * ui
    return out


def _bdf_coefficients(h: float, h_prev: float | None):
    """Coefficients (α0, α1, α2) of ``α0 u_{n+1} + α1 u_n + α2 u_{n−1} = h f``."""
    if h_prev is None:
        return 1.0, -1.0, 0.0
    w = h / h_prev
    return (1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w)


def _coupled_newton_update(cpl, op, V, a0, h, g, u, k, d, p):
    """Newton update ``(δu, δp)`` of the bordered system of a coupled step.

    The Jacobian of ``G = V(a0 u + hist) − h(A K(u) + b + s(u, p))`` and
    ``c(u, p)`` is ``[[J, −h s_p], [c_u, c_p]]`` with
    ``J = diag(a0 V − h s_u) − h A diag(D)``: two solves with ``J`` (one
    factorisation) and a scalar Schur complement give both updates.
    """
    t = cpl.evaluate(u, k, d, p)
    g = g - h * t.source
    op.factorise(a0 * V - h * t.dsource_du, h, d)
    x1 = op.solve(g)
    if not cpl.solve_p:
        return x1, 0.0
    x2 = op.solve(-h * t.dsource_dp)
    schur = t.dconstraint_dp - float(t.dconstraint_du @ x2)
    if schur == 0.0 or not np.isfinite(schur):
        # p no longer moves the constraint (e.g. a saturated surface): no
        # Newton direction; the step is retried smaller, then reported
        return x1 * np.nan, np.nan
    dp = (t.constraint - float(t.dconstraint_du @ x1)) / schur
    if not np.isfinite(dp):
        return x1 * np.nan, np.nan
    dp = float(np.clip(dp, -cpl.p_max_update, cpl.p_max_update))
    return x1 - x2 * dp, dp


def integrate_segment(
    segment: Segment,
    volumes: np.ndarray,
    table: KirchhoffTable,
    u0: np.ndarray,
    t0: float,
    t_end: float,
    *,
    output_times: Sequence[float] = (),
    events: Sequence[Event] = (),
    options: SolverOptions = SolverOptions(),
    bounds: tuple[float, float] | None = (0.0, 1.0),
    progress: Callable[[float], None] | None = None,
    watch: Callable[[float, np.ndarray], None] | None = None,
    trace: tuple | None = None,
) -> SegmentResult:
    """Integrate one segment from ``t0`` to ``t_end`` or to the first event.

    Parameters
    ----------
    segment : Segment
    volumes : ndarray, shape (n,)
        The diagonal mass matrix ``V``.
    table : KirchhoffTable
        ``K(u)`` and ``D(u)``.
    u0 : ndarray, shape (n,)
        State at ``t0``.
    t0, t_end : float
        Time span [s]; ``t_end`` may be ``inf`` when an event ends the segment.
    output_times : sequence of float
        Times in (t0, t_end] at which the state is recorded, by quadratic
        interpolation between accepted steps (steps do not land on them).
    events : sequence of Event
        Terminal events.
    options : SolverOptions
    bounds : (float, float) or None
        Open interval the state must stay in; a step that leaves it is
        retried smaller, and if the interval cannot be kept the solver raises
        :class:`SolverError`.
    progress : callable or None
        Called with the time after each accepted step.
    watch : callable or None
        Called with the time and the state after each accepted step (e.g. to
        keep the extremes of a voltage between output samples). Setting it
        runs the Python integrator, which sees every step.
    trace : tuple or None
        A surface reconstruction ``((cells_out, cells_in), (w_out, w_in), qd)``
        (the form of an :class:`Event`'s spec) whose lowest and highest value
        on each element over the start and every accepted step is returned in
        :attr:`SegmentResult.trace`; both engines keep it, so the compiled
        one still runs.

    Returns
    -------
    SegmentResult
    """
    op = segment.operator
    b = segment.source
    V = volumes
    opts = options
    out_times = [t for t in sorted(output_times) if t0 < t <= t_end]
    if (
        opts.engine == "auto"
        and HAVE_NUMBA
        and isinstance(op, TridiagonalOperator)
        and segment.coupling is None
        and all(ev.spec is not None for ev in events)
        and watch is None
    ):
        res = _compiled_segment(segment, volumes, table, u0, t0, t_end, out_times, events, opts, bounds, trace)
        if progress is not None:
            progress(res.t_end)
        return res
    res = SegmentResult()

    if opts.norm == "rms":
        def wnorm(e, y):
            return float(np.sqrt(np.mean((e / (opts.atol + opts.rtol * np.abs(y))) ** 2)))
    else:
        def wnorm(e, y):
            return float(np.max(np.abs(e) / (opts.atol + opts.rtol * np.abs(y))))

    cpl = segment.coupling
    n = V.size
    n_p = int(getattr(cpl, "n_p", 1)) if cpl is not None else 0
    if cpl is not None and u0.size != n + n_p:
        raise ValueError(f"with a coupling the state is [u, p]: expected {n + n_p} values, got {u0.size}")

    def p_of(z):
        return float(z[n]) if n_p == 1 else z[n:]

    def slope(z):
        """dz/dt (zero for the algebraic unknowns p)."""
        u = z[:n]
        k, d = table.evaluate(u)
        f = op.matvec(k) + b
        if cpl is None:
            return f / V
        f = f + cpl.evaluate(u, k, d, p_of(z)).source
        return np.concatenate([f / V, np.zeros(n_p)])

    f0 = slope(u0)
    if trace is not None:
        first = _surface_values(table, u0[:n], trace)
        res.trace = np.array([first, first])
    g_prev = np.array([ev.function(u0) if ev.initial is None else ev.initial for ev in events], dtype=float)
    hist_t = [t0]
    hist_u = [u0.copy()]
    h_prev = None
    t = t0
    u = u0.copy()
    h_next = opts.first_step
    h_forced = None
    crate = 1.0  # estimated Newton convergence rate
    event_hit = None
    blocks = segment.blocks
    if cpl is not None and blocks is not None:
        if cpl.total_source is None:
            blocks = None
        elif blocks.size != 2:
            raise ValueError("a coupled segment conserves one block: blocks must be [0, n]")
    vol_block = np.add.reduceat(V, blocks[:-1]) if blocks is not None else None

    while True:
        if np.isfinite(t_end) and t_end - t <= 1e-12 * max(1.0, abs(t_end)):
            break
        remaining = t_end - t
        if h_forced is not None:
            h, h_forced = min(h_forced, remaining), None
        else:
            h = min(h_next, opts.max_step)
            if h_prev is not None:
                # variable-step BDF2 is zero-stable for step ratios below 1 + √2
                h = min(h, 2.4 * h_prev)
            if remaining <= h:
                h = remaining
            elif remaining < 2.0 * h:
                # two equal steps instead of a full one and a sliver
                h = 0.5 * remaining
        if h < opts.min_step:
            exc = _step_too_small(opts, t, u)
            res.t_end, res.u_end = t, u
            exc.partial = res  # what was integrated and recorded up to the collapse
            raise exc
        a0, a1, a2 = _bdf_coefficients(h, h_prev)
        hist = a1 * hist_u[-1][:n] + (a2 * hist_u[-2][:n] if a2 != 0.0 else 0.0)
        # predictor: quadratic through the last three points (or the first
        # point with its slope f0 and the second point), linear at the start
        tn = hist_t[-1]
        t_new = tn + h
        if len(hist_u) >= 3:
            t1, t2, t3 = hist_t[-3], hist_t[-2], hist_t[-1]
            l1 = (t_new - t2) * (t_new - t3) / ((t1 - t2) * (t1 - t3))
            l2 = (t_new - t1) * (t_new - t3) / ((t2 - t1) * (t2 - t3))
            l3 = (t_new - t1) * (t_new - t2) / ((t3 - t1) * (t3 - t2))
            u_pred = l1 * hist_u[-3] + l2 * hist_u[-2] + l3 * hist_u[-1]
            h1, h2 = t3 - t2, t2 - t1
            c_pred = h * (h + h1) * (h + h1 + h2) / 6.0
        elif len(hist_u) == 2:
            hh = hist_t[1] - hist_t[0]
            c = (hist_u[1] - hist_u[0] - f0 * hh) / hh**2
            s = t_new - hist_t[0]
            u_pred = hist_u[0] + f0 * s + c * s * s
            c_pred = h * (h + hh) ** 2 / 6.0
        else:
            u_pred = u + h * f0
            c_pred = None
        if cpl is not None:
            # held unknowns stay exactly as given; the others start from
            # their extrapolation
            u_pred[n:] = cpl.held_prediction(u_pred[n:], u0[n:])
        # Newton
        y = u_pred.copy()
        if cpl is not None:
            cpl.start_step(y)
        converged = False
        prev_norm = None
        for it in range(opts.max_newton):
            yu = y[:n]
            k, d = table.evaluate(yu)
            g = V * (a0 * yu + hist) - h * (op.matvec(k) + b)
            if cpl is None:
                op.factorise(a0 * V, h, d)
                delta = op.solve(g)
                y -= delta
                p_ok = True
            else:
                delta, dp = cpl.newton_update(op, V, a0, h, g, yu, k, d, p_of(y))
                y[:n] -= delta
                y[n:] -= dp
                p_ok = bool(np.all(np.abs(dp) <= cpl.p_tol))
            res.n_newton += 1
            norm = wnorm(delta, y[:n])
            if not np.isfinite(norm):
                break
            if prev_norm is not None:
                crate = max(0.3 * crate, norm / prev_norm)
                if norm > 0.9 * prev_norm:
                    break  # not contracting: retry with a smaller step
            # the remaining error is about rate × last update (rate kept
            # from earlier steps on the first iteration, as CVODE does)
            if norm * min(1.0, crate) <= opts.newton_tol and p_ok:
                converged = True
                break
            prev_norm = norm
        if converged and blocks is not None:
            # conservation projection: Σ_block G = Σ V(a0 y + hist) − h Σ b
            # must vanish exactly; a uniform shift in each block restores it
            # (interior fluxes cancel for any state, so the shift changes
            # only the mass term).
            defect = np.add.reduceat(V * (a0 * y[:n] + hist) - h * b, blocks[:-1])
            if cpl is not None:
                defect = defect - h * cpl.total_source  # blocks is [0, n] with a coupling
            y[:n] -= np.repeat(defect / (a0 * vol_block), np.diff(blocks))
        ok = converged and np.all(np.isfinite(y))
        if ok and bounds is not None:
            ok = bool(np.all(y[:n] > bounds[0]) and np.all(y[:n] < bounds[1]))
        if not ok:
            crate = 1.0
            res.n_rejected += 1
            h_next = h * (0.25 if not converged else 0.5)
            continue
        # error estimate
        if c_pred is None:
            est = 0.5 * h * (slope(y) - f0)
            order = 2
        else:
            if h_prev is None:
                c_corr = -0.5 * h * h
            else:
                w = h / h_prev
                c_corr = -(h**3) * (1 + w) ** 2 / (6 * w * (1 + 2 * w))
            est = c_corr / (c_pred - c_corr) * (y - u_pred)
            order = 3 if h_prev is not None else 2
        err = wnorm(est[:n], y[:n])
        if err > 1.0:
            res.n_rejected += 1
            h_next = h * max(0.2, 0.9 * err ** (-1.0 / order))
            continue
        # events
        if events:
            g_new = np.array([ev.function(y) for ev in events], dtype=float)
            crossed = np.nonzero(np.sign(g_new) != np.sign(g_prev))[0]
            crossed = [i for i in crossed if g_prev[i] != 0.0]
            if crossed:
                # earliest crossing by linear interpolation
                fracs = [g_prev[i] / (g_prev[i] - g_new[i]) for i in crossed]
                j = int(np.argmin(fracs))
                i_ev = crossed[j]
                if abs(g_new[i_ev]) > opts.event_tol and h > 2.0 * opts.min_step * (1.0 + 1e-6):
                    res.n_rejected += 1
                    # repeat the step, with the same history, to the crossing
                    h_forced = max(h * fracs[j] * (1 + 1e-9), opts.min_step * 2)
                    continue
                event_hit = events[i_ev].name
            g_prev = g_new
        # accept
        res.n_steps += 1
        h_prev = h
        t = t_new
        u = y
        hist_t.append(t)
        hist_u.append(y)
        if len(hist_u) > 3:
            hist_t.pop(0)
            hist_u.pop(0)
        while out_times and out_times[0] <= t * (1 + 1e-12):
            res.t.append(out_times.pop(0))
            res.u.append(_interpolate(hist_t, hist_u, res.t[-1]))
        if progress is not None:
            progress(t)
        if watch is not None:
            watch(t, y)
        if trace is not None:
            now = _surface_values(table, y[:n], trace)
            res.trace = np.array([np.minimum(res.trace[0], now), np.maximum(res.trace[1], now)])
        if event_hit is not None:
            break
        h_next = max(h_next if h < h_next else 0.0, h * min(3.0, max(0.2, 0.9 * max(err, 1e-10) ** (-1.0 / order))))
    res.t_end = t
    res.u_end = u
    res.event = event_hit
    return res
