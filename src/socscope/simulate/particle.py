"""Single-particle (and batched-particle) transport simulations.

:func:`simulate_particle` runs a protocol of galvanostatic steps, rests and
surface-θ holds on one particle and returns an :class:`xarray.Dataset`.

The model (SPEC §2): ``N_L ∂θ/∂t = −∇·J`` with the chosen flux law, the
particle's current shared over its active surface by a flux layout, and
the C-rate taken on the capacity of the discretised particle (so that
``C/3`` changes the mean occupancy at exactly the rate it promises).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import xarray as xr

from .. import __version__
from ..errors import ParameterError, ProtocolError, SolverError
from ..geometry import Disc, Sphere
from ..numerics import (
    stack_grids,
    Event,
    KirchhoffTable,
    Segment,
    SolverOptions,
    integrate_segment,
    laplacian_matrix,
    make_operator,
)
from ..observe import front_depth, periphery_minus_core, weighted_mean, weighted_std
from ..physics import FLUX_LAWS, F, UniformFlux, effective_diffusivity
from ..protocols import Step, parse_protocol

__all__ = ["simulate_particle", "simulate_particles", "ParticleModel", "ParticleBatch"]

_SUPPORTED = ("charge", "discharge", "rest", "hold_theta")


@dataclass(frozen=True)
class _StepPlan:
    step: Step
    current: float  # [A], positive = charge (Li removed)
    hold: float | None


class ParticleModel:
    """A particle discretised and ready to run protocols.

    Parameters
    ----------
    material : socscope.materials.Material
    geometry : Sphere, Disc, Ellipse, Polygon or Mask
    resolution : float, optional
        Cell size [m]. Default: R/100 for spheres, size/50 for analytic 2D
        shapes, one cell per pixel for masks.
    n_cells : int, optional
        Number of radial shells (spheres only), instead of ``resolution``.
    flux : {"chemical", "thermodynamic"}
        Flux law (SPEC §2).
    surface : UniformFlux or BlockedArc
        How the current is shared over the surface.
    c_rate_basis_mAh_g : float, optional
        Capacity that defines 1C [mAh/g]; default the material's practical
        capacity.
    mesh_method : {"polar", "cartesian"}, optional
        Disc grids only: boundary-fitted polar cells (default, second order)
        or square cells.
    """

    def __init__(
        self,
        material,
        geometry,
        *,
        resolution: float | None = None,
        n_cells: int | None = None,
        flux: str = "chemical",
        surface=None,
        c_rate_basis_mAh_g: float | None = None,
        mesh_method: str | None = None,
    ):
        if flux not in FLUX_LAWS:
            raise ParameterError(f"flux = {flux!r} is not a flux law; use one of {FLUX_LAWS}")
        if not hasattr(geometry, "mesh"):
            raise ParameterError(
                f"geometry must be a socscope.geometry shape (Sphere, Disc, Ellipse, Polygon, Mask), got {geometry!r}"
            )
        self.material = material
        self.geometry = geometry
        self.flux = flux
        self.surface = surface if surface is not None else UniformFlux()
        if isinstance(geometry, Sphere):
            if n_cells is None and resolution is None:
                n_cells = 100
            grid = geometry.mesh(resolution, n_cells=n_cells)
            if not isinstance(self.surface, UniformFlux):
                raise ParameterError("a sphere is solved radially: only UniformFlux applies (use a 2D shape for blocked arcs)")
        else:
            if n_cells is not None:
                raise ParameterError("n_cells applies to spheres; give resolution= (cell size in m) for 2D shapes")
            if resolution is None and not hasattr(geometry, "pixel_size"):
                resolution = geometry.size / 50
            if mesh_method is None:
                grid = geometry.mesh(resolution)  # a Mask defaults to one cell per pixel
            elif isinstance(geometry, Disc):
                grid = geometry.mesh(resolution, method=mesh_method)
            else:
                raise ParameterError(
                    f"mesh_method={mesh_method!r} applies to Disc only ('polar' or 'cartesian'); "
                    f"{type(geometry).__name__} has one mesh"
                )
        self._setup(grid, np.array([0, grid.n_cells]), c_rate_basis_mAh_g)

    def _setup(self, grid, offsets: np.ndarray, c_rate_basis_mAh_g) -> None:
        """Everything that follows from the grid; ``offsets`` delimit particles."""
        material = self.material
        if c_rate_basis_mAh_g is None:
            self.basis = float(material.capacity)  # C/kg
        else:
            b = float(c_rate_basis_mAh_g)
            if not (math.isfinite(b) and b > 0):
                raise ParameterError(
                    f"c_rate_basis_mAh_g = {c_rate_basis_mAh_g!r} must be finite and > 0 (mAh/g), e.g. 210"
                )
            self.basis = b * 3600.0
        self.grid = g = grid
        self.offsets = offsets
        self.n_particles = offsets.size - 1
        self.n_l = float(material.c_max)
        self.mass = float(material.density * g.total_volume)  # kg
        self.table = KirchhoffTable.from_function(effective_diffusivity(material, self.flux))
        self.laplacian = laplacian_matrix(g, fmt="csr")
        factors = self.surface.factors(g)
        self.flux_factors = factors
        # every particle runs at the same C-rate: its share of the current is
        # its share of the volume, spread over its own surface by the layout
        bb = np.searchsorted(offsets, g.boundary_cell, side="right") - 1
        self.boundary_block = bb
        block_vol = np.add.reduceat(g.volumes, offsets[:-1])
        block_area = np.bincount(bb, weights=g.boundary_area, minlength=self.n_particles)
        share = block_vol / block_vol.sum()
        elem = share[bb] * factors * g.boundary_area / block_area[bb]
        self.source_weights = np.bincount(g.boundary_cell, weights=elem, minlength=g.n_cells)
        # outward θ flux [m/s] on each element per ampere of total current
        self.flux_per_amp = share[bb] * factors / (block_area[bb] * F * self.n_l)
        # surface reconstruction (see surface_theta): K_s = w_out K(θ[out])
        # + w_in K(θ[in]) − q depth
        if g.kind in ("radial", "polar"):
            inner = g.boundary_cell - 1 if g.kind == "radial" else g.meta["surface_inner_cell"]
            self.surface_cells = (g.boundary_cell, inner)
            nb = g.boundary_cell.size
            self.surface_weights = (np.full(nb, 9.0 / 8.0), np.full(nb, -1.0 / 8.0))
            self.surface_depth = 0.75 * g.boundary_distance  # 3Δr/8 with d = Δr/2
        else:
            self.surface_cells = (g.boundary_cell, g.boundary_cell)
            nb = g.boundary_cell.size
            self.surface_weights = (np.ones(nb), np.zeros(nb))
            self.surface_depth = g.boundary_distance
        # conductance of the half cell between each boundary cell centre and
        # the surface, for surface-θ holds [m]
        self.hold_conductance = np.bincount(
            g.boundary_cell, weights=g.boundary_area / g.boundary_distance, minlength=g.n_cells
        )
        self._op_flux = make_operator(self.laplacian)
        self._op_hold = None
        bd = g.boundary_distance_cells
        self.centre_cell = int(np.argmax(bd)) if g.kind == "cartesian" else 0  # radial, polar: cell 0
        if g.kind == "cartesian":
            c = np.asarray(g.meta.get("centroid_m", (0.0, 0.0)))
            d2 = np.sum((g.cell_xy - c) ** 2, axis=1)
            k = int(np.argmin(d2))
            if d2[k] <= (0.75 * g.meta["resolution_m"]) ** 2:
                self.centre_cell = k

    def relaxation_time(self) -> float:
        """Diffusion time ``L²/D_min`` of the particle [s] (L: largest depth below the surface)."""
        depth = float(self.grid.boundary_distance_cells.max() + self.grid.boundary_distance.max())
        return depth**2 / max(float(self.table.d.min()), 1e-300)

    # -- currents -------------------------------------------------------------
    def step_current(self, step: Step) -> float:
        """Signed current of a step [A] (positive = charge)."""
        if step.kind not in ("charge", "discharge"):
            return 0.0
        v = float(step.current_value)
        if step.current_unit == "C":
            i = v * self.basis * self.mass / 3600.0
        elif step.current_unit == "A/g":
            i = v * self.mass * 1000.0
        elif step.current_unit == "A":
            i = v
        else:  # pragma: no cover - parser guarantees the unit
            raise ProtocolError(f"unknown current unit {step.current_unit!r} in {step.sentence!r}")
        if not (math.isfinite(i) and i > 0):
            raise ProtocolError(f"step {step.sentence!r}: current must be finite and > 0, got {i!r} A")
        return step.sign * i

    # -- state functions --------------------------------------------------------
    def surface_theta(self, theta: np.ndarray, current: float, hold: float | None = None) -> np.ndarray:
        """θ on every boundary element, reconstructed from the cells below it.

        The Kirchhoff potential ``K`` near the surface obeys ``∂K/∂n = −q``
        (``q``: outward θ flux). On Cartesian 2D grids ``K_s = K(θ_cell) − q d``
        (``d``: centre-to-surface distance along the normal). On radial and
        polar grids a parabola through the two outer cell centres with slope
        ``−q`` at ``R`` gives ``K_s = (9 K_N − K_{N−1})/8 − 3 q Δr / 8``,
        third-order accurate, so surface conditions ("until surface theta
        0.995") are met at the right time even on coarse meshes.
        ``θ_s = K⁻¹(K_s)``.
        """
        g = self.grid
        if hold is not None:
            return np.full(g.boundary_cell.size, hold)
        out_c, in_c = self.surface_cells
        w_out, w_in = self.surface_weights
        q = current * self.flux_per_amp  # m/s, outward θ flux
        k_out, _ = self.table.evaluate(theta[..., out_c])
        k_s = w_out * k_out - q * self.surface_depth
        if np.any(w_in != 0.0):
            k_in, _ = self.table.evaluate(theta[..., in_c])
            k_s = k_s + w_in * k_in
        return self.table.inverse(k_s)

    def _surface_series(self, states: np.ndarray, step_idx: np.ndarray, plans) -> np.ndarray:
        """Surface θ of every recorded state, one vectorised call per step.

        A step-end sample belongs to the step that ended there; the initial
        state carries no flux yet (the first step's current starts at t = 0+).
        """
        surf = np.empty((states.shape[0], self.grid.boundary_cell.size))
        surf[0] = self.surface_theta(states[0], 0.0)
        for k, plan in enumerate(plans):
            rows = np.nonzero(step_idx == k)[0]
            rows = rows[rows > 0]
            if rows.size:
                surf[rows] = self.surface_theta(states[rows], plan.current, plan.hold)
        return surf

    def lithium(self, theta: np.ndarray) -> np.ndarray:
        """Li inventory [mol]."""
        return self.n_l * (theta @ self.grid.volumes)

    def hold_current(self, theta: np.ndarray, hold: float) -> np.ndarray:
        """Current [A] that a surface-θ hold draws (positive = Li leaving)."""
        kb, _ = self.table.evaluate(np.asarray(hold))
        k, _ = self.table.evaluate(theta)
        return F * self.n_l * ((k - kb) @ self.hold_conductance)

    # -- segments -------------------------------------------------------------
    def _segment(self, plan: _StepPlan) -> Segment:
        if plan.hold is None:
            b = -(plan.current / (F * self.n_l)) * self.source_weights
            return Segment(self._op_flux, b, blocks=self.offsets)
        if self._op_hold is None:
            self._op_hold = make_operator(self.laplacian - sp.diags(self.hold_conductance))
        kb, _ = self.table.evaluate(np.asarray(plan.hold))
        return Segment(self._op_hold, self.hold_conductance * float(kb), blocks=None)

    def _events(self, plan: _StepPlan, theta0: np.ndarray) -> list[Event]:
        events = []
        vol = self.grid.volumes
        for cond in plan.step.until:
            if cond.quantity == "theta_mean":
                target = cond.value
                fn = lambda th, target=target: float(th @ vol / vol.sum() - target)
                spec = (0, target)
            elif cond.quantity == "theta_surface":
                target = cond.value
                pick = np.min if plan.current > 0 else np.max
                if plan.hold is not None:
                    raise ProtocolError(f"step {plan.step.sentence!r}: the surface θ is held; end it by time or mean θ")
                fn = lambda th, target=target, pick=pick: float(
                    pick(self.surface_theta(th, plan.current)) - target
                )
                qd = plan.current * self.flux_per_amp * self.surface_depth
                spec = (1 if plan.current > 0 else 2, target, self.surface_cells, self.surface_weights, qd)
            else:
                raise ProtocolError(
                    f"step {plan.step.sentence!r}: a '{cond.quantity}' condition needs electrode kinetics "
                    "(Butler–Volmer), which the transport model does not include; end the step by time, "
                    "'mean theta X' or 'surface theta X'"
                )
            # at the first instant of the step the surface still carries the
            # state it had (the new flux has had no time to act)
            if cond.quantity == "theta_surface":
                g0 = float(pick(self.surface_theta(theta0, 0.0)) - target)
            else:
                g0 = fn(theta0)
            if g0 == 0.0 or (plan.current != 0 and np.sign(g0) != np.sign(plan.current)):
                raise ProtocolError(
                    f"step {plan.step.sentence!r}: the condition '{cond.quantity} {cond.value}' is already met "
                    f"at the start of the step ({cond.quantity} = {g0 + cond.value:.6g}); a charge lowers θ and "
                    "a discharge raises it"
                )
            events.append(Event(f"{cond.quantity}={cond.value}", fn, spec, initial=g0))
        return events

    def plan(self, steps: Sequence[Step]) -> list[_StepPlan]:
        plans = []
        for s in steps:
            if s.kind not in _SUPPORTED:
                raise ProtocolError(
                    f"step {s.sentence!r} ({s.kind}) needs electrode kinetics (Butler–Volmer), which the "
                    f"transport model does not include; supported here: {', '.join(_SUPPORTED)}"
                )
            plans.append(_StepPlan(s, self.step_current(s), s.hold_value if s.kind == "hold_theta" else None))
        return plans

    def run(
        self,
        protocol,
        *,
        initial_theta: float = 0.97,
        output_interval: float | None = 60.0,
        output_times: Sequence[float] | None = None,
        solver: SolverOptions | None = None,
        progress: Callable[[float, int, int], None] | None = None,
    ) -> xr.Dataset:
        """Run a protocol; see :func:`simulate_particle`."""
        steps = parse_protocol(protocol)
        plans = self.plan(steps)
        th0 = _check_theta(initial_theta)
        theta = np.full(self.grid.n_cells, th0)
        opts = solver if solver is not None else SolverOptions()
        if output_interval is not None and not (math.isfinite(output_interval) and output_interval > 0):
            raise ParameterError(f"output_interval = {output_interval!r} must be > 0 seconds (or None)")
        vol_total = self.grid.total_volume
        t = 0.0
        times, states, currents, step_idx, charges, events = [0.0], [theta.copy()], [plans[0].current], [0], [0.0], []
        charge = 0.0
        for k, plan in enumerate(plans):
            seg = self._segment(plan)
            evs = self._events(plan, theta)
            duration = plan.step.duration if plan.step.duration is not None else math.inf
            if not math.isfinite(duration) and plan.current != 0:
                # a galvanostatic step cannot run past full (de)lithiation
                rate = abs(plan.current) / (F * self.n_l * vol_total)
                room = weighted_mean(theta, self.grid.volumes) if plan.current > 0 else 1 - weighted_mean(theta, self.grid.volumes)
                duration = room / rate
            elif not math.isfinite(duration):
                # a hold or rest ended only by a condition: by 20 diffusion
                # times of the slowest occupancy the particle has settled
                # (capped at 3 years for flux laws whose D_eff vanishes at an end)
                duration = min(20.0 * self.relaxation_time(), 1e8)
            t_end = t + duration
            if output_times is not None:
                outs = [x for x in output_times if t < x <= t_end]
            elif output_interval is not None:
                first = math.floor(t / output_interval + 1e-9) + 1
                outs = list(np.arange(first, math.floor(t_end / output_interval - 1e-9) + 1) * output_interval) if math.isfinite(t_end) else []
            else:
                outs = []
            cb = (lambda tt, k=k: progress(tt, k, len(plans))) if progress is not None else None
            try:
                res = integrate_segment(
                    seg, self.grid.volumes, self.table, theta, t, t_end,
                    output_times=outs, events=evs, options=opts, progress=cb,
                )
            except SolverError as exc:
                raise SolverError(f"step {k + 1} ({plan.step.sentence!r}) failed: {exc}") from None
            if plan.step.until and res.event is None and plan.step.duration is None:
                if plan.current != 0:
                    why = f"before the particle was fully {'delithiated' if plan.current > 0 else 'lithiated'}"
                else:
                    why = f"within {duration / 3600:.3g} h, by which time the particle has settled; add 'for <duration>'"
                raise ProtocolError(f"step {plan.step.sentence!r}: its condition was never met {why}")
            for tt, uu in zip(res.t, res.u):
                if tt < res.t_end - 1e-9 * max(1.0, tt):
                    times.append(tt)
                    states.append(uu)
                    currents.append(plan.current)
                    step_idx.append(k)
                    charges.append(charge + plan.current * (tt - t))
            new_charge = charge + plan.current * (res.t_end - t)
            if plan.hold is not None:
                # a surface-θ hold has no imposed current: the passed charge
                # is what left the particle
                new_charge = charge + F * (self.lithium(theta) - self.lithium(res.u_end))
                for j in range(len(charges)):
                    if step_idx[j] == k and times[j] > t:
                        currents[j] = float(self.hold_current(states[j], plan.hold))
                        charges[j] = charge + F * (self.lithium(theta) - self.lithium(states[j]))
            charge = new_charge
            t = res.t_end
            theta = res.u_end
            times.append(t)
            states.append(theta.copy())
            currents.append(plan.current if plan.hold is None else float(self.hold_current(theta, plan.hold)))
            step_idx.append(k)
            charges.append(charge)
            events.append((k, plan.step.sentence, t, res.event or "duration", res.n_steps, res.n_rejected, res.n_newton))
        return self._dataset(
            np.array(times), np.array(states), np.array(currents), np.array(step_idx), np.array(charges),
            plans, events, th0, opts,
        )

    # -- results ----------------------------------------------------------------
    def _dataset(self, times, states, currents, step_idx, charges, plans, events, th0, opts) -> xr.Dataset:
        g = self.grid
        vol = g.volumes
        surf = self._surface_series(states, step_idx, plans)
        weights = g.boundary_area / g.boundary_area.sum()
        all_max = np.maximum(states.max(axis=1), surf.max(axis=1))
        all_min = np.minimum(states.min(axis=1), surf.min(axis=1))
        data = {
            "theta_mean": (("time",), weighted_mean(states, vol), "1", "volume-weighted mean occupancy"),
            "theta_centre": (("time",), states[:, self.centre_cell], "1", "occupancy at the particle centre"),
            "theta_surface": (("time",), surf @ weights, "1", "area-weighted mean occupancy on the active surface"),
            "theta_surface_min": (("time",), surf.min(axis=1), "1", "lowest occupancy on the active surface"),
            "theta_surface_max": (("time",), surf.max(axis=1), "1", "highest occupancy on the active surface"),
            "theta_std": (("time",), weighted_std(states, vol), "1", "volume-weighted standard deviation of occupancy"),
            "theta_range": (("time",), all_max - all_min, "1", "max minus min occupancy (cells and surface)"),
            "theta_periphery_minus_core": (
                ("time",), periphery_minus_core(states, vol, g.boundary_distance_cells), "1",
                "mean occupancy within 0.2 inradius of the surface minus mean beyond 0.6 inradius",
            ),
            "front_depth": (("time",), front_depth(states, vol, g.boundary_distance_cells), "m",
                            "depth below the surface of the mid-level occupancy front (NaN when uniform)"),
            "current": (("time",), currents, "A", "particle current, positive on charge (delithiation)"),
            "charge": (("time",), charges, "C", "charge passed since the start, positive = Li removed"),
            "lithium": (("time",), self.lithium(states), "mol", "Li inventory of the particle"),
            "specific_capacity": (("time",), charges / (self.mass * 1000.0) / 3.6, "mAh/g",
                                  "charge passed per gram of active material"),
            "step": (("time",), step_idx.astype(np.int32), "1", "index of the protocol step"),
        }
        coords = {"time": ("time", times, {"units": "s", "long_name": "time"})}
        if g.kind == "radial":
            coords["r"] = ("r", g.cell_xy[:, 0], {"units": "m", "long_name": "radial position of shell centre"})
            field = (("time", "r"), states)
        else:
            idx = g.image_index
            img = np.full((times.size,) + idx.shape, np.nan)
            inside = idx >= 0
            img[:, inside] = states[:, idx[inside]]
            coords["y"] = ("y", g.y, {"units": "m", "long_name": "y position of cell centre"})
            coords["x"] = ("x", g.x, {"units": "m", "long_name": "x position of cell centre"})
            field = (("time", "y", "x"), img)
        if g.kind == "polar":
            # the image is a resampling of the polar cells: keep the cells too
            coords["cell_x"] = ("cell", g.cell_xy[:, 0], {"units": "m", "long_name": "cell centroid x"})
            coords["cell_y"] = ("cell", g.cell_xy[:, 1], {"units": "m", "long_name": "cell centroid y"})
            coords["cell_volume"] = ("cell", g.volumes, {"units": "m3", "long_name": "cell volume"})
        coords["boundary_angle"] = ("boundary", g.boundary_angle, {"units": "rad", "long_name": "polar angle of surface element"})
        variables = {
            "theta": (field[0], field[1], {"units": "1", "long_name": "Li occupancy θ (NaN outside the particle)"}),
            "theta_boundary": (("time", "boundary"), surf, {"units": "1", "long_name": "occupancy on each surface element"}),
            "flux_factor": (("boundary",), self.flux_factors, {"units": "1", "long_name": "surface flux relative to the mean"}),
        }
        if g.kind == "polar":
            variables["theta_cell"] = (("time", "cell"), states, {"units": "1", "long_name": "Li occupancy θ of each polar cell"})
        for name, (dims, values, units, long) in data.items():
            variables[name] = (dims, values, {"units": units, "long_name": long})
        variables.update(_step_table(plans, events))
        # one constructor call: adding variables one by one costs ~4 ms each
        ds = xr.Dataset(variables, coords=coords)
        ds.attrs.update(self._attrs(plans, th0, opts, events))
        return ds

    def _run_attrs(self, plans, th0, opts, events) -> dict:
        """Attributes every result carries: version, model, protocol, solver, material."""
        attrs = {
            "socscope_version": __version__,
            "flux_law": self.flux,
            "c_rate_basis_mAh_g": self.basis / 3600.0,
            "initial_theta": th0,
            "protocol": " | ".join(p.step.sentence for p in plans),
            "solver": "variable-step BDF2, Kirchhoff-transformed finite volumes",
            "solver_options": repr(asdict(opts)),
            "solver_steps": int(sum(e[4] for e in events)),
            "solver_rejected_steps": int(sum(e[5] for e in events)),
        }
        attrs.update(self.material.to_attrs())
        return attrs

    def _attrs(self, plans, th0, opts, events) -> dict:
        g = self.grid
        geo = self.geometry
        if hasattr(geo, "image"):
            shape_params = (f"Mask {geo.image.shape} pixel_size={geo.pixel_size} thickness={geo.thickness} "
                            f"holes_active={geo.holes_active}")
        else:
            shape_params = repr(vars(geo))
        attrs = {
            "title": "socscope single-particle simulation",
            "model": "finite-volume Li transport, N_L dθ/dt = -div J",
            "surface_flux_layout": self.surface.describe(),
            "geometry": type(geo).__name__,
            "geometry_parameters": shape_params,
            "grid_kind": g.kind,
            "n_cells": g.n_cells,
            "particle_volume_m3": g.total_volume,
            "particle_mass_kg": self.mass,
            "periphery_definition": "cells within 0.2 x inradius of the active surface; core: beyond 0.6 x inradius",
        }
        if g.kind in ("cartesian", "polar"):
            attrs["resolution_m"] = g.meta["resolution_m"]
            attrs["thickness_m"] = g.meta["thickness_m"]
        else:
            attrs["radius_m"] = g.meta["radius_m"]
        attrs.update(self._run_attrs(plans, th0, opts, events))
        return attrs

def _step_table(plans, events) -> dict:
    """Per-step variables: sentence, end time and why the step ended."""
    return {
        "step_sentence": (("step_index",), np.array([p.step.sentence for p in plans], dtype=object),
                          {"units": "1", "long_name": "protocol step (text)"}),
        "step_end_time": (("step_index",), np.array([e[2] for e in events]), {"units": "s", "long_name": "time the step ended"}),
        "step_end_reason": (("step_index",), np.array([e[3] for e in events], dtype=object),
                            {"units": "1", "long_name": "what ended the step: 'duration' or the condition met (text)"}),
    }


def _check_theta(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"initial_theta must be a number in (0, 1), got {value!r}") from None
    if not (0.0 < v < 1.0):
        raise ParameterError(
            f"initial_theta = {value!r} is outside (0, 1); θ is the Li occupancy (e.g. 0.97 for a pristine cathode)"
        )
    return v


def simulate_particle(
    material,
    geometry,
    protocol,
    *,
    initial_theta: float = 0.97,
    resolution: float | None = None,
    n_cells: int | None = None,
    flux: str = "chemical",
    surface=None,
    c_rate_basis_mAh_g: float | None = None,
    mesh_method: str | None = None,
    output_interval: float | None = 60.0,
    output_times: Sequence[float] | None = None,
    solver: SolverOptions | None = None,
    progress: Callable[[float, int, int], None] | None = None,
) -> xr.Dataset:
    """Simulate Li transport in one particle through a protocol.

    Parameters
    ----------
    material : socscope.materials.Material
        E.g. ``ss.materials.get("ni88-xu2022")``.
    geometry : Sphere, Disc, Ellipse, Polygon or Mask
    protocol : str or sequence of str
        Experiment sentences, e.g. ``["Charge at C/3 for 1 hour", "Rest for 1 hour"]``
        (see :mod:`socscope.protocols`).
    initial_theta : float
        Uniform initial occupancy in (0, 1).
    resolution : float, optional
        Cell size [m] (default R/100 for spheres, size/50 for 2D shapes).
    n_cells : int, optional
        Number of radial shells for spheres (instead of ``resolution``).
    flux : {"chemical", "thermodynamic"}
        Flux law (SPEC §2); "thermodynamic" needs the material's U(θ).
    surface : UniformFlux or BlockedArc, optional
        Surface flux layout (default uniform).
    c_rate_basis_mAh_g : float, optional
        Capacity defining 1C [mAh/g]; default the material's practical capacity.
    mesh_method : {"polar", "cartesian"}, optional
        Discs only: boundary-fitted polar cells (default) or square cells.
    output_interval : float or None
        Record the state every this many seconds [s] (plus every step end).
    output_times : sequence of float, optional
        Record at these times [s] instead.
    solver : SolverOptions, optional
        Time-integration tolerances.
    progress : callable, optional
        ``progress(t, step_index, n_steps)`` after every time step.

    Returns
    -------
    xarray.Dataset
        ``theta`` (time, r) or (time, y, x) — for discs (polar cells) the
        image shows the cell under each pixel and ``theta_cell`` (time,
        cell) holds the cells themselves; ``theta_mean``, ``theta_centre``,
        ``theta_surface``, ``theta_std``, ``theta_range``,
        ``theta_periphery_minus_core``, ``front_depth``, ``current``,
        ``charge``, ``lithium``, ``specific_capacity``, ``step``; every
        variable has ``units``; ``attrs`` hold all parameters and the version.

    Examples
    --------
    >>> import socscope as ss
    >>> mat = ss.materials.get("ni88-xu2022")
    >>> ds = ss.simulate_particle(mat, ss.geometry.Sphere(1e-6), ["Charge at C/3 for 10 minutes"],
    ...                           n_cells=20)
    >>> round(float(ds.theta_mean[0] - ds.theta_mean[-1]), 4)  # doctest: +SKIP
    """
    model = ParticleModel(
        material, geometry, resolution=resolution, n_cells=n_cells, flux=flux,
        surface=surface, c_rate_basis_mAh_g=c_rate_basis_mAh_g, mesh_method=mesh_method,
    )
    return model.run(
        protocol, initial_theta=initial_theta, output_interval=output_interval,
        output_times=output_times, solver=solver, progress=progress,
    )


class ParticleBatch(ParticleModel):
    """Many independent spheres solved together in one system.

    Every particle runs at the same C-rate (its share of the total current is
    its share of the volume); the whole batch is one block-diagonal —
    for radial grids tridiagonal — system, so the cost grows linearly with
    the number of particles.

    Parameters
    ----------
    material : socscope.materials.Material
    geometries : sequence of Sphere
    n_cells : int
        Radial shells per particle.
    flux : {"chemical", "thermodynamic"}
    c_rate_basis_mAh_g : float, optional
        Capacity defining 1C [mAh/g].

    Notes
    -----
    Protocol conditions act on the batch as a whole: ``mean theta`` is the
    mean over all particles, ``surface theta`` the extreme over all surfaces.
    A current in A is the total over the batch.
    """

    def __init__(self, material, geometries, *, n_cells: int = 20, flux: str = "chemical",
                 c_rate_basis_mAh_g: float | None = None):
        geos = list(geometries)
        if not geos:
            raise ParameterError("ParticleBatch needs at least one geometry")
        bad = [i for i, g in enumerate(geos) if not isinstance(g, Sphere)]
        if bad:
            raise ParameterError(f"ParticleBatch takes Sphere geometries; entries {bad[:5]} are not spheres")
        if flux not in FLUX_LAWS:
            raise ParameterError(f"flux = {flux!r} is not a flux law; use one of {FLUX_LAWS}")
        self.material = material
        self.geometry = geos
        self.flux = flux
        self.surface = UniformFlux()
        grid, offsets = stack_grids([g.mesh(n_cells=n_cells) for g in geos])
        self.n_shells = int(n_cells)
        self._setup(grid, offsets, c_rate_basis_mAh_g)

    def _dataset(self, times, states, currents, step_idx, charges, plans, events, th0, opts) -> xr.Dataset:
        g = self.grid
        P, N = self.n_particles, self.n_shells
        th = states.reshape(times.size, P, N)
        vol = g.volumes.reshape(P, N)
        radius = np.array([geo.radius for geo in self.geometry])
        surf = self._surface_series(states, step_idx, plans)
        mean_p = np.einsum("tpn,pn->tp", th, vol) / vol.sum(axis=1)
        ds = xr.Dataset(coords={
            "time": ("time", times, {"units": "s", "long_name": "time"}),
            "particle": ("particle", np.arange(P), {"long_name": "particle index"}),
            "shell": ("shell", np.arange(N), {"long_name": "radial shell index (0 = centre)"}),
            "radius": ("particle", radius, {"units": "m", "long_name": "particle radius"}),
            "r": (("particle", "shell"), g.cell_xy[:, 0].reshape(P, N), {"units": "m", "long_name": "shell-centre radius"}),
        })
        per = {
            "theta": (("time", "particle", "shell"), th, "1", "Li occupancy θ"),
            "theta_particle_mean": (("time", "particle"), mean_p, "1", "volume-weighted mean occupancy of each particle"),
            "theta_particle_centre": (("time", "particle"), th[:, :, 0], "1", "occupancy at each particle's centre"),
            "theta_particle_surface": (("time", "particle"), surf, "1", "occupancy at each particle's surface"),
            "theta_mean": (("time",), weighted_mean(states, g.volumes), "1", "volume-weighted mean occupancy of the batch"),
            "theta_std": (("time",), weighted_std(states, g.volumes), "1", "volume-weighted standard deviation over all cells"),
            "current": (("time",), currents, "A", "total current, positive on charge"),
            "charge": (("time",), charges, "C", "charge passed since the start, positive = Li removed"),
            "lithium": (("time",), self.lithium(states), "mol", "Li inventory of the batch"),
            "step": (("time",), step_idx.astype(np.int32), "1", "index of the protocol step"),
        }
        variables = {name: (dims, values, {"units": units, "long_name": long}) for name, (dims, values, units, long) in per.items()}
        variables.update(_step_table(plans, events))
        ds = xr.Dataset(variables, coords=ds.coords)
        attrs = {
            "title": "socscope particle-batch simulation",
            "model": "finite-volume Li transport in independent spheres, N_L dθ/dt = -div J",
            "n_particles": P,
            "n_shells": N,
            "batch_mass_kg": self.mass,
        }
        attrs.update(self._run_attrs(plans, th0, opts, events))
        ds.attrs.update(attrs)
        return ds


def simulate_particles(
    material,
    geometries,
    protocol,
    *,
    n_cells: int = 20,
    initial_theta: float = 0.97,
    flux: str = "chemical",
    c_rate_basis_mAh_g: float | None = None,
    output_interval: float | None = 60.0,
    output_times: Sequence[float] | None = None,
    solver: SolverOptions | None = None,
    progress: Callable[[float, int, int], None] | None = None,
) -> xr.Dataset:
    """Simulate many independent spheres at the same C-rate in one solve.

    Parameters
    ----------
    material : socscope.materials.Material
    geometries : sequence of Sphere
        E.g. ``[ss.geometry.Sphere(r) for r in radii]``.
    protocol : str or sequence of str
    n_cells : int
        Radial shells per particle.
    Other parameters as in :func:`simulate_particle`.

    Returns
    -------
    xarray.Dataset
        ``theta`` (time, particle, shell) with coordinate ``r`` (particle,
        shell); ``theta_particle_mean``, ``theta_particle_centre``,
        ``theta_particle_surface`` (time, particle); batch totals.

    Examples
    --------
    >>> import numpy as np, socscope as ss
    >>> mat = ss.materials.get("ni88-xu2022")
    >>> radii = np.linspace(0.5e-6, 2e-6, 4)
    >>> ds = ss.simulate_particles(mat, [ss.geometry.Sphere(r) for r in radii],
    ...                            ["Charge at C/3 for 30 minutes"], output_interval=600)
    >>> ds.theta_particle_centre.sizes["particle"]
    4
    """
    model = ParticleBatch(material, geometries, n_cells=n_cells, flux=flux, c_rate_basis_mAh_g=c_rate_basis_mAh_g)
    return model.run(protocol, initial_theta=initial_theta, output_interval=output_interval,
                     output_times=output_times, solver=solver, progress=progress)
