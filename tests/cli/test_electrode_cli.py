"""``socscope simulate electrode``: results, movie, layouts from images, and errors that write nothing."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import socscope as ss
from socscope.cli import electrode as cli_electrode
from socscope.cli.main import main

tifffile = pytest.importorskip("tifffile")

SMALL = ["simulate", "electrode", "--material", "nmc532", "--particles", "6", "--layout", "random-2d",
         "--n-shells", "10"]
SHORT = ["--protocol", "Charge at C/20 for 2 hours", "Rest for 30 minutes"]

#: every variable the command documents, with its dimensions
DOCUMENTED = {
    "theta_particle_mean": ("time", "particle"), "theta_particle_surface": ("time", "particle"),
    "theta_particle_centre": ("time", "particle"), "particle_potential": ("time", "particle"),
    "particle_current": ("time", "particle"), "theta": ("time", "particle", "shell"), "voltage": ("time",),
    "current": ("time",), "charge": ("time",), "specific_capacity": ("time",), "lithium": ("time",),
    "electrical_distance": ("particle",), "top": ("particle",), "isolated": ("particle",),
    "coverage": ("particle",), "onset_soc": ("half_cycle", "particle"), "asynchrony_index": ("half_cycle",),
    "classification": ("half_cycle",), "fraction_unreacted": ("half_cycle",), "voltage_dips": ("half_cycle",),
    "capacity_not_recovered": (),
}


def test_help():
    res = subprocess.run([sys.executable, "-m", "socscope.cli.main", "simulate", "electrode", "--help"],
                         capture_output=True, check=False, text=True)
    assert res.returncode == 0
    assert "--from-image" in res.stdout and "Repeat 3" in res.stdout


def test_small_random_electrode_end_to_end(tmp_path, capsys, monkeypatch):
    # render the movie in pieces of a few frames, so that the piecewise writer is exercised
    monkeypatch.setattr(cli_electrode, "_MOVIE_CHUNK_VALUES", 4 * 80 * 160)
    out, movie = tmp_path / "cell.nc", tmp_path / "top.tif"
    assert main([*SMALL, *SHORT, "--out", str(out), "--movie", str(movie)]) == 0
    ds = ss.open_results(out)
    for name, dims in DOCUMENTED.items():
        assert ds[name].dims == dims, name
        assert "units" in ds[name].attrs, name
    assert ds.sizes["particle"] == 6 and ds.sizes["shell"] == 10
    assert {"x", "z", "radius"} <= set(ds.coords)
    # galvanostatic C/20 for 2 h passes exactly a tenth of the C-rate basis (charge counted from the current)
    assert_allclose(float(ds.specific_capacity[-1]), ds.attrs["c_rate_basis_mAh_g"] / 10, rtol=1e-12)
    # and the particles' Li inventory moved by that charge (conservation to round-off)
    li = ds.lithium.values
    assert_allclose(li[0] - li[-1], float(ds.charge[-1]) / ss.constants.F, rtol=0, atol=1e-9 * li[0])
    assert list(ds.step_end_reason.values) == ["duration", "duration"]
    report = capsys.readouterr().out
    assert "half-cycle" in report and "charge" in report and "16.00 mAh/g" in report
    assert str(ds.classification.values[0]) in report
    # the movie: frame times and pixel size in the file, frames as rendered in one piece (float32)
    from socscope.io.movies import open_movie
    from socscope.observe.electrode_movie import render_top_layer

    with open_movie(movie) as m:
        assert m.metadata["time_source"] == "ome-deltat"
        assert_array_equal(m.time_s, ds.time.values)
        assert_allclose(m.metadata["pixel_size_nm"], 100.0, rtol=1e-9)
        frames = m.read(0, m.n_frames)
    whole = render_top_layer(ds, rng=np.random.default_rng(0))
    assert frames.shape == whole.frames.shape
    assert_array_equal(frames, whole.frames.astype(np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cell.nc", "top.cycler.csv", "top.tif"]


def test_repeat_protocol_is_one_argument(tmp_path):
    out = tmp_path / "cycles.nc"
    assert main([*SMALL, "--protocol", "Repeat 2: [Charge at C/20 for 1 hour, Discharge at C/20 for 1 hour]",
                 "--no-radial-profiles", "--out", str(out), "--quiet"]) == 0
    ds = ss.open_results(out)
    assert list(ds.step_kind.values) == ["charge", "discharge"] * 2
    assert list(ds.half_cycle_direction.values) == ["charge", "discharge"] * 2
    assert "theta" not in ds
    # back where it started after two full cycles of equal charge and discharge
    assert_allclose(float(ds.charge[-1]), 0.0, atol=1e-12 * float(np.abs(ds.charge).max()))


def _discs(shape, centres, radii):
    from socscope.observe.optical import disc_labels

    return disc_labels(shape, centres, radii)


CENTRES = [(40, 16), (40, 40), (20, 64), (40, 88)]
RADII = [10, 11, 9, 10]


def _run_from_image(image, out):
    """One C/20 hour on the particles of ``image`` (200 nm pixels); returns the results path."""
    assert main(["simulate", "electrode", "--material", "nmc532", "--from-image", str(image), "--pixel-size-nm",
                 "200", "--coverage", "1", "--n-shells", "8", "--protocol", "Charge at C/20 for 1 hour",
                 "--out", str(out)]) == 0
    return out


def test_negative_capacity_loss_is_explained(tmp_path, capsys):
    # from θ = 0.97 a discharge to 2.5 V puts back more Li than a short charge took out:
    # the loss is negative, and the report says why instead of leaving a bare "-23 %"
    out = tmp_path / "neg.nc"
    assert main([*SMALL, "--protocol", "Charge at C/5 for 1 hour", "Discharge at C/5 until 2.5 V",
                 "--no-radial-profiles", "--out", str(out)]) == 0
    report = capsys.readouterr().out
    ds = ss.open_results(out)
    assert float(ds.capacity_not_recovered) < 0
    assert "negative: the discharge put back more Li" in report and "θ = 0.97" in report


def test_from_label_image(tmp_path, capsys):
    labels = _discs((52, 104), CENTRES, RADII)
    image = tmp_path / "labels.tif"
    tifffile.imwrite(image, labels)
    out = _run_from_image(image, tmp_path / "img.nc")
    assert "label image" in capsys.readouterr().out
    ds = ss.open_results(out)
    assert ds.sizes["particle"] == 4
    # area-equivalent radius of each label, 200 nm pixels
    area = np.bincount(labels.ravel())[1:]
    assert_allclose(ds.radius.values, np.sqrt(area / np.pi) * 200e-9, rtol=1e-12)
    # x from the label centroids (column of the pixel centre times the pixel size); the same
    # arithmetic in another order, so only round-off may differ
    cols = [np.nonzero(labels == k)[1].mean() for k in range(1, 5)]
    assert_allclose(np.sort(ds.x.values), np.sort((np.array(cols) + 0.5) * 200e-9), rtol=1e-12)


def test_from_grey_micrograph_is_segmented(tmp_path, capsys):
    labels = _discs((52, 104), CENTRES, RADII)
    grey = np.where(labels > 0, 200, 30).astype(np.uint8)
    grey = grey + np.random.default_rng(3).integers(0, 8, grey.shape).astype(np.uint8)  # sensor noise
    image = tmp_path / "electrode.tif"
    tifffile.imwrite(image, grey)
    out = _run_from_image(image, tmp_path / "img.nc")
    assert "segmented" in capsys.readouterr().out
    ds = ss.open_results(out)
    assert ds.sizes["particle"] == 4
    # segmentation (Otsu on a 1-px smoothed image) recovers each disc's area to within its rim pixels
    assert_allclose(np.sort(ds.radius.values), np.sort(np.array(RADII) * 200e-9), rtol=0.08)


@pytest.fixture
def no_sigma_material(tmp_path_factory):
    folder = tmp_path_factory.mktemp("material")
    mat = dataclasses.replace(ss.materials.get("nmc532"), name="nmc532-no-sigma", sigma=None)
    path = folder / "nosigma.toml"
    ss.materials.save(mat, path)
    return path


def test_point_contacts_switch_particles_on_in_turn(tmp_path, capsys):
    # [002]-like stack (R = 2.5 µm) with 4 nm NMC contacts: the columns behind the carbon-wired one switch
    # on one after another, each pulling the cell voltage down (3 dips, midpoints 0.07-0.37 measured)
    # the contact size was set on the pristine 1.9e-6 S/cm of Amin & Chiang's figure: that σ(θ) is pinned
    # (a material file, as the command line takes it)
    mat = ss.materials.save(ss.materials.get("nmc532-sharma2022", sigma="amin-chiang-figure"),
                            tmp_path / "nmc532-fig.toml")
    out = tmp_path / "stack.nc"
    assert main(["simulate", "electrode", "--material", str(mat), "--layout", "layered", "--layers", "3",
                 "--contact-fraction", "0.0015", "--initial-theta", "0.99", "--n-shells", "8",
                 "--protocol", "Charge at C/20 until 4.3 V", "--out", str(out)]) == 0
    ds = ss.open_results(out)
    assert int(ds.voltage_dips.values[0]) >= 2
    top = ds.top.values
    assert np.all(np.diff(ds.midpoint_soc.values[0][top]) > 0.03)  # left to right, well apart
    report = capsys.readouterr().out
    assert "voltage dips" in report
    # the top layer's own index is reported beside the whole electrode's
    assert "top layer" in report
    row = next(line for line in report.splitlines() if line.strip().startswith("0 ") and "charge" in line)
    assert f"{ss.observe.asynchrony_of(ds, top).asynchrony_index[0]:.3f}" in row.split()


def test_default_contact_fraction_is_the_layouts():
    import inspect

    for fn in (ss.geometry.random_layout, ss.geometry.layered_layout):
        assert inspect.signature(fn).parameters["contact_fraction"].default == cli_electrode.CONTACT_FRACTION


@pytest.mark.parametrize("case", ["unknown material", "material without sigma", "image without particles",
                                  "impossible protocol", "unreadable protocol", "output exists", "movie not tif",
                                  "contact fraction", "contact fraction with image", "layers without layered",
                                  "zero layers", "negative seed", "output is the input image",
                                  "movie is the output by another path", "too many particles"])
def test_errors_exit_non_zero_and_write_nothing(tmp_path, capsys, case, no_sigma_material):
    work = tmp_path / "work"
    work.mkdir()
    out = work / "cell.nc"
    args = [*SMALL, *SHORT, "--out", str(out), "--quiet"]
    if case == "unknown material":
        args[3] = "nmc999"
    elif case == "material without sigma":
        args[3] = str(no_sigma_material)
    elif case == "image without particles":
        blank = tmp_path / "blank.tif"
        tifffile.imwrite(blank, np.zeros((40, 40), np.uint8))
        args = ["simulate", "electrode", "--material", "nmc532", "--from-image", str(blank), "--pixel-size-nm", "50",
                *SHORT, "--out", str(out)]
    elif case == "impossible protocol":
        args = [*SMALL, "--protocol", "Charge at C/20 until 2.0 V", "--out", str(out)]
    elif case == "unreadable protocol":
        args = [*SMALL, "--protocol", "Charge until tomorrow", "--out", str(out)]
    elif case == "output exists":
        out.write_bytes(b"earlier results")
    elif case == "movie not tif":
        args += ["--movie", str(work / "top.png")]
    elif case == "contact fraction":
        args += ["--contact-fraction", "0"]
    elif case in ("contact fraction with image", "output is the input image"):
        # the label image lies beside the output when it is the output, so that it is checked as kept
        labels = (work if case == "output is the input image" else tmp_path) / "labels.tif"
        tifffile.imwrite(labels, _discs((52, 104), CENTRES, RADII))
        args = ["simulate", "electrode", "--material", "nmc532", "--from-image", str(labels), "--pixel-size-nm", "200",
                *SHORT]
        args += (["--contact-fraction", "0.01", "--out", str(out)] if case == "contact fraction with image"
                 else ["--out", str(labels), "--overwrite"])
    elif case == "layers without layered":
        args += ["--layers", "2"]
    elif case == "zero layers":
        args[args.index("random-2d")] = "layered"
        args += ["--layers", "0"]
    elif case == "negative seed":
        args += ["--seed", "-1"]
    elif case == "too many particles":
        args[args.index("6")] = "100000000"
    elif case == "movie is the output by another path":
        (work / "sub").mkdir()
        out = work / "cell.tif"
        args = [*SMALL, *SHORT, "--out", str(out), "--movie", str(work / "sub" / ".." / "cell.tif")]
    before = sorted(work.iterdir())
    kept = {p: p.read_bytes() for p in before if p.is_file()}
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("socscope: error: ") and "\n" not in err, err
    assert sorted(work.iterdir()) == before
    assert {p: p.read_bytes() for p in before if p.is_file()} == kept
    if case == "output exists":
        assert out.read_bytes() == b"earlier results"
    expected = {"unknown material": "nmc999", "material without sigma": "sigma", "image without particles":
                "no particles", "impossible protocol": "2 V", "unreadable protocol": "Charge until tomorrow",
                "output exists": "--overwrite", "movie not tif": ".tif", "contact fraction": "(0, 1]",
                "contact fraction with image": "measured from the image",
                "layers without layered": "the layout is random-2d", "zero layers": "--layers 0 must be",
                "negative seed": "--seed -1 must be", "output is the input image": "is the --from-image input",
                "movie is the output by another path": "are the same file",
                "too many particles": "--particles 100000000 must be a whole number in 1..100000"}[case]
    assert expected in err


def test_a_movie_that_cannot_be_rendered_keeps_the_results(tmp_path, capsys):
    out, movie = tmp_path / "cell.nc", tmp_path / "top.tif"
    assert main([*SMALL, *SHORT, "--out", str(out), "--movie", str(movie), "--movie-pixel-size-nm", "1e6",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--movie" in err and f"results were written to {out}" in err
    assert ss.open_results(out).sizes["particle"] == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cell.nc"]
