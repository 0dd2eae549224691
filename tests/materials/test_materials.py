"""Tests of socscope.materials: registry, shipped materials, Property/Material, files.

Real data: the measured LG M50 NMC811 OCP of Chen et al., J. Electrochem. Soc.
167, 080534 (2020), from PyBaMM (BSD-3-Clause), read from ../shared/data
beside the checkout when present.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
from scipy.optimize import brentq
import pytest
from numpy.testing import assert_allclose

import socscope.materials as m
from socscope.errors import MaterialError, ParameterError
from socscope.materials._constants import F

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CHEN_CSV = SHARED_DATA / "materials" / "nmc811_ocp_Chen2020_measured.csv"
REGISTRY = ["ni88-xu2022", "nmc532", "nmc811-chen2020"]


def _need_shared(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"shared data file {path} is absent (../shared/data beside the checkout)")


def _fd5(func, x, h=1e-4):
    """Fourth-order central difference (5-point stencil)."""
    return (-func(x + 2 * h) + 8 * func(x + h) - 8 * func(x - h) + func(x - 2 * h)) / (12 * h)


# ------------------------------------------------------------------ registry
def test_available_lists_required_materials_sorted():
    names = m.available()
    assert names == sorted(names)
    for name in REGISTRY:
        assert name in names


def test_unknown_name_lists_available_materials():
    with pytest.raises(MaterialError) as info:
        m.get("nmc999")
    msg = str(info.value)
    assert "nmc999" in msg
    for name in m.available():
        assert name in msg
    assert isinstance(info.value, ParameterError) and isinstance(info.value, ValueError)


def test_unknown_name_suggests_the_nearest():
    with pytest.raises(MaterialError, match="ni88-xu2022"):
        m.get("ni88-xu2021")


def test_unknown_parameter_lists_accepted_ones():
    with pytest.raises(MaterialError) as info:
        m.get("ni88-xu2022", beta=1.0)
    assert "beta" in str(info.value) and "alpha" in str(info.value)
    with pytest.raises(MaterialError, match="accepted parameters: none"):
        m.get("nmc532", alpha=2.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, "x"])
def test_invalid_alpha_is_rejected(bad):
    with pytest.raises(MaterialError, match="alpha"):
        m.get("ni88-xu2022", alpha=bad)


def test_with_parameters_rejects_unknown_names():
    with pytest.raises(MaterialError, match="accepted parameters: none"):
        m.get("nmc532").with_parameters(alpha=2.0)
    with pytest.raises(MaterialError, match="alpha"):
        m.get("ni88-xu2022").with_parameters(alpha=-1.0)


def test_parameters_are_recorded_and_frozen():
    mat = m.get("ni88-xu2022")
    assert dict(mat.parameters) == {"alpha": 2.7}
    with pytest.raises(TypeError):
        mat.parameters["alpha"] = 1.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError, match="c_max"):
        mat.c_max = 1.0  # type: ignore[misc]


# ------------------------------------------------------------ ni88-xu2022
def _table(filename):
    """Two numeric columns of a shipped data file, read here independently of the library."""
    from importlib import resources

    rows = []
    for line in resources.files("socscope.materials").joinpath("data", filename).read_text().splitlines():
        parts = line.strip().split(",")
        try:
            rows.append((float(parts[0]), float(parts[1])))
        except (ValueError, IndexError):
            continue  # comments and the header row
    return np.array(rows).T


@pytest.mark.parametrize("shape", m.NI88_DIFFUSIVITIES)
def test_ni88_diffusivity_level_near_full_lithiation(shape):
    # [004]: D_app ~ 1e-14 cm2/s = 1e-18 m2/s near full lithiation (alpha = 2.7); every shape is
    # given that level at θ = 0.98 (a product and a quotient: round-off only)
    mat = m.get("ni88-xu2022", diffusivity=shape)
    assert_allclose(mat.D(0.98), 1e-18, rtol=1e-12)


def test_ni88_default_diffusivity_follows_the_measured_nmc811_shape():
    mat = m.get("ni88-xu2022")
    y, d = _table("nmc811_diffusivity_KaranthWeijers2024_fit.csv")
    # at table nodes the PCHIP of log10 D passes through the rows: ratios equal to round-off
    for a, b in ((0.8, 0.98), (0.6, 0.98), (0.9, 0.95)):
        expected = d[np.argmin(abs(y - a))] / d[np.argmin(abs(y - b))]
        assert_allclose(mat.D(a) / mat.D(b), expected, rtol=1e-9)
    # [004]'s trend: about two orders of magnitude between 80 % and 98 % lithiated (the fit: 340x)
    assert 100.0 <= mat.D(0.8) / mat.D(0.98) <= 1000.0
    # slower towards full lithiation, from the end of the fit's wiggle at y = 0.60-0.65 (a rise of 2 %)
    theta = np.linspace(0.65, 1.0, 2001)
    assert np.all(np.diff(mat.D(theta)) < 0.0)


def test_ni88_logistic_alternative_keeps_the_earlier_form():
    mat = m.get("ni88-xu2022", diffusivity="logistic-xu2022")
    form = lambda t: 10 ** (2 / (1 + math.exp((t - 0.87) / 0.03)))
    # the earlier formula, scaled to 1e-18 m2/s at 0.98: round-off only
    assert_allclose(mat.D(0.5), 1e-18 * form(0.5) / form(0.98), rtol=1e-12)
    # [004]: "increases by almost two orders of magnitude upon removal of 20% of the lithium"
    assert 50.0 <= mat.D(0.77) / mat.D(0.99) <= 150.0
    with pytest.raises(MaterialError, match="diffusivity = 'steep' is not one of"):
        m.get("ni88-xu2022", diffusivity="steep")


def test_ni88_default_ocp_is_the_measured_nmc811_curve_on_x():
    mat = m.get("ni88-xu2022")
    x, u = _table("nmc811_ocp_Zhuo2023_measured.csv")
    # θ is x in Li_xMO2 (c_max = density/M): no mapping, the table's points exactly
    idx = np.linspace(0, x.size - 1, 25).astype(int)
    assert_allclose(mat.U(x[idx]), u[idx], rtol=1e-12)
    # the 3.0-4.3 V window of [003]/[004] lies inside the measured range
    assert mat.U(x[0]) == pytest.approx(4.30, abs=0.001) and mat.U(1.0) == pytest.approx(3.02, abs=0.01)
    # the mapped Chen2020 alternative puts 4.3 V near θ = 0.1 (most of the Li out): the reason it is
    # not the default (docs/validation.md)
    mapped = m.get("ni88-xu2022", ocp="chen2020-mapped")
    assert mapped.U(0.2) < 4.2


def test_alpha_scales_diffusivity_linearly():
    theta = np.linspace(0.0, 1.0, 101)
    base = m.get("ni88-xu2022", alpha=2.7).D(theta)
    for alpha in (1.0, 5.0, 13.5):
        scaled = m.get("ni88-xu2022").with_parameters(alpha=alpha).D(theta)
        # D is linear in alpha; only floating-point round-off differs
        assert_allclose(scaled, base * alpha / 2.7, rtol=1e-13)


def test_ni88_scalars():
    mat = m.get("ni88-xu2022")
    # IUPAC atomic weights: Li 6.94, Ni 58.6934, Mn 54.938043, Co 58.933194, O 15.999
    m_expected = (6.94 + 0.88 * 58.6934 + 0.05 * 54.938043 + 0.07 * 58.933194 + 2 * 15.999) / 1000
    assert_allclose(mat.molar_mass, m_expected, rtol=1e-14)  # same sum, round-off only
    assert mat.density == 4780.0
    assert mat.capacity == 210.0 * 3600.0  # 210 mAh/g = 756000 C/kg exactly
    assert mat.capacity_mAh_g == pytest.approx(210.0, rel=1e-15)
    assert_allclose(mat.c_max, 4780.0 / m_expected, rtol=1e-14)
    assert 4.8e4 < mat.c_max < 5.0e4
    # theoretical capacity of the formula unit F/M: 275 mAh/g (4 digits quoted)
    assert_allclose(mat.theoretical_capacity / 3600.0, 275.0, rtol=1e-3)


def test_ni88_exchange_current_density():
    mat = m.get("ni88-xu2022")
    k = 3.42e-6 * math.sqrt(1000.0) / F
    # sqrt(θ(1-θ) + 1e-6) regularisation changes i0(0.5) by 2e-6 relative
    assert_allclose(mat.i0(0.5), F * k * mat.c_max * 0.5, rtol=1e-5)
    assert 1.0 <= mat.i0(0.5) <= 10.0  # O(1) A/m2 mid-range
    assert mat.i0(0.99) < 0.25 * mat.i0(0.5)  # slow charge transfer near full lithiation
    assert mat.i0(0.0) > 0.0 and mat.i0(1.0) > 0.0  # regularised, never zero


# --------------------------------------------------------------------- U(θ)
@pytest.mark.parametrize("name", REGISTRY)
def test_ocp_strictly_decreasing_and_finite(name):
    mat = m.get(name)
    theta = np.linspace(1e-4, 1 - 1e-4, 200001)
    u = mat.U(theta)
    assert np.all(np.isfinite(u))
    assert np.all(np.diff(u) < 0.0)
    assert np.all(mat.dU_dtheta(theta) < 0.0)
    edges = mat.U(np.array([0.0, 1e-6, 1 - 1e-6, 1.0]))
    assert np.all(np.isfinite(edges))


@pytest.mark.parametrize("name, kw", [("ni88-xu2022", {"ocp": "chen2020"}), ("nmc811-chen2020", {})])
def test_chen2020_ocp_extension(name, kw):
    mat = m.get(name, **kw)
    lo, hi = mat.U.valid_range
    assert mat.U(0.0) > mat.U(lo)  # rises towards θ -> 0
    assert mat.U(0.999) < 3.0  # falls below 3.0 V near full lithiation
    assert mat.U(0.95) > 3.4  # ... but only in the last few per cent
    assert mat.U(1.0) > 2.0  # and stays finite


def test_chen2020_ocp_matches_measured_points():
    _need_shared(CHEN_CSV)
    data = np.loadtxt(CHEN_CSV, delimiter=",", comments="#")
    # rows 2..n-1 are the measurements; the first and last rows are end points
    # PyBaMM added "to avoid extrapolation" (see the file's comments)
    theta, ocp = data[1:-1, 0], data[1:-1, 1]
    fit = m.get("nmc811-chen2020").U(theta)
    resid = fit - ocp
    # the data scatter by ~1-2 mV point to point; a smooth curve through them
    # should stay within 3 mV RMS and 10 mV everywhere
    assert np.sqrt(np.mean(resid**2)) < 3e-3
    assert np.max(np.abs(resid)) < 10e-3


def test_shipped_ocp_file_is_the_shared_file():
    _need_shared(CHEN_CSV)
    shipped = Path(m.__file__).parent / "data" / CHEN_CSV.name
    assert shipped.read_bytes() == CHEN_CSV.read_bytes()


def test_chen2020_ocp_data_drops_added_end_points():
    theta, ocp = m.chen2020_ocp_data()
    assert theta.size == 236
    assert_allclose(theta[[0, -1]], [0.266145163492257, 0.905926128940627], rtol=0)
    full_theta, _ = m.chen2020_ocp_data(measured_only=False)
    assert full_theta.size == 238 and full_theta[-1] == 1.0


def test_nmc532_ocp_is_mohtat2020_on_the_mapped_stoichiometry():
    mat = m.get("nmc532")
    k = mat.c_max / 35380.0
    # hand evaluation of the Mohtat2020 polynomial at s = 0.5 (the exp term is 1e-24 V)
    expected = 4.3452 - 0.8259 + 0.405625 - 0.2605375 + 0.2196625 - 0.06926875
    assert_allclose(mat.U(1.0 - 0.5 / k), expected, rtol=0, atol=1e-12)


def test_nmc532_charges_a_practical_capacity_below_4p3_volts():
    mat = m.get("nmc532")
    theta = brentq(lambda t: float(mat.U(t)) - 4.3, 0.1, 0.9)
    # the Mohtat2020 window's 4.30 V point (s = 0.028) lands at θ = 0.294 (measured
    # 0.29362; 5e-4 is the rounding of the quoted value), so a pristine particle gives
    # F/M·(1 − θ) = 196.1 mAh/g up to 4.3 V, inside the 170–200 mAh/g NMC532 charges to
    # 4.3 V; read as s = θ it would be ~270 mAh/g, far outside
    assert_allclose(theta, 0.294, atol=5e-4)
    assert 170.0 < 277.6 * (1.0 - theta) < 200.0


# ------------------------------------------------------------- derivatives
@pytest.mark.parametrize("name", REGISTRY)
def test_analytic_derivatives_match_finite_differences(name):
    mat = m.get(name)
    theta = np.concatenate([np.linspace(0.01, 0.99, 197), [0.2, 0.25, 0.5, 0.77, 0.87, 0.9]])
    sigma_nodes = np.array([0.25, 0.5, 0.7, 0.9, 1.0])
    for slot, prop in mat.properties.items():
        th = theta
        if slot == "sigma" and name != "nmc811-chen2020":
            # the Amin & Chiang table is a piecewise cubic: its second derivative
            # jumps at the nodes, so a stencil straddling a node is not accurate
            th = theta[np.min(np.abs(theta[:, None] - sigma_nodes), axis=1) > 1e-3]
        if slot == "D" and name == "ni88-xu2022":
            # the same for the PCHIP of the tabulated NMC811 D(y) (nodes every 0.01 and at its ends)
            nodes = _table("nmc811_diffusivity_KaranthWeijers2024_fit.csv")[0]
            th = theta[np.min(np.abs(theta[:, None] - nodes), axis=1) > 1e-3]
        exact = prop.derivative(th)
        approx = _fd5(prop, th)
        # 5-point stencil, h=1e-4: truncation ~h^4 f^(5) < 1e-6 relative for
        # these widths (>= 0.02); its round-off is ~eps |f| / h = 2e-12 |f|,
        # which the atol covers where the derivative is 0 (constants)
        atol = max(1e-9 * np.max(np.abs(exact)), 1e-10 * np.max(np.abs(prop(th))))
        assert_allclose(exact, approx, rtol=1e-6, atol=atol, err_msg=f"{name}.{slot}")


def test_derivative_without_analytic_form_uses_central_difference():
    prop = m.Property("D", "m2/s", lambda th: 1e-15 * np.exp(np.sin(3 * th)), source="test")
    theta = np.linspace(0.0, 1.0, 51)
    exact = 1e-15 * np.exp(np.sin(3 * theta)) * 3 * np.cos(3 * theta)
    interior = (theta > 1e-6) & (theta < 1 - 1e-6)
    # central difference with h = 1e-6: truncation ~h^2 = 1e-12, round-off ~1e-10
    assert_allclose(prop.derivative(theta[interior]), exact[interior], rtol=1e-6, atol=1e-21)
    # one-sided at the ends: first order, error ~h*f'' ~ 1e-5 relative
    assert_allclose(prop.derivative(np.array([0.0, 1.0])), exact[[0, -1]], rtol=1e-4)


def test_dU_dtheta_requires_U():
    base = m.get("nmc532")
    mat = m.Material(
        name="no-ocp", description="", source="", c_max=base.c_max, density=base.density,
        capacity=base.capacity, molar_mass=base.molar_mass, U=None, D=base.D, i0=None, sigma=None,
    )
    with pytest.raises(MaterialError) as info:
        mat.dU_dtheta(0.5)
    msg = str(info.value)
    assert "no-ocp" in msg and "U_V" in msg


# ------------------------------------------------------------------- NMC532
def test_nmc532_sigma_reproduces_amin_chiang_points():
    sigma = m.get("nmc532").sigma
    x = np.array([0.0, 0.1, 0.3, 0.5, 0.75])
    s_cm = np.array([1.9e-6, 2.8e-4, 9.9e-4, 1.5e-3, 1.4e-2])
    # interpolation passes through the nodes: round-off of log10/10** only
    assert_allclose(sigma(1.0 - x), s_cm * 100.0, rtol=1e-6)
    assert sigma(0.0) == pytest.approx(1.4, rel=1e-12)  # constant below θ = 0.25
    assert np.all(np.diff(sigma(np.linspace(0.25, 1.0, 301))) < 0)  # monotone like the data
    # C1 where the constant extension joins (zero end slope of the log-PCHIP)
    assert abs(sigma.derivative(0.25 + 1e-9)) < 1e-6 * abs(sigma.derivative(0.3))


def test_nmc532_scalars_and_kinetics():
    mat = m.get("nmc532")
    # [000]: theoretical 278 mAh/g (3 digits) -> F/M of LiNi0.5Mn0.3Co0.2O2
    assert_allclose(mat.theoretical_capacity / 3600.0, 278.0, rtol=2e-3)
    assert mat.capacity_mAh_g == pytest.approx(160.0, rel=1e-15)
    assert mat.D(0.3) == 8e-15
    # PyBaMM Mohtat2020: m_ref sqrt(c_e) sqrt(c_s (c_max - c_s)), c_max 35380;
    # the sqrt(θ(1-θ) + 1e-6) regularisation is < 1e-4 relative at these θ
    for theta in (0.1, 0.5, 0.9):
        cs = theta * 35380.0
        assert_allclose(mat.i0(theta), 4.824e-6 * math.sqrt(1000) * math.sqrt(cs * (35380 - cs)), rtol=1e-4)


# --------------------------------------------------------- nmc811-chen2020
def test_nmc811_chen2020_parameters():
    mat = m.get("nmc811-chen2020")
    assert mat.c_max == 63104.0
    assert mat.density == 3262.0
    assert_allclose(mat.D(np.linspace(0, 1, 11)), 4e-15, rtol=0)
    assert_allclose(mat.sigma(np.linspace(0, 1, 11)), 0.18, rtol=0)
    for theta in (0.3, 0.5, 0.9):
        cs = theta * 63104.0
        # PyBaMM Chen2020 i0; the regularisation is < 1e-4 relative here
        assert_allclose(mat.i0(theta), 3.42e-6 * math.sqrt(1000) * math.sqrt(cs * (63104 - cs)), rtol=1e-4)
    # capacity basis: PyBaMM's nominal 5 A h over the positive active volume
    volume = 0.065 * 1.58 * 7.56e-5 * 0.665
    assert_allclose(mat.capacity * mat.density, 5.0 * 3600 / volume, rtol=1e-12)


# ------------------------------------------------------- Property behaviour
def test_property_scalar_and_array_shapes():
    mat = m.get("ni88-xu2022")
    for prop in mat.properties.values():
        assert isinstance(prop(0.5), float)
        assert isinstance(prop(np.float64(0.5)), float)
        grid = np.full((3, 4), 0.5)
        out = prop(grid)
        assert isinstance(out, np.ndarray) and out.shape == (3, 4) and out.dtype == np.float64
        assert prop([0.2, 0.4]).shape == (2,)
        assert isinstance(prop.derivative(0.5), float)


@pytest.mark.parametrize("slot", ["U", "D", "i0", "sigma"])
def test_property_rejects_nan(slot):
    prop = getattr(m.get("ni88-xu2022"), slot)
    with pytest.raises(MaterialError) as info:
        prop(np.array([0.5, np.nan]))
    msg = str(info.value)
    assert f"{slot}(θ)" in msg and "nan" in msg
    with pytest.raises(MaterialError, match="nan"):
        prop.derivative(math.nan)


@pytest.mark.parametrize("name", REGISTRY)
def test_properties_defined_on_unit_interval(name):
    theta = np.linspace(0.0, 1.0, 10001)
    for slot, prop in m.get(name).properties.items():
        values = prop(theta)
        assert np.all(np.isfinite(values)), slot
        if slot != "U":
            assert np.all(values > 0), slot
        lo, hi = prop.valid_range
        assert 0.0 <= lo < hi <= 1.0
        assert prop.source


# ------------------------------------------------------- Material validation
def _ni88_kwargs(**over):
    base = m.get("ni88-xu2022")
    kw = dict(
        name="x", description="", source="", c_max=base.c_max, density=base.density,
        capacity=base.capacity, molar_mass=base.molar_mass, U=base.U, D=base.D, i0=base.i0,
        sigma=base.sigma,
    )
    kw.update(over)
    return kw


@pytest.mark.parametrize("field", ["c_max", "density", "capacity", "molar_mass", "temperature"])
@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf, None])
def test_invalid_scalars_are_rejected(field, value):
    with pytest.raises(MaterialError) as info:
        m.Material(**_ni88_kwargs(**{field: value}))
    msg = str(info.value)
    assert field in msg and "> 0" in msg and repr(value) in msg


def test_capacity_above_theoretical_is_rejected():
    with pytest.raises(MaterialError, match="theoretical"):
        m.Material(**_ni88_kwargs(capacity=210.0 * 3600 * 1000))  # mAh/kg mistaken for C/kg


def test_property_in_wrong_slot_is_rejected():
    base = m.get("ni88-xu2022")
    with pytest.raises(MaterialError, match="the D slot holds a property named 'i0'"):
        m.Material(**_ni88_kwargs(D=base.i0))
    with pytest.raises(MaterialError, match="required"):
        m.Material(**_ni88_kwargs(D=None))


def test_to_attrs_is_flat_and_netcdf_safe(tmp_path):
    attrs = m.get("ni88-xu2022").to_attrs()
    assert all(isinstance(v, (str, float, int)) and not isinstance(v, bool) for v in attrs.values())
    assert attrs["material_c_max_mol_m3"] == m.get("ni88-xu2022").c_max
    # 756 000 C/kg converted back to mAh/g: one rounding at most (measured 0)
    assert attrs["material_capacity_mAh_g"] == pytest.approx(210.0, rel=1e-15)
    assert attrs["material_parameter_alpha"] == 2.7
    for slot in ("U", "D", "i0", "sigma"):
        assert attrs[f"material_{slot}_source"]
        assert attrs[f"material_{slot}_valid_range"].startswith("[")
    xr = pytest.importorskip("xarray")
    pytest.importorskip("scipy.io")
    path = tmp_path / "attrs.nc"
    xr.Dataset(attrs=attrs).to_netcdf(path, engine="scipy")
    with xr.open_dataset(path, engine="scipy") as back:
        assert back.attrs["material_name"] == "ni88-xu2022"
        assert back.attrs["material_U_source"] == attrs["material_U_source"]


def test_repr_is_readable():
    text = repr(m.get("ni88-xu2022"))
    assert "ni88-xu2022" in text and "210 mAh/g" in text and "alpha=2.7" in text


def test_with_parameters_needs_a_factory(tmp_path):
    loaded = m.load(m.save(m.get("ni88-xu2022"), tmp_path / "n.toml"))
    assert loaded.parameters["alpha"] == 2.7
    with pytest.raises(MaterialError, match="no factory"):
        loaded.with_parameters(alpha=3.0)


# -------------------------------------------------------------------- files
SCALARS = """name = "demo"
description = "demo material"
source = "test data"
c_max_mol_m3 = 49000.0
density_kg_m3 = 4780.0
capacity_mAh_g = 210.0
molar_mass_g_mol = 97.46
"""
CSV_TABLE = """# demo table
theta,U_V,D_m2_s,i0_A_m2,sigma_S_m
0.2,4.3,1e-15,1.0,1.0
0.5,3.9,1e-16,2.0,0.1
1.0,3.5,1e-18,0.5,1e-4
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_toml_inline(tmp_path):
    path = _write(
        tmp_path / "demo.toml",
        SCALARS
        + "temperature_K = 300.0\n[functions]\ntheta = [0.2, 0.5, 1.0]\nU_V = [4.3, 3.9, 3.5]\n"
        "D_m2_s = [1e-15, 1e-16, 1e-18]\n[sources]\nU_V = \"my OCV\"\n",
    )
    mat = m.load(path)
    assert mat.name == "demo" and mat.temperature == 300.0
    assert mat.capacity == 210.0 * 3600 and mat.molar_mass == 97.46 / 1000
    # interpolants pass through the nodes (round-off of log10/10** for D)
    assert_allclose(mat.U(np.array([0.2, 0.5, 1.0])), [4.3, 3.9, 3.5], rtol=1e-14)
    assert_allclose(mat.D(np.array([0.2, 0.5, 1.0])), [1e-15, 1e-16, 1e-18], rtol=1e-12)
    assert mat.U.valid_range == (0.2, 1.0) and mat.D.valid_range == (0.2, 1.0)
    assert mat.U.source == "my OCV" and "demo.toml" in mat.D.source
    assert mat.i0 is None and mat.sigma is None
    # extension: D constant, U linear with a negative slope below the table
    assert mat.D(0.0) == pytest.approx(1e-15, rel=1e-12)
    assert mat.U(0.0) > 4.3 and mat.dU_dtheta(0.0) < 0
    # log-PCHIP keeps D between its neighbours (monotone data)
    d = mat.D(np.linspace(0.2, 1.0, 81))
    assert np.all(np.diff(d) <= 0)


def test_load_toml_with_csv_reference(tmp_path):
    sub = tmp_path / "tables"
    sub.mkdir()
    _write(sub / "demo.csv", CSV_TABLE)
    path = _write(tmp_path / "demo.toml", SCALARS + 'functions_csv = "tables/demo.csv"\n')
    mat = m.load(path, theta_range=(0.2, 1.0))
    assert set(mat.properties) == {"U", "D", "i0", "sigma"}
    assert_allclose(mat.sigma(np.array([0.2, 0.5, 1.0])), [1.0, 0.1, 1e-4], rtol=1e-12)
    assert_allclose(mat.i0(0.5), 2.0, rtol=1e-12)  # node value, round-off only


def test_load_bare_csv_with_scalars(tmp_path):
    head = "".join(f"# {line}\n" for line in SCALARS.splitlines())
    path = _write(tmp_path / "demo.csv", head + "# sources.D_m2_s = \"GITT\"\n" + CSV_TABLE)
    mat = m.load(path)
    assert mat.name == "demo" and mat.D.source == "GITT"
    assert mat.c_max == 49000.0


def test_bare_csv_without_scalars_says_what_is_missing(tmp_path):
    path = _write(tmp_path / "table.csv", CSV_TABLE)
    with pytest.raises(MaterialError) as info:
        m.load(path)
    msg = str(info.value)
    assert "table.csv" in msg
    for key in ("name", "c_max_mol_m3", "density_kg_m3", "capacity_mAh_g", "molar_mass_g_mol"):
        assert key in msg
    assert "functions_csv" in msg  # shows a TOML example


def test_shipped_measured_ocp_file_is_not_a_material_file():
    shipped = Path(m.__file__).parent / "data" / "nmc811_ocp_Chen2020_measured.csv"
    with pytest.raises(MaterialError, match="header|column"):
        m.load(shipped)


@pytest.mark.parametrize("name", REGISTRY)
@pytest.mark.parametrize("suffix", [".toml", ".csv"])
def test_round_trip_every_registry_material(tmp_path, name, suffix):
    original = m.get(name)
    path = m.save(original, tmp_path / f"{name}{suffix}")
    assert path.is_file()
    if suffix == ".toml":
        assert path.with_suffix(".csv").is_file()
    back = m.load(path)
    for attr in ("name", "description", "source", "c_max", "density", "capacity", "molar_mass", "temperature"):
        assert getattr(back, attr) == getattr(original, attr), attr  # scalars exact
    assert dict(back.parameters) == dict(original.parameters)
    rng = np.random.default_rng(1)
    theta = np.concatenate([
        rng.uniform(0.0, 1.0, 20000),
        np.geomspace(1e-7, 1e-2, 300),
        1.0 - np.geomspace(1e-7, 1e-2, 300),
        [0.0, 1.0],
    ])
    assert set(back.properties) == set(original.properties)
    for slot, prop in original.properties.items():
        again = back.properties[slot]
        # promised reload accuracy: 1e-3 relative everywhere on [0, 1]
        assert_allclose(again(theta), prop(theta), rtol=1e-3, err_msg=f"{name}.{slot}")
        assert again.valid_range == prop.valid_range
        assert again.source == prop.source


def test_save_refuses_to_overwrite(tmp_path):
    mat = m.get("nmc532")
    path = m.save(mat, tmp_path / "a.toml")
    before = path.read_text()
    with pytest.raises(MaterialError, match="overwrite"):
        m.save(m.get("nmc811-chen2020"), path)
    assert path.read_text() == before
    (tmp_path / "b.csv").write_text("keep me")
    with pytest.raises(MaterialError, match="b.csv"):
        m.save(mat, tmp_path / "b.toml")  # the CSV beside it would be replaced
    assert (tmp_path / "b.csv").read_text() == "keep me"
    m.save(m.get("nmc811-chen2020"), path, overwrite=True)
    assert m.load(path).name == "nmc811-chen2020"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []  # atomic writes leave no temporary files


def test_save_checks_format_and_directory(tmp_path):
    mat = m.get("nmc532")
    with pytest.raises(MaterialError, match="fmt"):
        m.save(mat, tmp_path / "a.toml", fmt="csv")
    with pytest.raises(MaterialError, match="format"):
        m.save(mat, tmp_path / "a.json")
    with pytest.raises(MaterialError, match="does not exist"):
        m.save(mat, tmp_path / "missing" / "a.toml")


# ------------------------------------------------------------- rejections
HEADER = "theta,U_V,D_m2_s,i0_A_m2,sigma_S_m\n"


def _csv_material(tmp_path: Path, rows: str, header: str = HEADER) -> Path:
    _write(tmp_path / "bad.csv", "# a comment line\n" + header + rows)
    return _write(tmp_path / "bad.toml", SCALARS + 'functions_csv = "bad.csv"\n')


@pytest.mark.parametrize(
    ("rows", "column", "row", "value"),
    [
        ("0.2,4.3,1e-15,1,1\n0.5,nan,1e-16,1,1\n1.0,3.5,1e-18,1,1\n", "U_V", "row 2 (line 4)", "nan"),
        ("0.2,4.3,1e-15,1,1\n0.5,3.9,abc,1,1\n1.0,3.5,1e-18,1,1\n", "D_m2_s", "row 2 (line 4)", "abc"),
        ("0.2,4.3,1e-15,1,1\n0.5,3.9,,1,1\n1.0,3.5,1e-18,1,1\n", "D_m2_s", "row 2 (line 4)", "''"),
        ("0.2,4.3,1e-15,1,1\n0.1,3.9,1e-16,1,1\n1.0,3.5,1e-18,1,1\n", "theta", "row 2 (line 4)", "0.1"),
        ("0.2,4.3,1e-15,1,1\n0.2,3.9,1e-16,1,1\n1.0,3.5,1e-18,1,1\n", "theta", "row 2 (line 4)", "0.2"),
        ("-0.1,4.3,1e-15,1,1\n0.5,3.9,1e-16,1,1\n1.0,3.5,1e-18,1,1\n", "theta", "row 1 (line 3)", "-0.1"),
        ("0.2,4.3,1e-15,1,1\n0.5,3.9,1e-16,1,1\n1.2,3.5,1e-18,1,1\n", "theta", "row 3 (line 5)", "1.2"),
        ("0.2,4.3,1e-15,1,1\n0.5,3.9,1e-16,1,1\n1.0,3.95,1e-18,1,1\n", "U_V", "row 3 (line 5)", "3.95"),
        ("0.2,4.3,1e-15,1,1\n0.5,3.9,0,1,1\n1.0,3.5,1e-18,1,1\n", "D_m2_s", "row 2 (line 4)", "0.0"),
        ("0.2,4.3,1e-15,1,1\n0.5,3.9,1e-16,-2,1\n1.0,3.5,1e-18,1,1\n", "i0_A_m2", "row 2 (line 4)", "-2.0"),
        ("0.2,4.3,1e-15,1,1\n0.5,3.9,1e-16,1,1\n1.0,3.5,1e-18,1,-1e-3\n", "sigma_S_m", "row 3 (line 5)", "-0.001"),
    ],
)
def test_csv_rejections_name_file_column_row_and_value(tmp_path, rows, column, row, value):
    path = _csv_material(tmp_path, rows)
    with pytest.raises(MaterialError) as info:
        m.load(path)
    msg = str(info.value)
    assert "bad.csv" in msg, msg
    assert repr(column) in msg, msg
    assert row in msg, msg
    assert value in msg, msg


def test_non_monotonic_ocp_lists_every_breaking_pair(tmp_path):
    rows = "0.1,4.3,1,1,1\n0.2,4.35,1,1,1\n0.3,4.0,1,1,1\n0.4,4.1,1,1,1\n0.5,3.9,1,1,1\n"
    with pytest.raises(MaterialError) as info:
        m.load(_csv_material(tmp_path, rows))
    msg = str(info.value)
    assert "row 1 (line 3) -> row 2 (line 4)" in msg
    assert "row 3 (line 5) -> row 4 (line 6)" in msg
    assert "row 2 (line 4) -> row 3" not in msg  # 4.35 -> 4.0 is fine


def test_inline_table_rejection_names_column_and_row(tmp_path):
    path = _write(
        tmp_path / "inline.toml",
        SCALARS + "[functions]\ntheta = [0.2, 0.5, 1.0]\nU_V = [4.3, 3.9, 4.0]\nD_m2_s = [1e-15, 1e-16, 1e-18]\n",
    )
    with pytest.raises(MaterialError) as info:
        m.load(path)
    msg = str(info.value)
    assert "inline.toml" in msg and "'U_V'" in msg and "row 2 -> row 3" in msg and "4.0" in msg
    path = _write(
        tmp_path / "inline2.toml",
        SCALARS + "[functions]\ntheta = [0.2, 0.5]\nD_m2_s = [1e-15, \"x\"]\n",
    )
    with pytest.raises(MaterialError, match=r"inline2.toml: column 'D_m2_s', row 2: 'x'"):
        m.load(path)


def test_too_few_rows(tmp_path):
    with pytest.raises(MaterialError, match=r"bad\.csv.*1 data row"):
        m.load(_csv_material(tmp_path, "0.5,3.9,1e-16,1,1\n"))


def test_wrong_number_of_fields(tmp_path):
    with pytest.raises(MaterialError, match=r"bad\.csv: row 2 \(line 4\) has 4 field"):
        m.load(_csv_material(tmp_path, "0.2,4.3,1e-15,1,1\n0.5,3.9,1e-16,1\n"))


def test_unknown_column_suggests_nearest(tmp_path):
    path = _csv_material(tmp_path, "0.2,1e-15\n1.0,1e-18\n", header="theta,D_m2s\n")
    with pytest.raises(MaterialError) as info:
        m.load(path)
    msg = str(info.value)
    assert "bad.csv" in msg and "'D_m2s'" in msg and "did you mean 'D_m2_s'" in msg


def test_missing_D_column(tmp_path):
    path = _csv_material(tmp_path, "0.2,4.3\n1.0,3.5\n", header="theta,U_V\n")
    with pytest.raises(MaterialError, match=r"bad\.csv.*'D_m2_s'"):
        m.load(path)


def test_unknown_key_suggests_nearest(tmp_path):
    path = _write(
        tmp_path / "typo.toml",
        SCALARS.replace("density_kg_m3", "density_kg_m") + "[functions]\ntheta = [0, 1]\nD_m2_s = [1e-15, 1e-16]\n",
    )
    with pytest.raises(MaterialError) as info:
        m.load(path)
    msg = str(info.value)
    assert "typo.toml" in msg and "'density_kg_m'" in msg and "did you mean 'density_kg_m3'" in msg


def test_unknown_key_in_sources_table(tmp_path):
    path = _write(
        tmp_path / "src.toml",
        SCALARS + "[functions]\ntheta = [0, 1]\nD_m2_s = [1e-15, 1e-16]\n[sources]\nD_m2s = \"x\"\n",
    )
    with pytest.raises(MaterialError, match="did you mean 'D_m2_s'"):
        m.load(path)


def test_missing_scalars_are_listed_with_units(tmp_path):
    text = "\n".join(
        line for line in SCALARS.splitlines() if not line.startswith(("c_max", "molar_mass"))
    )
    path = _write(tmp_path / "short.toml", text + "\n[functions]\ntheta = [0, 1]\nD_m2_s = [1e-15, 1e-16]\n")
    with pytest.raises(MaterialError) as info:
        m.load(path)
    msg = str(info.value)
    assert "short.toml" in msg and "c_max_mol_m3, molar_mass_g_mol" in msg
    assert "[mol/m3]" in msg and "[g/mol]" in msg


@pytest.mark.parametrize("bad", ["-4780.0", "0", "nan", "\"heavy\""])
def test_invalid_scalar_in_file(tmp_path, bad):
    path = _write(
        tmp_path / "scal.toml",
        SCALARS.replace("density_kg_m3 = 4780.0", f"density_kg_m3 = {bad}")
        + "[functions]\ntheta = [0, 1]\nD_m2_s = [1e-15, 1e-16]\n",
    )
    with pytest.raises(MaterialError) as info:
        m.load(path)
    msg = str(info.value)
    assert "scal.toml" in msg and "density_kg_m3" in msg and "> 0" in msg


def test_capacity_above_theoretical_in_file(tmp_path):
    path = _write(
        tmp_path / "cap.toml",
        SCALARS.replace("capacity_mAh_g = 210.0", "capacity_mAh_g = 210000.0")
        + "[functions]\ntheta = [0, 1]\nD_m2_s = [1e-15, 1e-16]\n",
    )
    with pytest.raises(MaterialError, match=r"cap\.toml.*theoretical"):
        m.load(path)


def test_theta_range_not_covered(tmp_path):
    path = _csv_material(tmp_path, "0.2,4.3,1e-15,1,1\n0.5,3.9,1e-16,1,1\n0.9,3.5,1e-18,1,1\n")
    with pytest.raises(MaterialError) as info:
        m.load(path, theta_range=(0.1, 0.95))
    msg = str(info.value)
    assert "bad.csv" in msg and "'theta'" in msg and "0.2" in msg and "0.9" in msg
    assert "0.1" in msg and "0.95" in msg
    assert m.load(path, theta_range=(0.25, 0.85)).name == "demo"
    with pytest.raises(MaterialError, match="theta_range"):
        m.load(path, theta_range=(0.9, 0.1))


def test_missing_files(tmp_path):
    with pytest.raises(MaterialError, match="does not exist"):
        m.load(tmp_path / "nope.toml")
    path = _write(tmp_path / "ref.toml", SCALARS + 'functions_csv = "gone.csv"\n')
    with pytest.raises(MaterialError, match=r"ref\.toml.*gone\.csv"):
        m.load(path)
    with pytest.raises(MaterialError, match="suffix"):
        m.load(_write(tmp_path / "x.json", "{}"))


def test_invalid_toml_and_both_function_sources(tmp_path):
    with pytest.raises(MaterialError, match=r"broken\.toml: not valid TOML"):
        m.load(_write(tmp_path / "broken.toml", "name = \n"))
    _write(tmp_path / "t.csv", CSV_TABLE)
    both = SCALARS + 'functions_csv = "t.csv"\n[functions]\ntheta = [0, 1]\nD_m2_s = [1e-15, 1e-16]\n'
    with pytest.raises(MaterialError, match="both"):
        m.load(_write(tmp_path / "both.toml", both))


def test_valid_ranges_must_lie_in_table(tmp_path):
    path = _write(
        tmp_path / "vr.toml",
        SCALARS + "[functions]\ntheta = [0.2, 1]\nD_m2_s = [1e-15, 1e-16]\n[valid_ranges]\nD_m2_s = [0.1, 0.9]\n",
    )
    with pytest.raises(MaterialError, match=r"vr\.toml: \[valid_ranges\] D_m2_s"):
        m.load(path)


def test_bare_csv_key_line_errors_name_the_line(tmp_path):
    path = _write(tmp_path / "k.csv", "# name = demo\n" + CSV_TABLE)
    with pytest.raises(MaterialError, match=r"k\.csv, line 1"):
        m.load(path)


def test_saved_file_is_plain_text_with_units_in_keys(tmp_path):
    path = m.save(m.get("ni88-xu2022"), tmp_path / "n.toml")
    text = path.read_text()
    for key in ("c_max_mol_m3", "density_kg_m3", "capacity_mAh_g", "molar_mass_g_mol", "functions_csv"):
        assert key in text
    header = [ln for ln in path.with_suffix(".csv").read_text().splitlines() if not ln.startswith("#")][0]
    assert header == "theta,U_V,D_m2_s,i0_A_m2,sigma_S_m"
    assert os.path.getsize(path.with_suffix(".csv")) < 1_000_000


# ------------------------------------------- plausibility (hand-built and from files)
@pytest.mark.parametrize(("field", "value", "unit_hint"), [
    ("density", 4.78, "kg/m3"),            # g/cm3 for kg/m3: a 1000-fold capacity, a 1000-fold small current
    ("molar_mass", 0.09746e-3, "kg/mol"),  # g/mol read as kg/mol twice
    ("temperature", 25.0, "K"),            # °C for K
    ("capacity", 0.21 * 3600.0, "C/kg"),   # Ah/g read as mAh/g
    ("c_max", 49.0, "mol/m3"),             # mol/L for mol/m3
])
def test_a_scalar_in_the_wrong_unit_is_refused(field, value, unit_hint):
    kw = _ni88_kwargs(**{field: value})
    if field == "density":  # keep the capacity below the (then huge) theoretical one
        kw["capacity"] = m.get("ni88-xu2022").capacity
    with pytest.raises(MaterialError, match=rf"{field} = .* {unit_hint} is outside the range of any intercalation"):
        m.Material(**kw)


def test_hand_built_functions_are_checked_like_file_tables():
    base = m.get("ni88-xu2022")
    rising = m.Property("U", "V", lambda th: 3.0 + np.asarray(th), source="x")
    with pytest.raises(MaterialError, match=r"U\(θ\) rises from 3 V at θ = 1e-06 to 4 V at θ = 1.*\(1 − θ\)"):
        m.Material(**_ni88_kwargs(U=rising))  # a charge at falling voltage had run without a word
    nan_u = m.Property("U", "V", lambda th: np.where(np.asarray(th) > 0.5, np.nan, 4.0 - np.asarray(th)), source="x")
    with pytest.raises(MaterialError, match=r"U\(θ = 0.505\) = nan V; U must be finite on the whole of \(0, 1\)"):
        m.Material(**_ni88_kwargs(U=nan_u))  # gave NaN voltages at every sample
    mv = m.Property("U", "V", lambda th: 1000 * base.U(th), source="x")
    with pytest.raises(MaterialError, match=r"outside -1..10 V, the range of any intercalation material.*units"):
        m.Material(**_ni88_kwargs(U=mv))
    neg_d = m.Property("D", "m2/s", lambda th: np.full(np.shape(th), -1e-15), source="x")
    with pytest.raises(MaterialError, match=r"material 'x': D\(θ = 1e-06\) = -1e-15 m2/s, outside 1e-30..1e-06"):
        m.Material(**_ni88_kwargs(D=neg_d))
    huge_d = m.Property("D", "m2/s", lambda th: np.ones(np.shape(th)), source="x")
    with pytest.raises(MaterialError, match=r"D\(θ = 1e-06\) = 1 m2/s, outside"):
        m.Material(**_ni88_kwargs(D=huge_d))
    scalar_out = m.Property("D", "m2/s", lambda th: np.array([1e-15, 2e-15]), source="x")
    with pytest.raises(MaterialError, match=r"returned shape \(2,\) for θ of shape \(201,\).*vectorised"):
        m.Material(**_ni88_kwargs(D=scalar_out))  # a NumPy broadcast error before
    scalar_only = m.Property("D", "m2/s", lambda th: 1e-14 * math.exp(-th), source="x")
    with pytest.raises(MaterialError, match=r"D\(θ\) failed on an array of θ \(TypeError.*np.exp, not math.exp"):
        m.Material(**_ni88_kwargs(D=scalar_only))  # a raw TypeError
    with pytest.raises(MaterialError, match=r"parameter a = 'x' must be a finite number"):
        m.Material(**_ni88_kwargs(parameters={"a": "x"}))
    with pytest.raises(MaterialError, match="parameters must be a mapping"):
        m.Material(**_ni88_kwargs(parameters=[1, 2]))


def test_real_ocps_that_are_not_strictly_falling_are_accepted():
    th = np.asarray
    # a two-phase plateau flat to round-off (LFP-like), and a fitted curve that wiggles up by 11 µV
    # (PyBaMM's Marquis2019 graphite near θ = 0.31): both were refused as not strictly decreasing
    plateau = m.Property("U", "V", lambda t: 3.42 - 0.2 * np.tanh((th(t) - 0.98) / 0.01) - 0.2 * np.tanh((th(t) - 0.02) / 0.01),
                         source="x")
    wiggle = m.Property("U", "V", lambda t: 4.2 - 0.8 * th(t) + 5e-4 * np.sin(2 * np.pi * th(t) / 0.02), source="x")
    for u in (plateau, wiggle):
        assert m.Material(**_ni88_kwargs(U=u)).U(0.5) > 3.0
    # a fit that runs away outside the range its source covers (1/θ^1.5 terms) is checked inside it only
    runaway = m.Property("U", "V", lambda t: 4.0 - 0.5 * th(t) + 1e-5 / th(t) ** 1.5, source="x", valid_range=(0.05, 1.0))
    assert m.Material(**_ni88_kwargs(U=runaway)).U(1e-6) > 1e3
    # the shipped NMC811 data have two equal neighbouring values, which tabulated_property refused
    assert m.tabulated_property("U", *m.chen2020_ocp_data(), source="Chen2020")(0.5) == pytest.approx(3.97, abs=0.01)
    # silicon's lattice-site concentration (2.78e5 mol/m3) is an intercalation material's
    assert m.Material(**_ni88_kwargs(c_max=2.78e5)).c_max == 2.78e5


def test_file_scalars_in_the_wrong_unit_and_misplaced_key_lines(tmp_path):
    table = "theta,U_V,D_m2_s\n0.2,4.3,1e-15\n1.0,3.5,1e-18\n"
    _write(tmp_path / "t.csv", table)
    toml = _write(tmp_path / "g.toml", SCALARS.replace("4780.0", "4.78") + 'functions_csv = "t.csv"\n')
    with pytest.raises(MaterialError, match=r"density_kg_m3 = 4.78 is outside 500..20000.*another unit"):
        m.load(toml)  # loaded with a theoretical capacity of 274 743 mAh/g
    # a key line below the header was skipped as a comment: the material got 298.15 K
    bare = _write(tmp_path / "b.csv", "".join(f"# {line}\n" for line in SCALARS.splitlines())
                  + "theta,U_V,D_m2_s\n# temperature_K = 350.0\n0.2,4.3,1e-15\n1.0,3.5,1e-18\n")
    with pytest.raises(MaterialError, match=r"line 9 .*below the header.*move it above"):
        m.load(bare)
    # a free-text note that only looks like a key line stays a comment
    _write(bare, bare.read_text().replace("# temperature_K = 350.0", "# x = 1 - theta, for the plot"))
    assert m.load(bare).temperature == 298.15
    # a CSV read through a TOML: its key lines were ignored, even where they disagreed
    _write(tmp_path / "k.csv", "# density_kg_m3 = 4700.0\n" + table)
    toml = _write(tmp_path / "k.toml", SCALARS + 'functions_csv = "k.csv"\n')
    with pytest.raises(MaterialError, match=r"line for density_kg_m3 \(4700.0\) would be ignored.*is 4780.0 there"):
        m.load(toml)
    _write(tmp_path / "k.csv", "# density_kg_m3 = 4780.0\n# sources.U_V = \"mine\"\n" + table)
    _write(tmp_path / "k.toml", SCALARS + 'functions_csv = "k.csv"\n[sources]\nU_V = "mine"\nD_m2_s = "x"\n')
    assert m.load(tmp_path / "k.toml").density == 4780.0  # repeating the TOML's values is fine


@pytest.mark.parametrize(("args", "match"), [
    (("X", [0.2, 1.0], [1.0, 2.0]), "name = 'X' is not a property slot"),                 # KeyError: 'X'
    (("D", [0.5, 0.2, 1.0], [1e-15, 1e-16, 1e-17]), r"θ\[1\] = 0.2 after θ\[0\] = 0.5"),  # SciPy ValueError
    (("D", [0.2, 0.2, 1.0], [1e-15, 1e-16, 1e-17]), "strictly increase"),
    (("D", [0.2], [1e-15]), "at least 2"),
    (("D", [[0.2, 1.0]], [[1e-15, 1e-17]]), "1-D"),                                       # IndexError
    (("D", [0.2, 1.0], [1e-15, -1e-17]), r"values must be > 0.*-1e-17 at θ = 1"),
    (("i0", [0.2, 1.0], [1.0, np.nan]), "finite"),
    (("U", [0.2, 0.5, 1.0], [3.5, 3.9, 4.3]), r"U must fall with θ.*3.9 V at θ = 0.5"),  # accepted, U' = +1.33
    (("sigma", [0.2, 1.0], ["a", 1.0]), "must be numbers"),
])
def test_tabulated_property_checks_its_table(args, match):
    with pytest.raises(MaterialError, match=match):
        m.tabulated_property(*args, source="x")


def test_material_paths_that_are_not_files(tmp_path):
    with pytest.raises(MaterialError, match="a material file path is needed"):
        m.load(None)  # TypeError
    with pytest.raises(MaterialError, match="a material file path is needed"):
        m.save(m.get("nmc532"), 5)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(MaterialError, match="dir.csv is a folder"):
        m.save(m.get("nmc532"), tmp_path / "dir.csv", overwrite=True)  # IsADirectoryError
    big = _write(tmp_path / "big.toml", SCALARS.replace("49000.0", "4" * 400) + "[functions]\ntheta = [0.2, 1.0]\n"
                 "D_m2_s = [1e-16, 1e-18]\n")
    with pytest.raises(MaterialError, match="c_max_mol_m3 = 4444.* must be a finite number > 0"):
        m.load(big)  # OverflowError


def test_every_tabulated_value_is_range_checked(tmp_path):
    """A D of 1.83 m²/s in the last row fell between the points Material checks (0.005 apart)."""
    from socscope.materials import load

    rows = "\n".join(f"{t:.4f},{4.3 - 1.2 * t:.4f},1e-15" for t in np.linspace(0.0, 0.999, 50))
    path = tmp_path / "m.csv"
    head = ("# name = \"m\"\n# c_max_mol_m3 = 49000\n# density_kg_m3 = 4780\n# capacity_mAh_g = 200\n"
            "# molar_mass_g_mol = 97\ntheta,U_V,D_m2_s\n")
    path.write_text(head + rows + "\n1.0,3.1,1.83\n")
    with pytest.raises(MaterialError, match=r"m.csv: column 'D_m2_s', row 51 \(line 57\): value 1.83 is outside"):
        load(path)


def test_a_huge_csv_field_is_a_material_error(tmp_path):
    from socscope.materials import load

    path = tmp_path / "m.csv"
    path.write_text('theta,U_V,D_m2_s\n0,4.2,1e-15\n1,3.0,"' + "9" * 200_000 + '"\n')
    with pytest.raises(MaterialError, match=r"m.csv: line 3 is not a CSV row"):
        load(path)
