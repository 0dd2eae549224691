"""``socscope fit particle|gitt``: outputs, provenance, refusals."""

import dataclasses
import json
import shlex

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.cli.fit import GITT_OUTPUTS, PARTICLE_OUTPUTS
from socscope.cli.main import main
from socscope.materials import Property

tifffile = pytest.importorskip("tifffile")


def test_help(capsys):
    for cmd in (["fit", "--help"], ["fit", "particle", "--help"], ["fit", "gitt", "--help"],
                ["fit", "electrode", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(cmd)
        assert exc.value.code == 0
    assert "profile-likelihood" in capsys.readouterr().out


@pytest.fixture(scope="module")
def gitt_csv(tmp_path_factory):
    from socscope.fitting.synthetic import synthetic_gitt_record

    base = ss.materials.get("nmc532")
    mat = dataclasses.replace(base, D=Property("D", "m2/s", lambda th: np.full(np.shape(th), 2e-15), source="t"),
                              factory=None)
    df = synthetic_gitt_record(mat, radius_m=2e-6, pulses=[(60, 5400), (1200, 5400)], specific_current_mA_g=32,
                               mass_g=8e-3, initial_theta=0.95, samples_per_step=40)
    path = tmp_path_factory.mktemp("gitt") / "gitt.csv"
    df.drop(columns="step").to_csv(path, index=False)
    return path


def test_fit_gitt_writes_outputs_and_refuses_to_overwrite(gitt_csv, tmp_path, capsys):
    out = tmp_path / "fitgitt"
    args = ["fit", "gitt", str(gitt_csv), "--mass-mg", "8", "--material", "nmc532", "--radius-um", "2",
            "--initial-theta", "0.95", "--no-intervals", "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(GITT_OUTPUTS)
    tab = pd.read_csv(out / "gitt_fit.csv")
    # constant D = 2e-15 m²/s: both pulses give it back; 5 % covers the 40-shell model against the 40-shell record
    # (nmc532's own U and i0 in both)
    assert_allclose(tab["D_model"], 2e-15, rtol=0.05)
    mat = ss.materials.load(out / "material.toml")
    # the material file tabulates the fitted D (the file's interpolation promises 1e-3)
    assert_allclose(mat.D(tab["theta_mid"].to_numpy()), tab["D_model"], rtol=1e-3)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["inputs"][0]["sha256"] and prov["settings"]["radius_m"] == 2e-6
    # the command given to main (not the test runner's command line)
    assert prov["command"] == shlex.join(["socscope", *args])
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err


@pytest.fixture(scope="module")
def particle_inputs(tmp_path_factory):
    from socscope.fitting._model import reference_rate_constant
    from socscope.fitting.synthetic import synthetic_particle_record

    mat = ss.materials.get("ni88-xu2022")
    yy, xx = np.mgrid[:16, :16]
    disc = (yy - 7.5) ** 2 + (xx - 7.5) ** 2 < 7.6 ** 2
    rec = synthetic_particle_record(mat, disc, pixel_size_nm=125, alpha=4.0, k0=0.3 * reference_rate_constant(mat),
                                    specific_current_mA_g=140.0, duration_s=1800.0, n_frames=8, shape="sphere",
                                    pad_px=20, rng=2)
    folder = tmp_path_factory.mktemp("particle")
    dt = float(rec.time_s[1] - rec.time_s[0])
    tifffile.imwrite(folder / "movie.tif", rec.frames.astype(np.float32), imagej=True,
                     metadata={"axes": "TYX", "finterval": dt})
    rec.cycler.to_csv(folder / "cell.csv", index=False)
    return folder, rec


def test_fit_particle_end_to_end(particle_inputs, tmp_path):
    folder, rec = particle_inputs
    out = tmp_path / "fit"
    y, x = rec.reference_spot
    args = ["fit", "particle", str(folder / "movie.tif"), "--cycler", str(folder / "cell.csv"),
            "--pixel-size-nm", "125", "--mass-mg", str(rec.mass_g * 1e3), "--free", "alpha,k0", "--shape", "sphere",
            "--reference-spot", f"{y:.2f},{x:.2f}", "--no-intervals", "--n-starts", "1", "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(PARTICLE_OUTPUTS)
    fit = json.loads((out / "fit.json").read_text())
    alpha = next(p["value"] for p in fit["parameters"] if p["name"] == "alpha")
    # segmentation (not the true labels) and the sphere's radius from the segmented area: 10 %, the bound
    assert_allclose(alpha, 4.0, rtol=0.10)
    side = tifffile.imread(out / "side_by_side.tif")
    assert side.ndim == 3 and side.shape[0] == 8  # measured | fitted, one frame per compared frame
    comp = ss.open_results(out / "comparison.nc")
    assert "provenance" in comp.attrs and "residual" in comp


def test_bad_free_parameter_is_one_line(particle_inputs, tmp_path, capsys):
    folder, _ = particle_inputs
    rc = main(["fit", "particle", str(folder / "movie.tif"), "--cycler", str(folder / "cell.csv"),
               "--pixel-size-nm", "125", "--mass-mg", "1", "--free", "beta", "--out", str(tmp_path / "o")])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("socscope: error: --free")


def test_mass_is_required_once(particle_inputs, tmp_path, capsys):
    folder, _ = particle_inputs
    rc = main(["fit", "particle", str(folder / "movie.tif"), "--cycler", str(folder / "cell.csv"),
               "--pixel-size-nm", "125", "--out", str(tmp_path / "o")])
    assert rc == 2 and "--mass-mg" in capsys.readouterr().err
