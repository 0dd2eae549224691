"""socscope validate NAME --sensitivity: rows × named alternatives in one table."""

import json

import pandas as pd
import pytest

import socscope as ss
from socscope.cli.main import main
from socscope.errors import ParameterError
from socscope.validation import Row, run_sensitivity, xu2022


def test_every_alternative_builds_a_distinct_material():
    names = {ss.materials.get("ni88-xu2022", **opts).name for opts in xu2022.ALTERNATIVES.values()}
    assert len(names) == len(xu2022.ALTERNATIVES)
    assert next(iter(xu2022.ALTERNATIVES.values())) == {}  # the first column is the shipped choice


def test_the_table_holds_every_row_under_every_alternative(tmp_path, monkeypatch):
    # the rows themselves are the validation's (tested there); here: the table made of them
    seen = []

    def fake_run(*, quick, report, material_options):
        seen.append(material_options)
        d = material_options.get("diffusivity", "")
        if d == "divacancy":
            raise ValueError("zero-size array")  # an alternative whose runs cannot give the rows
        return {"rows": [Row("a1", "src", "theirs", f"ours {d}", "crit", True, "cmd"),
                         Row("a3", "src", "theirs", "ours", "crit", d == "flat", "cmd")]}

    monkeypatch.setattr(xu2022, "run", fake_run)
    out = tmp_path / "sens"
    long = run_sensitivity("xu2022", out, quick=True, verbose=False)
    assert seen == list(xu2022.ALTERNATIVES.values())
    assert len(long) == 2 * len(xu2022.ALTERNATIVES)
    assert set(long.columns) == {"id", "alternative", "holds", "ours"}
    flat = long[(long.alternative == "D flat") & (long.id == "a3")]
    assert flat.holds.tolist() == [True]
    failed = long[long.alternative == "D divacancy"]
    assert not failed.holds.any() and failed.ours.str.startswith("not run: ValueError").all()
    md = (out / "sensitivity.md").read_text()
    assert "| a3 |" in md and "out of reach without" in md and xu2022.OUT_OF_REACH["a3"] in md
    assert "Not run under D divacancy: ValueError: zero-size array" in md
    assert json.loads((out / "sensitivity.json").read_text())["paper"] == "xu2022"
    for name in ("sensitivity.csv", "sensitivity.png", "provenance.json"):
        assert (out / name).stat().st_size > 0
    assert pd.read_csv(out / "sensitivity.csv").shape == (len(long), 4)
    # an existing folder is not overwritten without overwrite=True
    with pytest.raises(ParameterError):
        run_sensitivity("xu2022", out, quick=True, verbose=False)


def test_a_paper_without_alternatives_is_refused(tmp_path, capsys):
    with pytest.raises(ParameterError, match="available for xu2022"):
        run_sensitivity("lun2023", tmp_path / "x", verbose=False)
    assert main(["validate", "lun2023", "--sensitivity", "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("socscope: error:") and "--sensitivity is available for xu2022" in err


def test_alternatives_as_tasks_give_the_same_table(tmp_path, monkeypatch):
    """``map_alternatives`` (``--sensitivity --scheduler``): each alternative is one task of plain data in
    and out. The tasks and their results are sent through cloudpickle, as Dask sends them, and the table
    equals the one made in this process."""
    cloudpickle = pytest.importorskip("cloudpickle")
    from socscope.sweep import map_points

    def fake_run(*, quick, report, material_options):
        d = material_options.get("diffusivity", "")
        if d == "divacancy":
            raise ValueError("zero-size array")
        return {"rows": [Row("a1", "src", "theirs", f"ours {d}", "crit", d != "flat", "cmd")]}

    monkeypatch.setattr(xu2022, "run", fake_run)

    def shipped(func, points):
        func = cloudpickle.loads(cloudpickle.dumps(func))
        got = map_points(func, [cloudpickle.loads(cloudpickle.dumps(p)) for p in points], scheduler="serial")
        return [cloudpickle.loads(cloudpickle.dumps(g)) for g in got]

    here = run_sensitivity("xu2022", tmp_path / "here", quick=True, verbose=False)
    tasks = run_sensitivity("xu2022", tmp_path / "tasks", quick=True, verbose=False, map_alternatives=shipped)
    pd.testing.assert_frame_equal(here, tasks)
    assert (tmp_path / "here" / "sensitivity.md").read_text().split("socscope ")[0] == \
        (tmp_path / "tasks" / "sensitivity.md").read_text().split("socscope ")[0]


def test_scheduler_needs_sensitivity(tmp_path, capsys):
    assert main(["validate", "xu2022", "--scheduler", "local", "--out", str(tmp_path / "v")]) == 2
    assert "add --sensitivity" in capsys.readouterr().err
