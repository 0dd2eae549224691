"""observe.step_summary: one row per protocol step of a simulated run, against hand-computed numbers."""

import numpy as np
import pytest
import xarray as xr
from numpy.testing import assert_allclose, assert_array_equal

import socscope as ss
from socscope.errors import ParameterError
from socscope.observe import step_summary

PROTOCOL = ["Charge at 1C for 6 minutes", "Rest for 2 minutes",
            "Repeat 2: [Discharge at C/2 for 4 minutes, Charge at C/4 for 4 minutes]",
            "Hold at 3.9 V for 1 minute"]


@pytest.fixture(scope="module")
def run():
    # 0.5 s: a 20-shell sphere started at θ = 0.7, so that no step meets a limit
    return ss.simulate_particle(ss.materials.get("ni88-xu2022"), ss.geometry.Sphere(1e-6), PROTOCOL,
                                n_cells=20, output_interval=30, initial_theta=0.7)


def test_steps_of_a_simulated_run(run):
    table = step_summary(run)
    assert table.index.name == "step" and list(table.index) == list(range(7))
    assert list(table.columns) == ["sentence", "kind", "cycle", "t_end_s", "end_reason", "capacity_mAh_g",
                                   "voltage_end_V"]
    # the Repeat block unrolled, its two repetitions numbered, the steps outside it −1
    assert list(table.sentence) == [PROTOCOL[0], PROTOCOL[1]] + [
        "Discharge at C/2 for 4 minutes", "Charge at C/4 for 4 minutes"] * 2 + [PROTOCOL[3]]
    assert list(table.kind) == ["charge", "rest", "discharge", "charge", "discharge", "charge", "hold_voltage"]
    assert list(table.cycle) == [-1, -1, 0, 0, 1, 1, -1]
    # every step runs its full duration: 6, 2, 4, 4, 4, 4 and 1 minutes
    assert list(table.end_reason) == ["duration"] * 7
    assert_array_equal(table.t_end_s, np.cumsum([360.0, 120.0, 240.0, 240.0, 240.0, 240.0, 60.0]))
    # constant currents on the 210 mAh/g basis: 1C × 0.1 h = 21 mAh/g, C/2 × 1/15 h = 7 mAh/g out,
    # C/4 × 1/15 h = 3.5 mAh/g; nothing passes in the rest. Measured 3.6e-15 mAh/g (current × time,
    # rounding only); 1e-12 leaves room
    assert_allclose(table.capacity_mAh_g.iloc[:6], [21.0, 0.0, -7.0, 3.5, -7.0, 3.5], rtol=0, atol=1e-12)
    # the hold's capacity is what the run's cumulative specific capacity gained over it (measured 0)
    cumulative = run.specific_capacity.sel(time=table.t_end_s.to_numpy()).to_numpy()
    assert_allclose(table.capacity_mAh_g, np.diff(cumulative, prepend=0.0), rtol=0, atol=1e-12)
    assert table.capacity_mAh_g.iloc[6] > 0  # 3.9 V is above where the charge left it (3.79 V): it charges
    # the voltage at the end of each step is the record's at that time; the hold ends at 3.9 V
    assert_array_equal(table.voltage_end_V, run.voltage.sel(time=table.t_end_s.to_numpy()).to_numpy())
    assert abs(table.voltage_end_V.iloc[6] - 3.9) < 1e-14  # the held potential itself (measured 0)


def _hand_dataset(with_voltage=True):
    """Three steps over six samples: step 0 on samples 0-1, step 1 on 2-4, step 2 on 5."""
    ds = xr.Dataset(
        {"step_sentence": ("step_index", ["Charge at 1C for 1 minute", "Rest for 1 minute", "Hold at 4 V for 1 s"]),
         "step_kind": ("step_index", ["charge", "rest", "hold_voltage"]),
         "step_cycle": ("step_index", np.array([-1, -1, -1], np.int32)),
         "step_capacity": ("step_index", [3.5, 0.0, 0.25]),
         "step_end_time": ("step_index", [60.0, 120.0, 121.0]),
         "step_end_reason": ("step_index", ["duration", "duration", "duration"]),
         "step": ("time", [0, 0, 1, 1, 1, 2]),
         "voltage": ("time", [3.7, 3.8, 3.75, 3.74, 3.73, 4.0])},
        coords={"time": [0.0, 60.0, 80.0, 100.0, 120.0, 121.0]},
    )
    return ds if with_voltage else ds.drop_vars("voltage")


def test_a_hand_made_dataset():
    table = step_summary(_hand_dataset())
    # the values are passed through; the end voltage is the last sample of each step
    assert list(table.kind) == ["charge", "rest", "hold_voltage"]
    assert list(table.capacity_mAh_g) == [3.5, 0.0, 0.25]
    assert list(table.t_end_s) == [60.0, 120.0, 121.0]
    assert list(table.voltage_end_V) == [3.8, 3.73, 4.0]
    # a run without a voltage (transport only) has no voltage column
    assert "voltage_end_V" not in step_summary(_hand_dataset(with_voltage=False)).columns


def test_a_dataset_without_the_step_tables_is_refused():
    with pytest.raises(ParameterError, match=r"lacks \['step_capacity'\]"):
        step_summary(_hand_dataset().drop_vars("step_capacity"))
