"""Fitting the σ scale of a network electrode to per-particle onsets of its first charge."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.errors import ParameterError
from socscope.fitting import NOT_IDENTIFIABLE
from socscope.fitting.electrode import (
    FREE_ELECTRODE_PARAMETERS,
    _ElectrodeForward,
    electrode_onsets,
    electrode_parameters,
    fit_electrode_onsets,
)
from socscope.observe.optical import disc_labels

# two columns of three touching 3 µm discs on the collector; only the left column has carbon, so the
# right one is wired through NMC contacts (shrunk 300-fold from the pixel contacts: the point contacts
# that make a first charge asynchronous) and its onsets depend on σ
CENTRES = [(53 - 12 * r, 7 + 12 * c) for c in range(2) for r in range(3)]
LABELS = disc_labels((60, 32), CENTRES, [6.0] * len(CENTRES))
CARBON = np.array([c == 0 for c in range(2) for r in range(3)])
KW = {"pixel_size_nm": 500.0, "protocol": "Charge at C/20 for 5 hours", "has_carbon": CARBON, "coverage": 0.5,
      "start": {"contact_scale": 0.003}, "onset_noise": 0.002, "soc_basis": "sites"}
TRUE_SCALE = 0.4


@pytest.fixture(scope="module")
def measured():
    # the contact scale and true σ scale were set on the pristine 1.9e-6 S/cm (Amin & Chiang's figure): pinned
    mat = ss.materials.get("nmc532-sharma2022", sigma="amin-chiang-figure")
    fwd = _ElectrodeForward(LABELS, mat, pixel_size_nm=500.0, protocol=KW["protocol"], collector="bottom",
                            has_carbon=CARBON, coverage=0.5, contact_dilation_px=1, n_shells=6,
                            output_interval=600.0, initial_theta=0.97)
    on = electrode_onsets(fwd.simulate({"sigma_scale": TRUE_SCALE, "coverage": 0.5, "contact_scale": 0.003}))
    g = np.random.default_rng(5)
    on["onset_soc"] = on["onset_soc"] + g.normal(0.0, 0.002, len(on))
    on["particle"] = on["particle"] + 1
    return mat, on


@pytest.mark.slow
def test_sigma_scale_fitted_back_within_20_percent(measured):
    mat, on = measured
    assert on["onset_soc"].max() - on["onset_soc"].min() > 0.01  # asynchronous: spread ≫ the 0.002 noise
    res = fit_electrode_onsets(on, LABELS, mat, free=("sigma_scale",), intervals=False, max_nfev=10, bounds={"sigma_scale": (0.1, 3)}, scan=3, **KW)
    assert res.identifiable, res.message
    # the bound, 20 %; onsets carry 0.002 SOC noise on six particles that span ~0.015
    assert_allclose(res.values["sigma_scale"], TRUE_SCALE, rtol=0.20)
    assert set(res.extra["onsets"].columns) >= {"onset_soc_measured", "onset_soc_fitted"}


def test_bad_inputs_are_named(measured):
    mat, on = measured
    with pytest.raises(ParameterError, match="cannot fit"):
        fit_electrode_onsets(on, LABELS, mat, free=("beta",), **KW)
    with pytest.raises(ParameterError, match="no row for particle"):
        fit_electrode_onsets(on.iloc[:3], LABELS, mat, **KW)
    with pytest.raises(ParameterError, match="has no σ"):
        fit_electrode_onsets(on, LABELS, ss.materials.get("ni88-xu2022").__class__(
            **{**{k: getattr(mat, k) for k in ("name", "description", "source", "c_max", "density", "capacity",
                                              "molar_mass", "U", "D", "i0")}, "sigma": None}), **KW)


@pytest.mark.slow
def test_sigma_and_contact_size_together_are_not_identifiable(measured):
    """Both scale the NMC links only through their product: the Jacobian is singular."""
    mat, on = measured
    res = fit_electrode_onsets(on, LABELS, mat, free=("sigma_scale", "contact_scale"), intervals=False,
                               max_nfev=2, scan=0, **KW)
    assert not res.identifiable
    # log σ and log contact size enter as their sum: the central-difference Jacobian's columns are equal
    assert NOT_IDENTIFIABLE in res.message and "singular" in res.message
    assert set(res.diagnostics["not_identifiable"]) == {"sigma_scale", "contact_scale"}


def test_electrode_parameters_starts_bounds_and_held_ones():
    ps = electrode_parameters(("coverage",), start={"sigma_scale": 2.0}, bounds={"coverage": (0.1, 0.9)}, coverage=0.3)
    ps = {p.name: p for p in ps}
    assert tuple(ps) == FREE_ELECTRODE_PARAMETERS
    assert ps["coverage"].free and (ps["coverage"].value, ps["coverage"].bounds) == (0.3, (0.1, 0.9))
    assert not ps["sigma_scale"].free and ps["sigma_scale"].value == 2.0 and ps["contact_scale"].bounds == (1e-3, 1e3)
    with pytest.raises(ParameterError, match=r"^cannot fit \['beta'\]; free parameters must come from \('sigma_scale'"):
        electrode_parameters(("beta",))
    with pytest.raises(ParameterError, match=r"^cannot fit nothing; free parameters must come from \('sigma_scale'"):
        electrode_parameters(())
