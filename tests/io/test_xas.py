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


# -- energy units and monochromator angles -----------------------------------------------------------------------

def _xdi(path, column1, values, extra=()):
    header = ["# XDI/1.0", f"# Column.1: {column1}", "# Column.2: itey", *extra, "#----"]
    path.write_text("\n".join(header + [f"{v:.10g} {m:.8f}" for v, m in zip(values, MU)]) + "\n")
    return path


def test_energies_in_kev_are_converted(tmp_path):
    # a hard X-ray edge in keV (12.5–13 keV) lies above 10 and would pass for eV: the unit decides
    e_kev = np.linspace(12.5, 13.0, MU.size)
    ds = open_spectrum(_xdi(tmp_path / "se.xdi", "energy keV", e_kev))
    assert_allclose(ds.energy_eV.values, e_kev * 1e3, rtol=1e-9)  # written with 10 significant digits (≤ 5e-10)
    assert "keV" in ds.attrs["energy_from"]
    table = tmp_path / "se.csv"
    np.savetxt(table, np.column_stack([e_kev, MU]), delimiter=",", header="Energy (keV),TEY", comments="")
    assert_allclose(open_spectrum(table).energy_eV.values, e_kev * 1e3, rtol=1e-12)  # savetxt: 18 digits
    with pytest.raises(FileFormatError, match=r"energy column 'energy' is in 'J'; expected eV or keV"):
        open_spectrum(_xdi(tmp_path / "j.xdi", "energy J", E))


def test_a_monochromator_angle_is_converted_by_braggs_law(tmp_path):
    # Si(111), d = 3.13553 Å: 12.3° is 9280.7 eV (hc = 12398.42 eV Å); the angle falls as the energy rises
    angle = np.linspace(12.3, 11.0, MU.size)
    path = _xdi(tmp_path / "cu.xdi", "angle degrees", angle, ["# Mono.d_spacing: 3.13553"])
    ds = open_spectrum(path)
    expected = 12398.419843320026 / (2 * 3.13553 * np.sin(np.radians(angle)))
    # already ascending (the angle falls); angles written with 10 significant digits: ≤ 5e-10 × cot(11°)
    # ≈ 2.6e-9 in the energy
    assert_allclose(ds.energy_eV.values, expected, rtol=1e-8)
    assert_allclose(ds.energy_eV.values[0], 9280.7, atol=0.1)  # the hand value above
    assert_allclose(ds["itey"].values, MU, atol=5e-9)  # 8 decimals written
    with pytest.raises(FileFormatError, match=r"angle column 'angle' cannot be converted .*d-spacing"):
        open_spectrum(_xdi(tmp_path / "no_d.xdi", "angle degrees", angle))


def test_times_counters_and_angles_are_not_channels(tmp_path):
    # a beamline table with the counting time, a counter and the monochromator angle beside the detectors
    path = tmp_path / "scan.csv"
    np.savetxt(path, np.column_stack([E, MU, np.full(E.size, 0.5), np.arange(E.size), np.linspace(40, 39, E.size),
                                      2 * MU]), delimiter=",", header="Energy,TEY,time,counter,angle,FY", comments="")
    ds = open_spectrum(path)
    assert sorted(ds.data_vars) == ["FY", "TEY"]
    assert {"time", "counter", "angle"} <= set(ds.coords)  # kept, along the energy
    assert_allclose(ds["time"].values, 0.5, rtol=0)  # written exactly
    xdi = tmp_path / "fe.xdi"
    header = ["# XDI/1.0", "# Column.1: energy eV", "# Column.2: time", "# Column.3: i0", "# Column.4: mutrans",
              "#----"]
    xdi.write_text("\n".join(header + [f"{e:.4f} 1.0 2.0 {m:.8f}" for e, m in zip(E, MU)]) + "\n")
    assert sorted(open_spectrum(xdi).data_vars) == ["i0", "mutrans"]
    only = tmp_path / "only.csv"
    np.savetxt(only, np.column_stack([E, np.ones(E.size)]), delimiter=",", header="Energy,seconds", comments="")
    with pytest.raises(FileFormatError, match=r"only\.csv: no detector column; seconds hold"):
        open_spectrum(only)
