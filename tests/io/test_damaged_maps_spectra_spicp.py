"""Damaged AFM maps, NEXAFS spectra and SP-ICP-OES tables that the fuzz suite (tests/fuzz) found
accepted, looping or crashing: each is refused with a one-line error naming the file."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from socscope.errors import FileFormatError
from socscope.io import open_afm, open_spectrum, read_spicp_events, read_spicp_transient

IBW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "afm" / "asylum_pfm_P0089OP0027.ibw"
SRC = Path(__file__).resolve().parents[2] / "src"


# -- AFM ---------------------------------------------------------------------------------------
def test_map_with_an_infinity_is_refused_but_nan_marks_unscanned_pixels(tmp_path):
    height = np.zeros((6, 8))
    height[4:] = np.nan  # the scan stopped two lines early: kept
    np.save(tmp_path / "part.npy", height)
    assert np.isnan(open_afm(tmp_path / "part.npy", pixel_size_nm=10)["channel0"].values[4:]).all()
    height[1, 2] = np.inf
    np.save(tmp_path / "inf.npy", height)
    with pytest.raises(FileFormatError, match=r"inf\.npy: channel channel0 holds inf \(1 pixels\)"):
        open_afm(tmp_path / "inf.npy", pixel_size_nm=10)


def test_map_of_a_single_line_or_no_line_is_refused(tmp_path):
    np.save(tmp_path / "empty.npy", np.zeros((0, 4)))
    with pytest.raises(FileFormatError, match=r"empty\.npy: holds images of shape\(s\) \[\(0, 4\)\]; expected .* 2x2"):
        open_afm(tmp_path / "empty.npy", pixel_size_nm=10)


def test_tiff_calibrated_in_metres_per_pixel_of_centimetres_is_refused(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "cm.tif"
    # 20 pixels per metre: 5 cm pixels, no AFM map (a damaged unit 'micron' -> 'm' reads so)
    tifffile.imwrite(path, np.ones((8, 10), np.float32), imagej=True, resolution=(20.0, 20.0), metadata={"unit": "m"})
    with pytest.raises(FileFormatError, match=r"cm\.tif: its pixel size is 0\.05 m, outside the 1e-12\.\.0\.001 m"):
        open_afm(path)


def _gwy_height(path, data, *, yreal=1e-6, z_unit=None):
    """A Gwyddion file with one 'Height' channel, 1 µm wide, in metres."""
    pytest.importorskip("gwyfile")
    from gwyfile.objects import GwyContainer, GwyDataField, GwySIUnit

    obj = GwyContainer()
    obj["/0/data/title"] = "Height"
    extra = {"si_unit_z": GwySIUnit(unitstr=z_unit)} if z_unit else {}
    obj["/0/data"] = GwyDataField(data, xreal=1e-6, yreal=yreal, si_unit_xy=GwySIUnit(unitstr="m"), **extra)
    obj.tofile(str(path))
    return path


def test_gwyddion_height_of_metres_is_refused(tmp_path):
    data = np.zeros((4, 5))
    data[2, 3] = 2.0  # 2 m: beyond any scanner's z range
    _gwy_height(tmp_path / "tall.gwy", data, z_unit="m")
    with pytest.raises(FileFormatError, match=r"tall\.gwy: channel Height reaches 2 m, beyond the ±0\.001 m"):
        open_afm(tmp_path / "tall.gwy")


def test_truncated_gwyddion_file_is_refused_instead_of_looping(tmp_path):
    _gwy_height(tmp_path / "full.gwy", np.zeros((4, 5)))
    cut = tmp_path / "cut.gwy"
    cut.write_bytes((tmp_path / "full.gwy").read_bytes()[:130])  # gwyfile alone spins forever on this cut
    code = "import sys; from socscope.io import open_afm; open_afm(sys.argv[1])"
    # in a child process, so that a loop fails the test after 20 s instead of hanging the suite
    done = subprocess.run([sys.executable, "-c", code, str(cut)], capture_output=True, text=True, timeout=20,
                          env={"PYTHONPATH": str(SRC)}, check=False)
    assert "FileFormatError" in done.stderr and "cut.gwy: not readable as a Gwyddion file" in done.stderr
    assert "runs past its container" in done.stderr or "beyond its container" in done.stderr


@pytest.mark.skipif(not IBW.is_file(), reason=f"shared AFM file not found at {IBW} (../shared/data/afm)")
def test_igor_header_announcing_a_huge_section_is_refused_before_the_library_reads_it(tmp_path, monkeypatch):
    import igor2.binarywave

    blob = bytearray(IBW.read_bytes())
    blob[35] ^= 84  # one flipped byte: a units section of 1.4 GB, which igor2 allocates (2.8 GB peak)
    path = tmp_path / "flip.ibw"
    path.write_bytes(bytes(blob))

    def never(*args, **kwargs):
        raise AssertionError("the library was handed a damaged header")

    monkeypatch.setattr(igor2.binarywave, "load", never)
    with pytest.raises(FileFormatError, match=r"flip\.ibw: .*its header announces 1410618768 bytes .* file holds "
                                              r"1414904"):
        open_afm(path)


def test_unknown_suffix_names_the_file_and_the_formats_read(tmp_path):
    # neither a known suffix nor a Bruker header: the formats read, by suffix, not a Bruker reader's needs
    path = tmp_path / "scan.csv"
    path.write_text("1,2\n")
    with pytest.raises(FileFormatError, match=r"scan\.csv: not an AFM map read here \(suffix '\.csv', no Bruker "
                                              r"Nanoscope header\); the maps read are \.ibw \(Asylum\), \.gwy") as info:
        open_afm(path)
    assert "pip install" not in str(info.value)


def test_a_bruker_file_without_pyspm_names_the_file(tmp_path):
    try:
        import pySPM  # noqa: F401
        pytest.skip("pySPM is installed: the file goes to the Bruker reader")
    except ImportError:
        pass
    for name, text in (("scan.001", "x"), ("scan.dat", "\\*File list\r\n")):  # Bruker's suffix, or its header
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(FileFormatError, match=rf"{re.escape(name)}: read as a Bruker Nanoscope file .*needs pySPM"):
            open_afm(path)


# -- NEXAFS spectra ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["inf", "1e308", "-2e249"])
def test_spectrum_with_an_infinite_or_huge_intensity_is_refused(tmp_path, value):
    rows = [f"{850 + k},{1 + 0.1 * k}" for k in range(6)]
    rows[3] = f"853,{value}"
    path = tmp_path / "ni.csv"
    path.write_text("Energy,TEY\n" + "\n".join(rows) + "\n")
    with pytest.raises(FileFormatError, match=r"ni\.csv: column TEY row 4 holds .*beyond the ±1e\+30"):
        open_spectrum(path)


# -- SP-ICP-OES --------------------------------------------------------------------------------
def test_events_with_a_huge_li_or_a_vanishing_mn_are_refused(tmp_path):
    path = tmp_path / "ev.csv"
    path.write_text("Li,Mn\n10,200\n99999999999999999999,300\n")
    with pytest.raises(FileFormatError, match=r"ev\.csv: column 'Li' row 2 holds 1e\+20, beyond the ±1e\+15"):
        read_spicp_events(path)
    path.write_text("Li,Mn\n10,200\n12,1e-320\n")  # Li/Mn would be infinite
    with pytest.raises(FileFormatError, match=r"ev\.csv: column 'Mn' row 2 is 9\.99989e-321; .* >= 1e-30"):
        read_spicp_events(path)


@pytest.mark.parametrize("header, row, match", [
    ("Time (min),Li,Mn", "2,1e308,5", r"column 'Li' row 3 holds 1e\+308, beyond the ±1e\+15 any"),
    ("Time (min),Li,Mn", "1e308,4,5", r"column 'Time \(min\)' row 3 holds 1e\+308 \(inf s\), beyond the ±3\.2e\+09 s"),
    ("Time (ms),Li,Mn", "5e15,4,5", r"column 'Time \(ms\)' row 3 holds 5e\+15 \(5e\+12 s\), beyond the ±3\.2e\+09 s"),
])
def test_transient_with_a_huge_count_or_time_is_refused(tmp_path, header, row, match):
    path = tmp_path / "tr.csv"
    path.write_text(f"{header}\n0,1,2\n1,3,4\n{row}\n")
    with pytest.raises(FileFormatError, match=r"tr\.csv: " + match):
        read_spicp_transient(path)


def test_gwyddion_map_of_vanishing_height_scale_is_refused(tmp_path):
    # 1 µm wide but 1e-300 m high: the x pixel size passes, the y spacing does not
    _gwy_height(tmp_path / "flat.gwy", np.zeros((4, 5)), yreal=1e-300)
    with pytest.raises(FileFormatError, match=r"flat\.gwy: its pixels are 2\.5e-301 m apart along y, outside"):
        open_afm(tmp_path / "flat.gwy")
