"""The quick look and the accessor on results of every shape, and what they refuse."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

import socscope as ss
from socscope.errors import ParameterError


@pytest.fixture(scope="module")
def sphere(const_mat):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ss.simulate_particle(const_mat, ss.geometry.Sphere(radius=1e-6), ["Charge at 1C for 4 minutes"],
                                    n_cells=10, output_interval=60)


def test_sphere_quick_look_draws_profiles_and_traces(sphere):
    import matplotlib.pyplot as plt

    fig = sphere.socscope.plot()
    profiles, traces, right = fig.axes[:3]
    # four profiles at the recorded times spread over the run (the first after the start)
    assert [line.get_label() for line in profiles.lines] == ["1 min", "2 min", "3 min", "4 min"]
    np.testing.assert_array_equal(profiles.lines[-1].get_ydata(), sphere.theta.values[-1])  # the result, unchanged
    assert len(traces.lines) == 3
    # no voltage without kinetics: the right panel is periphery − core
    assert right.get_ylabel() == "Δθ"
    plt.close(fig)


def test_quick_look_times_in_minutes_or_seconds(sphere):
    import matplotlib.pyplot as plt

    fig = sphere.socscope.plot(times_min=[2, 4])
    assert [line.get_label() for line in fig.axes[0].lines] == ["2 min", "4 min"]
    plt.close(fig)
    with pytest.raises(ParameterError, match="times_s or times_min"):
        sphere.socscope.plot(times_s=[60], times_min=[1])


def test_accessor_refuses_what_is_not_a_socscope_simulation(sphere):
    assert sphere.socscope.kind == "particle"
    other = xr.Dataset({"a": ("t", [1.0, 2.0])})
    assert other.socscope.kind is None and other.socscope.provenance is None
    with pytest.raises(ParameterError, match="needs a socscope particle or electrode result"):
        other.socscope.plot()


def test_voltage_capacity_needs_a_voltage(sphere):
    with pytest.raises(ParameterError, match="needs a run with Butler-Volmer kinetics"):
        sphere.socscope.voltage_capacity()
