"""AFM readers: a real Asylum Research wave (../shared/data/afm, from pycroscopy/SciFiDatasets, MIT
licence), a Gwyddion file written by gwyfile's own writer, TIFF/NumPy maps, and the errors."""

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.errors import FileFormatError, ParameterError
from socscope.io.afm import afm_channel, clean_channel_name, info, open_afm

IBW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "afm" / "asylum_pfm_P0089OP0027.ibw"
needs_ibw = pytest.mark.skipif(not IBW.is_file(), reason=f"shared AFM file not found at {IBW} "
                               "(../shared/data/afm beside the checkout)")


@needs_ibw
def test_real_asylum_wave_reads_five_clean_channels_of_a_2um_scan():
    ds = open_afm(IBW)
    assert list(ds.data_vars) == ["HeightRetrace", "AmplitudeRetrace", "DeflectionRetrace", "PhaseRetrace",
                                  "UserIn0Retrace"]
    for name in ds.data_vars:
        assert ds[name].shape == (256, 256)
    # the note says ScanSize: 2e-06; the wave's own scaling spans the same 2 µm from the first to the
    # last pixel centre (Igor's sfA = 2 µm / 255), exact to the float32 scaling stored in the file
    assert ds.attrs["scan_size_m"] == 2e-6
    assert_allclose(float(ds.x[-1] - ds.x[0]), 2e-6, rtol=1e-6)
    assert_allclose(float(ds.y[-1] - ds.y[0]), 2e-6, rtol=1e-6)
    assert ds.x.attrs["units"] == "m"
    assert ds["HeightRetrace"].attrs["units"] == "m"
    assert ds["PhaseRetrace"].attrs["units"] == "deg"
    assert ds.attrs["imaging_mode"] == "PFM Mode"
    assert ds.attrs["notes"]["ScanRate"] == "1.0016"
    # the height of a real surface: nanometres, not metres or volts
    assert 1e-9 < float(ds["HeightRetrace"].max() - ds["HeightRetrace"].min()) < 1e-6


@needs_ibw
def test_channel_by_short_name_and_summary():
    ds = open_afm(IBW)
    amp = afm_channel(ds, "amplitude")
    assert amp.name == "AmplitudeRetrace" and amp.attrs["channel"] == "AmplitudeRetrace"
    assert amp.attrs["scan_size_m"] == 2e-6
    summary = info(ds)
    assert summary["shape_px"] == [256, 256] and summary["scan_size_um"] == pytest.approx(2.0)
    assert summary["channels"][0]["name"] == "HeightRetrace"


@needs_ibw
def test_missing_channel_lists_those_there():
    ds = open_afm(IBW)
    with pytest.raises(ParameterError, match=r"asylum_pfm_P0089OP0027\.ibw: no channel 'Current'; it has "
                                             r"HeightRetrace, AmplitudeRetrace"):
        afm_channel(ds, "Current")


@needs_ibw
def test_truncated_wave_names_the_file(tmp_path):
    cut = tmp_path / "cut.ibw"
    cut.write_bytes(IBW.read_bytes()[:5000])
    with pytest.raises(FileFormatError, match=r"cut\.ibw: not readable as an Igor binary wave"):
        open_afm(cut)


def test_foreign_file_with_ibw_suffix_names_the_file(tmp_path):
    bad = tmp_path / "notes.ibw"
    bad.write_text("this is not an Igor wave\n" * 20)
    with pytest.raises(FileFormatError, match=r"notes\.ibw: not readable as an Igor binary wave"):
        open_afm(bad)


def test_missing_file():
    with pytest.raises(FileFormatError, match=r"nowhere\.ibw: no such file"):
        open_afm("nowhere.ibw")


@pytest.mark.parametrize("raw, clean", [(b"DeflectionRetracee", "DeflectionRetrace"),
                                        (b"PhaseRetracerace", "PhaseRetrace"), ("HeightTrace\x00\x01", "HeightTrace"),
                                        (b"Current", "Current")])
def test_clean_channel_names(raw, clean):
    assert clean_channel_name(raw) == clean


def test_gwyddion_file_from_an_independent_writer_round_trips(tmp_path):
    gwyfile = pytest.importorskip("gwyfile")
    from gwyfile.objects import GwyContainer, GwyDataField, GwySIUnit

    rng = np.random.default_rng(3)
    height = rng.normal(0, 5e-9, (48, 64))
    current = rng.normal(1e-12, 1e-13, (48, 64))
    obj = GwyContainer()
    for k, (title, data, unit) in enumerate((("Height", height, "m"), ("Current", current, "A"))):
        obj[f"/{k}/data/title"] = title
        obj[f"/{k}/data"] = GwyDataField(data, xreal=3.2e-6, yreal=2.4e-6, si_unit_xy=GwySIUnit(unitstr="m"),
                                         si_unit_z=GwySIUnit(unitstr=unit))
    path = tmp_path / "map.gwy"
    obj.tofile(str(path))
    assert gwyfile.load(str(path))  # the writer's own reader accepts it
    ds = open_afm(path)
    assert sorted(ds.data_vars) == ["Current", "Height"]
    assert_allclose(ds["Height"].values, height, rtol=0, atol=0)  # float64 stored as is
    assert_allclose(ds["Current"].values, current, rtol=0, atol=0)
    assert ds["Current"].attrs["units"] == "A"
    # 64 pixels over 3.2 µm: 50 nm each (round-off of one division)
    assert_allclose(ds.attrs["pixel_size_m"], 50e-9, rtol=1e-12)
    assert_allclose(float(ds.y[1] - ds.y[0]), 50e-9, rtol=1e-12)


def test_tiff_without_pixel_size_names_the_file(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "current.tif"
    tifffile.imwrite(path, np.zeros((16, 16), np.float32))
    with pytest.raises(FileFormatError, match=r"current\.tif: a TIFF without a pixel size.*--pixel-size-nm"):
        open_afm(path)
    ds = open_afm(path, pixel_size_nm=20)
    assert_allclose(ds.attrs["pixel_size_m"], 20e-9, rtol=1e-12)  # nm -> m, one multiplication


def test_imagej_calibrated_tiff_and_numpy(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "cal.tif"
    # ImageJ calibration: 0.05 µm per pixel is 20 pixels per µm
    tifffile.imwrite(path, np.ones((8, 10), np.float32), imagej=True, resolution=(20.0, 20.0),
                     metadata={"unit": "micron"})
    ds = open_afm(path)
    assert_allclose(ds.attrs["pixel_size_m"], 50e-9, rtol=1e-6)  # resolution stored as a rational
    npy = tmp_path / "map.npy"
    np.save(npy, np.arange(12.0).reshape(3, 4))
    with pytest.raises(FileFormatError, match=r"map\.npy: a NumPy file has no pixel size"):
        open_afm(npy)
    assert open_afm(npy, pixel_size_nm=5)["channel0"].shape == (3, 4)
