"""socscope.materials.resolve: one rule for "a built-in name or a material file" (command line and sweeps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope.materials as m
from socscope.errors import MaterialError

DEMO = """name = "demo"
c_max_mol_m3 = 49000.0
density_kg_m3 = 4780.0
capacity_mAh_g = 210.0
molar_mass_g_mol = 97.46
[functions]
theta = [0.2, 0.5, 1.0]
U_V = [4.3, 3.9, 3.5]
D_m2_s = [1e-15, 1e-16, 1e-18]
"""


def _demo(path: Path) -> Path:
    path.write_text(DEMO, encoding="utf-8")
    return path


def test_builtin_name_gives_the_registry_material():
    mat = m.resolve("nmc532")
    assert mat.name == "nmc532" and mat.parameters == {}
    # names are read as get() reads them: case and _/- are not significant
    assert m.resolve("NMC811_chen2020").name == "nmc811-chen2020"


def test_builtin_parameters_reach_the_material():
    default = m.resolve("ni88-xu2022")
    scaled = m.resolve("ni88-xu2022", alpha=5.0)
    assert scaled.parameters["alpha"] == 5.0 and default.parameters["alpha"] == 2.7
    theta = np.array([0.3, 0.6, 0.9])
    # D_app = alpha * D_GITT: the ratio is alpha'/alpha up to round-off of one product
    assert_allclose(scaled.D(theta) / default.D(theta), 5.0 / 2.7, rtol=1e-12)


@pytest.mark.parametrize("as_path", [False, True])
def test_toml_file_is_loaded(tmp_path, as_path):
    path = _demo(tmp_path / "demo.toml")
    mat = m.resolve(path if as_path else str(path))
    assert mat.name == "demo"
    # the table's nodes come back through the log-PCHIP interpolant (round-off of log10/10**)
    assert_allclose(mat.D(np.array([0.2, 0.5, 1.0])), [1e-15, 1e-16, 1e-18], rtol=1e-12)


def test_existing_file_without_suffix_is_a_file_not_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _demo(tmp_path / "mine")
    assert m.is_material_file("mine") and not m.is_material_file("absent")
    # read as a file: load() names the file and the suffixes it reads (not "unknown material")
    with pytest.raises(MaterialError, match=r"mine: material files are \.toml .* or \.csv"):
        m.resolve("mine")
    with pytest.raises(MaterialError, match="unknown material 'absent'"):
        m.resolve("absent")


def test_suffix_marks_a_file_before_it_exists(tmp_path):
    assert m.is_material_file("x.TOML") and m.is_material_file("x.csv") and not m.is_material_file("nmc532")
    missing = tmp_path / "missing.toml"
    with pytest.raises(MaterialError, match=f"material file {missing} does not exist"):
        m.resolve(str(missing))


@pytest.mark.parametrize("exists", [True, False])
def test_parameters_with_a_file_are_refused_in_one_line(tmp_path, exists):
    path = tmp_path / "demo.toml"
    if exists:
        _demo(path)
    with pytest.raises(MaterialError) as err:
        m.resolve(str(path), alpha=5.0)
    msg = str(err.value)
    assert "\n" not in msg
    assert "alpha" in msg and str(path) in msg and "edit the file" in msg and "ni88-xu2022" in msg


def test_unknown_name_keeps_the_registry_message():
    with pytest.raises(MaterialError) as err:
        m.resolve("ni88-xu2021")
    msg = str(err.value)
    assert msg.startswith("unknown material 'ni88-xu2021'. Did you mean 'ni88-xu2022'?")
    assert all(name in msg for name in m.available()) and "socscope.materials.load(path)" in msg
    with pytest.raises(MaterialError, match="material 'nmc532' has no parameter"):
        m.resolve("nmc532", alpha=2.0)
