"""Simulation results on disk: netCDF files and folders of outputs written atomically.

Results are :class:`xarray.Dataset` objects; :func:`save_results` writes them
as netCDF-4 (through h5netcdf) to a temporary file beside the target and
renames it into place, so an interrupted write never leaves a half file and
an existing file is only replaced with ``overwrite=True``.

A command that writes several files into a folder uses :func:`output_folder`:
the files are written into a temporary sibling folder and swapped in as a
whole when every one is written, so the folder holds either all the new
outputs or all the old ones.

Temporary names carry the writer's process id (``.run.nc.<pid>.XXXX.tmp``,
``.out.partial.<pid>.XXXX``). A run killed outright (SIGKILL, a power cut)
cannot remove its own; the next write beside them removes those whose process
is gone, with a warning (:func:`clean_leftovers`).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from .. import _accessor  # noqa: F401  registers the ds.socscope accessor on results made or read here
from .._checks import flag, path_argument
from .._filemode import default_dir_mode, default_file_mode
from ..errors import FileFormatError, ParameterError, SocscopeWarning
from ._guard import reading

__all__ = [
    "atomic_target",
    "check_output_folder",
    "clean_leftovers",
    "open_results",
    "output_folder",
    "save_results",
    "voltage_capacity_table",
    "write_provenance",
    "write_text_atomic",
]

#: names a results file may have: netCDF-4 is an HDF5 file
RESULT_SUFFIXES = (".nc", ".nc4", ".netcdf", ".h5", ".hdf5")

#: a temporary file or folder of ours: ``.NAME.<pid>.<random>.tmp`` or ``.NAME.partial.<pid>.<random>``
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp(?:\.png)?"
                       r"|partial\.(?P<dpid>\d+)\.[A-Za-z0-9_]+)$")
#: the partial folders of earlier versions (no process id): ``.optical.partial.XXXX`` inside an
#: output folder, ``.NAME.partial.XXXX`` beside it
_LEGACY = re.compile(r"^\.(?P<name>.+)\.partial\.[A-Za-z0-9_]{8}$")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a temporary file of a live writer is never removed)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: leave its files alone
    return True


def clean_leftovers(folder) -> list[Path]:
    """Remove the temporary files and folders a killed run left in ``folder``; return what was removed.

    Only names of the pattern this module writes (``.NAME.<pid>.XXXX.tmp``,
    ``.NAME.partial.<pid>.XXXX``, and ``.optical.partial.*`` of earlier
    versions) whose process no longer runs are touched. A leftover folder that still holds the
    replaced outputs of an interrupted swap (``.replaced``) is reported, not
    removed: it holds the only copy of them. Each removal is announced with a
    :class:`~socscope.errors.SocscopeWarning`.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _LEFTOVER.match(entry.name)
        if m is not None:
            pid = int(m["pid"] or m["dpid"])
            if _alive(pid):
                continue
        else:
            old = _LEGACY.match(entry.name)
            if old is None or not entry.is_dir():
                continue
        if entry.is_dir() and not entry.is_symlink():
            if (entry / ".replaced").is_dir() and any((entry / ".replaced").iterdir()):
                warnings.warn(f"{entry} holds outputs of an interrupted run that were being replaced; "
                              "move back what you need from its .replaced folder, then delete it",
                              SocscopeWarning, stacklevel=2)
                continue
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    if removed:
        warnings.warn(f"removed {len(removed)} leftover temporary file(s) of an interrupted run in {folder}: "
                      + ", ".join(p.name for p in removed[:3]) + (" ..." if len(removed) > 3 else ""),
                      SocscopeWarning, stacklevel=2)
    return removed


def atomic_target(path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Check ``path`` may be written; return it and a temporary sibling to write first.

    Raises
    ------
    ParameterError
        If ``path`` is a folder, exists and ``overwrite`` is False, or its
        folder is missing.
    """
    path = path_argument(path)
    overwrite = flag("overwrite", overwrite)
    if path.is_dir():
        # overwrite replaces a file, never a folder and what it holds
        raise ParameterError(f"{path} is a folder; the output is one file: give a file name inside it, e.g. "
                             f"{path / ('run' + (path.suffix or '.nc'))}")
    if (path.exists() or path.is_symlink()) and not overwrite:  # a dangling link too: the rename would replace it
        raise ParameterError(f"{path} already exists; pass overwrite=True (--overwrite) to replace it")
    if path.exists() and not path.is_file():
        # the rename would put a plain file in place of a device, a pipe or a socket
        # (--out /dev/null --overwrite, run as root, replaced /dev/null)
        raise ParameterError(f"{path} is not a regular file (a device, pipe or socket); overwrite replaces files "
                             "only: give a file name, e.g. run.nc")
    if not path.parent.exists():
        raise ParameterError(f"cannot write {path}: folder {path.parent} does not exist")
    clean_leftovers(path.parent)  # any output's, of a writer that is gone
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); the result should get the
    # permissions any new file of the user gets
    os.chmod(tmp, default_file_mode())
    return path, Path(tmp)


def check_output_folder(folder, names, *, overwrite: bool = False) -> Path:
    """Check a folder may receive the files ``names`` (nothing is created).

    Raises
    ------
    ParameterError
        If ``folder`` is a file, or already holds one of ``names`` and
        ``overwrite`` is False.
    """
    folder = path_argument(folder, what="an output folder", example="results/")
    overwrite = flag("overwrite", overwrite)
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"{folder} exists and is not a folder; choose another --out")
    odd = [n for n in names if (folder / n).exists() and not (folder / n).is_file()]
    if odd:
        raise ParameterError(f"{folder}/ holds {', '.join(odd)} as a folder, device or pipe where an output file "
                             "goes; move it or choose another --out")
    clash = [n for n in names if (folder / n).exists()]
    if clash and not overwrite:
        raise ParameterError(f"{folder}/ already holds {', '.join(clash)}; pass --overwrite or choose --out DIR")
    return folder


def save_results(ds: xr.Dataset, path, *, overwrite: bool = False, provenance: dict | None = None) -> Path:
    """Write a results Dataset to netCDF atomically, with its provenance.

    Parameters
    ----------
    ds : xarray.Dataset
    path : str or Path
        Target file (``.nc``).
    overwrite : bool
        Replace an existing file.
    provenance : dict, optional
        What made the result, from :func:`socscope._provenance.provenance`
        (the commands pass their command line, inputs and seed). Without it,
        provenance already in ``ds.attrs`` is kept, and a Dataset with none
        records this Python call, the package version and the platform.
        :func:`open_results` gives it back in ``attrs["provenance"]``
        (``ds.socscope.provenance`` reads it as a dict).

    Returns
    -------
    Path
    """
    if not isinstance(ds, xr.Dataset):
        fix = " (a DataArray: save da.to_dataset())" if isinstance(ds, xr.DataArray) else ""
        raise ParameterError(f"save_results needs an xarray.Dataset, got {type(ds).__name__}{fix}")
    if provenance is not None and not isinstance(provenance, dict):
        raise ParameterError(f"provenance must be a dict from socscope._provenance.provenance(), got "
                             f"{type(provenance).__name__}; leave it out to record this call")
    suffix = path_argument(path).suffix.lower()
    if suffix not in RESULT_SUFFIXES:
        raise ParameterError(f"save_results writes netCDF-4, which the name {Path(path).name!r} would misstate; "
                             f"name it with one of {', '.join(RESULT_SUFFIXES)}, e.g. "
                             f"{Path(path).with_suffix('.nc').name if suffix else Path(path).name + '.nc'}")
    path, tmp = atomic_target(path, overwrite=overwrite)
    from .._provenance import attach_provenance
    from .._provenance import provenance as _make

    if provenance is None and "provenance" not in ds.attrs:
        provenance = _make(call=f"socscope.save_results(ds, {str(path)!r})", seed=_seed_of(ds))
    if provenance is not None:
        ds = attach_provenance(ds, provenance)
    try:
        try:
            _write_netcdf(ds, tmp)
        except (TypeError, ValueError) as exc:
            # netCDF attributes hold text, numbers and arrays of numbers only
            raise ParameterError(
                f"cannot write {path}: {exc}. Attributes (ds.attrs and each variable's) must be text, "
                "numbers or lists of numbers; turn others into text first (e.g. json.dumps(value) or "
                "str(value))") from None
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _seed_of(ds) -> int | None:
    seed = ds.attrs.get("seed", ds.attrs.get("layout_seed"))
    try:
        return None if seed is None else int(seed)
    except (TypeError, ValueError):
        return None


def write_provenance(folder, prov: dict) -> Path:
    """Write ``prov`` as ``provenance.json`` into an output folder (atomically)."""
    import json

    from .._provenance import PROVENANCE_FILE

    return write_text_atomic(Path(folder) / PROVENANCE_FILE,
                             json.dumps(prov, indent=2, sort_keys=True, default=str) + "\n")


def voltage_capacity_table(ds: xr.Dataset):
    """Voltage against charge passed of a simulated run, as a table to lay over measured curves.

    Parameters
    ----------
    ds : xarray.Dataset
        A particle or electrode result with ``voltage`` and ``specific_capacity``.

    Returns
    -------
    pandas.DataFrame
        Columns ``time_s``, ``step`` (0-based protocol step), ``capacity_mAh_g``
        (charge passed, positive = Li removed), ``voltage_V`` and, where the
        result has it, ``theta_mean``.

    Raises
    ------
    ParameterError
        If the result has no voltage (a run without kinetics).
    """
    import pandas as pd

    import numpy as np

    missing = [v for v in ("voltage", "specific_capacity") if v not in ds]
    if not missing and not np.isfinite(np.asarray(ds.voltage.values, dtype=float)).any():
        missing = ["voltage"]  # recorded as NaN: a run without kinetics
    if missing:
        raise ParameterError(f"the result has no {' or '.join(missing)}: a voltage-capacity curve needs a run "
                             "with Butler-Volmer kinetics (--kinetics butler-volmer and a material with U and i0)")
    cols = {"time_s": ds.time.values, "step": ds["step"].values if "step" in ds else -1,
            "capacity_mAh_g": ds.specific_capacity.values, "voltage_V": ds.voltage.values}
    if "theta_mean" in ds and ds.theta_mean.dims == ("time",):
        cols["theta_mean"] = ds.theta_mean.values
    return pd.DataFrame(cols)
#: seconds the structure probe of a results file may take: the HDF5 library can loop for ever
#: inside a damaged file, where no Python timeout reaches it, so the probe runs in a child process
PROBE_TIMEOUT_S = 30.0
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: how the child walks one file: every object's metadata and chunk index (no data read)
_PROBE_WALK = """
def walk(path):
    def visit(name, obj):
        dict(obj.attrs)
        if isinstance(obj, h5py.Dataset):
            obj.shape, obj.dtype
            if obj.chunks:
                obj.id.get_num_chunks()
    with h5py.File(path, "r") as f:
        dict(f.attrs)
        f.visititems(visit)
"""
#: the child: one JSON path a line in, one JSON reply a line out ("ok" or the error's last line), until
#: its input closes (the parent exits)
_PROBE_LOOP = """
import json, sys
import h5py
{walk}
for line in sys.stdin:
    try:
        walk(json.loads(line))
        reply = "ok"
    except BaseException as exc:
        reply = (type(exc).__name__ + ": " + str(exc)).splitlines()[0][:200]
    sys.stdout.write(json.dumps(reply) + "\\n")
    sys.stdout.flush()
"""


class _Prober:
    """One child process that walks HDF5 files on request, kept between calls.

    Starting Python and h5py costs ~0.2 s; a warm child walks a small result in
    milliseconds, so a report or script that opens many results pays the start
    once. A child that does not answer in time (the library looping inside a
    damaged file) is killed, and the next request starts a new one; so is one
    that died (a crash inside the library).
    """

    def __init__(self):
        self._proc = None
        self._replies = None
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _start(self) -> None:
        self._proc = subprocess.Popen([sys.executable, "-c", _PROBE_LOOP.format(walk=_PROBE_WALK)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True, encoding="utf-8", bufsize=1)
        self._replies = queue.Queue()
        threading.Thread(target=self._pump, args=(self._proc.stdout, self._replies), daemon=True).start()

    @staticmethod
    def _pump(stream, replies) -> None:
        for line in stream:
            replies.put(line)
        replies.put(None)  # the child ended

    def _stop(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                self._proc.wait(timeout=5.0)
        self._proc = None

    def walk(self, path: Path, timeout: float) -> str | None:
        """``"ok"``, the error the walk raised, or None when the child gave no answer within ``timeout`` s."""
        if self._pid != os.getpid():
            # a forked copy of the process: the child and the thread that reads its answers belong to the
            # parent (and the lock may have been held by a thread the fork did not copy); start afresh
            self.__init__()
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            try:
                self._proc.stdin.write(json.dumps(str(path)) + "\n")
                self._proc.stdin.flush()
                line = self._replies.get(timeout=timeout)
            except queue.Empty:
                self._stop()
                return None
            except (OSError, ValueError):  # the child had ended before the request
                line = None
            if line is None:  # the child died (on this file, or before it)
                self._stop()
                return "the HDF5 library crashed on the file"
            return json.loads(line)


_PROBER = _Prober()


def _probe_structure(path: Path) -> None:
    """Refuse a file that is not HDF5, or whose structure the library cannot walk in time.

    The walk runs in a child process kept between calls (:class:`_Prober`): the first call pays
    its start, about 0.2 s (Python and h5py); later ones a few milliseconds for a small result,
    where the in-process read takes 0.015 s. That read then walks the same structure, now known
    to end.
    """
    with open(path, "rb") as fh:
        head = fh.read(2056)
    if not any(head[k:k + 8] == _HDF5_SIGNATURE for k in (0, 512, 1024, 2048)):
        raise FileFormatError(f"{path}: not a netCDF-4 (HDF5) file (first bytes {head[:8]!r}); expected a socscope "
                              "results file written by save_results / socscope simulate")
    reply = _PROBER.walk(path.resolve(), PROBE_TIMEOUT_S)
    if reply is None:
        raise FileFormatError(f"{path}: the HDF5 library did not finish reading the file's structure within "
                              f"{PROBE_TIMEOUT_S:g} s; the file is damaged: write the result again")
    if reply != "ok":
        raise FileFormatError(f"{path}: not a readable netCDF-4 file ({reply})")


def results_problem(ds: xr.Dataset) -> str | None:
    """What is physically impossible in a results Dataset, or None.

    Occupancies (variables named ``theta...``) lie in [0, 1] (their differences,
    ``theta_..._minus_...``, in [-1, 1]; NaN marks cells outside a particle), to within 1e-6 (the solver's state never leaves [0, 1] by more than its
    round-off); no value is infinite; times are finite and never decrease.
    """
    for name, var in ds.variables.items():
        if var.dtype.kind not in "fc":
            continue
        values = np.asarray(var.values)
        inf = np.isinf(values)
        if inf.any():
            return f"variable {name!r} holds {int(inf.sum())} infinite value(s); a result holds finite numbers"
        if str(name).startswith("theta"):
            low = -1.0 if any(w in str(name) for w in ("minus", "difference", "delta")) else 0.0  # θ differences
            bad = (values < low - 1e-6) | (values > 1 + 1e-6)
            if bad.any():
                return (f"variable {name!r} holds {values[bad].flat[0]:.6g}, outside the occupancy range "
                        f"[{low:g}, 1] ({int(bad.sum())} value(s))")
    if "time" in ds.variables and ds["time"].dtype.kind == "f":
        t = np.asarray(ds["time"].values, dtype=float).ravel()
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
            return "its time coordinate is not finite and non-decreasing"
    return None


def _write_netcdf(ds: xr.Dataset, tmp: Path) -> None:
    """netCDF-4 into ``tmp``; a failed write (a full disk) leaves no HDF5 file open.

    The file is built in memory by h5netcdf and written with plain file I/O: when HDF5 itself
    met a full disk, its half-closed file object crashed the interpreter at exit (SIGSEGV).
    """
    import io

    buffer = io.BytesIO()
    ds.to_netcdf(buffer, engine="h5netcdf", invalid_netcdf=False)
    view = buffer.getbuffer()
    try:
        with open(tmp, "wb") as fh:
            fh.write(view)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        view.release()


def open_results(path) -> xr.Dataset:
    """Read a results file written by :func:`save_results` into memory.

    The provenance recorded by :func:`save_results` comes back as JSON text in
    ``attrs["provenance"]``; ``ds.socscope.provenance`` (or
    :func:`socscope._provenance.read_provenance`) gives it as a dict: the
    command line or Python call, inputs with SHA-256, seed, version, platform.
    The file's structure is first walked in a child process with a time limit
    (:data:`PROBE_TIMEOUT_S`): a damaged HDF5 file can make the library loop.
    The child is kept for the next call (the first pays its ~0.2 s start).

    Raises
    ------
    FileFormatError
        If the file is missing, not netCDF, damaged, not a socscope result, or holds
        physically impossible values (see :func:`results_problem`).
    """
    path = path_argument(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file (expected a socscope results .nc file)")
    _probe_structure(path)
    # h5py/h5netcdf raise several types for corrupt files
    with reading(path, "a netCDF-4 results file"), xr.open_dataset(path, engine="h5netcdf") as ds:
        out = ds.load()
    if "socscope_version" not in out.attrs:
        raise FileFormatError(f"{path}: netCDF file without 'socscope_version' attribute; not a socscope result")
    problem = results_problem(out)
    if problem:
        raise FileFormatError(f"{path}: {problem}; the file is damaged: write the result again")
    return out


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary sibling and a rename.

    A reader never sees a half-written file, and an interrupted write leaves
    the previous file as it was.
    """
    path, tmp = atomic_target(path, overwrite=True)  # a unique temporary name: two writers do not collide
    try:
        tmp.write_text(text, encoding="utf-8")  # not the locale's: tables hold θ, µm and −
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


class _Swap:
    """The temporary folder of :func:`output_folder` and how it goes into place."""

    def __init__(self, folder: Path, names, overwrite: bool):
        self.folder = folder
        self.names = tuple(names)
        self.overwrite = overwrite
        parent = folder.absolute().parent
        if not parent.is_dir():
            raise ParameterError(f"cannot write {folder}: folder {parent} does not exist; create it first")
        clean_leftovers(parent)
        if folder.is_dir():
            clean_leftovers(folder)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial.{os.getpid()}.", dir=parent))
        self.tmp.chmod(default_dir_mode())  # it may become the folder: an ordinary one, not a private one

    def commit(self) -> None:
        folder, tmp = self.folder, self.tmp
        written = [p.name for p in tmp.iterdir()]
        unknown = sorted(set(written) - set(self.names))
        if unknown:
            raise ParameterError(f"output_folder: {', '.join(unknown)} written but not declared among the names")
        if not folder.exists():
            os.replace(tmp, folder)
            return
        # the folder exists (overwrite, or new names only): its declared outputs are replaced together;
        # each replaced file goes aside first, and any error or interrupt puts every file back
        check_output_folder(folder, self.names, overwrite=self.overwrite)  # again: it may have changed meanwhile
        aside = tmp / ".replaced"
        aside.mkdir()
        moved: list[tuple[str, bool]] = []  # (name, an old file went aside)
        try:
            for name in self.names:
                old = folder / name
                had = old.exists() or old.is_symlink()
                if had:
                    os.replace(old, aside / name)
                moved.append((name, had))
                if (tmp / name).exists():
                    os.replace(tmp / name, old)
        except BaseException:
            for name, had in reversed(moved):
                if (folder / name).exists() and not (tmp / name).exists():
                    with contextlib.suppress(OSError):
                        os.replace(folder / name, tmp / name)
                if had:
                    os.replace(aside / name, folder / name)
            raise
        shutil.rmtree(tmp, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def output_folder(folder, names, *, overwrite: bool = False):
    """Write a folder of outputs as a whole or not at all.

    The block writes its files into the temporary folder this yields (a hidden
    sibling of ``folder``, on the same file system). When the block ends
    without an error, the outputs go into place together: a new ``folder`` is
    the temporary folder renamed (one atomic step); in an existing one (only
    with ``overwrite=True`` when it holds any of ``names``) every file of
    ``names`` is replaced, and those of ``names`` the block did not write are
    removed, while the folder's other files stay; should a rename fail part-way,
    every file is put back. When the block raises (a full disk, an interrupt,
    SIGTERM through the command line), the temporary folder is removed and
    ``folder`` is as it was.

    Parameters
    ----------
    folder : str or Path
        The output folder.
    names : sequence of str
        Every file name the block may write (the outputs of the command).
    overwrite : bool
        Replace outputs already in ``folder``.

    Yields
    ------
    Path
        The temporary folder to write into.

    Raises
    ------
    ParameterError
        If ``folder`` is a file, holds one of ``names`` without ``overwrite``,
        its parent folder is missing, or the block wrote a name not in ``names``.

    Examples
    --------
    >>> with output_folder("summary", ["cycles.csv", "summary.json"], overwrite=True) as tmp:  # doctest: +SKIP
    ...     write_text_atomic(tmp / "cycles.csv", table.to_csv())
    ...     write_text_atomic(tmp / "summary.json", text)
    """
    folder = path_argument(folder, what="an output folder", example="results/")
    check_output_folder(folder, names, overwrite=overwrite)
    swap = _Swap(folder, names, overwrite)
    try:
        yield swap.tmp
        swap.commit()
    finally:
        if swap.tmp.exists():
            swap.discard()
