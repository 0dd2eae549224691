"""Network electrode: equivalence with the single particle, Kirchhoff, conservation, isolation, errors."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.constants import F
from socscope.errors import GeometryError, MaterialError, ParameterError
from socscope.geometry.electrode import ElectrodeLayout, identical_wired_layout, layered_layout, random_layout
from socscope.numerics import ConductanceNetwork, SolverOptions, laplacian_apply
from socscope.simulate.electrode import ElectrodeModel, NetworkKinetics, simulate_electrode

R = 2.5e-6


@pytest.fixture(scope="module")
def nmc532():
    return ss.materials.get("nmc532")


@pytest.fixture(scope="module")
def layered_run(nmc532):
    lay = layered_layout(n_columns=3, n_layers=2, radius=R)
    ds = simulate_electrode(nmc532, lay, ["Charge at C/10 for 3 hours", "Rest for 1 hour",
                                          "Discharge at C/10 for 1 hour"], n_shells=12, output_interval=900)
    return lay, ds


def test_identical_wired_particles_match_the_single_particle_model(nmc532):
    """Three identical particles wired to the collector follow one particle's voltage curve."""
    prot = ["Charge at C/20 for 10 hours", "Rest for 1 hour", "Discharge at C/10 for 3 hours"]
    # tight tolerances on both sides: the comparison is then of the models, not of their step errors
    opts = SolverOptions(rtol=1e-8, atol=1e-10)
    times = np.arange(0.0, 14 * 3600.0 + 1, 1800.0)
    net = simulate_electrode(nmc532, identical_wired_layout(3, R), prot, n_shells=20, output_times=times,
                             solver=opts, observables=False)
    one = ss.simulate_particle(nmc532, ss.geometry.Sphere(R), prot, n_cells=20, output_times=times, solver=opts)
    # the issue asks for 1e-6 V; measured 5e-10 V (the wire's 100 Ω drop is 1e-10 V)
    assert_allclose(net.voltage.values, one.voltage.values, rtol=0, atol=1e-6)
    assert_allclose(net.theta_particle_mean.values[:, 1], one.theta_mean.values, rtol=0, atol=1e-9)
    # every particle carries a third of the current (Newton's 1e-7 V stop leaves ~1e-9 of it)
    i_p = net.particle_current.values[1:]
    assert_allclose(i_p, np.broadcast_to(net.current.values[1:, None] / 3, i_p.shape), rtol=0,
                    atol=1e-8 * np.abs(net.current.values).max())


def test_particle_currents_sum_to_the_applied_current_and_lithium_is_conserved(layered_run):
    lay, ds = layered_run
    i = ds.particle_current.values
    cc = ds.step_kind.values[ds.step.values] != "rest"
    # Kirchhoff at the collector: Σ I_p = I; Newton stops at 1e-7 V updates, which leaves
    # ~1e-9 of the current (measured 3e-10 relative)
    scale = np.abs(ds.current.values).max()
    assert_allclose(i.sum(axis=1)[cc], ds.current.values[cc], rtol=0, atol=1e-8 * scale)
    # Li inventory against the passed charge: BDF2 conserves it to round-off
    li = ds.lithium.values
    assert_allclose(li[0] - li, ds.charge.values / F, rtol=0, atol=1e-9 * li[0])


def test_kirchhoff_residual_at_every_node(nmc532, layered_run):
    """A solved state satisfies the current law at collector, junctions and particles."""
    lay, _ = layered_run
    model = ElectrodeModel(nmc532, lay, n_shells=12)
    theta = np.linspace(0.9, 0.97, model.grid.n_cells)  # an uneven state
    model._phi = None
    cur = 5e-11
    cpl = NetworkKinetics(model, current=cur)
    phi = cpl.solve_potential(theta)
    _, i = cpl.state(theta, phi)
    g = model.conductance(theta)
    node_out = laplacian_apply(model.edges, g, phi, model.n_nodes)
    node_out[model.particle_node] += i * model.particle_area
    node_out[0] -= cur
    # solve_potential stops at 1e-10 V updates; the largest conductance times that bounds the residual
    assert np.abs(node_out).max() <= 1e-10 * g.max() + 1e-12 * cur
    # solve_potential returns once the current law holds to 1e-9 of the current (1e-6 where
    # saturated surfaces leave potentials undetermined); measured 1e-13
    assert_allclose((i * model.particle_area).sum(), cur, rtol=1e-6)


def test_far_particles_see_a_lower_potential_on_charge(layered_run):
    """Current flows from the collector into the particles on charge: φ falls along the path."""
    lay, ds = layered_run
    top = np.nonzero(ds.top.values)[0]
    order = np.argsort(ds.electrical_distance.values[top])
    phi = ds.particle_potential.isel(time=2).values[top][order]
    # 1e-12 V: round-off of potentials near 4 V; the drops themselves are mV
    assert np.all(np.diff(phi) <= 1e-12)
    assert np.all(phi <= ds.voltage.values[2] + 1e-12)


def test_isolated_particle_keeps_its_initial_theta(nmc532):
    lay = layered_layout(n_columns=3, n_layers=2, radius=R).disconnect([4])
    ds = simulate_electrode(nmc532, lay, ["Charge at C/10 for 2 hours", "Discharge at C/10 for 1 hour"],
                            n_shells=10, output_interval=1800, initial_theta=0.95)
    assert bool(ds.isolated.values[4])
    # its current is driven to zero by Newton (|δφ| < 1e-7 V): the drift over 3 h is at round-off level
    assert_allclose(ds.theta_particle_mean.values[:, 4], 0.95, rtol=0, atol=1e-9)
    assert not ds.reacted.values[:, 4].any()
    assert ds.theta_particle_mean.values[-2, 0] < 0.9  # the wired particles did react
    # no path, no distance: NaN there (an infinity would mark the saved file as damaged), finite elsewhere
    dist = ds.electrical_distance.values
    assert np.isnan(dist[4]) and np.isfinite(np.delete(dist, 4)).all()


def test_a_run_with_an_isolated_particle_saves_and_opens(nmc532, tmp_path):
    lay = layered_layout(n_columns=2, n_layers=1, radius=R).disconnect([1])
    ds = simulate_electrode(nmc532, lay, ["Charge at C/10 for 20 minutes"], n_shells=6, output_interval=600,
                            observables=False)
    ss.save_results(ds, tmp_path / "cell.nc")
    back = ss.open_results(tmp_path / "cell.nc")
    assert bool(back.isolated.values[1]) and np.isnan(back.electrical_distance.values[1])


def test_ladder_network_matches_the_analytic_input_resistance():
    """Series resistors r between rungs, each rung shunted to ground by s: Z_k = (r + Z_{k-1}) ∥ s."""
    n, r, s = 12, 3.0, 7.0
    # node 0 is ground; node k (1..n) sits after k series resistors; each also has a shunt to ground
    series = np.column_stack([np.arange(n), np.arange(1, n + 1)])
    shunt = np.column_stack([np.zeros(n, int), np.arange(1, n + 1)])
    edges = np.vstack([series, shunt])
    g = np.concatenate([np.full(n, 1 / r), np.full(n, 1 / s)])
    net = ConductanceNetwork(edges, n + 1, held=[0])
    net.factorise(g)
    rhs = np.zeros(n)
    rhs[-1] = 1.0  # 1 A into the last node
    phi = np.concatenate([[0.0], net.solve(rhs)])
    z = r * s / (r + s)  # node 1: r to ground in parallel with its shunt
    for _ in range(n - 1):
        z = (r + z) * s / (r + z + s)
    assert_allclose(phi[-1], z, rtol=1e-12)  # a direct factorisation: round-off only
    # Kirchhoff: what leaves each free node through its edges equals what is injected
    assert_allclose(laplacian_apply(edges, g, phi, n + 1)[1:], rhs, rtol=0, atol=1e-12)


def test_constant_conductivity_control_differs_from_theta_dependent(nmc532):
    lay = layered_layout(n_columns=3, n_layers=2, radius=R)
    prot = ["Charge at C/10 for 1 hour"]
    a = simulate_electrode(nmc532, lay, prot, n_shells=10, output_interval=1800, observables=False)
    b = simulate_electrode(nmc532, lay, prot, n_shells=10, output_interval=1800, conductivity="constant",
                           observables=False)
    # σ rises as Li leaves: the θ-dependent network needs a smaller voltage for the same current
    assert a.voltage.values[-1] < b.voltage.values[-1]
    assert b.attrs["conductivity"] == "constant"


def test_bad_inputs_raise_clear_errors(nmc532):
    lay = layered_layout(n_columns=2, n_layers=1, radius=R)
    with pytest.raises(ParameterError, match="sigma_cb"):
        ElectrodeModel(nmc532, lay, sigma_cb=-1.0)
    with pytest.raises(ParameterError, match="sigma_cb must be a number in S/m, got '1e4'"):
        ElectrodeModel(nmc532, lay, sigma_cb="1e4")
    with pytest.raises(ParameterError, match="n_shells = 8.5 must be an integer >= 3"):
        ElectrodeModel(nmc532, lay, n_shells=8.5)
    with pytest.raises(ParameterError, match="electrolyte_conductivity = -0.1 S/m must be finite and > 0"):
        ElectrodeModel(nmc532, lay, electrolyte_conductivity=-0.1)
    with pytest.raises(ParameterError, match="output_times must be a sequence"):
        simulate_electrode(nmc532, lay, ["Rest for 1 minute"], n_shells=5, output_times=60.0)
    with pytest.raises(ParameterError, match="solver must be a SolverOptions"):
        simulate_electrode(nmc532, lay, ["Rest for 1 minute"], n_shells=5, solver={"rtol": 1e-3})
    with pytest.raises(ParameterError, match="conductivity"):
        ElectrodeModel(nmc532, lay, conductivity="sometimes")
    no_sigma = ss.materials.get("nmc532").__class__(**{**vars(nmc532), "sigma": None})
    with pytest.raises(MaterialError, match="sigma"):
        ElectrodeModel(no_sigma, lay)
    with pytest.raises(GeometryError, match="path to the current collector"):
        lay.disconnect([0, 1])
    with pytest.raises(GeometryError, match="edge 0 .* has carbon_factor -1000000.*a negative resistance"):
        ElectrodeLayout(particle_radius=np.array([R]), particle_position=np.array([[0.0, R]]),
                        junction_position=np.zeros((0, 2)), edges=np.array([[0, 1]]),
                        carbon_factor=np.array([-1e6]), nmc_factor=np.zeros((1, 2)),
                        coverage=np.ones(1), top=np.ones(1, bool))
    with pytest.raises(ss.errors.ProtocolError, match="surface-θ holds"):
        simulate_electrode(nmc532, lay, ["Hold surface theta at 0.5 for 1 hour"])
    with pytest.raises(ParameterError, match=r"sigma_cb = 1e\+14 S/m is above 1e\+08 S/m"):  # it used to hang
        ElectrodeModel(nmc532, lay, sigma_cb=1e14)
    for name, value in (("radial_profiles", "no"), ("observables", "false")):  # bool("no") is True
        with pytest.raises(ParameterError, match=f"{name} must be True or False, got '{value}'"):
            simulate_electrode(nmc532, lay, ["Rest for 1 minute"], n_shells=5, **{name: value})
    # a conductance far below the others: a clear solver error, not qdldl's RuntimeError
    with pytest.raises(ss.errors.SolverError, match="cannot be factorised .* pivot vanished in round-off"):
        simulate_electrode(nmc532, identical_wired_layout(3, 2.5e-6, conductance_factor=1e-10),
                           ["Charge at C/5 for 20 minutes"], n_shells=6)


def test_voltage_hold_current_decays_and_ends_by_current(nmc532):
    lay = identical_wired_layout(2, R)
    ds = simulate_electrode(nmc532, lay, ["Charge at C/5 until 3.9 V", "Hold at 3.9 V until C/50"],
                            n_shells=10, output_interval=300, observables=False)
    hold = ds.step.values == 1
    cur = ds.current.values[hold]
    assert ds.step_end_reason.values[1].startswith("c_rate")
    # strictly decaying (measured: each 300 s sample ≥ 3e-14 A below the last, of ~1e-12 A)
    assert np.all(np.diff(cur) < 0)
    # the held collector potential is imposed, not solved for (measured: exact)
    assert_allclose(ds.voltage.values[hold], 3.9, rtol=0, atol=1e-12)


def test_voltage_holds_and_pitt_on_a_resistive_network(nmc532):
    """Holds move every node potential but the collector's; the solver must follow them.

    The held voltage differs from the cut-off before it, so the potentials of
    the particles behind NMC contacts change a lot during the hold (this failed
    with 'time step fell below 1e-09 s' while the node potentials restarted from
    the hold's first values at every step).
    """
    lay = layered_layout(n_columns=3, n_layers=2, radius=R)
    ds = simulate_electrode(nmc532, lay, ["Charge at C/5 until 4.0 V", "Hold at 4.2 V until C/50"],
                            n_shells=8, output_interval=300)
    assert [str(r) for r in ds.step_end_reason.values] == ["voltage=4.0", "c_rate=0.02"]
    hold = ds.step.values == 1
    # the held collector potential is imposed, not solved for (measured: exact)
    assert_allclose(ds.voltage.values[hold], 4.2, rtol=0, atol=1e-12)
    cur = ds.current_instant.values[hold]
    # after the first sample the current decays (single-phase OCP): measured,
    # every 300 s sample is at least 2.4 % of the largest current below the last
    assert np.all(np.diff(cur[1:]) < 0)
    assert np.all(np.diff(ds.current.values[hold][1:]) < 0)  # and so do its interval means
    # Kirchhoff at the collector and the Li inventory through the hold (see the tests above)
    assert_allclose(ds.particle_current.values[hold].sum(axis=1), cur, rtol=0, atol=1e-8 * cur.max())
    li = ds.lithium.values
    assert_allclose(li[0] - li, ds.charge.values / F, rtol=0, atol=1e-9 * li[0])

    pitt = simulate_electrode(nmc532, lay, ["PITT: steps of 100 mV, each for 1 hour or until C/50, until 4.0 V"],
                              n_shells=8, output_interval=600, observables=False)
    # 3.9 V → 4.0 V from the pristine OCP (~3.75 V) is a few steps, each ended by its current
    reasons = [str(r) for r in pitt.step_end_reason.values]
    assert len(reasons) >= 2 and all(r.startswith("c_rate") or r == "duration" for r in reasons)
    assert pitt.voltage.values[-1] == pytest.approx(4.0, abs=1e-12)  # imposed (measured: exact)


def test_ionic_network_reduces_to_the_uniform_electrolyte_and_polarises_with_depth(nmc532):
    lay = layered_layout(n_columns=3, n_layers=3, radius=R)
    prot = ["Charge at 1C for 10 minutes"]
    kw = dict(n_shells=10, output_interval=300, observables=False)
    uniform = simulate_electrode(nmc532, lay, prot, **kw)
    # a very conductive electrolyte (1e6 S/m) is uniform: same cell voltage (measured 3e-11 V apart)
    fast = simulate_electrode(nmc532, lay, prot, electrolyte_conductivity=1e6, **kw)
    assert_allclose(fast.voltage.values, uniform.voltage.values, rtol=0, atol=1e-6)
    # a poor one (1e-3 S/m): on charge the ionic current flows from the particles to the
    # separator, so the electrolyte potential rises with depth (measured 17-46 mV) and the cell
    # needs more voltage (measured +32 mV)
    slow = simulate_electrode(nmc532, lay, prot, electrolyte_conductivity=1e-3, **kw)
    phi_e = slow.electrolyte_potential.isel(time=-1).values
    depth = slow.z.values.max() - slow.z.values
    assert np.all(phi_e > 0)
    assert np.corrcoef(depth, phi_e)[0, 1] > 0.9
    assert slow.voltage.values[-1] > uniform.voltage.values[-1] + 1e-3
    assert_allclose(slow.particle_current.values[1:].sum(axis=1), slow.current.values[1:], rtol=1e-7)
    with pytest.raises(ParameterError, match="electrolyte_conductivity"):
        ElectrodeModel(nmc532, lay, electrolyte_conductivity=0.0)


def test_point_contacts_under_a_wired_reservoir_run_a_full_cycle():
    """Saturated surfaces behind 3.5 nm contacts: the network Newton must not cycle.

    Without the backtracking in ``solve_potential`` this run stopped in the
    second charge: two potentials near saturated (θ_s → 1) particles swapped
    by 0.6 mV on every iteration and the residual stayed at 4e-5 of the current.
    """
    # the contact size was set for the 1.9e-6 S/cm pristine σ (Amin & Chiang's figure): pinned
    mat = ss.materials.get("nmc532-sharma2022", sigma="amin-chiang-figure")
    lay = layered_layout(10, 3, radius=3.5e-6, coverage=0.5, carbon_columns=tuple(range(6)),
                         contact_fraction=0.001)
    ds = simulate_electrode(mat, lay, ["Charge at C/20 until 4.3 V", "Discharge at C/20 until 2.5 V"] * 2,
                            n_shells=20, initial_theta=0.99, output_interval=1800,
                            solver=SolverOptions(rtol=1e-4, atol=1e-6))
    assert list(ds.step_end_reason.values) == ["voltage=4.3", "voltage=2.5"] * 2
    cc = ds.step_kind.values[ds.step.values] != "rest"
    # Kirchhoff at the collector; solve_potential stops at 1e-9 of the current
    # (or 1e-6 where saturated surfaces leave potentials undetermined)
    scale = np.abs(ds.current.values).max()
    assert_allclose(ds.particle_current.values.sum(axis=1)[cc], ds.current.values[cc], rtol=0, atol=1e-6 * scale)


def test_a_rest_only_run_has_no_half_cycle(nmc532):
    """The SOC of a rest wanders by round-off (~1e-16): that is no half-cycle to report on."""
    ds = simulate_electrode(nmc532, layered_layout(n_columns=3, n_layers=2, radius=R), ["Rest for 2 hours"],
                            n_shells=6, output_interval=600)
    assert "half_cycle" not in ds.sizes and "asynchrony_index" not in ds
    assert float(np.ptp(ds.charge.values)) < 1e-15  # and the rest passed no charge


def test_a_material_name_is_looked_up_and_wrong_types_are_named(nmc532):
    lay = layered_layout(n_columns=2, n_layers=1, radius=R)
    prot = ["Charge at C/5 for 10 minutes"]
    by_name = simulate_electrode("nmc532", lay, prot, n_shells=4, observables=False)
    by_object = simulate_electrode(nmc532, lay, prot, n_shells=4, observables=False)
    assert_allclose(by_name.voltage.values, by_object.voltage.values, rtol=0, atol=0)
    with pytest.raises(MaterialError, match="got NoneType"):
        simulate_electrode(None, lay, prot)
    with pytest.raises(MaterialError, match="Did you mean 'nmc532'"):
        simulate_electrode("nmc999", lay, prot)
    with pytest.raises(ParameterError, match="layout must be a socscope ElectrodeLayout, got list"):
        simulate_electrode(nmc532, [lay], prot)


def test_a_current_the_network_cannot_pass_below_the_cut_off_ends_the_step_at_once(nmc532):
    lay = layered_layout(n_columns=3, n_layers=2, radius=R)
    # the warning says what 1C is in amps, and names the conductivities besides the current
    with pytest.warns(ss.errors.StepWarning, match=r"ended at once: .*\(20C; 1C = .* A at 160 mAh/g\).*the drop "
                                                   r"through the electrode network.*sigma_cb = 10000 S/m"):
        ds = simulate_electrode(nmc532, lay, ["Charge at 20C until 4.3 V", "Charge at C/5 for 30 minutes"],
                                n_shells=8, output_interval=600)
    assert [str(r) for r in ds.step_end_reason.values] == ["voltage=4.3", "duration"]
    assert ds.step_capacity.values[0] == 0.0 and ds.step_capacity.values[1] > 0


def test_the_observables_name_a_dataset_they_cannot_read(layered_run):
    """None, a Dataset without a variable, no samples, text values: named, not KeyError/IndexError."""
    from socscope.observe import (cell_soc, cycler_record, electrode_summary, electrode_transitions,
                                  site_capacity_Ah)

    _, ds = layered_run
    cases = [
        (lambda: electrode_summary(None), "electrode_summary: ds must be an xarray.Dataset .* got NoneType"),
        (lambda: electrode_summary(ds.drop_vars("theta_mean")), r"lacks \['theta_mean'\]"),
        (lambda: electrode_summary(ds.drop_vars("step_kind")), r"lacks \['step_kind'\]"),
        (lambda: electrode_transitions(ds.isel(time=slice(0, 0))), "has no time samples"),
        (lambda: electrode_transitions(ds, signal=["theta_particle_mean"]), "must name a .time, particle. variable"),
        (lambda: cell_soc(ds.drop_vars("theta_mean")), r"cell_soc: the Dataset lacks \['theta_mean'\]"),
        (lambda: site_capacity_Ah(ds.isel(time=slice(0, 0))), "site_capacity_Ah: the Dataset has no time samples"),
        (lambda: cycler_record(ds.assign(voltage=ds.voltage.astype(str))), r"\['voltage'\] hold <U.* not numbers"),
    ]
    for call, match in cases:
        with pytest.raises(ParameterError, match=match):
            call()


def test_model_size_and_theta_are_checked(nmc532):
    lay = layered_layout(n_columns=2, n_layers=1, radius=R)
    # 10^7 shells ran out of memory after 12 s
    with pytest.raises(ParameterError, match="n_shells = 10000000 is above 1000"):
        ElectrodeModel(nmc532, lay, n_shells=10**7)
    # and particles x shells, before anything is allocated
    big = random_layout(5000, dim=2, rng=np.random.default_rng(0))
    with pytest.raises(ParameterError, match=r"5,000 particles x n_shells = 1000 is 5,000,000 unknowns.*about 6 GB; "
                                             r"use fewer shells \(n_shells=800 fits\)"):
        ElectrodeModel(nmc532, big, n_shells=1000)
    model = ElectrodeModel(nmc532, lay, n_shells=5)
    for theta in (-1.0, 1.5, "x"):  # -1 gave resistances, 'x' a raw ValueError
        with pytest.raises(ParameterError, match="ElectrodeModel.electrical_distance: theta"):
            model.electrical_distance(theta)
    with pytest.raises(ParameterError, match="c_rate_basis_mAh_g must be a number in mAh/g, got '210'"):
        ElectrodeModel(nmc532, lay, n_shells=5, c_rate_basis_mAh_g="210")  # was read as 210
    with pytest.raises(ParameterError, match="initial_theta must be a number, got '0.5'"):
        simulate_electrode(nmc532, lay, ["Rest for 1 minute"], n_shells=5, initial_theta="0.5")


def test_electrical_distance_takes_the_least_resistive_parallel_link():
    # two carbon links in parallel from the collector to one particle (100 Ω and 200 Ω):
    # the least-resistance path is 100 Ω whichever way round the edges are written
    from socscope.geometry.electrode import ElectrodeLayout
    from socscope.simulate.electrode import SIGMA_CB

    def lay(edges):
        return ElectrodeLayout(particle_radius=[2.5e-6], particle_position=[[2.5e-6, 2.5e-6]],
                               junction_position=np.zeros((0, 2)), edges=edges, carbon_factor=[1e6, 2e6],
                               nmc_factor=np.zeros((2, 2)), coverage=[0.5], top=[True])

    for edges in ([[0, 1], [0, 1]], [[1, 0], [0, 1]]):
        model = ElectrodeModel("nmc532", lay(edges), n_shells=4)
        assert_allclose(model.electrical_distance(0.97), [1e6 / SIGMA_CB], rtol=1e-12)
        assert_allclose(lay(edges).electrical_distance(1.0, SIGMA_CB), [1e6 / SIGMA_CB], rtol=1e-12)
    # a constant-σ model has the material's σ(θ) before any run
    const = ElectrodeModel("nmc532", layered_layout(3, 2), n_shells=4, conductivity="constant")
    assert_allclose(const.electrical_distance(0.9),
                    ElectrodeModel("nmc532", layered_layout(3, 2), n_shells=4).electrical_distance(0.9), rtol=1e-12)


def test_messages_speak_of_the_electrode_and_its_isolated_particles():
    from socscope.errors import ProtocolError

    lay = layered_layout(3, 2, radius=R).disconnect([3, 4, 5])
    with pytest.raises(ProtocolError, match="so the electrode can never reach it"):
        simulate_electrode("nmc532", lay, ["Hold at 10 V for 1 hour"], n_shells=4)
    # half the particles keep their Li: a mean θ of 0.4 cannot be reached, and the message says why
    with pytest.raises(ProtocolError, match=r"a particle surface.*3 of 6 particles are isolated"):
        simulate_electrode("nmc532", lay, ["Charge at C/5 until mean theta 0.4"], n_shells=4)
