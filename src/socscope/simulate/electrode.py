"""Network electrode: many spherical particles wired to a current collector (Sharma et al., Nano Lett. 2022, the project's model notes (docs/numerics.md)).

Each particle is the radial transport model of :mod:`socscope.simulate.particle`
with Butler–Volmer kinetics at its surface and its own potential ``φ_p``
(the particle is an equipotential). The particles, the carbon-binder
junctions and the current collector are the nodes of an electronic network
(:class:`socscope.geometry.ElectrodeLayout`): carbon-binder links of
conductivity ``σ_CB`` and contacts through the NMC of the particles they
join, whose conductivity ``σ(θ̄_p)`` follows each particle's mean occupancy
(Amin & Chiang for NMC532: about three to four decades between pristine and
half-charged, depending on the pristine value taken; see docs/validation.md). The electrolyte is an equipotential at 0 V vs Li/Li⁺ (slow
rates), so the cell voltage is the collector potential ``φ_0``.

Kirchhoff's current law at every node, with ``I_p = A_p i_BV`` leaving
particle ``p`` into the electrolyte (positive on charge):

``Σ_e G_e (φ_p − φ_q) + I_p = 0`` (particles), ``Σ_e G_e (φ_j − φ_q) = 0``
(junctions), and at the collector either ``Σ_e G_e (φ_0 − φ_q) = I``
(galvanostatic) or ``φ_0 = V`` (potentiostatic).

Each Newton iteration eliminates the transport unknowns particle by particle
(every particle's tridiagonal block couples to the network only through its
surface cell and its own ``φ_p``), which leaves one sparse symmetric system
on the network nodes: ``(L(σ) + diag(∂I_p/∂φ_p|eff)) δφ = r`` — two batched
tridiagonal solves and one sparse ``LDLᵀ`` per iteration, linear in the
number of particles apart from the network factorisation. The conductances
are evaluated at the current iterate but left out of the Jacobian
(a quasi-Newton step that converges to the same solution).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from .._checks import flag, fraction, positive_float
from ..constants import F
from ..errors import GeometryError, MaterialError, ParameterError, ProtocolError, SolverError
from ..geometry import ElectrodeLayout, Sphere, electrolyte_links
from ..geometry.electrode import unique_edges
from ..materials import as_material
from ..numerics import (
    ConductanceNetwork,
    CouplingTerms,
    Event,
    Segment,
    SolverOptions,
    laplacian_apply,
    reachable,
)
from ..observe.electrode import electrode_summary
from ..protocols import parse_protocol
from .kinetics import SurfaceKinetics
from ._records import CURRENT_MEAN_TEXT, _RunState, _step_table, _warn_unrecorded, step_currents
from .particle import ParticleBatch, _run_arguments, shell_count

__all__ = ["ElectrodeModel", "NetworkKinetics", "simulate_electrode"]

#: carbon-binder conductivity of (Sharma et al., Nano Lett. 2022) [S/m]
SIGMA_CB = 1e4
#: Largest carbon-binder conductivity accepted [S/m] (above copper's 6e7).
SIGMA_CB_MAX = 1e8
#: Collector potential [V] beyond which a galvanostatic network solve gives
#: up: a cycler's compliance (no cathode is charged or discharged beyond
#: ±10 V), reached when the particles that conduct cannot pass the current.
V_COMPLIANCE = 10.0


class NetworkKinetics(SurfaceKinetics):
    """Butler–Volmer at every particle surface, joined by an electronic network.

    The algebraic unknowns ``p`` are the potentials of all network nodes
    (index 0: the current collector). See the module docstring for the
    equations and the elimination used in :meth:`newton_update`.

    Parameters
    ----------
    model : ElectrodeModel
        Supplies the grid, the surface reconstruction, the network and the
        conductances.
    current : float, optional
        Applied current [A] (galvanostatic: every potential solved).
    voltage : float, optional
        Collector potential [V] (potentiostatic: ``φ_0`` held).
    """

    def __init__(self, model: ElectrodeModel, *, current=None, voltage=None):
        super().__init__(
            model.material, model.table, model.grid.n_cells, model.surface_cells, model.surface_weights,
            model.surface_depth, model.particle_area, np.ones(model.n_particles), model.n_l,
            current=current, voltage=voltage, alpha_a=model.alpha_a, alpha_c=model.alpha_c,
        )
        self.model = model
        self.n_p = model.n_nodes
        self.pnode = model.particle_node
        self.enode = model.electrolyte_node
        self.cell_particle = model.cell_particle
        self.network = model.network_held if voltage is not None else model.network_free
        # (total_source, set by SurfaceKinetics, holds for the network too:
        # floating clusters exchange charge but pass none to the collector)

    # -- pieces ---------------------------------------------------------------------
    def _surface_terms(self, k, d, p):
        """θ_s, i and the derivatives per particle at cell state ``k`` (K values) and potentials ``p``."""
        phi = self.particle_voltage(p)
        th = self.surface(self.reconstructed(k), phi)
        i, i_th, i_p = self.local(th, phi)
        slope = self.table.evaluate(th)[1] + self.depth_c * i_th
        dth_dk = 1.0 / slope
        di_dk = i_th * dth_dk
        di_dp = i_p - i_th * self.depth_c * i_p / slope
        return th, i, di_dk, di_dp

    def particle_voltage(self, p):
        """``φ_s − φ_e`` at each particle [V]: what its Butler–Volmer kinetics see."""
        p = np.asarray(p)
        return p[..., self.pnode] - p[..., self.enode]

    def node_sources(self, i_particle: np.ndarray) -> np.ndarray:
        """Current leaving each node by reaction [A]: ``A i`` out of each particle's electronic node, into its
        electrolyte node."""
        out = np.zeros(self.n_p)
        out[self.pnode] = self.area * i_particle
        np.subtract.at(out, self.enode, self.area * i_particle)
        return out

    def residual(self, u, p, i_particle, conductance=None) -> np.ndarray:
        """Kirchhoff residual at every node [A] (zero at a solution; the collector row
        includes the applied current in galvanostatic steps)."""
        m = self.model
        g = m.conductance(u) if conductance is None else conductance
        r = laplacian_apply(m.edges, g, p, self.n_p) + self.node_sources(i_particle)
        if self.current is not None:
            r[0] -= float(self.current)
        return r

    # -- Coupling interface --------------------------------------------------------
    def start_step(self, z_pred) -> None:
        """Freeze the edge conductances for this step at the predicted state.

        The predictor is the quadratic extrapolation of the last three
        steps, so ``σ(θ̄)`` taken there differs from its value at the new
        state by O(h³) — the order of BDF2's local error — while Newton's
        method on the remaining system (with exact Jacobian) converges
        quadratically. Evaluating ``σ`` at every iterate instead leaves its
        derivative out of the Jacobian, and Newton then crawls wherever
        ``σ`` changes by orders of magnitude within a step.
        """
        self._g = self.model.conductance(z_pred[: self.n])

    def held_prediction(self, p_pred, p0):
        """Only the collector is held in a potentiostatic step; every other node potential is an unknown
        and starts from its extrapolation (restarting it from the segment's first values each step leaves
        Newton far from the solution once the currents have moved)."""
        if self.voltage is None:
            return p_pred
        p = np.array(p_pred, dtype=float)
        p[0] = p0[0]
        return p

    def _conductance(self, u):
        g = getattr(self, "_g", None)
        return g if g is not None else self.model.conductance(u)

    def evaluate(self, u, k, d, p) -> CouplingTerms:
        _, i, di_dk, di_dp = self._surface_terms(k, d, p)
        n = self.n
        scale = self.area / (F * self.n_l)
        src = np.zeros(n)
        src[self.c_out] = -scale * i
        dsu = np.zeros(n)
        dsu[self.c_out] = -scale * di_dk * self.w_out * d[self.c_out]
        dsp = np.zeros(n)
        dsp[self.c_out] = -scale * di_dp
        return CouplingTerms(src, dsu, dsp)

    def newton_update(self, op, V, a0, h, g, u, k, d, p):
        """``(δu, δφ)``: transport eliminated per particle, then one network solve."""
        _, i, di_dk, di_dp = self._surface_terms(k, d, p)
        n = self.n
        scale = self.area / (F * self.n_l)
        c_out, c_in = self.c_out, self.c_in
        cu_out = di_dk * self.w_out * d[c_out]
        cu_in = di_dk * self.w_in * d[c_in] if self.has_inner else None
        src = np.zeros(n)
        src[c_out] = -scale * i
        dsu = np.zeros(n)
        dsu[c_out] = -scale * cu_out
        dsp = np.zeros(n)
        dsp[c_out] = h * scale * di_dp
        op.factorise(a0 * V - h * dsu, h, d)
        if cu_in is not None:
            # the surface flux also depends on the inner reconstruction cell
            op.add_to_factorised(c_out, c_in, h * scale * cu_in)
        x1 = op.solve(g - h * src)
        x2 = op.solve(dsp)
        a = cu_out * x1[c_out]
        b = cu_out * x2[c_out]
        if cu_in is not None:
            a = a + cu_in * x1[c_in]
            b = b + cu_in * x2[c_in]
        # Kirchhoff rows linearised: the reaction of particle p acts as an
        # edge of conductance A (∂i/∂φ − b) between its electronic and its
        # electrolyte node, so (L + L_reaction) δφ = r − A a (electronic
        # node) and r + A a (electrolyte node): one symmetric M-matrix
        gcond = self._conductance(u)
        r = self.residual(u, p, i, gcond)
        r[self.pnode] -= self.area * a
        np.add.at(r, self.enode, self.area * a)
        g_react = self.area * (di_dp - b)
        net = self.network
        if not np.all(np.isfinite(g_react)) or np.any(g_react <= 0):
            return x1 * np.nan, np.full(self.n_p, np.nan)
        net.factorise(np.concatenate([gcond, g_react]))
        dphi = np.zeros(self.n_p)
        dphi[net.free] = net.solve(r[net.free])
        if not np.all(np.isfinite(dphi)):
            return x1 * np.nan, dphi * np.nan
        dphi = np.clip(dphi, -self.p_max_update, self.p_max_update)
        return x1 - x2 * (dphi[self.pnode] - dphi[self.enode])[self.cell_particle], dphi

    # -- states ---------------------------------------------------------------------
    def state(self, u, p):
        """``(θ_s, i)`` per particle; ``u`` (..., n_cells), ``p`` (..., n_nodes)."""
        k, _ = self.table.evaluate(u)
        phi = self.particle_voltage(p)
        th = self.surface(self.reconstructed(k), phi)
        return th, self.local(th, phi)[0]

    def total_current(self, u, p) -> float:
        """``Σ_p A_p i_p`` [A] (positive = charge)."""
        return float(self.area @ self.state(u, p)[1])

    def _kirchhoff(self, u, k, d, p, gcond):
        """``(p, i, ∂i/∂φ, residual)`` at node potentials ``p`` for the frozen state."""
        _, i, _, di_dp = self._surface_terms(k, d, p)
        return p, i, di_dp, self.residual(u, p, i, gcond)

    def solve_potential(self, u, p_start=None) -> np.ndarray:
        """Node potentials that satisfy Kirchhoff's law for the frozen state ``u`` [V].

        Newton's method on the network alone (no transport), started from
        ``p_start`` or from every node at the mean open-circuit potential;
        each update is limited to 50 mV per node and halved while it would
        raise the Kirchhoff residual (backtracking). It stops when the updates
        fall below 1e-10 V, or when Kirchhoff's residual at every node is
        below 1e-9 of the current: where surfaces have saturated (i0 → 0),
        a particle's current hardly depends on its potential, which is then
        ill-determined while the currents are not.
        """
        k, d = self.table.evaluate(u)
        if p_start is None:
            p_start = getattr(self.model, "_phi", None)
        if p_start is None:
            ocp = self.material.U(self.model.surface_theta(u, 0.0))
            p = np.full(self.n_p, float(np.mean(ocp)))
            p[self.model.electrolyte_nodes] = 0.0
            p[self.pnode] = ocp
        else:
            p = np.array(p_start, dtype=float)
        if self.voltage is not None:
            p[0] = float(self.voltage)
        net = self.network
        gcond = self.model.conductance(u)
        self._theta = None
        best, best_r, since = p.copy(), np.inf, 0
        p, i, di_dp, r = self._kirchhoff(u, k, d, p, gcond)
        for it in range(400):
            scale = max(abs(float(self.current or 0.0)), float(np.abs(self.area * i).sum()), 1e-300)
            r_max = float(np.max(np.abs(r[net.free]))) / scale
            if r_max < 0.5 * best_r:
                best, best_r, since = p.copy(), r_max, 0
            else:
                since += 1
            if it > 0 and r_max <= 1e-9:
                break
            if since >= 20 and best_r <= 1e-6:
                # saturated surfaces (i0 → 0): the currents are settled to
                # 1e-6 of the total while the potentials of those particles
                # wander without changing them
                return best
            net.factorise(np.concatenate([gcond, self.area * di_dp]))
            dphi = np.zeros(self.n_p)
            dphi[net.free] = net.solve(r[net.free])
            dphi = np.clip(dphi, -self.p_max_update, self.p_max_update)
            newton_size = float(np.max(np.abs(dphi)))
            # backtracking on the Kirchhoff residual: near saturated or
            # barely conducting particles the full Newton step can overshoot
            # and cycle (seen: two potentials swapping by 0.6 mV forever);
            # halve it (down to 2^-10) until the residual does not grow, else
            # take the full step (far from the solution the clipped steps
            # leave the residual unchanged and must be taken). Updates below
            # 1e-8 V are left alone: there the residual is round-off (~1e-18 A)
            # and comparing it would only stall the last quadratic steps.
            full = trial = self._kirchhoff(u, k, d, p - dphi, gcond)
            if newton_size > 1e-8:
                norm0 = float(np.linalg.norm(r[net.free]))
                lam = 1.0
                while float(np.linalg.norm(trial[3][net.free])) > norm0 and lam > 2.0 ** -10:
                    lam *= 0.5
                    trial = self._kirchhoff(u, k, d, p - lam * dphi, gcond)
                if float(np.linalg.norm(trial[3][net.free])) > norm0:
                    trial = full
            p, i, di_dp, r = trial
            if newton_size <= 1e-10:  # the full Newton update, not the damped one
                break
            if self.current is not None and abs(float(p[0])) > V_COMPLIANCE:
                # the collector ran past any cell's voltage: no solution in reach
                raise ProtocolError(self.model._cannot_pass(u, self.current, float(p[0]), best_r))
        else:
            raise ProtocolError(self.model._cannot_pass(u, self.current, float(p[0]), best_r))
        return p


class ElectrodeModel(ParticleBatch):
    """A network electrode ready to run protocols (see the module docstring).

    Parameters
    ----------
    material : socscope.materials.Material or str
        A built-in name (see :func:`socscope.materials.available`) is looked up.
        Needs ``U``, ``i0`` and ``sigma`` (e.g. ``nmc532``).
    layout : socscope.geometry.ElectrodeLayout
        Particles (radii), junctions, collector and the edges between them.
    n_shells : int
        Radial shells per particle.
    sigma_cb : float
        Carbon-binder conductivity [S/m] (default 1e4, (Sharma et al., Nano Lett. 2022)).
    conductivity : {"theta", "constant"}
        ``"theta"``: NMC conductivity follows each particle's mean occupancy,
        ``σ(θ̄_p)``; ``"constant"``: fixed at ``σ(initial θ)`` throughout (the
        control of (Sharma et al., Nano Lett. 2022) without the SOC dependence).
    electrolyte_conductivity : float, optional
        Effective ionic conductivity of the pore electrolyte [S/m] (for fast
        rates): the electrolyte becomes a resistor network between the
        particles and the separator (:func:`socscope.geometry.electrolyte_links`)
        and each particle reacts against its local electrolyte potential.
        None (default): a uniform electrolyte at 0 V.
    flux, c_rate_basis_mAh_g, transfer_coefficients
        As in :class:`~socscope.simulate.ParticleModel`. The C-rate is on the
        mass of all particles, isolated ones included.
    """

    _SUBJECT = "the electrode"

    def __init__(self, material, layout, *, n_shells: int = 20, sigma_cb: float = SIGMA_CB,
                 conductivity: str = "theta", electrolyte_conductivity: float | None = None, flux: str = "chemical",
                 c_rate_basis_mAh_g: float | None = None,
                 transfer_coefficients: tuple[float, float] | None = None):
        material = as_material(material)
        if not isinstance(layout, ElectrodeLayout):
            raise ParameterError(f"layout must be a socscope ElectrodeLayout, got {type(layout).__name__}; build one "
                                 "with socscope.geometry.random_layout, layered_layout or layout_from_labels")
        for slot in ("U", "i0", "sigma"):
            if getattr(material, slot) is None:
                raise MaterialError(
                    f"material {material.name!r} has no {slot}(θ); the network electrode needs U, i0 and sigma "
                    "(e.g. ss.materials.get('nmc532'))"
                )
        sigma_cb = positive_float("sigma_cb", sigma_cb, unit=" S/m", example="1e4")
        if sigma_cb > SIGMA_CB_MAX:
            # beyond any carbon (copper is 6e7 S/m) the network matrix spans so many orders of
            # magnitude that its factorisation loses every digit of the particles' conductances
            raise ParameterError(f"sigma_cb = {sigma_cb:g} S/m is above {SIGMA_CB_MAX:g} S/m (copper: 6e7 S/m); "
                                 "carbon-binder is about 1e4 S/m, e.g. sigma_cb=1e4")
        if conductivity not in ("theta", "constant"):
            raise ParameterError(f"conductivity = {conductivity!r}; use 'theta' (σ(θ̄) per particle) or 'constant'")
        n_shells = shell_count(n_shells, "n_shells", layout.n_particles)
        self.electrolyte_conductivity = None if electrolyte_conductivity is None else positive_float(
            "electrolyte_conductivity", electrolyte_conductivity, unit=" S/m",
            example="0.1 (an effective value; None for a uniform electrolyte)")
        self.layout = layout
        self.sigma_cb = float(sigma_cb)
        self.conductivity = conductivity
        self._kinetics_request = ("none", transfer_coefficients)  # set up below, as a network
        super().__init__(material, [Sphere(float(r)) for r in layout.particle_radius], n_cells=n_shells,
                         flux=flux, c_rate_basis_mAh_g=c_rate_basis_mAh_g)
        self._setup_network()

    # -- setup -----------------------------------------------------------------------
    LOAD_DROP = "the kinetic overpotential and the drop through the electrode network"

    def _used_properties(self, visited, th0) -> dict:
        # a constant σ is σ(θ0), taken where the run starts
        return {**super()._used_properties(visited, th0), "sigma": visited if self.conductivity == "theta" else (th0, th0)}

    def _remedy(self) -> str:
        ionic = ("" if self.electrolyte_conductivity is None
                 else f", electrolyte_conductivity = {self.electrolyte_conductivity:g} S/m")
        return ("Lower the current, move the cut-off, or check the conductivities the current passes through "
                f"(sigma_cb = {self.sigma_cb:g} S/m{ionic}, the material's σ(θ)).")

    def _rest_voltage(self, theta: np.ndarray) -> float:
        """Collector potential of state ``theta`` at zero cell current [V] (particles may still exchange Li)."""
        return float(NetworkKinetics(self, current=0.0).solve_potential(theta, self._phi)[0])

    def _setup_kinetics(self, kinetics, transfer_coefficients) -> None:
        super()._setup_kinetics("none", transfer_coefficients)
        self.kinetics = "butler-volmer"
        self.coupled_current = True

    def _setup_network(self) -> None:
        lay = self.layout
        n_part = self.n_particles
        n_nodes = 1 + lay.n_junctions + n_part
        edges = np.asarray(lay.edges, dtype=np.int64).reshape(-1, 2)
        pnode = 1 + lay.n_junctions + np.arange(n_part)
        # junction clusters that reach neither the collector nor a particle
        # carry no current and would make the network singular: drop them
        keep = reachable(edges, n_nodes, np.concatenate([[0], pnode]))
        new = np.full(n_nodes, -1, dtype=np.int64)
        new[keep] = np.arange(int(keep.sum()))
        e_keep = keep[edges[:, 0]] & keep[edges[:, 1]]
        self.edges = new[edges[e_keep]]
        self.n_nodes = int(keep.sum())
        self.particle_node = new[pnode]
        self.carbon_factor = np.asarray(lay.carbon_factor, dtype=float)[e_keep]
        self.nmc_factor = np.asarray(lay.nmc_factor, dtype=float).reshape(-1, 2)[e_keep]
        is_p = np.zeros(self.n_nodes, dtype=np.int64) - 1
        is_p[self.particle_node] = np.arange(n_part)
        self.edge_particle = is_p[self.edges]
        self.connected = reachable(self.edges, self.n_nodes, [0])[self.particle_node]
        if not self.connected.any():
            raise GeometryError(
                "no particle has a path to the current collector; add carbon-binder links or contacts "
                "from the collector (node 0) to the particles"
            )
        # the electrolyte: one node held at 0 V (uniform electrolyte; the
        # Li counter electrode is the reference), or one node per particle
        # joined through the pore electrolyte and to the separator node
        n_e = self.n_nodes
        self.n_electronic_nodes, self.n_electronic_edges = n_e, int(self.edges.shape[0])
        if self.electrolyte_conductivity is None:
            ground = n_e
            self.electrolyte_node = np.full(n_part, ground, dtype=np.int64)
            ion_edges, self.ion_conductance = np.zeros((0, 2), dtype=np.int64), np.zeros(0)
        else:
            pairs, g_pairs, sep, g_sep = electrolyte_links(lay, self.electrolyte_conductivity)
            ground = n_e + n_part
            self.electrolyte_node = n_e + np.arange(n_part)
            ion_edges = np.vstack([self.electrolyte_node[pairs],
                                   np.column_stack([self.electrolyte_node[sep], np.full(sep.size, ground)])])
            self.ion_conductance = np.concatenate([g_pairs, g_sep])
        self.ground = ground
        self.electrolyte_nodes = np.arange(n_e, ground + 1)
        self.n_nodes = ground + 1
        self.edges = np.vstack([self.edges, ion_edges]).astype(np.int64)
        # the network the Newton iterations solve: electronic and ionic edges,
        # then one reaction edge per particle (electronic node – electrolyte node)
        react = np.column_stack([self.particle_node, self.electrolyte_node])
        all_edges = np.vstack([self.edges, react])
        self.network_free = ConductanceNetwork(all_edges, self.n_nodes, held=[ground])
        self.network_held = ConductanceNetwork(all_edges, self.n_nodes, held=[0, ground])
        self.cell_particle = np.repeat(np.arange(n_part), self.n_shells)
        vol = self.grid.volumes.reshape(n_part, self.n_shells)
        self.shell_weights = vol / vol.sum(axis=1, keepdims=True)
        self.particle_area = self.grid.boundary_area  # one surface element per particle
        self.particle_mass = self.material.density * vol.sum(axis=1)
        self._sigma_fixed = None

    # -- network ---------------------------------------------------------------------
    def particle_theta(self, u) -> np.ndarray:
        """Volume-mean θ of each particle, ``u`` (..., n_cells) → (..., n_particles)."""
        shaped = np.asarray(u).reshape(np.shape(u)[:-1] + (self.n_particles, self.n_shells))
        return np.einsum("...pn,pn->...p", shaped, self.shell_weights)

    def particle_sigma(self, u) -> np.ndarray:
        """NMC conductivity of each particle [S/m]."""
        if self.conductivity == "constant":
            return np.broadcast_to(self._sigma_fixed, np.shape(u)[:-1] + (self.n_particles,))
        return self.material.sigma(np.clip(self.particle_theta(u), 0.0, 1.0))

    def conductance(self, u) -> np.ndarray:
        """Conductance of every electronic, then every ionic, edge [S] at cell state ``u``."""
        res = self._resistance(self.particle_sigma(u))
        ion = np.broadcast_to(self.ion_conductance, res.shape[:-1] + (self.ion_conductance.size,))
        return np.concatenate([1.0 / res, ion], axis=-1)

    def _integrate_step(self, step, plan, k, seg, z0, cpl, theta, t, p0, opts, out, cb):
        """The particle model's step; a solver failure names the conductivities it ran into."""
        try:
            return super()._integrate_step(step, plan, k, seg, z0, cpl, theta, t, p0, opts, out, cb)
        except SolverError as exc:
            last = getattr(exc, "state", None)
            u = theta if last is None else np.asarray(last)[: self.grid.n_cells]
            raise SolverError(f"{exc}; {self._sigma_text(u)}: where sigma changes by orders of magnitude between "
                              "neighbouring particles the step size collapses; check sigma (Material.sigma) and "
                              "the contact sizes, or loosen the solver's rtol") from None

    def _sigma_text(self, u) -> str:
        """The NMC conductivities of the particles at state ``u``, for messages."""
        sig = np.asarray(self.particle_sigma(u), dtype=float)
        th = np.asarray(self.particle_theta(u), dtype=float)
        return (f"the NMC conductivity sigma of {self.material.name} spans {sig.min():.3g}–{sig.max():.3g} S/m "
                f"over the particles (mean θ {th.min():.3g}–{th.max():.3g})")

    def _cannot_pass(self, u, current, p0: float, residual: float) -> str:
        """Why the network cannot carry ``current`` at state ``u`` (one line, naming σ)."""
        if current is None or current == 0.0:
            return (f"the network potentials could not be found for this state (Kirchhoff residual {residual:.3g} "
                    f"of the current after 400 Newton iterations); {self._sigma_text(u)}: a conductivity this low "
                    "or this steep leaves the network ill-posed; raise sigma (Material.sigma) or the contact size")
        return (f"the electrode cannot pass {abs(current):.3g} A at this state: {self._sigma_text(u)}, so the "
                f"particles that conduct saturate and the rest are out of reach (the collector ran to {p0:.3g} V "
                f"with a Kirchhoff residual of {residual:.3g} of the current); raise sigma (Material.sigma) or the "
                "NMC–NMC contact size, wire more particles to the carbon, or lower the current")

    def _saturation_message(self, step, plan) -> str:
        msg = super()._saturation_message(step, plan).replace("the particle surface", "a particle surface", 1)
        n_iso = int((~self.connected).sum())
        if n_iso:
            msg += (f" ({n_iso} of {self.n_particles} particles are isolated and keep their Li, so the connected "
                    "ones carry the whole current and the electrode's mean θ cannot reach every value)")
        return msg

    def _resistance(self, sig) -> np.ndarray:
        """Resistance of every electronic edge [Ω] for particle conductivities ``sig`` (..., n_particles)."""
        res = self.carbon_factor / self.sigma_cb
        for end in (0, 1):
            p = self.edge_particle[:, end]
            has = p >= 0
            res = res + np.where(has, self.nmc_factor[:, end] / sig[..., np.where(has, p, 0)], 0.0)
        return res

    # -- segments and events -------------------------------------------------------------
    def _segment(self, plan, theta, p_guess):
        zero = np.zeros(self.grid.n_cells)
        if plan.control == "theta" and plan.held_voltage is not None:
            lo, hi = self._ocp_range()
            raise ProtocolError(f"step {plan.step.sentence!r}: an electrode holds voltages inside the open-circuit "
                                f"range of {self.material.name} ({lo:.3f}–{hi:.3f} V); single particles also hold "
                                "beyond it (as a saturated surface); hold the electrode inside the range")
        if plan.control == "theta":
            raise ProtocolError(f"step {plan.step.sentence!r}: surface-θ holds apply to single particles; "
                                "hold the electrode at a voltage instead ('Hold at 4.3 V for 1 hour')")
        if plan.control == "voltage":
            cpl = NetworkKinetics(self, voltage=plan.hold)
            phi = cpl.solve_potential(theta, self._phi)
            return Segment(self._op_flux, zero, blocks=None, coupling=cpl), np.concatenate([theta, phi]), cpl
        cpl = NetworkKinetics(self, current=plan.current)
        blocks = np.array([0, self.grid.n_cells])
        return Segment(self._op_flux, zero, blocks=blocks, coupling=cpl), np.concatenate([theta, self._phi]), cpl

    def _events(self, plan, theta0, cpl, p0):
        n = self.grid.n_cells
        events = []
        own = ("theta_surface", "current", "specific_current", "c_rate")
        rest = [c for c in plan.step.until if c.quantity not in own]
        if rest:
            sub = dataclasses.replace(plan, step=dataclasses.replace(plan.step, until=tuple(rest)))
            events.extend(super()._events(sub, theta0, cpl, p0))
        for cond in plan.step.until:
            q, target = cond.quantity, cond.value
            if q == "theta_surface":
                down = plan.current > 0 or (plan.control == "voltage" and plan.hold > p0)
                pick = np.min if down else np.max
                g0 = float(pick(self.surface_theta(theta0, 0.0)) - target)
                fn = lambda z, target=target, pick=pick, cpl=cpl: float(pick(cpl.state(z[:n], z[n:])[0]) - target)
                events.append(self._check_start(plan.step, cond, Event(cond.label, fn, None, initial=g0),
                                                g0, 1 if down else -1))
            elif q in own:
                cut = abs(self._current_value(q, target))
                # relative to the cut-off, as for a particle (the event tolerance is then scale-free)
                fn = lambda z, cut=cut, cpl=cpl: float(abs(cpl.total_current(z[:n], z[n:])) / cut - 1.0)
                # a hold starts with its largest current, above any cut-off
                events.append(Event(cond.label, fn, None, initial=1.0))
        return events

    # -- running ---------------------------------------------------------------------------
    def run(self, protocol, *, initial_theta: float = 0.97, output_interval: float | None = 600.0,
            output_times: Sequence[float] | None = None, solver: SolverOptions | None = None,
            progress: Callable[[float, int, int], None] | None = None, radial_profiles: bool | None = None
            ) -> xr.Dataset:
        """Run a protocol; see :func:`simulate_electrode`."""
        items = parse_protocol(protocol)
        th0, opts, out = _run_arguments(initial_theta, output_interval, output_times, solver, progress,
                                        SolverOptions(rtol=1e-4, atol=1e-6))
        radial_profiles = flag("radial_profiles", radial_profiles, allow_none=True)
        self._profiles = (self.n_particles <= 1000) if radial_profiles is None else radial_profiles
        theta = np.full(self.grid.n_cells, th0)
        self._sigma_fixed = self.material.sigma(np.full(self.n_particles, th0))
        rest_cpl = NetworkKinetics(self, current=0.0)
        self._phi = None
        self._phi = rest_cpl.solve_potential(theta)
        self._rec = {k: [] for k in ("phi_particle", "phi_electrolyte", "i_particle", "profiles", "lithium", "centre")}
        st = _RunState(theta=theta, p=float(self._phi[0]))
        self._record(st, _RestPlan, 0, [0.0], [np.concatenate([theta, self._phi])], rest_cpl, 0.0, 0.0,
                     self.lithium(theta))
        self._run_items(items, st, opts, out, progress)
        _warn_unrecorded(out, st.t)
        return self._dataset(st, th0, opts)

    def _record(self, st, plan, k, ts, zs, cpl, t0, charge0, li0) -> None:
        """Append the samples of one step, reduced to per-particle quantities."""
        n = self.grid.n_cells
        ts = np.asarray(ts, dtype=float)
        zs = np.atleast_2d(np.asarray(zs, dtype=float))
        u = zs[:, :n]
        st.visit(u)
        # samples between steps are interpolated; the potentials, which the
        # step-size control does not watch, are solved again for each
        # sample's θ so that every record satisfies Kirchhoff's law
        p = np.array([cpl.solve_potential(row_u, row_p) for row_u, row_p in zip(u, zs[:, n:])])
        surf, i_e = cpl.state(u, p)
        cpl._theta = None  # the warm start of the Newton solves has a different shape
        i_part = i_e * self.particle_area
        if plan.control == "current":
            mean, cur, charge = step_currents(plan, ts, st.times, t0, charge0)
        else:
            mean, cur, charge = step_currents(plan, ts, st.times, t0, charge0, F * (li0 - self.lithium(u)),
                                              i_part.sum(axis=1))
        st.extend(ts, self.particle_theta(u), surf, mean, p[:, 0], max(k, 0), charge, instant=cur)
        rec = self._rec
        rec["lithium"].extend(self.lithium(u))
        rec["phi_particle"].extend(p[:, self.particle_node])
        rec["phi_electrolyte"].extend(p[:, self.electrolyte_node])
        rec["i_particle"].extend(i_part)
        rec["centre"].extend(u.reshape(-1, self.n_particles, self.n_shells)[:, :, 0])
        if self._profiles:
            self._rec["profiles"].extend(u.reshape(-1, self.n_particles, self.n_shells))
        self._phi = p[-1].copy()

    def _dataset(self, st, th0, opts) -> xr.Dataset:
        lay = self.layout
        times = np.array(st.times)
        mean_p = np.array(st.states)
        surf = np.array(st.surfaces)
        step_idx, charges = np.array(st.step_idx), np.array(st.charges)
        mp = self.particle_mass
        pos = np.asarray(lay.particle_position, dtype=float)
        # the first sample is the rested state before the first step: its
        # current is what the particles pass there (zero), not the step's
        i_part = np.array(self._rec["i_particle"])
        currents, instant = np.array(st.currents), np.array(st.currents_instant)
        currents[0] = instant[0] = i_part[0].sum()
        coords = {
            "time": ("time", times, {"units": "s", "long_name": "time"}),
            "particle": ("particle", np.arange(self.n_particles), {"long_name": "particle index"}),
            "radius": ("particle", np.asarray(lay.particle_radius, dtype=float), {"units": "m", "long_name": "particle radius"}),
            "x": ("particle", pos[:, 0], {"units": "m", "long_name": "particle centre, first in-plane coordinate"}),
            "z": ("particle", pos[:, -1], {"units": "m", "long_name": "particle centre height above the collector"}),
        }
        if pos.shape[1] == 3:
            coords["y"] = ("particle", pos[:, 1], {"units": "m", "long_name": "particle centre, second in-plane coordinate"})
        per = {
            "theta_particle_mean": (("time", "particle"), mean_p, "1", "volume-weighted mean occupancy of each particle"),
            "theta_particle_surface": (("time", "particle"), surf, "1", "occupancy at each particle's surface"),
            "theta_particle_centre": (("time", "particle"), np.array(self._rec["centre"]), "1",
                                      "occupancy at each particle's centre"),
            "particle_potential": (("time", "particle"), np.array(self._rec["phi_particle"]), "V",
                                   "electronic potential of each particle vs Li/Li+"),
            "particle_current": (("time", "particle"), i_part, "A",
                                 "reaction current of each particle, positive on charge (delithiation)"),
            "theta_mean": (("time",), mean_p @ (mp / mp.sum()), "1", "mass-weighted mean occupancy of the electrode"),
            "voltage": (("time",), np.array(st.voltages), "V", "cell voltage: current-collector potential vs Li/Li+"),
            "current": (("time",), currents, "A", "cell " + CURRENT_MEAN_TEXT + "; the first sample, the rested "
                        "start, holds what the particles pass there"),
            "current_instant": (("time",), instant, "A", "cell current at the sample's state, positive on charge: "
                                "the imposed current of a constant-current step or rest, the particles' total "
                                "reaction current in a hold"),
            "charge": (("time",), charges, "C", "charge passed since the start, positive = Li removed"),
            "specific_capacity": (("time",), charges / (self.mass * 1000.0) / 3.6, "mAh/g",
                                  "charge passed per gram of active material"),
            "lithium": (("time",), np.array(self._rec["lithium"]), "mol", "Li inventory of all particles"),
            "step": (("time",), step_idx.astype(np.int32), "1", "index of the protocol step"),
            "isolated": (("particle",), ~self.connected, "1", "particle without a path to the collector"),
            "top": (("particle",), np.asarray(lay.top, dtype=bool), "1", "particle seen from the top surface"),
            "coverage": (("particle",), np.asarray(lay.coverage, dtype=float), "1", "carbon-binder coverage"),
            # an isolated particle has no path (infinite resistance): NaN in the result, as infinities
            # mark a damaged results file (io.results.results_problem)
            "electrical_distance": (("particle",), np.where(self.connected, self.electrical_distance(th0), np.nan),
                                    "ohm", "least path resistance to the collector at the initial occupancy "
                                    "(NaN: isolated, no path)"),
        }
        if self.electrolyte_conductivity is not None:
            per["electrolyte_potential"] = (("time", "particle"), np.array(self._rec["phi_electrolyte"]), "V",
                                            "pore-electrolyte potential at each particle vs the Li counter electrode")
        variables = {k: (d, v, {"units": u, "long_name": ln}) for k, (d, v, u, ln) in per.items()}
        if self._profiles:
            coords["shell"] = ("shell", np.arange(self.n_shells), {"long_name": "radial shell index (0 = centre)"})
            coords["r"] = (("particle", "shell"), self.grid.cell_xy[:, 0].reshape(self.n_particles, self.n_shells),
                           {"units": "m", "long_name": "shell-centre radius"})
            variables["theta"] = (("time", "particle", "shell"), np.array(self._rec["profiles"]),
                                  {"units": "1", "long_name": "Li occupancy θ of each shell"})
        variables.update(_step_table(st.plans, st.events, step_idx, charges, self.mass))
        ds = xr.Dataset(variables, coords=coords)
        attrs = {
            "title": "socscope network-electrode simulation",
            "model": ("radial Li transport in each particle, Butler-Volmer at each surface, electronic network "
                      "(Kirchhoff) between particles, carbon-binder junctions and the current collector; "
                      "electrolyte at 0 V"),
            "layout": getattr(lay, "name", "custom"),
            "n_particles": self.n_particles,
            "n_isolated": int((~self.connected).sum()),
            "n_nodes": self.n_electronic_nodes,
            "n_edges": self.n_electronic_edges,
            "electrolyte": ("uniform, 0 V" if self.electrolyte_conductivity is None else
                            f"ionic network, effective conductivity {self.electrolyte_conductivity:g} S/m"),
            "n_shells": self.n_shells,
            "sigma_cb_S_m": self.sigma_cb,
            "conductivity": self.conductivity,
            "electrode_mass_kg": self.mass,
        }
        attrs.update(self._run_attrs(st, th0, opts))
        ds.attrs.update(attrs)
        return ds

    def electrical_distance(self, theta: float) -> np.ndarray:
        """Least-resistance path from each particle to the collector at uniform occupancy ``theta`` [Ω]."""
        import scipy.sparse as sp
        from scipy.sparse.csgraph import dijkstra

        theta = fraction("theta", theta, closed="01", example="0.97 (the Li occupancy)",
                         owner="ElectrodeModel.electrical_distance")
        # σ(θ) of the material at that occupancy, whatever the run's conductivity mode
        sig = np.full(self.n_particles, float(self.material.sigma(theta)))
        ne = self.n_electronic_edges
        n = self.n_electronic_nodes
        # parallel links: the least resistive one, as ElectrodeLayout.electrical_distance
        lo, hi, res = unique_edges(self.edges[:ne], n, self._resistance(sig)[:ne])
        adj = sp.csr_matrix((res, (lo, hi)), shape=(n, n))
        dist = dijkstra(adj, directed=False, indices=0)
        return dist[self.particle_node]


class _Rest:
    """The plan of the initial sample (no step yet)."""

    control = "current"
    current = 0.0


_RestPlan = _Rest()


def simulate_electrode(
    material,
    layout,
    protocol,
    *,
    n_shells: int = 20,
    initial_theta: float = 0.97,
    sigma_cb: float = SIGMA_CB,
    conductivity: str = "theta",
    electrolyte_conductivity: float | None = None,
    flux: str = "chemical",
    c_rate_basis_mAh_g: float | None = None,
    transfer_coefficients: tuple[float, float] | None = None,
    output_interval: float | None = 600.0,
    output_times: Sequence[float] | None = None,
    radial_profiles: bool | None = None,
    observables: bool = True,
    solver: SolverOptions | None = None,
    progress: Callable[[float, int, int], None] | None = None,
) -> xr.Dataset:
    """Simulate a network electrode through a protocol.

    Parameters
    ----------
    material : socscope.materials.Material or str
        A built-in name (see :func:`socscope.materials.available`) is looked up.
        With ``U``, ``i0`` and ``sigma`` (e.g. ``nmc532``).
    layout : socscope.geometry.ElectrodeLayout
    protocol : str or sequence of str
        Experiment sentences, as for :func:`simulate_particle`; currents and
        voltages are the cell's.
    n_shells : int
        Radial shells per particle.
    initial_theta : float
        Uniform starting occupancy.
    sigma_cb : float
        Carbon-binder conductivity [S/m].
    conductivity : {"theta", "constant"}
        NMC conductivity from each particle's mean occupancy, or fixed at its
        initial value.
    electrolyte_conductivity : float, optional
        Effective pore-electrolyte conductivity [S/m] for an ionic network
        (fast rates); None: uniform electrolyte.
    output_interval : float or None
        Sampling interval [s] (default 10 min).
    radial_profiles : bool, optional
        Keep every shell's θ (``theta``, time × particle × shell); default
        only up to 1 000 particles.
    observables : bool
        Add the per-half-cycle observables of
        :func:`socscope.observe.electrode_summary` (onsets, asynchrony
        index, unreacted share, capacity not recovered).
    solver : SolverOptions, optional
        Default ``rtol=1e-4, atol=1e-6``.

    Returns
    -------
    xarray.Dataset
        Per particle and time: ``theta_particle_mean``, ``_surface``,
        ``_centre``, ``particle_potential`` [V], ``particle_current`` [A];
        cell ``voltage``, ``current`` (each sample's mean over the interval
        before it, so ``Σ current Δt`` is the charge passed in every step
        type), ``current_instant`` (at each sample's state), ``charge``,
        ``lithium``; per particle:
        ``isolated``, ``top``, ``coverage``, ``electrical_distance``; per
        step the table of :func:`simulate_particle`; with ``observables``,
        per half-cycle and particle ``onset_soc``, ``midpoint_soc``,
        ``width_soc``, ``onset_time``, ``reacted`` and per half-cycle
        ``asynchrony_index``, ``classification``, ``fraction_unreacted``,
        ``voltage_dips`` (:func:`socscope.observe.voltage_dips`).
    """
    observables = flag("observables", observables)
    model = ElectrodeModel(material, layout, n_shells=n_shells, sigma_cb=sigma_cb, conductivity=conductivity,
                           electrolyte_conductivity=electrolyte_conductivity, flux=flux, c_rate_basis_mAh_g=c_rate_basis_mAh_g,
                           transfer_coefficients=transfer_coefficients)
    ds = model.run(protocol, initial_theta=initial_theta, output_interval=output_interval,
                   output_times=output_times, solver=solver, progress=progress, radial_profiles=radial_profiles)
    if not observables:
        return ds
    try:
        return electrode_summary(ds)
    except ParameterError:  # no half-cycle (a rest only): nothing to add
        return ds
