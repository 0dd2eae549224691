"""The report kinds of SP-ICP-OES, populations, AFM, NEXAFS, sweeps and batches: what each page shows,
and that the result it reports on records the exact command that made it."""

from __future__ import annotations

import html
import json
import re
import shlex

import numpy as np
import pandas as pd
import pytest
import report_results as R
from numpy.testing import assert_allclose

from socscope.cli.main import main


def _provenance_rows(html: str) -> str:
    return html.split('id="provenance"')[1].split("</table>")[0]


def _table(html: str, caption: str) -> pd.DataFrame:
    """The HTML table after ``caption`` in a report, as a DataFrame of text."""
    block = html.split(caption, 1)[1].split("</table>")[0]
    head = re.findall(r"<th>(.*?)</th>", block)
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.DOTALL) for r in re.findall(r"<tr>(.*?)</tr>", block, re.DOTALL)]
    return pd.DataFrame([r for r in rows if r], columns=head)


@pytest.mark.parametrize("kind", ["spicp", "spicp-calibration", "population", "afm", "nexafs", "sweep", "batch"])
def test_the_report_shows_the_command_and_the_inputs_that_made_the_result(results, reports, kind):
    from socscope._provenance import read_provenance

    path = results[kind]
    if kind == "spicp-calibration":
        from socscope.io.spicp import read_calibration

        prov = json.loads(read_calibration(path)["provenance"])
    elif kind in ("population", "sweep"):
        import xarray as xr

        from socscope.io.results import open_results

        ds = open_results(path) if kind == "population" else xr.open_zarr(path)
        prov = read_provenance(ds)
    else:
        prov = read_provenance(path)
    # the command as it was given to main(), not the test runner's command line
    assert prov["command"].startswith("socscope ") and str(path.name) in prov["command"]
    shown = html.unescape(_provenance_rows(reports[kind].read_text(encoding="utf-8")))
    assert f"<td>command</td><td class=\"mono\">{prov['command']}</td>" in shown
    for entry in prov["inputs"]:
        assert entry["sha256"] is None or entry["sha256"] in reports[kind].read_text(encoding="utf-8")


def test_population_result_gives_back_the_exact_command(results):
    from socscope.io.results import open_results

    argv = R.population_args(results["population"])
    prov = open_results(results["population"]).socscope.provenance
    assert prov["command"] == shlex.join(["socscope", *argv]) and prov["seed"] == 2


def test_spicp_report_shows_the_pooled_fractions(results, reports):
    page = reports["spicp"].read_text(encoding="utf-8")
    table = pd.read_csv(results["spicp"] / "fractions.csv", index_col=0)
    pooled = table.loc["pooled"]
    # the summary gives the pooled diverging share as the table has it, in percent to 2 decimals
    assert f"{100 * pooled.diverging_fraction:.2f} ± {100 * pooled.se:.2f} %" in page
    # a tenth of the sample (30 of 300) stayed lithiated: the share the page reports is near 10 %
    assert_allclose(pooled.diverging_fraction, 0.10, atol=0.03)  # 300 particles: binomial se 1.7 %
    assert page.count('src="data:image/png') == 3


def test_spicp_folder_without_figures_gets_them_drawn_from_its_tables(results, tmp_path):
    from socscope.report import build_report

    folder = results["spicp"].parent
    out = tmp_path / "tables-only"
    assert main(["spicp", "analyze", str(folder / "sample.csv"), "--calibration", str(results["spicp-calibration"]),
                 "--expected-dol", "0.2", "--no-figures", "--out", str(out), "--quiet"]) == 0
    assert not list(out.glob("*.png"))
    content = build_report(out)
    assert [f.png[:8] for f in content.figures] == [b"\x89PNG\r\n\x1a\n"] * 2


def test_calibration_report_shows_the_line_and_references(results, reports):
    from socscope.analysis.spicp import load_calibration

    cal = load_calibration(results["spicp-calibration"])
    page = reports["spicp-calibration"].read_text(encoding="utf-8")
    refs = _table(page, "references")
    assert_allclose(refs["dol"].astype(float), [1.0, 0.6, 0.2], rtol=0)  # the DOLs given to --dol, in order
    assert f"{cal.slope:.5g}" in page and f"{cal.intercept:.5g}" in page
    # three references at DOL 1.0, 0.6, 0.2: the line's ratio falls with DOL lost, so the slope is positive
    assert cal.slope > 0


def test_population_report_counts_isolated_particles(results, reports):
    from socscope.io.results import open_results

    ds = open_results(results["population"])
    rows = _table(reports["population"].read_text(encoding="utf-8"), "DOL after the final charge").set_index(
        "particles")
    iso = ds.isolated.values.astype(bool)
    assert int(rows.loc["isolated", "n"]) == iso.sum() and int(rows.loc["connected", "n"]) == (~iso).sum()
    # the table rounds to 5 decimals
    assert_allclose(float(rows.loc["connected", "dol_mean"]), ds.dol.values[~iso].mean(), atol=1e-5)


def test_afm_and_nexafs_reports_hold_their_tables(results, reports):
    afm = reports["afm"].read_text(encoding="utf-8")
    summary = pd.read_csv(results["afm"] / "soc_summary.csv")
    shown = _table(afm, "soc_summary.csv")
    assert_allclose(shown["mean"].astype(float), summary["mean"], rtol=1e-5)  # the page prints 6 significant digits
    assert afm.count('src="data:image/png') == 4
    nexafs = reports["nexafs"].read_text(encoding="utf-8")
    ratios = _table(nexafs, "ratios.csv")
    assert sorted(ratios["mode"]) == ["FY", "FY", "TEY", "TEY"]


def test_sweep_report_lists_every_point_with_its_status_and_error(results, reports):
    from socscope.report.more import sweep_points

    table, axes, outputs, _ = sweep_points(results["sweep"])
    assert axes == ["c_rate", "alpha"] and len(table) == 6
    failed = table[table.status == "failed"]
    # at C/2 the charge to mean θ 0.85 takes 19 one-minute records, more than the 12 kept
    assert failed.c_rate.tolist() == [0.5, 0.5]
    assert all("more than [sweep] samples = 12" in e for e in failed.error)
    done = table[table.status == "done"]
    # every finished point stopped on its event, mean θ = 0.85; the event is located to 1e-4 in θ
    assert_allclose(done.final_theta_mean, 0.85, atol=1e-4)
    assert "final_voltage" not in outputs  # no kinetics: no voltage recorded, so no empty panel
    page = reports["sweep"].read_text(encoding="utf-8")
    shown = _table(page, "points (final values")
    assert shown.status.tolist() == table.status.tolist()
    assert "more than [sweep] samples = 12" in shown.error[0]
    assert "<dt>done</dt><dd>4</dd>" in page and "<dt>failed</dt><dd>2</dd>" in page


def test_sweep_report_reads_each_point_record_once_for_its_error_and_wall_time(results, request):
    from socscope.report.more import sweep_points

    folder = results["sweep"] / "points"
    wall = {int(f.stem): json.loads(f.read_text(encoding="utf-8"))["wall_s"] for f in folder.glob("*.json")}
    reads = request.getfixturevalue("point_record_reads")  # counting from here on
    table, *_ = sweep_points(results["sweep"])
    assert reads == {f"{i:06d}.json": 1 for i in range(6)}
    assert table.wall_s.tolist() == [wall[i] for i in range(6)]  # each point's own record, exactly


def test_batch_report_names_the_failed_movie(results, reports):
    page = reports["batch"].read_text(encoding="utf-8")
    shown = _table(page, "movies (one row each")
    assert shown.status.tolist() == ["done", "done", "failed"]
    assert "broken.tif" in shown.error[2] and "not readable as a TIFF" in shown.error[2]
    # the batch figure, and each analysed movie's traces
    assert page.count('src="data:image/png') == 3


def test_a_sweep_with_no_finished_point_still_reports(results, tmp_path):
    """A store whose points all failed: the table says why, the page says there is no figure."""
    from socscope.report import build_report

    f = tmp_path / "sweep.toml"
    f.write_text(R.SWEEP.replace("c_rate = [0.5, 1, 2]", "c_rate = [0.5]"), encoding="utf-8")
    out = tmp_path / "all-failed.zarr"
    assert main(["sweep", str(f), "--out", str(out), "--scheduler", "serial", "--quiet"]) == 1
    content = build_report(out)
    assert content.figures == [] and "no point has finished" in content.notes[0]
    frame = content.tables[0].frame
    assert frame.status.tolist() == ["failed", "failed"] and (frame.error != "").all()
    assert not any(np.isfinite(frame[c].astype(float)).any() for c in frame if c.startswith("final_"))


def test_the_calibration_file_is_parsed_once_per_report(results, monkeypatch):
    import tomllib

    from socscope.report import build_report

    parsed = []
    loads = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text, **kw: parsed.append(text) or loads(text, **kw))
    content = build_report(results["spicp-calibration"])
    assert content.kind == "SP-ICP-OES calibration" and content.provenance  # the provenance is still shown
    assert len([t for t in parsed if t.startswith("# socscope SP-ICP-OES calibration")]) == 1


def test_a_calibration_whose_fields_do_not_fit_exits_2_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "cal.toml"
    bad.write_text("# socscope SP-ICP-OES calibration: ratio = intercept + slope * DOL\n"
                   "intercept = 0.1\nslope = 1.0\ncovariance = [[1.0, 0.0, 0.0]]\nchi2 = 1.0\ndof = 1\n"
                   "[references]\ndol = [0.2, 1.0]\nmean_ratio = [0.3, 1.1]\nmean_ratio_se = [0.01, 0.01]\n"
                   "sigma_ratio = [0.1, 0.1]\nn_particles = [10, 10]\n")
    assert main(["report", str(bad), "--out", str(tmp_path / "r.html"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("socscope: error:") and "\n" not in err
    assert "cal.toml: not a socscope SP-ICP-OES calibration (ValueError: covariance has shape (1, 3)" in err
    assert not (tmp_path / "r.html").exists()


def test_damaged_results_of_the_new_kinds_exit_2_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "cal.toml"
    bad.write_text("# socscope SP-ICP-OES calibration: ratio = intercept + slope * DOL\nintercept = [[[\n")
    store = tmp_path / "s.zarr"
    store.mkdir()
    (store / ".zattrs").write_text('{"socscope_sweep": "{}"}')  # marked as a sweep, but no arrays
    for path, want in ((bad, "cal.toml: not readable as a socscope SP-ICP-OES calibration"),
                       (store, "s.zarr: not a socscope sweep store")):
        assert main(["report", str(path), "--out", str(tmp_path / "r.html"), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("socscope: error:") and want in err and "\n" not in err
    assert not (tmp_path / "r.html").exists()


def test_report_help_lists_every_registered_kind(capsys):
    from socscope.report import kinds

    with pytest.raises(SystemExit):
        main(["report", "--help"])
    said = " ".join(capsys.readouterr().out.split())  # the description is wrapped: join its lines
    titles = [k.title for k in kinds()]
    assert len(titles) >= 14  # the package's own kinds, from simulations to sweeps
    for title in titles:
        assert title in said, title
