"""Sweep files are checked before any work starts, and errors name the file and the line."""

import numpy as np
import pytest
from many_runs import sweep_toml

from socscope.errors import FileFormatError
from socscope.sweep import load_sweep, parse_sweep

pytest.importorskip("zarr")

GOOD = sweep_toml(seed=7, axes={"c_rate": [0.5, 1, 2], "alpha": [1, 5], "radius_um": [0.5, 1]})


def _write(tmp_path, text):
    p = tmp_path / "sweep.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_file_gives_axes_points_and_settings(tmp_path):
    d = load_sweep(_write(tmp_path, GOOD))
    assert d.kind == "particle" and d.shape == (3, 2, 2) and d.n_points == 12
    # C order over the axes in file order: point 5 = c_rate[1], alpha[0], radius_um[1]
    p = d.point(5)
    assert (p["c_rate"], p["params"]["alpha"], p["radius_um"]) == (1, 1, 1.0)
    assert p["index"] == 5 and p["n_cells"] == 8 and p["initial_theta"] == 0.97


def test_point_seeds_are_derived_from_the_sweep_seed(tmp_path):
    d = load_sweep(_write(tmp_path, GOOD))
    seeds = {d.point(i)["seed"] for i in range(d.n_points)}
    # one draw shared by every point (common random numbers): only the settings differ between points
    expected = int(np.random.SeedSequence(7).generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert seeds == {expected}
    other = load_sweep(_write(tmp_path, GOOD.replace("seed = 7", "seed = 8")))
    assert other.point(0)["seed"] != expected  # the file alone decides


def _line_of(text, needle):
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("old, new, needle, says", [
    ("alpha = [1, 5]", "alpah = [1, 5]", "alpah", "alpah"),                          # unknown axis
    ("alpha = [1, 5]", "alpha = []", "alpha = []", "empty"),                         # empty axis
    ("c_rate = [0.5, 1, 2]", "c_rate = [0.5, -1, 2]", "c_rate = [0.5, -1", "outside its range"),
    ("radius_um = [0.5, 1]", "radius_um = [0.5, 1e9]", "radius_um = [0.5, 1e9]", "outside its range"),
    ("alpha = [1, 5]", "alpha = [1, -5]", "alpha = [1, -5]", "alpha"),               # the material refuses
    ("alpha = [1, 5]", "seed = [1, 2]", "seed = [1, 2]", "deterministic"),           # incompatible
    ("alpha = [1, 5]", "n_cells = [8, 16]", "n_cells = [8, 16]", "shape of the results"),
    ("alpha = [1, 5]", "eta = [0.1, 0.5]", "eta = [0.1", "blocked_arc_deg"),
    ('kinetics = "none"', 'kinetics = "fast"', 'kinetics = "fast"', "one of"),
    ('kinetics = "none"', 'kinetcs = "none"', "kinetcs", "unknown key"),
    ("for 10 minutes", "for 10 minuets", "protocol", "protocol"),
    ("{c_rate}C", "1C", "c_rate = [0.5", "{c_rate}"),                                 # axis unused
    ('material = "ni88-xu2022"', 'material = "ni99"', "material =", "unknown material"),
    ("samples = 12", "samples = 5", "samples = 5", "fewer than the 11 records"),     # 10 min, one a minute
])
def test_malformed_file_is_refused_naming_the_line(tmp_path, old, new, needle, says):
    text = GOOD.replace(old, new)
    assert text != GOOD
    p = _write(tmp_path, text)
    with pytest.raises(FileFormatError) as err:
        load_sweep(p)
    msg = str(err.value)
    assert "\n" not in msg and says in msg
    assert f"{p} line {_line_of(text, needle)}:" in msg


def test_toml_syntax_error_names_the_line(tmp_path):
    text = GOOD.replace("seed = 7", "seed = = 7")
    with pytest.raises(FileFormatError, match=r"sweep.toml line 2: not valid TOML"):
        load_sweep(_write(tmp_path, text))


def test_missing_tables_and_required_keys(tmp_path):
    with pytest.raises(FileFormatError, match=r"missing table \[axes\]"):
        load_sweep(_write(tmp_path, GOOD.split("[axes]")[0]))
    with pytest.raises(FileFormatError, match="needs radius_um"):
        load_sweep(_write(tmp_path, GOOD.replace("radius_um = 1.0\n", "").replace("radius_um = [0.5, 1]\n", "")))
    with pytest.raises(FileFormatError, match="no such sweep file"):
        load_sweep(tmp_path / "absent.toml")


def test_dict_definition_and_other_kinds():
    d = parse_sweep({"base": {"kind": "population", "material": "nmc532", "mean_radius_um": 1.0, "n_particles": 4,
                              "protocol": ["Charge at {c_rate}C for 5 minutes"]},
                     "axes": {"c_rate": [1, 2], "seed": [1, 2, 3]}})
    assert d.shape == (2, 3) and d.point(4)["seed"] == 2  # a seed axis gives the seed itself
    with pytest.raises(FileFormatError, match="contact_fraction"):
        parse_sweep({"base": {"kind": "electrode", "material": "nmc532", "protocol": ["Charge at 1C for 5 minutes"]},
                     "axes": {"contact_fraction": [0.1, 1.5]}})


# a material file beside the sweep file (materials.resolve decides name or file, the sweep names the line)
_DEMO_MATERIAL = """name = "demo"
c_max_mol_m3 = 49000.0
density_kg_m3 = 4780.0
capacity_mAh_g = 210.0
molar_mass_g_mol = 97.46
[functions]
theta = [0.0, 0.5, 1.0]
U_V = [4.3, 3.9, 3.5]
D_m2_s = [1e-15, 1e-16, 1e-18]
"""
_ON_FILE = GOOD.replace('material = "ni88-xu2022"', 'material = "demo.toml"')


def test_material_file_is_found_beside_the_sweep_file(tmp_path, monkeypatch):
    (tmp_path / "demo.toml").write_text(_DEMO_MATERIAL, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative to the sweep file, not to the working folder
    d = load_sweep(_write(tmp_path, _ON_FILE.replace("alpha = [1, 5]\n", "")))
    assert d.point(0)["material"] == str((tmp_path / "demo.toml").resolve())


@pytest.mark.parametrize("where, needle", [
    ("axes", "alpha = [1, 5]"),          # a material axis
    ("base.params", "alpha = 5"),        # a fixed material parameter
])
def test_material_parameters_with_a_file_name_the_line(tmp_path, where, needle):
    (tmp_path / "demo.toml").write_text(_DEMO_MATERIAL, encoding="utf-8")
    text = _ON_FILE if where == "axes" else (_ON_FILE.replace("alpha = [1, 5]\n", "")
                                             .replace("[axes]", "[base.params]\nalpha = 5\n\n[axes]"))
    p = _write(tmp_path, text)
    with pytest.raises(FileFormatError) as err:
        load_sweep(p)
    msg = str(err.value)
    assert "\n" not in msg and "apply to built-in materials" in msg and "demo.toml" in msg
    assert f"{p} line {_line_of(text, needle)}:" in msg


def test_unreadable_material_file_names_the_material_line(tmp_path):
    (tmp_path / "demo.toml").write_text("name = ", encoding="utf-8")
    text = _ON_FILE.replace("alpha = [1, 5]\n", "")
    p = _write(tmp_path, text)
    with pytest.raises(FileFormatError, match=r"not valid TOML") as err:
        load_sweep(p)
    assert f"{p} line {_line_of(text, 'material =')}:" in str(err.value)
