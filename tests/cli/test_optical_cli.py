"""``socscope optical analyze``: outputs, and errors that leave ``--out`` untouched."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

tifffile = pytest.importorskip("tifffile")

from socscope.cli.main import main
from socscope.cli.optical import OUTPUTS

N_HALF = 24  # binned frames per half cycle
BIN = 2
DT = 30.0  # s between raw frames


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A 96x96 uint16 ImageJ stack (charge, then discharge; 6 particles) and a cycler CSV."""
    from socscope.observe.optical import (
        random_drift,
        random_particles,
        soc_traces,
        synthetic_movie,
    )

    folder = tmp_path_factory.mktemp("optical-inputs")
    g = np.random.default_rng(7)
    centres, radii = random_particles(6, (96, 96), rng=g, radius_px=(6, 9), margin_px=8)
    up, down = np.linspace(0, 1, N_HALF), np.linspace(1, 0, N_HALF)
    theta = np.concatenate([
        soc_traces(up, kind="asynchronous", n_particles=6, rng=g).theta,
        soc_traces(down, kind="synchronous", n_particles=6, rng=g, theta_start=0.0, theta_end=1.0).theta,
    ])
    theta = np.repeat(theta, BIN, axis=0)
    n = theta.shape[0]
    mov = synthetic_movie(theta, shape=(96, 96), centres_px=centres, radii_px=radii, pixel_size_nm=100,
                          photons=3000, drift=random_drift(n, rng=g, step_px=0.1, max_px=3), reference_spots=1,
                          reference_peak=1.5, dtype="uint16", rng=g)
    movie = folder / "movie.tif"
    tifffile.imwrite(movie, mov.frames, imagej=True, metadata={"axes": "TYX", "finterval": DT})
    # the cycler: constant current, charge then discharge, recorded every 10 s from the first frame
    t_bin = (np.arange(n) * DT).reshape(-1, BIN).mean(axis=1)
    soc = np.concatenate([up, down])
    t = np.arange(0.0, n * DT, 10.0)
    q = np.interp(t, t_bin, soc) * 1e-3
    pd.DataFrame({"time_s": t, "voltage_V": 3.6 + 0.6 * q / 1e-3,
                  "current_A": np.gradient(q, t) * 3600}).to_csv(folder / "cell.csv", index=False)
    return {"movie": movie, "cycler": folder / "cell.csv", "spot": mov.reference_spots[0], "n": n,
            "particles": mov.n_particles}


def _args(inputs, out, *extra):
    y, x = inputs["spot"]
    return ["optical", "analyze", str(inputs["movie"]), "--cycler", str(inputs["cycler"]), "--capacity-mAh", "1",
            "--pixel-size-nm", "100", "--bin", str(BIN), "--reference-spot", f"{y:.1f},{x:.1f}", "--out", str(out),
            "--quiet", *extra]


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else None


def test_help():
    res = subprocess.run([sys.executable, "-m", "socscope.cli.main", "optical", "analyze", "--help"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0 and "--reference-spot" in res.stdout and "--time-offset-s" in res.stdout


def test_end_to_end_writes_every_output(inputs, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(_args(inputs, out)) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
    particles = pd.read_csv(out / "particles.csv")
    assert len(particles) == inputs["particles"]
    assert {"label", "area_px", "centroid_y_px", "centroid_x_px", "touches_edge", "onset_soc", "width_soc",
            "classification", "max_contrast"} <= set(particles.columns)
    traces = pd.read_csv(out / "traces.csv")
    n_bins = inputs["n"] // BIN
    assert len(traces) == n_bins * inputs["particles"]
    assert {"time_s", "soc", "voltage_V", "particle", "intensity", "contrast"} <= set(traces.columns)
    contrast = tifffile.imread(out / "contrast.tif")
    assert contrast.shape == (n_bins, 96, 96) and contrast.dtype == np.float32
    summary = json.loads((out / "summary.json").read_text())
    assert [h["classification"] for h in summary["half_cycles"]] == ["asynchronous", "synchronous"]
    assert summary["particles"] == inputs["particles"] and summary["bin_frames"] == BIN
    assert len(pd.read_csv(out / "drift.csv")) == n_bins
    for name in OUTPUTS:
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_existing_output_is_refused_then_replaced_with_overwrite(inputs, tmp_path, capsys):
    """Only socscope's own outputs are ever replaced; the user's other files in --out stay."""
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "particles.csv").write_text("an older result")
    assert main(_args(inputs, out)) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "particles.csv" in err
    assert _snapshot(out) == {"notes.txt": b"mine", "particles.csv": b"an older result"}
    assert main(_args(inputs, out, "--overwrite")) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUTS, "notes.txt"])
    assert (out / "notes.txt").read_text() == "mine" and "label" in (out / "particles.csv").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def test_an_interrupted_move_puts_the_previous_outputs_back(inputs, tmp_path, monkeypatch):
    """Outputs move into an existing --out one by one; a failure (or Ctrl-C) part-way leaves the old set."""
    import socscope.io.results as results  # the swap of io.results.output_folder

    out = tmp_path / "results"
    assert main(_args(inputs, out)) == 0
    (out / "notes.txt").write_text("mine")
    for name in OUTPUTS:
        (out / name).write_bytes(b"old " + name.encode())
    before = _snapshot(out)
    real = os.replace

    def interrupted(src, dst):
        if Path(dst) == out / OUTPUTS[4] and Path(src).parent.name != ".replaced":
            raise KeyboardInterrupt  # the fifth output's new file, after four were placed
        return real(src, dst)

    monkeypatch.setattr(results.os, "replace", interrupted)
    assert main(_args(inputs, out, "--overwrite")) == 130  # "socscope: interrupted"
    monkeypatch.setattr(results.os, "replace", real)
    # four new files had replaced old ones (the old were lost); now every file is as it was
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUTS, "notes.txt"])  # no temporary folder


def test_the_movies_own_folder_can_take_the_outputs(inputs, tmp_path):
    """--out may be the folder of the movie: the movie is kept, and no temporary folder is left."""
    movie = tmp_path / "movie.tif"
    movie.write_bytes(inputs["movie"].read_bytes())
    (tmp_path / "notes.txt").write_text("mine")
    args = _args(inputs, tmp_path)
    args[2] = str(movie)
    assert main(args) == 0
    assert movie.read_bytes() == inputs["movie"].read_bytes() and (tmp_path / "notes.txt").read_text() == "mine"
    assert {p.name for p in tmp_path.iterdir()} == {*OUTPUTS, "movie.tif", "notes.txt"}  # no temporary folder


def test_an_input_that_an_output_would_replace_is_refused(inputs, tmp_path, capsys):
    renamed = tmp_path / "contrast.tif"  # the name of an output
    renamed.write_bytes(inputs["movie"].read_bytes())
    args = _args(inputs, tmp_path, "--overwrite")
    args[2] = str(renamed)
    assert main(args) == 2
    assert "is an input and would be replaced by the output contrast.tif" in capsys.readouterr().err
    assert renamed.read_bytes() == inputs["movie"].read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["contrast.tif"]


def _corrupt(folder):
    path = folder / "corrupt.tif"
    path.write_bytes(b"II*\x00" + bytes([0xFF]) * 64)
    return path


def _mixed_shapes(folder):
    path = folder / "mixed.tif"
    with tifffile.TiffWriter(path) as w:
        w.write(np.zeros((32, 32), np.uint16))
        w.write(np.zeros((32, 40), np.uint16))
    return path


def _no_spot(folder):
    """One uniform bright disc on a flat background: nothing for the automatic spot finder."""
    yy, xx = np.mgrid[:64, :64]
    frame = np.full((64, 64), 1000, np.uint16)
    frame[(yy - 32) ** 2 + (xx - 32) ** 2 < 100] = 3000
    path = folder / "no-spot.tif"
    tifffile.imwrite(path, np.repeat(frame[None], 8, axis=0), imagej=True, metadata={"axes": "TYX", "finterval": DT})
    return path


@pytest.mark.parametrize("case, needle", [
    ("corrupt", "corrupt.tif"),
    ("mixed", "has shape"),
    ("spot", "outside"),
    ("offset", "does not overlap"),
    # the finder's advice is given in the command line's own flags
    ("no spot", "--reference-spot Y,X (row, column in pixels), or measure the drift with --drift xcorr"),
    # the SOC settings without a record were ignored (an infinite offset reached the summary as Infinity)
    ("no cycler", "--capacity-mAh, --time-offset-s set(s) the SOC from the cycler record, but no --cycler"),
])
def test_errors_leave_out_absent_or_unchanged(inputs, tmp_path, capsys, case, needle):
    args = _args(inputs, tmp_path / "results")
    if case == "corrupt":
        args[2] = str(_corrupt(tmp_path))
    elif case == "mixed":
        args[2] = str(_mixed_shapes(tmp_path))
    elif case == "spot":
        args[args.index("--reference-spot") + 1] = "412,88"  # outside the 96x96 frames
    elif case == "no spot":
        args[2] = str(_no_spot(tmp_path))
        args[args.index("--reference-spot") + 1] = "auto"
    elif case == "no cycler":
        k = args.index("--cycler")
        args = args[:k] + args[k + 2:] + ["--time-offset-s", "inf"]
    else:
        args += ["--time-offset-s", "1e6"]
    before = {p.name for p in tmp_path.iterdir()}
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("socscope: error:") and needle in err and len(err.strip().splitlines()) == 1
    assert {p.name for p in tmp_path.iterdir()} == before  # nothing written, no temporary folder left
    # an existing output folder with --overwrite is left exactly as it was
    out = tmp_path / "previous"
    out.mkdir()
    (out / "particles.csv").write_text("label\n1\n")
    args[args.index("--out") + 1] = str(out)
    assert main([*args, "--overwrite"]) == 2
    assert _snapshot(out) == {"particles.csv": b"label\n1\n"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_segmentation_flags(inputs, tmp_path, capsys):
    import argparse

    from socscope.cli.optical import _segmentation

    given = argparse.Namespace(smooth_px=2.0, min_distance_px=6.0, no_split=True, labels=None, rois=None)
    assert _segmentation(given) == {"smooth_px": 2.0, "min_distance_px": 6.0, "split_touching": False}
    assert _segmentation(argparse.Namespace(smooth_px=None, min_distance_px=None, no_split=False, labels=None,
                                            rois=None)) == {}  # the library's defaults
    out = tmp_path / "seg"
    assert main(_args(inputs, out, "--smooth-px", "2", "--min-distance-px", "6", "--no-split")) == 0
    assert json.loads((out / "summary.json").read_text())["particles"] == inputs["particles"]
    for flag, value, needle in (("--smooth-px", "-1", "--smooth-px -1.0 must be >= 0 pixels"),
                                ("--min-distance-px", "0.5", "--min-distance-px 0.5 must be >= 1 pixel")):
        assert main(_args(inputs, tmp_path / "bad", flag, value)) == 2
        assert needle in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
