"""SP-ICP-OES readers: event tables, transients, calibration files.

No public SP-ICP-OES instrument file is in ../shared/data, so these files are written
here in the layouts instrument exports use (header lines, element names with wavelengths,
semicolons).
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.analysis.spicp import calibrate_ratios, load_calibration
from socscope.errors import FileFormatError, ParameterError
from socscope.io.spicp import read_events, read_transient, write_calibration


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_events_found_by_element_names_below_header_lines(tmp_path):
    f = _write(tmp_path / "s.csv", "Sample: NMC532 rep 1\nMethod: CL-SP\n\n"
               "Event;Li 670.776;Mn 257.611;Peak width\n1;120.5;800;3\n2;99;650.5;4\n3;0;700;3\n")
    df = read_events(f)
    assert_allclose(df["li_intensity_counts"], [120.5, 99.0, 0.0], rtol=0)
    assert_allclose(df["mn_intensity_counts"], [800.0, 650.5, 700.0], rtol=0)
    assert list(df.columns[:2]) == ["li_intensity_counts", "mn_intensity_counts"]
    assert "Peak width" in df.columns and df.attrs["li_column"] == "Li 670.776"


def test_events_with_a_column_mapping_and_comments(tmp_path):
    f = _write(tmp_path / "s.txt", "# provenance = {\"a\": 1, \"b\": 2}\nA\tB\n1\t2\n3\t4\n")
    df = read_events(f, columns={"li": "A", "mn": "B"})
    assert_allclose(df["mn_intensity_counts"], [2.0, 4.0], rtol=0)


def test_unmappable_columns_name_the_file_and_the_headers(tmp_path):
    f = _write(tmp_path / "odd.csv", "x,y\n1,2\n")
    with pytest.raises(FileFormatError, match=r"odd.csv: no column for 'li' among \['x', 'y'\]"):
        read_events(f)
    with pytest.raises(FileFormatError, match=r"odd.csv: column 'Li' \(given for 'li'\) is not in the file"):
        read_events(f, columns={"li": "Li", "mn": "y"})
    with pytest.raises(ParameterError, match="columns must map"):
        read_events(f, columns={"lithium": "x"})


def test_zero_or_negative_mn_and_text_cells_are_named(tmp_path):
    f = _write(tmp_path / "z.csv", "Li,Mn\n1,5\n2,0\n")
    with pytest.raises(FileFormatError, match=r"z.csv: column 'Mn' row 2 is 0"):
        read_events(f)
    f = _write(tmp_path / "n.csv", "Li,Mn\n1,-5\n")
    with pytest.raises(FileFormatError, match=r"n.csv: column 'Mn' row 1 is -5"):
        read_events(f)
    f = _write(tmp_path / "t.csv", "Li,Mn\n1,5\nabc,6\n")
    with pytest.raises(FileFormatError, match=r"t.csv: column 'Li' row 2 holds 'abc'"):
        read_events(f)
    with pytest.raises(FileFormatError, match="no such file"):
        read_events(tmp_path / "missing.csv")
    with pytest.raises(FileFormatError, match="empty"):
        read_events(_write(tmp_path / "e.csv", ""))


def test_transient_time_units(tmp_path):
    f = _write(tmp_path / "tr.csv", "Time (ms),Li 670.776 (counts),Mn 257.611 (counts)\n0,1,2\n1,0,3\n2,5,90\n")
    df = read_transient(f)
    assert_allclose(df["time_s"], [0.0, 1e-3, 2e-3], rtol=1e-12)  # ms x 1e-3: round-off of the conversion
    assert_allclose(df["mn_counts"], [2, 3, 90], rtol=0)
    f = _write(tmp_path / "back.csv", "time,Li,Mn\n0,1,2\n2,1,2\n1,1,2\n")
    with pytest.raises(FileFormatError, match="does not increase at row 3"):
        read_transient(f)
    df = read_transient(_write(tmp_path / "nt.csv", "Li,Mn\n1,2\n3,4\n"))
    assert df.attrs["time_unit"] == "reading"


def test_calibration_file_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    dol = (1.0, 0.59, 0.19)
    cal, _ = calibrate_ratios([0.02 + 0.8 * d + rng.normal(0, 0.03, 500) for d in dol], dol,
                              sources=["a.csv", "b.csv", "c.csv"])
    path = write_calibration(cal.to_dict(), tmp_path / "cal.toml", provenance={"seed": 1})
    back = load_calibration(path)
    assert_allclose([back.intercept, back.slope], [cal.intercept, cal.slope], rtol=1e-15)  # repr round-trips floats
    assert_allclose(back.covariance, cal.covariance, rtol=1e-15)
    assert list(back.references.index) == ["a.csv", "b.csv", "c.csv"]
    with pytest.raises(ParameterError, match="already exists"):
        write_calibration(cal.to_dict(), path)
    with pytest.raises(FileFormatError, match="not a socscope SP-ICP-OES calibration"):
        load_calibration(_write(tmp_path / "x.toml", "a = 1\n"))
    with pytest.raises(FileFormatError, match="not readable"):
        load_calibration(_write(tmp_path / "y.toml", "a = [\n"))


@pytest.mark.parametrize("reader", [read_events, read_transient])
def test_a_missing_path_is_named(reader):
    # None where a path belongs: the reader's own error (it was a bare TypeError from pathlib)
    with pytest.raises(FileFormatError, match="path is needed"):
        reader(None)
