"""Provenance: a result read back gives the exact command, the input hashes, the seed and the version."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
import warnings

import numpy as np
import pytest

import socscope as ss
from socscope.cli.main import main


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def particle_run(tmp_path_factory):
    """``socscope simulate particle`` on a mask file, with --plot."""
    pytest.importorskip("matplotlib")
    tmp = tmp_path_factory.mktemp("provenance")
    y, x = np.mgrid[:16, :16]
    mask = tmp / "mask.npy"
    np.save(mask, (x - 7.5) ** 2 + (y - 7.5) ** 2 < 49)
    argv = ["simulate", "particle", "--material", "ni88-xu2022", "--shape", "mask", "--mask", str(mask),
            "--pixel-size-nm", "120", "--protocol", "Charge at 1C for 6 minutes", "--output-interval-s", "120",
            "--out", str(tmp / "run.nc"), "--plot", "--quiet"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 0
    return {"argv": argv, "mask": mask, "out": tmp / "run.nc"}


def test_result_file_gives_back_the_exact_command_and_input_hash(particle_run):
    ds = ss.open_results(particle_run["out"])
    prov = ds.socscope.provenance
    assert prov["command"] == shlex.join(["socscope", *particle_run["argv"]])
    assert shlex.split(prov["command"])[1:] == particle_run["argv"]  # it re-runs as it ran
    [entry] = prov["inputs"]
    assert entry["path"] == str(particle_run["mask"].resolve())
    assert entry["sha256"] == _sha256(particle_run["mask"])
    assert entry["bytes"] == particle_run["mask"].stat().st_size
    assert prov["socscope_version"] == ss.__version__ and prov["kind"] == "command line"
    assert prov["seed"] is None and prov["platform"] and prov["python"]


def test_quick_look_files_carry_the_provenance(particle_run):
    from PIL import Image

    png = particle_run["out"].with_suffix(".png")
    text = Image.open(png).text["Description"]
    assert json.loads(text)["provenance"]["command"].startswith("socscope simulate particle")
    csv = particle_run["out"].with_name("run_voltage_capacity.csv")
    head = [line[2:] for line in csv.read_text().splitlines() if line.startswith("# ")]
    assert json.loads("".join(head))["provenance"]["inputs"][0]["sha256"] == _sha256(particle_run["mask"])
    import pandas as pd

    table = pd.read_csv(csv, comment="#")
    ds = ss.open_results(particle_run["out"])
    assert list(table.columns) == ["time_s", "step", "capacity_mAh_g", "voltage_V", "theta_mean"]
    # the CSV is the result's own curve, written as decimal text: 17 significant digits round-trip exactly
    np.testing.assert_allclose(table.voltage_V, ds.voltage.values, rtol=1e-15)
    np.testing.assert_allclose(table.capacity_mAh_g, ds.specific_capacity.values, rtol=1e-15)


def test_plot_outputs_are_refused_before_the_run(particle_run, capsys):
    # run.png exists: without --overwrite the command stops before simulating
    argv = [a if a != str(particle_run["out"]) else str(particle_run["out"].with_name("other.nc"))
            for a in particle_run["argv"]]
    particle_run["out"].with_name("other.png").write_bytes(b"keep")
    assert main(argv) == 2
    assert "other.png already exists" in capsys.readouterr().err
    assert not particle_run["out"].with_name("other.nc").exists()


def test_output_folder_records_command_and_input_hash(tmp_path):
    from socscope._provenance import read_provenance

    t = np.arange(0.0, 7200.0, 30.0)
    current = np.where(t < 3600, 1e-3, -1e-3)
    csv = tmp_path / "cell.csv"
    import pandas as pd

    pd.DataFrame({"time_s": t, "voltage_V": 3.6 + 1e-4 * np.minimum(t, 7200 - t),
                  "current_A": current}).to_csv(csv, index=False)
    argv = ["cycler", "summary", str(csv), "--out", str(tmp_path / "out"), "--quiet"]
    assert main(argv) == 0
    prov = read_provenance(tmp_path / "out")
    assert prov["command"] == shlex.join(["socscope", *argv])
    assert prov["inputs"][0]["sha256"] == _sha256(csv)


def test_save_results_records_a_python_call_and_keeps_a_given_provenance(tmp_path, const_mat):
    from socscope._provenance import provenance

    ds = ss.simulate_particle(const_mat, ss.geometry.Sphere(radius=1e-6), ["Charge at 1C for 2 minutes"],
                              n_cells=8, output_interval=60)
    ss.save_results(ds, tmp_path / "a.nc")
    assert ss.open_results(tmp_path / "a.nc").socscope.provenance["command"].startswith("socscope.save_results(")
    mine = provenance(call="my_script.py", seed=7, inputs=[tmp_path / "a.nc"])
    ss.save_results(ds, tmp_path / "b.nc", provenance=mine)
    back = ss.open_results(tmp_path / "b.nc").socscope.provenance
    assert back["command"] == "my_script.py" and back["seed"] == 7
    assert back["inputs"][0]["sha256"] == _sha256(tmp_path / "a.nc")
    with pytest.raises(ss.errors.ParameterError, match="provenance must be a dict"):
        ss.save_results(ds, tmp_path / "c.nc", provenance="x")


def test_import_loads_no_plotting_templating_or_browser_library():
    code = ("import sys, socscope as ss; ss.plotting; import xarray as xr; xr.Dataset().socscope; "
            "print(sorted(m for m in ('matplotlib', 'jinja2', 'selenium', 'playwright') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
