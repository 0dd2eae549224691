"""The sweep's zarr store: laid out before any point runs, one chunk per point, region writes.

Layout of ``sweep.zarr``::

    <axis dims>, sample, [shell | particle]   coordinates
    time, theta_mean, ...                     (axes..., sample[, ...]) float64, NaN until written
    status                                    (axes...) int8: 0 not run, 1 done, 2 failed
    n_records                                 (axes...) int32
    points/000017.json                        each finished or failed point's record: settings,
                                              status, error, wall time, provenance

A point is finished only when its record exists with status 1: the record is
written (atomically) after the point's arrays, so an interruption between the
two leaves a point that a rerun computes again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .definition import SweepDefinition
from .points import layout

__all__ = ["POINTS_FOLDER", "create_store", "finished_points", "open_sweep", "write_point"]

POINTS_FOLDER = "points"
_MARK = "socscope_sweep"


@contextlib.contextmanager
def _records_are_ours():
    """Silence zarr's note that the ``points/`` folder of records is no zarr node (it is ours)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*points is not recognized")
        yield


def _zarr():
    from .._optional import require

    return require("zarr", "a sweep's zarr store", extra="sweep")


def _stored_definition(path: Path) -> dict | None:
    """The sweep definition a store at ``path`` holds, or None if it is not a sweep store."""
    zarr = _zarr()
    try:
        with _records_are_ours():
            g = zarr.open_group(str(path), mode="r")
            text = g.attrs.get(_MARK)
    except Exception:  # noqa: BLE001 - anything unreadable is "not a sweep store"
        return None
    return json.loads(text) if isinstance(text, str) else None


def _template(definition: SweepDefinition):
    """An xarray Dataset of lazy NaN/zero arrays with the store's layout, chunked one point per chunk."""
    import dask.array as da
    import xarray as xr

    axes = definition.axes
    adims = tuple(axes)
    ashape = tuple(len(v) for v in axes.values())
    coords = {name: (name, np.asarray(vals), {"long_name": f"sweep axis {name}"}) for name, vals in axes.items()}
    coords["sample"] = ("sample", np.arange(definition.samples), {"long_name": "record index"})
    data = {}
    for name, (dims, shape, dtype, attrs) in layout(definition).items():
        full_shape = ashape + tuple(shape)
        chunks = (1,) * len(ashape) + tuple(shape)
        fill = np.nan if dtype == "float64" else 0
        data[name] = (adims + tuple(dims), da.full(full_shape, fill, dtype=dtype, chunks=chunks), attrs)
        for d, n in zip(dims, shape):
            if d not in coords:
                coords[d] = (d, np.arange(n), {"long_name": f"{d} index"})
    data["status"] = (adims, da.zeros(ashape, dtype="int8", chunks=(1,) * len(ashape)),
                      {"units": "1", "long_name": "0 not run, 1 done, 2 failed (see points/NNNNNN.json)"})
    return xr.Dataset(data, coords=coords)


def create_store(definition: SweepDefinition, path, *, overwrite: bool = False, provenance: dict | None = None) -> str:
    """Create the store for ``definition`` at ``path``, or find the one a previous run left.

    Parameters
    ----------
    definition : SweepDefinition
    path : str or path-like
        A ``.zarr`` folder.
    overwrite : bool
        Replace an existing sweep store (of any definition).
    provenance : dict, optional
        Stored as JSON text in the store's ``provenance`` attribute.

    Returns
    -------
    str
        ``"new"`` or ``"resume"`` (the store holds this same sweep: its
        finished points are kept).

    Raises
    ------
    ParameterError
        If ``path`` exists and is not a sweep store, or holds another sweep
        and ``overwrite`` is False.
    """
    from ..errors import ParameterError

    path = Path(path)
    if path.exists() or path.is_symlink():
        stored = _stored_definition(path)
        if stored is None:
            raise ParameterError(f"{path} exists and is not a sweep store; choose another --out (a sweep never "
                                 "replaces other files)")
        if not overwrite:
            if stored == definition.to_dict():
                return "resume"
            raise ParameterError(f"{path} holds another sweep (its definition differs); pass --overwrite "
                                 "(overwrite=True) to replace it, or choose another --out")
        shutil.rmtree(path)
    if not path.parent.exists():
        raise ParameterError(f"cannot write {path}: folder {path.parent} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        ds = _template(definition)
        ds.attrs.update({
            _MARK: json.dumps(definition.to_dict(), sort_keys=True),
            "sweep_file": definition.text,
            "sweep_source": definition.source,
            "title": f"socscope {definition.kind} sweep" + (f": {definition.name}" if definition.name else ""),
            "provenance": json.dumps(provenance or {}, sort_keys=True, default=str),
        })
        from .. import __version__

        ds.attrs["socscope_version"] = __version__
        store = tmp / "store.zarr"
        ds.to_zarr(str(store), compute=False, mode="w-", zarr_format=2, consolidated=True)
        (store / POINTS_FOLDER).mkdir()
        os.replace(store, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return "new"


def _record_path(path: Path, index: int) -> Path:
    return Path(path) / POINTS_FOLDER / f"{index:06d}.json"


def point_records(path) -> list[dict]:
    """Every point record of the store at ``path``, each file read once, in file-name order.

    A record that cannot be read or is not JSON (a write cut short), or JSON
    that is not a point record (no integer ``index``), is left out: its point
    counts as not run. No ``points/`` folder: no records.
    """
    folder = Path(path) / POINTS_FOLDER
    out = []
    if not folder.is_dir():
        return out
    for f in sorted(folder.glob("*.json")):
        try:
            rec = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a record cut short: the point runs again
        if isinstance(rec, dict) and isinstance(rec.get("index"), int):
            out.append(rec)  # anything else is not a point record (a stray file): its point runs again
    return out


def done_indices(records, *, include_failed: bool = False) -> set[int]:
    """Indices of the points whose record (of :func:`point_records`) says done (and failed, with ``include_failed``)."""
    return {int(rec["index"]) for rec in records
            if rec.get("status") == 1 or (include_failed and rec.get("status") == 2)}


def finished_points(path, *, include_failed: bool = False) -> set[int]:
    """Indices of the points whose record says done (and failed, with ``include_failed``)."""
    return done_indices(point_records(path), include_failed=include_failed)


def write_point(path, shape: tuple, axis_names: tuple, variables: dict, result: dict, record: dict) -> None:
    """Write one point's arrays into its region of the store, then its record (atomically).

    ``shape`` and ``axis_names`` are the sweep's; ``variables`` is :func:`socscope.sweep.points.layout`.
    """
    import xarray as xr

    path = Path(path)
    axis_names = tuple(axis_names)
    index = int(result["index"])
    where = np.unravel_index(index, shape) if shape else ()
    region = {name: slice(int(k), int(k) + 1) for name, k in zip(axis_names, where)}
    lead = (1,) * len(axis_names)
    data = {"status": (axis_names, np.full(lead, result["status"], dtype="int8"))}
    if result["arrays"] is not None:
        for name, a in result["arrays"].items():
            a = np.asarray(a, dtype=variables[name][2])
            data[name] = (axis_names + tuple(variables[name][0]), a.reshape(lead + a.shape))
    # consolidated=False: a region write changes no metadata, and concurrent writers must not rewrite .zmetadata
    with _records_are_ours():
        xr.Dataset(data).to_zarr(str(path), region=region, mode="r+", zarr_format=2, consolidated=False)
    target = _record_path(path, index)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh, sort_keys=True, default=str)
    os.replace(tmp, target)


def finalize(path, *, summary: dict) -> None:
    """Store the run's summary (points done, failed, their errors) in the store's attributes."""
    zarr = _zarr()
    with _records_are_ours():
        g = zarr.open_group(str(path), mode="r+", zarr_format=2)
        g.attrs.update({"sweep_summary": json.dumps(summary, sort_keys=True)})
        zarr.consolidate_metadata(str(path))


def open_sweep(path):
    """Open a sweep store as an :class:`xarray.Dataset`, with each point's ``error`` (text, '' when none).

    Parameters
    ----------
    path : str or path-like
        The store written by :func:`socscope.sweep.run_sweep`.

    Returns
    -------
    xarray.Dataset
        Lazy (dask) arrays along the sweep's axes; ``status`` 1 marks a
        finished point, 2 a failed one; ``attrs`` hold the definition, the
        sweep file's text, the version and the provenance.
    """
    return open_with_records(path)[0]


def open_with_records(path):
    """:func:`open_sweep`'s Dataset and the point records it was made from (:func:`point_records`, read once)."""
    import xarray as xr

    from ..errors import FileFormatError

    path = Path(path)
    if _stored_definition(path) is None:
        raise FileFormatError(f"{path}: not a socscope sweep store (expected the .zarr folder 'socscope sweep' wrote)")
    with _records_are_ours():
        ds = xr.open_zarr(str(path), consolidated=True)
    axes = [d for d in ds["status"].dims]
    shape = tuple(ds.sizes[d] for d in axes)
    errors = np.full(shape, "", dtype=object)
    records = point_records(path)
    for rec in records:
        if rec.get("error"):
            errors[np.unravel_index(int(rec["index"]), shape)] = rec["error"]
    ds = ds.assign(error=(tuple(axes), errors, {"long_name": "why the point failed ('' if it did not)"}))
    return ds, records
