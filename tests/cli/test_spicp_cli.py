"""``socscope spicp calibrate|analyze|inactive-li`` and ``socscope simulate population``."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from socscope.cli.main import main
from socscope.observe.spicp import spicp_events, spicp_transient

REF_DOL = (1.00, 0.77, 0.59, 0.39, 0.19)


def _table(path, dol, rng, n=1500):
    """A synthetic instrument's event table, headers as an instrument names its lines."""
    size = rng.lognormal(np.log(6.0), 0.3, n)
    ev = spicp_events(np.asarray(dol, float) * np.ones(n), size, rng=rng, ratio_cv=0.06, min_diameter_um=2.0)
    ev.rename(columns={"li_intensity_counts": "Li 670.776", "mn_intensity_counts": "Mn 257.611"}).to_csv(
        path, index=False)
    return path


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    d = tmp_path_factory.mktemp("cal")
    rng = np.random.default_rng(4)
    refs = [str(_table(d / f"ref_{k}.csv", dol, rng)) for k, dol in enumerate(REF_DOL)]
    cal = d / "cal.toml"
    assert main(["spicp", "calibrate", *refs, "--dol", ",".join(map(str, REF_DOL)), "--out", str(cal),
                 "--quiet"]) == 0
    return cal


def test_calibrate_then_analyze_recovers_the_diverging_share(calibration, tmp_path, capsys):
    rng = np.random.default_rng(9)
    files = []
    for k in range(3):
        n = 1500
        dol = np.full(n, 0.19)
        dol[:120] = rng.uniform(0.7, 1.0, 120)  # 8 % trapped, far above the frame
        files.append(str(_table(tmp_path / f"sample_rep{k + 1}.csv", dol, rng, n)))
    out = tmp_path / "spicp"
    assert main(["spicp", "analyze", *files, "--calibration", str(calibration), "--expected-dol", "0.19",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "pooled" in text and "diverging" in text
    table = pd.read_csv(out / "fractions.csv", index_col=0)
    # 3 x 1500 particles with 8 % trapped: the binomial se of the pooled share is 0.4 %; 1.5 % allowed
    # (the plasma spread here is a lognormal, not the Gaussian the tail correction assumes)
    assert_allclose(table.loc["pooled", "diverging_fraction"], 0.08, atol=0.015)
    assert table.loc["pooled", "li_rich_fraction"] > 0.06
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_replicates"] == 3
    assert json.loads((out / "provenance.json").read_text())["inputs"][0]["sha256"]
    for name in ("histogram.png", "fractions.png", "calibration.png", "particles.csv"):
        assert (out / name).stat().st_size > 0
    # a second run does not replace the folder's files without --overwrite
    assert main(["spicp", "analyze", *files, "--calibration", str(calibration), "--expected-dol", "0.19",
                 "--out", str(out), "--no-figures"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_transient_input_detects_particles(calibration, tmp_path, capsys):
    rng = np.random.default_rng(2)
    ev = spicp_events(np.full(300, 0.59), rng.lognormal(np.log(6.0), 0.3, 300), rng=rng, ratio_cv=0.06)
    tr = spicp_transient(ev["li_intensity_counts"], ev["mn_intensity_counts"], n_readings=60_000, rng=rng)
    tr.rename(columns={"li_counts": "Li", "mn_counts": "Mn"}).to_csv(tmp_path / "tr.csv", index=False)
    out = tmp_path / "o"
    assert main(["spicp", "analyze", str(tmp_path / "tr.csv"), "--transient", "--calibration", str(calibration),
                 "--expected-dol", "0.59", "--median-diameter-um", "6", "--out", str(out), "--no-figures",
                 "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text())
    parts = pd.read_csv(out / "particles.csv")
    # 300 particles in 60 000 readings: a few arrive within a burst of each other and stay merged
    assert 280 <= len(parts) <= 300
    assert_allclose(np.median(parts["dol"]), 0.59, atol=0.03)  # the plasma spread is 6 %
    assert 0 < s["size_detection_limit_um"]["tr"] < 6


def test_inactive_li_prints_table_1_style_value(capsys):
    assert main(["spicp", "inactive-li", "--total-li-mAh-g", "150.0,152.0", "--recovered-mAh-g", "141.2",
                 "--recovered-se-mAh-g", "1.0", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    # closed forms of the given numbers, through JSON (17 significant digits): round-off only
    assert_allclose(r["inactive_mAh_g"], 151.0 - 141.2, rtol=1e-12)
    assert_allclose(r["inactive_se_mAh_g"], np.hypot(np.std([150, 152], ddof=1), 1.0), rtol=1e-12)


def test_bad_inputs_exit_2_with_one_line(calibration, tmp_path, capsys):
    rng = np.random.default_rng(1)
    a = str(_table(tmp_path / "a.csv", 1.0, rng, 200))
    b = str(_table(tmp_path / "b.csv", 0.4, rng, 200))
    c = str(_table(tmp_path / "c.csv", 0.2, rng, 200))
    cases = [
        (["spicp", "calibrate", a, "--dol", "1.0", "--out", str(tmp_path / "c1.toml")], "at least two references"),
        # c holds particles at DOL 0.2 but is said to be at 0.6, between b (0.4 said 0.2) and a (1.0)
        (["spicp", "calibrate", a, b, c, "--dol", "1.0,0.2,0.6", "--out", str(tmp_path / "c2.toml")],
         "not monotonic in DOL: b.csv"),
        (["spicp", "calibrate", a, b, "--dol", "1.0", "--out", str(tmp_path / "c3.toml")], "one DOL per file"),
        (["spicp", "calibrate", a, b, "--dol", "1.0,0.4", "--out", str(tmp_path / "c4.toml"),
          "--li-column", "Lithium"], "column 'Lithium'"),
        (["spicp", "calibrate", a, b, "--dol", "1.0,0.4", "--out", a], "is an input"),
        (["spicp", "analyze", a, "--calibration", str(tmp_path / "none.toml"), "--expected-dol", "0.2",
          "--out", str(tmp_path / "x")], "no such file"),
        (["spicp", "inactive-li", "--total-li-mAh-g", "abc", "--recovered-mAh-g", "1"], "must be numbers"),
        (["simulate", "population", "--isolated", "1.5", "--out", str(tmp_path / "p.nc")], "--isolated"),
    ]
    for argv, want in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("socscope: error:") and want in err and "\n" not in err, (argv, err)


def test_simulate_population_writes_results_and_events(calibration, tmp_path, capsys):
    out, ev = tmp_path / "pop.nc", tmp_path / "ev.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(["simulate", "population", "--particles", "60", "--group-size", "30", "--isolated", "0.1",
                   "--n-shells", "4",
                   "--protocol", "Repeat 10: [Charge at 1C until 4.2 V, Discharge at 1C until 3.0 V]",
                   "--out", str(out), "--spicp", str(ev), "--ratio-cv-from", str(calibration), "--quiet"])
    assert rc == 0
    from socscope.io import open_results
    from socscope.io.spicp import read_events

    ds = open_results(out)
    assert ds.sizes["particle"] == 60 and "provenance" in ds.attrs
    table = read_events(ev)  # the synthetic instrument writes what the analysis reads
    assert len(table) <= 60 and set(table.columns) >= {"true_dol", "true_diameter_um"}
    assert ds.isolated.values.sum() >= 6


def test_help_of_every_new_command(capsys):
    for argv in (["spicp"], ["spicp", "calibrate"], ["spicp", "analyze"], ["spicp", "inactive-li"],
                 ["simulate", "population"]):
        with pytest.raises(SystemExit) as exc:
            main([*argv, "--help"])
        assert exc.value.code == 0
        assert "usage: socscope" in capsys.readouterr().out
    assert main(["spicp"]) == 2  # no subcommand: the help, on stderr, and a failure
