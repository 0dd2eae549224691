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


def test_shares_scalars_ocp_kinetics_and_conductivity_with_nmc532(mat):
    ref = m.get("nmc532")
    for attr in ("c_max", "density", "capacity", "molar_mass", "temperature"):
        assert getattr(mat, attr) == getattr(ref, attr), attr
    theta = np.linspace(0.0, 1.0, 1001)
    assert_allclose(mat.i0(theta), ref.i0(theta), rtol=0)  # the same functions
    assert_allclose(mat.sigma(theta), ref.sigma(theta), rtol=0)
    assert_allclose(mat.U(theta), ref.U(theta), rtol=0)


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
