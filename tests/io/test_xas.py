"""NEXAFS spectrum readers: two-column text, beamline CSV and XDI, written here with known values."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.errors import FileFormatError
from socscope.io.xas import open_spectrum

E = np.linspace(840.0, 885.0, 91)
MU = 1.0 + 0.01 * (E - 840.0)


def test_two_column_text_with_comments(tmp_path):
    path = tmp_path / "ni.txt"
    lines = ["# Sample: NCM622", "# Mode: TEY"] + [f"{e:.3f}\t{m:.6f}" for e, m in zip(E[::-1], MU[::-1])]
    path.write_text("\n".join(lines) + "\n")
    ds = open_spectrum(path)
    assert list(ds.data_vars) == ["mu"]
    assert_allclose(ds.energy_eV.values, E, atol=5e-4)  # written with 3 decimals, sorted ascending
    assert_allclose(ds["mu"].values, MU, atol=5e-7)      # written with 6 decimals
    assert ds.attrs["metadata"]["Mode"] == "TEY"


def test_beamline_csv_divided_by_i0(tmp_path):
    path = tmp_path / "scan.csv"
    i0 = np.linspace(2.0, 3.0, E.size)
    np.savetxt(path, np.column_stack([E, MU * i0, 2 * MU * i0, i0]), delimiter=",",
               header="Energy [eV],TEY [a.u.],FY,I0", comments="")
    ds = open_spectrum(path, normalize_i0=True)
    assert sorted(ds.data_vars) == ["FY", "I0", "TEY"]
    assert_allclose(ds["TEY"].values, MU, rtol=1e-12)  # savetxt's 18 significant digits
    assert_allclose(ds["FY"].values, 2 * MU, rtol=1e-12)


def test_xdi(tmp_path):
    path = tmp_path / "ni.xdi"
    header = ["# XDI/1.0", "# Column.1: energy eV", "# Column.2: itey", "# Column.3: i0",
              "# Element.symbol: Ni", "# Element.edge: L3", "# ///", "# a comment", "#----", "# energy itey i0"]
    body = [f"{e:.4f} {m:.8f} 1.0" for e, m in zip(E, MU)]
    path.write_text("\n".join(header + body) + "\n")
    ds = open_spectrum(path)
    assert ds.attrs["format"] == "XDI" and ds.attrs["metadata"]["Element.edge"] == "L3"
    assert_allclose(ds["itey"].values, MU, atol=5e-9)  # 8 decimals written


@pytest.mark.parametrize("text, match", [
    ("no numbers here\nat all\n", r"bad\.txt: .*energ"),
    ("Energy,TEY\n850,1\n851,x\n852,1\n853,1\n854,1\n", r"bad\.txt: non-numeric"),
    ("Energy,TEY\n0.85,1\n0.851,1\n0.852,1\n0.853,1\n0.854,1\n", r"bad\.txt: energies .* in eV"),
])
def test_bad_spectra_name_the_file(tmp_path, text, match):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(FileFormatError, match=match):
        open_spectrum(path)
