"""Named materials: ``get(name, **params)``, ``available()``, and ``resolve`` (a built-in name or a material file)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

from ..errors import MaterialError
from ._files import load
from ._library import ni88_xu2022, nmc532, nmc532_sharma2022, nmc811_chen2020
from ._material import Material, accepted_parameters

__all__ = ["get", "available", "as_material", "resolve", "is_material_file", "REGISTRY"]

#: how an error about an unknown name says that a material file works too (the command line restates it)
OWN_MATERIAL_HINT = "A material of your own can be read with socscope.materials.load(path)"

#: Suffixes that mark a material file even before it exists (so a missing file is reported as one).
FILE_SUFFIXES = (".toml", ".csv")

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
            f"{OWN_MATERIAL_HINT}"
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


def is_material_file(name_or_path: str | os.PathLike) -> bool:
    """Whether ``name_or_path`` names a material file rather than a built-in material.

    The one rule used everywhere a material may be given either way: a path-like, a name
    ending in ``.toml`` or ``.csv`` (case-insensitive; the file need not exist yet, so that
    a missing file is reported as one), or the name of an existing file.

    Parameters
    ----------
    name_or_path : str or path-like
        A built-in name such as ``"nmc532"``, or a file path (relative to the working folder).

    Returns
    -------
    bool

    Examples
    --------
    >>> is_material_file("nmc532"), is_material_file("mine.TOML")
    (False, True)
    """
    if isinstance(name_or_path, os.PathLike):
        return True
    if not isinstance(name_or_path, str):
        return False
    path = Path(name_or_path)
    return path.suffix.lower() in FILE_SUFFIXES or path.is_file()


def resolve(name_or_path: str | os.PathLike, /, **params: float) -> Material:
    """A built-in material by name, or a user's material file.

    Parameters
    ----------
    name_or_path : str or path-like
        A built-in name (see :func:`available`), or a material file as :func:`load` reads it;
        :func:`is_material_file` decides which.
    **params : float
        The built-in material's named parameters, e.g. ``alpha`` for ``"ni88-xu2022"``. A
        material file takes none (its values are in the file).

    Returns
    -------
    Material

    Raises
    ------
    MaterialError
        For parameters given with a material file, for an unknown name or parameter (as
        :func:`get` says it), and for every problem with the file (as :func:`load` says it).

    Examples
    --------
    >>> resolve("ni88-xu2022", alpha=5.0).parameters["alpha"]
    5.0
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mine.toml"
    >>> from socscope.materials import save
    >>> resolve(save(get("nmc532"), path)).name == get("nmc532").name
    True
    """
    if not is_material_file(name_or_path):
        return get(name_or_path, **params)
    if params:
        raise MaterialError(
            f"material parameter(s) {', '.join(params)} apply to built-in materials, not to the material file "
            f"{name_or_path}; edit the file instead, or name a built-in material ({', '.join(available())})"
        )
    return load(name_or_path)
