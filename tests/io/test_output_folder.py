"""One atomic-output mechanism: folders replaced as a whole or not at all, bool-only flags, leftovers of killed runs."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import xarray as xr

import socscope as ss
from socscope.errors import ParameterError, SocscopeWarning
from socscope.io.results import clean_leftovers, output_folder, write_text_atomic

NAMES = ("a.csv", "b.json", "c.png")


def _tiny():
    return xr.Dataset({"x": ("t", np.arange(3.0))}, attrs={"socscope_version": ss.__version__})


def _dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("value", ["no", "False", float("nan"), 0, 1, None])
def test_overwrite_takes_bools_only(tmp_path, value):
    target = tmp_path / "x.nc"
    target.write_bytes(b"earlier")
    with pytest.raises(ParameterError, match="overwrite must be True or False"):
        ss.save_results(_tiny(), target, overwrite=value)
    with pytest.raises(ParameterError, match="overwrite must be True or False"), \
            output_folder(tmp_path / "out", NAMES, overwrite=value):
        pass
    assert target.read_bytes() == b"earlier" and sorted(p.name for p in tmp_path.iterdir()) == ["x.nc"]


def test_a_new_folder_appears_whole(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, NAMES) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.partial.") and not out.exists()
        for name in NAMES:
            write_text_atomic(tmp / name, name)
    assert _snapshot(out) == {n: n.encode() for n in NAMES}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("exc", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_an_error_part_way_leaves_the_earlier_outputs_byte_identical(tmp_path, exc):
    out = tmp_path / "out"
    out.mkdir()
    for name in NAMES:
        (out / name).write_text(f"old {name}")
    (out / "notes.txt").write_text("mine")
    before = _snapshot(out)
    with pytest.raises(type(exc)), output_folder(out, NAMES, overwrite=True) as tmp:
        write_text_atomic(tmp / "a.csv", "new")  # the first output is written, then the disk is full
        raise exc
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder


def test_an_existing_folder_gets_the_new_set_and_keeps_other_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in NAMES:
        (out / name).write_text(f"old {name}")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ParameterError, match="--overwrite"), output_folder(out, NAMES):
        pass
    with output_folder(out, NAMES, overwrite=True) as tmp:
        write_text_atomic(tmp / "a.csv", "new a")
        write_text_atomic(tmp / "b.json", "new b")
    # c.png was not written this time: the old one would not belong to the new set, so it went
    assert _snapshot(out) == {"a.csv": b"new a", "b.json": b"new b", "notes.txt": b"mine"}
    with pytest.raises(ParameterError, match="not declared"), output_folder(out, NAMES, overwrite=True) as tmp:
        write_text_atomic(tmp / "other.txt", "x")
    assert _snapshot(out) == {"a.csv": b"new a", "b.json": b"new b", "notes.txt": b"mine"}


def test_leftovers_of_a_killed_run_are_removed_by_the_next_one(tmp_path):
    dead, live = _dead_pid(), os.getpid()
    stale_file = tmp_path / f".x.nc.{dead}.abcd1234.tmp"
    stale_folder = tmp_path / f".out.partial.{dead}.abcdefgh"
    legacy = tmp_path / "out" / ".optical.partial.k2j4h5g6"  # an earlier version's name (no process id)
    busy = tmp_path / f".x.nc.{live}.efgh5678.tmp"  # a writer still running
    for p in (stale_file, busy):
        p.write_bytes(b"\0" * 100)
    stale_folder.mkdir()
    (stale_folder / "a.csv").write_text("half")
    legacy.mkdir(parents=True)
    (tmp_path / "out" / "a.csv").write_text("kept")
    with pytest.warns(SocscopeWarning, match="leftover"):
        ss.save_results(_tiny(), tmp_path / "x.nc")
    assert not stale_file.exists() and busy.exists()
    with pytest.warns(SocscopeWarning, match="leftover"), \
            output_folder(tmp_path / "out", NAMES, overwrite=True) as tmp:
        write_text_atomic(tmp / "a.csv", "new")
    assert not stale_folder.exists() and not legacy.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([busy.name, "out", "x.nc"])


def test_an_interrupted_swap_is_reported_not_deleted(tmp_path):
    # a folder whose .replaced holds old outputs is the only copy of them: the next run says so
    dead = _dead_pid()
    left = tmp_path / f".out.partial.{dead}.abcdefgh"
    (left / ".replaced").mkdir(parents=True)
    (left / ".replaced" / "a.csv").write_text("the only copy")
    with pytest.warns(SocscopeWarning, match="interrupted run that were being replaced"):
        removed = clean_leftovers(tmp_path)
    assert removed == [] and (left / ".replaced" / "a.csv").read_text() == "the only copy"
    with warnings.catch_warnings():
        warnings.simplefilter("error", SocscopeWarning)
        assert clean_leftovers(tmp_path / "missing") == []


def test_cycler_summary_meeting_a_full_disk_keeps_the_earlier_folder(tmp_path, monkeypatch, capsys):
    import socscope.plotting.cycling as plotting_cycling
    from socscope.cli.main import main

    record = tmp_path / "cycling.csv"
    # two C/10 cycles of 1 mAh: 10 h charge and discharge at 0.1 mA, voltage linear in the charge
    t = np.arange(0, 40 * 3600 + 1, 60.0)
    current = np.where((t % (20 * 3600)) < 10 * 3600, 1e-4, -1e-4)
    q = np.cumsum(current) * 60.0 / 3.6  # mAh
    record.write_text("time_s,voltage_V,current_A\n" + "".join(
        f"{a},{3.0 + 1.2 * b:.6f},{c}\n" for a, b, c in zip(t, q - q.min(), current)))
    out = tmp_path / "summary"
    assert main(["cycler", "summary", str(record), "--mass-mg", "8.1", "--out", str(out), "--quiet"]) == 0
    before = _snapshot(out)

    def full(*args, **kwargs):  # the CSV tables are written, then a figure meets a full disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(plotting_cycling, "plot_dqdv", full)
    assert main(["cycler", "summary", str(record), "--mass-mg", "7", "--out", str(out), "--overwrite",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no space left" in err and "earlier outputs are as they were" in err and err.count("\n") == 1
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cycling.csv", "summary"]
