"""``socscope sweep`` and ``socscope optical analyze-batch``: outputs, resumption, failures per point or movie."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from many_runs import batch_movies, sweep_toml

from socscope.cli.main import main

pytest.importorskip("zarr")
pytest.importorskip("dask")

SWEEP = sweep_toml(seed=1, samples=8, n_cells=6, protocol="Charge at {c_rate}C for 5 minutes",
                   axes={"c_rate": [1, 2], "alpha": [1, 5]})


def test_sweep_help_shows_an_example():
    res = subprocess.run([sys.executable, "-m", "socscope.cli.main", "sweep", "--help"], capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0 and "[axes]" in res.stdout and "--scheduler" in res.stdout


def test_sweep_writes_the_store_and_resumes(tmp_path, capsys):
    from socscope.sweep import open_sweep

    f = tmp_path / "sweep.toml"
    f.write_text(SWEEP, encoding="utf-8")
    out = tmp_path / "sweep.zarr"
    assert main(["sweep", str(f), "--out", str(out), "--scheduler", "serial"]) == 0
    assert "4 points: 4 computed, 0 kept" in capsys.readouterr().out
    ds = open_sweep(out)
    assert (ds.status == 1).all() and ds.theta_mean.sizes == {"c_rate": 2, "alpha": 2, "sample": 8}
    assert json.loads(ds.attrs["provenance"])["kind"] == "command line"
    assert main(["sweep", str(f), "--out", str(out), "--scheduler", "serial"]) == 0
    assert "0 computed, 4 kept" in capsys.readouterr().out


def test_bad_sweep_file_exits_2_naming_the_line_and_writes_nothing(tmp_path, capsys):
    f = tmp_path / "sweep.toml"
    f.write_text(SWEEP.replace("alpha = [1, 5]", "alpha = []"), encoding="utf-8")
    out = tmp_path / "sweep.zarr"
    assert main(["sweep", str(f), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"socscope: error: {f} line 15: axis alpha is empty; give at least one value, e.g. alpha = [1.0]"
    assert not out.exists()
    assert main(["sweep", str(f), "--out", str(f)]) == 2  # the output would replace the input
    assert main(["sweep", str(tmp_path / "none.toml"), "--out", str(out)]) == 2


# -- analyze-batch -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def movies(tmp_path_factory):
    """Two small synthetic movies with their cycler CSVs, and a file that is not a movie."""
    pytest.importorskip("tifffile")
    folder = tmp_path_factory.mktemp("batch-inputs")
    batch_movies(folder, n_particles=4, size_px=64, radius_px=(5, 7), n_frames=12)
    return folder


def test_analyze_batch_one_folder_per_movie_and_one_table(movies, tmp_path, capsys):
    out = tmp_path / "batch"
    files = [str(movies / n) for n in ("cell_a.tif", "cell_b.tif", "broken.tif")]
    rc = main(["optical", "analyze-batch", *files, "--cycler-pattern", "{stem}.csv", "--capacity-mAh", "1",
               "--pixel-size-nm", "100", "--drift", "none", "--scheduler", "serial", "--out", str(out)])
    assert rc == 1  # one movie failed: recorded, the others analysed
    assert "2 of 3 movies analysed" in capsys.readouterr().out
    table = pd.read_csv(out / "batch_summary.csv")
    assert table.movie.map(lambda p: p.rsplit("/", 1)[-1]).tolist() == ["cell_a.tif", "cell_b.tif", "broken.tif"]
    assert table.status.tolist() == ["done", "done", "failed"]
    assert "broken.tif" in table.error[2]
    for name in ("cell_a", "cell_b"):
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["cycler"].endswith(f"{name}.csv")
        assert table.set_index("folder").loc[str((out / name).resolve()), "particles"] == summary["particles"]
    assert table.particles[:2].tolist() == [4, 4]  # the synthetic movies hold 4 particles each
    assert json.loads((out / "provenance.json").read_text())["inputs"][0]["sha256"]
    # a second run without --overwrite is refused before any work
    assert main(["optical", "analyze-batch", *files[:2], "--out", str(out), "--scheduler", "serial"]) == 2
    assert "already exists" in capsys.readouterr().err
