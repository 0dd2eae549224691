"""Reading and writing material files.

Two layouts are understood.

**TOML** (recommended)::

    name = "my-nmc"
    description = "single-crystal NMC, batch 7"
    source = "own GITT and OCV measurements, 2024"
    c_max_mol_m3 = 49000.0
    density_kg_m3 = 4780.0
    capacity_mAh_g = 210.0          # practical capacity: the C-rate basis
    molar_mass_g_mol = 97.46
    temperature_K = 298.15          # optional, default 298.15
    functions_csv = "my-nmc.csv"    # relative to this file ...

    [functions]                     # ... or the table inline (not both)
    theta = [0.2, 0.5, 1.0]
    U_V = [4.3, 3.9, 3.5]
    D_m2_s = [1e-15, 1e-16, 1e-18]

    [sources]                       # optional, per function column
    U_V = "my OCV, C/50 relaxed"
    [valid_ranges]                  # optional, default: the table's θ range
    U_V = [0.2, 1.0]
    [formulas]                      # optional, free text per column
    [parameters]                    # optional, recorded with the material
    alpha = 2.7

Function tables have a ``theta`` column (occupancy, strictly increasing in
[0, 1]) and any of ``U_V``, ``D_m2_s`` (required), ``i0_A_m2``,
``sigma_S_m``. In a CSV the first non-comment line is the header; lines
starting with ``#`` are comments.

**Bare CSV**: the table alone, with the scalars in ``# key = value`` comment
lines above the header. Each such line is read as one line of TOML, so
strings are quoted and the optional tables use dotted keys::

    # name = "my-nmc"
    # c_max_mol_m3 = 49000.0
    # density_kg_m3 = 4780.0
    # capacity_mAh_g = 210.0
    # molar_mass_g_mol = 97.46
    # sources.U_V = "my OCV"
    theta,U_V,D_m2_s
    0.2,4.3,1e-15
    ...

:func:`save` writes either layout (``fmt="toml"`` writes a CSV beside the
TOML file). Tables are interpolated as described in :mod:`._tables`.
"""

from __future__ import annotations

import csv
import difflib
import math
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import tomli_w

from .._checks import path_argument
from ..errors import MaterialError
from ._constants import C_KG_PER_MAH_G, T_REF
from ._material import _FUNCTION_RANGES, _SCALAR_RANGES, PROPERTY_NAMES, Material, Property
from ._tables import LOG_INTERPOLATED, tabulated_property

__all__ = ["load", "save", "COLUMNS", "SCALAR_KEYS", "REQUIRED_SCALARS"]

#: Function columns -> property slot.
COLUMNS: Mapping[str, str] = {"U_V": "U", "D_m2_s": "D", "i0_A_m2": "i0", "sigma_S_m": "sigma"}
_SLOT_COLUMN = {slot: col for col, slot in COLUMNS.items()}
_THETA = "theta"
_ALL_COLUMNS = (_THETA, *COLUMNS)

#: Scalar keys with their meaning (units in the names).
SCALAR_KEYS: Mapping[str, str] = {
    "name": "identifier (string)",
    "description": "one line of text (string, optional)",
    "source": "citation (string, optional)",
    "c_max_mol_m3": "lattice-site concentration [mol/m3]",
    "density_kg_m3": "density [kg/m3]",
    "capacity_mAh_g": "practical capacity, the C-rate basis [mAh/g]",
    "molar_mass_g_mol": "molar mass [g/mol]",
    "temperature_K": "temperature [K] (optional, default 298.15)",
}
#: The plausible ranges of Material (socscope.materials._material), in the file's units.
_FILE_RANGES = {
    "c_max_mol_m3": _SCALAR_RANGES["c_max"],
    "density_kg_m3": _SCALAR_RANGES["density"],
    "capacity_mAh_g": tuple(v / C_KG_PER_MAH_G for v in _SCALAR_RANGES["capacity"]),
    "molar_mass_g_mol": tuple(v * 1000.0 for v in _SCALAR_RANGES["molar_mass"]),
    "temperature_K": _SCALAR_RANGES["temperature"],
}

REQUIRED_SCALARS = ("name", "c_max_mol_m3", "density_kg_m3", "capacity_mAh_g", "molar_mass_g_mol")
_NUMERIC_SCALARS = ("c_max_mol_m3", "density_kg_m3", "capacity_mAh_g", "molar_mass_g_mol", "temperature_K")
_SUBTABLES = ("sources", "valid_ranges", "formulas", "parameters")
_TOML_KEYS = (*SCALAR_KEYS, "functions_csv", "functions", *_SUBTABLES)

_EXAMPLE_TOML = """name = "my-nmc"
description = "what it is"
source = "where the numbers come from"
c_max_mol_m3 = 49000.0
density_kg_m3 = 4780.0
capacity_mAh_g = 210.0
molar_mass_g_mol = 97.46
functions_csv = "my-nmc.csv"   # header: theta,U_V,D_m2_s[,i0_A_m2,sigma_S_m]"""

_KEY_LINE = re.compile(r"^#\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*=")

#: Relative interpolation error aimed at when tabulating for :func:`save`.
_SAVE_RTOL = 1e-4
_SAVE_MAX_POINTS = 20000


# ------------------------------------------------------------------ helpers
def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_number(value: Any) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        float(value)
    except OverflowError:  # a TOML integer of hundreds of digits
        return False
    return True


def _material_path(path: Any) -> Path:
    return path_argument(path, what="a material file path", example="my-material.toml", error=MaterialError)


class _Table:
    """Function table with where it came from, for error messages."""

    def __init__(self, columns: dict[str, np.ndarray], file: Path, lines: list[int] | None):
        self.columns = columns
        self.file = file
        self.lines = lines

    def row(self, i: int) -> str:
        """'row k (line n)' for 0-based data row i."""
        if self.lines is None:
            return f"row {i + 1}"
        return f"row {i + 1} (line {self.lines[i]})"

    @property
    def theta(self) -> np.ndarray:
        return self.columns[_THETA]


def _check_header(header: list[str], file: Path) -> None:
    seen = set()
    for name in header:
        if name not in _ALL_COLUMNS:
            sep = " (columns must be separated by commas)" if (";" in name or "\t" in name) else ""
            raise MaterialError(
                f"{file}: unknown column {name!r}{_suggest(name, _ALL_COLUMNS)}{sep}; allowed columns "
                f"are {', '.join(_ALL_COLUMNS)} (theta and D_m2_s required)"
            )
        if name in seen:
            raise MaterialError(f"{file}: column {name!r} appears twice in the header")
        seen.add(name)
    for need in (_THETA, "D_m2_s"):
        if need not in seen:
            raise MaterialError(
                f"{file}: the function table has no {need!r} column; columns are "
                f"{', '.join(header) or '(none)'}, and {_THETA!r} and 'D_m2_s' are required "
                f"(allowed: {', '.join(_ALL_COLUMNS)})"
            )


def _parse_value(text: Any, file: Path, column: str, row: str) -> float:
    if _is_number(text):
        value = float(text)
    else:
        if not isinstance(text, str) or not text.strip():
            raise MaterialError(
                f"{file}: column {column!r}, {row}: empty or non-numeric entry {text!r}; every "
                "entry must be a number"
            )
        try:
            value = float(text)
        except ValueError:
            raise MaterialError(
                f"{file}: column {column!r}, {row}: {text!r} is not a number"
            ) from None
    if math.isnan(value):
        raise MaterialError(
            f"{file}: column {column!r}, {row}: value is NaN ({text!r}); every entry must be a "
            "finite number (remove the row or fill the gap)"
        )
    if math.isinf(value):
        raise MaterialError(
            f"{file}: column {column!r}, {row}: value {text!r} is infinite; every entry must be finite"
        )
    return value


def _read_csv(path: Path) -> tuple[_Table, list[tuple[int, str]]]:
    """Read a function table; also return the ``# key = value`` lines above the header."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MaterialError(f"material table {path} does not exist") from None
    except UnicodeDecodeError:
        raise MaterialError(f"{path} is not a UTF-8 text CSV file") from None
    header: list[str] | None = None
    key_lines: list[tuple[int, str]] = []
    rows: list[tuple[int, list[str]]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            key = _KEY_LINE.match(stripped)
            if key and key.group(1).split(".")[0] in (*SCALAR_KEYS, *_SUBTABLES):
                if header is not None:
                    raise MaterialError(
                        f"{path}: line {lineno} ({stripped!r}) is a '# key = value' line below the header, "
                        "where it would not be read (the material's scalars were taken without it); move "
                        "it above the header line")
                key_lines.append((lineno, stripped[1:].strip()))
            continue
        try:
            cells = [c.strip() for c in next(csv.reader([stripped]))]
        except csv.Error as exc:  # e.g. a field beyond the csv module's 131072-character limit
            raise MaterialError(f"{path}: line {lineno} is not a CSV row ({exc}); a function table holds short "
                                "numbers separated by commas") from None
        if header is None:
            header = cells
        else:
            rows.append((lineno, cells))
    if header is None:
        raise MaterialError(
            f"{path}: no header line found; expected a CSV header such as "
            f"'{','.join(_ALL_COLUMNS)}' (comment lines start with #)"
        )
    _check_header(header, path)
    values: dict[str, list[float]] = {name: [] for name in header}
    for k, (lineno, cells) in enumerate(rows):
        row = f"row {k + 1} (line {lineno})"
        if len(cells) != len(header):
            raise MaterialError(
                f"{path}: {row} has {len(cells)} field(s) but the header has {len(header)} "
                f"({','.join(header)})"
            )
        for name, cell in zip(header, cells):
            values[name].append(_parse_value(cell, path, name, row))
    table = _Table({k: np.asarray(v, dtype=np.float64) for k, v in values.items()}, path,
                   [lineno for lineno, _ in rows])
    return table, key_lines


def _inline_table(functions: Any, file: Path) -> _Table:
    if not isinstance(functions, dict):
        raise MaterialError(f"{file}: 'functions' must be a table ([functions]) of arrays")
    header = list(functions)
    _check_header(header, file)
    n = None
    cols: dict[str, np.ndarray] = {}
    for name in header:
        seq = functions[name]
        if not isinstance(seq, list):
            raise MaterialError(f"{file}: [functions] {name} must be an array of numbers, got {seq!r}")
        if n is None:
            n = len(seq)
        elif len(seq) != n:
            raise MaterialError(
                f"{file}: [functions] column {name!r} has {len(seq)} entries but "
                f"{header[0]!r} has {n}; all columns need one entry per row"
            )
        cols[name] = np.asarray(
            [_parse_value(v, file, name, f"row {i + 1}") for i, v in enumerate(seq)], dtype=np.float64
        )
    return _Table(cols, file, None)


def _check_table(table: _Table) -> None:
    file = table.file
    theta = table.theta
    n = theta.size
    if n < 2:
        raise MaterialError(
            f"{file}: the function table has {n} data row(s); at least 2 rows are needed to interpolate"
        )
    outside = np.flatnonzero((theta < 0.0) | (theta > 1.0))
    if outside.size:
        i = int(outside[0])
        raise MaterialError(
            f"{file}: column 'theta', {table.row(i)}: θ = {float(theta[i])!r} is outside [0, 1]; θ is the Li "
            f"occupancy c/c_max ({outside.size} row(s) outside in all)"
        )
    step = np.flatnonzero(np.diff(theta) <= 0.0)
    if step.size:
        i = int(step[0])
        raise MaterialError(
            f"{file}: column 'theta' must strictly increase, but {table.row(i + 1)} has θ = "
            f"{float(theta[i + 1])!r} after θ = {float(theta[i])!r} in {table.row(i)}; sort the rows by θ and "
            "remove duplicates"
        )
    if "U_V" in table.columns:
        u = table.columns["U_V"]
        rising = np.flatnonzero(np.diff(u) >= 0.0)
        if rising.size:
            pairs = "; ".join(
                f"{table.row(int(i))} -> {table.row(int(i) + 1)}: U_V {float(u[i])!r} -> {float(u[i + 1])!r}"
                for i in rising[:5]
            )
            more = f" (and {rising.size - 5} more)" if rising.size > 5 else ""
            raise MaterialError(
                f"{file}: column 'U_V' must strictly decrease with θ (the OCP falls as Li is inserted), "
                f"but it does not between {pairs}{more}; smooth or thin out the OCV data"
            )
    # every tabulated value, not only those at the 0.005-apart points Material checks
    for col, prop in (("U_V", "U"), ("D_m2_s", "D"), ("i0_A_m2", "i0"), ("sigma_S_m", "sigma")):
        if col not in table.columns:
            continue
        lo, hi = _FUNCTION_RANGES[prop]
        v = table.columns[col]
        bad = np.flatnonzero((v < lo) | (v > hi))
        if bad.size and not (prop != "U" and np.all(v[bad] <= 0.0)):  # zero or less: named below, with its reason
            i = int(bad[0])
            raise MaterialError(
                f"{file}: column {col!r}, {table.row(i)}: value {float(v[i])!r} is outside {lo:g}..{hi:g}, the "
                f"range of any intercalation material ({bad.size} row(s)); check the column's units")
    for col in ("D_m2_s", "i0_A_m2", "sigma_S_m"):
        if col not in table.columns:
            continue
        v = table.columns[col]
        bad = np.flatnonzero(v <= 0.0)
        if bad.size:
            i = int(bad[0])
            raise MaterialError(
                f"{file}: column {col!r}, {table.row(i)}: value {float(v[i])!r} is not > 0; {col} must be "
                f"positive (it is interpolated in log10) ({bad.size} row(s) affected)"
            )


def _check_theta_range(theta_range: Any) -> tuple[float, float] | None:
    if theta_range is None:
        return None
    try:
        lo, hi = (float(v) for v in theta_range)
    except (TypeError, ValueError):
        raise MaterialError(
            f"theta_range = {theta_range!r} must be a pair (lo, hi) of occupancies in [0, 1]"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo < hi <= 1.0):
        raise MaterialError(f"theta_range = ({lo}, {hi}) must satisfy 0 <= lo < hi <= 1")
    return lo, hi


def _coverage(table: _Table, needed: tuple[float, float] | None) -> None:
    if needed is None:
        return
    lo, hi = needed
    t0, t1 = float(table.theta[0]), float(table.theta[-1])
    if t0 > lo or t1 < hi:
        cols = ", ".join(c for c in table.columns if c != _THETA)
        raise MaterialError(
            f"{table.file}: column 'theta' covers θ {t0!r} to {t1!r}, but the simulation needs "
            f"θ {lo!r} to {hi!r}; the functions ({cols}) would be extrapolated. Extend the table or "
            "narrow theta_range"
        )


def _check_scalars(doc: dict, file: Path, bare_csv: bool) -> None:
    missing = [k for k in REQUIRED_SCALARS if k not in doc]
    if missing:
        expected = "\n".join(f"  {k}: {SCALAR_KEYS[k]}" for k in REQUIRED_SCALARS)
        if bare_csv:
            how = (
                "A bare CSV must carry them in '# key = value' comment lines above the header, e.g.\n"
                + "\n".join(f"# {line}" for line in _EXAMPLE_TOML.splitlines()[:7])
                + "\nor be referenced from a TOML file such as\n"
                + _EXAMPLE_TOML
            )
        else:
            how = "Example:\n" + _EXAMPLE_TOML
        raise MaterialError(
            f"{file}: missing required scalar(s): {', '.join(missing)}. Expected keys (units in the "
            f"names):\n{expected}\n{how}"
        )
    for key in ("name", "description", "source"):
        if key in doc and not isinstance(doc[key], str):
            raise MaterialError(f"{file}: {key} must be a string, got {doc[key]!r}")
    if not doc["name"].strip():
        raise MaterialError(f"{file}: name must not be empty")
    for key in _NUMERIC_SCALARS:
        if key not in doc:
            continue
        value = doc[key]
        if not _is_number(value) or not math.isfinite(float(value)) or float(value) <= 0.0:
            raise MaterialError(
                f"{file}: {key} = {value!r} is not allowed; it must be a finite number > 0 "
                f"({SCALAR_KEYS[key]})"
            )
        lo, hi = _FILE_RANGES[key]
        if not lo <= float(value) <= hi:
            top = f"{hi:g}" if math.isfinite(hi) else "(the theoretical capacity)"
            raise MaterialError(
                f"{file}: {key} = {value!r} is outside {lo:g}..{top}, the range of any intercalation material "
                f"({SCALAR_KEYS[key]}); is it in another unit?")


def _check_subtables(doc: dict, file: Path, table: _Table) -> None:
    for sub in _SUBTABLES:
        if sub not in doc:
            continue
        entries = doc[sub]
        if not isinstance(entries, dict):
            raise MaterialError(f"{file}: {sub} must be a table ([{sub}]), got {entries!r}")
        if sub == "parameters":
            for key, value in entries.items():
                if not _is_number(value) or not math.isfinite(float(value)):
                    raise MaterialError(
                        f"{file}: [parameters] {key} = {value!r} must be a finite number"
                    )
            continue
        for key, value in entries.items():
            if key not in COLUMNS:
                raise MaterialError(
                    f"{file}: unknown key {key!r} in [{sub}]{_suggest(key, COLUMNS)}; keys there are "
                    f"function columns: {', '.join(COLUMNS)}"
                )
            if key not in table.columns:
                raise MaterialError(
                    f"{file}: [{sub}] {key} is given but the table has no {key!r} column"
                )
            if sub == "valid_ranges":
                ok = isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)
                lo, hi = (float(value[0]), float(value[1])) if ok else (math.nan, math.nan)
                t0, t1 = float(table.theta[0]), float(table.theta[-1])
                if not (ok and t0 <= lo < hi <= t1):
                    raise MaterialError(
                        f"{file}: [valid_ranges] {key} = {value!r} must be [lo, hi] with "
                        f"{t0!r} <= lo < hi <= {t1!r} (inside the table's θ range)"
                    )
            elif not isinstance(value, str):
                raise MaterialError(f"{file}: [{sub}] {key} must be a string, got {value!r}")


def _read_key_lines(key_lines: list[tuple[int, str]], file: Path) -> dict:
    doc: dict = {}
    for lineno, text in key_lines:
        try:
            part = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MaterialError(
                f"{file}, line {lineno}: cannot read {text!r} as a 'key = value' line ({exc}); "
                'strings need quotes, e.g. # name = "my-nmc"'
            ) from None
        _merge(doc, part, file, lineno)
    return doc


def _merge(doc: dict, part: dict, file: Path, lineno: int) -> None:
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            _merge(doc[key], value, file, lineno)
        elif key in doc:
            raise MaterialError(f"{file}, line {lineno}: key {key!r} is given twice")
        else:
            doc[key] = value


def _unknown_keys(doc: dict, file: Path, allowed) -> None:
    unknown = [k for k in doc if k not in allowed]
    if unknown:
        hints = "; ".join(f"{k!r}{_suggest(k, allowed)}" for k in unknown)
        raise MaterialError(
            f"{file}: unknown key(s): {hints}. Allowed keys: {', '.join(allowed)}"
        )


# --------------------------------------------------------------------- load
def load(path: str | os.PathLike, *, theta_range: tuple[float, float] | None = None) -> Material:
    """Read a material from a TOML file or a bare CSV file.

    Parameters
    ----------
    path : str or path-like
        ``.toml`` (scalars plus an inline ``[functions]`` table or a
        ``functions_csv`` reference) or ``.csv`` (table with the scalars in
        ``# key = value`` comment lines); see the module documentation.
    theta_range : tuple of float, optional
        ``(lo, hi)``: the occupancy range that will be simulated. The table
        must cover it, otherwise a MaterialError says so.

    Returns
    -------
    Material
        Tabulated functions: U by PCHIP (linear extension), D/i0/sigma by
        PCHIP of log10 (constant extension); each ``valid_range`` is the
        table's θ range unless ``[valid_ranges]`` narrows it.

    Raises
    ------
    MaterialError
        For every problem, naming the file, the column, the 1-based data row
        and the offending value where there is one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "x.toml").write_text('''
    ... name = "x"
    ... c_max_mol_m3 = 49000.0
    ... density_kg_m3 = 4780.0
    ... capacity_mAh_g = 210.0
    ... molar_mass_g_mol = 97.46
    ... [functions]
    ... theta = [0.2, 1.0]
    ... D_m2_s = [1e-16, 1e-18]
    ... ''')
    >>> load(d / "x.toml").D(1.0)
    1e-18
    """
    path = _material_path(path)
    needed = _check_theta_range(theta_range)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".csv"):
        raise MaterialError(
            f"{path}: material files are .toml (scalars + functions) or .csv (table with "
            "'# key = value' scalar lines); this suffix is neither"
        )
    if not path.is_file():
        raise MaterialError(f"material file {path} does not exist")
    if suffix == ".toml":
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise MaterialError(f"{path}: not valid TOML ({exc})") from None
        except UnicodeDecodeError:
            raise MaterialError(f"{path}: not a UTF-8 text file") from None
        _unknown_keys(doc, path, _TOML_KEYS)
        has_csv, has_inline = "functions_csv" in doc, "functions" in doc
        if has_csv == has_inline:
            raise MaterialError(
                f"{path}: give the functions either as functions_csv = \"file.csv\" or as a "
                f"[functions] table ({'both are' if has_csv else 'neither is'} present)"
            )
        if has_csv:
            ref = doc["functions_csv"]
            if not isinstance(ref, str) or not ref.strip():
                raise MaterialError(f"{path}: functions_csv must be a file name, got {ref!r}")
            csv_path = (path.parent / ref).resolve() if not Path(ref).is_absolute() else Path(ref)
            if not csv_path.is_file():
                raise MaterialError(
                    f"{path}: functions_csv = {ref!r} points to {csv_path}, which does not exist "
                    "(the path is relative to the TOML file)"
                )
            table, key_lines = _read_csv(csv_path)
            _agree_with_toml(_read_key_lines(key_lines, csv_path), doc, csv_path, path)
        else:
            table = _inline_table(doc["functions"], path)
        _check_scalars(doc, path, bare_csv=False)
    else:
        table, key_lines = _read_csv(path)
        doc = _read_key_lines(key_lines, path)
        _unknown_keys(doc, path, (*SCALAR_KEYS, *_SUBTABLES))
        _check_scalars(doc, path, bare_csv=True)
    _check_table(table)
    _check_subtables(doc, path, table)
    _coverage(table, needed)
    return _build(doc, table, path)


def _agree_with_toml(csv_doc: dict, doc: dict, csv_path: Path, toml_path: Path) -> None:
    """A table read through ``functions_csv`` may repeat the TOML's scalars, not change or add to them."""
    for key, value in csv_doc.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            _agree_with_toml({f"{key}.{k}": v for k, v in value.items()},
                             {f"{key}.{k}": v for k, v in doc[key].items()}, csv_path, toml_path)
            continue
        if doc.get(key, object()) != value:
            if key in doc:
                said, fix = f"{doc[key]!r} there", "remove the line from the CSV or make it agree"
            else:
                said, fix = "not set there", "move the line into the TOML file"
            raise MaterialError(
                f"{csv_path}: its line for {key} ({value!r}) would be ignored: the table is read through "
                f"{toml_path}'s functions_csv, and the TOML's scalars are the ones used ({key} is {said}); {fix}")


def _build(doc: dict, table: _Table, path: Path) -> Material:
    sources = doc.get("sources", {})
    ranges = doc.get("valid_ranges", {})
    formulas = doc.get("formulas", {})
    props: dict[str, Property] = {}
    for col, slot in COLUMNS.items():
        if col not in table.columns:
            continue
        vr = ranges.get(col)
        props[slot] = tabulated_property(
            slot,
            table.theta,
            table.columns[col],
            source=sources.get(col, f"table {col} in {table.file.name}"),
            valid_range=(float(vr[0]), float(vr[1])) if vr is not None else None,
            formula=formulas.get(col),
        )
    try:
        return Material(
            name=doc["name"],
            description=doc.get("description", ""),
            source=doc.get("source", f"material file {path.name}"),
            c_max=float(doc["c_max_mol_m3"]),
            density=float(doc["density_kg_m3"]),
            capacity=_capacity_from_file(float(doc["capacity_mAh_g"])),
            molar_mass=_molar_mass_from_file(float(doc["molar_mass_g_mol"])),
            U=props.get("U"),
            D=props["D"],
            i0=props.get("i0"),
            sigma=props.get("sigma"),
            parameters={k: float(v) for k, v in doc.get("parameters", {}).items()},
            temperature=float(doc.get("temperature_K", T_REF)),
        )
    except MaterialError as exc:
        raise MaterialError(f"{path}: {exc}") from exc


def _capacity_from_file(capacity_mAh_g: float) -> float:
    return capacity_mAh_g * C_KG_PER_MAH_G


def _molar_mass_from_file(molar_mass_g_mol: float) -> float:
    return molar_mass_g_mol / 1000.0


def _file_value(si_value: float, from_file: Callable[[float], float], guess: float) -> float:
    """The file value whose conversion gives ``si_value`` back exactly, if one exists nearby."""
    for direction in (math.inf, -math.inf):
        candidate = guess
        for _ in range(8):
            if from_file(candidate) == si_value:
                return candidate
            candidate = math.nextafter(candidate, direction)
    return guess


# --------------------------------------------------------------------- save
def _tabulation_grid(material: Material) -> np.ndarray:
    """θ grid on which every property's reload interpolant meets ``_SAVE_RTOL``."""
    ends = np.geomspace(1e-7, 2.5e-3, 25)
    grid = np.unique(np.concatenate([np.linspace(0.0, 1.0, 401), ends, 1.0 - ends]))
    props = material.properties
    for _ in range(30):
        mids = 0.5 * (grid[:-1] + grid[1:])
        bad = np.zeros(mids.size, dtype=bool)
        for slot, prop in props.items():
            values = np.asarray(prop(grid), dtype=np.float64)
            _check_savable(material, slot, grid, values)
            interp = tabulated_property(slot, grid, values, source="")
            exact = np.asarray(prop(mids), dtype=np.float64)
            bad |= np.abs(interp(mids) - exact) > _SAVE_RTOL * np.abs(exact)
        if not bad.any() or grid.size >= _SAVE_MAX_POINTS:
            return grid
        grid = np.unique(np.concatenate([grid, mids[bad]]))
    return grid


def _check_savable(material: Material, slot: str, grid: np.ndarray, values: np.ndarray) -> None:
    if not np.all(np.isfinite(values)):
        i = int(np.flatnonzero(~np.isfinite(values))[0])
        raise MaterialError(
            f"cannot save material {material.name!r}: {slot}({float(grid[i])!r}) = {float(values[i])!r} is not finite"
        )
    if slot in LOG_INTERPOLATED and np.any(values <= 0.0):
        i = int(np.flatnonzero(values <= 0.0)[0])
        raise MaterialError(
            f"cannot save material {material.name!r}: {slot}({float(grid[i])!r}) = {float(values[i])!r} is not > 0"
        )
    if slot == "U" and np.any(np.diff(values) >= 0.0):
        i = int(np.flatnonzero(np.diff(values) >= 0.0)[0])
        raise MaterialError(
            f"cannot save material {material.name!r}: U is not strictly decreasing between "
            f"θ = {float(grid[i])!r} and {float(grid[i + 1])!r} ({float(values[i])!r} -> {float(values[i + 1])!r} V), which a "
            "material file requires"
        )


def _plain_formula(formula: str | None) -> str | None:
    """Formula text without the interpolation note a previous load appended."""
    if not formula:
        return None
    head = formula.split("; PCHIP", 1)[0]
    return None if head.startswith("PCHIP") or not head.strip() else head


def _metadata(material: Material) -> dict:
    meta: dict[str, Any] = {
        "name": material.name,
        "description": material.description,
        "source": material.source,
        "c_max_mol_m3": material.c_max,
        "density_kg_m3": material.density,
        "capacity_mAh_g": _file_value(
            material.capacity, _capacity_from_file, material.capacity / C_KG_PER_MAH_G
        ),
        "molar_mass_g_mol": _file_value(
            material.molar_mass, _molar_mass_from_file, material.molar_mass * 1000.0
        ),
        "temperature_K": material.temperature,
    }
    props = material.properties
    meta["sources"] = {_SLOT_COLUMN[s]: p.source for s, p in props.items()}
    meta["valid_ranges"] = {_SLOT_COLUMN[s]: [p.valid_range[0], p.valid_range[1]] for s, p in props.items()}
    formulas = {_SLOT_COLUMN[s]: _plain_formula(p.formula) for s, p in props.items()}
    formulas = {k: v for k, v in formulas.items() if v}
    if formulas:
        meta["formulas"] = formulas
    if material.parameters:
        meta["parameters"] = dict(material.parameters)
    return meta


def _table_lines(material: Material, grid: np.ndarray) -> list[str]:
    props = material.properties
    cols = [_THETA] + [_SLOT_COLUMN[s] for s in PROPERTY_NAMES if s in props]
    data = [grid] + [np.asarray(props[s](grid), dtype=np.float64) for s in PROPERTY_NAMES if s in props]
    lines = [",".join(cols)]
    for row in zip(*data):
        lines.append(",".join(repr(float(v)) for v in row))
    return lines


def _toml_value(value: Any) -> str:
    """One-line TOML text of a scalar, string or list of numbers."""
    if isinstance(value, list):
        return "[" + ", ".join(repr(float(v)) for v in value) + "]"
    if _is_number(value):
        return repr(float(value))
    return tomli_w.dumps({"k": value}).split("=", 1)[1].strip()


def _atomic_write(path: Path, text: str) -> None:
    from .._filemode import default_file_mode

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, default_file_mode())
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def save_targets(path: str | os.PathLike, *, overwrite: bool = False, fmt: str | None = None) -> str:
    """Check that :func:`save` can write ``path``; return the format ("toml" or "csv").

    Raises the error :func:`save` would raise (unknown suffix, missing
    folder, existing files without ``overwrite``) before anything is written,
    so a caller that writes other files first can check here.
    """
    path = _material_path(path)
    suffix = path.suffix.lower().lstrip(".")
    if fmt is None:
        fmt = suffix
    if fmt not in ("toml", "csv"):
        raise MaterialError(
            f"cannot save to {path}: the format is {fmt!r}; use a .toml path (TOML + CSV beside it) "
            "or a .csv path (bare CSV), or fmt='toml'/'csv'"
        )
    if suffix != fmt:
        raise MaterialError(f"cannot save to {path}: fmt={fmt!r} but the file name ends in {path.suffix!r}")
    if not path.parent.is_dir():
        raise MaterialError(f"cannot save to {path}: directory {path.parent} does not exist")
    targets = [path] if fmt == "csv" else [path.with_suffix(".csv"), path]
    folders = [str(t) for t in targets if t.exists() and not t.is_file()]
    if folders:
        raise MaterialError(f"cannot save to {path}: {', '.join(folders)} is a folder (or a device or pipe), not "
                            f"a file; give a file name, e.g. {path.parent / 'my-material.toml'}")
    existing = [str(t) for t in targets if t.exists()]
    if existing and not overwrite:
        raise MaterialError(
            f"refusing to overwrite existing file(s) {', '.join(existing)}; pass overwrite=True "
            "or choose another name"
        )
    return fmt


def save(
    material: Material,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    fmt: str | None = None,
) -> Path:
    """Write a material file that :func:`load` reads back.

    Every function is tabulated on a θ grid over [0, 1] (401 even points plus
    points packed geometrically towards 0 and 1, refined where needed) so that
    the reloaded interpolants reproduce the functions to about 1e-4 relative
    (1e-3 is promised); the scalars are written so that they reload exactly.
    Sources, validity ranges, formulas and parameters are kept.

    Parameters
    ----------
    material : Material
    path : str or path-like
        ``.toml``: writes the TOML and the table as a ``.csv`` of the same stem
        beside it. ``.csv``: writes a bare CSV with ``# key = value`` lines.
    overwrite : bool, optional
        Replace existing files; without it an existing target is an error.
    fmt : {"toml", "csv"}, optional
        Defaults to the suffix of ``path``; if given it must agree with it.

    Returns
    -------
    pathlib.Path
        The file written (the TOML file for ``fmt="toml"``).

    Notes
    -----
    Files are written to a temporary file in the same directory and then
    renamed, so a reader never sees a half-written file.
    """
    if not isinstance(material, Material):
        raise MaterialError(f"save() needs a socscope.materials.Material, got {type(material).__name__}")
    path = _material_path(path)
    fmt = save_targets(path, overwrite=overwrite, fmt=fmt)
    grid = _tabulation_grid(material)
    meta = _metadata(material)
    table = _table_lines(material, grid)
    banner = (
        f"# material {material.name!r}: functions of the Li occupancy theta, tabulated at "
        f"{grid.size} points"
    )
    if fmt == "toml":
        csv_path = path.with_suffix(".csv")
        meta = {**{k: v for k, v in meta.items() if k not in _SUBTABLES}, "functions_csv": csv_path.name,
                **{k: v for k, v in meta.items() if k in _SUBTABLES}}
        note = f"# scalars, sources and validity ranges are in {path.name}"
        _atomic_write(csv_path, "\n".join([banner, note, *table]) + "\n")
        _atomic_write(path, tomli_w.dumps(meta))
        return path
    lines = [banner, "# scalars below are TOML 'key = value' lines read by socscope.materials.load"]
    for key, value in meta.items():
        if isinstance(value, dict):
            lines.extend(f"# {key}.{sub} = {_toml_value(v)}" for sub, v in value.items())
        else:
            lines.append(f"# {key} = {_toml_value(value)}")
    _atomic_write(path, "\n".join([*lines, *table]) + "\n")
    return path
