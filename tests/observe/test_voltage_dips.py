"""``voltage_dips``: reversals of the cell voltage within a half-cycle, and the per-half-cycle variable."""

import numpy as np
import pytest

import socscope as ss
from socscope.errors import ParameterError
from socscope.observe import voltage_dips


def test_monotonic_curves_have_no_dips():
    v = np.linspace(3.7, 4.3, 200)
    assert voltage_dips(v) == 0
    assert voltage_dips(v[::-1], direction="discharge") == 0


def test_each_reversal_counts_once():
    assert voltage_dips([3.7, 3.9, 3.8, 3.85, 4.0, 3.9, 4.1], depth=0.05) == 2
    # a slow fall in many small steps is one dip; a fall shallower than depth is none
    assert voltage_dips([4.0, 3.99, 3.97, 3.95, 3.93, 3.9, 3.95, 4.0], depth=0.05) == 1
    assert voltage_dips([4.0, 3.99, 4.05], depth=0.02) == 0
    # a second fall needs the voltage to recover by depth first: 3.9 -> 3.88 -> 3.85 is still the first
    assert voltage_dips([4.0, 3.9, 3.91, 3.85], depth=0.05) == 1
    # in a discharge the reversals are rises
    assert voltage_dips([4.0, 3.8, 3.9, 3.6, 3.7, 3.5], depth=0.05, direction="discharge") == 2
    # read as a charge the same curve falls three times: 4.0→3.8, 3.9→3.6, 3.7→3.5
    assert voltage_dips([4.0, 3.8, 3.9, 3.6, 3.7, 3.5], depth=0.05, direction="charge") == 3


def test_nan_samples_are_skipped():
    assert voltage_dips([3.7, np.nan, 3.9, 3.8, 4.0], depth=0.05) == 1


@pytest.mark.parametrize("kw, match", [({"depth": 0.0}, "depth"), ({"depth": np.nan}, "depth"),
                                       ({"direction": "up"}, "'charge' or 'discharge'")])
def test_bad_arguments(kw, match):
    with pytest.raises(ParameterError, match=match):
        voltage_dips([3.7, 3.8], **kw)


def test_electrode_summary_counts_dips_per_half_cycle():
    # a well-wired [002] stack charges smoothly; 10 nm NMC contacts make its columns switch on in turn
    # on the pristine 1.9e-6 S/cm of Amin & Chiang's figure (pinned: with 1e-7 S/cm even 0.1 R contacts dip)
    mat = ss.materials.get("nmc532-sharma2022", sigma="amin-chiang-figure")
    runs = {}
    for cf in (0.1, 0.003):
        lay = ss.geometry.layered_layout(5, 3, radius=3.5e-6, contact_fraction=cf)
        runs[cf] = ss.simulate_electrode(mat, lay, ["Charge at C/20 until 4.3 V", "Discharge at C/20 until 3.5 V"],
                                         n_shells=8, initial_theta=0.99, output_interval=900)
    assert runs[0.1].voltage_dips.dims == ("half_cycle",)
    assert runs[0.1].voltage_dips.values.tolist() == [0, 0]
    assert runs[0.003].voltage_dips.values[0] >= 2


@pytest.mark.parametrize("args, needle", [
    (("abc",), "voltage must be a 1-D sequence"),
    ((None,), "voltage must be a 1-D sequence"),  # counted 0 dips
    ((3.7,), "voltage must be a 1-D sequence"),
    (([3.7, 3.8], "0.05"), "depth must be a number in V"),
    (([3.7, 3.8], True), "depth must be a number in V"),  # read as 1 V
])
def test_wrong_inputs_are_named(args, needle):
    with pytest.raises(ParameterError, match=needle):
        voltage_dips(*args)
