"""Simulation results: units and provenance in the Dataset, atomic netCDF round trips."""

from __future__ import annotations

import warnings
import json

import numpy as np
import pytest
import xarray as xr

import socscope as ss
from socscope.errors import FileFormatError, ParameterError
from socscope.io.results import open_results, save_results

# the discharge meets the Li-saturated rim a 1C charge and short rest leave, so it ends at 3.0 V
PROTOCOL = ["Charge at 1C for 3 minutes", "Rest for 2 minutes", "Discharge at C/2 for 1 minute or until 3.0 V"]


@pytest.fixture(scope="module")
def material():
    return ss.materials.get("ni88-xu2022")


def _ring(n=12):
    img = np.ones((n, n), dtype=bool)
    img[4:7, 4:7] = False
    return img


@pytest.fixture(scope="module")
def sphere_result(material):
    return ss.simulate_particle(material, ss.geometry.Sphere(1e-6), PROTOCOL, n_cells=12)


@pytest.fixture(
    scope="module",
    params=["sphere", "disc", "mask-blocked"],
)
def result(request, material, sphere_result):
    if request.param == "sphere":
        return sphere_result
    if request.param == "disc":
        return ss.simulate_particle(material, ss.geometry.Disc(1e-6), PROTOCOL, resolution=0.05e-6)
    # a result of a blocked ring; whether its small active surface can take the C/2 discharge above 3.0 V
    # depends on the material's OCP, and a step that ends at once is said with a StepWarning (tested in
    # tests/simulate): here only the result's file format matters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ss.errors.StepWarning)
        return ss.simulate_particle(
            material, ss.geometry.Mask(_ring(), 1e-7), PROTOCOL, resolution=1e-7,
            surface=ss.physics.BlockedArc(eta=0.2, fraction=0.3, mode="kinetic"),
        )


def test_data_variables_and_numeric_coordinates_have_units(result):
    # every data variable (text ones such as step_sentence included) and every numeric coordinate
    missing = [
        name for name, var in result.variables.items()
        if (name in result.data_vars or var.dtype.kind in "fiu") and "units" not in var.attrs
    ]
    assert missing == []
    assert result["theta"].attrs["units"] == "1"
    assert result["time"].attrs["units"] == "s"
    assert result["lithium"].attrs["units"] == "mol"
    assert result["charge"].attrs["units"] == "C"
    assert result["current"].attrs["units"] == "A"
    assert result["specific_capacity"].attrs["units"] == "mAh/g"
    assert result["front_depth"].attrs["units"] == "m"


def test_named_dimensions(result):
    assert result["theta"].dims[0] == "time"
    assert result["theta"].dims[1:] in (("r",), ("y", "x"))
    for name in ("theta_mean", "current", "charge", "lithium"):
        assert result[name].dims == ("time",)


def test_attrs_hold_version_material_and_protocol(result, material):
    a = result.attrs
    assert a["socscope_version"] == ss.__version__
    assert a["protocol"] == " | ".join(PROTOCOL)
    assert list(result["step_sentence"].values) == PROTOCOL
    material_keys = [k for k in a if k.startswith("material_")]
    assert len(material_keys) >= 10
    assert a["material_name"] == material.name
    assert a["material_c_max_mol_m3"] == material.c_max
    assert a["material_density_kg_m3"] == material.density
    assert a["material_parameter_alpha"] == material.parameters["alpha"]
    assert a["initial_theta"] == 0.97
    assert a["flux_law"] == "chemical"
    assert "rtol" in a["solver_options"]
    # netCDF stores only str / numbers in attributes
    assert all(isinstance(v, (str, int, float, np.integer, np.floating)) for v in a.values())


def _without_provenance(ds):
    """The Dataset without the ``provenance`` attribute save_results records (checked on its own)."""
    ds = ds.copy()
    ds.attrs.pop("provenance")
    return ds


def test_round_trip(tmp_path, result):
    path = ss.save_results(result, tmp_path / "run.nc")
    assert path == tmp_path / "run.nc" and path.is_file()
    back = ss.open_results(path)
    # netCDF-4 stores float64 and strings losslessly: data, coordinates and
    # attributes come back identical (NaN outside the particle included),
    # with the provenance save_results adds
    prov = json.loads(back.attrs["provenance"])
    assert prov["command"] == f"socscope.save_results(ds, {str(path)!r})" and prov["kind"] == "python"
    assert prov["socscope_version"] == ss.__version__
    xr.testing.assert_identical(_without_provenance(back), result)
    assert _without_provenance(back).attrs == result.attrs
    # the returned Dataset is in memory: the file can be removed at once
    path.unlink()
    assert float(back["theta_mean"][-1]) == float(result["theta_mean"][-1])


def test_refuses_to_overwrite_and_leaves_the_file_intact(tmp_path, sphere_result):
    result = sphere_result
    path = tmp_path / "run.nc"
    path.write_bytes(b"precious")
    with pytest.raises(ParameterError) as info:
        ss.save_results(result, path)
    msg = str(info.value)
    assert str(path) in msg and "overwrite" in msg
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nc"]  # no temporary left
    ss.save_results(result, path, overwrite=True)
    xr.testing.assert_identical(_without_provenance(ss.open_results(path)), result)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, sphere_result):
    result = sphere_result
    path = tmp_path / "run.nc"
    ss.save_results(result, path)
    before = path.read_bytes()
    bad = result.copy()
    bad.attrs["not_storable"] = {"a": 1}  # netCDF attributes cannot be dicts
    with pytest.raises(ParameterError, match="not_storable.*must be text, numbers or lists of numbers"):
        ss.save_results(bad, path, overwrite=True)  # was h5netcdf's raw TypeError
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nc"]


def test_what_is_not_a_result_or_a_path_is_refused(tmp_path, sphere_result):
    with pytest.raises(ParameterError, match=r"needs an xarray.Dataset, got DataArray \(a DataArray: save da.to_dataset"):
        ss.save_results(sphere_result.theta_mean, tmp_path / "a.nc")  # was written as a file
    with pytest.raises(ParameterError, match="needs an xarray.Dataset, got NoneType"):
        ss.save_results(None, tmp_path / "a.nc")  # AttributeError
    with pytest.raises(ParameterError, match="a file path is needed"):
        ss.open_results(None)  # TypeError
    # a dangling link is something the user made: without overwrite it stays
    link = tmp_path / "link.nc"
    link.symlink_to(tmp_path / "elsewhere.nc")
    with pytest.raises(ParameterError, match="already exists"):
        ss.save_results(sphere_result, link)
    assert link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.nc"]


def test_text_outputs_are_written_whole_and_never_onto_a_folder(tmp_path):
    from socscope.io.results import write_text_atomic

    out = write_text_atomic(tmp_path / "table.md", "θ −0.25 µm\n")
    assert out.read_text(encoding="utf-8") == "θ −0.25 µm\n"
    (tmp_path / "folder").mkdir()
    with pytest.raises(ParameterError, match="is a folder"):
        write_text_atomic(tmp_path / "folder", "x")  # IsADirectoryError, and a stray .folder.tmp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "table.md"]


def test_missing_folder(tmp_path, sphere_result):
    result = sphere_result
    with pytest.raises(ParameterError, match="does not exist"):
        ss.save_results(result, tmp_path / "nowhere" / "run.nc")


def test_garbage_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "garbage.nc"
    path.write_bytes(b"\x00\x01 this is not netCDF " * 20)
    with pytest.raises(FileFormatError) as info:
        ss.open_results(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.nc"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty.nc"):
        ss.open_results(empty)
    with pytest.raises(FileFormatError, match="missing.nc"):
        ss.open_results(tmp_path / "missing.nc")


def test_foreign_netcdf_is_refused(tmp_path):
    path = tmp_path / "foreign.nc"
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(FileFormatError) as info:
        ss.open_results(path)
    assert "foreign.nc" in str(info.value) and "socscope_version" in str(info.value)


def test_saved_files_get_the_default_permissions(tmp_path):
    """The temporary file is private while written; the result is not."""
    import os
    import stat

    import xarray as xr

    from socscope.io.results import default_file_mode, save_results

    path = save_results(xr.Dataset({"a": ("x", [1.0, 2.0])}), tmp_path / "r.nc")
    assert stat.S_IMODE(os.stat(path).st_mode) == default_file_mode()


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_folder_given_as_the_results_file_is_refused_and_kept(tmp_path, overwrite):
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(ParameterError, match=r"runs is a folder; the output is one file: give a file name inside it"):
        ss.io.results.atomic_target(folder, overwrite=overwrite)
    assert (folder / "keep.txt").read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["runs"]


def test_overwrite_replaces_files_only(tmp_path, sphere_result):
    import os

    from socscope.io.results import check_output_folder

    os.mkfifo(tmp_path / "pipe.nc")
    os.mkfifo(tmp_path / "pipe.csv")
    # the rename had put a plain file in place of the pipe (and, run as root, of /dev/null)
    with pytest.raises(ParameterError, match="not a regular file"):
        ss.save_results(sphere_result, tmp_path / "pipe.nc", overwrite=True)
    with pytest.raises(ParameterError, match="holds pipe.nc as a folder, device or pipe"):
        check_output_folder(tmp_path, ["pipe.nc"], overwrite=True)
    with pytest.raises(ss.errors.MaterialError, match=r"is a folder \(or a device or pipe\)"):
        ss.materials.save(ss.materials.get("nmc532"), tmp_path / "pipe.csv", overwrite=True)
    assert (tmp_path / "pipe.nc").is_fifo() and (tmp_path / "pipe.csv").is_fifo()


def _small_result(path, theta):
    ds = xr.Dataset({"theta": (("time", "r"), theta, {"units": "1"})},
                    coords={"time": ("time", np.arange(theta.shape[0], dtype=float), {"units": "s"})},
                    attrs={"socscope_version": "test"})
    save_results(ds, path)
    return path


def test_impossible_occupancies_and_infinities_are_refused(tmp_path):
    theta = np.full((4, 3), 0.5)
    assert open_results(_small_result(tmp_path / "ok.nc", theta)).theta.shape == (4, 3)
    theta[2, 1] = -2e249
    with pytest.raises(FileFormatError, match=r"bad.nc: variable 'theta' holds -2e\+249, outside the occupancy"):
        open_results(_small_result(tmp_path / "bad.nc", theta))
    theta[2, 1] = np.inf
    with pytest.raises(FileFormatError, match=r"inf.nc: variable 'theta' holds 1 infinite value"):
        open_results(_small_result(tmp_path / "inf.nc", theta))


def test_a_structure_the_library_cannot_walk_in_time_is_refused(tmp_path, monkeypatch):
    """A damaged HDF5 file can make the library loop: the walk runs in a child with a time limit."""
    from socscope.io import results

    path = _small_result(tmp_path / "slow.nc", np.full((4, 3), 0.5))
    # a walk that takes a minute stands for the library looping; a fresh child runs it
    monkeypatch.setattr(results, "_PROBE_WALK", results._PROBE_WALK.replace("def walk(path):",
                                                                            "def walk(path):\n    import time; time.sleep(60)"))
    monkeypatch.setattr(results, "_PROBER", results._Prober())
    monkeypatch.setattr(results, "PROBE_TIMEOUT_S", 2.0)
    with pytest.raises(FileFormatError, match=r"slow.nc: the HDF5 library did not finish reading the file's"):
        open_results(path)
    assert results._PROBER._proc is None  # the looping child was killed
    # the next file gets a new child, which walks it
    monkeypatch.setattr(results, "_PROBE_WALK", results._PROBE_WALK.replace("import time; time.sleep(60)", "pass"))
    assert open_results(path).theta.shape == (4, 3)


def test_the_checking_child_is_kept_between_files_and_replaced_when_it_dies(tmp_path, monkeypatch):
    from socscope.io import results

    monkeypatch.setattr(results, "_PROBER", results._Prober())
    paths = [_small_result(tmp_path / f"r{k}.nc", np.full((4, 3), 0.5)) for k in range(3)]
    open_results(paths[0])
    child = results._PROBER._proc
    for p in paths[1:]:
        open_results(p)
    assert results._PROBER._proc is child and child.poll() is None  # one child walked all three
    child.kill()
    child.wait()
    assert open_results(paths[0]).theta.shape == (4, 3)  # a dead child is replaced
    assert results._PROBER._proc is not child
    # a file the library cannot open is named with the library's reason, and the child goes on
    (tmp_path / "bad.nc").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 2000)
    with pytest.raises(FileFormatError, match=r"bad.nc: not a readable netCDF-4 file \(OSError: "):
        open_results(tmp_path / "bad.nc")
    assert open_results(paths[1]).theta.shape == (4, 3)


def test_a_file_on_which_the_hdf5_library_loops_is_refused_in_time(monkeypatch):
    """tests/data/results_hdf5_loop.nc: a small result with eight bytes at offset 2288 set to 0xff (found by
    the fuzz suite); xarray/h5py spin on it for more than 40 s (measured). open_results gives up after the
    probe's limit, with the file named."""
    import time
    from pathlib import Path

    from socscope.io import results

    path = Path(__file__).resolve().parents[1] / "data" / "results_hdf5_loop.nc"
    monkeypatch.setattr(results, "PROBE_TIMEOUT_S", 3.0)
    start = time.perf_counter()
    # another HDF5 version may refuse the damage at once instead of looping: named as well
    with pytest.raises(FileFormatError, match=r"results_hdf5_loop.nc: (the HDF5 library did not finish|not a)"):
        open_results(path)
    assert time.perf_counter() - start < 3.0 + 10.0  # the limit, and the child's clean-up on a loaded machine


def _open_in_child(path):
    return open_results(path).theta.shape


def test_a_forked_process_gets_its_own_checking_child(tmp_path):
    """A worker forked after the parent opened a result must not talk to the parent's child (the thread
    that reads its answers stays behind): it would wait out the time limit and call a good file damaged."""
    import multiprocessing

    from socscope.io import results

    path = _small_result(tmp_path / "r.nc", np.full((4, 3), 0.5))
    open_results(path)
    parent_child = results._PROBER._proc
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_open_in_child, [path] * 4, chunksize=1) == [(4, 3)] * 4
    assert results._PROBER._proc is parent_child and parent_child.poll() is None  # the parent's is untouched
