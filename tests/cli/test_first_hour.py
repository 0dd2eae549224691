"""A new user's first hour on the command line: segmentation options and figure, a movie's cycler record,
help examples that parse."""

import shlex

import numpy as np
import pandas as pd
import pytest

import socscope as ss
from socscope.cli.main import build_parser, main

tifffile = pytest.importorskip("tifffile")
pytest.importorskip("skimage")

SMALL = ["simulate", "electrode", "--material", "nmc532", "--particles", "6", "--layout", "random-2d",
         "--n-shells", "8"]


def _grey_discs(path):
    """Four bright discs (radius 9-11 px) on a dark background with sensor noise, as a uint8 TIFF."""
    from socscope.observe.optical import disc_labels

    labels = disc_labels((52, 104), [(40, 16), (40, 40), (20, 64), (40, 88)], [10, 11, 9, 10])
    grey = np.where(labels > 0, 200, 30) + np.random.default_rng(3).integers(0, 8, labels.shape)
    tifffile.imwrite(path, grey.astype(np.uint8))
    return path


def test_from_image_takes_segmentation_options_and_writes_a_labelled_figure(tmp_path, capsys):
    image = _grey_discs(tmp_path / "electrode.tif")
    out = tmp_path / "slice.nc"
    args = ["simulate", "electrode", "--material", "nmc532", "--from-image", str(image), "--pixel-size-nm", "200",
            "--n-shells", "6", "--protocol", "Charge at C/20 for 30 minutes", "--out", str(out)]
    assert main([*args, "--smooth-px", "1.5", "--min-area-px", "40"]) == 0
    figure = tmp_path / "slice.segmentation.png"
    assert figure.is_file() and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = capsys.readouterr().out
    assert "4 particles" in report and str(figure) in report
    assert ss.open_results(out).sizes["particle"] == 4
    # a figure that exists is not replaced without --overwrite (refused before the run)
    out.unlink()
    assert main([*args, "--quiet"]) == 2
    assert "slice.segmentation.png already exists" in capsys.readouterr().err and not out.exists()
    # a chosen name; min-area above every disc finds nothing and says which flags to change
    assert main([*args, "--segmentation-figure", str(tmp_path / "seg.png"), "--quiet"]) == 0
    assert (tmp_path / "seg.png").is_file()
    out.unlink()
    assert main([*args, "--min-area-px", "5000", "--segmentation-figure", str(tmp_path / "s2.png")]) == 2
    assert "--min-area-px" in capsys.readouterr().err


def test_segmentation_flags_without_a_micrograph_are_refused(tmp_path, capsys):
    out = tmp_path / "x.nc"
    assert main([*SMALL, "--protocol", "Rest for 1 minute", "--smooth-px", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--smooth-px" in err and "--from-image" in err and not out.exists()


def test_movie_comes_with_a_cycler_record_that_optical_analyze_joins(tmp_path, capsys):
    out, movie = tmp_path / "cell.nc", tmp_path / "top.tif"
    assert main([*SMALL, "--protocol", "Charge at C/20 for 2 hours", "--output-interval-s", "600",
                 "--out", str(out), "--movie", str(movie)]) == 0
    record = tmp_path / "top.cycler.csv"
    report = capsys.readouterr().out
    assert record.is_file() and "socscope optical analyze" in report
    ds = ss.open_results(out)
    # the record is the cell's: one row per frame, the cell voltage, the charge passed
    df = ss.io.load_cycler(record)
    assert len(df) == ds.sizes["time"]
    np.testing.assert_allclose(df.voltage_V, ds.voltage.values, rtol=1e-9)  # written with 10 digits
    # the command the report suggests runs and puts an SOC on every frame
    suggested = next(line.strip() for line in report.splitlines() if line.strip().startswith("socscope optical"))
    argv = shlex.split(suggested)[1:]
    argv[argv.index("--out") + 1] = str(tmp_path / "optical")
    assert main(argv + ["--quiet"]) == 0
    traces = pd.read_csv(tmp_path / "optical" / "traces.csv")
    assert np.isfinite(traces.soc).all()
    # the SOC the join puts on the last frame is the charge passed over the site capacity the report
    # named (within 1 %: the capacity printed with 6 digits, the record with 10, and the interpolation)
    site_mAh = ss.observe.site_capacity_Ah(ds) * 1e3
    assert traces.soc.max() == pytest.approx(float(ds.charge[-1]) / 3.6 / site_mAh, rel=0.01)


def _subparser(parser, words):
    import argparse

    for word in words:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[word]
    return parser


@pytest.mark.parametrize("command", ["simulate electrode", "simulate particle", "cycler summary", "gitt",
                                     "validate", "optical analyze"])
def test_every_help_example_parses(command):
    # each example of a --help (its epilog: "example: socscope ...") must be accepted by the parser as written
    parser = build_parser()
    epilog = _subparser(parser, command.split()).epilog
    examples = [chunk.strip() for chunk in epilog.split("socscope ")[1:]]
    assert examples, epilog
    for example in examples:
        parser.parse_args(shlex.split(example))  # exits (SystemExit) on a missing or unknown option


@pytest.mark.parametrize(("command", "victim"), [("particle", "toml"), ("particle", "csv"), ("particle", "mask"),
                                                 ("electrode", "toml"), ("electrode", "csv")])
def test_out_never_replaces_the_material_file_its_table_or_the_mask(tmp_path, capsys, command, victim):
    # (simulate electrode has no --mask; its --from-image is checked in test_electrode_cli)
    mat = ss.materials.get("nmc532")
    toml = tmp_path / "mine.toml"
    ss.materials.save(mat, toml)
    import tomllib

    table = tmp_path / tomllib.loads(toml.read_text())["functions_csv"]  # the table the TOML points to
    mask = tmp_path / "mask.npy"
    np.save(mask, np.pad(np.ones((20, 20), bool), 5))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    target = {"toml": toml, "csv": table, "mask": mask}[victim]
    args = (["simulate", "particle", "--material", str(toml), "--shape", "mask", "--mask", str(mask),
             "--pixel-size-nm", "50", "--protocol", "Rest for 1 minute"] if command == "particle"
            else [*SMALL[:2], "--material", str(toml), *SMALL[4:], "--protocol", "Rest for 1 minute"])
    assert main([*args, "--out", str(target), "--overwrite", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is an input and would be replaced" in err and err.count("\n") == 1, err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("name", ["h.csv", "h.tif", "h"])
def test_results_files_are_named_for_what_they_hold(tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["simulate", "particle", "--material", "nmc532", "--shape", "sphere", "--radius-um", "1",
                 "--protocol", "Rest for 1 minute", "--out", str(out), "--quiet"]) == 2
    assert "netCDF-4" in capsys.readouterr().err and not out.exists()
    assert main([*SMALL, "--protocol", "Rest for 1 minute", "--out", str(out), "--quiet"]) == 2
    assert "name it h.nc" in capsys.readouterr().err and not out.exists()
    import xarray as xr

    from socscope.errors import ParameterError

    with pytest.raises(ParameterError, match="misstate"):
        ss.save_results(xr.Dataset({"a": ("t", [1.0])}), out)
    assert list(tmp_path.iterdir()) == []
