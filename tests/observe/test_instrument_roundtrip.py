"""Simulation → synthetic movie → optical pipeline: the measured asynchrony is the simulated one.

A network electrode whose top particles switch on one after another is
rendered as the microscope would film it (PSF, shot and read noise, reference
spots, :func:`~socscope.observe.render_top_layer`) and its cell record is
logged as a cycler would (:func:`~socscope.observe.cycler_record`). The
optical pipeline (:func:`~socscope.analysis.optical.analyze_movie`) run on the
two must find the transitions the simulation holds.
"""

import math
import warnings

import numpy as np
import pytest
import xarray as xr
from numpy.testing import assert_allclose

import socscope as ss
from socscope.analysis.optical import analyze_movie
from socscope.constants import F
from socscope.errors import ParameterError
from socscope.io.cycler import SCHEMA
from socscope.numerics import SolverOptions
from socscope.observe import (
    cell_soc,
    cycler_record,
    electrode_transitions,
    render_top_layer,
    site_capacity_Ah,
)
from socscope.observe.asynchrony import classify_half_cycles

RADIUS = 3.5e-6
#: four carbon-wired columns, then four columns reached through 1–4 point
#: contacts (0.001 R): the top particles of the last four switch on in turn
N_WIRED = 4


@pytest.fixture(scope="module")
def cell():
    lay = ss.geometry.layered_layout(2 * N_WIRED, 3, radius=RADIUS, coverage=0.5,
                                     carbon_columns=range(N_WIRED), contact_fraction=0.001)
    ds = ss.simulate.simulate_electrode(
        # the contact size was set for the pristine 1.9e-6 S/cm of Amin & Chiang's figure: pinned
        ss.materials.get("nmc532-sharma2022", sigma="amin-chiang-figure"), lay,
        ["Charge at C/20 until 4.3 V", "Discharge at C/20 until 2.5 V"],
        n_shells=8, initial_theta=0.99, output_interval=1200,
        solver=SolverOptions(rtol=1e-3, atol=1e-5))
    top = np.nonzero(lay.top)[0]
    movie = render_top_layer(ds, pixel_size_nm=100, signal="mean", photons=2000, read_noise=0.002,
                             reference_spots=2, rng=np.random.default_rng(0))
    return ds, top, movie


@pytest.fixture(scope="module")
def measured(cell):
    ds, _, movie = cell
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the pipeline must not need to warn about anything here
        return analyze_movie(movie.frames, time_s=movie.time_s, labels=movie.labels, reference_spot="auto",
                             cycler=cycler_record(ds), capacity_Ah=site_capacity_Ah(ds))


def _simulated(ds, top):
    """The simulation's own logistic fits (the pipeline's method) on the top particles' mean θ."""
    sim = electrode_transitions(ds, method="fit")
    return sim[sim.particle.isin(top)]


def test_frames_get_the_cell_soc(cell, measured):
    ds, _, _ = cell
    frames = measured.traces.drop_duplicates("frame")
    # charge / site capacity = θ̄(0) − θ̄(t) holds as far as Li is conserved (relative 1e-9)
    assert_allclose(frames.soc.to_numpy(), cell_soc(ds)[frames.frame.to_numpy()], rtol=0, atol=1e-9)


def test_pipeline_recovers_each_particles_transition(cell, measured):
    ds, top, movie = cell
    sim = _simulated(ds, top)
    got = measured.transitions.assign(  # label k + 1 shows particle meta["particle"][k]
        particle=lambda t: movie.meta["particle"][t.particle.to_numpy() - 1])
    for hc in (0, 1):
        a = got[got.half_cycle == hc].sort_values("particle")
        b = sim[sim.half_cycle == hc].sort_values("particle")
        assert a.particle.tolist() == b.particle.tolist() == top.tolist()
        assert len(a) == len(b) == top.size
        # shot noise at 2000 photo-electrons per unit intensity averages to ~0.1 % of
        # a particle's contrast over its ~1000 pixels, and the PSF mixes in a little
        # of the neighbours at touching edges: 0.01 of SOC is ten times what was seen
        assert_allclose(a.midpoint_soc.to_numpy(), b.midpoint_soc.to_numpy(), atol=0.01)
        assert_allclose(a.width_soc.to_numpy(), b.width_soc.to_numpy(), atol=0.01)


def test_pipeline_sees_the_steps_and_the_index(cell, measured):
    ds, top, _ = cell
    first = measured.transitions.query("half_cycle == 0").sort_values("particle")
    # the carbon-wired particles change gradually, the ones behind point contacts step
    assert list(first.classification) == ["gradual"] * N_WIRED + ["step-like"] * N_WIRED
    got = measured.half_cycles.set_index("half_cycle")
    want = classify_half_cycles(_simulated(ds, top)).set_index("half_cycle")
    # the index is a ratio of an IQR to a median width, each within 0.01 of SOC (above)
    assert_allclose(got.asynchrony_index, want.asynchrony_index, rtol=0.05)
    assert list(got.classification) == ["asynchronous", "synchronous"]


def test_segmenting_the_movie_finds_the_same_particles(cell, measured):
    ds, top, movie = cell
    res = analyze_movie(movie.frames, time_s=movie.time_s, reference_spot="auto",
                        cycler=cycler_record(ds), capacity_Ah=site_capacity_Ah(ds))
    assert len(res.particles) == top.size
    # segmented masks differ from the rendered labels by edge pixels, which mix in a
    # little background and neighbour: measured 0.1 % apart, 2 % leaves room for noise
    assert_allclose(res.half_cycles.asynchrony_index, measured.half_cycles.asynchrony_index, rtol=0.02)


# ---------------------------------------------------------------- the helpers


@pytest.fixture(scope="module")
def wired():
    lay = ss.geometry.identical_wired_layout(3, 2e-6)
    return lay, ss.simulate.simulate_electrode(
        ss.materials.get("nmc532"), lay,
        ["Charge at C/5 for 1 hour", "Rest for 20 minutes", "Charge at C/5 for 30 minutes",
         "Discharge at C/5 for 1 hour", "Charge at C/5 for 10 minutes"],
        n_shells=6, output_interval=600)


def test_cycler_record_is_in_the_cycler_schema(wired):
    _, ds = wired
    rec = cycler_record(ds)
    assert list(rec.columns) == list(SCHEMA)
    assert rec.time_s.iloc[0] == 0.0
    assert_allclose(rec.capacity_Ah, ds.charge.values / 3600.0, rtol=0)
    assert_allclose(rec.current_A, ds.current.values, rtol=0)
    assert_allclose(rec.voltage_V, ds.voltage.values, rtol=0)
    # a rest between two charges starts no half-cycle; charge, discharge = cycle 0,
    # the charge after them = cycle 1
    expect = np.where(ds.step.values <= 3, 0, 1)
    assert rec.cycle.tolist() == expect.tolist()
    assert rec.step.tolist() == ds.step.values.tolist()


def test_site_capacity_is_every_lattice_site(wired):
    lay, ds = wired
    mat = ss.materials.get("nmc532")
    sites = mat.c_max * np.sum(4.0 / 3.0 * math.pi * lay.particle_radius**3)  # mol
    assert_allclose(site_capacity_Ah(ds), F * sites / 3600.0, rtol=1e-12)


@pytest.mark.parametrize("func", [cycler_record, site_capacity_Ah])
def test_helpers_name_what_is_missing(func):
    with pytest.raises(ParameterError, match="simulate_electrode"):
        func(xr.Dataset({"voltage": ("time", [3.0])}, coords={"time": [0.0]}))
