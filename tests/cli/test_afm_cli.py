"""``socscope afm info|analyze`` and ``socscope nexafs ratio`` end to end on files with a known answer."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("skimage")
pytest.importorskip("matplotlib")
gwyfile = pytest.importorskip("gwyfile")

from socscope.cli.afm import AFM_OUTPUTS, NEXAFS_OUTPUTS
from socscope.cli.main import main

from many_runs import nexafs_spectra

IBW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "afm" / "asylum_pfm_P0089OP0027.ibw"
N = 200
PIXEL_NM = 10.0
AMPLITUDE = {0: 3.0, 50: 2.0, 100: 1.5}  # bulk ESM amplitude per SOC [pm]; the rim is 0.5 pm higher at SOC 0 only


def _write_map(path: Path, soc: int, rng) -> None:
    from gwyfile.objects import GwyContainer, GwyDataField, GwySIUnit

    yy, xx = np.mgrid[:N, :N].astype(float)
    labels = np.zeros((N, N), int)
    for k, (cy, cx, r) in enumerate(((55, 60, 40), (140, 135, 45)), start=1):
        labels[np.hypot(yy - cy, xx - cx) < r] = k
    dist = np.full((N, N), -np.inf)  # depth below the nearest disc edge
    for cy, cx, r in ((55, 60, 40), (140, 135, 45)):
        dist = np.maximum(dist, r - np.hypot(yy - cy, xx - cx))
    height = 1e-9 * (0.03 * xx + 0.01 * yy + np.where(labels > 0, 30.0, 0.0) + rng.normal(0, 0.5, (N, N)))
    rim = (labels > 0) & (dist < 15)
    amp = np.where(labels > 0, AMPLITUDE[soc] + np.where(rim, 0.5 if soc == 0 else 0.0, 0.0), 0.3) * 1e-12
    obj = GwyContainer()
    for k, (title, data, unit) in enumerate((("Height", height, "m"), ("Amplitude", amp, "m"))):
        obj[f"/{k}/data/title"] = title
        obj[f"/{k}/data"] = GwyDataField(data, xreal=N * PIXEL_NM * 1e-9, yreal=N * PIXEL_NM * 1e-9,
                                         si_unit_xy=GwySIUnit(unitstr="m"), si_unit_z=GwySIUnit(unitstr=unit))
    obj.tofile(str(path))


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    folder = tmp_path_factory.mktemp("maps")
    rng = np.random.default_rng(7)
    for soc in AMPLITUDE:
        _write_map(folder / f"NCM622_SOC{soc}.gwy", soc, rng)
    return sorted(folder.glob("*.gwy"))


def test_analyze_recovers_the_per_soc_means_and_the_rim(maps, tmp_path, capsys):
    out = tmp_path / "afm"
    rc = main(["afm", "analyze", *map(str, maps), "--channel", "Amplitude", "--mask-from", "Height",
               "--soc-from-name", r"SOC(\d+)", "--rim-nm", "150", "--out", str(out), "--quiet"])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(AFM_OUTPUTS)
    summary = pd.read_csv(out / "soc_summary.csv").set_index("soc_percent")
    # uniform particles; the found masks may take in a few edge pixels of the 0.3 pm matrix
    # (1e-4 of a particle's area moves the mean by 1e-4 at most)
    assert_allclose(summary.loc[50.0, "mean"], 2.0e-12, rtol=1e-3)
    assert_allclose(summary.loc[100.0, "mean"], 1.5e-12, rtol=1e-3)
    # SOC 0: a 0.5 pm rim over 15 px of the edge (150 nm at 10 nm/px); 2 % covers the pixelated edge
    assert_allclose(summary.loc[0.0, "rim_minus_bulk_mean"], 0.5e-12, rtol=0.02)
    assert abs(summary.loc[50.0, "rim_minus_bulk_mean"]) < 0.01 * 0.5e-12  # no rim: zero but for those edge pixels
    particles = pd.read_csv(out / "particles.csv")
    assert len(particles) == 6 and (particles.groupby("map").size() == 2).all()
    prov = json.loads((out / "provenance.json").read_text())
    assert len(prov["inputs"]) == 3 and all(len(i["sha256"]) == 64 for i in prov["inputs"])
    assert len(list((out / "masks").glob("*_labels.tif"))) == 3
    # a second run refuses to overwrite, and with --overwrite replaces only its own files
    (out / "notes.txt").write_text("mine")
    assert main(["afm", "analyze", *map(str, maps), "--channel", "Amplitude", "--out", str(out), "--quiet"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["afm", "analyze", *map(str, maps), "--channel", "Amplitude", "--mask-from", "Height",
                 "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert (out / "notes.txt").read_text() == "mine"
    # the masks of one run given back as labels: the same particles, no segmentation
    again = tmp_path / "again"
    assert main(["afm", "analyze", *map(str, maps), "--channel", "Amplitude", "--labels", str(out / "masks"),
                 "--soc-from-name", r"SOC(\d+)", "--rim-nm", "150", "--out", str(again), "--quiet"]) == 0
    first = pd.read_csv(out / "particles.csv")
    second = pd.read_csv(again / "particles.csv")
    assert_allclose(second["area_px"], first["area_px"], rtol=0)  # same label images, same areas


def test_unknown_channel_is_one_line_naming_the_file(maps, tmp_path, capsys):
    rc = main(["afm", "analyze", str(maps[0]), "--channel", "Current", "--out", str(tmp_path / "x"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "NCM622_SOC0.gwy: no channel 'Current'; it has Height, Amplitude" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.skipif(not IBW.is_file(), reason=f"shared AFM file not found at {IBW}")
def test_info_on_the_real_wave(capsys):
    assert main(["afm", "info", str(IBW), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shape_px"] == [256, 256] and info["scan_size_um"] == pytest.approx(2.0)
    assert len(info["channels"]) == 5


def test_info_on_a_non_igor_file(tmp_path, capsys):
    bad = tmp_path / "broken.ibw"
    bad.write_bytes(b"\x00\x01" * 50)
    assert main(["afm", "info", str(bad)]) == 2
    assert "broken.ibw: not readable as an Igor binary wave" in capsys.readouterr().err


def test_nexafs_ratio_command(tmp_path):
    nexafs_spectra(tmp_path)
    out = tmp_path / "nexafs"
    rc = main(["nexafs", "ratio", *map(str, sorted(tmp_path.glob("ni_*.csv"))), "--edge", "Ni-L3",
               "--soc-from-name", r"SOC(\d+)", "--out", str(out), "--quiet"])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(NEXAFS_OUTPUTS)
    table = pd.read_csv(out / "ratios.csv")
    ratio = table.set_index(["soc_percent", "mode"])["high_low_ratio"]
    # oxidation raises the high/low ratio, and the surface (TEY, more Ni3+ here) lies above the bulk (FY)
    assert ratio[(100.0, "TEY")] > ratio[(0.0, "TEY")] and ratio[(100.0, "TEY")] > ratio[(100.0, "FY")]


def test_nexafs_ratio_on_a_k_edge_file_speaks_in_flags(tmp_path, capsys):
    e = np.linspace(8133.0, 9567.0, 200)
    path = tmp_path / "ni_k.xdi"
    path.write_text("\n".join(["# XDI/1.0", "# Column.1: energy eV", "# Column.2: mutrans", "# Element.symbol: Ni",
                               "# Element.edge: K", "#----"] + [f"{x:.2f} {np.arctan(x - 8333):.6f}" for x in e]) + "\n")
    assert main(["nexafs", "ratio", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "this is a Ni K-edge spectrum" in err and "840-885 eV" in err
    assert "pre_edge_eV" not in err and "--pre-edge" not in err  # no option of that name exists


def test_nexafs_ratio_leaves_the_time_column_out(tmp_path):
    nexafs_spectra(tmp_path)
    timed = tmp_path / "timed"
    timed.mkdir()
    for src in sorted(tmp_path.glob("ni_*.csv")):
        table = pd.read_csv(src)
        table.insert(1, "time", 1.0)
        table.to_csv(timed / src.name, index=False)
    out = tmp_path / "nexafs"
    assert main(["nexafs", "ratio", *map(str, sorted(timed.glob("*.csv"))), "--out", str(out), "--quiet"]) == 0
    assert set(pd.read_csv(out / "ratios.csv")["mode"]) == {"TEY", "FY"}


def test_analyze_without_socs_and_a_too_wide_rim(maps, tmp_path, capsys):
    # discs of radius 40 and 45 px at 10 nm/px: a 500 nm rim leaves neither a bulk
    rc = main(["afm", "analyze", str(maps[0]), "--channel", "Amplitude", "--mask-from", "Height",
               "--rim-nm", "500", "--out", str(tmp_path / "afm")])
    captured = capsys.readouterr()
    assert rc == 0
    warned = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warned) == 1 and "--rim-nm 500 nm leaves no bulk in 2 of 2 particles" in warned[0]
    assert "rim_nm" not in captured.err and "or less keeps a bulk in 100 % of them" in warned[0]
    out = captured.out
    assert "1 map, 2 particles;" in out and "all maps:" in out and "(2 particles in 1 map)" in out
    assert "nan" not in out.lower() and "SOC" not in out and ".0 particles" not in out


def test_a_pixel_size_that_makes_the_particles_tiny_is_warned(tmp_path, capsys):
    # two discs 40 px across: at 0.05 nm/px they would be 2 nm wide, far below any resolvable particle
    yy, xx = np.mgrid[:128, :128]
    height = np.zeros((128, 128))
    for cy, cx in ((30, 30), (90, 90)):
        height[np.hypot(yy - cy, xx - cx) < 20] = 1.0
    path = tmp_path / "p.npz"
    np.savez(path, Height=height, Amplitude=2 * height + 1)
    base = ["afm", "analyze", str(path), "--channel", "Amplitude", "--mask-from", "Height", "--quiet"]
    assert main([*base, "--pixel-size-nm", "0.05", "--rim-nm", "0.2", "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "with --pixel-size-nm 0.05 the largest particle is 2 nm across" in err
    assert main([*base, "--pixel-size-nm", "10", "--rim-nm", "20", "--out", str(tmp_path / "b")]) == 0
    assert "warning" not in capsys.readouterr().err  # 400 nm particles: plausible
    # without a pixel size, the fix is named once, as a flag
    assert main(["afm", "info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("--pixel-size-nm") == 1 and "pixel_size_nm" not in err


def test_nexafs_windows_follow_an_offset_energy_scale(tmp_path, capsys):
    """A beamline whose energies read 2 eV high: moving every window by 2 eV gives the ratios of the true scale."""
    paths = nexafs_spectra(tmp_path / "true")
    for p in paths:
        (tmp_path / "offset").mkdir(exist_ok=True)
        table = pd.read_csv(p)
        table["Energy"] = table["Energy"] + 2.0
        table.to_csv(tmp_path / "offset" / p.name, index=False)

    def ratios(folder, *windows):
        out = tmp_path / f"out_{folder}_{len(windows)}"
        files = [str(q) for q in sorted((tmp_path / folder).glob("ni_*.csv"))]
        assert main(["nexafs", "ratio", *files, "--soc-from-name", r"SOC(\d+)", *windows, "--out", str(out),
                     "--quiet"]) == 0
        return pd.read_csv(out / "ratios.csv").set_index(["soc_percent", "mode"])["high_low_ratio"]

    moved = ["--window", "pre-edge=842:851", "--window", "post-edge=880:887", "--window", "low=854:856",
             "--window", "high=856.5:858.5"]
    truth = ratios("true")
    # the same samples, the same windows relative to the edge: equal to round-off of the written energies
    assert_allclose(ratios("offset", *moved).loc[truth.index], truth, rtol=1e-9)
    assert not np.allclose(ratios("offset").loc[truth.index], truth, rtol=1e-3)  # the default windows miss them
    assert main(["nexafs", "ratio", *map(str, paths), "--window", "peak=852:854", "--out",
                 str(tmp_path / "bad"), "--quiet"]) == 2
    assert "--window 'peak=852:854' must be NAME=LO:HI in eV" in capsys.readouterr().err
