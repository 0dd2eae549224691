"""Single-particle (and batched-particle) transport simulations.

:func:`simulate_particle` runs a protocol of galvanostatic steps, rests and
surface-θ holds on one particle and returns an :class:`xarray.Dataset`.

The model (the project's model notes (docs/numerics.md)): ``N_L ∂θ/∂t = −∇·J`` with the chosen flux law, the
particle's current shared over its active surface by a flux layout, and
the C-rate taken on the capacity of the discretised particle (so that
``C/3`` changes the mean occupancy at exactly the rate it promises).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import xarray as xr
from scipy.optimize import brentq, minimize_scalar

from .. import __version__
from .._checks import callable_or_none, fraction, instance_of, number_pair, positive_float, sorted_times, whole_number
from ..errors import ParameterError, ProtocolError, RangeWarning, SolverError, StepWarning
from ..geometry import Disc, Sphere
from ..materials import as_material
from ..numerics import (
    stack_grids,
    Event,
    KirchhoffTable,
    Segment,
    SegmentResult,
    SolverOptions,
    integrate_segment,
    laplacian_matrix,
    make_operator,
)
from ..observe import front_depth, periphery_minus_core, weighted_mean, weighted_std
from ..physics import FLUX_LAWS, F, UniformFlux, effective_diffusivity, overpotential
from ..protocols import Condition, Step, Train, parse_protocol
from .kinetics import SurfaceKinetics

__all__ = ["simulate_particle", "simulate_particles", "ParticleModel", "ParticleBatch"]

#: most samples one step may record: more is never a resolution anyone needs,
#: and each sample costs memory and post-processing (electrodes solve their
#: network once per sample, ~10 ms)
MAX_SAMPLES_PER_STEP = 1_000_000
#: most state values (samples × cells) one step may record: 2e8 float64 is 1.6 GB
MAX_VALUES_PER_STEP = 200_000_000
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


#: What ``current`` is: the mean over the interval that ends at each sample, so that the
#: piecewise-constant integral ``Σ current_k (t_k − t_{k−1})`` is the charge passed (docs/numerics.md)
CURRENT_MEAN_TEXT = ("current, positive on charge (delithiation): mean over the interval since the previous "
                     "sample (the charge passed in it over its length), so that sum(current * diff(time)) is the "
                     "charge passed")
CURRENT_LONG_NAME = CURRENT_MEAN_TEXT + "; the first sample holds the first step's current"
#: What ``current_instant`` is
CURRENT_INSTANT_LONG_NAME = ("current at the sample's state, positive on charge: the imposed current of a "
                             "constant-current step or rest, the surface flux of a hold")


def _sample_limit(n_cells: int) -> int:
    """Most samples one step of a grid of ``n_cells`` may record."""
    return min(MAX_SAMPLES_PER_STEP, MAX_VALUES_PER_STEP // max(n_cells, 1))


def _check_sample_count(step, n_samples: int, interval: float, n_cells: int) -> None:
    """Refuse an output interval that would record more than the machine can hold for ``step``."""
    limit = _sample_limit(n_cells)
    if n_samples > limit:
        span = n_samples * interval
        raise ParameterError(
            f"step {step.sentence!r}: output_interval = {interval:g} s would record {n_samples:.3g} samples of "
            f"{n_cells} cells (at most {limit:.3g} per step); record every {span / limit:.3g} s or more "
            "(--output-interval-s), or shorten the step"
        )


@dataclass(frozen=True)
class _StepPlan:
    step: Step
    current: float  # [A], positive = charge (Li removed); 0 for holds
    hold: float | None  # held surface θ or voltage [V]
    control: str  # "current" (CC and rest), "theta" (surface-θ hold) or "voltage" (CV hold)
    held_voltage: float | None = None  # a voltage hold beyond the OCP range, run as a pinned surface


@dataclass
class _RunState:
    """Where a run stands, and what it has recorded so far."""

    theta: np.ndarray
    p: float  # particle potential [V] (NaN without kinetics)
    t: float = 0.0
    charge: float = 0.0
    times: list = field(default_factory=list)
    states: list = field(default_factory=list)
    surfaces: list = field(default_factory=list)
    currents: list = field(default_factory=list)  # interval-mean current of each sample [A]
    currents_instant: list = field(default_factory=list)  # current at each sample's state [A]
    voltages: list = field(default_factory=list)
    step_idx: list = field(default_factory=list)
    charges: list = field(default_factory=list)
    plans: list = field(default_factory=list)
    events: list = field(default_factory=list)
    theta_range: list = field(default_factory=lambda: [math.inf, -math.inf])  # lowest, highest θ visited

    def visit(self, theta) -> None:
        """Widen :attr:`theta_range` to the finite values of ``theta`` (cells or surfaces, any shape)."""
        a = np.asarray(theta, dtype=float)
        a = a[np.isfinite(a)]
        if a.size:
            self.theta_range = [min(self.theta_range[0], float(a.min())), max(self.theta_range[1], float(a.max()))]

    def extend(self, t, theta, theta_s, current, voltage, step, charge, instant=None) -> None:
        """Append several samples (arrays over the first axis) of one step.

        ``current`` is the interval-mean current of each sample, ``instant``
        the current at its state (default: the same values).
        """
        self.visit(np.asarray(theta_s, dtype=float))
        self.times.extend(t)
        self.states.extend(theta)
        self.surfaces.extend(theta_s)
        self.currents.extend(current)
        self.currents_instant.extend(current if instant is None else instant)
        self.voltages.extend(voltage)
        self.step_idx.extend([step] * len(t))
        self.charges.extend(charge)

    def record(self, t, theta, theta_s, current, voltage, step, charge) -> None:
        """Append one sample."""
        self.extend([t], [theta], [theta_s], [current], [voltage], step, [charge])


class ParticleModel:
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
                if plan.control == "theta":
                    fn = lambda th, cut=cut, hold=plan.hold: float(abs(self.hold_current(th, hold)) - cut)
                else:
                    fn = lambda th, cut=cut, cpl=cpl: float(abs(cpl.total_current(th, cpl.voltage)) - cut)
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
            # the first sample (the start, no interval before it) carries the first step's current
            st.currents[0] = st.currents_instant[0] = plan.current if plan.control == "current" else 0.0
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


def step_currents(plan, ts, times_before, t0: float, charge0: float, passed=None, instant=None) -> tuple:
    """Interval-mean current, current at each state, and passed charge of one step's samples.

    Parameters
    ----------
    plan : object
        The step's plan: ``control`` ("current" for constant current and rest,
        else a hold) and, under current control, ``current`` [A].
    ts : ndarray
        The step's sample times [s]; each sample's interval is ``(t_prev, t]``
        with ``t_prev`` the sample before (the last of ``times_before`` for the
        first; none before the run's first sample).
    times_before : sequence of float
        Times already recorded.
    t0 : float
        When charge began to pass in this step (later than the step's start
        when a step ended at once passed nothing).
    charge0 : float
        Charge passed before the step [C].
    passed : ndarray, optional
        In a hold: the charge that has left the particles since the step began
        at each sample, ``F (Li₀ − Li)`` [C] (there is no imposed current).
    instant : ndarray, optional
        In a hold: the current at each sample's state [A].

    Returns
    -------
    mean, instant, charge : ndarray
        ``mean`` is the charge passed over each interval divided by its length,
        so ``Σ mean (t − t_prev)`` is the charge the step passed, in every step
        type (a sample without an interval takes its instantaneous current).
        Under current control the imposed current flowed over each whole
        interval (the conservative scheme passes exactly it), except before
        ``t0``.
    """
    ts = np.asarray(ts, dtype=float)
    t_prev = np.concatenate(([times_before[-1] if len(times_before) else ts[0]], ts[:-1]))
    span = ts - t_prev
    ok = span > 0
    if plan.control == "current":
        instant = np.full(ts.size, float(plan.current))
        charge = charge0 + plan.current * (ts - t0)
        mean = np.where(ok, plan.current * np.clip(ts - np.maximum(t_prev, t0), 0.0, None) / np.where(ok, span, 1.0),
                        instant)
        return mean, instant, charge
    charge = charge0 + np.asarray(passed, dtype=float)
    charge_prev = np.concatenate(([charge0], charge[:-1]))
    instant = np.asarray(instant, dtype=float)
    return np.where(ok, (charge - charge_prev) / np.where(ok, span, 1.0), instant), instant, charge


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


def _lithiating(currents: np.ndarray) -> np.ndarray:
    """Per sample: is Li going in (discharge)? A rest keeps the direction of the last current, and so its front."""
    sign = np.sign(np.asarray(currents, dtype=float))
    last = np.where(sign != 0, np.arange(sign.size), 0)
    np.maximum.accumulate(last, out=last)
    return sign[last] < 0


#: how far [θ] a run may go beyond a property's sources before a RangeWarning: the material's own
#: extension near the data (e.g. ni88-xu2022's OCV, measured to θ = 0.906, from the default start at
#: θ = 0.97) is recorded in the result's attributes without a warning on every run, which had taught
#: users to ignore warnings
RANGE_WARNING_MARGIN = 0.1


def _range_attrs(material, used: dict, visited) -> dict:
    """``theta_range`` and ``extrapolated_properties`` attributes; a :class:`RangeWarning` where θ went more than
    :data:`RANGE_WARNING_MARGIN` beyond a source's range.

    The warning names the material and its properties but not the run's
    numbers, so repeated runs repeat one text, which Python's default filter
    (until a ``catch_warnings`` block resets it) and the command line show
    once; each result carries its own range in its attributes.
    """
    props = material.properties
    left = {slot: prop.valid_range for slot, prop in props.items()  # in the material's order: U, D, i0, sigma
            if slot in used and not np.all(prop.in_valid_range(np.asarray(used[slot])))}
    lo, hi = visited
    far = {}
    for slot, (a, b) in left.items():
        th = np.asarray(used[slot], dtype=float)
        th = th[np.isfinite(th)]
        if th.size and max(a - float(th.min()), float(th.max()) - b) > RANGE_WARNING_MARGIN:
            far[slot] = (a, b)
    if far:
        ranges = ", ".join(f"{slot} {a:g}..{b:g}" for slot, (a, b) in far.items())
        warnings.warn(
            f"material {material.name!r}: the run took θ outside the range its sources cover ({ranges}); "
            "the properties there are the material's extension, not data. Each result's attrs "
            "'theta_range' and 'extrapolated_properties' say how far.", RangeWarning, stacklevel=1)
    return {
        "theta_range": f"[{lo!r}, {hi!r}]",
        "extrapolated_properties": ", ".join(f"{slot} (sources cover {a:g}..{b:g})" for slot, (a, b) in left.items())
                                   or "none",
    }


def _set_reason(st: _RunState, reason: str) -> None:
    """Replace the end reason of the last step run."""
    e = st.events[-1]
    st.events[-1] = (*e[:3], reason, *e[4:])


def _add_to_reason(st: _RunState, note: str) -> None:
    """Append ``note`` to the end reason of the last step run."""
    _set_reason(st, f"{st.events[-1][3]} ({note})")


def _train_capacity_reason(train, st: _RunState) -> None:
    """A pulse ended by a train's capacity shows the train's total, not the remainder the pulse carried."""
    total = next((c for c in train.until if c.quantity == "specific_capacity"), None)
    own = any(c.quantity == "specific_capacity" for c in train.pulse.until)  # the pulse's own capacity end
    if total is not None and not own and st.events[-1][3].startswith("specific_capacity"):
        _set_reason(st, f"{total.label} (train total)")


def _step_table(plans, events, step_idx, charges, mass) -> dict:
    """Per-step variables: sentence, kind, cycle, end time, why it ended, capacity passed."""
    ends = np.array([np.nonzero(step_idx == k)[0][-1] for k in range(len(plans))])
    q_end = charges[ends]
    q_start = np.concatenate(([0.0], q_end[:-1]))
    return {
        "step_kind": (("step_index",), np.array([p.step.kind for p in plans], dtype=object),
                      {"units": "1", "long_name": "charge, discharge, rest, hold_theta or hold_voltage"}),
        "step_cycle": (("step_index",), np.array([-1 if getattr(p.step, "cycle", None) is None else p.step.cycle
                                                  for p in plans], dtype=np.int32),
                       {"units": "1", "long_name": "repetition of a 'Repeat' block the step belongs to (-1: none)"}),
        "step_capacity": (("step_index",), (q_end - q_start) / (mass * 1000.0) / 3.6,
                          {"units": "mAh/g", "long_name": "charge passed in the step per gram (positive = charge)"}),
        "step_sentence": (("step_index",), np.array([p.step.sentence for p in plans], dtype=object),
                          {"units": "1", "long_name": "protocol step (text)"}),
        "step_end_time": (("step_index",), np.array([e[2] for e in events]), {"units": "s", "long_name": "time the step ended"}),
        "step_voltage_min": (("step_index",), np.array([e[7] for e in events]),
                             {"units": "V", "long_name": "lowest voltage in the step, over the recorded samples "
                                                         "and every accepted solver step"}),
        "step_voltage_max": (("step_index",), np.array([e[8] for e in events]),
                             {"units": "V", "long_name": "highest voltage in the step, over the recorded samples "
                                                         "and every accepted solver step"}),
        "step_end_reason": (("step_index",), np.array([e[3] for e in events], dtype=object),
                            {"units": "1", "long_name": "what ended the step: 'duration' or the condition met (text); "
                                              "a train's capacity as its total, and a train stopped by its "
                                              "'max N' cap says so in brackets"}),
    }


def _warn_unrecorded(out, t_end: float) -> None:
    """Warn of requested output times that lie after the run's end (they get no sample)."""
    times = out[1]
    if times is None:
        return
    late = times[times > t_end * (1 + 1e-12)]
    if late.size:
        shown = ", ".join(f"{t:g}" for t in late[:5]) + (", ..." if late.size > 5 else "")
        warnings.warn(f"{late.size} of the output_times lie after the run's end at {t_end:g} s and were not "
                      f"recorded ({shown} s)", RangeWarning, stacklevel=4)


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
