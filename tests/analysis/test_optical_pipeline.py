"""Operando optical microscopy: contrast, per-particle measures, the cycler join and the whole pipeline."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from socscope.analysis.optical.contrast import (
    differential_contrast,
    particle_depth,
    particle_means,
    periphery_core,
    unreacted_com,
)
from socscope.analysis.optical.join import derivative_vs_soc, join_cycler, read_cycler
from socscope.errors import FileFormatError, ParameterError
from socscope.observe.heterogeneity import periphery_core_masks


def _discs(shape, centres, radii):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    lab = np.zeros(shape, dtype=np.int32)
    for k, ((cy, cx), r) in enumerate(zip(centres, radii), start=1):
        lab[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = k
    return lab


# --- contrast ---------------------------------------------------------------------------------
def test_differential_contrast_is_the_relative_change_and_nan_without_reference():
    ref = np.array([[2.0, 4.0], [0.0, -1.0]])
    frames = np.stack([ref, 1.5 * ref, ref + 1.0])
    c = differential_contrast(frames, ref)
    # exact arithmetic on representable numbers: (1.5 I - I) / I = 0.5
    assert_allclose(c[1, 0], [0.5, 0.5], rtol=0, atol=1e-15)
    assert_allclose(c[2, 0], [0.5, 0.25], rtol=0, atol=1e-15)
    assert np.isnan(c[:, 1]).all()  # I_ref <= 0: no contrast defined
    assert c.dtype == np.float64 and frames[1, 0, 0] == 3.0  # input untouched


def test_particle_means_match_a_loop_and_skip_nan_pixels():
    rng = np.random.default_rng(1)
    lab = _discs((40, 50), [(10, 10), (25, 30), (5, 45)], [6, 9, 4])
    lab[lab == 2] = 7  # labels need not be consecutive
    frames = rng.random((4, 40, 50))
    frames[1, 25, 30] = np.nan
    m = particle_means(frames, lab)
    assert m.shape == (4, 3)
    for j in range(4):
        for col, label in enumerate([1, 3, 7]):
            v = frames[j][lab == label]
            # same sums in another order: round-off only
            assert_allclose(m[j, col], np.nanmean(v), rtol=1e-12)


def test_depth_is_the_distance_to_the_nearest_outside_pixel():
    lab = _discs((41, 60), [(20, 15), (20, 34)], [10, 9])  # two discs that touch
    d = particle_depth(lab)
    assert d[20, 15] == 10.0  # centre of a radius-10 disc: 10 px to the first outside pixel (20, 4)
    assert d[20, 25] == 1.0  # the rim pixel of disc 1 next to disc 2: a neighbour of another label
    assert (d[lab == 0] == 0).all() and (d[lab > 0] >= 1).all()
    edge = np.zeros((10, 10), int)
    edge[:, :4] = 1  # cut by the left image edge: the edge is not outside
    assert particle_depth(edge)[5].tolist()[:5] == [4.0, 3.0, 2.0, 1.0, 0.0]


def test_periphery_core_uses_the_shared_masks():
    lab = _discs((50, 50), [(25, 25)], [15])
    d = particle_depth(lab)
    contrast = np.where(lab > 0, 0.3 / d.clip(1), np.nan)[None]  # bright rim, dark core
    table = periphery_core(contrast, lab)
    per, core = periphery_core_masks(d[lab > 0])
    vals = contrast[0][lab > 0]
    assert_allclose(table.periphery_contrast.iloc[0], vals[per].mean(), rtol=1e-12)
    assert_allclose(table.core_contrast.iloc[0], vals[core].mean(), rtol=1e-12)
    assert table.periphery_minus_core.iloc[0] > 0.1
    fixed = periphery_core(contrast, lab, depth_px=3)
    assert fixed.n_periphery_px.iloc[0] == int((d[lab > 0] <= 3).sum())
    with pytest.raises(ParameterError):
        periphery_core(contrast, lab, depth_px=3, fraction=0.2)


def test_unreacted_com_of_a_half_reacted_disc():
    lab = _discs((61, 61), [(30, 30)], [20])
    yy, xx = np.mgrid[:61, :61]
    frames = np.zeros((3, 61, 61))
    frames[1] = np.where(xx > 30, 0.2, 0.0)  # right half reacted
    frames[2] = 0.2  # all reacted
    table = unreacted_com(frames, lab, pixel_size_nm=10.0)
    inside = lab > 0
    left = inside & (xx <= 30)
    expected = np.hypot(xx[left].mean() - xx[inside].mean(), yy[left].mean() - yy[inside].mean())
    assert table.com_distance_px.iloc[0] == 0.0  # nothing reacted yet: centres coincide
    assert_allclose(table.com_distance_px.iloc[1], expected, rtol=1e-12)
    # a half disc's centroid lies 4R/(3π) from the centre (measured 3.0 % less: pixelisation, and the
    # centre column counts as unreacted)
    assert_allclose(table.com_distance_px.iloc[1], 4 * 20 / (3 * np.pi), rtol=0.035)
    assert_allclose(table.com_distance_nm.iloc[1], 10 * table.com_distance_px.iloc[1], rtol=1e-12)
    assert np.isnan(table.com_distance_px.iloc[2])  # no unreacted region left


# --- the cycler join -------------------------------------------------------------------------------
def _record(capacity_Ah=2e-3, current_A=1e-4, rest_s=1800.0):
    """Charge at constant current to full capacity, rest, discharge back: a record every 5 s."""
    t_charge = capacity_Ah / current_A * 3600
    t = np.arange(0.0, 2 * t_charge + rest_s + 1e-9, 5.0)
    i = np.where(t <= t_charge, current_A, np.where(t <= t_charge + rest_s, 0.0, -current_A))
    q_As = np.where(t <= t_charge, current_A * t,
                    np.where(t <= t_charge + rest_s, current_A * t_charge, current_A * (2 * t_charge + rest_s - t)))
    q = q_As / 3600
    v = 3.6 + 0.6 * q / capacity_Ah
    return pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": i, "capacity_Ah": q}), t_charge


def test_soc_from_the_passed_charge():
    rec, t_charge = _record()
    frames_t = np.arange(0.0, 2 * t_charge + 1800, 300.0)
    j = join_cycler(frames_t, rec, mass_g=0.01, capacity_mAh_g=200)
    expected = np.interp(frames_t, rec.time_s, rec.capacity_Ah) / 2e-3
    assert_allclose(j.soc, expected, rtol=0, atol=1e-12)  # linear interpolation of a linear record: exact
    assert_allclose(j.soc.max(), 1.0, atol=1e-12)
    assert set(j.direction) == {"charge", "rest", "discharge"}
    assert (j.half_cycle[j.direction == "charge"] == 0).all() and (j.half_cycle[j.direction == "discharge"] == 1).all()
    # without a capacity column the current is integrated (trapezoids): exact for piecewise-constant current
    # except within one record step of the switches
    j2 = join_cycler(frames_t, rec.drop(columns="capacity_Ah"), capacity_Ah=2e-3, time_offset_s=0.0)
    assert_allclose(j2.soc, j.soc, atol=5 * 1e-4 / 3600 / 2e-3 + 1e-12)


def test_time_offset_and_non_overlapping_record():
    rec, _ = _record()
    j = join_cycler([0.0, 600.0], rec, capacity_Ah=2e-3, time_offset_s=600.0)
    assert_allclose(j.soc, [600 * 1e-4 / 3600 / 2e-3, 1200 * 1e-4 / 3600 / 2e-3], atol=1e-12)
    with pytest.raises(ParameterError) as err:
        join_cycler(np.arange(0, 100) * 60.0 + 1e6, rec, capacity_Ah=2e-3)
    msg = str(err.value)
    assert "does not overlap" in msg and "--time-offset-s" in msg and f"{rec.time_s.iloc[-1]:.6g}" in msg
    assert "1e+06" in msg  # the movie's range is stated too
    with pytest.raises(ParameterError, match="capacity basis"):
        join_cycler([0.0], rec)


def test_cycler_csv_with_units_in_the_header(tmp_path):
    rec, _ = _record()
    path = tmp_path / "cell.csv"
    pd.DataFrame({"Time (h)": rec.time_s / 3600, "Voltage (V)": rec.voltage_V,
                  "Current (mA)": rec.current_A * 1e3}).to_csv(path, index=False)
    df = read_cycler(path)
    assert_allclose(df.current_A, rec.current_A, rtol=1e-12)
    assert_allclose(df.time_s, rec.time_s, rtol=1e-9, atol=1e-9)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(FileFormatError, match="no time column"):
        read_cycler(bad)


def test_derivative_vs_soc_of_a_quadratic():
    soc = np.linspace(0, 1, 41)
    d = derivative_vs_soc(soc, soc**2)
    # Savitzky–Golay (quadratic) then central differences: exact inside, first order at the ends
    assert_allclose(d[1:-1], 2 * soc[1:-1], atol=1e-12)
