"""The shipped materials and the functional forms they are built from.

Every factory returns a new :class:`~socscope.materials.Material`; the
registry (:mod:`._registry`) maps names to these factories.

References
----------
(Lun et al.) Lun et al., Supplementary Information, aged Ni-rich single crystals
      (``../shared/seeds/003_*.txt``).
(Xu et al., Joule 2022) Xu et al., operando visualisation of kinetically induced Li
      heterogeneities in single-crystal LiNi0.88Mn0.05Co0.07O2.
(Sharma et al., Nano Lett. 2022) Sharma et al., Nano Lett. 2022 (Butler–Volmer eqs. 1–3).
(Kröger et al.) Kröger et al., CL-SP-ICP-OES of NMC532 (278 mAh/g theoretical,
      1C = 160 mA/g).
Chen2020   C.-H. Chen, F. Brosa Planella, K. O'Regan, D. Gastol,
      W. D. Widanage, E. Kendrick, J. Electrochem. Soc. 167, 080534 (2020),
      doi:10.1149/1945-7111/ab9050; parameter set and OCP data file from
      PyBaMM (``Chen2020.py``, ``nmc_LGM50_ocp_Chen2020.csv``; BSD-3-Clause,
      copyright the PyBaMM team).
Mohtat2020 P. Mohtat, S. Lee, V. Sulzer, J. B. Siegel, A. G. Stefanopoulou,
      J. Electrochem. Soc. 167, 110561 (2020), doi:10.1149/1945-7111/aba5d1;
      PyBaMM parameter set ``Mohtat2020`` (functions ``NMC_ocp_PeymanMPM``,
      ``NMC_diffusivity_PeymanMPM``,
      ``NMC_electrolyte_exchange_current_density_PeymanMPM``).
AminChiang2016 R. Amin, Y.-M. Chiang, J. Electrochem. Soc. 163, A1512 (2016),
      doi:10.1149/2.0131608jes.
"""

from __future__ import annotations

import functools
import math
from importlib import resources

import numpy as np
from scipy.optimize import nnls
from scipy.special import expit

from ..errors import MaterialError
from ._constants import C_KG_PER_MAH_G, F, R, T_REF, molar_mass
from ._material import Material, Property
from ._tables import tabulated_property

__all__ = [
    "ni88_xu2022",
    "nmc532",
    "nmc532_sharma2022",
    "nmc811_chen2020",
    "chen2020_ocp",
    "chen2020_ocp_data",
    "amin_chiang_sigma",
    "AMIN_CHIANG_ABSTRACT_X0_S_CM",
    "AMIN_CHIANG_FIGURE_X0_S_CM",
    "SHARMA_SIGMAS",
    "chen2020_capacity_per_volume",
    "CHEN2020_OCP_FILE",
]

# The OCP data file is PyBaMM's nmc_LGM50_ocp_Chen2020.csv (measurements of
# Chen et al., JES 167 080534, 2020), BSD-3-Clause, copyright the PyBaMM team;
# it is shipped unchanged in data/, with the licence text in data/README.md.
#: File name of the shipped copy of PyBaMM's LG M50 NMC811 OCP data.
CHEN2020_OCP_FILE = "nmc811_ocp_Chen2020_measured.csv"

_CHEN2020_CITATION = (
    "Chen et al., J. Electrochem. Soc. 167, 080534 (2020), doi:10.1149/1945-7111/ab9050"
)
_PYBAMM_NOTE = "via PyBaMM (BSD-3-Clause, copyright the PyBaMM team)"
_MOHTAT_CITATION = (
    "Mohtat et al., J. Electrochem. Soc. 167, 110561 (2020), doi:10.1149/1945-7111/aba5d1, "
    "as implemented in PyBaMM's Mohtat2020 parameter set"
)
_AMIN_CHIANG_CITATION = (
    "Amin & Chiang, J. Electrochem. Soc. 163, A1512 (2016), doi:10.1149/2.0131608jes "
    "(electronic conductivity of Li(1-x)NMC vs x, values as quoted in the project's model notes (docs/numerics.md))"
)

#: Thermal voltage RT/F at the reference temperature of the shipped OCP data [V].
_VT = R * T_REF / F
#: Offset that keeps the ideal-solution term finite at θ = 0 and 1 [-].
_LOG_DELTA = 1e-6
#: Ending exponential of the Mohtat2020 NMC532 OCP fit: -A exp(B θ - C) [V].
_END_A, _END_B, _END_C = 0.5623e-4, 109.451, 100.006
#: Smoothing basis of the Chen2020 OCP: tanh widths and number of centres.
_OCP_WIDTHS = (0.02, 0.05, 0.1)
_OCP_N_CENTRES = 14
#: Regularisation of sqrt(θ(1-θ)) in the exchange current density [-].
_I0_EPS = 1e-3


def _clip01(theta: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(theta, dtype=np.float64), 0.0, 1.0)


def _require_positive(material: str, name: str, value, meaning: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, (bool, str, bytes)) or not (math.isfinite(v) and v > 0.0):  # "2" is text
        raise MaterialError(
            f"material {material!r}: parameter {name} = {value!r} is not allowed; it must be a "
            f"finite number > 0 ({meaning})"
        )
    return v


# --------------------------------------------------------------------- OCP data
def chen2020_ocp_data(*, measured_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The LG M50 NMC811 OCP points of Chen et al. (2020) shipped with socscope.

    The file is PyBaMM's ``nmc_LGM50_ocp_Chen2020.csv`` (BSD-3-Clause), kept
    with its comment lines. Its first and last rows are end points PyBaMM added
    "to avoid extrapolation"; they are dropped unless ``measured_only=False``.

    Returns
    -------
    theta : numpy.ndarray
        Stoichiometry (Li occupancy) [-], increasing.
    U : numpy.ndarray
        Open-circuit potential vs Li/Li⁺ [V].
    """
    text = resources.files("socscope.materials").joinpath("data", CHEN2020_OCP_FILE).read_text(
        encoding="utf-8"
    )
    theta, ocp = [], []
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            section = stripped.lower()
            continue
        if measured_only and "measured" not in section:
            continue
        a, b = stripped.split(",")[:2]
        theta.append(float(a))
        ocp.append(float(b))
    order = np.argsort(theta)
    return np.asarray(theta)[order], np.asarray(ocp)[order]


def _ideal_term(theta: np.ndarray) -> np.ndarray:
    return _VT * np.log((1.0 - theta + _LOG_DELTA) / (theta + _LOG_DELTA))


def _ideal_term_derivative(theta: np.ndarray) -> np.ndarray:
    return -_VT * (1.0 / (1.0 - theta + _LOG_DELTA) + 1.0 / (theta + _LOG_DELTA))


def _end_term(theta: np.ndarray) -> np.ndarray:
    return -_END_A * np.exp(_END_B * theta - _END_C)


def _end_term_derivative(theta: np.ndarray) -> np.ndarray:
    return -_END_A * _END_B * np.exp(_END_B * theta - _END_C)


def _tanh_basis(theta: np.ndarray, centres: np.ndarray, widths: np.ndarray) -> np.ndarray:
    return np.tanh((theta[..., None] - centres) / widths)


def _fit_chen2020_ocp():
    """Non-negative least-squares fit of the smooth, decreasing OCP form.

    Returns ``(a0, a1, centres, widths, weights, rms)`` of
    ``U_core(θ) = a0 - a1 θ - Σ weights_k tanh((θ - centres_k)/widths_k)``.
    """
    theta, ocp = chen2020_ocp_data()
    target = ocp - _ideal_term(theta) - _end_term(theta)
    centre_grid = np.linspace(theta[0], theta[-1], _OCP_N_CENTRES)
    centres = np.repeat(centre_grid, len(_OCP_WIDTHS))
    widths = np.tile(np.asarray(_OCP_WIDTHS), _OCP_N_CENTRES)
    design = np.column_stack([np.ones_like(theta), -theta, -_tanh_basis(theta, centres, widths)])
    coef, _ = nnls(design, target, maxiter=50 * design.shape[1])
    keep = coef[2:] > 0.0
    rms = float(np.sqrt(np.mean((design @ coef - target) ** 2)))
    return coef[0], coef[1], centres[keep], widths[keep], coef[2:][keep], rms


def chen2020_ocp(*, note: str = "") -> Property:
    """Smooth, strictly decreasing U(θ) fitted to the Chen2020 measured OCP.

    Form (V, θ clipped to [0, 1])::

        U(θ) = a0 - a1 θ - Σ_k b_k tanh((θ - c_k)/w_k)
               + (RT/F) ln((1 - θ + δ)/(θ + δ))
               - 0.5623e-4 exp(109.451 θ - 100.006)

    * ``a1, b_k >= 0`` are fitted by non-negative least squares to the
      measured points (θ 0.266–0.906), after subtracting the last two terms;
      14 centres ``c_k`` evenly over the measured range, widths
      ``w_k ∈ {0.02, 0.05, 0.1}``. Non-negative weights make every term
      decreasing, so U is strictly decreasing and C∞ on [0, 1] by
      construction; the fit residual is ~1 mV RMS.
    * The ideal-solution term (T = 298.15 K, δ = 1e-6 keeps it finite) makes
      U rise without bound towards θ → 0 and fall towards θ → 1, with
      U(0) ≈ 4.7 V.
    * The exponential is the end term of the Mohtat2020 NMC532 OCP; it makes
      U drop steeply near full lithiation (U(0.99) ≈ 3.25 V, U(0.999) ≈ 2.8 V,
      U(1) ≈ 2.55 V), as layered oxides do, and is < 0.1 mV inside the
      measured range.

    Outside the measured range the tanh terms level off, so the extension is
    governed by the two analytic end terms. For θ outside [0, 1] the value at
    the nearest end is returned and the derivative is 0.
    """
    a0, a1, centres, widths, weights, rms = _fit_chen2020_ocp()
    theta, _ = chen2020_ocp_data()

    def func(th):
        t = _clip01(th)
        core = a0 - a1 * t - _tanh_basis(t, centres, widths) @ weights
        return core + _ideal_term(t) + _end_term(t)

    def dfunc(th):
        th = np.asarray(th, dtype=np.float64)
        t = np.clip(th, 0.0, 1.0)
        sech2 = 1.0 - _tanh_basis(t, centres, widths) ** 2
        core = -a1 - sech2 @ (weights / widths)
        d = core + _ideal_term_derivative(t) + _end_term_derivative(t)
        return np.where((th < 0.0) | (th > 1.0), 0.0, d)

    formula = (
        "U = a0 - a1*θ - Σ b_k tanh((θ-c_k)/w_k) + (RT/F) ln((1-θ+1e-6)/(θ+1e-6)) "
        f"- 0.5623e-4 exp(109.451 θ - 100.006) V; a1, b_k >= 0 fitted (NNLS, {weights.size} "
        f"tanh terms, widths 0.02/0.05/0.1) to the measured points, RMS {rms * 1e3:.2f} mV; "
        "T = 298.15 K; θ clipped to [0, 1]; outside the measured range the tanh terms level off "
        "and the ideal-solution and exponential end terms give the rise towards θ=0 and the "
        "steep fall below 3.0 V towards θ=1"
    )
    source = (
        f"{_CHEN2020_CITATION}: measured OCP of the LG M50 NMC811 positive electrode, data file "
        f"nmc_LGM50_ocp_Chen2020.csv {_PYBAMM_NOTE}; end term from {_MOHTAT_CITATION}"
    )
    if note:
        source = f"{source}. {note}"
    return Property(
        name="U",
        units="V",
        func=func,
        source=source,
        valid_range=(float(theta[0]), float(theta[-1])),
        formula=formula,
        dfunc=dfunc,
    )


# ----------------------------------------------------------- other functions
#: σ(x = 0) of pristine NMC in Amin & Chiang (2016) as read from their figure [S/cm]
AMIN_CHIANG_FIGURE_X0_S_CM = 1.9e-6
#: σ(x = 0) of pristine NMC in Amin & Chiang's abstract ("~1e-7 S/cm") [S/cm]
AMIN_CHIANG_ABSTRACT_X0_S_CM = 1e-7


def amin_chiang_sigma(*, note: str = "", sigma_x0_s_cm: float = AMIN_CHIANG_FIGURE_X0_S_CM) -> Property:
    """Electronic conductivity σ(θ) of Li(1−x)NMC from Amin & Chiang (2016).

    σ = 1.9e-6, 2.8e-4, 9.9e-4, 1.5e-3, 1.4e-2 S/cm at x = 0, 0.1, 0.3, 0.5,
    0.75 (θ = 1 − x), converted to S/m and interpolated as PCHIP of log10 σ
    (zero end slopes), constant outside θ ∈ [0.25, 1].

    Parameters
    ----------
    note : str, optional
        Appended to the property's source.
    sigma_x0_s_cm : float, optional
        The pristine point (x = 0) [S/cm]: 1.9e-6 (read from their figure, the
        default) or e.g. 1e-7 (their abstract); the other points stay.
    """
    s0 = _require_positive("amin_chiang_sigma", "sigma_x0_s_cm", sigma_x0_s_cm,
                           "conductivity of pristine NMC in S/cm, e.g. 1e-7")
    x = np.array([0.0, 0.1, 0.3, 0.5, 0.75])
    sigma_s_cm = np.array([s0, 2.8e-4, 9.9e-4, 1.5e-3, 1.4e-2])
    theta = (1.0 - x)[::-1]
    sigma = (sigma_s_cm * 100.0)[::-1]
    source = _AMIN_CHIANG_CITATION
    if s0 != AMIN_CHIANG_FIGURE_X0_S_CM:
        source += f"; pristine point (x = 0) at {s0:g} S/cm instead of the 1.9e-6 S/cm read from their figure"
    source = source if not note else f"{source}. {note}"
    return tabulated_property("sigma", theta, sigma, source=source, formula="σ(x) table")


def _sqrt_i0(prefactor: float, *, source: str, valid_range, formula: str) -> Property:
    """i0(θ) = prefactor · sqrt(θ(1−θ) + ε²) [A/m²], ε = 1e-3, θ clipped to [0, 1].

    ``prefactor = F k c_max (c_l/c_l,ref)^0.5`` of (Sharma et al., Nano Lett. 2022) eq. 3 with
    α_a = α_c = 0.5. The ε² keeps i0 positive and smooth at θ = 0 and 1
    (i0 there is 1e-3 × prefactor, 0.2 % of the mid-range value) and changes
    i0 by less than 5e-4 relative for θ ∈ [1e-3, 1 − 1e-3].
    """
    eps2 = _I0_EPS**2

    def func(th):
        t = _clip01(th)
        return prefactor * np.sqrt(t * (1.0 - t) + eps2)

    def dfunc(th):
        th = np.asarray(th, dtype=np.float64)
        t = np.clip(th, 0.0, 1.0)
        d = prefactor * (1.0 - 2.0 * t) / (2.0 * np.sqrt(t * (1.0 - t) + eps2))
        return np.where((th < 0.0) | (th > 1.0), 0.0, d)

    return Property(
        name="i0",
        units="A/m2",
        func=func,
        source=source,
        valid_range=valid_range,
        formula=f"{formula}; sqrt(θ(1-θ)) regularised as sqrt(θ(1-θ) + 1e-6); θ clipped to [0, 1]",
        dfunc=dfunc,
    )


def _constant(name: str, units: str, value: float, *, source: str, valid_range=(0.0, 1.0)) -> Property:
    return Property(
        name=name,
        units=units,
        func=lambda th: np.full(np.shape(th), value, dtype=np.float64),
        source=source,
        valid_range=valid_range,
        formula=f"{value!r} {units} (constant)",
        dfunc=lambda th: np.zeros(np.shape(th), dtype=np.float64),
    )


# ------------------------------------------------------------------ materials
#: Reaction-rate constant of the Chen2020 NMC811 exchange current density
#: (PyBaMM: 3.42e-6 (A/m2)(m3/mol)^1.5, includes the reference concentrations).
_CHEN2020_M_REF = 3.42e-6
#: Electrolyte concentration of the Chen2020 parameter set [mol/m3].
_CHEN2020_C_E = 1000.0


#: Shipped data files of the ni88-xu2022 choices (see data/README.md).
ZHUO2023_OCP_FILE = "nmc811_ocp_Zhuo2023_measured.csv"
KARANTH_WEIJERS_D_FILE = "nmc811_diffusivity_KaranthWeijers2024_fit.csv"
ECKER2015_D_FILE = "nco_diffusivity_Ecker2015_measured.csv"
_ZHUO_CITATION = ("measured OCP of the NMC811 cathode of an LG INR18650-MJ1 cell, Sturm et al., J. Power Sources "
                  "412, 204 (2019), as tabulated for Zhuo et al. (2023)")
_KW_CITATION = ("McClelland et al. (2023) operando muon Li diffusivity of NMC811, log-polynomial fit of Karanth & "
                "Weijers (2024) in MPET (MIT licence; Smith & Bazant, JES 164 E3291 (2017))")
_ECKER_CITATION = "Ecker et al., J. Electrochem. Soc. 162, A1849 (2015), GITT diffusivity of a layered Ni-Co oxide"
#: Xu et al.'s D_app near full lithiation at α = 2.7 [m²/s] (1e-14 cm²/s), and the
#: occupancy where every D(θ) shape of ni88-xu2022 is given that level
NI88_D_ANCHOR = 1e-18
NI88_D_ANCHOR_THETA = 0.98
#: the named choices of ni88-xu2022 (first: the default)
NI88_OCPS = ("zhuo2023", "chen2020-mapped", "chen2020")
NI88_DIFFUSIVITIES = ("karanth-weijers2024", "logistic-xu2022", "flat", "divacancy", "ecker2015")
#: c_max of the Chen2020 LG M50 parameter set, on which its OCP's stoichiometry is built [mol/m³]
_CHEN2020_C_MAX = 63104.0


def _two_columns(filename: str) -> tuple[np.ndarray, np.ndarray]:
    """The first two numeric columns of a shipped CSV (comment lines '#' and a header row skipped)."""
    text = resources.files("socscope.materials").joinpath("data", filename).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        t = line.strip()
        if not t or t.startswith("#"):
            continue
        parts = t.split(",")
        try:
            rows.append((float(parts[0]), float(parts[1])))
        except (ValueError, IndexError):
            continue  # the header row
    a = np.array(rows, dtype=float)
    order = np.argsort(a[:, 0])
    return a[order, 0], a[order, 1]


def _ni88_ocp(choice: str, c_max: float) -> Property:
    """The U(θ) of ni88-xu2022 for a named choice (see :func:`ni88_xu2022`)."""
    if choice == "zhuo2023":
        x, u = _two_columns(ZHUO2023_OCP_FILE)
        return tabulated_property(
            "U", x, u, valid_range=(float(x[0]), 1.0),
            source=(f"{_ZHUO_CITATION} {_PYBAMM_NOTE}; its axis is x in Li_xMO2, which is θ here "
                    "(c_max = density/molar mass)"),
            formula="measured NMC811 OCP on x = θ (no mapping)")
    if choice == "chen2020":
        return chen2020_ocp(note="evaluated on Chen2020's own stoichiometry axis (c_max 63104 mol/m3), not mapped: "
                                 "the earlier default, kept as an alternative")
    base = chen2020_ocp()
    scale = c_max / _CHEN2020_C_MAX

    def func(th):
        return base(1.0 - scale * (1.0 - _clip01(th)))

    def dfunc(th):
        th = np.asarray(th, dtype=np.float64)
        d = scale * base.derivative(1.0 - scale * (1.0 - np.clip(th, 0.0, 1.0)))
        return np.where((th < 0.0) | (th > 1.0), 0.0, d)

    lo = 1.0 - (1.0 - base.valid_range[0]) / scale
    hi = 1.0 - (1.0 - base.valid_range[1]) / scale
    return Property(
        name="U", units="V", func=func, dfunc=dfunc, valid_range=(max(0.0, lo), min(1.0, hi)),
        source=f"{base.source}; mapped like nmc532's Mohtat2020 OCP: equal Li removed per volume, full lithiation "
               "in common",
        formula=f"U_Chen2020(s), s = 1 - ({c_max:.6g}/{_CHEN2020_C_MAX:g})(1 - θ)")


def _ni88_d_shape(choice: str):
    """``(shape(θ), valid_range, source, formula)`` of a named D(θ) of ni88-xu2022, before its level is set."""
    if choice == "karanth-weijers2024":
        y, d = _two_columns(KARANTH_WEIJERS_D_FILE)
        p = tabulated_property("D", y, d, source=_KW_CITATION)
        return p, (0.1, 0.99), _KW_CITATION, "shape of the NMC811 fit (PCHIP of log10 D through its table)"
    if choice == "ecker2015":
        y, d = _two_columns(ECKER2015_D_FILE)
        p = tabulated_property("D", y, d, source=_ECKER_CITATION)
        return p, (float(y[0]), 1.0), _ECKER_CITATION, "shape of the measured GITT D (PCHIP of log10 D)"
    if choice == "logistic-xu2022":
        def f(th):
            return 10.0 ** (2.0 * expit(-(np.asarray(th, dtype=np.float64) - 0.87) / 0.03))

        def df(th):
            step = expit(-(np.asarray(th, dtype=np.float64) - 0.87) / 0.03)
            return 10.0 ** (2.0 * step) * math.log(10.0) * 2.0 * (-step * (1.0 - step) / 0.03)
        p = Property("D", "m2/s", f, source="Xu et al. (Joule 2022) text", dfunc=df)
        return p, (0.75, 1.0), ("Xu et al. (Joule 2022), Fig. 3B as its text states it: D_app rises almost two orders "
                                "of magnitude once 20 % of the Li is removed; the plateau below θ≈0.77 is an "
                                "assumption"), "10**(2/(1+exp((θ-0.87)/0.03))) (the earlier default)"
    if choice == "flat":
        p = Property("D", "m2/s", lambda th: np.ones_like(np.asarray(th, dtype=np.float64)), source="flat",
                     dfunc=lambda th: np.zeros_like(np.asarray(th, dtype=np.float64)))
        return p, (0.0, 1.0), "no θ dependence (a null alternative)", "constant"
    if choice == "divacancy":
        def f(th):
            return (1.0 - _clip01(th)) ** 2 + 1e-4

        def df(th):
            th = np.asarray(th, dtype=np.float64)
            return np.where((th < 0.0) | (th > 1.0), 0.0, -2.0 * (1.0 - np.clip(th, 0.0, 1.0)))
        p = Property("D", "m2/s", f, source="divacancy", dfunc=df)
        return p, (0.0, 0.99), ("divacancy mechanism, D ∝ (1-θ)² (Van der Ven & Ceder, cited by Sharma et al. "
                                "Sharma et al. (Nano Lett. 2022)); + 1e-4 keeps D > 0 at θ = 1 (the value at θ = 0.99)"), "(1-θ)² + 1e-4"
    raise MaterialError(f"ni88-xu2022: diffusivity = {choice!r} is not one of {', '.join(NI88_DIFFUSIVITIES)}; "
                        f"e.g. diffusivity={NI88_DIFFUSIVITIES[0]!r}")


def ni88_xu2022(*, alpha: float = 2.7, ocp: str = "zhuo2023", diffusivity: str = "karanth-weijers2024") -> Material:
    """Single-crystal LiNi0.88Mn0.05Co0.07O2 of Xu et al. (Joule 2022) and Lun et al..

    Parameters
    ----------
    alpha : float, optional
        Scaling of the GITT diffusivity, D_app = α·D_GITT (Xu et al., Joule 2022: best match
        α ≈ 2.7; core–shell for 1 ≤ α ≤ 5). Must be finite and > 0.
    ocp : {"zhuo2023", "chen2020-mapped", "chen2020"}, optional
        Which measured OCP stands in for U(θ) (none of Lun et al./Xu et al. (Joule 2022) tabulates
        one); see Notes and ``docs/validation.md``.
    diffusivity : {"karanth-weijers2024", "logistic-xu2022", "flat", "divacancy", "ecker2015"}, optional
        The shape of D(θ); every shape is scaled so that D(0.98) = α/2.7 ×
        1e-18 m²/s, Xu et al.'s D_app ≈ 1e-14 cm²/s near full lithiation.

    Notes
    -----
    * Capacity basis 210 mAh/g (practical, Xu et al. (Joule 2022)); density 4780 kg/m³
      (Lun et al.); molar mass from IUPAC atomic weights (97.46 g/mol);
      c_max = density / molar mass ≈ 4.905e4 mol/m³, so θ is x in Li_xMO2.
    * U(θ), default ``"zhuo2023"``: the measured OCP of an NMC811 cathode
      (LG INR18650-MJ1) tabulated on x in Li_xMO2 from x = 0.216 (4.30 V) to
      1.0 (3.02 V), used on θ = x without mapping (both axes count Li per
      formula unit). It covers the whole 3.0–4.3 V window of Lun et al./Xu et al. (Joule 2022);
      below x = 0.216 it is extended linearly. ``"chen2020-mapped"``: the LG
      M50 NMC811 OCP of Chen2020 (measured 4.29–3.57 V only), its
      stoichiometry (built on c_max = 63 104 mol/m³) mapped like nmc532's
      with equal Li removed per volume; ``"chen2020"``: the same curve on its
      own axis (the earlier default).
    * D(θ), default ``"karanth-weijers2024"``: the shape of a published fit
      to measured (operando muon) NMC811 diffusivities, which falls ~100×
      from y = 0.8 to 0.98 and again towards y = 1 — the trend Xu et al. (Joule 2022)
      describes — with its level set at θ = 0.98 by Xu et al.'s D_app. Named
      alternatives: ``"logistic-xu2022"`` (the earlier default: a logistic
      step of two decades centred at θ = 0.87 with a plateau below 0.77,
      encoding Xu et al.'s text), ``"flat"`` (no θ dependence),
      ``"divacancy"`` (D ∝ (1 − θ)², cited by Sharma et al. (Nano Lett. 2022)), ``"ecker2015"`` (the
      measured GITT shape of a layered Ni–Co oxide). It is a chemical
      (GITT-type) diffusivity, the D of the Fickian flux law.
    * i0(θ) = F k c_max sqrt(θ(1−θ)) (Sharma et al. (Nano Lett. 2022) eq. 3, α_a = α_c = 0.5,
      c_l = c_l,ref) with k = 3.42e-6·sqrt(1000 mol/m³)/F = 1.121e-9 m/s, the
      rate constant of the Chen2020 NMC811 parameter set (at its 1 M
      electrolyte): i0(0.5) ≈ 2.65 A/m². The (1−θ)^0.5 factor slows charge
      transfer towards full lithiation, as (Xu et al., Joule 2022) reports (fig. S18).
    * σ(θ): the NMC Amin & Chiang table (:func:`amin_chiang_sigma`) as a
      stand-in; no conductivity of this material is given in (Lun et al.)/(Xu et al., Joule 2022).
    """
    base_name = "ni88-xu2022"
    alpha = _require_positive(base_name, "alpha", alpha, "D_app = alpha * D_GITT; Xu et al. use 2.7")
    if ocp not in NI88_OCPS:
        raise MaterialError(f"ni88-xu2022: ocp = {ocp!r} is not one of {', '.join(NI88_OCPS)}; e.g. "
                            f"ocp={NI88_OCPS[0]!r}")
    shape, d_range, d_source, d_formula = _ni88_d_shape(diffusivity)
    choices = [f"{k}={v}" for k, v, default in (("ocp", ocp, NI88_OCPS[0]),
                                                 ("diffusivity", diffusivity, NI88_DIFFUSIVITIES[0]))
               if v != default]
    name = base_name + (f" ({', '.join(choices)})" if choices else "")
    composition = {"Li": 1.0, "Ni": 0.88, "Mn": 0.05, "Co": 0.07, "O": 2.0}
    mm = molar_mass(composition)
    density = 4780.0
    c_max = density / mm
    level = alpha / 2.7 * NI88_D_ANCHOR / float(shape(np.array([NI88_D_ANCHOR_THETA]))[0])

    def d_func(th):
        return level * np.asarray(shape(th), dtype=np.float64)

    def d_dfunc(th):
        return level * np.asarray(shape.derivative(th), dtype=np.float64)

    D = Property(
        name="D",
        units="m2/s",
        func=d_func,
        source=(f"shape: {d_source}; level: Xu et al. (Joule 2022), D_app = alpha*D_GITT ~ 1e-14 cm2/s near full "
                f"lithiation (alpha = 2.7 best match), set at θ = {NI88_D_ANCHOR_THETA}; see docs/validation.md"),
        valid_range=d_range,
        formula=f"D = {level:.6g} * shape(θ) m2/s, shape {d_formula}; D({NI88_D_ANCHOR_THETA}) = alpha/2.7*1e-18 "
                f"with alpha = {alpha!r}",
        dfunc=d_dfunc,
    )
    k = _CHEN2020_M_REF * math.sqrt(_CHEN2020_C_E) / F
    i0 = _sqrt_i0(
        F * k * c_max,
        source=(
            "form of Sharma et al. (Nano Lett. 2022) eq. 3 (alpha_a = alpha_c = 0.5, c_l = c_l,ref); rate "
            f"constant k = 3.42e-6*sqrt(1000)/F = {k:.4g} m/s from the NMC811 parameter set of "
            f"{_CHEN2020_CITATION} {_PYBAMM_NOTE}, a stand-in chosen so i0 is O(1) A/m2 mid-range; "
            "the (1-θ)^0.5 factor gives the slow charge transfer near full lithiation of Xu et al. (Joule 2022)"
        ),
        valid_range=(0.0, 1.0),
        formula=f"i0 = F*k*c_max*sqrt(θ(1-θ)), k = {k:.6g} m/s, c_max = {c_max:.6g} mol/m3",
    )
    return Material(
        name=name,
        description=(
            "single-crystal LiNi0.88Mn0.05Co0.07O2 (Umicore) of Xu et al. and Lun et al.; "
            f"apparent diffusivity D_app = alpha*D_GITT; U: {ocp}; D(θ) shape: {diffusivity}"
        ),
        source=(
            "Xu et al. (Joule 2022) (D_app level, alpha, practical capacity 210 mAh/g); Lun et al. "
            f"(rho = 4.78 g/cm3, composition); U: {ocp} (stand-in, measured NMC811); D shape: {diffusivity}; "
            "i0 rate constant from Chen2020; sigma from Amin & Chiang 2016 (stand-in)"
        ),
        c_max=c_max,
        density=density,
        capacity=210.0 * C_KG_PER_MAH_G,
        molar_mass=mm,
        U=_ni88_ocp(ocp, c_max),
        D=D,
        i0=i0,
        sigma=amin_chiang_sigma(note="NMC532-type data used as a stand-in for Ni0.88 NMC"),
        parameters={"alpha": alpha},
        factory=functools.partial(ni88_xu2022, ocp=ocp, diffusivity=diffusivity),
    )


#: Mohtat2020 parameter-set values used for NMC532.
_MOHTAT_C_MAX = 35380.0
_MOHTAT_M_REF = 4.824e-6
_MOHTAT_D = 8e-15


def nmc532() -> Material:
    """Polycrystalline LiNi0.5Mn0.3Co0.2O2 (NMC532) of (Kröger et al.) and (Sharma et al., Nano Lett. 2022).

    Notes
    -----
    * Theoretical capacity from the formula unit (molar mass 96.55 g/mol from
      IUPAC atomic weights): F/M = 277.6 mAh/g, matching the 278 mAh/g of
      (Kröger et al.); c_max = density/M. Capacity basis 160 mAh/g (1C = 160 mA/g, (Kröger et al.)).
    * Density 4700 kg/m³: a nominal crystallographic density for layered
      NMC (cf. 4.78 g/cm³ for the Ni0.88 material of (Lun et al.)); no NMC532-specific
      measurement was available to cite.
    * U(θ): Mohtat2020 polynomial (``NMC_ocp_PeymanMPM``) at the
      stoichiometry s = 1 − (c_max/c_max,M)(1 − θ), c_max,M = 35380 mol/m³
      being the maximum concentration of that parameter set and
      c_max = 48 680 mol/m³ that of the formula unit: the same Li removed per
      unit volume moves s and θ, and full lithiation (s = 1) is θ = 1. The
      Mohtat2020 cell window — s from 0.891 (the parameter set's initial,
      discharged concentration 31513/35380) down by its 5 A h nominal
      capacity to s = 0.028 (4.30 V) — is then θ = 0.921 to 0.294, 174 mAh/g;
      U(0.294) = 4.30 V and U(1) = 2.82 V. For θ < 0.273 (s < 0) the
      polynomial continues, rising to 5.39 V at θ = 0 (every term decreasing
      there, so U stays strictly decreasing). Reading s as θ instead would put
      4.3 V at θ ≈ 0.03, i.e. 260 mAh/g from a pristine particle, far above
      what NMC532 gives below 4.3 V.
    * D = 8e-15 m²/s (Mohtat2020, ``NMC_diffusivity_PeymanMPM``, value at
      298.15 K), constant.
    * i0(θ) = m_ref·sqrt(c_e)·sqrt(c_s(c_max,M − c_s)) with c_s = θ·c_max,M,
      m_ref = 4.824e-6 (A/m²)(m³/mol)^1.5, c_e = 1000 mol/m³ and
      c_max,M = 35380 mol/m³, all from Mohtat2020, so that i0(θ) equals
      PyBaMM's value at stoichiometry θ (2.70 A/m² at θ = 0.5). It is
      evaluated at θ itself, not at the mapped s of U: it stays symmetric
      about θ = 0.5 and vanishes only at θ = 0 and 1.
    * σ(θ): Amin & Chiang (2016), :func:`amin_chiang_sigma`.
    """
    name = "nmc532"
    mm = molar_mass({"Li": 1.0, "Ni": 0.5, "Mn": 0.3, "Co": 0.2, "O": 2.0})
    density = 4700.0

    U = _mohtat_mapped_ocp(density / mm)
    D = _constant(
        "D",
        "m2/s",
        _MOHTAT_D,
        source=f"{_MOHTAT_CITATION} (function NMC_diffusivity_PeymanMPM, 8e-15 m2/s at 298.15 K)",
    )
    i0 = _sqrt_i0(
        _MOHTAT_M_REF * math.sqrt(1000.0) * _MOHTAT_C_MAX,
        source=(
            f"{_MOHTAT_CITATION} (function NMC_electrolyte_exchange_current_density_PeymanMPM: "
            "m_ref = 4.824e-6 (A/m2)(m3/mol)^1.5, c_e = 1000 mol/m3, c_max = 35380 mol/m3); "
            "form of Sharma et al. (Nano Lett. 2022) eq. 3"
        ),
        valid_range=(0.0, 1.0),
        formula="i0 = 4.824e-6*sqrt(1000)*35380*sqrt(θ(1-θ)) A/m2",
    )
    return Material(
        name=name,
        description="polycrystalline LiNi0.5Mn0.3Co0.2O2 (NMC532)",
        source=(
            "Kröger et al. (single-particle ICP-OES of NMC532) (278 mAh/g theoretical, 1C = 160 mA/g); U, D, i0 from "
            "Mohtat2020 (PyBaMM); sigma from Amin & Chiang 2016; density nominal 4.7 g/cm3"
        ),
        c_max=density / mm,
        density=density,
        capacity=160.0 * C_KG_PER_MAH_G,
        molar_mass=mm,
        U=U,
        D=D,
        i0=i0,
        sigma=amin_chiang_sigma(),
        parameters={},
        factory=nmc532,
    )


# ------------------------------------------------------- NMC532 of (Sharma et al., Nano Lett. 2022)
#: θ of the centre of the diffusivity step of ``nmc532-sharma2022`` (the
#: middle of the band x = 1.0–0.8 that (Sharma et al., Nano Lett. 2022) Fig. 4c names) and its width.
_SHARMA_D_CENTRE = 0.9
_SHARMA_D_WIDTH = 0.02


def _mohtat_ocp(s: np.ndarray) -> np.ndarray:
    """Mohtat2020 NMC532 OCP polynomial at stoichiometry ``s`` (no clipping) [V]."""
    poly = 4.3452 - 1.6518 * s + 1.6225 * s**2 - 2.0843 * s**3 + 3.5146 * s**4 - 2.2166 * s**5
    return poly - 0.5623e-4 * np.exp(109.451 * s - 100.006)


def _mohtat_docp(s: np.ndarray) -> np.ndarray:
    """d/ds of :func:`_mohtat_ocp` [V]."""
    return (
        -1.6518
        + 2 * 1.6225 * s
        - 3 * 2.0843 * s**2
        + 4 * 3.5146 * s**3
        - 5 * 2.2166 * s**4
        - 0.5623e-4 * 109.451 * np.exp(109.451 * s - 100.006)
    )


def _mohtat_mapped_ocp(c_max: float) -> Property:
    """The Mohtat2020 NMC532 OCP as a function of θ for a material of ``c_max`` [mol/m³].

    Mohtat2020's stoichiometry ``s`` is relative to the maximum concentration
    of that parameter set (35380 mol/m³), not to the formula unit, so it is
    mapped onto θ with equal Li removed per unit volume and full lithiation
    in common: ``s = 1 − (c_max/35380)(1 − θ)``.
    """
    scale = c_max / _MOHTAT_C_MAX

    def u_func(th):
        return _mohtat_ocp(1.0 - scale * (1.0 - _clip01(th)))

    def u_dfunc(th):
        th = np.asarray(th, dtype=np.float64)
        t = np.clip(th, 0.0, 1.0)
        d = scale * _mohtat_docp(1.0 - scale * (1.0 - t))
        return np.where((th < 0.0) | (th > 1.0), 0.0, d)

    theta_s0 = 1.0 - 1.0 / scale
    return Property(
        name="U",
        units="V",
        func=u_func,
        source=(
            f"{_MOHTAT_CITATION} (function NMC_ocp_PeymanMPM), evaluated at s = 1 - (c_max/35380)(1 - θ): "
            "equal Li removed per volume, full lithiation in common; maps the Mohtat2020 cell window "
            "(s = 0.028-0.891) onto θ = 0.294-0.921 (174 mAh/g), inside a 4.3-2.5 V window"
        ),
        valid_range=(theta_s0, 1.0),
        formula=(
            f"U = P(s) - 0.5623e-4 exp(109.451 s - 100.006) V, s = 1 - {scale:.6g}(1 - θ), "
            "P(s) = 4.3452 - 1.6518s + 1.6225s^2 - 2.0843s^3 + 3.5146s^4 - 2.2166s^5; θ clipped to [0, 1]; "
            f"below θ = {theta_s0:.4f} (s < 0) the polynomial continues (strictly decreasing)"
        ),
        dfunc=u_dfunc,
    )


#: named σ(θ) of ``nmc532-sharma2022`` (``sigma=``) and their pristine (x = 0) points [S/cm]; the first is
#: the default, chosen on physical grounds (docs/validation.md, "Parameter sources")
SHARMA_SIGMAS = {"amin-chiang-abstract": AMIN_CHIANG_ABSTRACT_X0_S_CM, "amin-chiang-figure": AMIN_CHIANG_FIGURE_X0_S_CM}


def nmc532_sharma2022(*, d_lithiated: float = 1e-17, d_delithiated: float = 1e-14,
                      sigma: str = "amin-chiang-abstract") -> Material:
    """NMC532 as modelled by Sharma et al. (Nano Lett. 2022): D(θ) rising on charge, OCP over 4.3–2.5 V.

    :func:`nmc532` with D(θ) and the pristine point of σ(θ) replaced; c_max,
    density, capacity basis (160 mAh/g), U(θ) and i0(θ) are those of
    ``nmc532``.

    Parameters
    ----------
    d_lithiated : float, optional
        Diffusivity at full lithiation (θ → 1) [m²/s], default 1e-17.
    d_delithiated : float, optional
        Diffusivity below θ ≈ 0.8 [m²/s], default 1e-14. Must be
        ``>= d_lithiated`` (D does not fall on charging in (Sharma et al., Nano Lett. 2022)); equal
        values give a constant D, the "no low-D region" control.
    sigma : {"amin-chiang-abstract", "amin-chiang-figure"}, optional
        σ(θ): Amin & Chiang's table with its pristine point (x = 0) at
        1e-7 S/cm, the value of their abstract (default), or at 1.9e-6 S/cm as
        read from their figure (the σ(θ) of ``nmc532``).

    Notes
    -----
    * D(θ) = d_lith · (d_delith/d_lith)^expit((0.9 − θ)/0.02): a logistic
      step in log10 D, θ being x in Li_x(NMC)O2. It follows the shape (Sharma et al., Nano Lett. 2022)
      describes for Fig. 4c: D "low at the start of charging (x ~ 1) and
      increases as the charging proceeds (1 > x > 0.2–0.5)", "orders of
      magnitude lower in the fully lithiated state", the low-D region being
      x = 1.0–0.8. Centre 0.9 and width 0.02 put the whole rise inside that
      band (D(1.0) and D(0.8) lie within 5 % of the two end values). The
      plateau 1e-14 m²/s (1e-10 cm²/s) is the order of the mid-range GITT
      diffusivities of NMC532 that (Sharma et al., Nano Lett. 2022) Fig. 4c collects (its refs 32–35),
      close to Mohtat2020's constant 8e-15 m²/s; the lithiated end 1e-17 m²/s
      is three orders below it (the text's "orders of magnitude"; (Sharma et al., Nano Lett. 2022) gives
      no number). Two orders (1e-16) instead of three cut the first-cycle
      loss at C/20 from 11.6 % to 5.0 % (the sharma2022 validation reports
      both).
    * U(θ): that of ``nmc532`` (the Mohtat2020 polynomial on the mapped
      stoichiometry, 4.30 V at θ = 0.294). U(1) = 2.82 V is above 2.5 V, so a
      2.5 V discharge cut-off is met only through the overpotential of a
      saturating surface.
    * σ(θ): Amin & Chiang (2016) at x = 0.1–0.75 (2.8e-4 to 1.4e-2 S/cm), with
      the pristine point at 1e-7 S/cm (their abstract's "~1e-7 S/cm"; pristine
      NMC333 is reported at 5e-8 S/cm; and Sharma et al. describe σ as several
      orders of magnitude lower in the pristine than in the partially charged
      state: 3.4 decades from x = 0 to 0.1). The 1.9e-6 S/cm read from their
      log-scale figure stays available as ``sigma="amin-chiang-figure"``
      (docs/validation.md, "Parameter sources").
    """
    name = "nmc532-sharma2022"
    if sigma not in SHARMA_SIGMAS:
        raise MaterialError(f"material {name!r}: sigma = {sigma!r} is not one of {', '.join(SHARMA_SIGMAS)}; "
                            f"e.g. sigma={next(iter(SHARMA_SIGMAS))!r}")
    if sigma != next(iter(SHARMA_SIGMAS)):
        name += f" (sigma={sigma})"
    d_lo = _require_positive(name, "d_lithiated", d_lithiated, "diffusivity at full lithiation in m2/s, e.g. 1e-17")
    d_hi = _require_positive(name, "d_delithiated", d_delithiated,
                             "diffusivity below θ = 0.8 in m2/s, e.g. 1e-14")
    if d_lo > d_hi:
        raise MaterialError(
            f"material {name!r}: d_lithiated = {d_lithiated!r} m2/s is above d_delithiated = {d_delithiated!r} "
            "m2/s; (Sharma et al., Nano Lett. 2022) has D rise on charging, so d_lithiated must be <= d_delithiated (equal: constant D)"
        )
    ref = nmc532()
    log_lo, span = math.log10(d_lo), math.log10(d_hi / d_lo)
    ln10 = math.log(10.0)
    c, w = _SHARMA_D_CENTRE, _SHARMA_D_WIDTH

    def d_func(th):
        t = np.asarray(th, dtype=np.float64)
        return 10.0 ** (log_lo + span * expit((c - t) / w))

    def d_dfunc(th):
        t = np.asarray(th, dtype=np.float64)
        step = expit((c - t) / w)
        return d_func(t) * ln10 * span * (-step * (1.0 - step) / w)

    D = Property(
        name="D",
        units="m2/s",
        func=d_func,
        source=(
            "shape of Sharma et al. (Nano Lett. 2022) Fig. 4c and text: low at x ~ 1, rising on charge, orders of magnitude "
            "lower in the fully lithiated state, low-D region x = 1.0-0.8; plateau of the order of the NMC532 "
            "GITT data of its refs 32-35 (1e-10 cm2/s); end values chosen, not fitted"
        ),
        valid_range=(0.0, 1.0),
        formula=(
            f"D = d_lith*(d_delith/d_lith)**expit((0.9-θ)/0.02) m2/s with d_lith = {d_lo!r}, "
            f"d_delith = {d_hi!r}; logistic step in log10 D"
        ),
        dfunc=d_dfunc,
    )
    return Material(
        name=name,
        description=(
            "polycrystalline LiNi0.5Mn0.3Co0.2O2 (NMC532) as modelled by Sharma et al. (Nano Lett. 2022): "
            "D rising by orders of magnitude on charge, OCP over 4.3-2.5 V"
        ),
        source=(
            "Sharma et al. (Nano Lett. 2022) (D(θ) shape, 4.3-2.5 V window); U from Mohtat2020 (PyBaMM) on a mapped "
            "stoichiometry; i0, c_max, density and the 160 mAh/g basis as nmc532 (Mohtat2020, "
            "Kröger et al. (single-particle ICP-OES of NMC532)); sigma: Amin & Chiang 2016, pristine point "
            f"{SHARMA_SIGMAS[sigma]:g} S/cm ({sigma})"
        ),
        c_max=ref.c_max,
        density=ref.density,
        capacity=ref.capacity,
        molar_mass=ref.molar_mass,
        U=ref.U,
        D=D,
        i0=ref.i0,
        sigma=amin_chiang_sigma(sigma_x0_s_cm=SHARMA_SIGMAS[sigma]),
        parameters={"d_lithiated": d_lo, "d_delithiated": d_hi},
        factory=functools.partial(nmc532_sharma2022, sigma=sigma),
    )


#: PyBaMM Chen2020 geometry of the positive electrode (used for the capacity basis).
_CHEN2020_ELECTRODE = {
    "height": 0.065,  # m
    "width": 1.58,  # m
    "thickness": 7.56e-05,  # m
    "active_fraction": 0.665,
    "nominal_capacity_Ah": 5.0,
}
_CHEN2020_DENSITY = 3262.0
_CHEN2020_C_MAX = 63104.0


def chen2020_capacity_per_volume() -> float:
    """Nominal charge per unit volume of positive active material in PyBaMM's Chen2020 cell [C/m³].

    5 A·h / (0.065 m × 1.58 m × 75.6 µm × 0.665) = 3.486e9 C/m³.
    """
    e = _CHEN2020_ELECTRODE
    volume = e["height"] * e["width"] * e["thickness"] * e["active_fraction"]
    return e["nominal_capacity_Ah"] * 3600.0 / volume


def nmc811_chen2020() -> Material:
    """LG M50 NMC811 positive electrode of Chen et al. (2020) (PyBaMM ``Chen2020``).

    Notes
    -----
    * c_max = 63104 mol/m³, D = 4e-15 m²/s, σ = 0.18 S/m, i0 with
      m_ref = 3.42e-6 (A/m²)(m³/mol)^1.5 and c_e = 1000 mol/m³, density
      3262 kg/m³: all PyBaMM ``Chen2020`` values. The density is PyBaMM's
      "Positive electrode density" (used there for the thermal model), and
      c_max·F/density = 519 mAh/g is far above the ~275 mAh/g of the NMC811
      formula unit, so mass-specific capacities of this material are internal
      to the parameter set.
    * Capacity basis: chosen so that capacity × density equals the nominal
      5 A·h of PyBaMM's Chen2020 cell per unit volume of positive active
      material (:func:`chen2020_capacity_per_volume`), i.e. 1C here drives the
      same current per particle volume as 1C (5 A) in PyBaMM. That is
      296.9 mAh/g with this density, and an occupancy swing of 0.573.
    * U(θ): the measured Chen2020 OCP, smoothed (:func:`chen2020_ocp`).
    * σ = 0.18 S/m is the electrode conductivity of the parameter set, used
      here as the particle conductivity.
    * Molar mass: LiNi0.8Mn0.1Co0.1O2 from IUPAC atomic weights.
    """
    name = "nmc811-chen2020"
    mm = molar_mass({"Li": 1.0, "Ni": 0.8, "Mn": 0.1, "Co": 0.1, "O": 2.0})
    chen_src = f"{_CHEN2020_CITATION}, parameter set Chen2020 {_PYBAMM_NOTE}"
    theta_ocp, _ = chen2020_ocp_data()
    ocp_range = (float(theta_ocp[0]), float(theta_ocp[-1]))
    i0 = _sqrt_i0(
        _CHEN2020_M_REF * math.sqrt(_CHEN2020_C_E) * _CHEN2020_C_MAX,
        source=(
            f"{chen_src}: nmc_LGM50_electrolyte_exchange_current_density_Chen2020, "
            "m_ref = 3.42e-6 (A/m2)(m3/mol)^1.5, c_e = 1000 mol/m3"
        ),
        valid_range=ocp_range,
        formula="i0 = 3.42e-6*sqrt(1000)*63104*sqrt(θ(1-θ)) A/m2",
    )
    return Material(
        name=name,
        description="LG M50 NMC811 positive electrode (PyBaMM Chen2020 parameter set)",
        source=chen_src,
        c_max=_CHEN2020_C_MAX,
        density=_CHEN2020_DENSITY,
        capacity=chen2020_capacity_per_volume() / _CHEN2020_DENSITY,
        molar_mass=mm,
        U=chen2020_ocp(),
        D=_constant("D", "m2/s", 4e-15, source=f"{chen_src}: positive particle diffusivity"),
        i0=i0,
        sigma=_constant(
            "sigma",
            "S/m",
            0.18,
            source=f"{chen_src}: positive electrode conductivity (electrode value used for the particle)",
        ),
        parameters={},
        factory=nmc811_chen2020,
    )
