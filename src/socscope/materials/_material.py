"""The :class:`Material` and :class:`Property` data types.

A material is a set of SI scalars (lattice-site concentration, density,
practical capacity, molar mass, temperature) and up to four functions of the
Li occupancy θ ∈ [0, 1]:

========  =======  ==========================================
name      units    meaning
========  =======  ==========================================
``U``     V        open-circuit potential vs Li/Li⁺
``D``     m2/s     Li (chemical or apparent) diffusivity
``i0``    A/m2     Butler–Volmer exchange current density
``sigma`` S/m      electronic conductivity
========  =======  ==========================================

Each function is a :class:`Property`: a vectorised callable with its units,
source, validity range and (optionally) a formula and an analytic derivative.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import MaterialError
from ._constants import C_KG_PER_MAH_G, F, T_REF

__all__ = ["Property", "Material", "PROPERTY_UNITS", "PROPERTY_NAMES", "accepted_parameters"]

#: Units of each property slot of a :class:`Material`.
PROPERTY_UNITS: Mapping[str, str] = MappingProxyType(
    {"U": "V", "D": "m2/s", "i0": "A/m2", "sigma": "S/m"}
)
#: The property slots in their conventional order.
PROPERTY_NAMES: tuple[str, ...] = tuple(PROPERTY_UNITS)

#: Step of the central difference used when a property has no analytic derivative.
_FD_STEP = 1e-6


def _as_theta(name: str, theta: Any) -> np.ndarray:
    """Convert ``theta`` to a float64 array, rejecting NaN and non-numbers."""
    try:
        x = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MaterialError(
            f"{name}(θ) needs numbers for the occupancy θ, got {theta!r}; "
            "pass a float or an array of floats in [0, 1]"
        ) from exc
    if np.isnan(x).any():
        bad = np.flatnonzero(np.isnan(x.ravel()))
        where = "" if x.ndim == 0 else f" at flat index {int(bad[0])} ({bad.size} NaN value(s) in all)"
        raise MaterialError(
            f"{name}(θ) was given θ = nan{where}; θ must be a number in [0, 1]. "
            "A NaN usually means the solver state diverged upstream"
        )
    return x


def _shape_like(x: np.ndarray, y: Any, name: str = "the property") -> float | np.ndarray:
    """Return ``y`` as float (0-d input) or as a float64 array of ``x``'s shape."""
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise MaterialError(f"{name}(θ) returned {y!r}, not numbers; its function must map a float64 array "
                            "of θ to an array of values of the same shape") from None
    if y.shape != x.shape:
        try:
            y = np.broadcast_to(y, x.shape).copy()
        except ValueError:
            raise MaterialError(
                f"{name}(θ) returned shape {y.shape} for θ of shape {x.shape}; its function must be "
                "vectorised: an array of θ in, one value per θ out (e.g. lambda th: 1e-15 * (1 + th))") from None
    if x.ndim == 0:
        return float(y)
    return y


@dataclass(frozen=True)
class Property:
    """One material function of the Li occupancy θ.

    Parameters
    ----------
    name : str
        ``"U"``, ``"D"``, ``"i0"`` or ``"sigma"``.
    units : str
        ``"V"``, ``"m2/s"``, ``"A/m2"`` or ``"S/m"``.
    func : callable
        Vectorised θ -> value; float64 array in, array of the same shape out.
        It must be finite and at least C1 on the whole of [0, 1].
    source : str
        Citation of the data or formula.
    valid_range : tuple of float, optional
        ``(lo, hi)``: the θ range the source supports (the function is defined,
        by a documented extension, on all of [0, 1]). Default ``(0, 1)``.
    formula : str, optional
        Human-readable description of the functional form.
    dfunc : callable, optional
        Analytic derivative dfunc/dθ (vectorised). Without it,
        :meth:`derivative` uses a central difference with step 1e-6.

    Examples
    --------
    >>> import numpy as np
    >>> p = Property("D", "m2/s", lambda th: 1e-15 * (1.0 + 2.0 * th), source="example")
    >>> p(0.5)
    2e-15
    >>> p(np.array([0.0, 1.0])).shape
    (2,)
    """

    name: str
    units: str
    func: Callable[[np.ndarray], np.ndarray]
    source: str
    valid_range: tuple[float, float] = (0.0, 1.0)
    formula: str | None = None
    dfunc: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise MaterialError(f"Property name must be a non-empty string, got {self.name!r}")
        if not callable(self.func):
            raise MaterialError(
                f"Property {self.name!r}: func must be a callable θ -> values, got {self.func!r}"
            )
        if self.dfunc is not None and not callable(self.dfunc):
            raise MaterialError(
                f"Property {self.name!r}: dfunc must be a callable θ -> d/dθ or None, got {self.dfunc!r}"
            )
        try:
            lo, hi = (float(v) for v in self.valid_range)
        except (TypeError, ValueError) as exc:
            raise MaterialError(
                f"Property {self.name!r}: valid_range must be a pair (lo, hi), got {self.valid_range!r}"
            ) from exc
        if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo < hi <= 1.0):
            raise MaterialError(
                f"Property {self.name!r}: valid_range = ({lo}, {hi}) must satisfy 0 <= lo < hi <= 1; "
                "give the θ interval the source supports"
            )
        object.__setattr__(self, "valid_range", (lo, hi))
        object.__setattr__(self, "source", str(self.source))

    def __call__(self, theta: Any) -> float | np.ndarray:
        """Evaluate the property.

        Parameters
        ----------
        theta : float or array_like
            Li occupancy [-]; values outside [0, 1] get the documented extension.

        Returns
        -------
        float or numpy.ndarray
            Value(s) in :attr:`units`; a float for scalar input, otherwise an
            array of the input's shape.

        Raises
        ------
        MaterialError
            If ``theta`` contains NaN or is not numeric.
        """
        x = _as_theta(self.name, theta)
        return _shape_like(x, self.func(x), self.name)

    def derivative(self, theta: Any) -> float | np.ndarray:
        """d/dθ of the property, in :attr:`units` per unit occupancy.

        Analytic where the property provides ``dfunc``; otherwise a central
        difference with step 1e-6 (one-sided within 1e-6 of 0 and 1), accurate
        to about 1e-6 relative for functions that are smooth on that scale.
        """
        x = _as_theta(self.name, theta)
        if self.dfunc is not None:
            return _shape_like(x, self.dfunc(x), f"d{self.name}/dθ")
        hi = np.minimum(x + _FD_STEP, np.maximum(x, 1.0))
        lo = np.maximum(x - _FD_STEP, np.minimum(x, 0.0))
        f_hi = np.asarray(self.func(hi), dtype=np.float64)
        f_lo = np.asarray(self.func(lo), dtype=np.float64)
        return _shape_like(x, (f_hi - f_lo) / (hi - lo))

    def in_valid_range(self, theta: Any) -> bool | np.ndarray:
        """Whether θ lies inside :attr:`valid_range` (bool or boolean array)."""
        x = _as_theta(self.name, theta)
        inside = (x >= self.valid_range[0]) & (x <= self.valid_range[1])
        return bool(inside) if x.ndim == 0 else inside

    def __repr__(self) -> str:
        lo, hi = self.valid_range
        src = self.source if len(self.source) <= 60 else self.source[:57] + "..."
        form = f", formula={self.formula!r}" if self.formula else ""
        return (
            f"Property({self.name} [{self.units}], valid θ {lo:g}..{hi:g}{form}, source={src!r})"
        )


def accepted_parameters(factory: Callable[..., Any]) -> dict[str, Any]:
    """Keyword-only parameters of a material factory with their defaults."""
    return {
        p.name: p.default
        for p in inspect.signature(factory).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def _positive_finite(field_name: str, value: Any, unit: str, fix: str, owner: str) -> float:
    """Return ``value`` as float if finite and > 0, else raise MaterialError."""
    if isinstance(value, bool):
        value_f = math.nan
    else:
        try:
            value_f = float(value)
        except (TypeError, ValueError):
            value_f = math.nan
    if not (math.isfinite(value_f) and value_f > 0.0):
        raise MaterialError(
            f"material {owner!r}: {field_name} = {value!r} {unit} is not allowed; it must be a "
            f"finite number > 0 ({unit}). {fix}"
        )
    return value_f


#: Plausible ranges of a material's scalars (SI), wide enough for any
#: intercalation electrode, narrow enough to catch a unit taken for another:
#: g/cm3 for kg/m3 (4.78), g/mol for kg/mol (97.46), Ah/g for mAh/g (0.21),
#: °C for K (25).
_SCALAR_RANGES = {
    "c_max": (1e3, 5e5),  # silicon: 2.78e5 (PyBaMM Chen2020_composite)
    "density": (500.0, 2e4),
    "capacity": (3600.0, math.inf),  # at least 1 mAh/g; the top is the theoretical capacity
    "molar_mass": (5e-3, 2.0),
    "temperature": (150.0, 600.0),
}

#: Plausible values of the functions on [0, 1] (units of PROPERTY_UNITS):
#: an OCP in V (not mV) vs Li/Li+, a solid diffusivity below a liquid's, and so on.
_FUNCTION_RANGES = {
    "U": (-1.0, 10.0),
    "D": (1e-30, 1e-6),
    "i0": (1e-12, 1e5),
    "sigma": (1e-15, 1e9),
}

#: Largest rise of U between neighbouring checked θ (0.005 apart) that is let
#: through [V]: round-off on a two-phase plateau, fitted curves that wiggle
#: (PyBaMM's Marquis2019 graphite rises 11 µV near θ = 0.31), data with equal
#: neighbouring values. A rising OCP (wrong θ convention) rises by volts.
U_RISE_TOL = 1e-3

#: θ at which a material's functions are checked when it is built: every
#: 0.005, with 1e-6 in place of the ends, where a Nernst term ln(θ/(1 − θ))
#: is infinite and the solver does not go.
_CHECK_THETA = np.concatenate([[1e-6], np.linspace(0.0, 1.0, 201)[1:-1], [1.0 - 1e-6]])

_FIELD_FIXES = {
    "c_max": (
        "mol/m3",
        "Give the lattice-site concentration N_L, e.g. density / molar_mass ≈ 4.9e4 mol/m3 for NMC.",
    ),
    "density": (
        "kg/m3",
        "Give the crystallographic density in kg/m3, e.g. 4780 for Ni-rich NMC (4.78 g/cm3).",
    ),
    "capacity": (
        "C/kg",
        "Give the practical capacity in C/kg (1 mAh/g = 3600 C/kg), e.g. 210 mAh/g -> 756000 C/kg.",
    ),
    "molar_mass": ("kg/mol", "Give the molar mass in kg/mol, e.g. 0.09746 for LiNi0.88Mn0.05Co0.07O2."),
    "temperature": ("K", "Give the absolute temperature in kelvin, e.g. 298.15."),
}


def _check_function(owner: str, prop: Property) -> None:
    """Refuse a function that is not finite on (0, 1), implausible in its valid range, or (U) rising there.

    Finite everywhere, because the solver may take θ anywhere (the Property
    contract); plausible values and a falling U only inside ``valid_range``,
    where the source speaks for the function (fits such as 1/θ^1.5 terms run
    away outside it). U may be flat to round-off (a two-phase plateau) or
    wiggle by less than :data:`U_RISE_TOL` (fitted curves, data with equal
    neighbouring values): only a rise beyond that is refused.
    """
    try:
        v = np.asarray(prop(_CHECK_THETA), dtype=float)
    except MaterialError as exc:
        raise MaterialError(f"material {owner!r}: {exc}") from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise MaterialError(
            f"material {owner!r}: {prop.name}(θ) failed on an array of θ ({type(exc).__name__}: {exc}); its function "
            "must be vectorised: an array of θ in, one value per θ out (numpy functions, e.g. np.exp, not "
            "math.exp)") from None
    unit = PROPERTY_UNITS[prop.name]
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        k = int(bad[0])
        raise MaterialError(
            f"material {owner!r}: {prop.name}(θ = {_CHECK_THETA[k]:.3g}) = {v[k]:.6g} {unit}; {prop.name} must be "
            f"finite on the whole of (0, 1), beyond its data too, because the solver may take θ anywhere there "
            f"({bad.size} of {v.size} checked points fail); extend the function beyond the data by a documented "
            "rule (e.g. clip θ to the data's range)")
    a, b = prop.valid_range
    inside = (_CHECK_THETA >= a) & (_CHECK_THETA <= b)
    lo, hi = _FUNCTION_RANGES[prop.name]
    bad = np.flatnonzero(inside & ((v < lo) | (v > hi)))
    if bad.size:
        k = int(bad[0])
        raise MaterialError(
            f"material {owner!r}: {prop.name}(θ = {_CHECK_THETA[k]:.3g}) = {v[k]:.6g} {unit}, outside "
            f"{lo:g}..{hi:g} {unit}, the range of any intercalation material ({bad.size} checked points of its "
            f"valid range {a:g}..{b:g} fail); check its units")
    if prop.name == "U":
        th, u = _CHECK_THETA[inside], v[inside]
        rise = np.diff(u)
        if u.size > 1 and u[-1] >= u[0]:
            raise MaterialError(
                f"material {owner!r}: U(θ) rises from {u[0]:.6g} V at θ = {th[0]:.3g} to {u[-1]:.6g} V at "
                f"θ = {th[-1]:.3g}; the OCP falls as Li is inserted, and θ is the Li occupancy (1 at full "
                "lithiation): is the function given against the Li removed (1 − θ)?")
        k = int(np.argmax(rise)) if rise.size else 0
        if rise.size and rise[k] > U_RISE_TOL:
            raise MaterialError(
                f"material {owner!r}: U(θ) must fall with θ (the OCP falls as Li is inserted), but it rises by "
                f"{rise[k] * 1e3:.3g} mV from θ = {th[k]:.3g} to {th[k + 1]:.3g} ({u[k]:.6g} -> {u[k + 1]:.6g} V; "
                f"rises below {U_RISE_TOL * 1e3:g} mV, round-off and fitting wiggles, are let through); smooth "
                "the data or narrow valid_range")


@dataclass(frozen=True, eq=False)
class Material:
    """A cathode active material: SI scalars plus functions of occupancy θ.

    Parameters
    ----------
    name, description, source : str
        Identifier, one-line description and citation(s).
    c_max : float
        Lattice-site concentration N_L [mol/m³].
    density : float
        Density of the active material [kg/m³].
    capacity : float
        Practical capacity, the basis of C-rates [C/kg] (1 mAh/g = 3600 C/kg).
    molar_mass : float
        Molar mass of the formula unit [kg/mol].
    U : Property or None
        Open-circuit potential U(θ) [V]; must decrease with θ.
    D : Property
        Diffusivity D(θ) [m²/s].
    i0 : Property or None
        Exchange current density i0(θ) [A/m²].
    sigma : Property or None
        Electronic conductivity σ(θ) [S/m].
    parameters : mapping of str to float, optional
        The named parameters the material was built with (e.g. ``{"alpha": 2.7}``).
    temperature : float, optional
        Temperature [K], default 298.15.
    factory : callable, optional
        Function that rebuilds the material from ``**parameters``; used by
        :meth:`with_parameters`. Materials read from files have none.

    Notes
    -----
    Equality is identity: two materials built by the same factory hold
    different function objects, so field-wise comparison would be meaningless.

    A material is checked when it is built, whether by hand, by a factory or
    from a file, so that a unit taken for another is caught before a run:
    c_max 1e3–5e5 mol/m³, density 500–2e4 kg/m³, capacity from 1 mAh/g to the
    theoretical c_max·F/density, molar mass 5 g/mol–2 kg/mol, temperature
    150–600 K; and, at θ = 1e-6, 0.005, …, 0.995, 1 − 1e-6, every function
    finite, and inside its ``valid_range`` within U −1–10 V (falling, up to
    wiggles below 1 mV), D 1e-30–1e-6 m²/s, i0 1e-12–1e5 A/m², σ 1e-15–1e9 S/m.
    """

    name: str
    description: str
    source: str
    c_max: float
    density: float
    capacity: float
    molar_mass: float
    U: Property | None
    D: Property
    i0: Property | None
    sigma: Property | None
    parameters: Mapping[str, float] = field(default_factory=dict)
    temperature: float = T_REF
    factory: Callable[..., "Material"] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise MaterialError(f"a material needs a non-empty name, got {self.name!r}")
        owner = self.name
        object.__setattr__(self, "description", str(self.description))
        object.__setattr__(self, "source", str(self.source))
        for fname, (unit, fix) in _FIELD_FIXES.items():
            value = _positive_finite(fname, getattr(self, fname), unit, fix, owner)
            lo, hi = _SCALAR_RANGES[fname]
            if not lo <= value <= hi:
                raise MaterialError(
                    f"material {owner!r}: {fname} = {value:g} {unit} is outside the range of any intercalation "
                    f"material ({lo:g}..{hi:g} {unit}); is it in another unit? {fix}")
            object.__setattr__(self, fname, value)
        theoretical = self.theoretical_capacity
        if self.capacity > theoretical * (1.0 + 1e-12):
            raise MaterialError(
                f"material {owner!r}: capacity = {self.capacity:.6g} C/kg "
                f"({self.capacity / C_KG_PER_MAH_G:.4g} mAh/g) exceeds the theoretical capacity "
                f"c_max*F/density = {theoretical:.6g} C/kg ({theoretical / C_KG_PER_MAH_G:.4g} mAh/g), "
                "which no electrode can deliver; check the units (capacity in C/kg, c_max in mol/m3, "
                "density in kg/m3)"
            )
        for slot in PROPERTY_NAMES:
            prop = getattr(self, slot)
            if prop is None:
                if slot == "D":
                    raise MaterialError(
                        f"material {owner!r}: the diffusivity D(θ) is required; give a Property "
                        "named 'D' in m2/s (or a D_m2_s column in a material file)"
                    )
                continue
            if not isinstance(prop, Property):
                raise MaterialError(
                    f"material {owner!r}: {slot} must be a socscope.materials.Property or None, "
                    f"got {type(prop).__name__}"
                )
            if prop.name != slot or prop.units != PROPERTY_UNITS[slot]:
                raise MaterialError(
                    f"material {owner!r}: the {slot} slot holds a property named {prop.name!r} in "
                    f"{prop.units!r}; it needs name {slot!r} in {PROPERTY_UNITS[slot]!r}"
                )
        for slot in PROPERTY_NAMES:
            if getattr(self, slot) is not None:
                _check_function(owner, getattr(self, slot))
        try:
            given = dict(self.parameters)
        except (TypeError, ValueError):
            raise MaterialError(f"material {owner!r}: parameters must be a mapping of names to numbers, "
                                f"e.g. {{'alpha': 2.7}}; got {self.parameters!r}") from None
        params = {}
        for key, value in given.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise MaterialError(
                    f"material {owner!r}: parameter names must be identifiers, got {key!r}"
                )
            try:
                fval = math.nan if isinstance(value, bool) else float(value)
            except (TypeError, ValueError):
                fval = math.nan
            if not math.isfinite(fval):
                raise MaterialError(
                    f"material {owner!r}: parameter {key} = {value!r} must be a finite number"
                )
            params[key] = fval
        object.__setattr__(self, "parameters", MappingProxyType(dict(sorted(params.items()))))

    # ------------------------------------------------------------------ derived
    @property
    def capacity_mAh_g(self) -> float:
        """Practical capacity [mAh/g] (the C-rate basis)."""
        return self.capacity / C_KG_PER_MAH_G

    @property
    def theoretical_capacity(self) -> float:
        """Capacity of all lattice sites, ``c_max * F / density`` [C/kg]."""
        return self.c_max * F / self.density

    @property
    def properties(self) -> dict[str, Property]:
        """The properties present, by slot name (``U``, ``D``, ``i0``, ``sigma``)."""
        return {slot: getattr(self, slot) for slot in PROPERTY_NAMES if getattr(self, slot) is not None}

    def dU_dtheta(self, theta: Any) -> float | np.ndarray:
        """dU/dθ [V per unit occupancy] (negative for a physical OCP).

        Raises
        ------
        MaterialError
            If the material has no open-circuit potential.
        """
        if self.U is None:
            raise MaterialError(
                f"material {self.name!r} has no open-circuit potential U(θ), so dU/dθ is undefined; "
                "add one with a U_V column in its material file (see socscope.materials.load) or "
                "pass U=Property('U', 'V', ...) when building the Material"
            )
        return self.U.derivative(theta)

    def with_parameters(self, **params: float) -> "Material":
        """A new material rebuilt by its factory with some parameters changed.

        Examples
        --------
        >>> import socscope.materials as m
        >>> fast = m.get("ni88-xu2022").with_parameters(alpha=5.0)
        >>> fast.parameters["alpha"]
        5.0
        """
        if self.factory is None:
            raise MaterialError(
                f"material {self.name!r} has no factory (it was read from a file or built by hand), "
                f"so with_parameters({', '.join(params)}) cannot rebuild it; change the tabulated "
                "functions in its file, or use socscope.materials.get() for a registry material"
            )
        accepted = accepted_parameters(self.factory)
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            listing = ", ".join(f"{k} (default {v!r})" for k, v in accepted.items()) or "none"
            raise MaterialError(
                f"material {self.name!r} has no parameter(s) {', '.join(unknown)}; accepted "
                f"parameters: {listing}"
            )
        merged = {**self.parameters, **params}
        return self.factory(**merged)

    def to_attrs(self) -> dict[str, str | float | int]:
        """Flat, netCDF-safe description (keys carry units; values are str/float/int)."""
        attrs: dict[str, str | float | int] = {
            "material_name": self.name,
            "material_description": self.description,
            "material_source": self.source,
            "material_c_max_mol_m3": self.c_max,
            "material_density_kg_m3": self.density,
            "material_capacity_C_kg": self.capacity,
            "material_capacity_mAh_g": self.capacity_mAh_g,
            "material_theoretical_capacity_C_kg": self.theoretical_capacity,
            "material_molar_mass_kg_mol": self.molar_mass,
            "material_temperature_K": self.temperature,
            "material_properties": " ".join(self.properties),
            "material_parameters": ", ".join(f"{k}={v!r}" for k, v in self.parameters.items()) or "none",
        }
        for key, value in self.parameters.items():
            attrs[f"material_parameter_{key}"] = float(value)
        for slot, prop in self.properties.items():
            lo, hi = prop.valid_range
            attrs[f"material_{slot}_units"] = prop.units
            attrs[f"material_{slot}_source"] = prop.source
            attrs[f"material_{slot}_formula"] = prop.formula or ""
            attrs[f"material_{slot}_valid_range"] = f"[{lo!r}, {hi!r}]"
        return attrs

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v:g}" for k, v in self.parameters.items()) or "none"
        return (
            f"Material({self.name!r}: c_max={self.c_max:.5g} mol/m3, density={self.density:.5g} kg/m3, "
            f"capacity={self.capacity_mAh_g:.4g} mAh/g (theoretical "
            f"{self.theoretical_capacity / C_KG_PER_MAH_G:.4g}), M={self.molar_mass * 1e3:.5g} g/mol, "
            f"T={self.temperature:g} K, functions: {', '.join(self.properties)}; parameters: {params})"
        )
