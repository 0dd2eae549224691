"""The conditions of a protocol step as solver events, and the plan of each step.

:class:`StepConditions` is a mixin of :class:`~socscope.simulate.particle.ParticleModel`: it turns a
step's sentence (its current or hold, its ``until`` conditions) into a :class:`_StepPlan` and the
terminal :class:`~socscope.numerics.Event` objects the integrator locates, and refuses conditions
that cannot be met. It uses the model's grid, material, kinetics and state functions
(``surface_theta``, ``voltage_at_surface``, ``hold_current``, ``step_current``).
"""

from __future__ import annotations


import numpy as np
from scipy.optimize import brentq

from ..errors import ProtocolError
from ..numerics import Event
from ..physics import F
from ..protocols import Step
from ._records import _StepPlan



class StepConditions:
    """Protocol conditions as events (a mixin of :class:`~socscope.simulate.particle.ParticleModel`)."""

    def _ocp_range(self) -> tuple[float, float]:
        """Lowest and highest open-circuit potential the material reaches on θ ∈ [1e-6, 1 − 1e-6] [V].

        Computed once per model (every pulse of a titration train checks its voltages).
        """
        if self._ocp_bounds is None:
            u = self.material.U(np.linspace(1e-6, 1 - 1e-6, 4001))
            self._ocp_bounds = (float(u.min()), float(u.max()))
        return self._ocp_bounds

    #: How far beyond the open-circuit range a cut-off under current may lie
    #: [V]: as a surface saturates, i0 → 0 and the overpotential grows
    #: without bound, so a discharge of NMC532 (U ≥ 2.82 V) does reach the
    #: customary 2.5 V cut-off; a cut-off further out than this is taken for
    #: a typing error.
    CUTOFF_MARGIN_V = 0.5
    #: How far from θ = 1 (or 0) the surface is held during a voltage hold beyond
    #: the OCP's range (the surface saturates; see :meth:`_plan`)
    PINNED_SURFACE = 1e-6

    def _rest_voltage_event(self, step: Step, target: float, theta0: np.ndarray, theta_s: float) -> Event:
        """A radial particle at rest reaching ``target`` volts: its surface relaxes towards its mean θ.

        At zero current the voltage is U(θ_s), and θ_s moves monotonically from
        its present value towards the mean (up after a charge, down after a
        discharge), so the target is a surface θ between the two.
        """
        mean = float(theta0 @ self.grid.volumes / self.grid.volumes.sum())
        v_now, v_end = (float(v) for v in self.material.U(np.array([theta_s, mean])))
        if not min(v_now, v_end) < target < max(v_now, v_end):
            raise ProtocolError(
                f"step {step.sentence!r}: at rest the voltage relaxes from {v_now:.4g} V towards {v_end:.4g} V "
                f"(the open-circuit voltage of the mean θ) and never reaches {target:g} V; choose a voltage "
                "between the two, or end the rest by time"
            )
        target_s = float(brentq(lambda x: float(self.material.U(np.array([x]))[0]) - target,
                                min(theta_s, mean), max(theta_s, mean), xtol=1e-14))
        rising = mean > theta_s
        pick = np.max if rising else np.min
        fn = lambda th, t_s=target_s, pick=pick: float(pick(self.surface_theta(th, 0.0)) - t_s)
        spec = (2 if rising else 1, target_s, self.surface_cells, self.surface_weights, np.zeros_like(self.surface_depth))
        return Event(f"voltage={target}", fn, spec, initial=theta_s - target_s)

    def _check_voltage(self, step: Step, value: float, what: str, margin: float = 0.0) -> None:
        lo, hi = self._ocp_range()
        # the usual 4.3 / 3.0 V where the material reaches them, else just inside the bound passed
        usual, near = (4.3, hi - 0.05) if value > hi else (3.0, lo + 0.05)
        inside = usual if lo + 0.05 <= usual <= hi - 0.05 else near
        example = (f"Hold at {inside:.2f} V for 1 hour" if step.kind == "hold_voltage" else
                   f"{'Charge' if value > hi else 'Discharge'} at C/3 until {inside:.2f} V")
        if not (lo - margin < value < hi + margin):
            beyond = f" (or at most {margin:g} V beyond it, for a cut-off under current)" if margin else ""
            raise ProtocolError(
                f"step {step.sentence!r}: {what} {value:g} V is outside the open-circuit potential range of "
                f"{self.material.name} ({lo:.3f}–{hi:.3f} V over 0 < θ < 1){beyond}, so {self._SUBJECT} can never "
                f"reach it; choose a voltage inside that range, e.g. {example!r}"
            )

    def _theta_for_voltage(self, target: float, current: float, theta_s: float) -> float:
        """Surface θ at which a uniform-current step reaches ``target`` volts (radial grids).

        Scans from the present surface θ in the direction the step moves it
        (down on charge, up on discharge) for the first crossing and refines
        it with Brent's method. A target beyond the voltage of the emptied
        (filled) surface (one within :attr:`CUTOFF_MARGIN_V` of the OCP range)
        is met where the surface saturates: the current can no longer pass and
        the voltage runs away through the cut-off, as on a cycler and as in 2D
        particles and electrodes.
        """
        grid_th = (np.linspace(theta_s, 1e-6, 4001) if current > 0 else np.linspace(theta_s, 1 - 1e-6, 4001))
        v = self.voltage_at_surface(grid_th, current) - target
        cross = np.nonzero(np.sign(v[1:]) != np.sign(v[:-1]))[0]
        if cross.size == 0:
            return float(grid_th[-1])
        j = int(cross[0])
        return float(brentq(lambda x: float(self.voltage_at_surface(np.array([x]), current)[0]) - target,
                            grid_th[j], grid_th[j + 1], xtol=1e-14))

    def _events(self, plan: _StepPlan, theta0: np.ndarray, cpl, p0: float) -> list[Event]:
        """Terminal events of a step; with a coupling they act on ``z = [θ, φ]``."""
        events = []
        n = self.grid.n_cells
        vol = self.grid.volumes
        step = plan.step
        for cond in step.until:
            q, target, spec = cond.quantity, cond.value, None
            if q == "specific_capacity":
                # charge passed in this step per mass, as a change of the mean θ
                dtheta = target * self.mass / (F * self.n_l * vol.sum())
                if plan.control == "current":
                    q, target = "theta_mean", float(theta0 @ vol / vol.sum()) - np.sign(plan.current) * dtheta
                    if not 0.0 < target < 1.0:
                        raise ProtocolError(
                            f"step {step.sentence!r}: {cond.value / 3600:g} mAh/g is more than the particle holds "
                            f"in that direction (the mean θ would reach {target:.3g})"
                        )
                else:
                    li0 = float(theta0 @ vol)
                    fn = lambda th, li0=li0, dtheta=dtheta: float(abs(th @ vol - li0) / vol.sum() - dtheta)
                    events.append(self._event(cond, fn, None, -dtheta, cpl))
                    continue
            if q == "theta_mean":
                fn = lambda th, target=target: float(th @ vol / vol.sum() - target)
                spec = (0, target)
                g0 = fn(theta0)
                direction = np.sign(plan.current) if plan.control == "current" else 0
            elif q == "theta_surface":
                if plan.control == "theta":
                    raise ProtocolError(f"step {step.sentence!r}: the surface θ is held; end it by time or mean θ")
                if cpl is not None:
                    down = plan.current > 0 or (plan.control == "voltage" and plan.hold > p0)
                    pick = np.min if down else np.max
                    g0 = float(pick(self.surface_theta(theta0, 0.0)) - target)
                    zfn = lambda z, target=target, pick=pick, cpl=cpl: float(pick(cpl.state(z[:n], z[n])[0]) - target)
                    ev = Event(cond.label, zfn, None, initial=g0)
                    events.append(self._check_start(step, cond, ev, g0, 1 if down else -1))
                    continue
                else:
                    pick = np.min if plan.current > 0 else np.max
                    fn = lambda th, target=target, pick=pick: float(pick(self.surface_theta(th, plan.current)) - target)
                    qd = plan.current * self.flux_per_amp * self.surface_depth
                    spec = (1 if plan.current > 0 else 2, target, self.surface_cells, self.surface_weights, qd)
                    g0 = float(pick(self.surface_theta(theta0, 0.0)) - target)
                    direction = np.sign(plan.current)
            elif q == "voltage":
                self._need_kinetics(f"step {step.sentence!r}: a voltage condition")
                self._check_voltage(step, target, "the cut-off",
                                    self.CUTOFF_MARGIN_V if plan.control == "current" and plan.current != 0 else 0.0)
                if cpl is not None:
                    g0 = p0 - target
                    direction = -np.sign(plan.current)
                    events.append(self._check_start(step, cond, Event(
                        f"voltage={target}", lambda z, target=target: float(z[n] - target), None, initial=g0), g0, direction))
                    continue
                # radial: the voltage is a function of the surface θ at this current
                th_s0 = float(self.surface_theta(theta0, plan.current)[0])
                if plan.current == 0:
                    events.append(self._rest_voltage_event(step, target, theta0, th_s0))
                    continue
                if np.sign(target - p0) != np.sign(plan.current):
                    raise ProtocolError(
                        f"step {step.sentence!r}: the condition '{cond.value:g} V' is already met at the start of "
                        f"the step (open-circuit voltage = {p0:.4g} V); a charge raises the voltage and a discharge "
                        "lowers it"
                    )
                target_s = self._theta_for_voltage(target, plan.current, th_s0)
                pick = np.min if plan.current > 0 else np.max
                fn = lambda th, t_s=target_s, pick=pick: float(pick(self.surface_theta(th, plan.current)) - t_s)
                qd = plan.current * self.flux_per_amp * self.surface_depth
                spec = (1 if plan.current > 0 else 2, target_s, self.surface_cells, self.surface_weights, qd)
                g0 = float(pick(self.surface_theta(theta0, 0.0)) - target_s)
                events.append(Event(f"voltage={target}", fn, spec, initial=g0))
                continue
            elif q in ("current", "specific_current", "c_rate"):
                cut = abs(self._current_value(q, target))
                # |I| / cut − 1: relative to the cut-off, so that the event tolerance (1e-7) locates the
                # crossing whatever the current's scale (a particle passes ~1e-13 A, far below any
                # absolute tolerance)
                if plan.control == "theta":
                    fn = lambda th, cut=cut, hold=plan.hold: float(abs(self.hold_current(th, hold)) / cut - 1.0)
                else:
                    fn = lambda th, cut=cut, cpl=cpl: float(abs(cpl.total_current(th, cpl.voltage)) / cut - 1.0)
                # a hold starts with its largest current, above any cut-off
                events.append(self._event(cond, fn, None, 1.0, cpl))
                continue
            else:  # pragma: no cover - the parser admits no other quantity
                raise ProtocolError(f"step {step.sentence!r}: unknown condition {q!r}")
            events.append(self._check_start(step, cond, self._event(cond, fn, spec, g0, cpl), g0, direction))
        return events

    def _event(self, cond, fn, spec, g0, cpl) -> Event:
        name = cond.label
        if cpl is None:
            return Event(name, fn, spec, initial=g0)
        n = self.grid.n_cells
        return Event(name, lambda z, fn=fn: fn(z[:n]), None, initial=g0)

    @staticmethod
    def _check_start(step, cond, event, g0, direction):
        """Refuse a condition that holds already or lies behind the step's direction."""
        if g0 == 0.0 or (direction != 0 and np.sign(g0) != direction):
            raise ProtocolError(
                f"step {step.sentence!r}: the condition '{cond.quantity} {cond.value:g}' is already met at the "
                f"start of the step ({cond.quantity} = {g0 + cond.value:.6g}); a charge lowers θ and raises the "
                "voltage, a discharge does the opposite"
            )
        return event

    def _current_value(self, quantity: str, value: float) -> float:
        """A current-type condition in amperes."""
        if quantity == "c_rate":
            return value * self.basis * self.mass / 3600.0
        if quantity == "specific_current":
            return value * self.mass * 1000.0
        return value

    def _plan(self, step: Step) -> _StepPlan:
        if step.kind in ("charge", "discharge"):
            return _StepPlan(step, self.step_current(step), None, "current")
        if step.kind == "rest":
            return _StepPlan(step, 0.0, None, "current")
        if step.kind == "hold_theta":
            return _StepPlan(step, 0.0, step.hold_value, "theta")
        if step.kind == "hold_voltage":
            self._need_kinetics(f"step {step.sentence!r}: a voltage hold")
            # the same bound as a cut-off under current: a voltage a current step may
            # end at can be held
            self._check_voltage(step, step.hold_value, "the held voltage", self.CUTOFF_MARGIN_V)
            lo, hi = self._ocp_range()
            v = float(step.hold_value)
            if not lo < v < hi:
                # beyond the OCP's range the overpotential has one sign at every surface
                # occupancy, so the surface runs to its limit (i0 -> 0 there) and the
                # current is what diffusion carries away from a saturated surface: the
                # hold runs as the surface pinned at 1e-6 from its end
                pinned = 1.0 - self.PINNED_SURFACE if v <= lo else self.PINNED_SURFACE
                return _StepPlan(step, 0.0, pinned, "theta", held_voltage=v)
            return _StepPlan(step, 0.0, v, "voltage")
        raise ProtocolError(f"step {step.sentence!r}: unknown step kind {step.kind!r}")  # pragma: no cover
