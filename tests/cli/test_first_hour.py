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


def _cycling_csv(path, mass_mg=8.1, capacity_mAh_g=180.0):
    """Two C/10 cycles of an electrode of ``mass_mg`` holding ``capacity_mAh_g`` (voltage linear in charge)."""
    i = mass_mg * capacity_mAh_g / 10 * 1e-6  # A
    t = np.arange(0, 40 * 3600 + 1, 120.0)
    current = np.where((t % (20 * 3600)) < 10 * 3600, i, -i)
    q = np.cumsum(current) * 120.0
    v = 3.0 + 1.2 * (q - q.min()) / np.ptp(q)
    pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": current}).to_csv(path, index=False)
    return path


def test_a_mass_in_grams_is_caught_and_named(tmp_path, capsys):
    record = _cycling_csv(tmp_path / "cell.csv")
    # 8.1 mg given as 0.0081: 180 mAh/g would read as 1.8e5 mAh/g
    assert main(["cycler", "summary", str(record), "--mass-mg", "0.0081", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "was the mass given in grams? (0.0081 g is --mass-mg 8.1)" in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()
    assert main(["gitt", str(record), "--mass-mg", "0.0081", "--material", "nmc532", "--radius-um", "2",
                 "--out", str(tmp_path / "g")]) == 2
    assert "was the mass given in grams" in capsys.readouterr().err
    # the right mass passes
    assert main(["cycler", "summary", str(record), "--mass-mg", "8.1", "--out", str(tmp_path / "s"), "--quiet"]) == 0
    cycles = pd.read_csv(tmp_path / "s" / "cycles.csv")
    assert cycles.filter(like="mAh_g").abs().max().max() < 200  # 180 mAh/g by construction


def test_optical_capacity_that_the_record_overfills_is_refused(tmp_path):
    import argparse

    from socscope.cli.optical import _checked_cycler
    from socscope.errors import SocscopeError

    record = _cycling_csv(tmp_path / "cell.csv")
    args = argparse.Namespace(cycler=str(record), mass_mg=8.1, capacity_mAh_g=0.18, capacity_mAh=None)
    # 180 mAh/g given as 0.18: the record would read as an SOC of ~100 000 % (a 10 h charge sampled every
    # 2 min: 997 times, the first interval ramps the current up)
    with pytest.raises(SocscopeError, match=r"passes 99\d times the capacity of --mass-mg 8.1 with "
                                            r"--capacity-mAh-g 0.18"):
        _checked_cycler(args, {"capacity_Ah": None, "mass_g": 8.1e-3, "capacity_mAh_g": 0.18})
    args.capacity_mAh_g = 180.0
    assert len(_checked_cycler(args, {"capacity_Ah": None, "mass_g": 8.1e-3, "capacity_mAh_g": 180.0})) > 100


def test_a_particle_size_in_the_wrong_unit_is_named(tmp_path, capsys):
    out = tmp_path / "big.nc"
    main(["simulate", "particle", "--material", "nmc532", "--shape", "sphere", "--diameter-um", "2000",
          "--n-cells", "10", "--protocol", "Rest for 1 minute", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert "was the size given in nm? (2000 nm is --diameter-um 2)" in err
    assert "--diameter-um" in err and "--radius" not in err.split("warning:")[1].split("\n")[0].replace(
        "--diameter-um", "")


def test_gitt_to_material_refuses_a_table_of_flagged_pulses_and_says_when_it_uses_some():
    from socscope.analysis.gitt import gitt_to_material
    from socscope.errors import ParameterError, SocscopeWarning

    base = ss.materials.get("nmc532")
    table = pd.DataFrame({"soc": [0.1, 0.2, 0.3], "D_sphere": [1e-15, 2e-15, 3e-15],
                          "E_relaxed_V": [3.9, 3.8, 3.7], "short_pulse": [False, False, False],
                          "relaxed": [True, False, True]})
    with pytest.raises(ParameterError, match=r"all 3 usable pulses are flagged \(3 too long.*1 not relaxed"):
        gitt_to_material(table, base)
    with pytest.warns(SocscopeWarning, match="3 of the 3 pulses tabulated are flagged"):
        assert gitt_to_material(table, base, use_flagged=True).D is not None
    with pytest.warns(SocscopeWarning, match="1 of the 3 pulses tabulated are flagged"):
        gitt_to_material(table.assign(short_pulse=True, relaxed=[True, True, False]), base)


def test_demo_help_describes_the_whole_demo(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for part in ("35 minutes", "full C/3 cycle", "hold", "15-particle network electrode", "summary.md"):
        assert part in text, part


def test_the_readme_explains_every_install_extra():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    use = (root / "README.md").read_text(encoding="utf-8").split("\n## Use", 1)[1]
    missing = [name for name in extras if f"[{name}]" not in use]
    assert not missing, f"README 'Use' does not explain the extras {missing}"


def test_a_closed_pipe_ends_quietly():
    # socscope materials | head -1: the reader goes away after one line
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    # the list printed 2000 times over: more than a pipe holds, so a write meets the closed pipe
    code = ("import sys\nimport socscope.cli.main as m\none = m._cmd_materials\n"
            "def many(args):\n    for _ in range(2000):\n        one(args)\n    return 0\n"
            "m._cmd_materials = many\nsys.exit(m.main(['materials']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Broken pipe" not in err and "Traceback" not in err, err


def test_protocol_durations_are_estimated_for_the_progress_bar():
    from socscope.cli.main import _estimated_duration
    from socscope.protocols import parse_protocol

    # fixed durations are exact
    assert _estimated_duration(parse_protocol(["Charge at C/3 for 1 hour", "Rest for 30 minutes"])) == (5400.0, False)
    # a C/20 step to a voltage: 1.2 full swings at C/20 (24 h); with its duration the shorter of the two
    total, estimated = _estimated_duration(parse_protocol(["Charge at C/20 until 4.3 V", "Hold at 4.3 V for 1 hour"]))
    assert estimated and total == pytest.approx(1.2 * 20 * 3600 + 3600)
    assert _estimated_duration(parse_protocol(["Charge at C/20 for 1 hour or until 4.3 V"])) == (3600.0, False)
    # a current in amperes to a voltage: no basis for an estimate
    assert _estimated_duration(parse_protocol(["Charge at 2 nA until 4.3 V"])) == (None, False)


def test_the_progress_bar_shows_a_percentage_and_the_time_left(capsys):
    from socscope.cli.main import _progress_bar

    bar, cb = _progress_bar(3600.0, "simulate", estimated=True)
    cb(1800.0, 0, 1)
    cb(4000.0, 0, 1)  # past the estimate: the total grows, the bar never shows 100 % before the end
    assert bar.bar.n < bar.bar.total
    bar.close()
    err = capsys.readouterr().err
    # opened at the estimate (60 min), then 67 of 1.1 x 67 = 73 min once past it (tqdm redraws at most every
    # 0.1 s, so the 50 % in between may not be drawn); the time left follows the elapsed time
    assert "0/≤60 simulated min [00:00<" in err and "91%" in err and "67/≤73 simulated min" in err


def test_the_count_bar_opens_at_the_first_report_and_is_silent_when_quiet(capsys):
    """One bar counts frames, maps, sweep points and movies: nothing before the first report or when quiet."""
    from socscope.cli._common import _CountBar

    bar = _CountBar(False, "sweep", "point")
    bar.close()  # closed before any report: no empty bar
    assert bar.bar is None and capsys.readouterr().err == ""
    bar = _CountBar(False, "movies", "movie")
    bar(1, 4)
    bar(4, 4)
    assert (bar.bar.n, bar.bar.total) == (4, 4)
    bar.close()
    err = capsys.readouterr().err
    assert "movies: 100%" in err and "4/4" in err and "movie" in err.split("4/4", 1)[1]  # the unit in the rate
    quiet = _CountBar(True, "afm", "map")
    quiet(1, 2)
    quiet.close()
    assert quiet.bar is None and capsys.readouterr().err == ""


def test_library_messages_name_the_commands_flags():
    from socscope.cli.main import _in_flags

    parser = build_parser()
    args = parser.parse_args(["simulate", "electrode", "--material", "nmc532", "--protocol", "Rest for 1 minute",
                              "--out", "x.nc"])
    text = ("initial_theta = 1.5 must lie in (0, 1), e.g. initial_theta=0.97; n_shells=2 is too few; "
            "the threshold stays; output_interval is not an option here")
    said = _in_flags(text, parser, args)
    assert said == ("--initial-theta 1.5 must lie in (0, 1), e.g. --initial-theta 0.97; --n-shells 2 is too few; "
                    "the threshold stays; output_interval is not an option here")
    args = parser.parse_args(["optical", "analyze", "m.tif", "--out", "o"])
    assert _in_flags("no particle found (min_area_px=300)", parser, args) == "no particle found (--min-area-px 300)"


def test_an_error_of_the_library_is_said_in_flags(tmp_path, capsys):
    # the library's message names initial_theta; the command line says --initial-theta
    assert main([*SMALL, "--protocol", "Rest for 1 minute", "--initial-theta", "1.5", "--out",
                 str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err
    assert "--initial-theta" in err and "initial_theta" not in err.replace("--initial-theta", "")


def test_messages_that_give_both_forms_keep_only_the_flag():
    from socscope.cli.main import _in_flags

    parser = build_parser()
    args = parser.parse_args(["afm", "info", "m.tif"])
    cases = {
        "x.nc already exists; pass overwrite=True (--overwrite) to replace it":
            "x.nc already exists; pass --overwrite to replace it",
        "m.tif: a TIFF without a pixel size; give it, e.g. pixel_size_nm=7.8 (--pixel-size-nm 7.8)":
            "m.tif: a TIFF without a pixel size; give it, e.g. --pixel-size-nm 7.8",
        "s.zarr holds another sweep; pass --overwrite (overwrite=True) to replace it":
            "s.zarr holds another sweep; pass --overwrite to replace it",
        "the time metadata are damaged: pass frame_interval_s= (--frame-interval-s)":
            "the time metadata are damaged: pass --frame-interval-s",
        "pass frame_interval_s= (seconds between frames; on the command line --frame-interval-s)":
            "pass frame_interval_s= (seconds between frames; on the command line --frame-interval-s)",
    }
    for text, said in cases.items():
        assert _in_flags(text, parser, args) == said
    # where the command has the option, the keyword and its restatement collapse into the flag
    movie = parser.parse_args(["optical", "analyze", "m.tif", "--out", "o"])
    assert _in_flags(list(cases)[-1], parser, movie) == "pass --frame-interval-s (seconds between frames)"


def test_existing_outputs_and_unknown_materials_are_said_in_the_commands_terms(tmp_path, capsys):
    nc = tmp_path / "x.nc"
    nc.write_text("")
    assert main([*SMALL, "--protocol", "Rest for 1 minute", "--out", str(nc)]) == 2
    err = capsys.readouterr().err
    assert "pass --overwrite to replace it" in err and "overwrite=True" not in err
    (tmp_path / "folder").mkdir()
    (tmp_path / "r.html").write_text("")
    assert main(["report", str(tmp_path / "folder"), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "pass --overwrite to replace it" in err and "overwrite=True" not in err
    assert main(["simulate", "particle", "--material", "nosuch", "--shape", "disc", "--diameter-um", "2",
                 "--protocol", "Rest for 1 minute", "--out", str(tmp_path / "y.nc")]) == 2
    err = capsys.readouterr().err
    assert "unknown material 'nosuch'" in err and "--material my-material.toml" in err
    assert "socscope.materials.load" not in err
    assert main(["materials", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "socscope materials my-material.toml" in err and "socscope.materials.load" not in err
    # the library keeps its Python form
    from socscope import materials
    from socscope.errors import MaterialError

    with pytest.raises(MaterialError, match=r"socscope\.materials\.load\(path\)"):
        materials.get("nosuch")
