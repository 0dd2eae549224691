"""The socscope command line: demo, simulate particle, materials, errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

import socscope as ss
from socscope.cli.main import main


def run_cli(*args):
    """Run the console entry point in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "socscope.cli.main", *args], capture_output=True, text=True)


def test_version_and_help():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"socscope {ss.__version__}"
    for cmd in ([], ["demo"], ["simulate"], ["simulate", "particle"], ["materials"]):
        res = run_cli(*cmd, "--help")
        assert res.returncode == 0, cmd
        assert "usage: socscope" in res.stdout


def test_no_command_prints_help_and_fails():
    res = run_cli()
    assert res.returncode == 2
    assert "usage: socscope" in res.stderr


def test_materials_list_and_show(capsys):
    assert main(["materials"]) == 0
    listed = capsys.readouterr().out
    for name in ss.materials.available():
        assert name in listed
    assert main(["materials", "ni88-xu2022"]) == 0
    assert "material_c_max_mol_m3" in capsys.readouterr().out


def test_materials_shows_a_material_file(tmp_path, capsys):
    # it took only built-in names, and told the user to call a Python function
    path = ss.materials.save(ss.materials.get("nmc532"), tmp_path / "mine.toml")
    assert main(["materials", str(path)]) == 0
    out = capsys.readouterr().out
    assert "nmc532" in out and "material_density_kg_m3 = 4700" in out


def test_simulate_particle_writes_a_result(tmp_path):
    out = tmp_path / "run.nc"
    code = main([
        "simulate", "particle", "--material", "ni88-xu2022", "--shape", "disc", "--diameter-um", "1",
        "--resolution-nm", "50", "--protocol", "Charge at C/3 for 10 minutes", "Rest for 5 minutes",
        "--out", str(out), "--quiet",
    ])
    assert code == 0
    ds = ss.open_results(out)
    assert ds.theta.dims == ("time", "y", "x")
    # C/3 on the 210 mAh/g basis for 10 minutes: Δθ = (1/3)(1/6)(210/275)
    expected = (1 / 3) * (10 / 60) * 210 / ss.materials.get("ni88-xu2022").theoretical_capacity * 3600
    # the mean moves by exactly the passed charge (conservation to round-off)
    assert abs((0.97 - float(ds.theta_mean[-1])) - expected) < 1e-9
    assert list(ds.step_end_reason.values) == ["duration", "duration"]


def test_simulate_particle_full_cycle_with_voltage(tmp_path, capsys):
    """The issue's command line: a C/3 cycle to voltage cut-offs and a 2 h hold at 3.0 V."""
    out = tmp_path / "cycle.nc"
    code = main([
        "simulate", "particle", "--material", "ni88-xu2022", "--shape", "disc", "--diameter-um", "2",
        "--protocol", "Charge at C/3 until 4.3 V", "Discharge at C/3 until 3.0 V", "Hold at 3.0 V for 2 hours",
        "--out", str(out), "--quiet",
    ])
    assert code == 0
    ds = ss.open_results(out)
    assert list(ds.step_end_reason.values) == ["voltage=4.3", "voltage=3.0", "duration"]
    assert ds.voltage.attrs["units"] == "V"
    # a voltage hold records its potential state, which stays at the held value (measured
    # exactly 3.0); 1e-14 V allows interpolation round-off
    assert abs(float(ds.voltage[-1]) - 3.0) < 1e-14
    cap = ds.step_capacity.values
    assert cap[0] > 100 and cap[1] < -50 and cap[2] < 0  # the hold lithiates further


def test_simulate_refuses_to_overwrite(tmp_path):
    out = tmp_path / "run.nc"
    out.write_bytes(b"precious")
    res = run_cli("simulate", "particle", "--material", "ni88-xu2022", "--shape", "sphere", "--radius-um", "1",
                  "--n-cells", "10", "--protocol", "Charge at 1C for 1 minute", "--out", str(out), "--quiet")
    assert res.returncode == 2
    assert "already exists" in res.stderr and "--overwrite" in res.stderr
    assert out.read_bytes() == b"precious"  # nothing the user had is lost


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--material", "nosuch", "--shape", "sphere", "--radius-um", "1"], "nosuch"),
        (["--material", "ni88-xu2022", "--shape", "sphere", "--radius-um", "-1"], "-1"),
        (["--material", "ni88-xu2022", "--shape", "disc"], "--diameter-um"),
        (["--material", "ni88-xu2022", "--shape", "sphere", "--radius-um", "1", "--diameter-um", "3"],
         "--radius-um or --diameter-um, not both"),
        (["--material", "ni88-xu2022", "--shape", "sphere", "--radius-um", "1", "--n-cells", "10",
          "--resolution-nm", "50"], "not both"),
        (["--material", "ni88-xu2022", "--shape", "sphere", "--radius-um", "1", "--initial-theta", "1.2"], "1.2"),
        (["--material", "ni88-xu2022", "--shape", "sphere", "--radius-um", "1", "--param", "alpha"], "alpha"),
    ],
)
def test_bad_input_gives_one_clear_line(tmp_path, args, needle):
    res = run_cli("simulate", "particle", *args, "--protocol", "Charge at 1C for 1 minute",
                  "--out", str(tmp_path / "x.nc"), "--quiet")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("socscope: error:")
    assert needle in lines[0]
    assert not (tmp_path / "x.nc").exists()


def test_param_with_a_material_file_names_the_file(tmp_path):
    """--param belongs to built-in materials; with a material file the one line names the file and the fix."""
    mine = tmp_path / "mine.toml"
    ss.materials.save(ss.materials.get("nmc532"), mine)
    res = run_cli("simulate", "particle", "--material", str(mine), "--param", "alpha=5", "--shape", "sphere",
                  "--radius-um", "1", "--protocol", "Charge at 1C for 1 minute", "--out", str(tmp_path / "x.nc"),
                  "--quiet")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("socscope: error:")
    assert "alpha" in lines[0] and str(mine) in lines[0] and "edit the file" in lines[0]
    assert not (tmp_path / "x.nc").exists()


def test_argument_errors_are_one_line_without_the_usage_block(tmp_path):
    for args in (["validate", "nature2099"], ["simulate", "particle", "--material", "ni88-xu2022", "--shape", "cube"]):
        res = run_cli(*args)
        assert res.returncode == 2, args
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "error: argument" in lines[0] and "--help" in lines[0], res.stderr


def test_an_output_folder_blocked_by_a_file_is_named(tmp_path):
    """A file where a folder of --out should be: the path the user gave is named, nothing is written."""
    (tmp_path / "taken").write_text("precious")
    res = run_cli("simulate", "particle", "--material", "ni88-xu2022", "--shape", "sphere", "--radius-um", "1",
                  "--n-cells", "5", "--protocol", "Rest for 1 minute", "--out", str(tmp_path / "taken" / "x.nc"),
                  "--quiet")
    assert res.returncode == 2
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1 and str(tmp_path / "taken") in line and "Not a directory" in line
    assert ".tmp" not in line  # the temporary file beside the result is not what the user named
    assert (tmp_path / "taken").read_text() == "precious"


def test_bad_protocol_names_the_position(tmp_path):
    res = run_cli("simulate", "particle", "--material", "ni88-xu2022", "--shape", "sphere", "--radius-um", "1",
                  "--protocol", "Charge at C/3 fr 1 hour", "--out", str(tmp_path / "x.nc"), "--quiet")
    assert res.returncode == 2
    line = res.stderr.strip()
    assert "position 14" in line and "Charge at C/3 for 1 hour" in line


def test_mask_from_npy(tmp_path):
    img = np.zeros((20, 20), dtype=bool)
    img[4:16, 3:17] = True
    img[8:11, 8:11] = False  # an internal hole
    np.save(tmp_path / "mask.npy", img)
    out = tmp_path / "mask.nc"
    code = main(["simulate", "particle", "--material", "ni88-xu2022", "--shape", "mask",
                 "--mask", str(tmp_path / "mask.npy"), "--pixel-size-nm", "50",
                 "--protocol", "Charge at 1C for 5 minutes", "--out", str(out), "--quiet"])
    assert code == 0
    ds = ss.open_results(out)
    # one cell per pixel by default: NaN exactly outside the mask and in the hole
    assert np.array_equal(np.isfinite(ds.theta.isel(time=0).values)[1:-1, 1:-1], img)
    # every non-zero pixel is the particle, as the help says: a marker pixel of 3 in a mask of 1s
    # had turned the particle into that one pixel (a threshold at half the maximum)
    marked = img.astype(np.uint8)
    marked[5, 5] = 3
    np.save(tmp_path / "marked.npy", marked)
    out = tmp_path / "marked.nc"
    assert main(["simulate", "particle", "--material", "ni88-xu2022", "--shape", "mask",
                 "--mask", str(tmp_path / "marked.npy"), "--pixel-size-nm", "50",
                 "--protocol", "Charge at 1C for 5 minutes", "--out", str(out), "--quiet"]) == 0
    assert np.array_equal(np.isfinite(ss.open_results(out).theta.isel(time=0).values)[1:-1, 1:-1], img)
    # a mask saved through a colour map has no 0 pixel: refused, not simulated as one square particle
    import matplotlib.pyplot as plt

    plt.imsave(tmp_path / "viridis.png", img)
    assert main(["simulate", "particle", "--material", "ni88-xu2022", "--shape", "mask",
                 "--mask", str(tmp_path / "viridis.png"), "--pixel-size-nm", "50",
                 "--protocol", "Charge at 1C for 5 minutes", "--out", str(tmp_path / "v.nc"), "--quiet"]) != 0
    assert not (tmp_path / "v.nc").exists()


@pytest.mark.filterwarnings("default::socscope.errors.RangeWarning")  # as outside pytest
def test_demo_writes_its_files(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quiet"]) == 0
    # the runs stay within 0.1 of every property's data (the cycle's hold fills the surface just past
    # D's 0.99, which is recorded in the results, not warned about): the demo prints no warning
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warned == []
    for name in ("disc_charge_C3.nc", "disc_cycle_C3.nc", "electrode_C20.nc", "theta_maps.png", "theta_traces.png",
                 "periphery_core.png", "voltage_curve.png", "cycle_maps.png", "electrode_traces.png",
                 "electrode_dol.png", "summary.md", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    el = summary["electrode"]
    # [002]-like electrode: onsets in order of electrical distance (measured ρ = 1.00), a
    # first-cycle loss near 10 % (measured 12.2 %), synchronous later half-cycles
    assert el["first_charge_onset_order_spearman"] > 0.9
    assert 0.05 < el["capacity_not_recovered"] < 0.2
    assert el["classification"][1:] == ["synchronous", "synchronous"]
    cyc = summary["cycle"]
    # the hold recovers capacity the CC discharge left behind, and the CC
    # discharge leaves a Li-rich rim ([004])
    assert cyc["recovered_by_hold_mAh_g"] > 5
    assert cyc["coulombic_efficiency_cc"] < cyc["coulombic_efficiency_with_hold"] <= 1
    assert cyc["periphery_minus_core_end_of_discharge"] > 0.05
    # the core-shell of [004]: the periphery is Li-poor at 5-35 min (the difference growing to
    # 25 min; measured on 34.7 nm rings: -0.057, -0.136, -0.167, -0.151) while the centre keeps its
    # initial occupancy
    pc = summary["periphery_minus_core"]
    assert all(v < -0.02 for v in pc) and pc[0] > pc[1] > pc[2]
    # the summary rounds to 4 decimals (±5e-5); the simulated centre moves by 3.5e-8, so the
    # rounded value is 0.97 (measured 0) and 1e-4 is the rounding plus margin
    assert abs(summary["theta_centre"][-1] - 0.97) < 1e-4
    assert summary["li_inventory_relative_error"] < 1e-9
    # a second run refuses to overwrite, and --overwrite replaces
    res = run_cli("demo", "--out", str(out), "--quiet")
    assert res.returncode == 2 and "--overwrite" in res.stderr
    assert main(["demo", "--out", str(out), "--quiet", "--overwrite"]) == 0


def test_a_mask_with_nan_pixels_is_refused(tmp_path):
    img = np.zeros((20, 20))
    img[5:15, 5:15] = 1.0
    img[0, 3] = np.nan
    np.save(tmp_path / "m.npy", img)
    res = run_cli("simulate", "particle", "--material", "ni88-xu2022", "--shape", "mask", "--mask",
                  str(tmp_path / "m.npy"), "--pixel-size-nm", "50", "--protocol", "Rest for 1 minute",
                  "--out", str(tmp_path / "x.nc"), "--quiet")
    assert res.returncode == 2
    assert "1 NaN or infinite pixel(s), the first at (row, column) (0, 3)" in res.stderr
    assert not (tmp_path / "x.nc").exists()
