"""Argument checks shared by the layout factories (each raises GeometryError naming the factory)."""

from __future__ import annotations

import math

import numpy as np

from ..._checks import fraction, in_range, positive_float, whole_number
from ...errors import GeometryError


def _as_float(value, name: str, owner: str = "ElectrodeLayout") -> np.ndarray:
    """``value`` as a float array (a copy); text, None and ragged nests are refused."""
    if isinstance(value, (str, bytes)) or value is None:
        raise GeometryError(f"{owner}: {name} must be numeric, got {value!r}")
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise GeometryError(f"{owner}: {name} must be numeric, got {value!r}") from None


#: examples in the units each length is given in (a bare "1.0" would suggest one metre)
_EXAMPLES = {"carbon_width": "1e-6 (metres)", "pixel_size": "5e-8 (metres)", "carbon_reach": "4e-6 (metres)",
             "width": "5e-5 (metres)", "thickness": "2e-5 (metres)", "radius": "2.5e-6 (metres)",
             "pixel_size_nm": "50 (nanometres)", "carbon_factor": "1e6 (per metre)", "kappa": "1.0 (S/m)"}


def _positive_float(value, name: str, owner: str) -> float:
    return positive_float(name, value, error=GeometryError, owner=owner, example=_EXAMPLES.get(name, "1.0"))


def _nonnegative(value, name: str, owner: str) -> float:
    return in_range(name, value, 0.0, math.inf, closed="l", example="1e6", error=GeometryError, owner=owner)


#: relative gap still counted as touching: far above round-off of positions
#: (1e-16), far below any contact tolerance a user means (1e-2)
_TOUCH = 1e-9


def _fraction(value, name: str, owner: str, *, upper_open: bool = False) -> float:
    return fraction(name, value, closed="0" if upper_open else "01", error=GeometryError, owner=owner)


def _indices(value, name: str, owner: str, n: int) -> np.ndarray:
    """Whole numbers in ``0..n-1`` (a sequence, or a boolean mask of length ``n``), as int64."""
    if isinstance(value, (str, bytes)) or value is None:
        raise GeometryError(f"{owner}: {name} must be a sequence of indices in 0..{n - 1}, got {value!r}")
    try:
        a = np.asarray(list(value) if not isinstance(value, np.ndarray) else value)
    except TypeError:
        raise GeometryError(f"{owner}: {name} must be a sequence of indices in 0..{n - 1}, got {value!r}") from None
    if a.dtype == bool:
        if a.shape != (n,):
            raise GeometryError(f"{owner}: a mask {name} must have shape ({n},), got {a.shape}")
        return np.flatnonzero(a)
    a = a.ravel()
    numeric = a.dtype.kind in "iuf" and np.all(np.isfinite(a)) and np.all(a == np.round(a)) if a.size else True
    if not numeric:
        raise GeometryError(f"{owner}: {name} must hold whole numbers in 0..{n - 1}, got {value!r}")
    a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() >= n):
        raise GeometryError(f"{owner}: {name} must lie in 0..{n - 1}, got {a.min()}..{a.max()}")
    return a


def _check_rng(rng, owner: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise GeometryError(
            f"{owner}: rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def _count(value, name: str, owner: str) -> int:
    return whole_number(name, value, minimum=1, example=10, error=GeometryError, owner=owner)
