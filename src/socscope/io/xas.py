"""X-ray absorption (NEXAFS) spectra: two-column text, beamline CSV/TSV tables and XDI files.

:func:`open_spectrum` gives an :class:`xarray.Dataset` with the coordinate ``energy_eV`` (photon
energy [eV], ascending) and one variable per detector channel, named as the file names them
(``TEY``, ``FY``, ``I0``, ...; a two-column file gives ``mu``). Columns that hold no detector's
intensity (``time``, ``seconds``, ``counter``, ``angle``, further ``energy`` columns, ...) are kept
as coordinates along ``energy_eV``, not channels. ``attrs`` hold the ``source``, the
``format`` and the header's ``key: value`` lines (``metadata``).

* **Two-column text**: energy and intensity, separated by blanks, tabs, commas or semicolons;
  lines starting with ``#``, ``%``, ``!`` or ``;`` are comments.
* **Beamline tables** (CSV, TSV, ``.dat``): one header line of column names; the energy column is
  the first whose name starts with ``energy``, ``E`` (alone or with a unit) or ``mono``, the others
  are channels. Names are kept, units in brackets dropped (``"TEY [a.u.]"`` → ``TEY``).
* **XDI** (``# XDI/1.0``, the format of the IXAS XAS Data Interchange): header lines
  ``# Family.key: value``, column names from ``# Column.N: name [unit]``, data after ``#----``.
  A file that records the monochromator angle instead of the energy (``Column.1: angle degrees``)
  is converted by Bragg's law with its ``Mono.d_spacing``.

The energy is read in eV, or in keV where the file names that unit (``Column.N: energy keV``,
``"Energy (keV)"``, ``energy_keV``); ``attrs["energy_from"]`` says which column and unit it came
from.

With ``normalize_i0=True`` every channel is divided by ``I0`` (a column named ``I0``, ``i0`` or
``Izero``) where the file has one. The XDI and table readers are written here: the XDI layout is a
few header conventions on top of a numeric table, and the maintained library that reads it
(xraylarch) is a large scientific environment; pandas and numpy read the numbers.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .._checks import flag, path_argument
from ..errors import FileFormatError
from ._guard import reading

__all__ = ["open_spectrum"]

_COMMENT = ("#", "%", "!", ";")
_ENERGY = re.compile(r"^(energy|e|mono|monoenergy|photon_?energy|energy_?ev|e_?ev)\b", re.IGNORECASE)
_I0 = ("i0", "izero", "i_0", "mesh")
#: columns that are not a detector's intensity: times, counters, angles, positions, temperatures and
#: further energy columns (set-points, readbacks); kept as coordinates along ``energy_eV``, not channels
_AUXILIARY = re.compile(r"^(time|t|seconds?|secs?|elapsed(_?time)?|count_?time|ctime|timestamp|epoch|counter|"
                        r"index|idx|point|points|npts|angle|theta|two_?theta|mono_?angle|temperature|temp|"
                        r".*energy.*)$", re.IGNORECASE)
#: no value of a spectrum reaches this magnitude: detector counts, currents [A] and normalised
#: (arbitrary) units stay far below it; a larger one, or an infinity, is damage
INTENSITY_LIMIT = 1e30


def _clean(name: str) -> str:
    name = re.sub(r"[\[(].*?[\])]", "", str(name)).strip()
    return re.sub(r"\s+", "_", name) or "mu"


def _read_xdi(path: Path, text: str) -> tuple[pd.DataFrame, dict, dict]:
    """Table, header metadata and column units (name -> unit as written) of an XDI file."""
    lines = text.splitlines()
    meta, columns, units, data_start = {}, {}, {}, None
    for i, line in enumerate(lines):
        if not line.startswith("#"):
            data_start = i
            break
        body = line[1:].strip()
        if body.startswith("----"):
            data_start = i + 1
            continue
        key, sep, value = body.partition(":")
        if sep and "." in key:
            meta[key.strip()] = value.strip()
            if key.strip().lower().startswith("column."):
                words = value.split()
                columns[int(key.strip().split(".")[1])] = _clean(words[0]) if words else ""
                if len(words) > 1 and words:
                    units[_clean(words[0])] = words[1]
    if data_start is None:
        raise FileFormatError(f"{path}: an XDI header without data lines; expected numbers after '#----'")
    table = pd.read_csv(io.StringIO("\n".join(lines[data_start:])), sep=r"\s+", header=None, comment="#",
                        engine="python")
    names = [columns.get(k + 1, f"col{k + 1}") for k in range(table.shape[1])]
    table.columns = names
    return table, meta, units


def _unit_in(name) -> str | None:
    """The unit a column header names in brackets (``"Energy (keV)"``, ``"E [eV]"``) or as a suffix (``energy_keV``)."""
    m = re.search(r"[\[(]\s*([^\])]+?)\s*[\])]", str(name)) or re.search(r"[_ ](k?eV)$", str(name).strip(), re.IGNORECASE)
    return m.group(1) if m else None


def _read_table(path: Path, text: str) -> tuple[pd.DataFrame, dict, dict]:
    """Table, comment metadata and column units of a text table."""
    meta = {}
    body = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(_COMMENT):
            key, sep, value = stripped.lstrip("#%!; ").partition(":")
            if sep and key.strip():
                meta[key.strip()] = value.strip()
            continue
        body.append(stripped)
    if not body:
        raise FileFormatError(f"{path}: holds no data lines; expected columns of numbers (energy, intensity, ...)")
    sep = "," if "," in body[0] else (";" if ";" in body[0] else ("\t" if "\t" in body[0] else r"\s+"))
    first = re.split(sep if sep != r"\s+" else r"\s+", body[0])
    try:
        [float(v) for v in first if v != ""]
        header = None
    except ValueError:
        header = 0
    table = pd.read_csv(io.StringIO("\n".join(body)), sep=sep, header=header, engine="python")
    units = {}
    if header is None:
        names = ["energy_eV", "mu"] + [f"col{k}" for k in range(3, table.shape[1] + 1)]
        table.columns = names[: table.shape[1]]
    else:
        units = {_clean(c): _unit_in(c) for c in table.columns if _unit_in(c)}
        table.columns = [_clean(c) for c in table.columns]
    return table, meta, units


#: photon energy of a wavelength of 1 Å, hc/(1 Å) [eV] (CODATA 2018)
HC_EV_ANGSTROM = 12398.419843320026
#: energy units a spectrum may give, as factors to eV
_ENERGY_UNITS = {"ev": 1.0, "kev": 1e3}
_ANGLE_UNITS = {"degrees": np.pi / 180, "degree": np.pi / 180, "deg": np.pi / 180, "radians": 1.0, "rad": 1.0}


def _energy_ev(path: Path, table: pd.DataFrame, meta: dict, units: dict) -> tuple[str, np.ndarray, str]:
    """The energy column's name, its values in eV, and how they were obtained.

    An energy column in eV or keV (its unit as the file gives it; none means eV); or, in an XDI
    file without one, a monochromator angle column converted with ``Mono.d_spacing`` [Å] by
    Bragg's law, ``E = hc / (2 d sin θ)``.
    """
    energy_col = next((c for c in table.columns if _ENERGY.match(str(c))), None)
    if energy_col is not None:
        unit = units.get(energy_col) or ("keV" if re.search(r"kev$", str(energy_col), re.IGNORECASE) else "eV")
        factor = _ENERGY_UNITS.get(unit.lower())
        if factor is None:
            raise FileFormatError(f"{path}: the energy column {energy_col!r} is in {unit!r}; expected eV or keV "
                                  "(convert it, or name the unit)")
        return energy_col, table[energy_col].to_numpy(np.float64) * factor, f"column {energy_col!r} in {unit}"
    angle_col = next((c for c in table.columns if str(c).lower() in ("angle", "mono_angle", "theta")), None)
    if angle_col is not None:
        unit = (units.get(angle_col) or "").lower()
        d_text = next((v for k, v in meta.items() if k.lower() == "mono.d_spacing"), None)
        try:
            d = float(str(d_text).split()[0])
        except (TypeError, ValueError, IndexError):
            d = float("nan")
        if unit not in _ANGLE_UNITS or not (0.5 < d < 50.0):
            raise FileFormatError(
                f"{path}: no energy column, and the angle column {angle_col!r} cannot be converted (unit {unit or 'none'!r}, "
                f"Mono.d_spacing {d_text!r}); Bragg's law needs the angle in degrees or radians and the "
                "monochromator's d-spacing in Å (0.5–50), or give an 'energy' column in eV")
        theta = table[angle_col].to_numpy(np.float64) * _ANGLE_UNITS[unit]
        with np.errstate(divide="ignore", invalid="ignore"):
            energy = HC_EV_ANGSTROM / (2.0 * d * np.sin(theta))
        return angle_col, energy, f"column {angle_col!r} ({unit}) by Bragg's law with d = {d:g} Å"
    raise FileFormatError(f"{path}: no energy column among {list(table.columns)}; name it 'energy' (eV)")


def open_spectrum(path, *, normalize_i0: bool = False) -> xr.Dataset:
    """Read one NEXAFS spectrum file.

    Parameters
    ----------
    path : str or path-like
        ``.xdi``, or a text table (``.txt``, ``.dat``, ``.csv``, ``.tsv``, ...).
    normalize_i0 : bool
        Divide every channel by the incident intensity ``I0`` where the file has it.

    Returns
    -------
    xarray.Dataset
        Coordinate ``energy_eV`` (ascending, repeats removed), one variable per channel
        (``units`` "a.u."), non-intensity columns (times, counters, angles) as further
        coordinates along ``energy_eV``, ``attrs``: ``source``, ``format``, ``metadata`` (dict).

    Raises
    ------
    FileFormatError
        A missing or unreadable file, no energy column, no intensity column, fewer than five points, non-numeric
        or infinite values, a value beyond ±:data:`INTENSITY_LIMIT`, or an energy outside
        10 eV–100 keV (likely keV or another column); the message names the file.
    """
    path = path_argument(path, what="a spectrum file", example="spectrum.csv", error=FileFormatError)
    normalize_i0 = flag("normalize_i0", normalize_i0)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file (expected a NEXAFS spectrum: two-column text, CSV or .xdi)")
    what = "an XDI spectrum" if path.suffix.lower() == ".xdi" else "a spectrum table (energy and intensity columns)"
    with reading(path, what):
        text = path.read_text(encoding="utf-8", errors="replace")
        is_xdi = text.lstrip().upper().startswith("# XDI/")
        table, meta, units = _read_xdi(path, text) if is_xdi else _read_table(path, text)
        table = table.apply(pd.to_numeric, errors="coerce")
    energy_col, energy, energy_from = _energy_ev(path, table, meta, units)
    if table.shape[1] < 2:
        raise FileFormatError(f"{path}: only one column; expected energy and at least one intensity")
    if table.isna().any().any():
        bad = table.columns[table.isna().any()].tolist()
        raise FileFormatError(f"{path}: non-numeric or missing values in column(s) {bad}; expected numbers")
    if len(table) < 5:
        raise FileFormatError(f"{path}: {len(table)} points; a spectrum needs at least 5")
    values = table.to_numpy(np.float64)
    bad = np.argwhere(~(np.abs(values) < INTENSITY_LIMIT))  # also catches inf
    if bad.size:
        row, col = bad[0]
        raise FileFormatError(f"{path}: column {table.columns[col]} row {row + 1} holds {values[row, col]:g}, beyond the "
                              f"±{INTENSITY_LIMIT:g} of any detector reading; the file is damaged ({len(bad)} such values)")
    if not (energy.min() > 10 and energy.max() < 1e5):
        raise FileFormatError(f"{path}: energies {energy.min():g}..{energy.max():g} eV (from {energy_from}) lie outside "
                              "10 eV to 100 keV; give the energy in eV, or name its unit (keV)")
    order = np.argsort(energy, kind="stable")
    energy = energy[order]
    keep = np.concatenate([[True], np.diff(energy) > 0])
    columns = {str(c): table[c].to_numpy(np.float64)[order][keep] for c in table.columns if c != energy_col}
    auxiliary = {k: v for k, v in columns.items() if _AUXILIARY.match(k) or _ENERGY.match(k)}
    channels = {k: v for k, v in columns.items() if k not in auxiliary}
    if not channels:
        raise FileFormatError(f"{path}: no detector column; {', '.join(columns)} hold(s) times, counters, angles or "
                              "energies, not intensities; expected a column such as TEY, FY or mu")
    if normalize_i0:
        i0 = next((c for c in channels if c.lower() in _I0), None)
        if i0 is not None:
            ref = channels[i0]
            if np.any(ref == 0):
                raise FileFormatError(f"{path}: column {i0} is zero somewhere; cannot divide by it")
            channels = {k: (v / ref if k != i0 else v) for k, v in channels.items()}
    coords = {"energy_eV": ("energy_eV", energy[keep], {"units": "eV"})}
    coords.update({k: ("energy_eV", v) for k, v in auxiliary.items() if k not in coords})
    ds = xr.Dataset({k: ("energy_eV", v, {"units": "a.u."}) for k, v in channels.items()}, coords=coords)
    ds.attrs.update({"source": str(path), "format": "XDI" if is_xdi else "table", "metadata": meta,
                     "energy_from": energy_from})
    return ds
