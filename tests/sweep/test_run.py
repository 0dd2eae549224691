"""Sweeps in this process: the store, resumption after an interruption, failures per point, reruns bit for bit."""

import json

import numpy as np
import pytest
from many_runs import sweep_toml
from numpy.testing import assert_allclose, assert_array_equal

import socscope as ss
from socscope.errors import ParameterError
from socscope.sweep import load_sweep, map_points, open_sweep, run_sweep

pytest.importorskip("zarr")
pytest.importorskip("dask")

SWEEP = sweep_toml(seed=3)


@pytest.fixture
def sweep_file(tmp_path):
    p = tmp_path / "sweep.toml"
    p.write_text(SWEEP, encoding="utf-8")
    return p


def _arrays(path):
    ds = open_sweep(path)
    return {k: ds[k].values for k in ds.data_vars}


def test_store_holds_each_point_as_its_own_simulation(sweep_file, tmp_path):
    rep = run_sweep(sweep_file, tmp_path / "s.zarr")
    assert (rep.n_points, rep.computed, rep.skipped, rep.failed) == (6, 6, 0, {})
    ds = open_sweep(tmp_path / "s.zarr")
    assert dict(ds.status.sizes) == {"c_rate": 3, "alpha": 2} and (ds.status == 1).all()
    # point (c_rate=2, alpha=5) against the same run made directly
    direct = ss.simulate_particle(ss.materials.get("ni88-xu2022", alpha=5), ss.geometry.Sphere(1e-6),
                                  ["Charge at 2C for 10 minutes"], n_cells=8, kinetics="none", output_interval=60)
    pt = ds.sel(c_rate=2, alpha=5)
    n = int(pt.n_records)
    assert n == direct.sizes["time"] == 11
    assert_array_equal(pt.theta_mean.values[:n], direct.theta_mean.values)  # same code, same numbers
    assert_array_equal(pt.theta_radial.values[:n], direct.theta.values)
    assert np.isnan(pt.theta_mean.values[n:]).all()  # padding after the last record
    # charge passed is the C-rate's promise: nC for 10 min removes n/6 of the practical capacity
    mat = ss.materials.get("ni88-xu2022")
    dtheta = ds.sel(alpha=1).theta_mean.values[:, 0] - ds.sel(alpha=1).theta_mean.values[:, 10]
    assert_allclose(dtheta, np.array([0.5, 1, 2]) / 6 * mat.capacity / mat.theoretical_capacity,
                    rtol=1e-9)  # Li conservation holds to solver round-off
    assert json.loads(ds.attrs["socscope_sweep"])["axes"]["alpha"] == [1, 5]
    assert ds.attrs["sweep_file"] == SWEEP and ds.attrs["socscope_version"] == ss.__version__
    rec = json.loads((tmp_path / "s.zarr" / "points" / "000005.json").read_text())
    assert rec["status"] == 1 and rec["settings"]["c_rate"] == 2 and rec["provenance"]["seed"] == rec["settings"]["seed"]


def test_interrupted_sweep_resumes_computing_only_missing_points(sweep_file, tmp_path):
    full = tmp_path / "full.zarr"
    run_sweep(sweep_file, full)
    part = tmp_path / "part.zarr"

    def stop_after_four(done, total):
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep_file, part, progress=stop_after_four)
    assert (open_sweep(part).status.values == 1).sum() == 4
    rep = run_sweep(sweep_file, part)
    assert (rep.computed, rep.skipped) == (2, 4)
    a, b = _arrays(full), _arrays(part)
    for k in a:
        assert_array_equal(a[k], b[k], err_msg=k)  # bit for bit (NaN padding equal too)
    assert run_sweep(sweep_file, part).computed == 0


def test_failed_point_is_recorded_and_the_sweep_goes_on(tmp_path):
    # the charge to mean θ 0.85 takes 19 min at C/2 (more records than samples = 12, one a minute), 9.4 at 1C
    text = SWEEP.replace("for 10 minutes", "until mean theta 0.85")
    p = tmp_path / "sweep.toml"
    p.write_text(text, encoding="utf-8")
    rep = run_sweep(p, tmp_path / "s.zarr")
    assert sorted(rep.failed) == [0, 1]  # c_rate 0.5 with both alphas
    assert all("more than [sweep] samples = 12" in e for e in rep.failed.values())
    ds = open_sweep(tmp_path / "s.zarr")
    assert ds.status.values.tolist() == [[2, 2], [1, 1], [1, 1]]
    assert "samples" in ds.error.values[0, 0] and ds.error.values[1, 0] == ""
    assert np.isnan(ds.theta_mean.values[0]).all()
    # a rerun tries the failed points again (and they fail again, the others are kept)
    again = run_sweep(p, tmp_path / "s.zarr")
    assert (again.computed, again.skipped, sorted(again.failed)) == (2, 4, [0, 1])


def test_a_record_cut_short_counts_as_not_run(tmp_path):
    p = tmp_path / "sweep.toml"
    p.write_text(SWEEP.replace("for 10 minutes", "until mean theta 0.85"), encoding="utf-8")  # points 0, 1 fail
    out = tmp_path / "s.zarr"
    run_sweep(p, out)
    points = out / "points"
    for name in ("000000.json", "000003.json"):  # failed point 0 and finished point 3: writes cut short
        text = (points / name).read_text()
        (points / name).write_text(text[:len(text) // 2])
    ds = open_sweep(out)
    assert ds.error.values[0, 0] == "" and "samples" in ds.error.values[0, 1]  # point 0's error is unreadable
    # failed points kept: only the two whose records cannot be read run again
    rep = run_sweep(p, out, retry_failed=False)
    assert (rep.computed, rep.skipped, sorted(rep.failed)) == (2, 4, [0])
    assert json.loads((points / "000003.json").read_text())["status"] == 1  # written again, whole
    summary = json.loads(open_sweep(out).attrs["sweep_summary"])
    assert summary["n_points"] == 6 and summary["finished"] == 4 and sorted(summary["failed"]) == ["0", "1"]


def test_an_unreadable_file_among_the_records_does_not_stop_the_summary(sweep_file, tmp_path):
    out = tmp_path / "s.zarr"
    run_sweep(sweep_file, out)
    (out / "points" / "copy of 000002.json").write_text('{"index": 2, "sta')  # no point's name: never rewritten
    (out / "points" / "notes.json").write_text('["not", "a", "record"]')  # JSON, but not a point record
    (out / "points" / "000004 old.json").write_text('{"status": 1}')  # an object without an index
    assert run_sweep(sweep_file, out).computed == 0
    assert json.loads(open_sweep(out).attrs["sweep_summary"])["finished"] == 6


def test_each_record_is_read_once_to_resume_and_once_to_summarise(sweep_file, tmp_path, request):
    out = tmp_path / "s.zarr"
    run_sweep(sweep_file, out)
    reads = request.getfixturevalue("point_record_reads")  # counting from here on
    assert run_sweep(sweep_file, out).computed == 0
    assert reads == {f"{i:06d}.json": 2 for i in range(6)}  # the finished points before, the summary after
    reads.clear()
    open_sweep(out)
    assert reads == {f"{i:06d}.json": 1 for i in range(6)}


def test_store_refuses_other_folders_and_other_sweeps(sweep_file, tmp_path):
    (tmp_path / "taken.zarr").mkdir()
    with pytest.raises(ParameterError, match="not a sweep store"):
        run_sweep(sweep_file, tmp_path / "taken.zarr")
    run_sweep(sweep_file, tmp_path / "s.zarr")
    other = load_sweep(sweep_file)
    other = other.__class__(**{**other.__dict__, "seed": 4})
    with pytest.raises(ParameterError, match="holds another sweep"):
        run_sweep(other, tmp_path / "s.zarr")
    assert run_sweep(other, tmp_path / "s.zarr", overwrite=True).computed == 6


def test_population_sweep_draws_radii_from_the_point_seed(tmp_path):
    d = {"sweep": {"seed": 11, "samples": 8},
         "base": {"kind": "population", "material": "nmc532", "mean_radius_um": 1.0, "radius_cv": 0.3,
                  "n_particles": 5, "n_cells": 6, "protocol": ["Charge at 1C for 5 minutes"]},
         "axes": {"seed": [1, 2]}}
    run_sweep(d, tmp_path / "p.zarr")
    ds = open_sweep(tmp_path / "p.zarr")
    r = ds.particle_radius.values
    # the radii are those of the documented draw: log-normal, mean 1 µm, CV 0.3, from the point's seed
    s2 = np.log1p(0.3 ** 2)
    expect = np.random.default_rng(2).lognormal(np.log(1e-6) - s2 / 2, np.sqrt(s2), size=5)
    assert_array_equal(r[1], expect)
    assert not np.array_equal(r[0], r[1])


def test_map_points_serial_keeps_order_and_reports_progress():
    seen = []
    assert map_points(abs, [-3, 1, -2], progress=lambda d, t: seen.append((d, t))) == [3, 1, 2]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(ParameterError, match="scheduler"):
        map_points(abs, [1], scheduler="nowhere")


def test_electrode_points_share_their_layout_and_differ_by_their_settings(tmp_path):
    d = {"sweep": {"seed": 4, "samples": 8},
         "base": {"kind": "electrode", "material": "nmc532", "n_particles": 6, "n_cells": 5,
                  "protocol": ["Charge at 1C for 5 minutes"]},
         "axes": {"sigma_scale": [1e-6, 1.0]}}
    rep = run_sweep(d, tmp_path / "e.zarr")
    assert rep.failed == {}
    ds = open_sweep(tmp_path / "e.zarr")
    r = ds.particle_radius.values
    assert_array_equal(r[0], r[1])  # the same random layout (common random numbers)
    # point 0 is the documented run: random_layout from the sweep's point seed, sigma_cb scaled
    from socscope.simulate.electrode import SIGMA_CB
    from socscope.sweep.definition import point_seed

    lay = ss.geometry.random_layout(6, dim=2, contact_fraction=0.1, rng=np.random.default_rng(point_seed(4)))
    direct = ss.simulate_electrode("nmc532", lay, ["Charge at 1C for 5 minutes"], n_shells=5, sigma_cb=SIGMA_CB * 1e-6,
                                   output_interval=60.0, radial_profiles=False, observables=False)
    n = int(ds.n_records[0])
    assert_array_equal(ds.voltage.values[0, :n], direct.voltage.values)
    assert_array_equal(ds.theta_particle_mean.values[0, :n], direct.theta_particle_mean.values)
    assert not np.array_equal(ds.voltage.values[0], ds.voltage.values[1])  # sigma_scale reached the model
