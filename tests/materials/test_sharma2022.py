"""The nmc532-sharma2022 material: D(θ) of Sharma et al. [002] Fig. 4c and the mapped Mohtat2020 OCP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope.materials as m
from socscope.errors import MaterialError

NAME = "nmc532-sharma2022"


@pytest.fixture(scope="module")
def mat():
    return m.get(NAME)


def _mohtat(s):
    """Mohtat2020 NMC532 OCP written out by hand (PyBaMM NMC_ocp_PeymanMPM)."""
    return (4.3452 - 1.6518 * s + 1.6225 * s**2 - 2.0843 * s**3 + 3.5146 * s**4 - 2.2166 * s**5
            - 0.5623e-4 * np.exp(109.451 * s - 100.006))


def test_registered_with_its_parameters(mat):
    assert NAME in m.available()
    assert dict(mat.parameters) == {"d_lithiated": 1e-17, "d_delithiated": 1e-14}
    assert mat.with_parameters(d_lithiated=1e-16).parameters["d_lithiated"] == 1e-16
    for prop in mat.properties.values():
        assert prop.source and prop.formula


def test_shares_scalars_ocp_and_kinetics_with_nmc532(mat):
    ref = m.get("nmc532")
    for attr in ("c_max", "density", "capacity", "molar_mass", "temperature"):
        assert getattr(mat, attr) == getattr(ref, attr), attr
    theta = np.linspace(0.0, 1.0, 1001)
    assert_allclose(mat.i0(theta), ref.i0(theta), rtol=0)  # the same functions
    assert_allclose(mat.U(theta), ref.U(theta), rtol=0)


def test_sigma_is_amin_chiang_with_the_abstracts_pristine_point(mat):
    x = np.array([0.0, 0.1, 0.3, 0.5, 0.75])
    # their table with x = 0 at 1e-7 S/cm (the abstract), the rest kept; in S/m. The log-PCHIP passes
    # through its nodes to round-off of log10/10** (rtol 1e-12)
    assert_allclose(mat.sigma(1.0 - x), np.array([1e-7, 2.8e-4, 9.9e-4, 1.5e-3, 1.4e-2]) * 100.0, rtol=1e-12)
    # several orders of magnitude between pristine and partially charged (Sharma et al.): 3.4 decades
    assert math.log10(mat.sigma(0.9) / mat.sigma(1.0)) == pytest.approx(math.log10(2.8e-4 / 1e-7), rel=1e-12)
    assert "1e-07 S/cm" in mat.sigma.source
    # the earlier table (Amin & Chiang's figure, 1.9e-6 S/cm) is a named alternative: nmc532's σ(θ)
    fig = m.get(NAME, sigma="amin-chiang-figure")
    theta = np.linspace(0.0, 1.0, 1001)
    assert_allclose(fig.sigma(theta), m.get("nmc532").sigma(theta), rtol=0)
    assert fig.sigma(1.0) == pytest.approx(1.9e-4, rel=1e-12)  # a table node: round-off of the log interpolation
    assert fig.name == "nmc532-sharma2022 (sigma=amin-chiang-figure)"
    # the two differ only where the x = 0 node reaches: the PCHIP slope at x = 0.1 uses the secant from
    # x = 0, so the intervals x < 0.1 and 0.1-0.3 change; from x = 0.3 (θ <= 0.7) on they are equal
    low = theta <= 0.7
    assert_allclose(mat.sigma(theta[low]), fig.sigma(theta[low]), rtol=1e-12)
    # the choice survives a change of the other parameters
    assert fig.with_parameters(d_lithiated=1e-16).sigma(1.0) == pytest.approx(1.9e-4, rel=1e-12)
    for prop in ("U", "D", "i0"):
        assert_allclose(fig.properties[prop](theta), mat.properties[prop](theta), rtol=0, err_msg=prop)


@pytest.mark.parametrize("sigma", ["amin-chiang", "", 1e-7])
def test_unknown_sigma_is_rejected(sigma):
    with pytest.raises(MaterialError, match="sigma = .*amin-chiang-abstract"):
        m.get(NAME, sigma=sigma)


@pytest.mark.parametrize("kwargs", [{"d_lithiated": -1.0}, {"d_lithiated": 0.0}, {"d_delithiated": math.nan},
                                    {"d_lithiated": 1e-13}])
def test_invalid_diffusivities_are_rejected(kwargs):
    with pytest.raises(MaterialError) as info:
        m.get(NAME, **kwargs)
    assert next(iter(kwargs)) in str(info.value)


def test_ocp_is_mohtat2020_on_the_mapped_stoichiometry(mat):
    k = mat.c_max / 35380.0
    s = np.linspace(0.0, 1.0, 201)
    theta = 1.0 - (1.0 - s) / k
    # same Li per volume, full lithiation in common: U(θ) = U_Mohtat(s); only round-off differs
    assert_allclose(mat.U(theta), _mohtat(s), rtol=0, atol=1e-12)
    assert mat.U.valid_range == pytest.approx((1.0 - 1.0 / k, 1.0), abs=1e-15)


def test_ocp_window_matches_the_paper(mat):
    q = mat.theoretical_capacity / 3600.0  # 277.6 mAh/g
    theta = np.linspace(0.0, 1.0, 200001)
    u = mat.U(theta)
    assert np.all(np.isfinite(u)) and np.all(np.diff(u) < 0)
    assert np.all(mat.dU_dtheta(theta) < 0)
    t43 = float(np.interp(-4.3, -u, theta))
    # [002]: 4.3-2.5 V; the Mohtat2020 cell window (s 0.028-0.891) maps to θ 0.294-0.921
    assert t43 == pytest.approx(0.2936, abs=1e-3)
    assert 160.0 < (0.9208 - t43) * q < 180.0  # 174 mAh/g between 4.3 V and the discharged cell
    assert (0.99 - t43) * q == pytest.approx(193.3, abs=0.5)  # first charge from θ = 0.99
    assert 2.5 < mat.U(1.0) < 3.0  # the steep fall at full lithiation ends at 2.82 V
    assert mat.U(0.0) < 6.0


def test_diffusivity_shape_of_fig_4c(mat):
    theta = np.linspace(0.0, 1.0, 10001)
    d = mat.D(theta)
    assert np.all(np.isfinite(d)) and np.all(d > 0)
    assert np.all(np.diff(d) <= 0)  # low at x ~ 1, rising as charging proceeds
    # the whole step lies inside x = 1.0-0.8: both ends within 5 % of their end values
    assert 1e-17 < mat.D(1.0) < 1.05e-17
    assert 0.95e-14 < mat.D(0.8) < 1e-14
    assert mat.D(0.5) / mat.D(1.0) > 100  # "orders of magnitude lower in the fully lithiated state"
    assert mat.D(0.9) == pytest.approx(math.sqrt(1e-17 * 1e-14), rel=1e-12)  # geometric midpoint at 0.9
    flat = mat.with_parameters(d_lithiated=1e-14)
    assert_allclose(flat.D(theta), 1e-14, rtol=1e-12)  # the control without a low-D region


def test_analytic_derivatives_match_finite_differences(mat):
    theta = np.concatenate([np.linspace(0.01, 0.99, 197), [0.27, 0.28, 0.88, 0.9, 0.92]])
    h = 1e-4
    for slot in ("U", "D"):
        prop = mat.properties[slot]
        fd = (-prop(theta + 2 * h) + 8 * prop(theta + h) - 8 * prop(theta - h) + prop(theta - 2 * h)) / (12 * h)
        exact = prop.derivative(theta)
        # 5-point stencil: truncation ~h^4 f^(5); the D step (width 0.02) and the steep
        # OCP end term (scale 1/150 in θ) keep it below 1e-5 relative
        assert_allclose(exact, fd, rtol=1e-5, atol=1e-9 * np.max(np.abs(exact)), err_msg=slot)


def test_file_round_trip(tmp_path, mat):
    back = m.load(m.save(mat, tmp_path / "sharma.toml"))
    theta = np.concatenate([np.linspace(0.0, 1.0, 20001), 1.0 - np.geomspace(1e-7, 1e-2, 300)])
    for slot, prop in mat.properties.items():
        # promised reload accuracy of tabulated files: 1e-3 relative
        assert_allclose(back.properties[slot](theta), prop(theta), rtol=1e-3, err_msg=slot)
    assert dict(back.parameters) == dict(mat.parameters)
