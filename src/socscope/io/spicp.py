"""Single-particle ICP-OES files: event tables, time-resolved transients, calibrations.

* :func:`read_events` — one row per particle event with its Li and Mn
  intensities (CSV/TXT, comma, semicolon or tab separated, header lines above
  the table allowed). Columns are found by their headers (``Li``, ``Li 670.776``,
  ``I(Li)``, ``li_intensity_counts``, ``Lithium``; the same for Mn) or given
  with ``columns={"li": "...", "mn": "..."}``, as for
  :func:`socscope.io.load_cycler`. Lines starting with ``#`` are comments
  (socscope writes its provenance there). Returned columns:
  ``li_intensity_counts``, ``mn_intensity_counts``, then every column of the
  file under its own name.
* :func:`read_transient` — a time series (time, then counts or intensity
  per element): ``time_s``, ``li_counts``, ``mn_counts``.
* :func:`write_calibration` / :func:`read_calibration` — a calibration as a
  small TOML file.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from .._checks import path_argument
from ..errors import FileFormatError, ParameterError
from ._guard import reading
from .results import write_text_atomic

__all__ = ["EVENT_COLUMNS", "read_calibration", "read_events", "read_transient", "write_calibration"]

EVENT_COLUMNS = ("li_intensity_counts", "mn_intensity_counts")

_ELEMENT = {
    "li": re.compile(r"^(i\s*\(\s*)?(li|lithium)(\b|_|\d|\s|\(|$)", re.IGNORECASE),
    "mn": re.compile(r"^(i\s*\(\s*)?(mn|manganese)(\b|_|\d|\s|\(|$)", re.IGNORECASE),
}
_TIME = re.compile(r"^(time|t)(\b|_|\s|\(|/|$)", re.IGNORECASE)
_TIME_FACTOR = {"ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0, "h": 3600.0}


def _table(path: Path, what: str) -> pd.DataFrame:
    """A delimited table whose header is the first line with the table's column count."""
    path = path_argument(path, what=f"{what} path", example="sample.csv", error=FileFormatError)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file (expected {what})")
    with reading(path, what):
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if not lines:
            raise FileFormatError(f"{path}: the file is empty (expected {what})")
        # the separator: tab, then semicolon, then comma, whichever splits the last rows alike
        # (a semicolon table may write decimal commas)
        tail = lines[-min(len(lines), 3):]
        sep = next((c for c in ("\t", ";", ",") if tail[-1].count(c) and len({ln.count(c) for ln in tail}) == 1), ",")
        decimal = "," if sep != "," and "," in tail[-1] else "."
        width = tail[-1].count(sep)
        head = next(i for i, ln in enumerate(lines) if ln.count(sep) == width)
        raw = pd.read_csv(io.StringIO("\n".join(lines[head:])), sep=sep, decimal=decimal)
    raw.columns = [str(c).strip() for c in raw.columns]
    if raw.empty:
        raise FileFormatError(f"{path}: the table has a header but no rows (expected {what})")
    return raw


def _find(path: Path, raw: pd.DataFrame, key: str, columns: dict | None, example: str) -> str:
    if columns and key in columns:
        name = columns[key]
        if name not in raw.columns:
            raise FileFormatError(f"{path}: column {name!r} (given for {key!r}) is not in the file; it has "
                                  f"{list(raw.columns)}")
        return name
    hits = [c for c in raw.columns if (_ELEMENT[key].match(c) if key in _ELEMENT else _TIME.match(c))]
    if len(hits) != 1:
        why = "no column" if not hits else f"several columns ({hits})"
        raise FileFormatError(f"{path}: {why} for {key!r} among {list(raw.columns)}; map it with columns="
                              f"{{{example}}} (--li-column/--mn-column on the command line)")
    return hits[0]


#: no emission line's reading reaches 1e15 (counts or counts per second); a larger one is damage
INTENSITY_LIMIT = 1e15
#: a time stamp of a transient beyond a century [s] is damage
TIME_LIMIT_S = 3.2e9
#: the least Mn intensity of an event: below it Li/Mn overflows (1e-320 gave an infinite ratio),
#: and no detector resolves it from zero
MN_MINIMUM = 1e-30


def _numbers(path: Path, raw: pd.DataFrame, name: str, *, limit: float = INTENSITY_LIMIT,
             factor: float = 1.0, unit: str = "") -> np.ndarray:
    """The column ``name`` as floats (times ``factor``), each finite and within ±``limit`` [``unit``]."""
    values = pd.to_numeric(raw[name], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise FileFormatError(f"{path}: column {name!r} row {int(bad[0]) + 1} holds {raw[name].iloc[bad[0]]!r}, not a "
                              f"number ({bad.size} such rows); every event needs finite intensities")
    read = values
    with np.errstate(over="ignore"):
        values = values * factor
    bad = np.flatnonzero(~(np.abs(values) <= limit))
    if bad.size:
        k = int(bad[0])
        scaled = f" ({values[k]:g}{unit})" if factor != 1.0 else ""
        raise FileFormatError(f"{path}: column {name!r} row {k + 1} holds {read[k]:g}{scaled}, beyond the "
                              f"±{limit:g}{unit} any reading stays within ({bad.size} such rows); the file is damaged")
    return values


def _check_columns(columns, allowed) -> None:
    if columns is None:
        return
    if not isinstance(columns, dict) or set(columns) - set(allowed):
        raise ParameterError(f"columns must map some of {sorted(allowed)} to headers of the file, got {columns!r}; "
                             "e.g. columns={'li': 'Li 670.776', 'mn': 'Mn 257.611'}")


def read_events(path, *, columns: dict | None = None) -> pd.DataFrame:
    """Read a per-particle event table (see the module docstring).

    Raises
    ------
    FileFormatError
        The file is missing, empty or not a table; a Li or Mn column cannot be
        found or mapped; a value is not a number or beyond ±:data:`INTENSITY_LIMIT`;
        a Mn intensity is below :data:`MN_MINIMUM` (zero or negative) (the message
        names the file, column and row).
    """
    _check_columns(columns, ("li", "mn"))
    path = path_argument(path, what="an SP-ICP-OES event table path", example="sample.csv", error=FileFormatError)
    raw = _table(path, "an SP-ICP-OES event table (CSV/TXT with Li and Mn intensity columns)")
    li_col = _find(path, raw, "li", columns, "'li': 'Li 670.776', 'mn': 'Mn 257.611'")
    mn_col = _find(path, raw, "mn", columns, "'li': 'Li 670.776', 'mn': 'Mn 257.611'")
    li, mn = _numbers(path, raw, li_col), _numbers(path, raw, mn_col)
    bad = np.flatnonzero(mn < MN_MINIMUM)
    if bad.size:
        raise FileFormatError(f"{path}: column {mn_col!r} row {int(bad[0]) + 1} is {mn[bad[0]]:g}; a particle is a Mn "
                              f"event, so Mn intensities must be >= {MN_MINIMUM:g} ({bad.size} such rows: drop them or "
                              "check the column mapping)")
    bad = np.flatnonzero(li < 0)
    if bad.size:
        raise FileFormatError(f"{path}: column {li_col!r} row {int(bad[0]) + 1} is {li[bad[0]]:g}; Li intensities "
                              "must be >= 0 (background-subtracted values below zero: clip them at 0 first)")
    out = pd.DataFrame({"li_intensity_counts": li, "mn_intensity_counts": mn})
    extra = raw.drop(columns=[li_col, mn_col])
    out = pd.concat([out, extra.reset_index(drop=True)], axis=1)
    out.attrs.update({"source": str(path), "li_column": li_col, "mn_column": mn_col})
    return out


def read_transient(path, *, columns: dict | None = None) -> pd.DataFrame:
    """Read a time-resolved transient: ``time_s``, ``li_counts``, ``mn_counts``.

    The time column is found by its header (``time``, ``Time (ms)``, ``t_s``:
    ``ms``, ``us``, ``min``, ``h`` converted to s) or ``columns={"time": ...}``;
    a table without one is numbered in readings (``time_s`` = reading index,
    ``attrs["time_unit"] = "reading"``).
    """
    _check_columns(columns, ("time", "li", "mn"))
    path = path_argument(path, what="an SP-ICP-OES transient path", example="transient.csv", error=FileFormatError)
    raw = _table(path, "an SP-ICP-OES transient (time, Li and Mn columns)")
    example = "'time': 'Time (s)', 'li': 'Li 670.776', 'mn': 'Mn 257.611'"
    li_col = _find(path, raw, "li", columns, example)
    mn_col = _find(path, raw, "mn", columns, example)
    try:
        t_col = _find(path, raw, "time", columns, example)
    except FileFormatError:
        if columns and "time" in columns:
            raise
        t_col = None
    out = pd.DataFrame({"li_counts": _numbers(path, raw, li_col), "mn_counts": _numbers(path, raw, mn_col)})
    if t_col is None:
        out.insert(0, "time_s", np.arange(len(out), dtype=float))
        out.attrs["time_unit"] = "reading"
    else:
        unit = re.search(r"(?:\(|\[|_|/)\s*(ms|us|µs|min|h|s)\s*(?:\)|\]|$)", t_col)
        factor = _TIME_FACTOR.get(unit.group(1), 1.0) if unit else 1.0
        t = _numbers(path, raw, t_col, limit=TIME_LIMIT_S, factor=factor, unit=" s")
        if np.any(np.diff(t) <= 0):
            k = int(np.flatnonzero(np.diff(t) <= 0)[0])
            raise FileFormatError(f"{path}: column {t_col!r} does not increase at row {k + 2}; a transient's time "
                                  "must rise reading by reading")
        out.insert(0, "time_s", t)
        out.attrs["time_unit"] = "s"
    out.attrs.update({"source": str(path), "li_column": li_col, "mn_column": mn_col})
    return out


def write_calibration(calibration: dict, path, *, overwrite: bool = False, provenance: dict | None = None) -> Path:
    """Write a calibration (``Calibration.to_dict()``) as TOML, atomically.

    The file holds ``intercept``, ``slope``, ``covariance``, ``chi2``, ``dof``,
    ``provenance`` (JSON text) and the ``[references]`` table.
    """
    from .results import atomic_target

    path = path_argument(path, example="cal.toml")
    atomic_target(path, overwrite=overwrite)[1].unlink()
    d = calibration

    def arr(v):
        return "[" + ", ".join(repr(float(x)) for x in v) + "]"

    lines = ["# socscope SP-ICP-OES calibration: ratio = intercept + slope * DOL",
             f"intercept = {float(d['intercept'])!r}", f"slope = {float(d['slope'])!r}",
             "covariance = [" + ", ".join(arr(r) for r in d["covariance"]) + "]",
             f"chi2 = {float(d['chi2'])!r}", f"dof = {int(d['dof'])}"]
    if provenance is not None:
        lines.append(f"provenance = {json.dumps(json.dumps(provenance, default=str))}")
    lines += ["", "[references]"]
    for k, v in d["references"].items():
        lines.append(f"{k} = " + ("[" + ", ".join(json.dumps(str(x)) for x in v) + "]" if k == "names" else arr(v)))
    return write_text_atomic(path, "\n".join(lines) + "\n")


def read_calibration(path) -> dict:
    """The plain contents of a calibration file (see :func:`write_calibration`); build the
    object with :func:`socscope.analysis.spicp.load_calibration`."""
    path = path_argument(path, what="calibration path", example="cal.toml", error=FileFormatError)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file (expected a calibration written by 'socscope spicp calibrate')")
    with reading(path, "a socscope SP-ICP-OES calibration (TOML)"):
        d = tomllib.loads(path.read_text(encoding="utf-8"))
    missing = [k for k in ("intercept", "slope", "covariance", "chi2", "dof", "references") if k not in d]
    if missing:
        raise FileFormatError(f"{path}: not a socscope SP-ICP-OES calibration (no {', '.join(missing)}); write one "
                              "with 'socscope spicp calibrate'")
    return d
