"""The particle population of [000] on the network electrode."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.errors import ParameterError, ProtocolError, RangeWarning
from socscope.simulate.population import ContactLossRule, simulate_population


def _run(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RangeWarning)  # the 4.4 V end lies beyond NMC532's tabulated σ range
        return simulate_population("nmc532", rng=np.random.default_rng(kw.pop("seed", 0)), **kw)


def test_uniform_network_gives_every_particle_the_same_dol():
    ds = _run(n_particles=60, protocol=[], isolated_fraction=0.0, contact_loss=None, network="wired",
              radius_cv=0.0, group_size=20, n_shells=6)
    dol = ds.dol.values
    assert not ds.isolated.values.any()
    # identical particles on identical wires see the same history: equal to 1e-6 (the bound)
    assert np.ptp(dol) <= 1e-6
    assert dol[0] < 0.4  # and they were charged (from 0.97)


def test_isolated_particles_keep_their_lithium_exactly():
    ds = _run(n_particles=300, protocol=["Charge at C/5 until 4.2 V", "Discharge at C/5 until 3.0 V"],
              isolated_fraction=0.1, contact_loss=None, group_size=100, n_shells=6, initial_theta=0.95)
    iso = ds.isolated.values
    # round(0.1 x 300) cut off on purpose; a random group may leave a particle without a path of its own
    assert 30 <= iso.sum() <= 33
    # no link, no net reaction: an isolated particle stays in the network as a node whose potential the
    # Newton solve finds to a Kirchhoff residual of 1e-9 of the cell current, so over the run it passes
    # ~1e-13 of its Li (seen: |Δθ| <= 5e-13); 1e-11 bounds that with room, far below any measurable DOL
    assert_allclose(ds.dol.values[iso], 0.95, rtol=0, atol=1e-11)
    assert np.all(ds.dol.values[~iso] < 0.5)
    assert ds.attrs["inactive_li_mAh_g"] > 0


def test_contact_loss_rule_counts_charges_and_rates():
    rule = ContactLossRule()
    # the documented defaults: 6 % -> 8 % after 100 x 1C and -> 15 % after 100 x 2C (fitted to [000])
    assert_allclose(rule.isolated_fraction(0.06, [1.0] * 100), 0.08, atol=2e-4)
    assert_allclose(rule.isolated_fraction(0.06, [2.0] * 100), 0.15, atol=1e-3)
    ds = _run(n_particles=400, protocol="Repeat 50: [Charge at 2C until 4.2 V, Discharge at 2C until 3.0 V]",
              isolated_fraction=0.06, group_size=200, n_shells=6, final_charge=None)
    assert ds.attrs["charges_counted"] == 50
    # only the last repetition is simulated, plus nothing after it
    assert ds.sizes["step_index"] == 2
    want = rule.isolated_fraction(0.06, [2.0] * 50)
    assert_allclose(ds.isolated.values.mean(), want, atol=1.0 / 400)  # one particle of rounding
    assert ds.lost_in_cycling.values.sum() == ds.isolated.values.sum() - 24


def test_bad_population_inputs():
    with pytest.raises(ParameterError, match="isolated_fraction"):
        _run(n_particles=10, isolated_fraction=1.0)
    with pytest.raises(ProtocolError, match="a current in A"):
        _run(n_particles=10, protocol=["Charge at 2 nA for 1 hour"])
    with pytest.raises(ParameterError, match="rng"):
        simulate_population("nmc532", 10, rng=0)


def test_forked_workers_give_the_same_population():
    kw = {"n_particles": 120, "protocol": ["Charge at C/5 until 4.0 V"], "group_size": 40, "batch_size": 40,
          "n_shells": 4, "final_charge": None, "seed": 3}
    one, two = _run(workers=1, **kw), _run(workers=2, **kw)
    # the same layouts and isolation (drawn before the solves), the same solver: identical to the bit
    assert_allclose(two.dol.values, one.dol.values, rtol=0, atol=0)
    assert_allclose(two.step_capacity.values, one.step_capacity.values, rtol=1e-12)
