"""Sweep definitions: a TOML file (or a dict) naming a base simulation and the axes swept.

A sweep file has three tables::

    [sweep]
    seed = 7                 # the points' random draws derive from it
    samples = 61             # recorded samples per point (time series are padded with NaN)

    [base]
    kind = "particle"        # particle, population or electrode
    material = "ni88-xu2022"
    radius_um = 1.0
    n_cells = 20
    protocol = ["Charge at {c_rate}C for 20 minutes", "Rest for 10 minutes"]
    c_rate = 1.0
    kinetics = "none"

    [axes]
    c_rate = [0.5, 1, 2]
    alpha = [1, 5]           # a material parameter (see socscope.materials.get)
    radius_um = [0.5, 1, 2]

Everything is checked by :func:`parse_sweep` before any work starts: an
unknown key or axis, an empty axis, a value outside the parameter's range, a
combination that cannot run (a ``c_rate`` with no ``{c_rate}`` in the
protocol, ``eta`` without a blocked arc, a ``seed`` axis on a deterministic
particle run). Errors name the file and the line.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError, SocscopeError

__all__ = ["KINDS", "MAX_POINTS", "MAX_SAMPLES", "SweepDefinition", "load_sweep", "parse_sweep"]

#: simulations a sweep can be built on
KINDS = ("particle", "population", "electrode")
#: most points one sweep may hold (each is one task and one chunk per variable)
MAX_POINTS = 100_000
#: most recorded samples per point
MAX_SAMPLES = 100_000

# name -> (low, high, closed ends, unit text, example): the ranges a value must lie in
_RANGES: dict[str, tuple[float, float, str, str, str]] = {
    "c_rate": (0.0, 1000.0, "h", "C", "1.0"),
    "radius_um": (0.01, 1000.0, "lh", "µm", "2.5"),
    "thickness_um": (0.01, 1000.0, "lh", "µm", "1.0"),
    "mean_radius_um": (0.01, 1000.0, "lh", "µm", "2.5"),
    "radius_cv": (0.0, 2.0, "l", "", "0.2"),
    "initial_theta": (0.0, 1.0, "", "", "0.97"),
    "eta": (0.0, 1.0, "l", "", "0.1"),
    "contact_fraction": (0.0, 1.0, "h", "", "0.1"),
    "sigma_scale": (1e-6, 1e6, "lh", "", "1.0"),
    "output_interval_s": (1e-6, 1e9, "lh", "s", "60"),
    "seed": (0, 2**63 - 1, "lh", "", "7"),
    "n_cells": (2, 1000, "lh", "", "20"),
    "n_particles": (1, 100_000, "lh", "", "50"),
    "resolution_nm": (0.1, 1e6, "lh", "nm", "40"),
}
_WHOLE = {"seed", "n_cells", "n_particles"}

# per kind: base keys with their default (None = required), and the keys that may be axes
_COMMON = {"kind": None, "material": None, "params": {}, "protocol": None, "c_rate": None,
           "initial_theta": 0.97, "output_interval_s": 60.0, "flux": "chemical"}
_BASE_KEYS: dict[str, dict[str, Any]] = {
    "particle": {**_COMMON, "shape": "sphere", "radius_um": None, "thickness_um": 1.0, "n_cells": 20,
                 "resolution_nm": None, "kinetics": "auto", "eta": None, "blocked_arc_deg": None,
                 "blocked_mode": "flux"},
    "population": {**_COMMON, "n_particles": 20, "mean_radius_um": None, "radius_cv": 0.2, "n_cells": 20},
    "electrode": {**_COMMON, "n_particles": 20, "dim": 2, "contact_fraction": 0.1, "sigma_scale": 1.0,
                  "n_cells": 10},
}
_AXIS_KEYS: dict[str, tuple[str, ...]] = {
    "particle": ("c_rate", "radius_um", "thickness_um", "initial_theta", "eta"),
    "population": ("c_rate", "mean_radius_um", "radius_cv", "initial_theta", "seed"),
    "electrode": ("c_rate", "contact_fraction", "sigma_scale", "initial_theta", "seed"),
}
_OPTIONAL = {"c_rate", "eta", "blocked_arc_deg", "resolution_nm"}
_SWEEP_KEYS = {"seed": 0, "samples": 121, "name": ""}
_CHOICES = {"shape": ("sphere", "disc"), "flux": ("chemical", "thermodynamic"),
            "kinetics": ("auto", "butler-volmer", "none"), "blocked_mode": ("flux", "kinetic"), "dim": (2, 3)}


@dataclass(frozen=True)
class SweepDefinition:
    """A checked sweep: the base simulation, the axes (in file order) and the sweep's settings.

    Attributes
    ----------
    kind : {"particle", "population", "electrode"}
    base : dict
        Every base setting, defaults filled in (``params`` holds material parameters).
    axes : dict of str -> tuple
        Axis name -> values, in the order of the file; the store's dimensions.
    seed : int
        The sweep's seed. Every point's random draw (a population's radii, an
        electrode's layout) uses :func:`point_seed` of it, or the value of a
        ``seed`` axis: points that differ only in physical settings share their
        draw (common random numbers), and a ``seed`` axis gives replicates.
    samples : int
        Recorded samples per point.
    text : str
        The definition as given (stored in the results, for provenance).
    source : str
        The file it came from, or ``"<dict>"``.
    """

    kind: str
    base: dict
    axes: dict
    seed: int = 0
    samples: int = 121
    name: str = ""
    text: str = ""
    source: str = "<dict>"
    material_axes: tuple = field(default=())

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values along each axis."""
        return tuple(len(v) for v in self.axes.values())

    @property
    def n_points(self) -> int:
        """Total number of points."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.axes else 1

    def point(self, index: int) -> dict:
        """The full settings of point ``index`` (C order over the axes): base, axis values, ``seed``, ``index``."""
        if not 0 <= index < self.n_points:
            raise SocscopeError(f"point index {index} outside 0..{self.n_points - 1}")
        where = np.unravel_index(index, self.shape) if self.axes else ()
        settings = json.loads(json.dumps(self.base))  # a deep copy
        settings["params"] = dict(settings.get("params") or {})
        for (name, values), k in zip(self.axes.items(), where):
            value = values[int(k)]
            if name in self.material_axes:
                settings["params"][name] = value
            else:
                settings[name] = value
        if "seed" not in self.axes:
            settings["seed"] = point_seed(self.seed)
        settings["index"] = int(index)
        settings["kind"] = self.kind
        return settings

    def to_dict(self) -> dict:
        """The definition as a plain dict (JSON-serialisable)."""
        return {"sweep": {"seed": self.seed, "samples": self.samples, "name": self.name},
                "base": self.base, "axes": {k: list(v) for k, v in self.axes.items()}}


def point_seed(sweep_seed: int) -> int:
    """The seed of a point's random draw, derived from the sweep's seed (a 63-bit integer).

    ``SeedSequence(sweep_seed)`` mixes the seed, so neighbouring sweep seeds
    give unrelated streams.
    """
    state = np.random.SeedSequence(int(sweep_seed)).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def load_sweep(path) -> SweepDefinition:
    """Read and check a sweep file (TOML).

    Parameters
    ----------
    path : str or path-like
        The sweep file.

    Returns
    -------
    SweepDefinition

    Raises
    ------
    FileFormatError
        For a missing, unreadable or malformed file: one line naming the file,
        the line and what is wrong.
    """
    import tomllib

    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"{p}: no such sweep file (expected a TOML file with [base] and [axes] tables)")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{p}: cannot read the sweep file ({exc}); expected UTF-8 TOML text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f" line {m.group(1)}" if m else ""
        what = re.sub(r"\s*\(at line.*\)", "", str(exc))
        raise FileFormatError(f"{p}{where}: not valid TOML ({what}); see 'socscope sweep --help' for an example") from None
    return parse_sweep(data, text=text, source=str(p))


def _line(text: str, table: str | None, key: str | None) -> int | None:
    """The 1-based line of ``key = ...`` inside ``[table]`` (or of the table header) in ``text``."""
    if not text:
        return None
    current, header_line = None, None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        m = re.match(r"^\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]$", line)
        if m:
            current = m.group(1).replace('"', "").replace("'", "")
            if current == table:
                header_line = n
                if key is None:
                    return n
            continue
        if key is not None and current == table and re.match(rf"^[\"']?{re.escape(key)}[\"']?\s*=", line):
            return n
        # dotted keys at the top level, e.g. axes.c_rate = [...]
        if key is not None and current is None and re.match(rf"^{re.escape(str(table))}\.{re.escape(key)}\s*=", line):
            return n
    return header_line


class _Checker:
    def __init__(self, text: str, source: str):
        self.text, self.source = text, source

    def fail(self, table: str | None, key: str | None, message: str):
        n = _line(self.text, table, key)
        where = f"{self.source} line {n}" if n else self.source
        raise FileFormatError(f"{where}: {message}")

    def number(self, table: str, key: str, value, *, label: str | None = None):
        label = label or key
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(table, key, f"{label} = {value!r} must be a number, e.g. {label} = {_RANGES.get(key, (0, 0, '', '', '1.0'))[4]}")
        if key in _RANGES:
            lo, hi, closed, unit, ex = _RANGES[key]
            v = float(value)
            ok = math.isfinite(v) and (v >= lo if "l" in closed else v > lo) and (v <= hi if "h" in closed else v < hi)
            if not ok:
                ends = ("[" if "l" in closed else "(") + f"{lo:g}, {hi:g}" + ("]" if "h" in closed else ")")
                self.fail(table, key, f"{label} = {value!r} is outside its range {ends}{(' ' + unit) if unit else ''}; "
                                      f"e.g. {label} = {ex}")
            if key in _WHOLE and v != int(v):
                self.fail(table, key, f"{label} = {value!r} must be a whole number, e.g. {label} = {ex}")
        return value


def parse_sweep(data: dict, *, text: str = "", source: str = "<dict>") -> SweepDefinition:
    """Check a sweep definition given as a dict (the parsed TOML) and return it.

    Parameters
    ----------
    data : dict
        With tables ``sweep`` (optional), ``base`` and ``axes``.
    text : str, optional
        The file's text, to name lines in errors.
    source : str, optional
        The file's name, for errors.

    Returns
    -------
    SweepDefinition

    Raises
    ------
    FileFormatError
        One line naming the source, the line, the bad value, what is allowed
        and the fix. Nothing has been computed when it is raised.
    """
    ck = _Checker(text, source)
    if not isinstance(data, dict):
        ck.fail(None, None, f"a sweep definition is a table with [base] and [axes], got {type(data).__name__}")
    unknown = sorted(set(data) - {"sweep", "base", "axes"})
    if unknown:
        ck.fail(unknown[0], None, f"unknown table [{unknown[0]}]; a sweep file has [sweep], [base] and [axes]")
    for table in ("base", "axes"):
        if not isinstance(data.get(table), dict):
            ck.fail(None, None, f"missing table [{table}]; a sweep file has [sweep], [base] and [axes] "
                                "(see 'socscope sweep --help')")
    sweep = data.get("sweep", {})
    if not isinstance(sweep, dict):
        ck.fail(None, "sweep", "sweep must be a table [sweep] with seed and samples")
    for key in sweep:
        if key not in _SWEEP_KEYS:
            ck.fail("sweep", key, f"unknown key {key!r} in [sweep]; allowed: {', '.join(_SWEEP_KEYS)}")
    seed = sweep.get("seed", 0)
    ck.number("sweep", "seed", seed)
    samples = sweep.get("samples", _SWEEP_KEYS["samples"])
    if isinstance(samples, bool) or not isinstance(samples, int) or not 2 <= samples <= MAX_SAMPLES:
        ck.fail("sweep", "samples", f"samples = {samples!r} must be a whole number in [2, {MAX_SAMPLES}], e.g. samples = 121")
    name = sweep.get("name", "")
    if not isinstance(name, str):
        ck.fail("sweep", "name", f"name = {name!r} must be text")

    base_in = data["base"]
    kind = base_in.get("kind")
    if kind not in KINDS:
        ck.fail("base", "kind" if "kind" in base_in else None,
                f"kind = {kind!r} must be one of {', '.join(KINDS)}, e.g. kind = \"particle\"")
    allowed = _BASE_KEYS[kind]
    for key in base_in:
        if key not in allowed:
            ck.fail("base", key, f"unknown key {key!r} for a {kind} sweep; allowed: {', '.join(sorted(allowed))}")
    base = {k: v for k, v in allowed.items()}
    base.update(base_in)
    base["params"] = dict(base.get("params") or {})
    if not isinstance(base_in.get("params", {}), dict):
        ck.fail("base", "params", "params must be a table of material parameters, e.g. [base.params] alpha = 5")
    axes_in = data["axes"]
    for key, value in allowed.items():
        if value is None and key not in base_in and key not in axes_in and key not in _OPTIONAL:
            ck.fail("base", None, f"[base] of a {kind} sweep needs {key} (e.g. {key} = "
                                  f"{_example(key)}), or an axis of that name")
    # choices and scalar checks
    for key, choices in _CHOICES.items():
        if key in base and base[key] not in choices:
            ck.fail("base", key, f"{key} = {base[key]!r} must be one of {', '.join(map(str, choices))}")
    material = base["material"]
    if not isinstance(material, str) or not material.strip():
        ck.fail("base", "material", f"material = {material!r} must be a built-in name or a material file, "
                                    "e.g. material = \"ni88-xu2022\"")
    protocol = base["protocol"]
    if isinstance(protocol, str):
        protocol = [protocol]
    if not isinstance(protocol, list) or not protocol or not all(isinstance(s, str) for s in protocol):
        ck.fail("base", "protocol", "protocol must be a list of experiment sentences, e.g. "
                                    "protocol = [\"Charge at {c_rate}C for 20 minutes\"]")
    base["protocol"] = list(protocol)
    for key, value in list(base.items()):
        if key in _RANGES and value is not None and key not in axes_in:
            ck.number("base", key, value)
    for key, value in base["params"].items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            ck.fail("base.params", key, f"material parameter {key} = {value!r} must be a number")

    # axes
    if not axes_in:
        ck.fail("axes", None, "[axes] is empty; give at least one axis, e.g. c_rate = [0.5, 1, 2]")
    material_axes = []
    axes: dict[str, tuple] = {}
    for axis, values in axes_in.items():
        if not isinstance(values, list):
            ck.fail("axes", axis, f"axis {axis} = {values!r} must be a list of values, e.g. {axis} = "
                                  f"[{_example(axis)}, {_example(axis)}]")
        if not values:
            ck.fail("axes", axis, f"axis {axis} is empty; give at least one value, e.g. {axis} = [{_example(axis)}]")
        if len(set(map(repr, values))) != len(values):
            ck.fail("axes", axis, f"axis {axis} repeats a value ({values}); each value once")
        if axis in _AXIS_KEYS[kind]:
            for v in values:
                ck.number("axes", axis, v)
        elif axis in allowed or axis in ("seed",):
            why = ("a particle run is deterministic: a seed axis would repeat the same run; seeds vary "
                   "population and electrode sweeps" if axis == "seed"
                   else f"{axis} changes the shape of the results, so it cannot be an axis of a {kind} sweep")
            ck.fail("axes", axis, f"axis {axis}: {why}; sweepable: {', '.join(_AXIS_KEYS[kind])} and material parameters")
        else:
            # a material parameter? ask the material
            material_axes.append(axis)
            for v in values:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    ck.fail("axes", axis, f"axis {axis}: value {v!r} must be a number")
        axes[axis] = tuple(int(v) if axis in _WHOLE else v for v in values)
    _check_material(ck, base, axes, material_axes)

    # combinations
    uses_rate = any("{c_rate" in s for s in base["protocol"])
    has_rate = "c_rate" in axes or base.get("c_rate") is not None
    if has_rate and not uses_rate:
        ck.fail("axes" if "c_rate" in axes else "base", "c_rate",
                "c_rate is given but no protocol sentence holds {c_rate}; write e.g. "
                "\"Charge at {c_rate}C for 20 minutes\"")
    if uses_rate and not has_rate:
        ck.fail("base", "protocol", "the protocol holds {c_rate} but neither [base] nor [axes] gives c_rate")
    if kind == "particle":
        if ("eta" in axes or base.get("eta") is not None) and base.get("blocked_arc_deg") is None:
            ck.fail("axes" if "eta" in axes else "base", "eta",
                    "eta (the blocked arc's relative flux) needs blocked_arc_deg = [FROM, TO] in [base]")
        if base.get("blocked_arc_deg") is not None:
            arc = base["blocked_arc_deg"]
            if not (isinstance(arc, list) and len(arc) == 2 and all(isinstance(a, (int, float)) for a in arc)
                    and arc[0] < arc[1]):
                ck.fail("base", "blocked_arc_deg", f"blocked_arc_deg = {arc!r} must be [FROM, TO] degrees with "
                                                   "FROM < TO, e.g. [-45, 45]")
            if base["shape"] == "sphere":
                ck.fail("base", "blocked_arc_deg", "a blocked arc needs a 2D particle: shape = \"disc\"")
            if base.get("eta") is None and "eta" not in axes:
                ck.fail("base", "blocked_arc_deg", "blocked_arc_deg needs eta (in [base] or as an axis)")
        if base["shape"] == "disc" and "n_cells" in base_in:
            ck.fail("base", "n_cells", "n_cells sets a sphere's shells; a disc takes resolution_nm")
        if base["shape"] == "sphere" and "thickness_um" in axes:
            ck.fail("axes", "thickness_um", "thickness_um applies to discs; a sphere has none")
    # every sentence must parse at every c_rate, and fit the recorded samples
    ck.samples = int(samples)
    _check_protocols(ck, base, axes)
    n = int(np.prod([len(v) for v in axes.values()], dtype=np.int64)) if axes else 1
    if n > MAX_POINTS:
        ck.fail("axes", None, f"the axes make {n} points, more than {MAX_POINTS}; split the sweep")
    return SweepDefinition(kind=kind, base=base, axes=axes, seed=int(seed), samples=int(samples), name=name,
                           text=text or json.dumps(data, sort_keys=True), source=source,
                           material_axes=tuple(material_axes))


def _example(key: str) -> str:
    return _RANGES[key][4] if key in _RANGES else {"material": '"ni88-xu2022"',
                                                   "protocol": '["Charge at {c_rate}C for 20 minutes"]'}.get(key, "1.0")


def _check_material(ck: _Checker, base: dict, axes: dict, material_axes: list) -> None:
    """Build the material (at every value of each material axis): unknown names and parameters, bad values are named.

    A material file's relative path is taken relative to the sweep file (workers may run elsewhere) and
    stored absolute in ``base["material"]``; ``materials.resolve`` decides name or file, and builds it.
    """
    from ..errors import MaterialError
    from ..materials import is_material_file, resolve

    name = base["material"]
    folder = Path(ck.source).parent if Path(ck.source).is_file() else Path.cwd()
    path = Path(name) if Path(name).is_absolute() else folder / name
    is_file = is_material_file(str(path))
    if is_file:
        name = base["material"] = str(path.resolve())
    params = base["params"]
    try:
        resolve(name, **params)
    except (SocscopeError, OSError, ValueError) as exc:
        text = str(exc).splitlines()[0]
        key = next(iter(params), None)
        if key and "parameter" in text:
            ck.fail("base.params", key, text)
        ck.fail("base", "material", f"material = {name!r}: {text}" if is_file else text)
    for axis in material_axes:
        for v in axes[axis]:
            try:
                resolve(name, **{**params, axis: v})
            except MaterialError as exc:
                text = str(exc).splitlines()[0]
                if "no parameter" in text:
                    ck.fail("axes", axis, f"unknown axis {axis!r}: neither a setting of a {base['kind']} sweep "
                                          f"({', '.join(_AXIS_KEYS[base['kind']])}) nor a material parameter ({text})")
                ck.fail("axes", axis, f"axis {axis} = {v!r}: {text}")
            except TypeError:
                ck.fail("axes", axis, f"axis {axis} is neither a setting nor a parameter of material {name!r}")


def _check_protocols(ck: _Checker, base: dict, axes: dict) -> None:
    from ..protocols import Step, parse_protocol

    rates = axes.get("c_rate", (base.get("c_rate"),))
    for rate in rates:
        try:
            steps = parse_protocol(fill_protocol(base["protocol"], rate))
        except (SocscopeError, ValueError, KeyError, IndexError) as exc:
            ck.fail("base", "protocol", f"protocol at c_rate = {rate}: {str(exc).splitlines()[0]}")
        # a protocol of fixed durations records at least 1 + sum(ceil(duration / interval)) samples
        if all(isinstance(st, Step) and st.duration is not None for st in steps):
            interval = float(base["output_interval_s"])
            least = 1 + sum(math.ceil(st.duration / interval - 1e-9) for st in steps)
            if least > ck.samples:
                ck.fail("sweep", "samples", f"samples = {ck.samples} is fewer than the {least} records the protocol "
                                            f"makes at output_interval_s = {interval:g}; raise samples to {least} "
                                            "or more, or record less often")


def fill_protocol(protocol, c_rate) -> list[str]:
    """The protocol's sentences with ``{c_rate}`` replaced by ``c_rate`` (written with ``%g``)."""
    return [s.replace("{c_rate}", f"{c_rate:g}") if c_rate is not None else s for s in protocol]
