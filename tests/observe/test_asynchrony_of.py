"""``asynchrony_of``: the asynchrony index of the particles a microscope sees."""

import numpy as np
import pytest
import xarray as xr
from numpy.testing import assert_allclose

import socscope as ss
from socscope.errors import ParameterError
from socscope.observe import asynchrony_of


def _ds(mid, wid, reacted):
    mid, wid, reacted = (np.asarray(a) for a in (mid, wid, reacted))
    dims = ("half_cycle", "particle")
    return xr.Dataset(
        {"switch_soc": (dims, mid), "switch_width_soc": (dims, wid), "reacted": (dims, reacted),
         "half_cycle_direction": ("half_cycle", np.array(["charge", "discharge"][: mid.shape[0]], dtype=object))},
        coords={"half_cycle": np.arange(mid.shape[0]), "particle": np.arange(mid.shape[1])},
    )


def test_index_of_a_subset_by_hand():
    ds = _ds([[0.1, 0.3, 0.5, 0.7, 0.4], [0.5, 0.5, 0.5, 0.5, 0.5]],
             [[0.1, 0.1, 0.1, 0.1, 0.8], [0.4, 0.4, 0.4, 0.4, 0.4]],
             np.ones((2, 5), bool))
    got = asynchrony_of(ds, [0, 1, 2, 3])
    # IQR of 0.1, 0.3, 0.5, 0.7 (numpy's linear percentiles: 0.25 … 0.55) over width 0.1
    assert_allclose(got.asynchrony_index, [3.0, 0.0], atol=1e-12)
    assert list(got.classification) == ["asynchronous", "synchronous"]
    assert list(got.direction) == ["charge", "discharge"]
    # the same particles as a mask; adding the broad fifth particle lowers the index
    mask = np.array([True, True, True, True, False])
    assert_allclose(asynchrony_of(ds, mask).asynchrony_index, got.asynchrony_index)
    assert asynchrony_of(ds, np.arange(5)).asynchrony_index[0] < 3.0


def test_unreacted_particles_are_left_out():
    reacted = np.array([[True, True, False, False], [True, False, False, False]])
    ds = _ds([[0.2, 0.6, 0.9, 0.9], [0.3, 0.3, 0.3, 0.3]], [[0.2, 0.2, 0.2, 0.2]] * 2, reacted)
    got = asynchrony_of(ds, [0, 1, 2, 3], threshold=0.5)
    # two reacted in the first half-cycle: IQR(0.2, 0.6) = 0.2 over 0.2
    assert_allclose(got.asynchrony_index[0], 1.0)
    assert got.classification[0] == "asynchronous"
    assert list(got.n_reacted) == [2, 1] and list(got.fraction_unreacted) == [0.5, 0.75]
    # one reacted particle: no index
    assert np.isnan(got.asynchrony_index[1]) and got.classification[1] == "undetermined"


def test_all_particles_give_the_stored_index():
    lay = ss.geometry.layered_layout(n_columns=3, n_layers=2, radius=2.5e-6, contact_fraction=0.01)
    ds = ss.simulate_electrode(ss.materials.get("nmc532"), lay, ["Charge at C/10 for 4 hours"], n_shells=8,
                               output_interval=900)
    got = asynchrony_of(ds, np.arange(lay.n_particles))
    # the same switch centres and widths through the same classify_half_cycles: equal to round-off
    assert_allclose(got.asynchrony_index, ds.asynchrony_index.values, rtol=1e-12)
    top = asynchrony_of(ds, lay.top)
    assert list(top.n_particles) == [int(lay.top.sum())]


@pytest.mark.parametrize("particles, match", [
    ([], "at least one"), ([0, 9], "0..4"), ([-1], "0..4"), ([0.5, 1.0], "integer"),
    (np.ones(3, bool), r"shape \(5,\)"),
    ([0, 0, 0], "repeats index 0"),  # counted three times in the quartiles before
])
def test_bad_particle_selections(particles, match):
    ds = _ds(np.zeros((1, 5)), np.ones((1, 5)), np.ones((1, 5), bool))
    with pytest.raises(ParameterError, match=match):
        asynchrony_of(ds, particles)


def test_needs_the_observables():
    with pytest.raises(ParameterError, match="observables"):
        asynchrony_of(xr.Dataset(coords={"particle": np.arange(3)}), [0, 1])
