"""Atomic force microscopy maps: Asylum ``.ibw``, Gwyddion ``.gwy``, Bruker Nanoscope, TIFF and NumPy.

Every reader gives the same thing: an :class:`xarray.Dataset` with one variable per channel,
dimensions ``y``/``x`` with coordinates in metres, a ``units`` attribute on every channel and the
instrument's notes in ``attrs`` (``notes``: a dict of the note's ``key: value`` lines;
``scan_size_m``, ``source``, ``format``). :func:`afm_channel` picks one channel as an
:class:`xarray.DataArray` by name.

* Asylum Research ``.ibw`` (Igor binary wave) through :mod:`igor2`: every layer of the wave is a
  channel; the layer labels are cleaned of the bytes that real files carry after the name
  (``"DeflectionRetracee"`` → ``"DeflectionRetrace"``); the lateral scaling is the wave's own
  (Igor's ``sfA``/``sfB``), the scan size and mode come from the wave note.
* Gwyddion ``.gwy`` through :mod:`gwyfile`: every data field is a channel (named by its title),
  with Gwyddion's physical width/height and SI units.
* Bruker Nanoscope (``.spm``, ``.000``, ...) through :mod:`pySPM` (optional, ``pip install pySPM``).
* TIFF (:mod:`tifffile`) and NumPy ``.npy``/``.npz``: the pixel size comes from ``pixel_size_nm``
  or, for TIFF, from ImageJ's calibration (a length unit and the resolution tags); a file without
  either is refused with a message that names it.

Channel units for ``.ibw`` follow Asylum's channel names (Height, ZSensor, Amplitude, Deflection:
m; Phase: deg; Current: A; UserIn, Bias, Potential: V); other channels take the wave's unit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import xarray as xr

from .._checks import path_argument, positive_float
from .._optional import require
from ..errors import FileFormatError, ParameterError
from ._guard import reading

__all__ = ["AFM_SUFFIXES", "afm_channel", "clean_channel_name", "open_afm"]

#: file suffixes that :func:`open_afm` knows besides Bruker's (see :func:`_looks_bruker`)
AFM_SUFFIXES = (".ibw", ".gwy", ".tif", ".tiff", ".npy", ".npz")
#: the formats read, by suffix, as an error names them
_FORMATS_READ = (".ibw (Asylum), .gwy (Gwyddion), .tif/.tiff and .npy/.npz (with a pixel size), "
                 ".spm/.000/.001... (Bruker Nanoscope, with pySPM)")


def _looks_bruker(path: Path) -> bool:
    """A Bruker Nanoscope file: suffix ``.spm``/``.pfc`` or three digits (``.000``), or a header of ``\\*`` lines."""
    suffix = path.suffix.lower()
    if suffix in (".spm", ".pfc") or re.fullmatch(r"\.\d{3}", suffix):
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(2) == b"\\*"  # "\*File list" opens every Nanoscope header
    except OSError:
        return True  # let the reader say what is wrong with the file


_ASYLUM_UNITS = (("height", "m"), ("zsensor", "m"), ("amplitude", "m"), ("deflection", "m"), ("phase", "deg"),
                 ("current", "A"), ("userin", "V"), ("bias", "V"), ("potential", "V"), ("frequency", "Hz"))
_DIRECTION = re.compile(r"^(?P<base>.*?)(?P<dir>Retrace|Trace)", re.IGNORECASE)
_LENGTH_UNITS = {"nm": 1e-9, "nanometer": 1e-9, "nanometers": 1e-9, "micron": 1e-6, "microns": 1e-6,
                 "um": 1e-6, "\u00b5m": 1e-6, "\u03bcm": 1e-6, "mm": 1e-3, "m": 1.0}


def clean_channel_name(raw) -> str:
    """A channel label without the junk that Asylum files carry after it.

    Asylum writes ``<Channel><Trace|Retrace>`` into a fixed-length label field without clearing
    what an earlier, longer label left behind, so ``"PhaseRetrace"`` can arrive as
    ``"PhaseRetracerace"``. The name is cut after the first ``Trace``/``Retrace``; bytes that are
    not printable ASCII are dropped first.

    Examples
    --------
    >>> clean_channel_name(b"UserIn0Retracetrace")
    'UserIn0Retrace'
    >>> clean_channel_name("Current")
    'Current'
    """
    text = raw.decode("latin-1") if isinstance(raw, (bytes, bytearray)) else str(raw)
    text = "".join(ch for ch in text if 32 <= ord(ch) < 127).strip()
    m = _DIRECTION.match(text)
    return f"{m['base']}{m['dir']}" if m and m["base"] else text


def _parse_note(note: str) -> dict:
    """``key: value`` lines of an instrument note (CR, LF or CRLF separated) as a dict of strings."""
    out = {}
    for line in re.split(r"\r\n|\r|\n", note):
        key, sep, value = line.partition(":")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def _channel_unit(name: str, fallback: str) -> str:
    low = name.lower()
    for prefix, unit in _ASYLUM_UNITS:
        if low.startswith(prefix):
            return unit
    return fallback


#: plausible magnitudes of a channel by its unit (a larger one is damage, not data): a scanner's
#: z range is below 1 mm (large-range scanners reach about 100 µm), phases stay within a few turns,
#: signals below 1 kV and 1 A, frequencies below 1 GHz
CHANNEL_LIMITS = {"m": 1e-3, "deg": 1e4, "V": 1e3, "A": 1.0, "Hz": 1e9}
#: plausible pixel and scan sizes of an AFM map [m]: from 1 pm to 1 mm, and from 0.1 nm to 1 cm
PIXEL_SIZE_RANGE_M = (1e-12, 1e-3)
SCAN_SIZE_RANGE_M = (1e-10, 1e-2)


def _dataset(path: Path, channels: dict, units: dict, dx: float, dy: float, *, x0: float = 0.0, y0: float = 0.0,
             attrs: dict) -> xr.Dataset:
    if not channels:
        raise FileFormatError(f"{path}: holds no image; expected at least one channel of at least 2x2 pixels")
    shapes = {np.shape(data) for data in channels.values()}
    shape = next(iter(shapes))
    if len(shapes) != 1 or len(shape) != 2 or min(shape) < 2:
        raise FileFormatError(f"{path}: holds images of shape(s) {sorted(shapes)}; expected channels of one size of at "
                              "least 2x2 pixels (y, x)")
    ny, nx = shape
    coords = {"y": ("y", y0 + dy * np.arange(ny), {"units": "m"}),
              "x": ("x", x0 + dx * np.arange(nx), {"units": "m"})}
    ds = xr.Dataset({name: (("y", "x"), np.asarray(data, dtype=np.float64), {"units": units.get(name, "")})
                     for name, data in channels.items()}, coords=coords)
    attrs.setdefault("pixel_size_m", float(dx))
    attrs.setdefault("scan_size_m", float(dx * nx))
    ds.attrs.update(attrs)
    for name in ds.data_vars:
        ds[name].attrs.update({k: v for k, v in attrs.items() if k in ("source", "format", "scan_size_m")})
    return ds


def _map_problem(ds: xr.Dataset) -> str | None:
    """What is physically impossible in a map read from a file, or None.

    Lateral scales must be finite, positive and of AFM size (:data:`PIXEL_SIZE_RANGE_M`,
    :data:`SCAN_SIZE_RANGE_M`); no channel holds an infinity or only NaN (NaN marks pixels not
    scanned, e.g. the lines after a scan stopped early). A channel whose unit is known (by its name
    in an Asylum wave, where the wave's one unit covers every layer; by the file's own unit in a
    Gwyddion file) stays within :data:`CHANNEL_LIMITS`.
    """
    for key, what, (lo, hi) in (("pixel_size_m", "pixel size", PIXEL_SIZE_RANGE_M),
                                ("scan_size_m", "scan size", SCAN_SIZE_RANGE_M)):
        value = float(ds.attrs[key])
        if not lo <= value <= hi:
            return f"its {what} is {value:.6g} m, outside the {lo:g}..{hi:g} m of an AFM map"
    lo, hi = PIXEL_SIZE_RANGE_M
    for axis in ("x", "y"):
        c = ds[axis].to_numpy()
        if not (np.all(np.isfinite(c)) and np.all(np.diff(c) > 0)):
            return f"its {axis} coordinates are not finite and increasing (origin {c[0]:.6g} m)"
        step = float(c[1] - c[0])
        if not PIXEL_SIZE_RANGE_M[0] <= step <= PIXEL_SIZE_RANGE_M[1]:
            return f"its pixels are {step:.6g} m apart along {axis}, outside the {lo:g}..{hi:g} m of an AFM map"
    asylum = ds.attrs.get("format") == "Asylum Research .ibw"
    for name, var in ds.data_vars.items():
        x = var.to_numpy()
        bad = np.flatnonzero(np.isinf(x))
        if bad.size:
            return f"channel {name} holds {float(x.flat[bad[0]])} ({bad.size} pixels); a pixel is a number or NaN"
        if np.isnan(x).all():
            return f"channel {name} holds no value (every pixel NaN)"
        unit = _channel_unit(name, "") if asylum else var.attrs.get("units", "")
        limit = CHANNEL_LIMITS.get(unit)
        if limit is not None and np.nanmax(np.abs(x)) > limit:
            return (f"channel {name} reaches {float(x.flat[np.nanargmax(np.abs(x))]):.6g} {unit}, beyond the "
                    f"±{limit:g} {unit} an AFM records")
    return None


def _unique_names(names) -> list[str]:
    seen, out = {}, []
    for i, name in enumerate(names):
        name = name or f"channel{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


#: the binary header of each Igor binary wave version: its struct layout (after the byte order),
#: its length and the positions of the section sizes in it (Igor Technical Note 003)
_IBW_HEADERS = {1: ("hlh", 8, (1,)), 2: ("hlllh", 16, (1, 2, 3)), 3: ("hllllh", 20, (1, 2, 3, 4)),
                5: ("hh15l", 64, tuple(range(2, 17)))}


def _ibw_header_problem(path: Path) -> str | None:
    """What makes ``path`` no Igor binary wave before a library reads it, or None.

    The binary header announces the size of every section (wave, note, units, labels, ...); a
    damaged size would make the reader allocate it (1.4 GB for one flipped byte of a 1.4 MB file),
    so sections that do not fit in the file are refused here.
    """
    import struct

    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(64)
    for order in "<>":
        version = struct.unpack(order + "h", head[:2])[0] if len(head) >= 2 else None
        if version in _IBW_HEADERS:
            break
    else:
        return "it starts with no Igor binary wave version (1, 2, 3 or 5)"
    layout, length, at = _IBW_HEADERS[version]
    if len(head) < length:
        return f"it ends within its {length}-byte header ({len(head)} bytes)"
    fields = struct.unpack(order + layout, head[:length])
    sections = [fields[k] for k in at]
    if min(sections) < 0 or length + sum(sections) > size:
        return (f"its header announces {length + sum(sections)} bytes (sections {sections}) but the file holds {size}; "
                "it is truncated or damaged")
    return None


def _read_ibw(path: Path) -> xr.Dataset:
    binarywave = require("igor2.binarywave", "reading Igor binary waves", "afm")
    what = "an Igor binary wave (.ibw) from an Asylum Research AFM"
    with reading(path, what):
        problem = _ibw_header_problem(path)
        if problem is not None:
            raise FileFormatError(f"{path}: not readable as {what}: {problem}")
        wave = binarywave.load(str(path))["wave"]
        header = wave["wave_header"]
        data = np.asarray(wave["wData"])
        note = wave.get("note", b"")
        note = note.decode("latin-1") if isinstance(note, bytes) else str(note)
        labels = wave.get("labels") or []
        sfa = [float(v) for v in header["sfA"]]
        sfb = [float(v) for v in header["sfB"]]
        data_unit = b"".join(header["dataUnits"]).decode("latin-1").strip("\x00 ")
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3 or min(data.shape[:2]) < 2:
        raise FileFormatError(f"{path}: holds a wave of shape {data.shape}; expected an image (x, y) or a stack of "
                              "channels (x, y, channel) of at least 2x2 pixels")
    layer_labels = list(labels[2])[1:] if len(labels) > 2 and len(labels[2]) > 1 else []
    names = [clean_channel_name(lab) for lab in layer_labels][: data.shape[2]]
    names += [f"channel{i}" for i in range(len(names), data.shape[2])]
    names = _unique_names(names)
    notes = _parse_note(note)
    # Igor stores rows = x (fast scan) and columns = y; the image (y, x) is the transpose
    channels = {name: data[:, :, k].T for k, name in enumerate(names)}
    units = {name: _channel_unit(name, data_unit) for name in names}
    attrs = {"source": str(path), "format": "Asylum Research .ibw", "notes": notes, "note": note}
    for key, attr in (("ScanSize", "scan_size_m"), ("ScanRate", "scan_rate_Hz")):
        try:
            attrs[attr] = float(notes[key])
        except (KeyError, ValueError):
            pass
    if "ImagingMode" in notes:
        attrs["imaging_mode"] = notes["ImagingMode"]
    dx, dy = sfa[0], sfa[1]
    if not (dx > 0 and dy > 0):  # a wave without scaling: from the scan size, else refuse
        if "scan_size_m" not in attrs:
            raise FileFormatError(f"{path}: the wave has no lateral scaling and its note no ScanSize; "
                                  "expected an Asylum Research image")
        dx = dy = attrs["scan_size_m"] / data.shape[0]
    return _dataset(path, channels, units, dx, dy, x0=sfb[0], y0=sfb[1], attrs=attrs)


#: bytes of the fixed-size components of a Gwyddion serialisation (boolean, char, int32, int64,
#: double) and of the items of its arrays
_GWY_FIXED = {"b": 1, "c": 1, "i": 4, "q": 8, "d": 8}
_GWY_ARRAY = {"C": 1, "I": 4, "Q": 8, "D": 8}


def _gwy_object_end(buf: bytes, pos: int, limit: int, depth: int) -> int:
    """End of the serialised object at ``pos`` (name, NUL, uint32 size, components); ValueError if damaged."""
    if depth > 64:
        raise ValueError("objects nested deeper than 64")
    name_end = buf.find(b"\0", pos, limit)
    if name_end < 0 or name_end + 5 > limit:
        raise ValueError(f"the object at byte {pos} runs past its container (byte {limit})")
    start = name_end + 5
    end = start + int.from_bytes(buf[name_end + 1:start], "little")
    if end > limit:
        raise ValueError(f"the object at byte {pos} announces {end - start} bytes, beyond its container (byte {limit})")
    while start < end:
        start = _gwy_component_end(buf, start, end, depth)
    return end


def _gwy_component_end(buf: bytes, pos: int, limit: int, depth: int) -> int:
    """End of the component at ``pos`` (name, NUL, type code, value); every step moves forward."""
    name_end = buf.find(b"\0", pos, limit)
    if name_end < 0 or name_end + 2 > limit:
        raise ValueError(f"the component at byte {pos} runs past its object (byte {limit})")
    code, p = chr(buf[name_end + 1]), name_end + 2
    if code in _GWY_FIXED:
        p += _GWY_FIXED[code]
    elif code == "s":
        p = buf.find(b"\0", p, limit) + 1 or limit + 1
    elif code == "o":
        p = _gwy_object_end(buf, p, limit, depth + 1)
    elif code in _GWY_ARRAY or code in ("S", "O"):
        n, p = int.from_bytes(buf[p:p + 4], "little"), p + 4
        if code in _GWY_ARRAY:
            p += n * _GWY_ARRAY[code]
        for _ in range(n if code in ("S", "O") and p <= limit else 0):  # each item takes >= 1 byte
            p = (buf.find(b"\0", p, limit) + 1 or limit + 1) if code == "S" else _gwy_object_end(buf, p, limit,
                                                                                                   depth + 1)
            if p > limit:
                break
    else:
        raise ValueError(f"the component at byte {pos} has the unknown type {code!r}")
    if p > limit:
        raise ValueError(f"the component at byte {pos} runs past its object (byte {limit})")
    return p


def _gwy_structure_problem(path: Path) -> str | None:
    """What makes ``path`` no Gwyddion serialisation, or None.

    Walks the object tree without building it, checking that every object and component fits in
    its container. gwyfile loops forever on a file cut inside a component (a size read as 0 never
    moves its parser on), so such a file is refused here first.
    """
    buf = path.read_bytes()
    if buf[:4] != b"GWYP":
        return "it does not start with the Gwyddion magic bytes GWYP"
    try:
        _gwy_object_end(buf, 4, len(buf), 0)
    except ValueError as exc:
        return f"{exc}; it is truncated or damaged"
    return None


def _read_gwy(path: Path) -> xr.Dataset:
    gwyfile = require("gwyfile", "reading Gwyddion files", "afm")
    util = require("gwyfile.util", "reading Gwyddion files", "afm")
    with reading(path, "a Gwyddion file (.gwy)"):
        problem = _gwy_structure_problem(path)
        if problem is not None:
            raise FileFormatError(f"{path}: not readable as a Gwyddion file (.gwy): {problem}")
        container = gwyfile.load(str(path))
        fields = util.get_datafields(container)
        if not fields:
            raise FileFormatError(f"{path}: holds no image (data field); expected a Gwyddion file with at least one")
        names = _unique_names([clean_channel_name(t) for t in fields])
        shapes = {f.data.shape for f in fields.values()}
        if len(shapes) != 1:
            raise FileFormatError(f"{path}: its channels differ in size {sorted(shapes)}; open them one at a time "
                                  "with gwyfile, or crop them to one size in Gwyddion")
        first = next(iter(fields.values()))
        ny, nx = first.data.shape
        unit_xy = getattr(first.get("si_unit_xy"), "unitstr", "m") if first.get("si_unit_xy") else "m"
        scale = _LENGTH_UNITS.get(unit_xy or "m")
        if scale is None:
            raise FileFormatError(f"{path}: lateral unit {unit_xy!r} is not a length; expected m, µm or nm")
        channels, units = {}, {}
        for name, field in zip(names, fields.values()):
            channels[name] = np.asarray(field.data, dtype=np.float64)
            z = field.get("si_unit_z")
            units[name] = getattr(z, "unitstr", "") if z is not None else ""
        xreal, yreal = float(first.xreal) * scale, float(first.yreal) * scale
        x0, y0 = float(first.get("xoff", 0.0)) * scale, float(first.get("yoff", 0.0)) * scale
    attrs = {"source": str(path), "format": "Gwyddion .gwy", "notes": {}, "scan_size_m": xreal}
    return _dataset(path, channels, units, xreal / nx, yreal / ny, x0=x0, y0=y0, attrs=attrs)


def _tiff_pixel_size_m(tif) -> float | None:
    """Pixel size from ImageJ's calibration (a length unit and XResolution), else None."""
    meta = tif.imagej_metadata or {}
    unit = str(meta.get("unit", "")).strip().lower().replace("\\u00b5", "\u00b5")
    scale = _LENGTH_UNITS.get(unit)
    tag = tif.pages[0].tags.get("XResolution")
    if scale is None or tag is None:
        return None
    num, den = tag.value
    return scale * den / num if num > 0 else None


def _read_tiff(path: Path, pixel_size_m: float | None) -> xr.Dataset:
    tifffile = require("tifffile", "reading TIFF maps")
    with reading(path, "a TIFF image"), tifffile.TiffFile(str(path)) as tif:
        data = np.asarray(tif.asarray())
        if pixel_size_m is None:
            pixel_size_m = _tiff_pixel_size_m(tif)
        description = tif.pages[0].description or ""
    if pixel_size_m is None:
        raise FileFormatError(f"{path}: a TIFF without a pixel size (no ImageJ calibration); give it, e.g. "
                              "pixel_size_nm=7.8 (--pixel-size-nm 7.8)")
    data = np.squeeze(data)
    stack = data[None] if data.ndim == 2 else data
    if stack.ndim != 3:
        raise FileFormatError(f"{path}: holds an array of shape {data.shape}; expected one image (y, x) or a stack "
                              "of channels (channel, y, x)")
    names = [f"channel{i}" for i in range(stack.shape[0])]
    attrs = {"source": str(path), "format": "TIFF", "notes": {"description": description}}
    return _dataset(path, dict(zip(names, stack)), {}, pixel_size_m, pixel_size_m, attrs=attrs)


def _read_numpy(path: Path, pixel_size_m: float | None) -> xr.Dataset:
    with reading(path, "a NumPy array (.npy) or archive (.npz)"):
        loaded = np.load(str(path), allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            arrays = {"channel0": loaded} if loaded.ndim == 2 else {f"channel{i}": a for i, a in enumerate(loaded)}
        else:
            arrays = {k: np.asarray(loaded[k]) for k in loaded.files}
    if pixel_size_m is None:
        raise FileFormatError(f"{path}: a NumPy file has no pixel size; give it, e.g. pixel_size_nm=7.8 "
                              "(--pixel-size-nm 7.8)")
    shapes = {a.shape for a in arrays.values()}
    if not arrays or len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise FileFormatError(f"{path}: holds arrays of shapes {sorted(shapes)}; expected 2D images (y, x) of "
                              "one size")
    attrs = {"source": str(path), "format": "NumPy", "notes": {}}
    return _dataset(path, arrays, {}, pixel_size_m, pixel_size_m, attrs=attrs)


def _read_bruker(path: Path) -> xr.Dataset:
    try:
        pyspm = require("pySPM", "reading Bruker Nanoscope files", "bruker")
    except ImportError as exc:  # a Bruker suffix or header: say so, with the file's name
        raise FileFormatError(f"{path}: read as a Bruker Nanoscope file (its suffix or header), and {exc}") from None
    with reading(path, "a Bruker Nanoscope file"):
        scan = pyspm.Bruker(str(path))
        channels, units, size = {}, {}, None
        for layer in scan.layers:
            label = layer.get(b"@2:Image Data")
            if not label:
                continue
            m = re.match(r'([^ ]+) \[([^]]*)] "([^"]*)"', label[0].decode("latin-1"))
            if m is None:
                continue
            raw = m.group(3)
            direction = layer.get(b"Line Direction", [b"Trace"])[0].decode("latin-1").strip()
            backward = direction.lower() == "retrace"
            img = scan.get_channel(raw, backward=backward)
            name = f"{raw}{'Retrace' if backward else 'Trace'}"
            channels[name] = np.asarray(img.pixels, dtype=np.float64)
            units[name] = str(getattr(img, "zscale", ""))
            size = img.size
    if not channels:
        raise FileFormatError(f"{path}: holds no image; expected a Bruker Nanoscope file")
    ny, nx = next(iter(channels.values())).shape
    scale = _LENGTH_UNITS.get(str(size["real"]["unit"]).lower())
    if scale is None:
        raise FileFormatError(f"{path}: lateral unit {size['real']['unit']!r} is not a length; expected nm or um")
    dx = float(size["real"]["x"]) * scale / nx
    dy = float(size["real"]["y"]) * scale / ny
    attrs = {"source": str(path), "format": "Bruker Nanoscope", "notes": {}}
    return _dataset(path, channels, units, dx, dy, attrs=attrs)


def open_afm(path, *, pixel_size_nm: float | None = None) -> xr.Dataset:
    """Read every channel of an AFM map.

    Parameters
    ----------
    path : str or path-like
        ``.ibw`` (Asylum), ``.gwy`` (Gwyddion), ``.tif``/``.tiff``, ``.npy``/``.npz``; a Bruker
        Nanoscope file (``.spm``, ``.000``, ..., or any file whose header opens with ``\\*``; needs
        :mod:`pySPM`).
    pixel_size_nm : float, optional
        Pixel size [nm] for TIFF and NumPy files (a TIFF's own ImageJ calibration is used
        otherwise). Ignored by the instrument formats, which carry their scale.

    Returns
    -------
    xarray.Dataset
        One variable per channel, ``(y, x)`` float64, coordinates ``y``/``x`` in metres (pixel
        centres from the file's own origin), ``units`` on every variable; ``attrs``: ``source``,
        ``format``, ``pixel_size_m``, ``scan_size_m``, ``notes`` (dict) and, where the file has
        them, ``note`` (the raw wave note), ``scan_rate_Hz``, ``imaging_mode``.

    Raises
    ------
    FileFormatError
        A missing, truncated or foreign file, or a TIFF/NumPy file without a pixel size; the
        message names the file.

    Examples
    --------
    >>> ds = open_afm("map.ibw")                                     # doctest: +SKIP
    >>> list(ds.data_vars), ds.attrs["scan_size_m"]                  # doctest: +SKIP
    (['HeightRetrace', 'AmplitudeRetrace', ...], 2e-06)
    """
    path = path_argument(path, what="an AFM file", example="map.ibw", error=FileFormatError)
    pixel_size_m = None
    if pixel_size_nm is not None:
        pixel_size_m = positive_float("pixel_size_nm", pixel_size_nm, unit=" nm", example="7.8") * 1e-9
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file (expected an AFM map: {_FORMATS_READ})")
    suffix = path.suffix.lower()
    if suffix == ".ibw":
        ds = _read_ibw(path)
    elif suffix == ".gwy":
        ds = _read_gwy(path)
    elif suffix in (".tif", ".tiff"):
        ds = _read_tiff(path, pixel_size_m)
    elif suffix in (".npy", ".npz"):
        ds = _read_numpy(path, pixel_size_m)
    elif _looks_bruker(path):
        ds = _read_bruker(path)
    else:
        raise FileFormatError(f"{path}: not an AFM map read here (suffix {path.suffix or '(none)'!r}, no Bruker "
                              f"Nanoscope header); the maps read are {_FORMATS_READ}")
    problem = _map_problem(ds)
    if problem is not None:
        raise FileFormatError(f"{path}: {problem}; the file is damaged or not an AFM map (give pixel_size_nm for a "
                              "TIFF or NumPy map)")
    return ds


def _base(name: str) -> str:
    m = _DIRECTION.match(name)
    return (m["base"] if m and m["base"] else name).lower()


def afm_channel(ds: xr.Dataset, name: str) -> xr.DataArray:
    """One channel of a map read by :func:`open_afm`, by its name or its name without Trace/Retrace.

    ``"Amplitude"`` finds ``"AmplitudeRetrace"``; where a file holds both the trace and the retrace,
    the retrace (Asylum's default display) is taken. Case does not matter.

    Returns
    -------
    xarray.DataArray
        The channel, with the map's ``attrs`` (notes, scan size, source) merged into its own.

    Raises
    ------
    ParameterError
        If no channel matches; the message names the file and lists the channels it has.
    """
    if not isinstance(name, str) or not name:
        raise ParameterError(f"channel must be a channel name, got {name!r}; e.g. 'Height'")
    names = list(ds.data_vars)
    exact = [n for n in names if n.lower() == name.lower()]
    found = exact or [n for n in names if _base(n) == _base(name)]
    if len(found) > 1:
        retrace = [n for n in found if n.lower().endswith("retrace")]
        found = retrace[:1] or found[:1]
    if not found:
        source = ds.attrs.get("source", "the map")
        raise ParameterError(f"{source}: no channel {name!r}; it has {', '.join(names)}")
    da = ds[found[0]].copy()
    da.attrs = {**ds.attrs, **ds[found[0]].attrs, "channel": found[0]}
    return da


def info(ds: xr.Dataset) -> dict:
    """A JSON-ready summary of a map: channels with units and ranges, size, scan, notes."""
    out = {
        "source": ds.attrs.get("source"),
        "format": ds.attrs.get("format"),
        "shape_px": [int(ds.sizes["y"]), int(ds.sizes["x"])],
        "pixel_size_nm": float(ds.attrs["pixel_size_m"]) * 1e9,
        "scan_size_um": float(ds.attrs["scan_size_m"]) * 1e6,
        "channels": [{"name": n, "units": ds[n].attrs.get("units", ""),
                      "min": float(np.nanmin(ds[n].values)), "max": float(np.nanmax(ds[n].values))}
                     for n in ds.data_vars],
    }
    for key in ("imaging_mode", "scan_rate_Hz"):
        if key in ds.attrs:
            out[key] = ds.attrs[key]
    out["notes"] = ds.attrs.get("notes", {})
    json.dumps(out)  # the notes are strings; anything else would fail here rather than in the caller
    return out
