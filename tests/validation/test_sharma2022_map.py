"""The map of Sharma et al.'s behaviour over pristine σ × NMC–NMC contact size (issue 21, item 5)."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.cli.main import main
from socscope.validation import sharma2022


def test_pristine_sigma_replaces_only_the_x0_point():
    # from the earlier table (x = 0 at 1.9e-6 S/cm), so that the replaced point differs
    base = ss.materials.get("nmc532-sharma2022", sigma="amin-chiang-figure")
    mat = sharma2022.pristine_sigma_material(base, 1e-7)
    # the table points: x = 0 replaced (1e-7 S/cm = 1e-5 S/m), x = 0.1–0.75 kept; PCHIP through the
    # points reproduces them to round-off of the log10 interpolation (rtol 1e-12)
    theta = np.array([1.0, 0.9, 0.7, 0.5, 0.25])
    assert_allclose(mat.sigma(theta), [1e-5, 2.8e-2, 9.9e-2, 0.15, 1.4], rtol=1e-12)
    assert_allclose(mat.sigma(theta[1:]), base.sigma(theta[1:]), rtol=1e-12)
    assert base.sigma(1.0) == pytest.approx(1.9e-4, rel=1e-12)  # a table node, as above
    # the shipped material is this table (1e-7 S/cm: the choice made on physical grounds)
    shipped = ss.materials.get("nmc532-sharma2022")
    th = np.linspace(0.0, 1.0, 501)
    assert_allclose(mat.sigma(th), shipped.sigma(th), rtol=1e-12)
    # everything else is the base material's
    th = np.linspace(0.3, 0.99, 7)
    assert np.array_equal(mat.U(th), base.U(th)) and np.array_equal(mat.D(th), base.D(th))
    with pytest.raises(ss.errors.ParameterError, match="sigma_x0_s_cm"):
        sharma2022.pristine_sigma_material(base, -1.0)


def test_the_verdict_names_what_differs_from_002():
    row = {"charge1_mAh_g": 193.0, "index_charge1": 3.0, "fraction_step_like_charge1": 0.8, "index_charge2": 0.01}
    assert sharma2022._map_verdict(row) == "as Sharma et al. (Nano Lett. 2022)"
    assert sharma2022._map_verdict({**row, "index_charge2": 1.5}) == "second charge asynchronous"
    assert sharma2022._map_verdict({**row, "fraction_step_like_charge1": 0.2}) == "first charge synchronous or gradual"
    assert sharma2022._map_verdict({**row, "charge1_mAh_g": 40.0}) == "first charge does not complete"


@pytest.mark.slow
def test_a_lower_pristine_sigma_makes_the_first_charge_step_like():
    """Two points of the map at quick settings: Amin & Chiang's figure value and their abstract's value."""
    table = sharma2022.sigma_contact_map(sigma_x0_s_cm=(1.9e-6, 1e-7), contact_fractions=(0.1,), quick=True)
    hi, lo = table.itertuples()
    # at 1.9e-6 S/cm the first charge is synchronous (full run: index 0.025); a pristine
    # σ twenty times lower leaves the carbon-wired column alone at first, and the others switch on
    # one after another: index > 1 with most particles step-like, the second charge synchronous
    assert hi.index_charge1 < 1.0 and lo.index_charge1 > 1.0
    assert lo.fraction_step_like_charge1 > hi.fraction_step_like_charge1
    assert lo.index_charge2 < 1.0 and hi.index_charge2 < 1.0
    assert set(table.columns) >= {"sigma_x0_S_cm", "contact_fraction", "verdict", "note"}


def test_map_is_refused_for_other_papers(capsys):
    assert main(["validate", "xu2022", "--map"]) == 2
    err = capsys.readouterr().err
    assert "--map is available for sharma2022" in err and err.count("\n") == 1


def test_map_writes_its_files_and_keeps_existing_ones(tmp_path, monkeypatch):
    fake = pd.DataFrame([{"sigma_x0_S_cm": s, "contact_fraction": c, "charge1_mAh_g": 193.0, "index_charge1": 2.0,
                          "fraction_step_like_charge1": 0.8, "median_width_charge1": 0.03, "index_charge2": 0.01,
                          "fraction_step_like_charge2": 0.0, "loss_first_cycle": 0.12, "note": "",
                          "verdict": "as Sharma et al. (Nano Lett. 2022)"} for s in (1.9e-6, 1e-7) for c in (0.1, 0.01)])
    monkeypatch.setattr(sharma2022, "sigma_contact_map", lambda **kw: fake)
    out = tmp_path / "map"
    assert main(["validate", "sharma2022", "--map", "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(sharma2022.MAP_FILES)
    back = pd.read_csv(out / "map.csv")
    assert len(back) == 4 and "(chosen)" in (out / "map.md").read_text()
    # an existing folder is not overwritten without --overwrite
    assert main(["validate", "sharma2022", "--map", "--out", str(out), "--quiet"]) == 2
    assert main(["validate", "sharma2022", "--map", "--out", str(out), "--quiet", "--overwrite"]) == 0
