"""Bad days: a kill during a write, a full disk, a read-only output folder.

Each leaves every earlier output byte-identical and no stray file (a killed run's temporary file is
removed by the next run). The runs are separate processes, so that a crash (the interpreter's
SIGSEGV at exit after save_results met a full disk, once) shows as an exit status. The full disk is a 1 MB tmpfs and the
read-only folder a tmpfs remounted read-only: both need the right to mount (root); elsewhere those
tests skip, saying so. (A chmod 555 folder does not stop root, who runs CI containers.)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _run(code: str, *args, timeout=240):
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


def _cli(*argv):
    return _run("import sys\nfrom socscope.cli.main import main\nsys.exit(main(sys.argv[1:]))", *argv)


def _main(*argv) -> int:
    """The command line in this process (for the runs before the fault)."""
    from socscope.cli.main import main

    return main([str(a) for a in argv])


def _snapshot(folder: Path) -> dict:
    return {p.name: (p.read_bytes() if p.is_file() else "folder") for p in sorted(folder.iterdir())}


RECORD = "time_s,voltage_V,current_A\n" + "".join(
    f"{60 * k},{3.0 + 0.001 * (k % 600):.4f},{1e-4 if (k // 600) % 2 == 0 else -1e-4}\n" for k in range(2400))


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """An earlier results file (netCDF-4 of a small Dataset)."""
    import numpy as np
    import xarray as xr

    import socscope as ss

    path = tmp_path_factory.mktemp("earlier") / "x.nc"
    ss.save_results(xr.Dataset({"theta": ("time", np.linspace(0.97, 0.5, 50))},
                               attrs={"socscope_version": ss.__version__}), path)
    return path.read_bytes()


_KILL_DURING_SAVE = """
import os, signal, sys
import numpy as np, xarray as xr
import socscope as ss
import socscope.io.results as results

def write_then_die(ds, tmp):
    with open(tmp, "wb") as fh:  # part of the file is on disk
        fh.write(b"\\x89HDF" + b"\\0" * 100000)
    os.kill(os.getpid(), signal.SIGKILL)

results._write_netcdf = write_then_die
ss.save_results(xr.Dataset({"theta": ("time", np.zeros(10))}), sys.argv[1], overwrite=True)
"""


def test_a_kill_during_the_write_keeps_the_earlier_file_and_the_next_run_cleans_up(tmp_path, earlier):
    import numpy as np
    import xarray as xr

    import socscope as ss
    from socscope.errors import SocscopeWarning

    out = tmp_path / "x.nc"
    out.write_bytes(earlier)
    res = _run(_KILL_DURING_SAVE, out)
    assert res.returncode == -signal.SIGKILL, res.stderr
    assert out.read_bytes() == earlier
    left = [p.name for p in tmp_path.iterdir() if p.name != "x.nc"]
    assert len(left) == 1 and left[0].startswith(".x.nc.") and left[0].endswith(".tmp")
    with pytest.warns(SocscopeWarning, match="removed 1 leftover temporary file"):
        ss.save_results(xr.Dataset({"theta": ("time", np.ones(3))}), tmp_path / "y.nc")
    assert out.read_bytes() == earlier  # the earlier result is untouched; y.nc is new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nc", "y.nc"]


# cycler summary stopped by a signal after its first output file is written
_SIGNAL_DURING_SUMMARY = """
import os, signal, sys
import socscope.cli.main as cli

real = cli._write_cycler_summary

def first_file_then_signal(out, *args):
    (out / "cycles.csv").write_text("new")
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    real(out, *args)

cli._write_cycler_summary = first_file_then_signal
sys.exit(cli.main(sys.argv[2:]))
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_signal_during_a_folder_write_is_handled_like_ctrl_c(tmp_path, sig):
    record = tmp_path / "cycling.csv"
    record.write_text(RECORD)
    out = tmp_path / "summary"
    assert _main("cycler", "summary", record, "--out", out, "--quiet") == 0
    before = _snapshot(out)
    res = _run(_SIGNAL_DURING_SUMMARY, sig, "cycler", "summary", record, "--out", out, "--overwrite", "--quiet")
    assert res.returncode == (143 if sig == "SIGTERM" else 130), res.stderr
    assert res.stderr.strip().count("\n") == 0 and res.stderr.startswith("socscope: ")
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cycling.csv", "summary"]


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, check=False).returncode == 0


# save a results file of ~1 MB over an existing one; report the error number of an OSError
_SAVE = """
import sys
import numpy as np, xarray as xr
import socscope as ss
ds = xr.Dataset({"theta": (("time", "r"), np.random.default_rng(0).random((1000, 128)))})
try:
    ss.save_results(ds, sys.argv[1], overwrite=True)
except OSError as exc:
    print("OSError", exc.errno)
"""


def _fill(path: Path) -> None:
    """Write zeros into ``path`` until the disk is full."""
    with open(path, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "600k"):
        pytest.skip("a full disk needs a small tmpfs, and mounting one needs root (mount -t tmpfs); not here")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.slow
def test_a_full_disk_fails_with_one_line_no_crash_and_the_earlier_outputs_kept(small_disk, earlier, tmp_path):
    out = small_disk / "x.nc"
    out.write_bytes(earlier)
    filler = small_disk / "filler"
    _fill(filler)
    with open(filler, "r+b") as fh:  # leave less than the results need
        fh.truncate(max(0, filler.stat().st_size - 8192))
    before = _snapshot(small_disk)
    res = _run(_SAVE, out)
    # an OSError to the caller, and after it a normal exit: not -11 (SIGSEGV at exit, once)
    assert res.returncode == 0 and "OSError 28" in res.stdout, (res.returncode, res.stdout, res.stderr)
    assert _snapshot(small_disk) == before
    # a folder of outputs on the full disk: the earlier folder stays as it was
    filler.unlink()
    record = tmp_path / "cycling.csv"
    record.write_text(RECORD)
    summary = small_disk / "summary"
    assert _main("cycler", "summary", record, "--out", summary, "--quiet") == 0
    _fill(small_disk / "filler")
    before = _snapshot(summary)
    res = _cli("cycler", "summary", record, "--out", summary, "--overwrite", "--quiet")
    errors = [line for line in res.stderr.splitlines() if line.startswith("socscope: error:")]
    assert res.returncode == 2 and len(errors) == 1 and "no space left" in errors[0], res.stderr
    assert _snapshot(summary) == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "summary", "x.nc"]


@pytest.mark.slow
def test_a_read_only_output_folder_keeps_its_files(tmp_path, earlier):
    disk = tmp_path / "ro"
    if not _mount_tmpfs(disk, "4m"):
        pytest.skip("a read-only folder that stops root needs a read-only mount (root); not here")
    try:
        (disk / "x.nc").write_bytes(earlier)
        (disk / "summary").mkdir()
        (disk / "summary" / "cycles.csv").write_text("earlier")
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, check=False).returncode == 0
        before, before_summary = _snapshot(disk), _snapshot(disk / "summary")
        res = _run(_SAVE, disk / "x.nc")
        assert res.returncode == 0 and "OSError 30" in res.stdout, (res.stdout, res.stderr)  # EROFS
        record = tmp_path / "cycling.csv"
        record.write_text("time_s,voltage_V,current_A\n0,3.0,0.001\n600,3.5,0.001\n1200,3.4,-0.001\n1800,3.0,-0.001\n")
        res = _cli("cycler", "summary", record, "--out", disk / "summary", "--overwrite", "--quiet")
        assert res.returncode == 2 and res.stderr.startswith("socscope: error: "), res.stderr
        assert _snapshot(disk) == before and _snapshot(disk / "summary") == before_summary
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
