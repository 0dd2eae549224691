"""Cycler records in, one table out.

:func:`load_cycler` reads a battery-cycler file and returns a
:class:`pandas.DataFrame` with the same leading columns for every vendor:

=============  ======================================================
``time_s``     time since the first record [s]
``voltage_V``  working-electrode (cell) voltage [V]
``current_A``  current [A], **positive on charge** (delithiation of a cathode)
``step``       the instrument's step / sequence number
``cycle``      cycle number (from the file, or derived: see below)
``capacity_Ah`` net charge passed since the first record [A h], positive on charge
=============  ======================================================

``df.attrs["capacity_source"]`` says whether ``capacity_Ah`` is the
instrument's own count or was integrated from the logged current (files
without a capacity column): only a count times a constant-current step
exactly (see :mod:`socscope.analysis.gitt`).

followed by every column the file holds, under its original name.

The vendor is detected from the file's content, not only its extension:

* Bio-Logic EC-Lab binary ``.mpr`` (read with galvani) and ASCII ``.mpt``;
* Neware ``.ndax`` / ``.nda`` (read with NewareNDA);
* Arbin native ``.res`` databases (through mdbtools' ``mdb-export``) and
  CSV/XLSX exports (``Test_Time``, ``Step_Index``, ``Cycle_Index``,
  ``Current``, ``Voltage``, ``Charge_Capacity``, ``Discharge_Capacity``,
  with or without units in the headers; signed current, counters that
  restart every cycle);
* Maccor text exports in their common layouts (``Rec#``/``Cyc#``/``Test
  (Sec)``/``Amps``/``Volts``/``Amp-hr``/``State``, the milli-unit
  ``mAmps``/``mAmp-hr`` (mA, mA h), or ``Rec``/``Cycle P``/``TestTime``/
  ``Current [A]``/``Cap. [Ah]``/``Md``, with data rows that may end with a
  separator the header lacks): unsigned current and capacity, the state
  C/D/R gives the sign; elapsed time in seconds, in a unit read from the
  clock column, or as ``d hh:mm:ss``;
* Neware CSV/XLSX exports: the flat table (``Step Type``, ``Chg.
  Cap.(mAh)``, ...) and the "regular" CSV export of three levels, a cycle,
  a step and a record header line, with cycle rows, step rows (one leading
  empty field) and record rows (two) interleaved: every record takes the
  cycle index and the step index, number and type of the rows above it;
* PEC SBT CSV exports: a block of ``key:,value`` lines, then ``Test``,
  ``Cell``, ``Step``, ``Instruction Name``, ``Cycle``, ``Total Time (Hours
  in hh:mm:ss.xxx)``, ``Voltage (V)``, ``Current (A)``, ``Charge Capacity
  (mAh)``, ``Discharge Capacity (mAh)``, ...;
* Battery Data Format (BDF) CSV: every header ``Quantity / unit`` (``Test Time / h``,
  ``Voltage / V``, ``Current / A``, ``Step Type / 1``, ``Cycle Count / 1``, ``Charge Capacity /
  Ah``, ...), the units read from the headers;
* Bio-Logic EC-Lab text exported as (semicolon) CSV;
* any delimited text file: with a column mapping (``columns=``), or with
  headers it recognises (:data:`CSV_NAMES`: ``time_s``, ``time/h``,
  ``Ewe/V``, ``current_mA``, ... case-insensitive, converted to SI; the
  schema's own names, so a table this module returns reads back as written).
  Below a header block of a layout it does not know, the error names the
  line where a table seems to start and the call that reads it.

For every vendor table the header row (below any header block), the
separator (tab, semicolon, comma) and the decimal mark are found in the
content, and units are read from the headers (``Current(mA)``, ``Cap.
[Ah]``, ``time/h``, a clock format such as ``hh:mm:ss``), from the name
(``mAmps``), or from the vendor's convention for a header without one; a
column whose unit cannot be known is named in a warning. A signed current
is checked against the file's own evidence: its state / step-type column,
else its charge and discharge capacity columns (which one grows while current
flows); where they say the file counts discharge positive, the sign is
flipped (and a note says so), and where they agree with neither convention on
at least 90 % of the rows with current, the file is refused. A last line with
fewer fields than the header, or without a line end and with a last field
written unlike the one above it (``3.99`` under ``3.9991``), was cut short:
it is left out, with a warning; a complete last line without a line end, as
many instruments write it, is kept. What was read is recorded in
``df.attrs``: ``vendor``, ``layout``, ``column_map``, ``units``,
``conversions`` and ``notes`` (``socscope cycler summary --verbose`` prints
them).

Readers for binary formats need the optional extra ``socscope[cycler]``.
"""

from __future__ import annotations

import codecs
import io
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import FileFormatError, SocscopeWarning
from ._guard import reading

__all__ = ["CSV_NAMES", "LIMITS", "SCHEMA", "SUFFIXES", "VENDORS", "detect_vendor", "load_cycler", "record_problem"]

SCHEMA = ("time_s", "voltage_V", "current_A", "step", "cycle", "capacity_Ah")
VENDORS = ("biologic-mpr", "biologic-mpt", "biologic-csv", "neware-ndax", "neware-nda", "neware-csv", "arbin-res",
           "arbin", "maccor", "pec", "bdf", "xlsx", "csv")

#: the file names each format of :data:`VENDORS` comes under (the messages list them from here)
SUFFIXES = {"biologic-mpr": (".mpr",), "biologic-mpt": (".mpt",), "biologic-csv": (".csv", ".txt"),
            "neware-ndax": (".ndax",), "neware-nda": (".nda",), "neware-csv": (".csv", ".xlsx"),
            "arbin-res": (".res",), "arbin": (".csv", ".xlsx"), "maccor": (".txt", ".csv"), "pec": (".csv",),
            "bdf": (".csv",), "xlsx": (".xlsx",), "csv": (".csv", ".txt")}


def _expected() -> str:
    """What a cycler file may be, for messages: every suffix of :data:`SUFFIXES`, once."""
    suffixes = list(dict.fromkeys(x for v in VENDORS for x in SUFFIXES[v]))
    return ("expected a cycler record: " + ", ".join(suffixes[:-1]) + f" or {suffixes[-1]} (Bio-Logic, Neware, "
            "Arbin, Maccor, PEC, Battery Data Format, or a delimited table)")

#: physically possible magnitudes of a cycler record's values (a larger one is damage, not data):
#: a cell or a module below 1 kV, below 10 kA, within a century, below 1 MA h
LIMITS = {"voltage_V": 1e3, "current_A": 1e4, "time_s": 3.2e9, "capacity_Ah": 1e6}

#: seconds mdb-export may take over one table of an Arbin .res file
_MDB_TIMEOUT_S = 120

#: header names (lower case) a plain text table may use for each schema column,
#: with the factor that converts the column to the schema's unit; ``step``,
#: ``cycle`` and ``capacity_Ah`` only under the schema's own names (vendors'
#: capacity columns are often unsigned or restart every step, so they are not
#: guessed: pass ``columns=`` for those)
CSV_NAMES = {
    "time_s": {"time_s": 1.0, "time": 1.0, "time/s": 1.0, "time (s)": 1.0, "t_s": 1.0, "test_time_s": 1.0,
               "time_h": 3600.0, "time/h": 3600.0, "time (h)": 3600.0, "time_min": 60.0, "time (min)": 60.0},
    "voltage_V": {"voltage_v": 1.0, "voltage": 1.0, "ewe/v": 1.0, "ecell/v": 1.0, "voltage (v)": 1.0, "e/v": 1.0,
                  "potential_v": 1.0, "potential": 1.0, "voltage/v": 1.0},
    "current_A": {"current_a": 1.0, "current": 1.0, "i/a": 1.0, "current (a)": 1.0, "current/a": 1.0,
                  "current_ma": 1e-3, "i/ma": 1e-3, "current (ma)": 1e-3, "current/ma": 1e-3,
                  "current_ua": 1e-6, "current (ua)": 1e-6, "current (µa)": 1e-6},
    "step": {"step": 1.0},
    "cycle": {"cycle": 1.0},
    "capacity_Ah": {"capacity_ah": 1.0},
}

#: ``df.attrs["capacity_source"]`` of a record whose capacity_Ah the reader
#: integrated from the logged current (the file had no charge count); the
#: titration analyses then time steps by the clock alone
INTEGRATED = "integrated from the logged current"

_MPR_MAGIC = b"BIO-LOGIC MODULAR FILE"
_MPT_MAGIC = b"EC-Lab ASCII FILE"
_ZIP_MAGIC = b"PK\x03\x04"
_NDA_MAGIC = b"NEWARE"


def detect_vendor(path) -> str:
    """Name the format of a cycler file from its first bytes.

    Returns
    -------
    str
        One of :data:`VENDORS`.

    Raises
    ------
    FileFormatError
        If the file is missing, empty, or of no known kind.
    """
    return _detect(Path(path))[0]


def _detect(path: Path) -> tuple[str, _Layout | None]:
    """The format of a cycler file and, for a vendor's text export, its table layout.

    The file is opened once: its first 4 KB name a binary format; a text
    file's first 256 KB are scanned for a vendor table (:func:`_find_layout`),
    whose layout is returned so that the reader need not look for it again.
    """
    if path.is_dir():
        raise FileFormatError(f"{path}: is a folder, not a file ({_expected()}); give one file of the folder")
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file ({_expected()})")
    with open(path, "rb") as fh:
        head = fh.read(4096)
        text = head and b"\x00" not in head and not head.startswith((_MPR_MAGIC, _MPT_MAGIC, _ZIP_MAGIC, _NDA_MAGIC))
        more = fh.read(262144 - len(head)) if text else b""  # the rest of the 256 KB a table is looked for in
    if not head:
        raise FileFormatError(f"{path}: the file is empty ({_expected()})")
    if head.startswith(_MPR_MAGIC):
        return "biologic-mpr", None
    if head.startswith(_MPT_MAGIC):
        return "biologic-mpt", None
    if head.startswith(_JET_MAGIC):
        return "arbin-res", None
    if head.startswith(_ZIP_MAGIC):
        return ("xlsx" if (b"[Content_Types].xml" in head or path.suffix.lower() in (".xlsx", ".xlsm"))
                else "neware-ndax"), None
    if head.startswith(_NDA_MAGIC):
        return "neware-nda", None
    if b"\x00" not in head:
        layout = _find_layout_in(head + more)
        if layout is not None:
            return layout.vendor, layout
    if b"\x00" in head:
        raise FileFormatError(
            f"{path}: unknown binary format (first bytes {head[:16]!r}); {_expected()}"
        )
    binary = {".mpr": "Bio-Logic .mpr", ".mpt": "EC-Lab .mpt", ".ndax": "Neware .ndax", ".nda": "Neware .nda",
              ".res": "Arbin .res"}
    if path.suffix.lower() in binary:
        raise FileFormatError(
            f"{path}: named like a {binary[path.suffix.lower()]} file but it is plain text without that "
            f"format's header (first bytes {head[:16]!r}); export the record again from the instrument, or, "
            "if it is a delimited table, give it a .csv name"
        )
    return "csv", None


def load_cycler(path, *, vendor: str | None = None, columns: dict | None = None, **csv_options) -> pd.DataFrame:
    """Read a cycler file into the common schema (see the module docstring).

    Parameters
    ----------
    path : str or Path
    vendor : str, optional
        Force a reader (one of :data:`VENDORS`); default: detected from content.
    columns : dict, optional
        For text files and spreadsheets: schema name -> column name in the file, e.g.
        ``{"time_s": "Test Time (s)", "voltage_V": "Voltage (V)", "current_A": "Current (A)"}``;
        a key may name another unit instead (``time_h``, ``voltage_mV``, ``current_mA``,
        ``capacity_mAh``: any unit of :data:`UNITS`), which is converted to SI.
        A plain table (``vendor='csv'``) needs time, voltage and current; ``step``, ``cycle`` and
        ``capacity_Ah`` are optional (capacity is then integrated from the current). For a
        vendor's table the mapping replaces only the columns it names (and their units), e.g.
        ``{"voltage_mV": "Volts"}``. Without it, the columns are found by their headers
        (:data:`CSV_NAMES`, units converted to SI).
    **csv_options
        Passed to :func:`pandas.read_csv` for text files (``sep``, ``decimal``, ...).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    FileFormatError
        Naming the file and what was expected.
    """
    path = Path(path)
    # a detected vendor text export comes with its table layout; a forced vendor's is found by its reader
    kind, layout = (vendor, None) if vendor else _detect(path)
    if kind not in VENDORS:
        raise FileFormatError(f"{path}: vendor {vendor!r} is not one of {VENDORS}")
    readers = {
        "biologic-mpr": _read_mpr,
        "biologic-mpt": _read_mpt,
        "neware-ndax": _read_neware,
        "neware-nda": _read_neware,
        "csv": lambda p: _read_csv(p, given, csv_options),
        "arbin": lambda p: _read_text_layout(p, "arbin", layout, given),
        "arbin-res": _read_arbin_res,
        "maccor": lambda p: _read_text_layout(p, "maccor", layout, given),
        "neware-csv": lambda p: _read_text_layout(p, "neware-csv", layout, given),
        "pec": lambda p: _read_text_layout(p, "pec", layout, given),
        "bdf": lambda p: _read_text_layout(p, "bdf", layout, given),
        "biologic-csv": lambda p: _read_text_layout(p, "biologic-csv", layout),
        "xlsx": lambda p: _read_xlsx(p, given),
    }
    given = _given_columns(path, columns) if columns else None
    if given and kind not in ("csv", *_TABLE_KINDS):
        raise FileFormatError(f"{path}: columns= names the columns of a text table or spreadsheet; a {kind} record "
                              "names its own: leave columns= out")
    with reading(path, f"a {kind} cycler record"):  # any other library error, named with the file
        try:
            df = readers[kind](path)
        except FileFormatError:
            raise
        except _ColumnError as exc:  # a column of numbers that the schema cannot hold
            raise FileFormatError(f"{path}: {exc}") from None
        except (ValueError, TypeError) as exc:  # a column that does not convert to numbers
            advice = ("; for decimal commas pass decimal=',' (with sep=';'), and give times as elapsed seconds, "
                      "not clock times") if kind == "csv" else "; re-export the record from the cycler's software"
            raise FileFormatError(f"{path}: a column of the {kind} table holds values that are not numbers "
                                  f"({' '.join(str(exc).split())[:200]}){advice}") from None
        problem = None if df.empty else (record_problem(df) or _range_problem(df, kind))
    if df.empty:
        raise FileFormatError(f"{path}: the {kind} file holds no data points")
    if problem:
        message, call = problem if isinstance(problem, tuple) else (problem, None)
        if call:
            raise _hinted(f"{path}: {message}", **call)
        raise FileFormatError(f"{path}: {message}")
    df.attrs["source_file"] = str(path)
    df.attrs["vendor"] = kind
    df.attrs.setdefault("layout", {"biologic-mpr": "EC-Lab binary (.mpr, read with galvani)",
                                   "biologic-mpt": "EC-Lab text (.mpt)",
                                   "neware-ndax": "Neware binary (read with NewareNDA)",
                                   "neware-nda": "Neware binary (read with NewareNDA)",
                                   "csv": "delimited text table"}.get(kind, kind))
    df.attrs["sign_convention"] = "current_A and capacity_Ah positive on charge (delithiation)"
    return df


#: the formats whose tables ``columns=`` may re-map (a plain table, ``csv``, is read by its mapping)
_TABLE_KINDS = ("xlsx", "arbin", "maccor", "neware-csv", "pec", "bdf")

#: the unit a column beyond :data:`LIMITS` is most likely in (a milli-unit read as the unit)
_SMALLER = {"time_s": "time_ms", "voltage_V": "voltage_mV", "current_A": "current_mA", "capacity_Ah": "capacity_mAh"}


def _range_problem(df: pd.DataFrame, kind: str = "csv") -> tuple[str, dict | None] | None:
    """A value beyond :data:`LIMITS` (damage, not data), or None; with the ``load_cycler`` keywords that
    would read the column in a smaller unit, where the column it came from is known."""
    for name, limit in LIMITS.items():
        values = np.abs(df[name].to_numpy(float))
        bad = np.flatnonzero(values > limit)
        if bad.size:
            message = (f"{name} of data row {bad[0] + 1} is {df[name].iloc[bad[0]]:.6g}, beyond the physically "
                       f"possible ±{limit:g} ({bad.size} row(s)); the file is damaged or a column is in another unit")
            source = (df.attrs.get("column_map") or {}).get(name)
            if isinstance(source, str) and source in df.columns and kind in _TABLE_KINDS:
                call = {"columns": {_SMALLER[name]: source}}
                return (f"{message}: re-export it, or, if {source!r} is in {_SMALLER[name].split('_')[1]}, read it "
                        f"with load_cycler(path, columns={call['columns']!r})"), call
            return f"{message}: re-export it, or pass columns= with converted columns", None
    return None


# -- helpers -------------------------------------------------------------------
def _hinted(message: str, **call) -> FileFormatError:
    """A FileFormatError whose message shows a ``load_cycler`` call that reads the file.

    ``call`` holds that call's keywords (``vendor``, ``columns``, ``sep``, ``skiprows``) as the
    attribute ``read_with``, so that a command line can show the same advice in its own options.
    """
    exc = FileFormatError(message)
    exc.read_with = call
    return exc


def _given_columns(path, columns: dict) -> dict:
    """``columns=`` as schema name -> (column in the file, its unit or None, factor to SI).

    A key is a schema name (:data:`SCHEMA`), or a quantity and a unit of :data:`UNITS`
    (``time_h``, ``voltage_mV``, ``current_mA``, ``capacity_mAh``).
    """
    if not isinstance(columns, dict):
        raise FileFormatError(f"{path}: columns= is {columns!r}; give a dict of schema name -> column name, e.g. "
                              "{'time_s': 'Time', 'voltage_V': 'Volts', 'current_mA': 'mAmps'}")
    si = {"time_s": "s", "voltage_V": "V", "current_A": "A", "capacity_Ah": "Ah", "step": None, "cycle": None}
    given = {}
    for key, col in columns.items():
        name, _, unit = str(key).partition("_")
        if key in si:
            name, unit, factor = key, si[key], 1.0
        elif name in ("time", "voltage", "current", "capacity") and unit.lower() in UNITS[name]:
            factor = UNITS[name][unit.lower()]
            name = next(k for k in si if k.startswith(name + "_"))
        else:
            kinds = "; ".join(f"{q}_<{'|'.join(UNITS[q])}>" for q in UNITS)
            raise FileFormatError(f"{path}: columns= key {key!r} is neither a schema name {SCHEMA} nor a quantity "
                                  f"with a known unit ({kinds}); e.g. columns={{'current_mA': 'mAmps'}}")
        if name in given:
            raise FileFormatError(f"{path}: columns= names {name} twice ({given[name][0]!r} and {col!r}); keep one")
        given[name] = (col, unit, factor)
    return given


class _ColumnError(ValueError):
    """A column that reads as numbers but not as the schema's: its message is complete and names the row."""


def record_problem(df: pd.DataFrame, values=("voltage_V", "current_A", "capacity_Ah")) -> str | None:
    """What is wrong with a record's times and values, or None.

    Times must be finite and never decrease (equal stamps at step changes are
    common); the columns ``values`` must be finite. Used by :func:`load_cycler`
    on every file and by the analyses on the tables they are given.
    """
    t = df["time_s"].to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        return (f"the time of data row {bad[0] + 1} is {float(t[bad[0]])!r}; every record needs a finite time "
                f"({bad.size} row(s) affected; remove them or fill the gap)")
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        k = int(back[0]) + 1
        return (f"time runs backwards at data row {k + 1} ({t[k - 1]:.6g} s, then {t[k]:.6g} s; {back.size} "
                "place(s)); records must be in time order: sort the table by time, or split a file that joins "
                "several tests")
    for name in values:
        bad = np.flatnonzero(~np.isfinite(df[name].to_numpy(float)))
        if bad.size:
            return (f"{name} of data row {bad[0] + 1} (t = {t[bad[0]]:.6g} s) is not a finite number "
                    f"({bad.size} row(s) affected); remove or repair those rows")
    return None


def _assemble(raw: pd.DataFrame, time_s, voltage_V, current_A, step, cycle, capacity_Ah, *,
              counted: bool = True) -> pd.DataFrame:
    """The schema's table; ``counted`` False where capacity_Ah was integrated from the logged current."""
    for name, counter in (("step", step), ("cycle", cycle)):
        values = np.asarray(counter, dtype=float)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"the {name} column has empty cells")
        huge = np.flatnonzero(np.abs(values) > 2.0**53)
        if huge.size:
            # beyond 2**53 a float no longer holds every whole number, and beyond 2**63 int64 wraps
            raise _ColumnError(f"the {name} column holds {values[huge[0]]:.6g} in data row {huge[0] + 1} "
                               f"({huge.size} row(s)); {name} numbers stay below 2**53: the file is damaged, "
                               "re-export it")
        odd = np.flatnonzero(values != np.round(values))
        if odd.size:
            # a cast to int64 would truncate 1.5 to 1 and join two steps into one
            raise _ColumnError(f"the {name} column holds {values[odd[0]]:g} in data row {odd[0] + 1} "
                               f"({odd.size} row(s)); {name} numbers are whole numbers: re-export the record, or "
                               f"renumber the {name}s")
    out = pd.DataFrame({
        "time_s": np.asarray(time_s, dtype=float),
        "voltage_V": np.asarray(voltage_V, dtype=float),
        "current_A": np.asarray(current_A, dtype=float),
        "step": np.asarray(step, dtype=np.int64),
        "cycle": np.asarray(cycle, dtype=np.int64),
        "capacity_Ah": np.asarray(capacity_Ah, dtype=float),
    })
    extra = raw.reset_index(drop=True)
    extra = extra[[c for c in extra.columns if c not in out.columns]]
    out = pd.concat([out, extra], axis=1)
    out.attrs["capacity_source"] = "counted by the instrument" if counted else INTEGRATED
    return out


def _integrate(time_s: np.ndarray, current_A: np.ndarray) -> np.ndarray:
    """Net charge [A h] by the trapezoidal rule."""
    dq = 0.5 * (current_A[1:] + current_A[:-1]) * np.diff(time_s)
    return np.concatenate([[0.0], np.cumsum(dq)]) / 3600.0


def _runs(*keys: np.ndarray) -> np.ndarray:
    """Run number of every record: it increases wherever any key changes."""
    change = np.zeros(keys[0].size - 1, dtype=bool)
    for k in keys:
        change |= k[1:] != k[:-1]
    return np.concatenate([[0], np.cumsum(change)])


def _chain(values: np.ndarray, run: np.ndarray) -> np.ndarray:
    """Turn counters that restart with every run into one running total."""
    last = pd.Series(values).groupby(run).last().to_numpy()
    return values + np.concatenate([[0.0], np.cumsum(last)[:-1]])[run]


def _need(path, module: str, extra: str = "cycler"):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise FileFormatError(
            f"{path}: reading this format needs the package '{module}': pip install 'socscope[{extra}]'"
        ) from None


def _biologic_frame(path, raw: pd.DataFrame) -> pd.DataFrame:
    if raw.empty:
        raise FileFormatError(f"{path}: the EC-Lab table has a header but no data rows")
    cols = set(raw.columns)
    time = raw["time/s"].to_numpy(float)
    volt_col = next((c for c in ("Ewe/V", "Ecell/V", "<Ewe>/V", "<Ewe/V>") if c in cols), None)
    if volt_col is None:
        raise FileFormatError(
            f"{path}: no voltage column (Ewe/V or Ecell/V) — is this an impedance-only or other non-cycling technique?"
        )
    current_col = next((c for c in ("I/mA", "<I>/mA") if c in cols), None)
    if current_col is not None:
        current = raw[current_col].to_numpy(float) * 1e-3
        current_from = current_col
    elif "dq/mA.h" in cols:
        current_from = "'dq/mA.h' over each time step"
        # the charge increment of every point over its time step: the
        # instrument's own count, so integrating it back gives (Q-Qo) exactly
        dq_c = raw["dq/mA.h"].to_numpy(float) * 3.6
        dt = np.diff(time)
        current = np.zeros_like(time)
        with np.errstate(divide="ignore", invalid="ignore"):
            current[1:] = np.where(dt > 0, dq_c[1:] / dt, 0.0)  # C/s = A
        current[0] = current[1] if time.size > 1 else 0.0
    else:
        raise FileFormatError(f"{path}: no current column (I/mA) and no charge increments (dq/mA.h)")
    # a counted charge: (Q-Qo), or the dq/mA.h increments the current was made from
    counted = "(Q-Qo)/mA.h" in cols or current_col is None
    capacity = raw["(Q-Qo)/mA.h"].to_numpy(float) * 1e-3 if "(Q-Qo)/mA.h" in cols else _integrate(time, current)
    step = raw["Ns"].to_numpy() if "Ns" in cols else np.zeros(time.size, dtype=np.int64)
    if "cycle number" in cols:
        cycle, cycle_from = raw["cycle number"].to_numpy(), "cycle number"
    elif "half cycle" in cols:
        cycle = raw["half cycle"].to_numpy() // 2  # two half cycles a cycle, counted from 0
        cycle_from = "'half cycle' // 2"
    else:
        cycle, cycle_from = np.zeros(time.size, dtype=np.int64), None
    df = _assemble(raw, time - time[0], raw[volt_col], current, step, cycle, capacity - capacity[0],
                   counted=counted)
    capacity_from = ("(Q-Qo)/mA.h" if "(Q-Qo)/mA.h" in cols else
                     "'dq/mA.h', summed" if current_col is None else INTEGRATED)
    df.attrs["column_map"] = {"time_s": "time/s", "voltage_V": volt_col, "current_A": current_from,
                              "step": "Ns" if "Ns" in cols else None, "cycle": cycle_from, "capacity_Ah": capacity_from}
    df.attrs["units"] = {"time": "s", "voltage": "V", "current": "mA" if current_col else "mA h / s",
                         **({"capacity": "mA h"} if counted else {})}
    df.attrs["conversions"] = {c: "mA -> A: x 0.001" if c == current_col else "mA h -> A h: x 0.001"
                               for c in (current_col, "(Q-Qo)/mA.h") if c in cols}
    if current_col is None:
        df.attrs["conversions"]["dq/mA.h"] = "mA h per time step -> A: x 3.6 / dt"
    df.attrs["notes"] = ["current signed by EC-Lab: positive on oxidation of the working electrode (charge of a "
                         "cathode)"]
    return df


def _read_mpr(path: Path) -> pd.DataFrame:
    biologic = _need(path, "galvani.BioLogic")
    # galvani raises ValueError/KeyError/struct errors on damage; given a path it opens the file and
    # never closes it, so it is given an open file, read whole before the block ends
    with reading(path, "a Bio-Logic .mpr file"), open(path, "rb") as fh:
        mpr = biologic.MPRfile(fh)
    raw = pd.DataFrame(mpr.data)
    if "time/s" not in raw.columns:
        raise FileFormatError(f"{path}: the .mpr data has no time column; columns are {list(raw.columns)}")
    return _biologic_frame(path, raw)


def _read_mpt(path: Path) -> pd.DataFrame:
    text = path.read_bytes().decode("latin-1")
    lines = text.splitlines()
    n_header = None
    for line in lines[:5]:
        if line.lower().startswith("nb header lines"):
            try:
                n_header = int(line.split(":")[1].strip())
            except (IndexError, ValueError):
                pass
    if n_header is None:
        raise FileFormatError(f"{path}: EC-Lab text file without a 'Nb header lines' line")
    body = "\n".join(lines[n_header - 1:])
    first = lines[n_header] if len(lines) > n_header else ""
    decimal = "," if ("," in first and "." not in first) else "."
    with reading(path, "an EC-Lab text table"):
        raw = pd.read_csv(io.StringIO(body), sep="\t", decimal=decimal)
    raw = raw.loc[:, [c for c in raw.columns if not str(c).startswith("Unnamed")]]
    if "time/s" not in raw.columns:
        raise FileFormatError(f"{path}: the EC-Lab table has no 'time/s' column; columns are {list(raw.columns)}")
    return _biologic_frame(path, raw)


def _read_neware(path: Path) -> pd.DataFrame:
    nda = _need(path, "NewareNDA")
    with reading(path, "a Neware .nda/.ndax file"):
        raw = nda.read(str(path))
    need = ("Time", "Voltage", "Current(mA)", "Step", "Cycle")
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise FileFormatError(f"{path}: Neware table lacks columns {missing}; has {list(raw.columns)}")
    # 'Time' restarts at every step: add the end time of the previous steps
    run = _runs(raw["Step"].to_numpy())
    time = _chain(raw["Time"].to_numpy(float), run)
    current = raw["Current(mA)"].to_numpy(float) * 1e-3
    counted = "Charge_Capacity(mAh)" in raw.columns and "Discharge_Capacity(mAh)" in raw.columns
    if counted:
        # step capacities restart at every step too: net = charge − discharge
        net = (raw["Charge_Capacity(mAh)"].to_numpy(float) - raw["Discharge_Capacity(mAh)"].to_numpy(float)) * 1e-3
        capacity = _chain(net, run)
    else:
        capacity = _integrate(time, current)
    df = _assemble(raw, time - time[0], raw["Voltage"], current, raw["Step"], raw["Cycle"], capacity,
                   counted=counted)
    df.attrs["column_map"] = {"time_s": "Time, restarting every step: chained over the steps", "voltage_V": "Voltage",
                              "current_A": "Current(mA)", "step": "Step", "cycle": "Cycle",
                              "capacity_Ah": ("'Charge_Capacity(mAh)' - 'Discharge_Capacity(mAh)', chained over the "
                                              "steps") if counted else INTEGRATED}
    df.attrs["units"] = {"time": "s", "voltage": "V", "current": "mA",
                         **({"charge": "mA h", "discharge": "mA h"} if counted else {})}
    df.attrs["conversions"] = {"Current(mA)": "mA -> A: x 0.001",
                               **({"Charge_Capacity(mAh)": "mA h -> A h: x 0.001",
                                   "Discharge_Capacity(mAh)": "mA h -> A h: x 0.001"} if counted else {})}
    df.attrs["notes"] = ["current signed by NewareNDA: positive on charge"]
    return df


def _read_csv(path: Path, given: dict | None, options: dict) -> pd.DataFrame:
    columns = {k: v[0] for k, v in given.items()} if given else None
    if columns:
        missing_keys = [k for k in ("time_s", "voltage_V", "current_A") if k not in columns]
        if missing_keys:
            raise FileFormatError(f"{path}: the column mapping must name {missing_keys}")
    # without a separator, sniff it (python engine); with one, the fast C engine
    options = options if "sep" in options else {"sep": None, "engine": "python"} | options
    with reading(path, "a delimited text table"):
        raw = pd.read_csv(path, **options)
        if "index_col" not in options and raw.shape[1] > 1 and len(raw) and raw.iloc[:, -1].isna().all():
            # an empty last column: data rows that end with a separator the header lacks make
            # pandas take the first column for row names and shift the rest; read without row names,
            # the empty last fields dropped
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                raw = pd.read_csv(path, index_col=False, **options)
    raw = raw.dropna(how="all")  # rows whose every field is empty (";;;;" lines) hold no record
    if raw.empty:
        raise FileFormatError(f"{path}: the table has a header but no data rows")
    if columns:
        absent = [v for v in columns.values() if v not in raw.columns]
        if absent:
            raise FileFormatError(f"{path}: columns {absent} are not in the file; it has {list(raw.columns)}")
        factors = {k: v[2] for k, v in given.items()}
    else:
        unnamed = sum(str(c).startswith("Unnamed") for c in raw.columns)
        start = _table_start(path) if 2 * unnamed > raw.shape[1] and "skiprows" not in options else None
        if start is not None:  # a header block of a layout not known here: say where the table is
            k, sep, names = start
            raise _hinted(
                f"{path}: its first line is no table header ({unnamed} of {raw.shape[1]} columns unnamed), and "
                f"the file is of no layout socscope knows; a table seems to start at line {k + 1} "
                f"({names[:12]}): read it with load_cycler(path, vendor='csv', sep={sep!r}, skiprows={k}, "
                f"columns={_guess_columns(names)!r}) (values in s, V and A)",
                vendor="csv", sep=sep, skiprows=k, columns=_guess_columns(names))
        columns, factors = _columns_from_headers(path, raw.columns)

    def col(key):
        return raw[columns[key]].to_numpy(float) * factors[key]

    # elapsed time written as d hh:mm:ss (Maccor, PEC) is read as such
    clock = None if pd.api.types.is_numeric_dtype(raw[columns["time_s"]].dtype) else _clock_seconds(
        path, raw, columns["time_s"])
    time, current = (col("time_s") if clock is None else clock), col("current_A")
    n = time.size
    step = raw[columns["step"]] if "step" in columns else np.zeros(n, dtype=np.int64)
    cycle = raw[columns["cycle"]] if "cycle" in columns else np.zeros(n, dtype=np.int64)
    capacity = col("capacity_Ah") if "capacity_Ah" in columns else _integrate(time, current)
    return _assemble(raw, time - time[0], col("voltage_V"), current, step, cycle, capacity - capacity[0],
                     counted="capacity_Ah" in columns)


def _columns_from_headers(path: Path, headers) -> tuple[dict, dict]:
    """Schema name -> (file column, factor to SI) for the headers :data:`CSV_NAMES` knows."""
    lower = {str(c).strip().lower(): c for c in headers}
    columns, factors = {}, {}
    for key, names in CSV_NAMES.items():
        hit = next((name for name in names if name in lower), None)
        if hit is not None:
            columns[key], factors[key] = lower[hit], names[hit]
        elif key in ("time_s", "voltage_V", "current_A"):
            raise _hinted(
                f"{path}: no {key.split('_')[0]} column of a known layout (name it one of {sorted(names)}, "
                f"case-insensitive, or pass a column mapping); {_mapping_hint(headers)}",
                vendor="csv", columns=_guess_columns(headers))
    return columns, factors


# -- vendor text exports: the header row, separator and decimal found in the content ---------------
#: the roles a vendor's column can play, with the names (lower case, without unit, spaces,
#: underscores or dots) under which the vendors write them, in order of preference
ROLES = {
    "time": ("testtime", "totaltime", "cumulativetime", "test", "time", "elapsedtime"),
    "voltage": ("voltage", "volts", "ewe", "ecell", "potential"),
    "current": ("current", "amps", "mamps", "i"),
    "step": ("stepindex", "step", "ns", "stepid", "stepnumber"),
    "cycle": ("cycleindex", "cyc#", "cyclep", "cycle", "cyclenumber", "cycleid", "cyclecount"),
    "charge": ("chargecapacity", "chgcap", "qcharge", "chargecap", "chargingcapacity"),
    "discharge": ("dischargecapacity", "dchgcap", "qdischarge", "dischargecap", "dischargingcapacity"),
    "capacity": ("amphr", "mamphr", "cap", "capacity", "ahr"),
    "state": ("state", "md", "steptype", "mode"),
    "clock": ("dpttime", "datetime", "realtime", "absolutetime", "systemtime", "date"),
}

#: unit (lower case) -> factor to SI, per kind of quantity
UNITS = {
    "time": {"s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0,
             "hr": 3600.0, "hour": 3600.0, "hours": 3600.0},
    "voltage": {"v": 1.0, "volts": 1.0, "mv": 1e-3},
    "current": {"a": 1.0, "amps": 1.0, "ma": 1e-3, "ua": 1e-6, "µa": 1e-6},
    "capacity": {"ah": 1.0, "amp-hr": 1.0, "mah": 1e-3, "ma.h": 1e-3, "µah": 1e-6, "uah": 1e-6, "c": 1 / 3600.0,
                 "mc": 1e-3 / 3600.0},
}
_KIND = {"time": "time", "voltage": "voltage", "current": "current", "charge": "capacity",
         "discharge": "capacity", "capacity": "capacity"}

#: each vendor's units for headers that carry none (their manuals' conventions)
_DEFAULT_UNITS = {
    "arbin": {"time": "s", "voltage": "V", "current": "A", "charge": "Ah", "discharge": "Ah"},
    "maccor": {"voltage": "V", "current": "A", "capacity": "Ah"},  # Volts, Amps, Amp-hr
    "neware-csv": {},
    "pec": {},  # every PEC column names its unit
    "bdf": {},  # so does every column of the Battery Data Format
}
#: header names (as :func:`_split_unit` gives them) whose name is their unit: Maccor's milli-unit
#: columns ``mAmps`` and ``mAmp-hr`` (its ``Amps``, ``Amp-hr`` and ``Volts`` are the vendor convention)
_NAME_UNITS = {"mamps": "mA", "mamphr": "mAh"}
_UNIT_RE = re.compile(r"^(?P<base>.*?)\s*(?:\((?P<u1>[^()]*)\)|\[(?P<u2>[^\[\]]*)\]|/(?P<u3>[^/]+))\s*$")
_CLOCK_RE = r"^\s*(?:(?P<d>\d+)\s*(?:d|days?|-)\s*)?(?P<h>\d+):(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:[.,]\d*)?)\s*$"
#: a Battery Data Format header: the quantity, a slash between spaces, the unit (``1`` for a number)
_BDF_NAME = re.compile(r"[a-z][a-z0-9 ]* / \S+")
_LINES = re.compile(r"\r\n|\n|\r")  # the line ends pandas counts (str.splitlines knows more)
_JET_MAGIC = (b"\x00\x01\x00\x00Standard Jet DB", b"\x00\x01\x00\x00Standard ACE DB")


def _split_unit(name) -> tuple[str, str | None]:
    """A header's base name (lower case, letters, digits and '#') and its unit, if it names one."""
    text = str(name).strip()
    m = _UNIT_RE.match(text)
    unit = None
    if m and m.group("base"):
        text, unit = m.group("base"), next(u for u in (m.group("u1"), m.group("u2"), m.group("u3")) if u is not None)
        unit = unit.strip()
    base = re.sub(r"[^0-9a-z#]", "", text.lower())
    return base, unit


def _roles(names) -> dict:
    """Role -> column name, for the headers of a table."""
    bases = {}
    for n in names:
        base, _ = _split_unit(n)
        bases.setdefault(base, n)
    found = {}
    for role, options in ROLES.items():
        hit = next((bases[o] for o in options if o in bases), None)
        if hit is not None:
            found[role] = hit
    return found


def _text_vendor(names) -> str | None:
    """The vendor a table's headers belong to, or None."""
    lower = {str(n).strip().lower() for n in names}
    bases = {_split_unit(n)[0] for n in names}
    if {"testtime", "voltage", "current"} <= bases and all(_BDF_NAME.fullmatch(n) for n in lower if n):
        return "bdf"
    if "time/s" in lower and bases & {"ewe", "ecell"}:
        return "biologic-csv"
    if {"cell", "step", "instructionname", "cycle"} <= bases:
        return "pec"
    if {"testtime", "stepindex", "cycleindex"} <= bases:
        return "arbin"
    if bases & {"rec#", "rec"} and bases & {"cyc#", "cyclep", "cyclec", "cycle"} and bases & {"md", "state"}:
        return "maccor"
    if bases & {"steptype", "chgcap", "dchgcap"} or {"cycleid", "stepid"} <= bases:
        return "neware-csv"
    return None


class _Layout:
    """Where a vendor's table lies in a text file: header line, separator, decimal mark, and
    ``levels``: 3 for Neware's regular export (a cycle, a step and a record header line)."""

    def __init__(self, vendor, row, sep, decimal, names, levels=1, encoding="latin-1"):
        self.vendor, self.row, self.sep, self.decimal, self.names = vendor, row, sep, decimal, names
        self.levels, self.encoding = levels, encoding

    def describe(self) -> str:
        sep = {"\t": "tab", ",": "comma", ";": "semicolon"}[self.sep]
        kind = ("regular export: cycle, step and record rows under three header lines" if self.levels == 3
                else "text table")
        block = f"a header block of {self.row} line(s), " if self.row else ""
        return f"{kind}, {block}{sep}-separated, decimal {'comma' if self.decimal == ',' else 'point'}"


def _fields(line: str, sep: str) -> list[str]:
    return [c.strip().strip('"') for c in line.split(sep)]


def _neware_levels(lines: list[str], k: int, sep: str) -> bool:
    """Whether the header at line ``k`` opens Neware's regular export: the next line a step
    header that starts with one empty field, the one after it a record header that starts with two."""
    if k + 2 >= len(lines):
        return False
    step, record = lines[k + 1], lines[k + 2]
    if not (step.startswith(sep) and not step.startswith(2 * sep) and record.startswith(2 * sep)):
        return False
    steps = {_split_unit(c)[0] for c in _fields(step, sep)}
    return bool(steps & {"stepindex", "steptype"}) and {"time", "voltage", "current"} <= set(
        _roles(_fields(record, sep)[2:]))


def _text_encoding(data: bytes) -> str:
    """``"utf-8-sig"`` (with a byte-order mark), ``"utf-8"`` where the bytes decode as UTF-8, else ``"latin-1"``.

    Exports from recent software are UTF-8 (``Temp (°C)``, ``Current (µA)``); older ones write a
    Windows code page, which latin-1 reads without error. A multi-byte character cut at the end of
    ``data`` (the first 256 KB of a file) does not count against UTF-8.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _find_layout_in(data: bytes) -> _Layout | None:
    """:func:`_find_layout` in the first bytes of a file, decoded as the file is written (see :func:`_text_encoding`)."""
    encoding = _text_encoding(data)
    layout = _find_layout(data.decode(encoding, errors="replace"))
    if layout is not None:
        layout.encoding = encoding
    return layout


def _find_layout(text: str) -> _Layout | None:
    """The vendor table in the first lines of a text file, or None."""
    lines = _LINES.split(text)
    for k, line in enumerate(lines[:300]):
        for sep in ("\t", ";", ","):
            if line.count(sep) < 2:
                continue
            names = _fields(line, sep)
            vendor = _text_vendor(names)
            if vendor is None:
                continue
            data = [ln for ln in lines[k + 1:k + 30] if ln.strip()]
            cells = [c.strip() for ln in data for c in ln.split(sep)]
            commas = sum(bool(re.fullmatch(r"-?\d+,\d+", c)) for c in cells)
            points = sum(bool(re.fullmatch(r"-?\d*\.\d+(?:[eE][-+]?\d+)?", c)) for c in cells)
            decimal = "," if sep != "," and commas > points else "."
            levels = 3 if vendor == "neware-csv" and _neware_levels(lines, k, sep) else 1
            return _Layout(vendor, k, sep, decimal, names, levels)
    return None


def _cell_shape(cell: str) -> tuple[str, int]:
    """How a cell is written: its characters with every (signed) digit run folded to one
    digit, and the length of its final digit run (``-0.47417`` -> ``('0.0', 5)``)."""
    cell = cell.strip()
    final = re.search(r"\d+$", cell)
    return re.sub(r"[-+]?\d+", "0", cell), len(final.group()) if final else 0


def _last_line_cut(last: str, above: str | None, ended: bool, sep: str, names) -> bool:
    """Whether a table's last line may have been cut short.

    It was if it has fewer fields than the header names (trailing empty names not counted).
    A last line with them all but no line end (many instruments write no final newline) is
    complete when its last field is written like the one above it: ``Close`` under ``Close``, an
    empty field after a trailing separator, ``4.1544`` under ``4.1539``; ``3.99`` under ``3.9991``
    lost digits. Without a line above to compare with, it may have been cut.
    """
    named = len(names)
    while named and not names[named - 1]:
        named -= 1
    if last.count(sep) + 1 < named:
        return True
    if ended:
        return False
    return above is None or _cell_shape(last.split(sep)[-1]) != _cell_shape(above.split(sep)[-1])


def _drop_cut_line(path, raw: pd.DataFrame, notes: list, stacklevel: int = 4) -> pd.DataFrame:
    """The table without its last row, which was cut short, with a warning."""
    warnings.warn(f"{path}: its last line is incomplete (fewer fields than the header, or no line end after a "
                  "last field that is shorter than the one above it: the file was cut short?); that record was "
                  "left out", SocscopeWarning, stacklevel=stacklevel)
    notes.append("last line incomplete: dropped")
    return raw.iloc[:-1]


def _read_text_layout(path: Path, vendor: str | None = None, layout: _Layout | None = None,
                      given: dict | None = None) -> pd.DataFrame:
    """Read a vendor's text export.

    ``layout`` is the table's layout as :func:`_detect` found it; without
    one (a forced vendor) it is found here in the file's first 256 KB, and
    must belong to ``vendor``.
    """
    with open(path, "rb") as fh:
        head = fh.read(262144) if layout is None else b""
        fh.seek(max(0, path.stat().st_size - 65536))
        tail = fh.read()
    if layout is None:
        layout = _find_layout_in(head)
    if layout is None or (vendor and layout.vendor != vendor):
        raise FileFormatError(f"{path}: no {vendor or 'cycler'} table header found in its first 300 lines")
    if layout.levels == 3:
        return _read_neware_levels(path, layout, given)
    # index_col=False: data rows that end with a separator the header lacks (Maccor) hold one
    # field more than the header; pandas would take the first column for row names and shift the
    # rest, and the empty last field is no column
    raw = pd.read_csv(path, sep=layout.sep, skiprows=layout.row, header=0, decimal=layout.decimal,
                      skip_blank_lines=True, low_memory=False, encoding=layout.encoding, index_col=False)
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.loc[:, [c for c in raw.columns if not c.startswith("Unnamed")]]
    notes = []
    lines = [ln for ln in _LINES.split(tail.decode(layout.encoding, errors="replace")) if ln.strip()]
    if (lines and len(raw) > 1
            and _last_line_cut(lines[-1], lines[-2] if len(lines) > 1 else None,
                               tail.endswith((b"\n", b"\r")), layout.sep, layout.names)):
        # a file cut inside its last line: its last number may be shortened, so the row is dropped
        raw = _drop_cut_line(path, raw, notes)
    if raw.empty:
        raise FileFormatError(f"{path}: the table below line {layout.row + 1} has no data rows")
    return _from_table(path, raw, layout.vendor, layout.describe(), layout.decimal, notes, given)


def _read_neware_levels(path: Path, layout: _Layout, given: dict | None = None) -> pd.DataFrame:
    """Neware's regular export: cycle, step and record rows interleaved, each under its header line.

    A cycle row starts with a number (the cycle index), a step row with one empty field, a record
    row with two. Every record takes the cycle index of the last cycle row above it and the step
    index, number and type of the last step row above it; a cycle row that runs on past its
    header's fields (the first cycle of some exports) carries its first step row's fields there.
    """
    sep = layout.sep
    lines = _LINES.split(path.read_bytes().decode(layout.encoding, errors="replace"))
    k0 = layout.row
    cycle_names = list(layout.names)
    while cycle_names and not cycle_names[-1]:
        cycle_names.pop()
    step_names = _fields(lines[k0 + 1], sep)[1:]
    record_header = lines[k0 + 2][2 * len(sep):]
    record_names = _fields(record_header, sep)
    cycle_col = _roles(cycle_names).get("cycle")
    step_at = {_split_unit(n)[0]: i for i, n in reversed(list(enumerate(step_names)))}
    if cycle_col is None or "stepindex" not in step_at:
        raise FileFormatError(f"{path}: the Neware regular export's header lines name no cycle index "
                              f"({cycle_names[:10]}) or no step index ({step_names[:10]}); re-export the record")
    ci, n_cycle = cycle_names.index(cycle_col), len(cycle_names)
    keep = [(step_names[step_at[b]], step_at[b], b) for b in ("stepindex", "stepnumber", "steptype") if b in step_at]
    records, rec_at, cycles, cycle_at, steps, steps_at = [], [], [], [], [], []
    for k in range(k0 + 3, len(lines)):
        line = lines[k]
        if line.startswith(2 * sep):
            records.append(line[2 * len(sep):])
            rec_at.append(k)
        elif line.startswith(sep):
            steps.append(line.split(sep)[1:])
            steps_at.append(k)
        elif line.strip():
            fields = line.split(sep)
            cycles.append(fields[ci] if ci < len(fields) else "")
            cycle_at.append(k)
            if any(f.strip() for f in fields[n_cycle:]):
                steps.append(fields[n_cycle:])
                steps_at.append(k)
    if not records:
        raise FileFormatError(f"{path}: the Neware regular export holds no record rows (lines that start with two "
                              f"empty fields) below its header lines {k0 + 1}-{k0 + 3}")
    rec_at = np.asarray(rec_at)
    table = pd.read_csv(io.StringIO("\n".join([record_header, *records])), sep=sep, decimal=layout.decimal,
                        index_col=False, low_memory=False)
    table.columns = [str(c).strip() for c in table.columns]
    table = table.loc[:, [c for c in table.columns if not c.startswith("Unnamed")]]
    notes = []
    ended = not lines[-1].strip() or not lines[-1].startswith(2 * sep)  # a line end, or a step row, follows it
    if len(table) > 1 and _last_line_cut(records[-1], records[-2], ended, sep, record_names):
        table = _drop_cut_line(path, table, notes, stacklevel=5)
        rec_at = rec_at[:-1]

    def owner(at, kind):
        """Index of the last cycle or step row above each record."""
        row = np.searchsorted(np.asarray(at, dtype=np.int64), rec_at, side="right") - 1
        if row.size and row[0] < 0:
            raise FileFormatError(f"{path}: the record row at line {rec_at[0] + 1} stands above every {kind} row; "
                                  f"each record belongs to the {kind} row above it: re-export the record")
        return row

    def numbers(values, at, name):
        x = pd.to_numeric(pd.Series(values, dtype=object).str.strip(), errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(x))
        if bad.size:
            raise FileFormatError(f"{path}: the {name} of the row at line {at[bad[0]] + 1} is "
                                  f"{str(values[bad[0]])[:40]!r}, not a number; re-export the record")
        return x.astype(np.int64) if np.all((x == np.round(x)) & (np.abs(x) < 2.0**53)) else x

    ids = {cycle_col: numbers(cycles, cycle_at, cycle_col)[owner(cycle_at, "cycle")]}
    row = owner(steps_at, "step")
    for name, i, base in keep:
        values = [s[i].strip() if i < len(s) else "" for s in steps]
        ids[name] = (np.asarray(values, dtype=object) if base == "steptype" else numbers(values, steps_at, name))[row]
    raw = pd.concat([pd.DataFrame({n: v for n, v in ids.items() if n not in table.columns}), table], axis=1)
    notes.append(f"{len(table)} record rows under {len(cycles)} cycle rows and {len(steps)} step rows: each record "
                 f"takes {cycle_col!r} from the cycle row and {[n for n, _, _ in keep]} from the step row above it")
    return _from_table(path, raw, layout.vendor, layout.describe(), layout.decimal, notes, given)


def _numbers(path, raw: pd.DataFrame, col, decimal: str = ".") -> np.ndarray:
    """A column as floats; the first cell that is not a number is named."""
    s = raw[col]
    if not pd.api.types.is_numeric_dtype(s.dtype):
        text = s.astype(str).str.strip()
        if decimal == ",":
            text = text.str.replace(",", ".", regex=False)
        values = pd.to_numeric(text, errors="coerce").to_numpy(float)
        bad = np.flatnonzero(np.isnan(values) & ~s.isna().to_numpy() & (text.str.lower() != "nan").to_numpy())
        if bad.size:
            raise FileFormatError(f"{path}: column {col!r} holds {str(s.iloc[bad[0]])[:40]!r} in data row "
                                  f"{bad[0] + 1}, not a number ({bad.size} row(s)); re-export the record")
        return values
    return s.to_numpy(float)


def _clock_seconds(path, raw: pd.DataFrame, col) -> np.ndarray | None:
    """Elapsed times written as ``[d[d] ]hh:mm:ss[.f]`` -> seconds, or None if the column is not of that form."""
    s = raw[col]
    sample = s.dropna().astype(str).head(50)
    if sample.empty or sample.str.match(_CLOCK_RE).mean() <= 0.5:
        return None
    text = s.astype(str).to_numpy(dtype="U")
    try:  # numpy's vectorised string functions: a million rows in about a second
        norm = np.strings.strip(text)
        for token in ("days", "day", "d", "-"):
            norm = np.strings.replace(norm, token, " ")
        head, c1, sec = np.strings.rpartition(norm, ":")
        head, c2, mins = np.strings.rpartition(head, ":")
        days, _, hours = np.strings.rpartition(np.strings.strip(head), " ")
        days = np.strings.strip(days)
        if not (np.all(c1 == ":") and np.all(c2 == ":")):
            raise ValueError("not every cell has two colons")
        days = np.where(days == "", "0", days).astype(float)
        return (((days * 24 + hours.astype(float)) * 60 + mins.astype(float)) * 60
                + np.strings.replace(sec, ",", ".").astype(float))
    except ValueError:
        bad = np.flatnonzero(~s.astype(str).str.match(_CLOCK_RE).to_numpy(bool))
        k = int(bad[0]) if bad.size else 0
        raise FileFormatError(f"{path}: column {col!r} holds {str(s.iloc[k])[:40]!r} in data row {k + 1}, not an "
                              "elapsed time of the form d hh:mm:ss; re-export the record") from None


def _clock_factor(raw: pd.DataFrame, clock, t: np.ndarray) -> float | None:
    """Seconds per unit of ``t``, from the file's wall-clock stamps (1, 60 or 3600), or None."""
    try:
        stamps = pd.to_datetime(raw[clock], errors="coerce", format="mixed")
    except (ValueError, TypeError):
        return None
    wall = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy(float)
    dw, dt = np.diff(wall), np.diff(t)
    ok = np.isfinite(dw) & np.isfinite(dt) & (dw > 0) & (dt > 0)
    if ok.sum() < 3:
        return None
    ratio = float(np.median(dw[ok] / dt[ok]))
    for factor in (1.0, 60.0, 3600.0):
        if abs(ratio / factor - 1) < 0.05:
            return factor
    return None


def _accumulate(counter: np.ndarray) -> np.ndarray:
    """A counter that restarts (falls back towards zero) at step or cycle changes, made one running total."""
    c = np.nan_to_num(counter.astype(float))
    d = np.diff(c, prepend=c[:1])
    d = np.where(d >= 0, d, c)  # a fall is a restart: the new value counts from zero
    return np.cumsum(d)


def _from_table(path, raw: pd.DataFrame, vendor: str, layout: str, decimal: str = ".", notes=None,
                given: dict | None = None) -> pd.DataFrame:
    """The schema from a vendor's table with named columns (text or spreadsheet).

    ``given``: the columns (and units) ``columns=`` names, which replace those found by their headers.
    """
    if vendor == "biologic-csv":
        for c in raw.columns:
            if not pd.api.types.is_numeric_dtype(raw[c].dtype) and c != "mode":
                converted = pd.to_numeric(raw[c].astype(str).str.replace(",", ".", regex=False), errors="coerce")
                if converted.notna().sum() >= raw[c].notna().sum():
                    raw[c] = converted
        df = _biologic_frame(path, raw)
        df.attrs["layout"] = f"EC-Lab {layout}"
        return df
    roles = _roles(raw.columns)
    given_units = {}
    for key, (col, unit, _) in (given or {}).items():
        if col not in raw.columns:
            raise FileFormatError(f"{path}: columns= names {col!r} for {key}, which is not a column of the {vendor} "
                                  f"table; it has {[str(c) for c in raw.columns][:40]}")
        role = {"time_s": "time", "voltage_V": "voltage", "current_A": "current", "capacity_Ah": "capacity"}.get(key, key)
        roles[role] = col
        if unit is not None:
            given_units[role] = unit
        if role == "capacity":  # a named capacity column replaces the charge and discharge columns
            roles.pop("charge", None)
            roles.pop("discharge", None)
    missing = [r for r in ("time", "voltage", "current") if r not in roles]
    if missing:
        raise _hinted(f"{path}: the {vendor} table has no {missing[0]} column; {_mapping_hint(raw.columns)}",
                      vendor="csv", columns=_guess_columns(raw.columns))
    notes = list(notes or [])
    conversions, units = {}, {}
    defaults = _DEFAULT_UNITS.get(vendor, {})

    def quantity(role):
        col = roles[role]
        base, unit = _split_unit(col)
        kind = _KIND[role]
        if role in given_units:
            unit = given_units[role]
            notes.append(f"{col!r}: unit {unit}, as columns= names it")
        elif unit is None and base in _NAME_UNITS:
            unit = _NAME_UNITS[base]
            notes.append(f"{col!r} has no unit in its header: {unit}, from its name")
        if unit is None:
            unit = defaults.get(role)
            if unit is not None:
                notes.append(f"{col!r} has no unit in its header: {unit}, the {vendor} convention")
        if unit is None:
            warnings.warn(f"{path}: the unit of column {col!r} is not known (no unit in its header); read as "
                          f"{'A h' if kind == 'capacity' else {'time': 's', 'voltage': 'V', 'current': 'A'}[kind]}"
                          f" — pass columns= with a converted column if that is wrong", SocscopeWarning, stacklevel=4)
            notes.append(f"{col!r}: unit unknown, read as SI")
            unit = {"time": "s", "voltage": "V", "current": "A", "capacity": "Ah"}[kind]
        factor = UNITS[kind].get(unit.lower().replace(" ", ""))
        if factor is None:
            raise FileFormatError(f"{path}: column {col!r} has unit {unit!r}, which socscope does not know; known "
                                  f"{kind} units are {sorted(UNITS[kind])}; pass columns= with a converted column")
        units[role] = unit
        if factor != 1.0:
            conversions[col] = f"{unit} -> SI: x {factor:g}"
        return _numbers(path, raw, col, decimal) * factor

    # time: seconds, another unit, or a clock format d hh:mm:ss (which a unit such as PEC's
    # "Hours in hh:mm:ss.xxx" may announce)
    tcol = roles["time"]
    tunit = _split_unit(tcol)[1]
    clock = tunit is not None and "hh:mm:ss" in tunit.lower() and "time" not in given_units
    t = None if pd.api.types.is_numeric_dtype(raw[tcol].dtype) else _clock_seconds(path, raw, tcol)
    if t is None and clock:
        raise FileFormatError(f"{path}: column {tcol!r} is headed as a clock time but holds "
                              f"{str(raw[tcol].iloc[0])[:40]!r} in data row 1, not hh:mm:ss; re-export the record")
    if t is not None:
        conversions[tcol] = "d hh:mm:ss -> s"
        units["time"] = tunit if clock else "d hh:mm:ss"
    elif _split_unit(tcol)[1] is None and "time" not in defaults and "time" not in given_units:
        t = _numbers(path, raw, tcol, decimal)
        factor = _clock_factor(raw, roles["clock"], t) if "clock" in roles else None
        if factor is None:
            warnings.warn(f"{path}: the unit of column {tcol!r} is not known (no unit in its header and no "
                          "clock column to compare it with); read as seconds", SocscopeWarning, stacklevel=3)
            notes.append(f"{tcol!r}: unit unknown, read as s")
            factor = 1.0
        else:
            notes.append(f"{tcol!r} has no unit in its header: {({1.0: 's', 60.0: 'min', 3600.0: 'h'})[factor]}, "
                         f"from the file's clock column {roles['clock']!r}")
        units["time"] = {1.0: "s", 60.0: "min", 3600.0: "h"}[factor]
        if factor != 1.0:
            conversions[tcol] = f"{units['time']} -> s: x {factor:g}"
        t = t * factor
    else:
        t = quantity("time")
    volts, amps = quantity("voltage"), quantity("current")
    n = t.size
    step = _numbers(path, raw, roles["step"], decimal) if "step" in roles else np.zeros(n)
    cycle = _numbers(path, raw, roles["cycle"], decimal) if "cycle" in roles else np.zeros(n)
    signed = bool(np.any(amps < 0))
    state, charge, discharge = None, None, None
    if "charge" in roles and "discharge" in roles:
        charge, discharge = np.abs(quantity("charge")), np.abs(quantity("discharge"))
    if "state" in roles:
        codes, labels = pd.factorize(raw[roles["state"]].astype(str))  # a few labels, many rows
        text = pd.Series(labels).str.strip().str.upper()
        if vendor == "maccor":
            kinds = text.str[0].fillna("").to_numpy(dtype=object)
        else:  # Neware: 'CC Chg', 'CCCV_Chg', 'CC DChg', 'Rest', ...
            kinds = np.where(text.str.contains("DCHG|DISCHARGE", regex=True), "D",
                             np.where(text.str.contains("CHG|CHARGE", regex=True), "C",
                                      np.where(text.str.contains("REST"), "R", "O")))
        state = np.asarray(kinds, dtype=object)[codes]
    if signed:
        current = _signed_current(path, amps, state, charge, discharge, roles, notes)
        sign = np.sign(current)
    elif state is None and charge is not None and (direction := _counter_direction(charge, discharge)) is not None:
        current = direction * np.abs(amps)
        sign = np.sign(current)
        notes.append(f"current unsigned in the file: sign from which of {roles['charge']!r} and "
                     f"{roles['discharge']!r} grows (charge +, discharge -)")
    elif state is None:
        current = amps
        sign = np.sign(amps)
        notes.append("current never negative and no state column: taken as signed (no discharge)")
    else:
        sign = np.where(state == "C", 1.0, np.where(state == "D", -1.0, 0.0))
        big = 1e-3 * np.nanmax(np.abs(amps), initial=0.0)
        unknown = np.flatnonzero(~np.isin(state, ("C", "D", "R")) & (np.abs(amps) > big))
        if unknown.size:
            k = unknown[0]
            raise FileFormatError(
                f"{path}: data row {k + 1} has State {state[k]!r} with {amps[k]:g} A ({unknown.size} row(s)); the "
                f"direction of an unsigned {vendor} current is known only for charge, discharge and rest states: "
                "export the states as C/D/R, or give the record as a CSV with a signed current (vendor='csv')")
        current = sign * np.abs(amps)
        notes.append(f"current unsigned in the file: sign from column {roles['state']!r} (charge +, discharge -)")
    counted = True
    if charge is not None:
        capacity = _accumulate(charge) - _accumulate(discharge)
        how = f"{roles['charge']!r} - {roles['discharge']!r}, each chained over its restarts"
    elif "capacity" in roles:
        ah = np.abs(quantity("capacity"))
        # an unsigned counter that restarts with each step or direction: chain it, with the row's direction
        increments = np.diff(_accumulate(ah), prepend=0.0)
        increments[0] = 0.0
        capacity = np.cumsum(increments * (sign if not signed else np.sign(current)))
        how = f"{roles['capacity']!r}, unsigned, chained over its restarts with the current's direction"
    else:
        capacity, counted = _integrate(t, current), False
        how = INTEGRATED
    df = _assemble(raw, t - t[0], volts, current, step, cycle, capacity - capacity[0], counted=counted)
    df.attrs["layout"] = f"{vendor} {layout}"
    df.attrs["column_map"] = {"time_s": tcol, "voltage_V": roles["voltage"], "current_A": roles["current"],
                              "step": roles.get("step"), "cycle": roles.get("cycle"), "capacity_Ah": how}
    df.attrs["units"] = dict(units)
    df.attrs["conversions"] = dict(conversions)
    df.attrs["notes"] = notes
    return df


#: the share of the rows with current whose direction the file's own evidence must confirm (or
#: contradict, for a current positive on discharge): below it, the file disagrees with itself
_SIGN_AGREEMENT = 0.9


def _signed_current(path, amps, state, charge, discharge, roles, notes) -> np.ndarray:
    """A table's signed current, positive on charge, checked against the file's own evidence.

    The evidence, in this order: the state / step-type column (C or D on the rows with current),
    else the charge and discharge capacity columns (which one grows while current flows), else
    none (the current is taken as positive on charge). Evidence that the file's current is
    positive on discharge flips its sign; evidence that agrees on fewer than
    :data:`_SIGN_AGREEMENT` of its rows raises a FileFormatError naming the columns.
    """
    flowing = np.abs(amps) > 1e-3 * np.nanmax(np.abs(amps), initial=0.0)
    col = roles["current"]
    for source, rows, says, names in _sign_evidence(flowing, state, charge, discharge, roles):
        n = int(rows.sum())
        if n < 3:  # too few rows to say anything: look at the next kind of evidence
            continue
        agree = float(np.mean(np.sign(amps[rows]) == says[rows]))
        if agree >= _SIGN_AGREEMENT:
            notes.append(f"current signed in the file: positive on charge ({source} agree on {100 * agree:.1f} % "
                         f"of {n} rows with current)")
            return amps
        if agree <= 1 - _SIGN_AGREEMENT:
            notes.append(f"current positive on discharge in the file ({source} say so on {100 * (1 - agree):.1f} % "
                         f"of {n} rows with current): sign flipped")
            return -amps
        raise _hinted(
            f"{path}: the sign of column {col!r} matches {source} ({', '.join(map(repr, names))}) on only "
            f"{100 * agree:.0f} % of the {n} rows with current (positive on charge) and contradicts them on "
            f"{100 * (1 - agree):.0f} % (positive on discharge); at least {100 * _SIGN_AGREEMENT:.0f} % either way "
            f"is needed to know the sign convention: correct the file, or read the current as written (positive "
            f"on charge) with load_cycler(path, vendor='csv', columns={_guess_columns(list(roles.values()))!r})",
            vendor="csv", columns=_guess_columns(list(roles.values())))
    notes.append("current signed in the file: taken as positive on charge (no step-type column, nor separate "
                 "charge and discharge capacity columns, to check it against)")
    return amps


def _growth_direction(charge: np.ndarray, discharge: np.ndarray) -> np.ndarray:
    """Per row: +1 where only the charge counter grows, -1 where only the discharge counter does, else NaN.

    A counter grows while its direction flows; a fall is a restart, not a direction.
    """
    grows_c = np.diff(charge, prepend=charge[:1]) > 0
    grows_d = np.diff(discharge, prepend=discharge[:1]) > 0
    return np.where(grows_c & ~grows_d, 1.0, np.where(grows_d & ~grows_c, -1.0, np.nan))


def _counter_direction(charge: np.ndarray, discharge: np.ndarray) -> np.ndarray | None:
    """Each row's direction (+1 charge, -1 discharge) from which of two counters grows, or None if neither ever does.

    A row where neither grows (a step's first sample, where the counters restart, or a rest)
    takes the direction of the next row that shows one (the last such direction after the final
    one). A rest's current is ~0, so its direction does not matter.
    """
    direction = _growth_direction(charge, discharge)
    if np.isnan(direction).all():
        return None
    return pd.Series(direction).bfill().ffill().to_numpy()


def _sign_evidence(flowing, state, charge, discharge, roles):
    """What a table says about each row's direction: (source, rows, +1 charge / -1 discharge, columns)."""
    if state is not None:
        rows = flowing & np.isin(state, ("C", "D"))
        yield "its step types", rows, np.where(state == "C", 1.0, -1.0), [roles["state"]]
    if charge is not None:
        direction = _growth_direction(charge, discharge)
        yield ("its charge and discharge capacity columns", flowing & ~np.isnan(direction),
               np.nan_to_num(direction), [roles["charge"], roles["discharge"]])


def _guess_columns(headers) -> dict:
    """The ``columns={...}`` mapping the headers suggest: a column of a known role, else one whose
    name holds a word of the quantity (and plays no other role: ``mAmp-hr`` is no current)."""
    headers = [str(h) for h in headers]
    roles = _roles(headers)
    taken = set(roles.values())
    guess = {}
    for key, role, words in (("time_s", "time", ("time", "zeit", "sec")), ("voltage_V", "voltage", ("volt", "ewe", "pot")),
                             ("current_A", "current", ("curr", "amp", "strom")), ("step", "step", ("step",)),
                             ("cycle", "cycle", ("cyc",))):
        hit = roles.get(role) or next((h for h in headers if h not in taken and any(w in h.lower() for w in words)),
                                      None)
        if hit is not None or key in ("time_s", "voltage_V", "current_A"):
            guess[key] = hit or "<column>"
    return guess


def _mapping_hint(headers) -> str:
    """Name the columns found and show the ``columns={...}`` mapping that would read them."""
    headers = [str(h) for h in headers]
    return (f"the columns found are {headers[:40]}{' ...' if len(headers) > 40 else ''}; read it with "
            f"load_cycler(path, vendor='csv', columns={_guess_columns(headers)!r}) (values in s, V and A; add "
            "sep=';' or decimal=',' if needed)")


_NUMBER = re.compile(r"\s*[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?\s*")


def _table_start(path: Path) -> tuple[int, str, list] | None:
    """Where a table seems to start below a header block of unknown layout, or None.

    The first line, among the first 300, of three or more fields that are all names (not
    empty, not numbers) above a line of as many fields, most of them numbers: its index, its
    separator and its names.
    """
    with open(path, "rb") as fh:
        lines = _LINES.split(fh.read(262144).decode("latin-1"))[:301]
    for k in range(len(lines) - 1):
        for sep in ("\t", ";", ","):
            names, below = _fields(lines[k], sep), lines[k + 1].split(sep)
            if (len(names) >= 3 and len(below) == len(names) and all(n and not _NUMBER.fullmatch(n) for n in names)
                    and 2 * sum(bool(_NUMBER.fullmatch(c)) for c in below) > len(below)):
                return k, sep, names
    return None


def _read_arbin_res(path: Path) -> pd.DataFrame:
    """Arbin's native ``.res`` (a Microsoft Access database), read through mdbtools' ``mdb-export``."""
    exe = shutil.which("mdb-export")
    if exe is None:
        raise FileFormatError(f"{path}: reading an Arbin .res database needs the program mdb-export from mdbtools "
                              "(Debian/Ubuntu: sudo apt-get install mdbtools; macOS: brew install mdbtools), or "
                              "export the test as CSV from Arbin's software")

    def table(name):
        try:
            done = subprocess.run([exe, str(path), name], capture_output=True, timeout=_MDB_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise FileFormatError(f"{path}: mdb-export did not finish reading table {name} within "
                                  f"{_MDB_TIMEOUT_S} s (a damaged database?)") from None
        if done.returncode != 0 or not done.stdout.strip():
            why = " ".join(done.stderr.decode("latin-1").split())[:200] or "no output"
            raise FileFormatError(f"{path}: not a readable Arbin .res database (mdb-export {name}: {why})")
        return pd.read_csv(io.BytesIO(done.stdout), low_memory=False)

    raw = table("Channel_Normal_Table")
    need = ["Test_ID", "Data_Point", "Test_Time", "Step_Index", "Cycle_Index", "Current", "Voltage"]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise FileFormatError(f"{path}: the Arbin data table lacks columns {missing}; it has {list(raw.columns)}")
    tests = pd.unique(raw["Test_ID"])
    if len(tests) > 1:
        raise FileFormatError(f"{path}: the database holds {len(tests)} tests (Test_ID {list(tests)[:10]}); "
                              "export each from Arbin's software as its own file")
    raw = raw.sort_values("Data_Point", kind="stable").reset_index(drop=True)
    df = _from_table(path, raw.rename(columns={"Test_Time": "Test_Time(s)", "Current": "Current(A)",
                                               "Voltage": "Voltage(V)", "Charge_Capacity": "Charge_Capacity(Ah)",
                                               "Discharge_Capacity": "Discharge_Capacity(Ah)"}),
                     "arbin", "Access database (.res), table Channel_Normal_Table")
    try:
        glob = table("Global_Table")
        df.attrs["test_name"] = str(glob["Test_Name"].iloc[0])
    except (FileFormatError, KeyError, IndexError):
        pass
    return df


def _read_xlsx(path: Path, given: dict | None = None) -> pd.DataFrame:
    """A spreadsheet export (Arbin, Neware): the first sheet whose header a vendor's layout matches."""
    _need(path, "openpyxl", "xlsx")
    sheets = pd.read_excel(path, sheet_name=None)
    for name, sheet in sheets.items():
        vendor = _text_vendor(sheet.columns)
        if vendor is not None and not sheet.empty:
            return _from_table(path, sheet, vendor, f"spreadsheet, sheet {name!r}", given=given)
    first = next(iter(sheets.values()), pd.DataFrame())
    raise _hinted(f"{path}: no sheet holds a cycler table; {_mapping_hint(first.columns)}", vendor="csv",
                  columns=_guess_columns(first.columns))
