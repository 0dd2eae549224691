"""Flux laws: the effective diffusivity of [003] eq. 10 against its formula and Crank's series."""

import numpy as np
import pytest

import socscope as ss
from socscope.constants import F, R
from socscope.errors import ParameterError
from socscope.geometry import Sphere
from socscope.materials import Material, Property
from socscope.numerics import SolverOptions
from socscope.numerics.analytic import sphere_constant_flux
from socscope.physics import effective_diffusivity

THETA0 = 0.8
D_EFF0 = 1e-15  # m²/s: D_eff at THETA0 for the linear-OCP material below


def linear_ocp_material() -> Material:
    """U = 4.4 V − 1 V·θ and a constant D chosen so that D_eff(θ0) = (F/RT) θ0 D = 1e-15 m²/s."""
    ref = ss.materials.get("ni88-xu2022")
    d = D_EFF0 / (F / (R * 298.15) * THETA0)
    return Material(
        name="linear-ocp", description="test", source="test", c_max=ref.c_max, density=ref.density,
        capacity=ref.capacity, molar_mass=ref.molar_mass,
        U=Property("U", "V", lambda th: 4.4 - np.asarray(th), source="linear",
                   dfunc=lambda th: np.full(np.shape(th), -1.0)),
        D=Property("D", "m2/s", lambda th: np.full(np.shape(th), d), source="constant"),
        i0=None, sigma=None,
    )


def test_thermodynamic_factor_is_f_over_rt_theta_times_minus_du_dtheta():
    th = np.array([0.05, 0.3, 0.8, 0.99])
    lin = linear_ocp_material()
    # with U' = −1 V the law reduces to (F/RT) θ D: the same product, so round-off (rtol 1e-14)
    np.testing.assert_allclose(effective_diffusivity(lin, "thermodynamic")(th),
                               F / (R * 298.15) * th * lin.D(th), rtol=1e-14)
    # on a real OCP, against a central difference of U. ni88's OCP is a measured table (0.001 steps)
    # whose interpolant has a large third derivative: the truncation h^2 U'''/6 measured 7e-6 relative
    # at h = 1e-5 and 7e-8 at h = 1e-6 (it falls as h^2); round-off ~eps U / (h U') ~ 1e-9 at h = 1e-6:
    # rtol 1e-6
    ni88 = ss.materials.get("ni88-xu2022")
    h = 1e-6
    du = (ni88.U(th + h) - ni88.U(th - h)) / (2 * h)
    expected = -F / (R * ni88.temperature) * th * ni88.D(th) * du
    np.testing.assert_allclose(effective_diffusivity(ni88, "thermodynamic")(th), expected, rtol=1e-6)
    # the chemical law is D itself
    np.testing.assert_array_equal(effective_diffusivity(ni88, "chemical")(th), ni88.D(th))


def test_thermodynamic_law_tends_to_crank_with_d_eff_as_the_amplitude_vanishes():
    """D_eff = (F/RT) θ D varies with θ, so a charge is nonlinear diffusion; as the
    charge passed shrinks it becomes Crank's constant-D problem with D_eff(θ0).
    The remaining difference is first order in the amplitude."""
    mat = linear_ocp_material()
    rel = []
    for rate in ("C/50", "C/5"):
        ds = ss.simulate_particle(mat, Sphere(1e-6), [f"Charge at {rate} for 30 minutes"], n_cells=50,
                                  initial_theta=THETA0, flux="thermodynamic", output_interval=60,
                                  solver=SolverOptions(rtol=1e-9, atol=1e-11))
        q = float(ds.current[1]) / (4 * np.pi * 1e-12) / (F * mat.c_max)
        exact = sphere_constant_flux(1e-6, ds.time.values[1:], radius=1e-6, diffusivity=D_EFF0, flux=q,
                                     theta0=THETA0)
        rel.append(np.abs(ds.theta_surface.values[1:] - exact).max() / (THETA0 - exact).max())
    # measured 3.6e-4 (C/50) and 3.8e-3 (C/5) of the surface drop: ×10.5 for ×10 the
    # amplitude, i.e. first order, as the θ-dependence of D_eff predicts. A wrong
    # factor (θ left out, or RT/F) would be off by 25 % or more at any amplitude.
    assert rel[0] < 1e-3
    assert 7 < rel[1] / rel[0] < 14


def test_thermodynamic_law_needs_an_ocp():
    no_u = Material(**{**vars(linear_ocp_material()), "U": None})
    with pytest.raises(ParameterError, match="flux='thermodynamic' needs the open-circuit potential"):
        effective_diffusivity(no_u, "thermodynamic")
    with pytest.raises(ParameterError, match="flux = 'fickian' is not a flux law"):
        effective_diffusivity(no_u, "fickian")
