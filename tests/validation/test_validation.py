"""socscope validate: the comparison tables with [004] and [003], and the unreacted-region offset."""

import json
import math

import numpy as np
import pytest

import socscope as ss
from socscope.cli.main import main
from socscope.errors import ParameterError
from socscope.observe import unreacted_com_distance
from socscope.validation import TABLE_COLUMNS, lun2023, run_validation, xu2022


def _numbers(x):
    """Every number in a JSON tree (None stands for a quantity a run does not have)."""
    if isinstance(x, dict):
        for v in x.values():
            yield from _numbers(v)
    elif isinstance(x, list):
        for v in x:
            yield from _numbers(v)
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield x
    elif x is None:
        yield None


def _check_folder(out, module, table, expected_ids):
    for name in ("table.md", "table.csv", "summary.json", *module.FIGURES):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert tuple(table.columns) == TABLE_COLUMNS
    assert list(table.id) == expected_ids
    # the progress bar's total is the number of comparisons
    from socscope.validation import COMPARISONS

    assert len(table) == COMPARISONS[module.__name__.rsplit(".", 1)[1]]
    assert table.holds.dtype == bool
    assert all(isinstance(s, str) and s for col in ("source", "their", "ours", "criterion", "command")
               for s in table[col])
    md = (out / "table.md").read_text()
    for rid in expected_ids:
        assert f"| {rid} |" in md
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mode"] == "quick" and summary["n_rows"] == len(expected_ids)
    assert summary["n_hold"] == int(table.holds.sum())
    nums = [v for row in summary["rows"] for v in _numbers(row["metrics"])]
    assert len(nums) > 20
    assert all(v is None or math.isfinite(v) for v in nums)
    return {row["id"]: row for row in summary["rows"]}


def test_xu2022_quick(tmp_path):
    out = tmp_path / "xu"
    table = run_validation("xu2022", out, quick=True, verbose=False)
    ids = ["a1", "a2", "a3", "b", "c", "d1", "d2", "e", "f1", "f2", "g", "h1", "h2", "h3", "h4"]
    rows = _check_folder(out, xu2022, table, ids)
    holds = dict(zip(table.id, table.holds))
    # the behaviours the model is built to show: core–shell at every rate, growth
    # with rate and size, a delayed and accelerating centre, a Li-rich rim after
    # discharge, capacity recovered by the hold
    for rid in ("a1", "b", "d2", "e", "f1", "g", "h4"):
        assert holds[rid], rid
    m = rows["a1"]["metrics"]["periphery_minus_core"]
    assert set(m) == {"C/30", "C/3", "1C", "2C"} and all(-0.6 < v < -0.02 for v in m.values())
    ce = rows["h2"]["metrics"]
    assert 0 < ce["ce_cc"] < ce["ce_hold"] < 1
    assert ce["charge_mAh_g"] > ce["discharge_cc_mAh_g"] > 0
    lag = rows["b"]["metrics"]["centre_lag"]
    assert all(lag[k]["lag_min"] is not None for k in list(lag)[:2])


def test_lun2023_quick(tmp_path):
    out = tmp_path / "lun"
    table = run_validation("lun2023", out, quick=True, verbose=False)
    rows = _check_folder(out, lun2023, table, ["L1", "L2", "L3", "L4", "L5"])
    holds = dict(zip(table.id, table.holds))
    assert holds["L1"] and holds["L2"] and holds["L3"]
    dist = rows["L3"]["metrics"]["distance_nm"]
    assert all(v["20.0"] is not None and 0 < v["20.0"] < 1000 for v in dist.values())
    assert rows["L3"]["metrics"]["fresh_max_distance_nm"] < 1.0


def test_unreacted_com_distance_half_disc():
    # a half disc unreacted: its centre of mass lies 4R/(3π) from the disc's
    r, h = 1e-6, 2e-9
    g = np.arange(-r + h / 2, r, h)
    x, y = np.meshgrid(g, g)
    inside = x**2 + y**2 < r**2
    xy = np.c_[x[inside], y[inside]]
    vol = np.full(len(xy), h * h)
    theta = np.where(xy[:, 0] < 0, 0.95, 0.3)
    d = unreacted_com_distance(theta, xy, vol, 0.9)
    # the 2 nm staircase of a 1 µm disc moves a centroid by up to about h/R = 2e-3 relative
    # (measured 3.8e-5: the staircase errors largely cancel by symmetry)
    assert d == pytest.approx(4 * r / (3 * np.pi), rel=2e-3)


def test_unreacted_com_distance_leading_axes_and_limits():
    xy = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    vol = np.array([1.0, 1.0, 2.0])
    theta = np.array([
        [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]],  # all unreacted: 0; none: NaN
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],  # one cell unreacted
    ])
    d = unreacted_com_distance(theta, xy, vol, 0.5)
    com = np.array([0.0, 1.0])
    assert d.shape == (2, 2)
    assert d[0, 0] == 0.0 and np.isnan(d[0, 1])
    assert d[1, 0] == pytest.approx(np.hypot(-1.0, -1.0))
    assert d[1, 1] == pytest.approx(np.linalg.norm(xy[2] - com))
    with pytest.raises(ValueError, match="cell_xy"):
        unreacted_com_distance(theta, xy[:2], vol, 0.5)


def test_unreacted_com_distance_on_a_simulated_disc():
    # a polar-grid disc under a uniform flux stays symmetric: distance ~0
    ds = ss.simulate_particle(ss.materials.get("ni88-xu2022"), ss.geometry.Disc(2e-6),
                              ["Charge at 1C for 5 minutes"], resolution=100e-9, kinetics="none",
                              output_interval=60)
    xy = np.c_[ds.cell_x.values, ds.cell_y.values]
    d = unreacted_com_distance(ds.theta_cell.values, xy, ds.cell_volume.values, 0.9)
    assert d.shape == (ds.sizes["time"],)
    # the centroids coincide to round-off of coordinates ~1e-6 m (measured 1.2e-23 m);
    # 1e-18 m = 1e-12 R leaves room for sums over the cells (1e-12 m was 1e-6 R)
    assert np.all(d[np.isfinite(d)] < 1e-18)


@pytest.mark.parametrize("name", ["xu2022", "lun2023", "sharma2022"])
def test_refuses_to_overwrite(tmp_path, name):
    # refused before anything runs (no simulation): cheap for every paper
    out = tmp_path / "v"
    out.mkdir()
    (out / "table.md").write_text("earlier results\n")
    with pytest.raises(ParameterError, match="--overwrite"):
        run_validation(name, out, quick=True, verbose=False)
    assert (out / "table.md").read_text() == "earlier results\n"
    assert sorted(p.name for p in out.iterdir()) == ["table.md"]


def test_cli_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "v"
    out.mkdir()
    (out / "summary.json").write_text("{}\n")
    assert main(["validate", "lun2023", "--out", str(out), "--quick"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_unknown_paper(tmp_path):
    with pytest.raises(ParameterError, match="xu2022"):
        run_validation("smith2030", tmp_path / "v", verbose=False)


def test_sharma2022_quick(tmp_path):
    from socscope.validation import sharma2022

    out = tmp_path / "sharma"
    table = run_validation("sharma2022", out, quick=True, verbose=False)
    ids = ["A1", "A2", "A3", "L1", "L2", "C1", "C2", "M", "I", "S", "S2", "S3"]
    rows = _check_folder(out, sharma2022, table, ids)
    holds = dict(zip(table.id, table.holds))
    # seen in every quick and full run: onsets ordered by electrical distance, later
    # half-cycles synchronous, a first-cycle loss in 5-20 % and none in the second
    # cycle, the heterogeneity kept only by the controls, isolated particles idle
    for rid in ("A2", "A3", "L1", "L2", "M", "I", "S", "S2", "S3"):
        assert holds[rid], rid
    # [002]'s constant-current charge (the 4.3 V limit waits an hour) on the chosen σ(θ) (pristine
    # 1e-7 S/cm): with σ x 0.5 (pristine 5e-8 S/cm, NMC333's value) the first charge passes the full
    # 193 mAh/g and is asynchronous by the switch index (full 16.0, quick 3.7); with σ x 0.1 (1e-8 S/cm)
    # only the carbon-wired column charges and the charge stops once the limit applies (39 mAh/g)
    sens = rows["S"]["metrics"]
    assert sens["charge_capacity_by_sigma_scale"]["0.5"] > 150.0
    assert sens["first_charge_index_by_sigma_scale"]["0.5"] > 1.0
    assert 1.0 < sens["charge_capacity_by_sigma_scale"]["0.1"] < 0.5 * 193.0
    assert sens["first_charge_index_by_sigma_scale"]["0.1"] is None  # NaN in JSON: no switching to read
    assert rows["A3"]["metrics"]["spearman_layered"] > 0.95  # 1.000 measured
    loss = rows["L1"]["metrics"]["capacity_not_recovered"]
    assert 0.10 < loss < 0.14  # 12.4 % quick, 11.6 % full
    assert rows["L1"]["metrics"]["loss_with_d_lithiated_1e-16"] < loss  # less loss with a higher D(1)
    # constant σ keeps the later charge far more heterogeneous than the model does (full, switch
    # index: 0.43 against 0.0021; quick 0.42 against 0.0027); without the low-D region most of the
    # first-cycle loss goes (full 6.5 % against 11.6 %, quick 6.1 % against 12.4 %)
    model_later = rows["A2"]["metrics"]["later_half_cycles"][1]["index"]
    assert rows["C1"]["metrics"]["halves"][2]["index"] > 5 * model_later
    assert rows["C2"]["metrics"]["capacity_not_recovered"] < 0.7 * loss
    spread = rows["M"]["metrics"]["onset_spread_ratio"]
    # measured 0.03 (model), 2.09 and 0.52 (controls) quick; 0.03, 4.30, 0.54 full
    assert spread["model"] < 0.2 and min(spread["constant σ"], spread["no low-D region"]) > 0.5
    assert rows["I"]["metrics"]["n_isolated"] >= 1 and rows["I"]["metrics"]["max_theta_change"] < 1e-9
    # contacts with the pristine conductance of the earlier point-contact scan (radii x 19): the voltage
    # dips as each column switches on (4 dips full, 3 quick at 0.057 R), the top particles' switches
    # spread over the charge (full 0.04-0.34) and are step-like (median width 0.01 full, 0.03 quick at
    # 0.019 R); every radius still charges the full 193 mAh/g
    contact = rows["S2"]["metrics"]["by_contact_fraction"]
    assert contact["0.057"]["dips"] >= 2
    assert contact["0.057"]["top_midpoint_spread"] > 0.2
    assert contact["0.019"]["median_width"] < 0.25
    assert min(contact[k]["capacity_mAh_g"] for k in ("0.057", "0.0285", "0.019")) > 150.0
    # the chain beside wired columns: first-charge index grows as the contacts shrink (full 8.4, 14.3,
    # 16.8, 20.7; quick 3.4, 4.8, 5.8, 7.2); at 0.019 R the far particles step (switch widths 0.01 full,
    # 0.03 quick) and later half-cycles are synchronous (0.00, 0.02, 0.00)
    chain = rows["S3"]["metrics"]["by_contact_fraction"]
    firsts = [chain[k]["index"][0] for k in ("0.057", "0.0285", "0.019", "0.0095")]
    assert np.all(np.diff(firsts) > 0) and firsts[2] > 2.0
    assert max(chain["0.019"]["widths_first_charge"][2:]) < 0.1
    assert max(chain["0.019"]["index"][1:]) < 1.0
    # the synthetic movie of the chain read by the optical pipeline gives what the simulation's own
    # logistic fits of the surface θ give (full: 3.20 and 0.00 by half-cycle in both); the far particles
    # are classified step-like (4 of 5: the carbon-wired one changes gradually). Later half-cycles are
    # near 0, so they are compared absolutely (0.02 of index, a tenth of the synchronous range)
    seen = rows["S3"]["metrics"]["through_microscope"]
    np.testing.assert_allclose(seen["index"], seen["simulated_fit_index"], rtol=0.05, atol=0.02)
    assert seen["classification_first_charge"][1:] == ["step-like"] * 4


def test_cli_offers_every_paper():
    """The command line lists its choices without importing the validation package; they must agree."""
    import argparse

    from socscope.cli.main import build_parser
    from socscope.validation import PAPERS

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    name = next(a for a in sub.choices["validate"]._actions if a.dest == "name")
    assert sorted(name.choices) == sorted(PAPERS)

