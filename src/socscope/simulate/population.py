"""A particle population for single-particle ICP-OES (Kröger et al.; a population of network-electrode contact groups).

Thousands of NMC532 particles with distributions of size, carbon-binder
contact and isolation, cycled by a protocol and finished by a slow charge to
4.4 V (6 mA/g, as in Kröger et al.); the result is each particle's degree of
lithiation (DOL), ready for :func:`socscope.observe.spicp.spicp_events`.

**Built on the network electrode.** The particles are split into *contact
groups* of ``group_size`` particles, each a random 3D electrode
(:func:`socscope.geometry.random_layout`: particles, carbon-binder
junctions, NMC–NMC contacts) or, with ``network="wired"``, particles wired
one by one to the collector through identical contacts (a uniform network).
Groups of one batch are joined at one current collector into a single
:class:`~socscope.geometry.ElectrodeLayout` and solved together by
:func:`socscope.simulate.simulate_electrode` (one network, one Newton solve
per step for the whole batch). A real electrode connects its particles more
widely, but the current a particle receives depends on its own path to the
collector and its neighbours', which a group of a few hundred particles
holds; the batches bound the memory (only the final state of each batch
is kept) and the factorisation of each network stays small.

**Isolation.** A fraction ``isolated_fraction`` is isolated from the start
(fabrication: no carbon-binder or NMC link at all). Contact loss during
cycling follows :class:`ContactLossRule`: after the protocol's charge steps
at C-rates ``C_j``,

``f_iso = 1 − (1 − f0) · exp(−k · Σ_j (C_j / 1C)^β)``

(each charge at ``C`` cuts a further share ``k C^β`` of the still-connected
particles off). A particle that loses contact is taken to lose it in the
discharged state in which each cycle ends (the protocol's starting state),
so it keeps the initial θ — the simplification that lets the model cycle
only the last ``simulate_cycles`` repetitions of a ``Repeat`` block. The
network model has no ageing of its own (no side reactions), so repeating the
same cycle returns it to the same state; the ageing is entirely in the rule.
Isolated particles keep their θ exactly.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import numpy as np
import xarray as xr

from .._checks import fraction, in_range, positive_float, whole_number
from ..errors import ParameterError, ProtocolError, SolverError
from ..geometry import ElectrodeLayout, random_layout
from ..materials import as_material
from ..numerics import SolverOptions
from ..protocols import Step, parse_protocol
from .electrode import simulate_electrode

__all__ = ["FINAL_CHARGE", "ContactLossRule", "simulate_population"]

#: the final slow charge of Kröger et al.: 6 mA/g to 4.4 V
FINAL_CHARGE = "Charge at 6 mA/g until 4.4 V"


@dataclasses.dataclass(frozen=True)
class ContactLossRule:
    """Share of particles cut off by cycling: ``1 − (1 − f0) exp(−k Σ_j C_j^β)``.

    Attributes
    ----------
    k_per_cycle : float
        Share of the connected particles lost per charge at 1C (>= 0).
    exponent : float
        β: how steeply the loss grows with the C-rate (>= 0).

    The defaults (``k = 2.15e-4``, ``β = 2.23``) make the isolated share
    grow from 6 % to 8 % after 100 charges at 1C and to 15 % after 100 at 2C:
    two of Kröger et al.'s diverging fractions, fitted. The rule has no notion of
    cracking opening new surfaces, which Kröger et al. proposes for its 3C cells.
    """

    k_per_cycle: float = 2.15e-4
    exponent: float = 2.23

    def __post_init__(self):
        in_range("k_per_cycle", self.k_per_cycle, 0.0, 1.0, example="2.15e-4", owner="ContactLossRule")
        in_range("exponent", self.exponent, 0.0, 10.0, example="2.23", owner="ContactLossRule")

    def load(self, c_rates) -> float:
        """``k Σ_j C_j^β`` over the charge steps' C-rates."""
        c = np.asarray(c_rates, dtype=float)
        return float(self.k_per_cycle * np.sum(c ** self.exponent))

    def isolated_fraction(self, initial: float, c_rates) -> float:
        """The isolated share after charges at ``c_rates`` from an initial share ``initial``."""
        return 1.0 - (1.0 - initial) * math.exp(-self.load(c_rates))


def _c_rate(step: Step, capacity_mAh_g: float) -> float:
    if step.current_unit == "C":
        return float(step.current_value)
    if step.current_unit == "A/g":
        return float(step.current_value) * 1e3 / capacity_mAh_g
    raise ProtocolError(f"step {step.sentence!r}: give population currents as a C-rate or a specific current "
                        "(e.g. 'Charge at 1C until 4.2 V' or '160 mA/g'); a current in A has no meaning for a population")


def _split_protocol(protocol, simulate_cycles: int, capacity_mAh_g: float):
    """``(steps to simulate, C-rates of every charge step)``: only the last ``simulate_cycles`` repetitions run."""
    if isinstance(protocol, str) and not protocol.strip() or not isinstance(protocol, str) and not list(protocol):
        return [], []
    items = parse_protocol(protocol)
    if any(not isinstance(s, Step) for s in items):
        raise ProtocolError("GITT/PITT trains are not supported in a population protocol; use charge, discharge, "
                            "rest and hold steps (with 'Repeat N: [...]')")
    cycles = [s.cycle for s in items if s.cycle is not None]
    last = max(cycles) if cycles else -1
    keep = [s for s in items if s.cycle is None or s.cycle > last - simulate_cycles]
    rates = [_c_rate(s, capacity_mAh_g) for s in items if s.kind == "charge"]
    return keep, rates


def _wired_layout(radii: np.ndarray, coverage: float) -> ElectrodeLayout:
    """Particles each wired to the collector through an identical contact (a uniform network)."""
    n = radii.size
    x = np.cumsum(3.0 * radii) - 1.5 * radii
    return ElectrodeLayout(
        particle_radius=radii, particle_position=np.column_stack([x, radii]), junction_position=np.zeros((0, 2)),
        edges=np.column_stack([np.zeros(n, np.int64), np.arange(n) + 1]), carbon_factor=np.full(n, 1e6),
        nmc_factor=np.zeros((n, 2)), coverage=np.full(n, coverage), top=np.ones(n, bool), name="wired")


def _merge(layouts: list[ElectrodeLayout]) -> ElectrodeLayout:
    """One layout of several groups sharing the current collector (node 0); group g is shifted along x."""
    dim = layouts[0].particle_position.shape[1]
    j_off = np.cumsum([0] + [lay.n_junctions for lay in layouts])
    p_off = np.cumsum([0] + [lay.n_particles for lay in layouts])
    n_junc = int(j_off[-1])
    shift, pos, jpos, edges = 0.0, [], [], []
    for g, lay in enumerate(layouts):
        lp = np.array(lay.particle_position, dtype=float)
        lj = np.array(lay.junction_position, dtype=float).reshape(-1, dim)
        lp[:, 0] += shift
        lj[:, 0] += shift
        pos.append(lp)
        jpos.append(lj)
        shift = float(max(lp[:, 0].max(), lj[:, 0].max() if lj.size else -np.inf)) + 10 * float(lay.particle_radius.max())
        e = np.array(lay.edges, dtype=np.int64)
        new = np.empty_like(e)
        is_junc = (e >= 1) & (e <= lay.n_junctions)
        is_part = e > lay.n_junctions
        new[e == 0] = 0
        new[is_junc] = e[is_junc] + j_off[g]
        new[is_part] = e[is_part] - lay.n_junctions - 1 + 1 + n_junc + p_off[g]
        edges.append(new)
    cat = np.concatenate
    return ElectrodeLayout(
        particle_radius=cat([lay.particle_radius for lay in layouts]), particle_position=cat(pos),
        junction_position=cat(jpos), edges=cat(edges), carbon_factor=cat([lay.carbon_factor for lay in layouts]),
        nmc_factor=cat([lay.nmc_factor for lay in layouts]), coverage=cat([lay.coverage for lay in layouts]),
        top=cat([lay.top for lay in layouts]), name=f"{layouts[0].name} groups")


def _solve_batch(mat, batch, *, sentences, n_shells, initial_theta, rtol) -> dict:
    """Run one batch of groups (joined at the collector); keep its final state only."""
    lay = _merge(batch) if len(batch) > 1 else batch[0]
    ds = simulate_electrode(mat, lay, sentences, n_shells=n_shells, initial_theta=initial_theta,
                            output_interval=None, observables=False, radial_profiles=False,
                            solver=SolverOptions(rtol=rtol, atol=1e-6))
    m = float(ds.attrs["electrode_mass_kg"])
    return {"dol": ds.theta_particle_mean.values[-1].copy(), "surface": ds.theta_particle_surface.values[-1].copy(),
            "isolated": ds.isolated.values.copy(), "mass": m, "step_capacity_mass": ds.step_capacity.values * m}


def _worker(solve, batches, indices, conn) -> None:  # pragma: no cover - runs in a forked process
    try:
        for k in indices:
            conn.send((k, solve(batches[k])))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        conn.send((-1, exc))
    finally:
        conn.close()


def _run_batches(solve, batches, workers: int):
    """Yield ``(index, result)`` per batch: in this process, or in ``workers`` forked processes.

    Forked workers inherit the batches and the material (whose functions cannot be
    pickled) and send back only the final per-particle arrays.
    """
    workers = min(workers, len(batches))
    if workers <= 1:
        for k, b in enumerate(batches):
            yield k, solve(b)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    procs, conns = [], []
    try:
        for w in range(workers):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(solve, batches, list(range(w, len(batches), workers)), send),
                               daemon=True)
            proc.start()
            send.close()
            procs.append(proc)
            conns.append(recv)
        left = len(batches)
        while left:
            for c in mp.connection.wait(conns):
                try:
                    k, res = c.recv()
                except EOFError:
                    conns.remove(c)
                    continue
                if k < 0:
                    raise res
                left -= 1
                yield k, res
            if not conns and left:
                raise SolverError(f"a population worker ended with {left} batch(es) unsolved")
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()


def simulate_population(
    material="nmc532",
    n_particles: int = 2000,
    protocol=(),
    *,
    rng: np.random.Generator,
    isolated_fraction: float = 0.06,
    contact_loss: ContactLossRule | None = ContactLossRule(),
    mean_radius: float = 2.5e-6,
    radius_cv: float = 0.3,
    coverage=(0.5, 0.3),
    contact_fraction: float = 0.1,
    network: str = "random",
    group_size: int = 200,
    batch_size: int = 5000,
    layout_pool: int | None = 40,
    final_charge=FINAL_CHARGE,
    simulate_cycles: int = 1,
    initial_theta: float = 0.97,
    n_shells: int = 6,
    rtol: float = 1e-3,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> xr.Dataset:
    """Simulate a population of particles through a protocol and a final slow charge.

    Parameters
    ----------
    material : Material or str
        Needs ``U``, ``i0`` and ``sigma`` (default ``"nmc532"``).
    n_particles : int
        Particles in the population (>= 1).
    protocol : str or sequence of str
        Experiment sentences before the final charge (may be empty), currents
        as C-rates or specific currents; ``Repeat N: [...]`` blocks count N
        cycles for the contact-loss rule, of which the last ``simulate_cycles``
        are simulated.
    rng : numpy.random.Generator
        Layouts and isolation are drawn from it.
    isolated_fraction : float
        Share isolated from the start, in [0, 1).
    contact_loss : ContactLossRule or None
        Growth of isolation with the protocol's charges (None: none).
    mean_radius, radius_cv : float
        Lognormal particle radii: mean [m] and coefficient of variation (0: all equal).
    coverage : float or (float, float)
        Carbon-binder coverage per particle (mean, spread), as in :func:`~socscope.geometry.random_layout`.
    contact_fraction : float
        NMC–NMC contact radius as a share of the smaller radius.
    network : {"random", "wired"}
        Contact groups as random 3D electrodes, or a uniform network (every
        particle wired alike to the collector).
    group_size, batch_size : int
        Particles per contact group, and per solve (groups joined at the collector).
    layout_pool : int or None
        With ``network="random"``, draw each group's layout from a pool of this
        many random layouts (each group then cuts its own isolated particles);
        building a random layout took about a fifth of a population's run
        (profiled at 2 000 particles), so a population of 10⁵ particles reuses
        40 layouts of 200 instead of building 500.
        None: a new layout for every group.
    final_charge : str or sequence of str or None
        Steps after the protocol (default :data:`FINAL_CHARGE`).
    simulate_cycles : int
        Repetitions of the protocol's Repeat block that are simulated (>= 1).
    initial_theta : float
        Starting occupancy of every particle.
    n_shells : int
        Radial shells per particle.
    rtol : float
        Relative tolerance of the time stepping (the electrode's default is 1e-4; only final
        states are kept here, and 1e-3 moved them by 3e-8 in θ on a 2 000-particle C/20 cycle
        while taking 15 % fewer steps).
    workers : int
        Batches solved at once in forked processes (Linux/macOS; 1: in this process).
        The result does not depend on it: layouts and isolation are drawn first.
    progress : callable(done, total), optional
        Called after each batch with particles done and in all.

    Returns
    -------
    xarray.Dataset
        Per ``particle``: ``dol`` (final mean θ), ``theta_surface``,
        ``radius`` [m], ``diameter_um``, ``isolated``, ``lost_in_cycling``,
        ``coverage``, ``group``; per step of the simulated protocol
        ``step_capacity`` [mAh/g] (mass-weighted over batches). Attributes
        hold the parameters, the isolated shares and ``inactive_li_mAh_g``.
    """
    mat = as_material(material)
    n = whole_number("n_particles", n_particles, minimum=1, example=2000)
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                             "e.g. rng=np.random.default_rng(0)")
    f0 = in_range("isolated_fraction", isolated_fraction, 0.0, 1.0, closed="l", example="0.06")
    if contact_loss is not None and not isinstance(contact_loss, ContactLossRule):
        raise ParameterError(f"contact_loss must be a ContactLossRule or None, got {type(contact_loss).__name__}")
    mean_radius = positive_float("mean_radius", mean_radius, unit=" m", example="2.5e-6")
    radius_cv = in_range("radius_cv", radius_cv, 0.0, 2.0, example="0.3")
    contact_fraction = in_range("contact_fraction", contact_fraction, 0.0, 1.0, closed="h", example="0.1")
    if network not in ("random", "wired"):
        raise ParameterError(f"network = {network!r}; use 'random' (random 3D contact groups) or 'wired' (uniform)")
    group_size = whole_number("group_size", group_size, minimum=1, example=200)
    batch_size = whole_number("batch_size", batch_size, minimum=1, example=5000)
    simulate_cycles = whole_number("simulate_cycles", simulate_cycles, minimum=1, example=1)
    workers = whole_number("workers", workers, minimum=1, example=2)
    rtol = in_range("rtol", rtol, 1e-8, 0.1, example="1e-3")
    initial_theta = fraction("initial_theta", initial_theta, example="0.97")
    cap = mat.capacity_mAh_g
    steps, rates = _split_protocol(list(protocol) if not isinstance(protocol, str) else protocol,
                                   simulate_cycles, cap)
    final = [] if final_charge is None else parse_protocol(final_charge)
    run_steps = steps + final
    if not run_steps:
        raise ProtocolError("nothing to simulate: give a protocol or a final charge")
    f_iso = contact_loss.isolated_fraction(f0, rates) if contact_loss is not None else f0
    # who is isolated: f0 from fabrication, the rest lost in cycling
    order = rng.permutation(n)
    n_fab = round(f0 * n)
    n_iso = round(f_iso * n)
    if n_iso >= n:
        raise ParameterError(f"every particle would be isolated (isolated share {f_iso:.3f}); lower "
                             "isolated_fraction or the contact-loss rule")
    iso = np.zeros(n, bool)
    iso[order[:n_iso]] = True
    lost = np.zeros(n, bool)
    lost[order[n_fab:n_iso]] = True
    # the groups
    sizes = [group_size] * (n // group_size) + ([n % group_size] if n % group_size else [])
    if layout_pool is not None:
        layout_pool = whole_number("layout_pool", layout_pool, minimum=1, example=40)
    if network == "random" and radius_cv == 0:
        raise ParameterError("network='random' draws radii with radius_cv > 0; for equal particles use "
                             "network='wired'")
    pool: dict[int, list] = {}
    layouts, start = [], 0
    for m in sizes:
        if network == "random":
            have = pool.setdefault(m, [])
            if layout_pool is None or len(have) < layout_pool:
                lay = random_layout(m, dim=3, mean_radius=mean_radius, radius_cv=radius_cv, coverage=coverage,
                                    contact_fraction=contact_fraction, rng=rng)
                have.append(lay)
            else:
                lay = have[int(rng.integers(len(have)))]
        else:
            if radius_cv > 0:
                s2 = math.log1p(radius_cv ** 2)
                radii = mean_radius * np.exp(rng.normal(-0.5 * s2, math.sqrt(s2), size=m))
            else:
                radii = np.full(m, mean_radius)
            cov = coverage if np.ndim(coverage) == 0 else coverage[0]
            lay = _wired_layout(radii, float(cov))
        cut = np.flatnonzero(iso[start:start + m])
        layouts.append(lay.disconnect(cut) if cut.size else lay)
        start += m
    # batches of groups, solved one after another
    batches, g = [], 0
    while g < len(layouts):
        batch, count = [], 0
        while g < len(layouts) and (not batch or count + layouts[g].n_particles <= batch_size):
            batch.append(layouts[g])
            count += layouts[g].n_particles
            g += 1
        batches.append(batch)
    sentences = [s.sentence for s in run_steps]
    solve = functools.partial(_solve_batch, mat, sentences=sentences, n_shells=n_shells,
                              initial_theta=initial_theta, rtol=rtol)
    results = [None] * len(batches)
    done = 0
    for k, res in _run_batches(solve, batches, workers):
        results[k] = res
        done += sum(b.n_particles for b in batches[k])
        if progress is not None:
            progress(done, n)
    out = {"dol": [r["dol"] for r in results], "surface": [r["surface"] for r in results],
           "iso_check": [r["isolated"] for r in results],
           "radius": [np.concatenate([b.particle_radius for b in batch]) for batch in batches],
           "coverage": [np.concatenate([b.coverage for b in batch]) for batch in batches],
           "group": [np.repeat(np.arange(len(layouts)), [lay.n_particles for lay in layouts])]}
    mass_tot = sum(r["mass"] for r in results)
    step_cap = sum(r["step_capacity_mass"] for r in results)
    cat = np.concatenate
    dol, radius = cat(out["dol"]), cat(out["radius"])
    conn = ~cat(out["iso_check"])
    mass = radius ** 3
    # Li held beyond the connected particles' mean, as a capacity over the whole population
    ref = float(np.sum(dol[conn] * mass[conn]) / np.sum(mass[conn]))
    inactive = float(np.sum(np.clip(dol[~conn] - ref, 0, None) * mass[~conn]) / np.sum(mass)) * 278.0
    data = {
        "dol": ("particle", dol, {"units": "1", "long_name": "degree of lithiation after the final charge (mean θ)"}),
        "theta_surface": ("particle", cat(out["surface"]), {"units": "1", "long_name": "surface θ at the end"}),
        "radius": ("particle", radius, {"units": "m", "long_name": "particle radius"}),
        "diameter_um": ("particle", 2e6 * radius, {"units": "um", "long_name": "particle diameter"}),
        "isolated": ("particle", ~conn, {"units": "1", "long_name": "no electronic path to the collector"}),
        "lost_in_cycling": ("particle", lost, {"units": "1", "long_name": "isolated by the contact-loss rule"}),
        "coverage": ("particle", cat(out["coverage"]), {"units": "1", "long_name": "carbon-binder coverage"}),
        "group": ("particle", cat(out["group"]), {"units": "1", "long_name": "contact group"}),
        "step_capacity": ("step_index", step_cap / mass_tot, {"units": "mAh/g", "long_name": "charge passed in each step"}),
        "step_sentence": ("step_index", np.array([s.sentence for s in run_steps], dtype=object), {}),
    }
    ds_out = xr.Dataset(data, coords={"particle": np.arange(n), "step_index": np.arange(len(run_steps))})
    from .. import __version__

    ds_out.attrs.update({
        "socscope_version": __version__,
        "title": "socscope particle population (network electrode in contact groups)",
        "material": mat.name, "n_particles": n, "network": network, "group_size": group_size,
        "batch_size": batch_size, "workers": workers, "layout_pool": "none" if layout_pool is None else layout_pool, "isolated_fraction_initial": f0, "isolated_fraction_final": float(np.mean(~conn)),
        "contact_loss_rule": ("none" if contact_loss is None else
                              f"1-(1-f0)exp(-k sum C^beta), k={contact_loss.k_per_cycle:g}, beta={contact_loss.exponent:g}"),
        "charges_counted": len(rates), "protocol": " | ".join(s.sentence for s in run_steps),
        "simulated_cycles": simulate_cycles, "initial_theta": initial_theta, "n_shells": n_shells,
        "mean_radius_m": mean_radius, "radius_cv": radius_cv, "contact_fraction": contact_fraction,
        "connected_mean_dol": ref, "inactive_li_mAh_g": inactive,
        "inactive_li_definition": "Li held by isolated particles above the connected particles' mean DOL, x 278 mAh/g, "
                                  "per gram of all particles",
    })
    return ds_out
