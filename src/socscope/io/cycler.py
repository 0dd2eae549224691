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
* Arbin CSV exports (``Test_Time(s)``, ``Current(A)``, ``Voltage(V)``,
  ``Charge_Capacity(Ah)``, ``Discharge_Capacity(Ah)``, ``Step_Index``,
  ``Cycle_Index``; signed current) and Maccor text exports (``Rec#``,
  ``Cyc#``, ``Step``, ``Test (Sec)``, ``Amp-hr``, ``Amps``, ``Volts``,
  ``State``: unsigned current and capacity, the state C/D/R/O gives the
  sign; tab, comma or semicolon separated, with header lines above the table);
* any delimited text file: with a column mapping (``columns=``), or with
  headers it recognises (:data:`CSV_NAMES`: ``time_s``, ``time/h``,
  ``Ewe/V``, ``current_mA``, ... case-insensitive, converted to SI; the
  schema's own names, so a table this module returns reads back as written).

Readers for binary formats need the optional extra ``socscope[cycler]``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import FileFormatError

__all__ = ["load_cycler", "detect_vendor", "record_problem", "SCHEMA", "VENDORS", "CSV_NAMES"]

SCHEMA = ("time_s", "voltage_V", "current_A", "step", "cycle", "capacity_Ah")
VENDORS = ("biologic-mpr", "biologic-mpt", "neware-ndax", "neware-nda", "arbin", "maccor", "csv")

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
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file (expected a cycler record: .mpr, .mpt, .ndax, .nda or .csv)")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise FileFormatError(f"{path}: the file is empty (expected a cycler record: .mpr, .mpt, .ndax, .nda or .csv)")
    if head.startswith(_MPR_MAGIC):
        return "biologic-mpr"
    if head.startswith(_MPT_MAGIC):
        return "biologic-mpt"
    if head.startswith(_ZIP_MAGIC):
        return "neware-ndax"
    if head.startswith(_NDA_MAGIC):
        return "neware-nda"
    if b"\x00" not in head:
        text = head.decode("latin-1").lower()
        if "test_time(s)" in text and "current(a)" in text:
            return "arbin"
        if "rec#" in text or "cyc#" in text:
            return "maccor"
    if b"\x00" in head:
        raise FileFormatError(
            f"{path}: unknown binary format (first bytes {head[:16]!r}); expected a Bio-Logic .mpr, "
            "a Neware .ndax/.nda, or a text export (.mpt, .csv)"
        )
    binary = {".mpr": "Bio-Logic .mpr", ".mpt": "EC-Lab .mpt", ".ndax": "Neware .ndax", ".nda": "Neware .nda"}
    if path.suffix.lower() in binary:
        raise FileFormatError(
            f"{path}: named like a {binary[path.suffix.lower()]} file but it is plain text without that "
            f"format's header (first bytes {head[:16]!r}); export the record again from the instrument, or, "
            "if it is a delimited table, give it a .csv name"
        )
    return "csv"


def load_cycler(path, *, vendor: str | None = None, columns: dict | None = None, **csv_options) -> pd.DataFrame:
    """Read a cycler file into the common schema (see the module docstring).

    Parameters
    ----------
    path : str or Path
    vendor : str, optional
        Force a reader (one of :data:`VENDORS`); default: detected from content.
    columns : dict, optional
        For text files: schema name -> column name in the file, e.g.
        ``{"time_s": "Test Time (s)", "voltage_V": "Voltage (V)", "current_A": "Current (A)"}``;
        ``step``, ``cycle`` and ``capacity_Ah`` are optional (capacity is then
        integrated from the current). Without it, the columns are found by
        their headers (:data:`CSV_NAMES`, units converted to SI).
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
    kind = vendor or detect_vendor(path)
    if kind not in VENDORS:
        raise FileFormatError(f"{path}: vendor {vendor!r} is not one of {VENDORS}")
    readers = {
        "biologic-mpr": _read_mpr,
        "biologic-mpt": _read_mpt,
        "neware-ndax": _read_neware,
        "neware-nda": _read_neware,
        "csv": lambda p: _read_csv(p, columns, csv_options),
        "arbin": _read_arbin,
        "maccor": _read_maccor,
    }
    try:
        df = readers[kind](path)
    except FileFormatError:
        raise
    except _ColumnError as exc:  # a column of numbers that the schema cannot hold
        raise FileFormatError(f"{path}: {exc}") from None
    except (ValueError, TypeError) as exc:  # a column that does not convert to numbers
        advice = ("; for decimal commas pass decimal=',' (with sep=';'), and give times as elapsed seconds, not "
                  "clock times") if kind == "csv" else "; re-export the record from the cycler's software"
        raise FileFormatError(f"{path}: a column of the {kind} table holds values that are not numbers "
                              f"({exc}){advice}") from None
    if df.empty:
        raise FileFormatError(f"{path}: the {kind} file holds no data points")
    problem = record_problem(df)
    if problem:
        raise FileFormatError(f"{path}: {problem}")
    df.attrs["source_file"] = str(path)
    df.attrs["vendor"] = kind
    df.attrs["sign_convention"] = "current_A and capacity_Ah positive on charge (delithiation)"
    return df


# -- helpers -------------------------------------------------------------------
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
    if "I/mA" in cols:
        current = raw["I/mA"].to_numpy(float) * 1e-3
    elif "<I>/mA" in cols:
        current = raw["<I>/mA"].to_numpy(float) * 1e-3
    elif "dq/mA.h" in cols:
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
    counted = "(Q-Qo)/mA.h" in cols or ("I/mA" not in cols and "<I>/mA" not in cols)
    capacity = raw["(Q-Qo)/mA.h"].to_numpy(float) * 1e-3 if "(Q-Qo)/mA.h" in cols else _integrate(time, current)
    step = raw["Ns"].to_numpy() if "Ns" in cols else np.zeros(time.size, dtype=np.int64)
    if "cycle number" in cols:
        cycle = raw["cycle number"].to_numpy()
    elif "half cycle" in cols:
        cycle = raw["half cycle"].to_numpy() // 2  # two half cycles a cycle, counted from 0
    else:
        cycle = np.zeros(time.size, dtype=np.int64)
    return _assemble(raw, time - time[0], raw[volt_col], current, step, cycle, capacity - capacity[0],
                     counted=counted)


def _read_mpr(path: Path) -> pd.DataFrame:
    biologic = _need(path, "galvani.BioLogic")
    try:
        mpr = biologic.MPRfile(str(path))
    except Exception as exc:  # galvani raises ValueError/KeyError/struct errors on damage
        raise FileFormatError(f"{path}: not a readable Bio-Logic .mpr file ({type(exc).__name__}: {exc})") from None
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
    try:
        raw = pd.read_csv(io.StringIO(body), sep="\t", decimal=decimal)
    except Exception as exc:
        raise FileFormatError(f"{path}: cannot parse the EC-Lab text table ({exc})") from None
    raw = raw.loc[:, [c for c in raw.columns if not str(c).startswith("Unnamed")]]
    if "time/s" not in raw.columns:
        raise FileFormatError(f"{path}: the EC-Lab table has no 'time/s' column; columns are {list(raw.columns)}")
    return _biologic_frame(path, raw)


def _read_neware(path: Path) -> pd.DataFrame:
    nda = _need(path, "NewareNDA")
    try:
        raw = nda.read(str(path))
    except Exception as exc:
        raise FileFormatError(f"{path}: not a readable Neware file ({type(exc).__name__}: {exc})") from None
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
    return _assemble(raw, time - time[0], raw["Voltage"], current, raw["Step"], raw["Cycle"], capacity,
                     counted=counted)


def _read_csv(path: Path, columns: dict | None, options: dict) -> pd.DataFrame:
    if columns:
        unknown = set(columns) - set(SCHEMA)
        if unknown:
            raise FileFormatError(f"{path}: column mapping keys {sorted(unknown)} are not schema names {SCHEMA}")
        missing_keys = [k for k in ("time_s", "voltage_V", "current_A") if k not in columns]
        if missing_keys:
            raise FileFormatError(f"{path}: the column mapping must name {missing_keys}")
    try:
        # without a separator, sniff it (python engine); with one, the fast C engine
        raw = pd.read_csv(path, **(options if "sep" in options else {"sep": None, "engine": "python"} | options))
    except Exception as exc:
        raise FileFormatError(f"{path}: cannot parse as a delimited text table ({exc})") from None
    if raw.empty:
        raise FileFormatError(f"{path}: the table has a header but no data rows")
    if columns:
        absent = [v for v in columns.values() if v not in raw.columns]
        if absent:
            raise FileFormatError(f"{path}: columns {absent} are not in the file; it has {list(raw.columns)}")
        factors = dict.fromkeys(columns, 1.0)
    else:
        columns, factors = _columns_from_headers(path, raw.columns)

    def col(key):
        return raw[columns[key]].to_numpy(float) * factors[key]

    time, current = col("time_s"), col("current_A")
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
            raise FileFormatError(
                f"{path}: no {key.split('_')[0]} column among {list(headers)}; name it one of "
                f"{sorted(names)} (case-insensitive), or pass a column mapping, e.g. load_cycler(path, "
                "columns={'time_s': 'Time (s)', 'voltage_V': 'Voltage (V)', 'current_A': 'Current (A)'})"
            )
    return columns, factors


def _text_table(path: Path, marker: str) -> pd.DataFrame:
    """A delimited table whose header row contains ``marker`` (lines above it skipped)."""
    lines = path.read_bytes().decode("latin-1").splitlines()
    try:
        row = next(k for k, line in enumerate(lines) if marker.lower() in line.lower())
    except StopIteration:
        raise FileFormatError(f"{path}: no table header containing {marker!r}") from None
    header = lines[row]
    sep = max(("\t", ",", ";"), key=header.count)
    try:
        raw = pd.read_csv(io.StringIO("\n".join(lines[row:])), sep=sep)
    except Exception as exc:
        raise FileFormatError(f"{path}: cannot parse the table below line {row + 1} ({exc})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if raw.empty:
        raise FileFormatError(f"{path}: the table below line {row + 1} has no data rows")
    return raw.loc[:, [c for c in raw.columns if not c.startswith("Unnamed")]]


def _column(path, raw: pd.DataFrame, *names: str) -> str:
    lower = {c.lower().replace(" ", ""): c for c in raw.columns}
    for n in names:
        key = n.lower().replace(" ", "")
        if key in lower:
            return lower[key]
    raise FileFormatError(f"{path}: none of the columns {list(names)} found; the file has {list(raw.columns)}")


def _read_arbin(path: Path) -> pd.DataFrame:
    raw = _text_table(path, "Test_Time(s)")
    t = raw[_column(path, raw, "Test_Time(s)")].to_numpy(float)
    i = raw[_column(path, raw, "Current(A)")].to_numpy(float)
    v = raw[_column(path, raw, "Voltage(V)")].to_numpy(float)
    step = raw[_column(path, raw, "Step_Index")].to_numpy()
    cycle = raw[_column(path, raw, "Cycle_Index")].to_numpy()
    try:
        chg = raw[_column(path, raw, "Charge_Capacity(Ah)")].to_numpy(float)
        dchg = raw[_column(path, raw, "Discharge_Capacity(Ah)")].to_numpy(float)
        # Arbin's counters restart with every cycle: chain them
        capacity = _chain(chg - dchg, _runs(cycle))
        counted = True
    except FileFormatError:
        capacity, counted = _integrate(t, i), False
    return _assemble(raw, t - t[0], v, i, step, cycle, capacity - capacity[0], counted=counted)


def _read_maccor(path: Path) -> pd.DataFrame:
    raw = _text_table(path, "Rec#")
    t = raw[_column(path, raw, "Test (Sec)", "TestTime(s)", "Test Time (sec)")].to_numpy(float)
    amps = raw[_column(path, raw, "Amps", "Current(A)")].to_numpy(float)
    volts = raw[_column(path, raw, "Volts", "Voltage(V)")].to_numpy(float)
    state = raw[_column(path, raw, "State", "MD")].astype(str).str.strip().str.upper().str[0].to_numpy()
    sign = np.where(state == "C", 1.0, np.where(state == "D", -1.0, 0.0))
    # Amps is unsigned: only C and D say which way a current runs; R (rest)
    # carries the instrument's offset, read as zero. Any other state with a
    # current would otherwise become a silent zero and lose its charge; below
    # 1e-3 of the record's largest current (the analyses' rest_fraction) it is
    # an offset too
    unknown = np.flatnonzero(~np.isin(state, ("C", "D", "R")) & (np.abs(amps) > 1e-3 * np.nanmax(np.abs(amps),
                                                                                                 initial=0.0)))
    if unknown.size:
        k = unknown[0]
        raise FileFormatError(
            f"{path}: data row {k + 1} has State {state[k]!r} with {amps[k]:g} A ({unknown.size} row(s)); the "
            "direction of an unsigned Maccor current is known only for C (charge), D (discharge) and R (rest): "
            "export the states as C/D/R, or give the record as a CSV with a signed current (vendor='csv')")
    current = sign * np.abs(amps)
    step = raw[_column(path, raw, "Step")].to_numpy()
    cycle = raw[_column(path, raw, "Cyc#", "Cycle")].to_numpy()
    try:
        ah = np.abs(raw[_column(path, raw, "Amp-hr", "Capacity(Ah)")].to_numpy(float))
        # Maccor's Amp-hr restarts with every step and is unsigned: chain the
        # steps with the sign of their state
        capacity = _chain(sign * ah, _runs(step, state))
        counted = True
    except FileFormatError:
        capacity, counted = _integrate(t, current), False
    return _assemble(raw, t - t[0], volts, current, step, cycle, capacity, counted=counted)
