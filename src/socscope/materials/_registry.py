"""Named materials: ``get(name, **params)`` and ``available()``."""

from __future__ import annotations

import difflib
from types import MappingProxyType
from typing import Callable, Mapping

from ..errors import MaterialError
from ._library import ni88_xu2022, nmc532, nmc532_sharma2022, nmc811_chen2020
from ._material import Material, accepted_parameters

__all__ = ["get", "available", "as_material", "REGISTRY"]

#: Registry name -> factory (keyword-only parameters with defaults).
REGISTRY: Mapping[str, Callable[..., Material]] = MappingProxyType(
    {
        "ni88-xu2022": ni88_xu2022,
        "nmc532": nmc532,
        "nmc532-sharma2022": nmc532_sharma2022,
        "nmc811-chen2020": nmc811_chen2020,
    }
)


def available() -> list[str]:
    """Sorted names accepted by :func:`get`.

    Examples
    --------
    >>> "ni88-xu2022" in available()
    True
    """
    return sorted(REGISTRY)


def get(name: str, **params: float) -> Material:
    """Build a registry material.

    Parameters
    ----------
    name : str
        One of :func:`available` (case and ``_``/``-`` are not significant).
    **params : float
        The material's named parameters, e.g. ``alpha`` for ``"ni88-xu2022"``.

    Returns
    -------
    Material

    Raises
    ------
    MaterialError
        For an unknown name (the message lists the available ones) or an
        unknown or invalid parameter.

    Examples
    --------
    >>> mat = get("ni88-xu2022", alpha=5.0)
    >>> mat.parameters["alpha"]
    5.0
    """
    if not isinstance(name, str):
        raise MaterialError(
            f"material name must be a string, got {name!r}; available: {', '.join(available())}"
        )
    key = name.strip().lower().replace("_", "-")
    if key not in REGISTRY:
        close = difflib.get_close_matches(key, available(), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise MaterialError(
            f"unknown material {name!r}.{hint} Available materials: {', '.join(available())}. "
            "A material of your own can be read with socscope.materials.load(path)"
        )
    factory = REGISTRY[key]
    accepted = accepted_parameters(factory)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        listing = ", ".join(f"{k} (default {v!r})" for k, v in accepted.items()) or "none"
        raise MaterialError(
            f"material {key!r} has no parameter(s) {', '.join(unknown)}; accepted parameters: {listing}"
        )
    return factory(**params)


def as_material(material) -> Material:
    """``material`` itself, or the built-in material of that name (a str, as :func:`get` takes it).

    Raises
    ------
    MaterialError
        For an unknown name, or anything that is neither a name nor a :class:`Material`.
    """
    if isinstance(material, Material):
        return material
    if isinstance(material, str):
        return get(material)
    raise MaterialError(
        f"material must be a socscope Material or a built-in name ({', '.join(available())}), got "
        f"{type(material).__name__} {material!r:.60}; e.g. socscope.materials.get('nmc532')"
    )
