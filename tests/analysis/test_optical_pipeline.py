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
    with pytest.raises(ParameterError, match="give depth_px or fraction, not both"):
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
    # a frame falls on the end-of-charge sample: 2 mAh over the 2 mAh basis (measured exactly 1);
    # 1e-14 allows the basis 0.01 g × 200 mAh/g to round
    assert_allclose(j.soc.max(), 1.0, atol=1e-14)
    assert set(j.direction) == {"charge", "rest", "discharge"}
    assert (j.half_cycle[j.direction == "charge"] == 0).all() and (j.half_cycle[j.direction == "discharge"] == 1).all()
    # without a capacity column the current is integrated (trapezoids): exact for piecewise-constant current
    # except within one record step of the switches
    j2 = join_cycler(frames_t, rec.drop(columns="capacity_Ah"), capacity_Ah=2e-3, time_offset_s=0.0)
    assert_allclose(j2.soc, j.soc, atol=5 * 1e-4 / 3600 / 2e-3 + 1e-12)


def test_time_offset_and_non_overlapping_record():
    rec, _ = _record()
    j = join_cycler([0.0, 600.0], rec, capacity_Ah=2e-3, time_offset_s=600.0)
    # both times fall on record samples of a linear charge (measured 0); 1e-15 is a few hundred
    # ulp of these SOCs (0.008 and 0.017), room for another operation order
    assert_allclose(j.soc, [600 * 1e-4 / 3600 / 2e-3, 1200 * 1e-4 / 3600 / 2e-3], rtol=0, atol=1e-15)
    with pytest.raises(ParameterError) as err:
        join_cycler(np.arange(0, 100) * 60.0 + 1e6, rec, capacity_Ah=2e-3)
    msg = str(err.value)
    assert "does not overlap" in msg and "--time-offset-s" in msg and f"{rec.time_s.iloc[-1]:.6g}" in msg
    assert "1e+06" in msg  # the movie's range is stated too
    with pytest.raises(ParameterError, match="capacity basis"):
        join_cycler([0.0], rec, mass_g=8e-3)  # half a basis
    with pytest.raises(ParameterError, match="initial_soc = nan must lie between 0 and 1"):
        join_cycler([0.0], rec, capacity_Ah=2e-3, initial_soc=float("nan"))
    # no basis: SOC runs over the record's charge swing (here one charge, so it ends at exactly 1)
    with pytest.warns(UserWarning, match="largest charge swing"):
        j = join_cycler(rec.time_s.to_numpy(), rec)
    # the swing is the record's own charge: start and end samples divide to 0 and 1 (measured 0)
    assert_allclose([j.soc.min(), j.soc.max()], [0.0, 1.0], rtol=0, atol=1e-14)


def test_cycler_csv_with_units_in_the_header(tmp_path):
    rec, _ = _record()
    path = tmp_path / "cell.csv"
    pd.DataFrame({"Time (h)": rec.time_s / 3600, "Voltage (V)": rec.voltage_V,
                  "Current (mA)": rec.current_A * 1e3}).to_csv(path, index=False)
    df = read_cycler(path)
    # ×1e3 written, ×1e-3 read: two correctly rounded products, ≤ 2.2e-16 relative
    # (measured 0 for the current, 1.3e-16 for the time through hours); 1e-15 bounds both
    assert_allclose(df.current_A, rec.current_A, rtol=1e-15)
    assert_allclose(df.time_s, rec.time_s, rtol=1e-15, atol=0)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(FileFormatError, match="no time column"):
        read_cycler(bad)
    # a table gets the checks a file gets: two tests joined (time restarts) or a NaN time
    joined = pd.concat([rec, rec], ignore_index=True)
    with pytest.raises(ParameterError, match="the cycler table: time runs backwards"):
        join_cycler([600.0, 1800.0], joined, capacity_Ah=1e-3)
    gap = rec.copy()
    gap.loc[3, "time_s"] = np.nan
    with pytest.raises(ParameterError, match="the time of data row 4 is nan"):
        read_cycler(gap)


def test_derivative_vs_soc_of_a_quadratic():
    soc = np.linspace(0, 1, 41)
    # Savitzky–Golay (quadratic) then second-order differences: exact for a quadratic, ends included
    # (round-off of the filter and the differences: 1e-12)
    for window in (7, 6, 1):  # an even window is taken as the next odd one (6 read a shifted slope)
        assert_allclose(derivative_vs_soc(soc, soc**2, window=window), 2 * soc, atol=1e-12)
    for bad in (0, -3, "7", 2.5):
        with pytest.raises(ParameterError, match="window"):
            derivative_vs_soc(soc, soc**2, window=bad)
    with pytest.raises(ParameterError, match=r"values must have shape \(41,\)"):
        derivative_vs_soc(soc, np.ones(5))


# --- the whole pipeline on synthetic movies -------------------------------------------------------
def _experiment(*, n_per_half=50, shape=(112, 112), n_particles=7, bin_n=2, noise=True, drift=True, rng=3,
                dt=60.0):
    """An asynchronous first charge, then a synchronous discharge and second charge ([002] Fig. 1c).

    Returns the movie (raw frames: every binned frame's occupancy repeated ``bin_n`` times), a
    cycler record whose SOC at each binned frame's time is the rendered SOC, its capacity, the
    cycler time of the movie's first frame, and the true transitions of the three half cycles.
    """
    from socscope.observe.optical import (
        random_drift,
        random_particles,
        soc_traces,
        synthetic_movie,
    )

    g = np.random.default_rng(rng)
    centres, radii = random_particles(n_particles, shape, rng=g, radius_px=(6, 10), margin_px=8)
    s1, s2, s3 = np.linspace(0, 1, n_per_half), np.linspace(1, 0.1, n_per_half), np.linspace(0.1, 1, n_per_half)
    halves = (soc_traces(s1, kind="asynchronous", n_particles=n_particles, rng=g, theta_start=1.0, theta_end=0.0),
              soc_traces(s2, kind="synchronous", n_particles=n_particles, rng=g, theta_start=0.0, theta_end=0.9),
              soc_traces(s3, kind="synchronous", n_particles=n_particles, rng=g, theta_start=0.9, theta_end=0.0))
    theta = np.repeat(np.concatenate([h.theta for h in halves]), bin_n, axis=0)
    soc_b = np.concatenate([s1, s2, s3])
    t = np.arange(theta.shape[0]) * dt / bin_n
    d = random_drift(theta.shape[0], rng=g, step_px=0.15, max_px=4) if drift else None
    mov = synthetic_movie(theta, shape=shape, centres_px=centres, radii_px=radii, time_s=t, pixel_size_nm=100,
                          photons=2000 if noise else None, read_noise=0.002 if noise else 0.0, drift=d,
                          reference_spots=1, reference_peak=1.5, rng=g)
    tb = t.reshape(-1, bin_n).mean(axis=1)
    capacity = 1e-3
    tr = np.arange(tb[0] - 5 * dt, tb[-1] + 5 * dt, 10.0)
    q = np.interp(tr, tb, soc_b) * capacity
    rec = pd.DataFrame({"time_s": tr - tr[0], "voltage_V": 3.6 + 0.6 * q / capacity,
                        "current_A": np.gradient(q, tr) * 3600, "capacity_Ah": q - q[0]})
    return mov, rec, capacity, -tr[0], halves


@pytest.fixture(scope="module")
def experiment():
    return _experiment()


@pytest.fixture(scope="module")
def analysed(experiment):
    from socscope.analysis.optical.pipeline import analyze_movie

    mov, rec, capacity, offset, _ = experiment
    spot = tuple(mov.reference_spots[0] + np.array([0.4, -0.3]))  # a user's click is off by a fraction of a px
    written = []
    res = analyze_movie(mov.frames, time_s=mov.time_s, bin_frames=2, reference_spot=spot, cycler=rec,
                        capacity_Ah=capacity, time_offset_s=offset, pixel_size_nm=mov.pixel_size_nm,
                        contrast_writer=lambda start, frames: written.append(frames))
    res.extra["contrast"] = np.concatenate(written)
    return res


def test_noiseless_differential_contrast_equals_the_rendered_truth():
    from socscope.analysis.optical.pipeline import analyze_movie

    mov, *_ = _experiment(n_per_half=12, shape=(80, 80), n_particles=4, bin_n=1, noise=False, drift=False)
    written = []
    res = analyze_movie(mov.frames, time_s=mov.time_s, labels=mov.labels, drift="none", chunk_frames=7,
                        contrast_writer=lambda start, frames: written.append((start, frames)))
    contrast = np.concatenate([f for _, f in written])
    assert [s for s, _ in written] == list(range(0, 36, 7)) and contrast.dtype == np.float32
    inside = mov.labels > 0
    # float32 storage of contrasts below 1: relative round-off 6e-8
    assert_allclose(contrast[:, inside], mov.contrast[:, inside], rtol=0, atol=1e-6)
    assert np.isnan(contrast[:, ~inside]).sum() == 0  # no threshold with given labels: the matrix keeps its contrast
    wide = res.traces.pivot(index="frame", columns="particle", values="contrast").to_numpy()
    # the per-particle means are computed in float64 from the same frames: round-off only
    assert_allclose(wide, mov.particle_means("contrast"), rtol=0, atol=1e-12)


def test_pipeline_recovers_particles_onsets_and_classifies_half_cycles(experiment, analysed):
    mov, _, _, _, halves = experiment
    res = analysed
    assert len(res.particles) == mov.n_particles
    # segmented labels to true particles: by the true label under each centroid
    truth_of = {int(r.label): int(mov.labels[round(r.centroid_y_px), round(r.centroid_x_px)]) - 1
                for r in res.particles.itertuples()}
    assert sorted(truth_of.values()) == list(range(mov.n_particles))
    assert res.half_cycles.classification.tolist() == ["asynchronous", "synchronous", "synchronous"]
    assert res.half_cycles.direction.tolist() == ["charge", "discharge", "charge"]
    for k, true in enumerate(halves):
        t = res.transitions[res.transitions.half_cycle == k].set_index("particle")
        est = np.array([t.onset_soc.loc[label] for label in truth_of])
        exp = np.array([true.onset_soc[truth_of[label]] for label in truth_of])
        # the requirement: 2 % SOC (measured: 0.18 % at most on this movie, noise and drift on)
        assert_allclose(est, exp, rtol=0, atol=0.02)
    first = res.particles
    assert (first.classification == "step-like").all() and (first.half_cycle == 0).all()
    assert {"label", "area_px", "area_um2", "centroid_y_px", "centroid_x_px", "touches_edge", "onset_soc",
            "width_soc", "classification", "max_contrast"} <= set(first.columns)
    # ~62 % brighter at full delithiation ([004]); the first frame is fully lithiated. Measured
    # 0.584-0.599: the blurred rim, which mixes in the matrix, brightens less
    assert_allclose(first.max_contrast, 0.62, atol=0.04)


def test_drift_is_recovered_and_traces_are_complete(experiment, analysed):
    mov = experiment[0]
    res = analysed
    true = mov.drift.reshape(-1, 2, 2).mean(axis=1)  # a binned frame is the mean of its two frames
    err = res.drift[["drift_y_px", "drift_x_px"]].to_numpy() - true
    # Gaussian fit to one spot under shot noise: measured 0.022 px RMS
    assert np.sqrt(np.mean(err**2)) < 0.1
    n_bins = mov.frames.shape[0] // 2
    assert len(res.traces) == n_bins * mov.n_particles
    assert res.traces.soc.notna().all()
    assert_allclose(res.traces.com_distance_nm, res.traces.com_distance_px * 100, rtol=1e-15)  # NaN = NaN


def test_streamed_measures_match_the_library_functions_on_the_written_stack(analysed):
    res = analysed
    contrast = res.extra["contrast"].astype(float)
    assert contrast.shape[0] == res.drift.shape[0]
    # the streamed per-particle numbers were computed from the float64 frames, the written
    # stack is float32: agreement to float32 round-off of contrasts below 1
    wide = res.traces.pivot(index="frame", columns="particle", values="contrast").to_numpy()
    assert_allclose(particle_means(contrast, res.labels), wide, rtol=0, atol=1e-6)
    pc = periphery_core(contrast, res.labels)
    assert_allclose(pc.periphery_contrast, res.traces.periphery_contrast, rtol=0, atol=1e-6)
    assert_allclose(pc.core_contrast, res.traces.core_contrast, rtol=0, atol=1e-6)
    com = unreacted_com(contrast, res.labels, threshold=0.05)
    same = np.isfinite(com.com_distance_px) == np.isfinite(res.traces.com_distance_px)
    # a pixel within 1e-6 of the threshold may flip between float32 and float64: at most a handful of rows
    assert same.mean() > 0.99
    # where the same pixels are unreacted both compute the same centroid (measured median and
    # max 0); the median discounts a row where a threshold pixel flipped, 1e-12 px allows round-off
    assert np.nanmedian(np.abs(com.com_distance_px - res.traces.com_distance_px)[same]) < 1e-12


def test_chunks_do_not_change_the_answer(experiment):
    from socscope.analysis.optical.pipeline import analyze_movie

    mov = experiment[0]
    frames = mov.frames[:60]
    kw = {"time_s": mov.time_s[:60], "bin_frames": 2, "reference_spot": tuple(mov.reference_spots[0])}
    one = analyze_movie(frames, chunk_frames=60, **kw)
    many = analyze_movie(frames, chunk_frames=6, **kw)  # the spot is tracked across chunk borders
    # each fit starts where the previous frame's ended, across chunk borders too, so the same
    # arithmetic runs (measured 0); 1e-12 px allows for summation order, the fit's own tolerance
    # (1e-10 relative) would only show if the starting points differed
    assert_allclose(many.drift.drift_y_px, one.drift.drift_y_px, rtol=0, atol=1e-12)
    # per-particle means over 100–300 pixels: a different block shape may reorder the sums (a few
    # hundred ulp, ~3e-14 of a contrast below 1); measured 0
    assert_allclose(many.traces.contrast, one.traces.contrast, rtol=0, atol=1e-12)
    assert np.isnan(one.traces.soc).all() and one.half_cycles.empty  # no cycler: no SOC, no fits


def test_segmentation_settings_reach_the_segmentation():
    """Two discs that touch: split by the default watershed, one object with split_touching=False."""
    from socscope.analysis.optical.pipeline import analyze_movie

    frame = 100.0 + 900.0 * (_discs((64, 64), [(32, 22), (32, 41)], [10, 10]) > 0)  # centres 19 px apart, overlapping
    frames = np.repeat(frame[None], 4, axis=0)
    kw = dict(time_s=np.arange(4.0), drift="none")
    assert analyze_movie(frames, **kw).labels.max() == 2
    assert analyze_movie(frames, segmentation={"split_touching": False}, **kw).labels.max() == 1
    with pytest.raises(ParameterError, match=r"unknown setting\(s\) \['smoothing'\]; allowed: .*smooth_px"):
        analyze_movie(frames, segmentation={"smoothing": 3}, **kw)
    with pytest.raises(ParameterError, match="segmentation must be a dict"):
        analyze_movie(frames, segmentation="abc", **kw)
    with pytest.raises(ParameterError, match="would be ignored"):
        analyze_movie(frames, segmentation={"smooth_px": 3}, labels=(frame > 500).astype(int), **kw)
    with pytest.raises(ParameterError, match=r"split_touching'\] must be True or False"):
        analyze_movie(frames, segmentation={"split_touching": "no"}, **kw)


def test_pipeline_errors(experiment):
    from socscope.analysis.optical.pipeline import analyze_movie

    mov, rec, capacity, _, _ = experiment
    frames, t = mov.frames[:20], mov.time_s[:20]
    with pytest.raises(ParameterError, match="outside the image"):
        analyze_movie(frames, time_s=t, reference_spot=(500.0, 20.0))
    with pytest.raises(ParameterError, match="time-offset-s"):
        analyze_movie(frames, time_s=t, drift="none", cycler=rec, capacity_Ah=capacity, time_offset_s=1e7)
    with pytest.raises(ParameterError, match="capacity"):  # half a basis
        analyze_movie(frames, time_s=t, drift="none", cycler=rec, mass_g=8e-3)
    with pytest.raises(ParameterError, match="labels have shape"):
        analyze_movie(frames, time_s=t, drift="none", labels=np.ones((5, 5), int))


@pytest.mark.parametrize("kwargs, needle", [
    # out-of-range numbers that ran to a result (time_offset_s=inf was written as Infinity in the summary)
    ({"frame_interval_s": 0.0, "time_s": None}, "frame_interval_s=0.0 must be a positive number of seconds"),
    ({"time_s": [0.0, 1.0, np.nan, 3.0]}, r"time_s\[2\] = nan"),
    ({"time_s": [3.0, 2.0, 1.0, 0.0]}, "time_s must increase from frame to frame"),
    ({"periphery_depth_px": -2}, "periphery_depth_px = -2 px must be finite and > 0"),
    ({"half_width": 0}, "half_width = 0 must be an integer >= 2"),
    ({"pixel_size_nm": "34"}, "pixel_size_nm must be a number in nm"),
    # the cycler join's settings without a cycler record were ignored
    ({"capacity_Ah": 1e-3}, r"capacity_Ah=0.001: settings of the join with the cycler record, but no cycler="),
    ({"time_offset_s": float("inf")}, "time_offset_s=inf: settings of the join"),
])
def test_out_of_range_settings_are_named(kwargs, needle):
    from socscope.analysis.optical.pipeline import analyze_movie

    frame = 100.0 + 900.0 * (_discs((32, 32), [(16, 16)], [6]) > 0)
    with pytest.raises(ParameterError, match=needle):
        analyze_movie(np.repeat(frame[None], 4, axis=0), **{"time_s": np.arange(4.0), "drift": "none", **kwargs})


def test_a_label_on_the_background_is_named():
    # one label over a bright disc, one over background below the threshold: the second has no
    # reference intensity, so no contrast (it crashed with a pandas length error)
    from socscope.analysis.optical.pipeline import analyze_movie

    yy, xx = np.mgrid[:40, :80]
    frame = np.where(np.hypot(yy - 20, xx - 20) < 10, 200.0, 10.0)
    frames = np.stack([frame * (1 + 0.01 * k) for k in range(6)])
    labels = np.zeros((40, 80), np.int32)
    labels[np.hypot(yy - 20, xx - 20) < 8] = 1
    labels[np.hypot(yy - 20, xx - 60) < 8] = 2
    with pytest.raises(ParameterError, match="particle label 2 .* has no pixel brighter than the background"):
        analyze_movie(frames, frame_interval_s=60.0, labels=labels, threshold=50.0, drift="none")
    labels[labels == 2] = 0
    res = analyze_movie(frames, frame_interval_s=60.0, labels=labels, threshold=50.0, drift="none")
    assert len(res.particles) == 1


def test_frames_off_the_record_turn_straight_into_the_next_half_cycle():
    # a charge that turns at once into a discharge, filmed every 60 s from t = 20 s: the last
    # charge frame lies short of the turn, so it must not start the discharge (the SOC would
    # run backwards and the fit raised); both half cycles are measured
    from socscope.analysis.optical.pipeline import _asynchrony

    t = np.arange(0, 7201, 10.0)
    rec = pd.DataFrame({"time_s": t, "voltage_V": np.full(t.size, 3.7), "current_A": np.where(t <= 3600, 1e-3, -1e-3)})
    frames = join_cycler(np.arange(20, 7200, 60.0), rec, capacity_Ah=1e-3)
    soc, half = frames.soc.to_numpy(), frames.half_cycle.to_numpy()
    k = np.flatnonzero(half == 1)[0]
    assert soc[k - 1] < soc[k]  # the frame before the discharge's first is short of the turn
    contrast = np.column_stack([np.tanh((soc - 0.5) * 10), np.tanh((soc - 0.3) * 10)])
    trans, halves = _asynchrony(soc, contrast, half, frames, np.array([1, 2]))
    assert halves.direction.tolist() == ["charge", "discharge"]
    # the second particle's step at SOC 0.3 is found in both directions: a logistic fitted to a tanh
    # sampled every 0.017 of SOC, measured 3.3e-4 off
    assert_allclose(trans.query("particle == 2").midpoint_soc, 0.3, atol=2e-3)


def test_a_movie_object_keeps_its_frame_times(tmp_path):
    # frame_interval_s given to the analysis applies to the analysis, not to the caller's Movie
    tifffile = pytest.importorskip("tifffile")
    from socscope.analysis.optical.pipeline import analyze_movie
    from socscope.io.movies import open_movie

    yy, xx = np.mgrid[:40, :40]
    frame = np.where(np.hypot(yy - 20, xx - 20) < 10, 200.0, 10.0)
    path = tmp_path / "m.tif"
    tifffile.imwrite(path, np.stack([frame * (1 + 0.01 * k) for k in range(6)]).astype(np.float32))
    labels = (np.hypot(yy - 20, xx - 20) < 8).astype(np.int32)
    with open_movie(path, frame_interval_s=60.0) as movie:
        res = analyze_movie(movie, frame_interval_s=1.0, labels=labels, threshold=50.0, drift="none")
        assert_allclose(movie.time_s, np.arange(6) * 60.0)
    assert_allclose(res.traces.time_s.unique(), np.arange(6) * 1.0)


def test_a_pixel_size_in_the_wrong_unit_is_named(experiment):
    """The movie's particles are 12–20 px across: at 0.1 nm a pixel they would be 2 nm (µm read as nm)."""
    import warnings

    from socscope.analysis.optical.pipeline import analyze_movie
    from socscope.errors import SocscopeWarning

    mov, rec, capacity, offset, _ = experiment
    kw = dict(time_s=mov.time_s, bin_frames=2, reference_spot=tuple(mov.reference_spots[0]), cycler=rec,
              capacity_Ah=capacity, time_offset_s=offset)
    with pytest.warns(SocscopeWarning, match=r"with pixel_size_nm = 0.1 the largest particle is \d.\d+ nm across"):
        analyze_movie(mov.frames, pixel_size_nm=0.1, **kw)
    with warnings.catch_warnings():  # the movie's own 100 nm: no word
        warnings.simplefilter("error", SocscopeWarning)
        analyze_movie(mov.frames, pixel_size_nm=mov.pixel_size_nm, **kw)
