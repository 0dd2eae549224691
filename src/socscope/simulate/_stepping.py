"""Running a protocol step by step: integration, voltage limits, voltage extremes, saturation.

:class:`ProtocolStepping` is a mixin of :class:`~socscope.simulate.particle.ParticleModel`: it runs
the items of a parsed protocol (steps and GITT/PITT trains) from a run state, integrates each
step's segment to its duration or first condition (delayed voltage limits in two stretches), keeps
the step's voltage extremes over every accepted solver step, and turns a surface that saturates
under current into a met cut-off or a one-line error. It uses the model's segments, events
(:class:`~socscope.simulate._conditions.StepConditions`) and ``_record``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from ..errors import ProtocolError, SolverError, StepWarning
from ..numerics import SegmentResult, integrate_segment
from ..observe import weighted_mean
from ..physics import F
from ..protocols import Condition, Step, Train
from ._records import (
    _add_to_reason,
    _check_sample_count,
    _RunState,
    _sample_limit,
    _StepPlan,
    _train_capacity_reason,
)



class ProtocolStepping:
    """Protocol stepping (a mixin of :class:`~socscope.simulate.particle.ParticleModel`)."""

    def _run_items(self, items, st: _RunState, opts, out, progress) -> None:
        """Run the parsed protocol (steps and trains) from the run state ``st``."""
        for j, item in enumerate(items):
            cb = (lambda tt, j=j: progress(tt, j, len(items))) if progress is not None else None
            if isinstance(item, Train):
                self._run_train(item, st, opts, out, cb)
            else:
                self._run_step(item, st, opts, out, cb)

    def _rest_voltage(self, theta: np.ndarray) -> float:
        """Open-circuit potential of the surface of a state at rest [V] (NaN without kinetics)."""
        if self.kinetics != "butler-volmer":
            return math.nan
        th_s = self.surface_theta(theta, 0.0) @ (self.grid.boundary_area / self.grid.boundary_area.sum())
        return float(self.material.U(th_s))

    def _run_train(self, train, st, opts, out, cb) -> None:
        """A GITT or PITT train: pulses (or potential steps) and rests until the train's condition."""
        q0 = st.charge
        passed = lambda: abs(st.charge - q0) / self.mass  # C/kg passed by the train so far
        if train.kind == "pitt":
            self._need_kinetics(f"{train.sentence!r}: a PITT")
            # the levels step from the open-circuit voltage of the present state, as
            # after a rest; after a current step the voltage under load is not an
            # equilibrium to step from
            start = self._rest_voltage(st.theta)
            levels = train.pitt_levels(start)
            own = {c.label for c in train.pulse.until}  # a hold's own ends; any other ends the train
            for k in range(len(levels)):
                reason = self._run_step(train.pulse_step(k, start_voltage=start, passed=passed()), st, opts, out, cb,
                                        in_train=True)
                if reason is not None and reason not in own:
                    _train_capacity_reason(train, st)
                    return
                rest = train.rest_step(k)
                if rest is not None:
                    self._run_step(rest, st, opts, out, cb)
            if levels[-1] != train.end_voltage:  # the levels stopped short of the end voltage at the cap
                _add_to_reason(st, f"train: max {train.max_pulses} steps reached at {levels[-1]:.6g} V")
            return
        for k in range(train.max_pulses):
            reason = self._run_step(train.pulse_step(k, passed=passed()), st, opts, out, cb, in_train=True)
            if reason is not None:
                _train_capacity_reason(train, st)  # the train's condition (or the pulse's own) was met
                return
            rest = train.rest_step(k)
            if rest is not None:
                self._run_step(rest, st, opts, out, cb)
        _add_to_reason(st, f"train: max {train.max_pulses} pulses reached")

    def _run_step(self, step: Step, st: _RunState, opts, out, cb, *, in_train: bool = False) -> str | None:
        """Integrate one step from the run state; returns the condition that ended it (None: duration).

        ``in_train``: a pulse of a GITT/PITT train, where a cut-off met at once
        is the train's normal end and goes without a warning.
        """
        plan = self._plan(step)
        k = len(st.plans)
        st.plans.append(plan)
        self._v_extremes = [math.inf, -math.inf]  # lowest and highest voltage the solver's steps reached
        if k == 0:
            # the first sample (the start, no interval before it) carries the first step's current in
            # ``current``; its state is the rested start (open-circuit voltage), so ``current_instant`` stays 0
            st.currents[0] = plan.current if plan.control == "current" else 0.0
        theta, t, charge0 = st.theta, st.t, st.charge
        n = self.grid.n_cells
        seg, z0, cpl = self._segment(plan, theta, st.p)
        if cpl is not None and cpl.solve_p:
            z0[n:] = cpl.solve_potential(theta)
        # conditions on the voltage are judged against the open-circuit voltage of
        # the present state, not the last voltage under load (after "Charge ...
        # until 4.3 V" that is 4.3 V, and a step-down "Charge at C/10 until 4.3 V"
        # must still run)
        p_oc = self._rest_voltage(theta)
        met = self._cutoff_under_load(plan, theta, z0, cpl, p_oc)
        t_charge = t
        if met is not None:
            cut, v_load = met
            if not in_train:
                one_c = self.basis * self.mass / 3600.0
                warnings.warn(
                    f"step {step.sentence!r} ended at once: the voltage needed to pass its current, "
                    f"{abs(plan.current):.3g} A ({abs(plan.current) / one_c:.4g}C; 1C = {one_c:.3g} A at "
                    f"{self.basis / 3600.0:g} mAh/g), {v_load:.3f} V, is already beyond its cut-off {cut.value} V "
                    f"(the open-circuit voltage is {p_oc:.3f} V; the difference is {self.LOAD_DROP}); no charge "
                    f"passed. {self._remedy()}", StepWarning, stacklevel=4)
            # one sample, the solver's smallest step after the start (times stay
            # increasing), with the voltage under load and no charge passed
            res = SegmentResult(t=[], u=[], t_end=t + opts.min_step, u_end=z0, event=cut.label)
            t_charge = res.t_end
        elif any(c.after > 0.0 for c in step.until):
            res = self._integrate_delayed(step, plan, k, seg, z0, cpl, theta, t, p_oc, opts, out, cb)
        else:
            res = self._integrate_step(step, plan, k, seg, z0, cpl, theta, t, p_oc, opts, out, cb)
        li0 = self.lithium(theta)
        keep = [j for j, tt in enumerate(res.t) if tt < res.t_end - 1e-9 * max(1.0, tt)]
        self._record(st, plan, k, [res.t[j] for j in keep] + [res.t_end], [res.u[j] for j in keep] + [res.u_end],
                     cpl, t_charge, charge0, li0)
        st.t = res.t_end
        st.theta = res.u_end[:n].copy()
        st.charge = st.charges[-1]
        st.p = st.voltages[-1]
        v_step = np.asarray(st.voltages[-len(keep) - 1:], dtype=float)  # this step's recorded samples
        lo = min([self._v_extremes[0], *v_step[np.isfinite(v_step)]], default=math.nan)
        hi = max([self._v_extremes[1], *v_step[np.isfinite(v_step)]], default=math.nan)
        st.events.append((k, step.sentence, res.t_end, res.event or "duration", res.n_steps, res.n_rejected,
                          res.n_newton, lo if np.isfinite(lo) else math.nan, hi if np.isfinite(hi) else math.nan))
        return res.event

    #: what separates the voltage under load from the open-circuit voltage (for messages)
    LOAD_DROP = "the kinetic overpotential"

    def _remedy(self) -> str:
        """What to change when a current cannot pass within the cut-off."""
        return "Lower the current or move the cut-off."

    def _cutoff_under_load(self, plan, theta, z0, cpl, p_rest) -> tuple[Condition, float] | None:
        """The voltage cut-off a current step passes the moment its current flows: ``(condition, voltage)``.

        The current needs an overpotential (in an electrode also a drop through
        the network). When that alone carries the voltage past a cut-off the
        open-circuit voltage has not reached, the step ends at once with no
        charge passed, as it does on a cycler. None otherwise (a cut-off
        already passed at open circuit is a contradictory protocol, refused
        with the step's other conditions).
        """
        if plan.control != "current" or plan.current == 0 or self.kinetics != "butler-volmer":
            return None
        cuts = [c for c in plan.step.until if c.quantity == "voltage" and c.after == 0.0]
        if not cuts:
            return None
        n = self.grid.n_cells
        if cpl is not None:
            v = float(z0[n])
        else:
            # the surface reconstruction under a current the surface cannot carry
            # leaves [0, 1]; the voltage is then at least that of the emptied
            # (filled) surface
            th_s = np.clip(self.surface_theta(theta, plan.current)[:1], 1e-9, 1.0 - 1e-9)
            v = float(self.voltage_at_surface(th_s, plan.current)[0])
        s = np.sign(plan.current)
        for c in cuts:
            if (v - c.value) * s >= 0 and (p_rest - c.value) * s < 0:
                return c, v
        return None

    def _integrate_step(self, step, plan, k, seg, z0, cpl, theta, t, p0, opts, out, cb) -> SegmentResult:
        """Integrate one step's segment from time ``t`` to its duration or first condition."""
        n = self.grid.n_cells
        evs = self._events(plan, theta, cpl, p0)
        vol = self.grid.volumes
        # time for the step's current to pass the Li of every site
        t_full = F * self.n_l * vol.sum() / abs(plan.current) if plan.current != 0 else math.inf
        duration = step.duration if step.duration is not None else math.inf
        if not math.isfinite(duration) and plan.current != 0:
            # a galvanostatic step cannot run past full (de)lithiation
            mean = weighted_mean(theta, vol)
            duration = (mean if plan.current > 0 else 1 - mean) * t_full
        elif not math.isfinite(duration):
            # a hold or rest ended only by a condition: by 20 diffusion
            # times of the slowest occupancy the particle has settled
            # (capped at 3 years for flux laws whose D_eff vanishes at an end)
            duration = min(20.0 * self.relaxation_time(), 1e8)
        t_end = t + duration
        interval, times = out
        if times is not None:
            outs = [x for x in times if t < x <= t_end]
        elif interval is not None:
            # a galvanostatic step ends by the time it has passed all the Li
            # there is (it stops at a cut-off or fails before), so no sample
            # is planned beyond that, however long the step's stated duration
            horizon = min(t_end, t + 1.01 * t_full)
            first = math.floor(t / interval + 1e-9) + 1
            last = math.floor(horizon / interval - 1e-9)
            if step.duration is None and plan.current == 0:
                # a hold or rest ended only by its condition: the horizon above is a
                # bound (20 relaxation times), not when it ends, which is usually far
                # sooner; plan at most the samples a step may hold rather than refuse
                last = min(last, first - 1 + _sample_limit(n))
            _check_sample_count(step, last - first + 1, interval, n)
            outs = list(np.arange(first, last + 1) * interval)
        else:
            outs = []
        watch, trace = self._voltage_tracking(plan, cpl)
        if watch is not None:
            watch(t, z0)  # the step's first instant: the voltage under load as the step's forcing switches on
        try:
            res = integrate_segment(seg, vol, self.table, z0, t, t_end, output_times=outs, events=evs,
                                    options=opts, progress=cb, watch=watch, trace=trace)
        except SolverError as exc:
            if cpl is not None and cpl.saturated():
                res = self._runaway_to_cutoff(step, plan, exc, n)
                if res is None:
                    raise ProtocolError(self._saturation_message(step, plan)) from None
            else:
                last = getattr(exc, "state", None)
                res = None
                if plan.control == "current" and plan.current != 0 and last is not None:
                    th_s = self.surface_theta(last[:n], plan.current)
                    if np.any(th_s <= 1e-3) or np.any(th_s >= 1.0 - 1e-3):
                        # a surface within 1e-3 of saturation where the OCP itself runs
                        # away (a measured curve's last mV-per-ppm points): a cut-off in
                        # the direction of the runaway is met there, as when the surface
                        # pins (a step with no such cut-off cannot go on)
                        res = self._runaway_to_cutoff(step, plan, exc, n) if cpl is not None else None
                        if res is None:
                            raise ProtocolError(self._saturation_message(step, plan)) from None
                if res is None:
                    raise SolverError(f"step {k + 1} ({step.sentence!r}) failed: {exc}") from None
        if self.kinetics == "butler-volmer" and cpl is None and plan.control == "current" and plan.current != 0:
            # radial grids: the imposed flux cannot push the surface past θ = 0 or 1
            th_s = self.surface_theta(res.u_end, plan.current)
            if np.any(th_s <= 0.0) or np.any(th_s >= 1.0):
                raise ProtocolError(self._saturation_message(step, plan))
        if res.trace is not None:
            self._widen_voltage_extremes(plan, res.trace)
        if step.until and res.event is None and step.duration is None:
            if plan.current != 0:
                why = f"before the particle was fully {'delithiated' if plan.current > 0 else 'lithiated'}"
            else:
                why = f"within {duration / 3600:.3g} h, by which time the particle has settled; add 'for <duration>'"
            raise ProtocolError(f"step {step.sentence!r}: its condition was never met {why}")
        return res

    def _voltage_tracking(self, plan: _StepPlan, cpl):
        """``(watch, trace)`` for :func:`integrate_segment` that keep the step's voltage extremes.

        Every accepted solver step counts, so a spike between output samples is
        not lost. Where the voltage is an unknown of the coupled solve, a watch
        reads it. On a radial grid it is a function of the surface θ at a
        constant current (of the surface cell's θ in a surface-θ hold), and the
        compiled integrator traces that quantity's range (see
        :meth:`_widen_voltage_extremes`). A surface-θ hold on a 2D grid, which
        runs the interpreted integrator anyway, watches its voltage directly.
        A held voltage needs neither.
        """
        if self.kinetics != "butler-volmer" or plan.held_voltage is not None or plan.control == "voltage":
            return None, None
        n = self.grid.n_cells
        ext = self._v_extremes
        if cpl is not None:
            def watch(_t, z):
                v = float(z[n])
                ext[0], ext[1] = min(ext[0], v), max(ext[1], v)
            return watch, None
        if plan.control == "current":
            qd = plan.current * self.flux_per_amp * self.surface_depth
            return None, (self.surface_cells, self.surface_weights, qd)
        if self.grid.kind == "radial":  # a surface-θ hold: the current follows the one surface cell
            cells = self.grid.boundary_cell
            return None, ((cells, cells), (np.ones(cells.size), np.zeros(cells.size)), np.zeros(cells.size))
        def watch_hold(_t, z):
            v = float(self.voltage_at_surface(np.asarray(plan.hold, dtype=float), self.hold_current(z[:n], plan.hold)))
            ext[0], ext[1] = min(ext[0], v), max(ext[1], v)
        return watch_hold, None

    #: points on which the voltage is evaluated over a traced θ range before the
    #: extremes are refined (see _widen_voltage_extremes)
    TRACE_POINTS = 257

    def _widen_voltage_extremes(self, plan: _StepPlan, trace: np.ndarray) -> None:
        """Widen the step's voltage extremes to a traced range (see :meth:`_voltage_tracking`).

        Under a constant current the voltage is ``v(θ_s)`` for one function
        ``v`` and the surface θ moves continuously, so over the step the voltage
        takes every value of ``v`` on the traced interval ``[θ_lo, θ_hi]``: its
        extremes are those of ``v`` there, found on :attr:`TRACE_POINTS` points
        and refined by a bounded scalar search around the best one (an interior
        extremum of a smooth ``v`` is then located to ~1e-12 in θ). In a
        surface-θ hold on a radial grid the current grows with the surface
        cell's θ and the voltage with the current, so the extremes lie at the
        traced ends.
        """
        lo_t, hi_t = float(np.min(trace[0])), float(np.max(trace[1]))
        if not (np.isfinite(lo_t) and np.isfinite(hi_t)):
            return
        if plan.control == "theta":
            cell = self.grid.boundary_cell
            ends = np.array([lo_t, hi_t])
            kb, _ = self.table.evaluate(np.asarray(plan.hold))
            k_end, _ = self.table.evaluate(ends)
            current = F * self.n_l * self.hold_conductance[cell].sum() * (k_end - kb)
            v = self.voltage_at_surface(np.full(2, plan.hold), current)
            lo_v, hi_v = float(v.min()), float(v.max())
        else:
            lo_v, hi_v = _extremes_on(lambda th: self.voltage_at_surface(th, plan.current), lo_t, hi_t,
                                      self.TRACE_POINTS)
        ext = self._v_extremes
        ext[0], ext[1] = min(ext[0], lo_v), max(ext[1], hi_v)

    def _integrate_delayed(self, step, plan, k, seg, z0, cpl, theta, t, p0, opts, out, cb) -> SegmentResult:
        """A step whose voltage limits wait (``"until 4.3 V after 30 minutes"``): two stretches, one result.

        Up to the shortest delay the step runs with its other conditions only;
        from there with all of them, the waiting limits judged from the
        voltage under load at that moment: one already passed ends the step
        there, any other ends it at its first crossing (an event located like
        every other). Limits with different delays start at the longest one.
        """
        n = self.grid.n_cells
        delay = max(c.after for c in step.until)
        now = tuple(c for c in step.until if c.after == 0.0)
        total = step.duration if step.duration is not None else math.inf
        first = replace(step, until=now, duration=min(delay, total))
        res1 = self._integrate_step(first, replace(plan, step=first), k, seg, z0, cpl, theta, t, p0, opts, out, cb)
        if res1.event is not None or delay >= total:
            return res1
        z1 = np.asarray(res1.u_end, dtype=float)
        th1 = z1[:n]
        if cpl is not None:
            v1 = float(z1[n])
        elif self.kinetics == "butler-volmer":
            v1 = float(self.voltage_at_surface(self.surface_theta(th1, plan.current)[:1], plan.current)[0])
        else:
            v1 = math.nan
        s = np.sign(plan.current)
        res2 = None
        for c in step.until:
            if c.quantity == "voltage" and c.after > 0.0 and s != 0 and (v1 - c.value) * s >= 0.0:
                res2 = SegmentResult(t=[], u=[], t_end=res1.t_end, u_end=z1, event=c.label)
                break
        if res2 is None:
            rest = replace(step, until=tuple(replace(c, after=0.0) for c in step.until),
                           duration=None if step.duration is None else total - (res1.t_end - t))
            p_start = v1 if plan.control == "current" and plan.current != 0 else p0
            res2 = self._integrate_step(rest, replace(plan, step=rest), k, seg, z1.copy(), cpl, th1, res1.t_end,
                                        p_start, opts, out, cb)
        return SegmentResult(t=list(res1.t) + list(res2.t), u=list(res1.u) + list(res2.u), t_end=res2.t_end,
                             u_end=res2.u_end, event=res2.event, n_steps=res1.n_steps + res2.n_steps,
                             n_rejected=res1.n_rejected + res2.n_rejected, n_newton=res1.n_newton + res2.n_newton)

    @staticmethod
    def _runaway_to_cutoff(step, plan, exc, n):
        """The segment up to a surface saturation that carries the voltage through the step's cut-off.

        When a surface under current saturates, the overpotential — and the
        voltage — runs away within less than the solver's smallest step; a
        voltage cut-off lying in the direction of the runaway is then met at
        that moment (the step ends there, with the last voltage the solver
        resolved). Returns None when the step has no such cut-off.
        """
        partial = getattr(exc, "partial", None)
        if partial is None or plan.control != "current" or plan.current == 0:
            return None
        v_last = float(partial.u_end[n])
        for cond in step.until:
            if cond.quantity == "voltage" and np.sign(cond.value - v_last) == np.sign(plan.current):
                partial.event = f"voltage={cond.value}"
                return partial
        return None

    def _saturation_message(self, step, plan) -> str:
        full = "delithiated" if plan.current > 0 else "lithiated"
        head = step.sentence.split(" for ")[0].split(" until ")[0]
        why = (f"step {step.sentence!r}: the particle surface became fully {full} and cannot pass this current "
               f"(diffusion cannot bring Li {'out' if plan.current > 0 else 'in'} fast enough)")
        if self.kinetics == "butler-volmer":
            cut = "4.3" if plan.current > 0 else "3.0"
            return f"{why}, so the voltage runs away; end the step with a voltage cut-off, e.g. '{head} until {cut} V', " \
                   "or lower the current"
        cut = "0.01" if plan.current > 0 else "0.99"
        return f"{why}; end the step with a surface condition, e.g. '{head} until surface theta {cut}', or lower " \
               "the current"



def _extremes_on(fn: Callable[[np.ndarray], np.ndarray], a: float, b: float, points: int) -> tuple[float, float]:
    """Lowest and highest value of a smooth vectorised ``fn`` on ``[a, b]``.

    ``fn`` is evaluated on ``points`` equally spaced points; an extremum at an
    interior point is refined by a bounded scalar search between its two
    neighbours (an extremum of a smooth function lies in that bracket).
    """
    if b <= a:
        v = float(np.asarray(fn(np.array([a])))[0])
        return v, v
    x = np.linspace(a, b, points)
    y = np.asarray(fn(x), dtype=float)
    out = []
    for sign, i in ((1.0, int(np.nanargmin(y))), (-1.0, int(np.nanargmax(y)))):
        best = float(y[i])
        if 0 < i < points - 1:
            r = minimize_scalar(lambda s: sign * float(np.asarray(fn(np.array([s])))[0]), bounds=(x[i - 1], x[i + 1]),
                                method="bounded", options={"xatol": 1e-12 * max(1.0, abs(x[i]))})
            if r.success and np.isfinite(r.fun):
                best = min(best, r.fun) if sign > 0 else max(best, -r.fun)
        out.append(best)
    return out[0], out[1]
