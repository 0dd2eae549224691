"""One set of small results of every kind, shared by the report tests."""

import warnings

import pytest
import report_results as R

from socscope.cli.main import main


@pytest.fixture(scope="session")
def results(tmp_path_factory):
    """kind name -> path of a result of that kind, each made by the package's own command."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("jinja2")
    pytest.importorskip("tifffile")
    pytest.importorskip("gwyfile")  # the AFM maps are written as Gwyddion files
    pytest.importorskip("skimage")  # the AFM particles are found by scikit-image
    pytest.importorskip("zarr")  # the sweep store
    pytest.importorskip("dask")
    tmp = tmp_path_factory.mktemp("report-results")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mask = R.mask_npy(tmp / "mask.npy")
        assert main(R.particle_args(mask, tmp / "run.nc")) == 0
        assert main(R.electrode_args(tmp / "cell.nc")) == 0
        csv = R.cycler_csv(tmp / "cycling.csv")
        assert main(["cycler", "summary", str(csv), "--mass-mg", "8", "--out", str(tmp / "cycler"), "--quiet"]) == 0
        gitt = R.gitt_csv(tmp / "gitt.csv")
        assert main(["gitt", str(gitt), "--mass-mg", "5", "--material", "nmc532", "--radius-um", "2",
                     "--out", str(tmp / "gitt"), "--quiet"]) == 0
        R.validation_folder(tmp / "validation")
        (tmp / "optical-in").mkdir()
        R.optical_folder(tmp / "optical-in", tmp / "optical")
        R.pitt_folder(tmp / "pitt")
        # the kinds of the instruments and of many runs (about 12 s together)
        for name in ("spicp-in", "afm-in", "nexafs-in", "batch-in"):
            (tmp / name).mkdir()
        calibration, spicp = R.spicp_results(tmp / "spicp-in")
        assert main(R.population_args(tmp / "pop.nc")) == 0
        R.afm_folder(tmp / "afm-in", tmp / "afm")
        R.nexafs_folder(tmp / "nexafs-in", tmp / "nexafs")
        sweep = R.sweep_store(tmp)
        R.batch_folder(tmp / "batch-in", tmp / "batch")
    return {"particle": tmp / "run.nc", "electrode": tmp / "cell.nc", "cycler": tmp / "cycler",
            "gitt": tmp / "gitt", "validation": tmp / "validation", "optical": tmp / "optical", "pitt": tmp / "pitt",
            "spicp": spicp, "spicp-calibration": calibration, "population": tmp / "pop.nc", "afm": tmp / "afm",
            "nexafs": tmp / "nexafs", "sweep": sweep, "batch": tmp / "batch"}


@pytest.fixture(scope="session")
def reports(results, tmp_path_factory):
    """kind name -> the HTML report of ``results[kind]``, written once by ``socscope report``."""
    folder = tmp_path_factory.mktemp("reports")
    out = {}
    for kind, path in results.items():
        out[kind] = folder / f"{kind}.html"
        assert main(["report", str(path), "--out", str(out[kind]), "--quiet"]) == 0
    return out
