"""Checks of scalar and sequence arguments at the public entry points.

Each returns the value in its plain Python/NumPy form or raises
:class:`~socscope.errors.ParameterError` naming the argument, the value given,
the allowed range and an example, so that a wrong type (``"1e4"``, a dict, a
bare number where a list is meant) never surfaces as Python's own
``TypeError`` from deep inside a solver.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ParameterError, SocscopeWarning

__all__ = ["callable_or_none", "finite_float", "flag", "fraction", "in_range", "instance_of", "number_pair",
           "number", "path_argument", "positive_float", "real_array", "sorted_times", "whole_number"]


def _real(name: str, value: Any, unit: str, example: str, error=ParameterError, owner: str = "") -> float:
    """``value`` as a float; bool, str and containers are refused (they convert by accident).

    A 0-d numeric array (``ds.theta_mean[-1]``, ``np.array(0.5)``) is a number.
    """
    if not isinstance(value, numbers.Real) and not isinstance(value, (str, bytes)) and np.ndim(value) == 0:
        a = np.asarray(value)
        if a.dtype.kind in "iuf":
            value = a.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        unit = f" in{unit}" if unit else ""
        raise error(f"{_of(owner)}{name} must be a number{unit}, got {value!r} ({type(value).__name__}); "
                    f"e.g. {name}={example}")
    return float(value)


def _of(owner: str) -> str:
    """The prefix naming the function or class a value was given to (``"random_layout: "``)."""
    return f"{owner}: " if owner else ""


def positive_float(name: str, value: Any, *, unit: str = "", example: str = "1.0", error=ParameterError,
                   owner: str = "") -> float:
    """A finite number > 0 (``unit`` with its leading space, e.g. ``" S/m"``)."""
    v = _real(name, value, unit, example, error, owner)
    if not (math.isfinite(v) and v > 0):
        raise error(f"{_of(owner)}{name} = {value!r}{unit} must be finite and > 0, e.g. {name}={example}")
    return v


def in_range(name: str, value: Any, low: float, high: float, *, closed: str = "lh", unit: str = "",
             example: str, error=ParameterError, owner: str = "") -> float:
    """A number between ``low`` and ``high``, with the ends named in ``closed`` ("l", "h", "lh") included."""
    v = _real(name, value, unit, example, error, owner)
    lo_ok = v >= low if "l" in closed else v > low
    hi_ok = v <= high if "h" in closed else v < high
    if not (lo_ok and hi_ok):
        span = f"{'[' if 'l' in closed else '('}{low:g}, {high:g}{']' if 'h' in closed else ')'}"
        raise error(f"{_of(owner)}{name} = {value!r}{unit} must lie in {span}, e.g. {name}={example}")
    return v


def fraction(name: str, value: Any, *, example: str = "0.5", error=ParameterError, closed: str = "",
             owner: str = "") -> float:
    """A number between 0 and 1: strictly inside, or with the ends named in ``closed`` ("0", "1", "01")."""
    ends = ("l" if "0" in closed else "") + ("h" if "1" in closed else "")
    return in_range(name, value, 0.0, 1.0, closed=ends, example=example, error=error, owner=owner)


def whole_number(name: str, value: Any, *, minimum: int, example: int, error=ParameterError, owner: str = "") -> int:
    """An integer ``>= minimum`` (integral floats such as 20.0 are accepted, 20.5 is not)."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value) \
        and float(value) == int(value) and int(value) >= minimum
    if not ok:
        raise error(f"{_of(owner)}{name} = {value!r} must be an integer >= {minimum}, e.g. {name}={example}")
    return int(value)


def sorted_times(name: str, values: Any, *, example: str = "[60, 120, 600]") -> np.ndarray | None:
    """None, or a 1-D sequence of finite times >= 0 [s], returned sorted and without repeats."""
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or np.ndim(values) != 1:
        raise ParameterError(f"{name} must be a sequence of times in seconds, got {values!r}; e.g. {name}={example}")
    raw = np.asarray(values)
    if raw.dtype.kind not in "iuf":  # bools, text and objects are not times
        raise ParameterError(f"{name} must hold numbers (seconds), got {values!r}; e.g. {name}={example}")
    t = raw.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if bad.size:
        raise ParameterError(f"{name}[{bad[0]}] = {float(t[bad[0]])!r} s; output times must be finite and >= 0 s")
    return np.unique(t)


def instance_of(name: str, value: Any, cls: type, example: str):
    """``value`` if it is a ``cls`` (or None), else a ParameterError naming the type expected."""
    if value is not None and not isinstance(value, cls):
        raise ParameterError(f"{name} must be a {cls.__name__} or None, got "
                             f"{type(value).__name__} {value!r}; e.g. {name}={example}")
    return value


def callable_or_none(name: str, value: Any, signature: str):
    """``value`` if it can be called (or is None)."""
    if value is not None and (not callable(value) or isinstance(value, type)):  # a class is callable, not a callback
        raise ParameterError(f"{name} must be a function {signature} or None, got {type(value).__name__} {value!r}")
    return value


def number_pair(name: str, value: Any, *, example: str) -> tuple[float, float] | None:
    """None, or two numbers."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or np.ndim(value) != 1 or len(value) != 2:
        raise ParameterError(f"{name} must be a pair of numbers, got {value!r}; e.g. {name}={example}")
    a, b = (_real(name, v, "", example) for v in value)
    return a, b


def flag(name: str, value: Any, *, allow_none: bool = False) -> bool | None:
    """A true/false switch: ``bool`` (or NumPy's), not a string such as ``"no"`` that would read as True."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{name} must be True or False, got {value!r} ({type(value).__name__}); "
                             f"e.g. {name}=True")
    return bool(value)


def path_argument(value: Any, *, what: str = "a file path", example: str = "run.nc", error=ParameterError) -> Path:
    """``value`` as a Path; None, numbers and empty text are refused."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise error(f"{what} is needed (str or pathlib.Path), got {value!r}; e.g. {example!r}")
    return Path(value)


def finite_float(name: str, value: Any, *, unit: str = "", example: str = "0.0", error=ParameterError,
                 owner: str = "") -> float:
    """A finite number (any sign), e.g. an angle."""
    v = _real(name, value, unit, example, error, owner)
    if not math.isfinite(v):
        raise error(f"{_of(owner)}{name} = {value!r}{unit} must be a finite number, e.g. {name}={example}")
    return v


def real_array(name: str, value: Any, *, example: str, error=ParameterError, owner: str = "") -> np.ndarray:
    """A number or an array of numbers as float64; None, text, classes and ragged lists are refused."""
    bad = value is None or isinstance(value, (str, bytes, type, dict, bool, np.bool_))
    if not bad:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            bad = True
    if bad:
        raise error(f"{_of(owner)}{name} must be a number or an array of numbers, got {value!r} "
                    f"({type(value).__name__}); e.g. {name}={example}")
    return arr


#: sizes of particles and cells [m]: below 1e-10 m (an atom) a size is a unit slip or a typo; it
#: would fail later as θ = NaN
MIN_SIZE_M = 1e-10


def number(name: str, value: Any, *, unit: str = "", example: str = "1.0", error=ParameterError,
           owner: str = "") -> float:
    """A real number as a float (NaN and infinities pass, for the caller's range check to name them)."""
    return _real(name, value, unit, example, error, owner)


#: the narrowest plausible particle [m] across: an AFM tip's apex or an optical microscope's resolution
#: is ~10 nm or coarser, and cathode primary particles are ~50 nm to a few µm; below it the scale is wrong
SMALLEST_PARTICLE_M = 10e-9
#: the widest plausible particle [m] across: secondary particles and agglomerates stay well below 0.1 mm
#: (electrodes are ~50–100 µm thick); above 1 mm the scale is wrong
LARGEST_PARTICLE_M = 1e-3


def warn_implausible_particles(diameters_m, scale: str, *, stacklevel: int = 2) -> None:
    """One SocscopeWarning when particle diameters [m] are implausible for a cathode.

    ``scale`` names where the length scale came from (e.g. ``"pixel_size_nm = 0.05"``). They are
    implausible when even the largest particle is below :data:`SMALLEST_PARTICLE_M` or even the
    smallest above :data:`LARGEST_PARTICLE_M`: a pixel size given in the wrong unit. ``stacklevel``
    counts from the caller, as for :func:`warnings.warn`.
    """
    d = np.asarray(diameters_m, dtype=float)
    d = d[np.isfinite(d) & (d > 0)]
    text = None
    if d.size and d.max() < SMALLEST_PARTICLE_M:
        text = (f"with {scale} the largest particle is {d.max() * 1e9:.3g} nm across, below the "
                f"{SMALLEST_PARTICLE_M * 1e9:g} nm a microscope resolves and far below cathode particles (50 nm to "
                "µm); check the pixel size and its unit")
    elif d.size and d.min() > LARGEST_PARTICLE_M:
        text = (f"with {scale} the smallest particle is {d.min() * 1e3:.3g} mm across, above the "
                f"{LARGEST_PARTICLE_M * 1e3:g} mm no cathode particle reaches; check the pixel size and its unit")
    if text is not None:
        warnings.warn(text, SocscopeWarning, stacklevel=stacklevel + 1)
