"""Single-particle (and batched-particle) transport simulations.

:func:`simulate_particle` runs a protocol of galvanostatic steps, rests and
surface-θ holds on one particle and returns an :class:`xarray.Dataset`.

The model (the project's model notes (docs/numerics.md)): ``N_L ∂θ/∂t = −∇·J`` with the chosen flux law, the
particle's current shared over its active surface by a flux layout, and
the C-rate taken on the capacity of the discretised particle (so that
``C/3`` changes the mean occupancy at exactly the rate it promises).

:class:`ParticleModel` holds the model (grid, material, kinetics, state
functions, segments, results); how a step's conditions become solver events
is :class:`~socscope.simulate._conditions.StepConditions`, how a protocol is
run step by step :class:`~socscope.simulate._stepping.ProtocolStepping`, and
what a run records :mod:`socscope.simulate._records`. The network electrode
(:mod:`socscope.simulate.electrode`) is a subclass.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import xarray as xr

from .. import __version__
from .._checks import callable_or_none, fraction, instance_of, number_pair, positive_float, sorted_times, whole_number
from ..errors import ParameterError, ProtocolError
from ..geometry import Disc, Sphere
from ..materials import as_material
from ..numerics import KirchhoffTable, Segment, SolverOptions, laplacian_matrix, make_operator, stack_grids
from ..observe import front_depth, periphery_minus_core, weighted_mean, weighted_std
from ..physics import FLUX_LAWS, F, UniformFlux, effective_diffusivity, overpotential
from ..protocols import Step, parse_protocol
from ._conditions import StepConditions
from ._records import (
    CURRENT_INSTANT_LONG_NAME,
    CURRENT_LONG_NAME,
    _lithiating,
    _range_attrs,
    _RunState,
    _step_table,
    _StepPlan,
    _warn_unrecorded,
    step_currents,
)
from ._stepping import ProtocolStepping
from .kinetics import SurfaceKinetics

__all__ = ["simulate_particle", "simulate_particles", "ParticleModel", "ParticleBatch"]

#: Most radial shells per particle of a batch (and of an electrode): 50 times
#: the default of 20, which at second order cuts the default's spatial error
#: 2500-fold; 10^7 shells for three particles ran out of memory after 12 s
#: instead of being refused.
MAX_SHELLS = 1000
#: Most particles x shells a batch or an electrode may hold (the same bound as a
#: 2D grid's ``max_cells``).
MAX_UNKNOWNS = 4_000_000
# Memory a running network electrode holds per unknown [bytes]: 20 000
# particles x 20 shells peaked 0.48 GB above the layout, 2 000 x 200 0.47 GB
# (one hour of C/20 sampled every 10 min; more samples per step add 8 bytes per
# unknown each, kept until the step's record is reduced).
_BYTES_PER_UNKNOWN = 1.2e3


class ParticleModel(StepConditions, ProtocolStepping):
    """A particle discretised and ready to run protocols.

    Parameters
    ----------
    material : socscope.materials.Material or str
        A built-in name (see :func:`socscope.materials.available`) is looked up.
    geometry : Sphere, Disc, Ellipse, Polygon or Mask
    resolution : float, optional
        Cell size [m]. Default: R/100 for spheres, size/50 for analytic 2D
        shapes, one cell per pixel for masks.
    n_cells : int, optional
        Number of radial shells (spheres only), instead of ``resolution``.
    flux : {"chemical", "thermodynamic"}
        Flux law (the project's model notes (docs/numerics.md)).
    surface : UniformFlux or BlockedArc
        How the current is shared over the surface.
    c_rate_basis_mAh_g : float, optional
        Capacity that defines 1C [mAh/g]; default the material's practical
        capacity.
    mesh_method : {"polar", "cartesian"}, optional
        Disc grids only: boundary-fitted polar cells (default, second order)
        or square cells.
    kinetics : {"auto", "butler-volmer", "none"}
        Butler–Volmer kinetics at the surface with the particle as an
        equipotential: the run then has a voltage, and voltage cut-offs and
        holds work. "none" imposes the current distribution of the surface
        layout (pure transport, no voltage). "auto" uses Butler–Volmer when
        the material has ``U`` and ``i0`` and the layout has a kinetic form
        (``UniformFlux``, ``BlockedArc(mode="kinetic")``).
    transfer_coefficients : (float, float)
        ``(α_a, α_c)`` of Butler–Volmer; default the material's parameters
        ``alpha_a``/``alpha_c`` if it has them, else (0.5, 0.5).
    """

    #: what the messages call the model ("the electrode" for a network)
    _SUBJECT = "the particle"

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
        kinetics: str = "auto",
        transfer_coefficients: tuple[float, float] | None = None,
    ):
        self._kinetics_request = (kinetics, transfer_coefficients)
        if flux not in FLUX_LAWS:
            raise ParameterError(f"flux = {flux!r} is not a flux law; use one of {FLUX_LAWS}")
        if not hasattr(geometry, "mesh"):
            raise ParameterError(
                f"geometry must be a socscope.geometry shape (Sphere, Disc, Ellipse, Polygon, Mask), got {geometry!r}"
            )
        self.material = material = as_material(material)
        self.geometry = geometry
        self.flux = flux
        self.surface = surface if surface is not None else UniformFlux()
        if isinstance(self.surface, type) or not all(hasattr(self.surface, a) for a in ("factors", "describe")):
            # a layout of one's own needs factors(grid) and describe(), as UniformFlux and BlockedArc have
            raise ParameterError(
                f"surface must be a surface layout, UniformFlux() or BlockedArc(eta, ...) (instances, from "
                f"socscope.physics), got {surface!r}")
        if isinstance(geometry, Sphere):
            if mesh_method is not None:
                raise ParameterError(f"mesh_method = {mesh_method!r} applies to discs; a sphere is meshed in radial "
                                     "shells (n_cells= or resolution=)")
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
            self.basis = positive_float("c_rate_basis_mAh_g", c_rate_basis_mAh_g, unit=" mAh/g", example="210") * 3600.0
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
        self._setup_kinetics(*getattr(self, "_kinetics_request", ("none", None)))
        bd = g.boundary_distance_cells
        self.centre_cell = int(np.argmax(bd)) if g.kind == "cartesian" else 0  # radial, polar: cell 0
        if g.kind == "cartesian":
            c = np.asarray(g.meta.get("centroid_m", (0.0, 0.0)))
            d2 = np.sum((g.cell_xy - c) ** 2, axis=1)
            k = int(np.argmin(d2))
            if d2[k] <= (0.75 * g.meta["resolution_m"]) ** 2:
                self.centre_cell = k

    def _setup_kinetics(self, kinetics: str, transfer_coefficients) -> None:
        """Decide whether the run has Butler–Volmer kinetics, and prepare them."""
        if kinetics not in ("auto", "butler-volmer", "none"):
            raise ParameterError(f"kinetics = {kinetics!r} is not 'auto', 'butler-volmer' or 'none'")
        m = self.material
        why = None
        if m.U is None or m.i0 is None:
            why = f"material {m.name!r} has no {'U(θ)' if m.U is None else 'i0(θ)'}"
        elif not hasattr(self.surface, "rate_factors") or getattr(self.surface, "mode", "kinetic") == "flux":
            why = (f"the surface layout {self.surface.describe()} imposes the current distribution; use "
                   "BlockedArc(..., mode='kinetic') for a rock-salt arc under kinetics")
        elif self.n_particles > 1:
            why = "a batch of independent particles has no common potential (see the electrode model)"
        if kinetics == "butler-volmer" and why is not None:
            raise ParameterError(f"kinetics='butler-volmer' is not possible: {why}")
        use = kinetics == "butler-volmer" or (kinetics == "auto" and why is None)
        self.kinetics = "butler-volmer" if use else "none"
        self._ocp_bounds = None  # (min U, max U), filled on first use
        self._why_no_kinetics = why or getattr(self, "_batch_reason", None) or "kinetics='none' was chosen"
        params = m.parameters or {}
        a_a, a_c = number_pair("transfer_coefficients", transfer_coefficients, example="(0.5, 0.5)") or (
            params.get("alpha_a", 0.5), params.get("alpha_c", 0.5))
        for name, v in (("alpha_a", a_a), ("alpha_c", a_c)):
            if not (math.isfinite(float(v)) and 0.0 < float(v) < 1.0):
                raise ParameterError(f"transfer coefficient {name} = {v!r} must lie in (0, 1), e.g. 0.5")
        self.alpha_a, self.alpha_c = float(a_a), float(a_c)
        self.rate_factors = (self.surface.rate_factors(self.grid) if use
                             else np.ones(self.grid.boundary_cell.size))
        # a radial grid has one surface element per particle: the kinetics
        # then follow from the imposed current in closed form, and the
        # transport runs as a prescribed-flux problem (compiled kernel);
        # 2D grids solve the potential with the transport
        self.coupled_current = use and self.grid.kind != "radial"

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

    def lithium(self, theta: np.ndarray) -> np.ndarray:
        """Li inventory [mol]."""
        return self.n_l * (theta @ self.grid.volumes)

    def hold_current(self, theta: np.ndarray, hold: float) -> np.ndarray:
        """Current [A] that a surface-θ hold draws (positive = Li leaving)."""
        kb, _ = self.table.evaluate(np.asarray(hold))
        k, _ = self.table.evaluate(theta)
        return F * self.n_l * ((k - kb) @ self.hold_conductance)

    # -- kinetics ---------------------------------------------------------------
    def _kinetic_coupling(self, *, current=None, voltage=None) -> SurfaceKinetics:
        return SurfaceKinetics(
            self.material, self.table, self.grid.n_cells, self.surface_cells, self.surface_weights,
            self.surface_depth, self.grid.boundary_area, self.rate_factors, self.n_l,
            current=current, voltage=voltage, alpha_a=self.alpha_a, alpha_c=self.alpha_c,
        )

    def _need_kinetics(self, what: str) -> None:
        if self.kinetics != "butler-volmer":
            raise ProtocolError(
                f"{what} needs electrode kinetics (Butler–Volmer), which this run does not have: {self._why_no_kinetics}"
            )

    def voltage_at_surface(self, theta_s: np.ndarray, current: float) -> np.ndarray:
        """Potential [V] of a uniformly active surface at occupancy ``theta_s`` carrying ``current``."""
        i0 = self.material.i0(theta_s) * float(np.mean(self.rate_factors))
        density = current / self.grid.boundary_area.sum()
        return self.material.U(theta_s) + overpotential(density, i0, self.alpha_a, self.alpha_c, self.material.temperature)

    # -- segments -------------------------------------------------------------
    def _segment(self, plan: _StepPlan, theta: np.ndarray, p_guess: float):
        """Segment, initial state and coupling of one step."""
        if plan.control == "theta":
            if self._op_hold is None:
                self._op_hold = make_operator(self.laplacian - sp.diags(self.hold_conductance))
            kb, _ = self.table.evaluate(np.asarray(plan.hold))
            return Segment(self._op_hold, self.hold_conductance * float(kb), blocks=None), theta, None
        zero = np.zeros(self.grid.n_cells)
        if plan.control == "voltage":
            cpl = self._kinetic_coupling(voltage=plan.hold)
            return Segment(self._op_flux, zero, blocks=None, coupling=cpl), np.append(theta, plan.hold), cpl
        if self.coupled_current:
            cpl = self._kinetic_coupling(current=plan.current)
            return Segment(self._op_flux, zero, blocks=self.offsets, coupling=cpl), np.append(theta, p_guess), cpl
        b = -(plan.current / (F * self.n_l)) * self.source_weights
        return Segment(self._op_flux, b, blocks=self.offsets), theta, None

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
        items = parse_protocol(protocol)
        th0, opts, out = _run_arguments(initial_theta, output_interval, output_times, solver, progress,
                                        SolverOptions())
        theta = np.full(self.grid.n_cells, th0)
        st = _RunState(theta=theta, p=self._rest_voltage(theta))
        st.record(0.0, theta, self.surface_theta(theta, 0.0), 0.0, st.p, 0, 0.0)
        self._run_items(items, st, opts, out, progress)
        _warn_unrecorded(out, st.t)
        return self._dataset(st, th0, opts)

    def _record(self, st, plan, k, ts, zs, cpl, t0, charge0, li0) -> None:
        """Append the samples of one step: states, surface θ, current, voltage, passed charge.

        One vectorised evaluation over all the step's samples.
        """
        n = self.grid.n_cells
        ts = np.asarray(ts, dtype=float)
        zs = np.atleast_2d(np.asarray(zs, dtype=float))
        u = zs[:, :n]
        st.visit(u)
        p = zs[:, n] if cpl is not None else None
        if cpl is not None:
            surf, i_e = cpl.state(u, p[:, None])
            cpl._theta = None  # the warm start of the Newton solves has a different shape
        if plan.control == "current":
            mean, cur, charge = step_currents(plan, ts, st.times, t0, charge0)
        else:
            held = self.hold_current(u, plan.hold) if plan.control == "theta" else i_e @ self.grid.boundary_area
            mean, cur, charge = step_currents(plan, ts, st.times, t0, charge0, F * (li0 - self.lithium(u)), held)
        if cpl is None:
            surf = self.surface_theta(u, plan.current, plan.hold)
            if self.kinetics == "butler-volmer":
                # inside (0, 1) after every integrated step (one that would leave it
                # is refused); only the sample of a step ended at once, under a current
                # its surface cannot carry, needs the clip (see _cutoff_under_load)
                surf = np.clip(surf, 1e-9, 1.0 - 1e-9)
            surf = np.broadcast_to(surf, (ts.size, self.grid.boundary_cell.size))
        if self.kinetics != "butler-volmer":
            v = np.full(ts.size, math.nan)
        elif plan.held_voltage is not None:
            v = np.full(ts.size, plan.held_voltage)
        elif cpl is not None:
            v = p
        else:
            th_s = surf @ (self.grid.boundary_area / self.grid.boundary_area.sum())
            v = self.voltage_at_surface(th_s, cur)
        st.extend(ts, u.copy(), np.array(surf), mean, v, k, charge, instant=cur)

    # -- results ----------------------------------------------------------------
    def _dataset(self, st: _RunState, th0, opts) -> xr.Dataset:
        g = self.grid
        vol = g.volumes
        times, states, surf = np.array(st.times), np.array(st.states), np.array(st.surfaces)
        currents, step_idx, charges = np.array(st.currents), np.array(st.step_idx), np.array(st.charges)
        plans, events = st.plans, st.events
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
            "front_depth": (("time",), front_depth(states, vol, g.boundary_distance_cells,
                                                   lithiation=_lithiating(currents)), "m",
                            "depth below the surface of the mid-level occupancy front (NaN when uniform)"),
            "current": (("time",), currents, "A", CURRENT_LONG_NAME),
            "current_instant": (("time",), np.array(st.currents_instant), "A", CURRENT_INSTANT_LONG_NAME),
            "voltage": (("time",), np.array(st.voltages), "V",
                        "particle potential vs Li/Li+ (NaN without kinetics)"),
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
        variables.update(_step_table(plans, events, step_idx, charges, self.mass))
        # one constructor call: adding variables one by one costs ~4 ms each
        ds = xr.Dataset(variables, coords=coords)
        ds.attrs.update(self._attrs(st, th0, opts))
        return ds

    def _run_attrs(self, st: _RunState, th0, opts) -> dict:
        """Attributes every result carries: version, model, protocol, solver, material, θ range visited."""
        plans, events = st.plans, st.events
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
            "kinetics": self.kinetics,
        }
        if self.kinetics == "butler-volmer":
            attrs["transfer_coefficients"] = f"alpha_a={self.alpha_a}, alpha_c={self.alpha_c}"
        attrs.update(self.material.to_attrs())
        attrs.update(_range_attrs(self.material, self._used_properties(st.theta_range, th0), st.theta_range))
        return attrs

    def _used_properties(self, visited, th0) -> dict:
        """The material's property slots this model evaluated, with the θ range each saw."""
        return {slot: visited for slot in (("D", "U", "i0") if self.kinetics == "butler-volmer" else ("D",))}

    def _attrs(self, st: _RunState, th0, opts) -> dict:
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
        attrs.update(self._run_attrs(st, th0, opts))
        return attrs


def shell_count(value, name: str, n_particles: int = 1) -> int:
    """Radial shells per particle of a batch or an electrode: a whole number in 3..:data:`MAX_SHELLS`.

    With ``n_particles`` the total, particles x shells, must also stay within
    :data:`MAX_UNKNOWNS`.
    """
    n = whole_number(name, value, minimum=3, example=20)
    if n > MAX_SHELLS:
        raise ParameterError(f"{name} = {n} is above {MAX_SHELLS}: the radial profile converges at second order in "
                             f"the shell width (docs/numerics.md), so more shells only cost memory (particles x "
                             f"shells unknowns); e.g. {name}=20")
    total = int(n_particles) * n
    if total > MAX_UNKNOWNS:
        fewer = MAX_UNKNOWNS // int(n_particles)
        fix = (f"use fewer shells ({name}={fewer} fits) or fewer particles" if fewer >= 3
               else f"use at most {MAX_UNKNOWNS // 3:,} particles (with {name}=3)")
        raise ParameterError(
            f"{n_particles:,} particles x {name} = {n} is {total:,} unknowns, above {MAX_UNKNOWNS:,}: a run holds "
            f"about {_BYTES_PER_UNKNOWN / 1e3:.1f} kB per unknown, so this would need about "
            f"{total * _BYTES_PER_UNKNOWN / 1e9:.0f} GB; {fix}")
    return n


def _run_arguments(initial_theta, output_interval, output_times, solver, progress, default_solver):
    """The checked arguments of every ``run``: ``(θ0, solver options, (output interval, output times))``."""
    th0 = _check_theta(initial_theta)
    instance_of("solver", solver, SolverOptions, "socscope.numerics.SolverOptions(rtol=1e-4)")
    callable_or_none("progress", progress, "progress(t, step_index, n_steps)")
    interval = (None if output_interval is None
                else positive_float("output_interval", output_interval, unit=" s", example="60"))
    return th0, solver or default_solver, (interval, sorted_times("output_times", output_times))


def _check_theta(value) -> float:
    return fraction("initial_theta", value, example="0.97 (θ is the Li occupancy; 0.97 for a pristine cathode)")


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
    kinetics: str = "auto",
    transfer_coefficients: tuple[float, float] | None = None,
    output_interval: float | None = 60.0,
    output_times: Sequence[float] | None = None,
    solver: SolverOptions | None = None,
    progress: Callable[[float, int, int], None] | None = None,
) -> xr.Dataset:
    """Simulate Li transport and electrode kinetics in one particle through a protocol.

    Parameters
    ----------
    material : socscope.materials.Material or str
        A built-in name (see :func:`socscope.materials.available`) is looked up.
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
        Flux law (the project's model notes (docs/numerics.md)); "thermodynamic" needs the material's U(θ).
    surface : UniformFlux or BlockedArc, optional
        Surface flux layout (default uniform).
    c_rate_basis_mAh_g : float, optional
        Capacity defining 1C [mAh/g]; default the material's practical capacity.
    mesh_method : {"polar", "cartesian"}, optional
        Discs only: boundary-fitted polar cells (default) or square cells.
    kinetics : {"auto", "butler-volmer", "none"}
        Butler–Volmer kinetics with the particle as an equipotential (the run
        has a voltage; voltage cut-offs, CV holds and PITT work), or "none"
        for pure transport with the current shared out by ``surface``.
        "auto" (default) uses Butler–Volmer whenever the material and
        layout allow it (see :class:`ParticleModel`).
    transfer_coefficients : (float, float), optional
        ``(α_a, α_c)``; default the material's, else (0.5, 0.5).
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
        ``current_instant``, ``charge``, ``lithium``, ``specific_capacity``,
        ``step``; every variable has ``units``; ``attrs`` hold all
        parameters and the version.

        ``current`` at each sample is the mean current over the interval
        since the previous sample (the charge passed in it divided by its
        length; in a constant-current step the imposed current), so its
        piecewise-constant integral ``Σ current_k (t_k − t_{k−1})`` is the
        charge passed and ``F`` times the Li inventory's change, to round-off,
        in every step type. ``current_instant`` is the current at the
        sample's state (in a hold the surface flux at that moment, which a
        sampled record would show; a PITT analysis of the transient reads
        it).

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
        kinetics=kinetics, transfer_coefficients=transfer_coefficients,
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
    material : socscope.materials.Material or str
        A built-in name (see :func:`socscope.materials.available`) is looked up.
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
        self.material = material = as_material(material)
        self.geometry = geos
        self.flux = flux
        self.surface = UniformFlux()
        n_cells = shell_count(n_cells, "n_cells", len(geos))
        self._batch_reason = ("a batch (simulate_particles) runs without kinetics: its particles share no "
                              "potential; simulate_particle gives one particle's voltage, simulate_electrode a "
                              "network's")
        grid, offsets = stack_grids([g.mesh(n_cells=n_cells) for g in geos])
        self.n_shells = n_cells
        self._setup(grid, offsets, c_rate_basis_mAh_g)

    def _dataset(self, st: _RunState, th0, opts) -> xr.Dataset:
        g = self.grid
        P, N = self.n_particles, self.n_shells
        times, states, surf = np.array(st.times), np.array(st.states), np.array(st.surfaces)
        currents, step_idx, charges = np.array(st.currents), np.array(st.step_idx), np.array(st.charges)
        plans, events = st.plans, st.events
        th = states.reshape(times.size, P, N)
        vol = g.volumes.reshape(P, N)
        radius = np.array([geo.radius for geo in self.geometry])
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
            "current": (("time",), currents, "A", CURRENT_LONG_NAME),
            "current_instant": (("time",), np.array(st.currents_instant), "A", CURRENT_INSTANT_LONG_NAME),
            "charge": (("time",), charges, "C", "charge passed since the start, positive = Li removed"),
            "lithium": (("time",), self.lithium(states), "mol", "Li inventory of the batch"),
            "step": (("time",), step_idx.astype(np.int32), "1", "index of the protocol step"),
        }
        variables = {name: (dims, values, {"units": units, "long_name": long}) for name, (dims, values, units, long) in per.items()}
        variables.update(_step_table(plans, events, step_idx, charges, self.mass))
        ds = xr.Dataset(variables, coords=ds.coords)
        attrs = {
            "title": "socscope particle-batch simulation",
            "model": "finite-volume Li transport in independent spheres, N_L dθ/dt = -div J",
            "n_particles": P,
            "n_shells": N,
            "batch_mass_kg": self.mass,
        }
        attrs.update(self._run_attrs(st, th0, opts))
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
    material : socscope.materials.Material or str
        A built-in name (see :func:`socscope.materials.available`) is looked up.
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
