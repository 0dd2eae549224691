"""Operando microscopy movies: TIFF / OME-TIFF / ImageJ-TIFF stacks and video files.

:func:`open_movie` opens an image stack without loading it and returns a
:class:`Movie`, which reads frames on demand as ``float64`` intensity arrays of
shape ``(frame, y, x)``:

* uncompressed, contiguous stacks are memory-mapped (:func:`tifffile.memmap`),
  so stacks larger than memory cost only the frames asked for;
* compressed or scattered stacks are decoded page by page;
* RGB frames (last axis of 3 or 4 samples, e.g. from a video camera) become one
  intensity per pixel, ``(R + G + B) / (3 · 255)`` for ``uint8`` data (``3 · 65535``
  for ``uint16``), as in Merryweather et al. (Sharma et al., Nano Lett. 2022); an alpha channel is ignored;
* grayscale frames are returned as stored (converted to ``float64``, not scaled).

Frame times [s] come from the OME-XML ``Plane DeltaT`` (or ``Pixels TimeIncrement``)
attributes, from the ImageJ ``finterval``, or from the ``frame_interval_s`` argument,
which overrides the metadata.

:func:`bin_frames` averages consecutive sets of frames (papers (Sharma et al., Nano Lett. 2022) and (Lun et al.)
bin 20–80 frames to raise the signal-to-noise ratio).

Reading needs the optional extra ``socscope[image]`` (tifffile); video files need
``imageio`` with its ffmpeg plugin (``pip install imageio[ffmpeg]``).

Examples
--------
>>> movie = open_movie("operando.tif", frame_interval_s=0.5)   # doctest: +SKIP
>>> for start, frames in movie.iter_chunks(200):               # doctest: +SKIP
...     binned, t = bin_frames(frames, 20, time_s=movie.time_s[start:start + len(frames)])
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .._optional import require
from ..errors import FileFormatError, ParameterError, SocscopeWarning
from ._guard import reading

__all__ = ["VIDEO_SUFFIXES", "Movie", "bin_frames", "open_movie"]

#: file name endings read as video through imageio
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".wmv")

_EXPECTED = "expected a TIFF image stack (frame, y, x) such as a TIFF, OME-TIFF or ImageJ-TIFF file"

#: time units of OME-XML and ImageJ metadata, in seconds
_TIME_UNITS = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "msec": 1e-3, "µs": 1e-6, "us": 1e-6, "\u03bcs": 1e-6, "ns": 1e-9,
    "min": 60.0, "minute": 60.0, "minutes": 60.0, "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
}
#: length units of OME-XML and ImageJ metadata, in nanometres
_LENGTH_UNITS = {
    "nm": 1.0, "nanometer": 1.0, "µm": 1e3, "um": 1e3, "\u03bcm": 1e3, "micron": 1e3, "microns": 1e3,
    "micrometer": 1e3, "\\u00b5m": 1e3, "mm": 1e6, "m": 1e9, "pixel": math.nan, "pixels": math.nan,
}


class Movie:
    """A stack of frames opened for reading on demand.

    Create one with :func:`open_movie`; do not call the constructor directly.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    n_frames : int
        Number of frames.
    shape : tuple of int
        Frame shape ``(y, x)`` [pixels].
    dtype : numpy.dtype
        Data type of the stored samples (``uint8`` for 8-bit RGB video, ...).
    is_rgb : bool
        True when frames are stored as RGB(A) samples and converted to intensity.
    time_s : numpy.ndarray, shape (n_frames,)
        Time of each frame [s], from the metadata or the frame interval.
    metadata : dict
        ``format`` (``"ome-tiff"``, ``"imagej-tiff"``, ``"tiff"`` or ``"video"``),
        ``axes`` (the file's axis letters), ``compression``, ``memory_mapped`` (bool),
        ``time_source`` (``"argument"``, ``"ome-deltat"``, ``"ome-timeincrement"``,
        ``"imagej-finterval"`` or ``"video-fps"``), ``pixel_size_nm`` when the file
        states one, and ``imagej`` (the ImageJ metadata dict) for ImageJ files.

    Notes
    -----
    Page-wise (compressed) stacks keep the file open; call :meth:`close` or use the
    movie as a context manager to release it. Memory-mapped stacks hold a read-only
    map of the file.
    """

    def __init__(self, path, *, n_frames, shape, dtype, is_rgb, time_s, metadata, reader):
        self.path = Path(path)
        self.n_frames = int(n_frames)
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.is_rgb = bool(is_rgb)
        self.time_s = np.asarray(time_s, dtype=np.float64)
        self.metadata = dict(metadata)
        # reader: callable (start, stop) -> raw ndarray (k, y, x) or (k, y, x, s)
        self._reader = reader
        #: the memory map when the stack is memory-mapped, else None
        self._data = None
        self._closer = None

    # -- reading ---------------------------------------------------------------------------
    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Read frames ``start`` to ``stop - 1`` as intensity.

        Parameters
        ----------
        start, stop : int
            Frame range, ``0 <= start < stop <= n_frames`` (``stop=None``: to the end).

        Returns
        -------
        numpy.ndarray, shape (stop - start, y, x), float64
            Intensity: stored values for grayscale data; ``(R + G + B) / (3 · max)``
            for RGB data, with ``max`` = 255 (uint8) or 65535 (uint16), 1 for floats.
        """
        stop = self.n_frames if stop is None else stop
        start, stop = int(start), int(stop)
        if not 0 <= start < stop <= self.n_frames:
            raise ParameterError(
                f"frame range [{start}, {stop}) is outside the movie {self.path.name} "
                f"({self.n_frames} frames); use 0 <= start < stop <= {self.n_frames}"
            )
        with reading(self.path, "a movie (its frames)"):  # a video announcing more frames than it holds, ...
            raw = self._reader(start, stop)
        out = _rgb_to_intensity(raw) if self.is_rgb else np.array(raw, dtype=np.float64)
        if np.asarray(raw).dtype.kind == "f":  # RGB too: a NaN in any channel makes the intensity NaN
            bad = ~np.isfinite(out)
            if bad.any():
                k = int(np.nonzero(bad.any(axis=tuple(range(1, out.ndim))))[0][0])
                raise FileFormatError(
                    f"{self.path.name}: frame {start + k} holds {int(bad[k].sum())} NaN or infinite pixel(s); "
                    "an intensity must be a finite number: replace or drop the frame (e.g. with "
                    "numpy.nan_to_num, or by cutting it from the stack) and save the movie again"
                )
        return out

    def iter_chunks(self, chunk_frames: int) -> Iterator[tuple[int, np.ndarray]]:
        """Iterate over the movie in chunks of frames.

        Parameters
        ----------
        chunk_frames : int
            Frames per chunk (>= 1); the last chunk may be shorter. Choose a multiple of
            the binning factor when the chunks are binned with :func:`bin_frames`.

        Yields
        ------
        start : int
            Index of the chunk's first frame.
        frames : numpy.ndarray, shape (k, y, x), float64
            As :meth:`read`.
        """
        if isinstance(chunk_frames, bool) or int(chunk_frames) != chunk_frames or chunk_frames < 1:
            raise ParameterError(f"chunk_frames={chunk_frames!r} must be a whole number >= 1")
        chunk_frames = int(chunk_frames)
        for start in range(0, self.n_frames, chunk_frames):
            yield start, self.read(start, min(start + chunk_frames, self.n_frames))

    def release_pages(self) -> None:
        """Tell the operating system that the pages of a memory-mapped stack read so far are not needed.

        A read-only file mapping keeps every page it touched resident in the
        process until the map is closed, so streaming a stack larger than
        memory through :meth:`iter_chunks` would grow the resident set to the
        whole file; calling this after each chunk keeps it at one chunk. It
        does nothing for stacks read page by page, or where the platform has
        no ``MADV_DONTNEED``.
        """
        import mmap

        obj = getattr(self, "_data", None)
        for _ in range(16):  # np.memmap → its ndarray bases → the mmap
            if obj is None:
                return
            m = obj if isinstance(obj, mmap.mmap) else getattr(obj, "_mmap", None)
            if isinstance(m, mmap.mmap):
                if hasattr(m, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
                    try:
                        m.madvise(mmap.MADV_DONTNEED)
                    except (OSError, ValueError):  # a closed map
                        pass
                return
            obj = getattr(obj, "base", None)

    def __len__(self) -> int:
        return self.n_frames

    def __repr__(self) -> str:
        kind = "RGB " if self.is_rgb else ""
        mapped = ", memory-mapped" if self._data is not None else ""
        return (f"Movie({self.path.name!r}: {self.n_frames} frames of {self.shape[0]}x{self.shape[1]} "
                f"{kind}{self.dtype}{mapped})")

    # -- resources -------------------------------------------------------------------------
    def close(self) -> None:
        """Release the open file (page-wise and video readers) or the memory map."""
        if self._closer is not None:
            self._closer()
            self._closer = None
        self._data = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _rgb_to_intensity(raw: np.ndarray) -> np.ndarray:
    """(R + G + B) / (3 · full scale) of an (..., 3 or 4) array, as float64."""
    dtype = raw.dtype
    if dtype == np.uint8:
        scale = 255.0
    elif dtype == np.uint16:
        scale = 65535.0
    elif np.issubdtype(dtype, np.integer):
        scale = float(np.iinfo(dtype).max)
    else:
        scale = 1.0
    rgb = np.asarray(raw[..., :3], dtype=np.float64)
    return rgb.sum(axis=-1) / (3.0 * scale)


def _check_interval(frame_interval_s) -> float | None:
    if frame_interval_s is None:
        return None
    try:
        value = float(frame_interval_s)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ParameterError(
            f"frame_interval_s={frame_interval_s!r} must be a positive number of seconds "
            "(the time between consecutive frames)"
        )
    return value


def _no_time_error(path: Path, missing: str = "no OME-XML DeltaT/TimeIncrement, no ImageJ finterval") -> ParameterError:
    return ParameterError(
        f"{path}: the file states no frame times ({missing}); "
        "pass frame_interval_s= (seconds between frames; on the command line --frame-interval-s)"
    )


def open_movie(path, *, frame_interval_s: float | None = None) -> Movie:
    """Open an image stack or video for reading frame by frame.

    Parameters
    ----------
    path : str or path-like
        A TIFF, OME-TIFF or ImageJ-TIFF stack (one frame per page, or one contiguous
        block), or a video file (``.mp4``, ``.avi``, ...; needs ``imageio[ffmpeg]``).
    frame_interval_s : float, optional
        Time between frames [s]. Overrides the frame times stated in the file; needed
        when the file states none.

    Returns
    -------
    Movie
        Frames are read on demand (:meth:`Movie.read`, :meth:`Movie.iter_chunks`);
        nothing but the page index is read here.

    Raises
    ------
    FileFormatError
        The file is missing, not a TIFF, corrupt or truncated, its pages differ in shape,
        or it holds more than one non-singleton axis besides y and x (e.g. channels and time).
    ParameterError
        ``frame_interval_s`` is not positive, or no frame time is available.
    ImportError
        tifffile (``pip install 'socscope[image]'``) or, for video, imageio is missing.
    """
    path = Path(path)
    interval = _check_interval(frame_interval_s)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file ({_EXPECTED})")
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path}: the file is empty ({_EXPECTED})")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return _open_video(path, interval)
    return _open_tiff(path, interval)


# --- TIFF -----------------------------------------------------------------------------------
class _TiffComplaints(logging.Handler):
    """Collects what tifffile logs while a file is opened (it logs a broken page chain and goes on).

    Only records of the thread that opens the file: a movie opened at the same time in another
    thread keeps its complaints to itself.
    """

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record):
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


_LOG_LOCK = threading.Lock()
_LOG_STATE = {"openers": 0, "propagate": True}  # files being opened; tifffile's own propagate setting


@contextmanager
def _tifffile_complaints():
    """A :class:`_TiffComplaints` on tifffile's logger, which meanwhile stays off stderr.

    Its messages become our errors instead of lines on stderr; the logger's ``propagate`` is
    restored when the last file being opened (in any thread) is open.
    """
    log = logging.getLogger("tifffile")
    complaints = _TiffComplaints()
    with _LOG_LOCK:
        if _LOG_STATE["openers"] == 0:
            _LOG_STATE["propagate"] = log.propagate
            log.propagate = False
        _LOG_STATE["openers"] += 1
        log.addHandler(complaints)
    try:
        yield complaints
    finally:
        with _LOG_LOCK:
            log.removeHandler(complaints)
            _LOG_STATE["openers"] -= 1
            if _LOG_STATE["openers"] == 0:
                log.propagate = _LOG_STATE["propagate"]


#: tifffile's words for a page chain that runs past the end of the file (frames lost; a damaged
#: metadata tag alone loses no frame and is not refused)
_BROKEN = ("invalid page offset", "invalid offset to page")


def _check_times(path: Path, time_s: np.ndarray, source: str) -> None:
    """Frame times must be finite and increase (an ImageJ finterval of 1e308 gave infinite times)."""
    t = np.asarray(time_s, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise FileFormatError(f"{path}: its frame times ({source}) are not finite and increasing (they run "
                              f"{t[0]:.6g} .. {t[-1]:.6g} s); the time metadata are damaged: pass frame_interval_s= "
                              "(--frame-interval-s)")


def read_tiff_image(path, what: str) -> np.ndarray:
    """A TIFF's whole array, refused where tifffile reports a broken page chain or page data run past the end.

    Used where one image (a mask, a label image, a micrograph) is read: tifffile logs a truncated
    stack and returns the pages it could read, which had made a cut stack its first page.
    """
    tifffile = require("tifffile", "reading TIFF images")
    path = Path(path)
    size = path.stat().st_size
    with reading(path, what), _tifffile_complaints() as complaints, tifffile.TiffFile(path) as tf:
        ends = [o + n for page in tf.pages for o, n in zip(page.dataoffsets, page.databytecounts) if n]
        data = tf.asarray()
    broken = [m for m in complaints.messages if any(word in m for word in _BROKEN)]
    if broken or (ends and max(ends) > size):
        why = broken[0].strip() if broken else f"its data end at byte {max(ends)} but the file has {size}"
        raise FileFormatError(f"{path}: the file is truncated or corrupt ({why}); expected {what}")
    return np.asarray(data)


def _open_tiff(path: Path, interval: float | None) -> Movie:
    tifffile = require("tifffile", "reading image stacks")
    with _tifffile_complaints() as complaints:
        with reading(path, f"a TIFF ({_EXPECTED})"):  # tifffile raises TiffFileError, ValueError, struct.error, ...
            tf = tifffile.TiffFile(path)
        try:
            with reading(path, f"a TIFF with readable metadata ({_EXPECTED})"):  # e.g. a damaged finterval
                movie = _tiff_movie(tifffile, tf, path, interval)
            broken = [m for m in complaints.messages if any(word in m for word in _BROKEN)]
            if broken:
                raise FileFormatError(f"{path}: the file is truncated or corrupt ({broken[0].strip()}): only part of "
                                      f"its frames can be read; {_EXPECTED}")
        except BaseException:
            tf.close()
            raise
    return movie


def _tiff_movie(tifffile, tf, path: Path, interval: float | None) -> Movie:
    file_size = path.stat().st_size
    # 1. every page's shape and data extent, from the tags only (no pixel is decoded)
    with reading(path, f"a TIFF with an intact structure ({_EXPECTED})"):
        tf.pages.useframes = False
        first_shape = None
        for index, page in enumerate(tf.pages):
            if getattr(page, "is_reduced", False):  # thumbnails / pyramid levels
                continue
            if first_shape is None:
                first_shape = page.shape
            elif page.shape != first_shape:
                raise FileFormatError(
                    f"{path}: page {index} has shape {page.shape} but page 0 has shape {first_shape}; "
                    f"{_EXPECTED} whose frames all have the same shape (split the file, or crop the frames)"
                )
            ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts) if n]
            if ends and max(ends) > file_size:
                raise FileFormatError(
                    f"{path}: page {index} is truncated (its data end at byte {max(ends)} but the file "
                    f"has {file_size} bytes); {_EXPECTED}"
                )
        if first_shape is None:
            raise FileFormatError(f"{path}: the file holds no image ({_EXPECTED})")
        series = tf.series[0]
        axes = str(series.axes)
        shape = tuple(series.shape)
        dtype = np.dtype(series.dtype)

    # 2. axes: (frame?, y, x, samples?)
    if "Y" not in axes or "X" not in axes:
        raise FileFormatError(f"{path}: the image has axes {axes!r} without Y and X; {_EXPECTED}")
    sample_ax = axes.find("S") if "S" in axes and shape[axes.find("S")] in (3, 4) else -1
    other = [i for i, a in enumerate(axes) if a not in "YX" and i != sample_ax and shape[i] > 1]
    if len(other) > 1:
        described = ", ".join(f"{axes[i]}={shape[i]}" for i in other)
        raise FileFormatError(
            f"{path}: the stack has more than one axis besides y and x ({described}); {_EXPECTED} "
            "with a single channel and focal plane (split channels / planes, e.g. in ImageJ)"
        )
    frame_ax = other[0] if other else None
    n_frames = shape[frame_ax] if frame_ax is not None else 1
    is_rgb = sample_ax >= 0
    order = ([frame_ax] if frame_ax is not None else []) + [axes.find("Y"), axes.find("X")]
    order += [sample_ax] if is_rgb else []
    leftover = [i for i in range(len(axes)) if i not in order]  # singleton axes
    frame_shape = (shape[axes.find("Y")], shape[axes.find("X")])

    # 3. frame times and pixel size
    metadata = {
        "format": "ome-tiff" if tf.is_ome else "imagej-tiff" if tf.is_imagej else "tiff",
        "axes": axes,
        "compression": str(getattr(tf.pages[0].compression, "name", tf.pages[0].compression)).lower(),
    }
    time_s, source = None, None
    if interval is not None:
        time_s, source = np.arange(n_frames) * interval, "argument"
    if tf.is_ome:
        ome_time, ome_source, px = _ome_times(tf.ome_metadata, axes[frame_ax] if frame_ax is not None else "T",
                                              n_frames)
        if time_s is None and ome_time is not None:
            time_s, source = ome_time, ome_source
        if px is not None:
            metadata["pixel_size_nm"] = px
    if tf.is_imagej:
        ij = dict(tf.imagej_metadata or {})
        metadata["imagej"] = ij
        announced = ij.get("images")
        # ImageJ's 'images' can be stale; it is trusted only where frames × slices × channels agree with it
        planes = [int(ij[k]) for k in ("frames", "slices", "channels") if isinstance(ij.get(k), int)]
        channels = ij["channels"] if isinstance(ij.get("channels"), int) and ij["channels"] > 0 else 1
        if isinstance(announced, int) and (not planes or math.prod(planes) == announced) \
                and announced > n_frames * channels:
            raise FileFormatError(f"{path}: the file is truncated (its ImageJ metadata announce {announced} frames "
                                  f"but {n_frames} can be read); {_EXPECTED}")
        finterval = ij.get("finterval")
        unit = _TIME_UNITS.get(str(ij.get("tunit", "sec")).strip().lower())
        if time_s is None and finterval and unit and float(finterval) > 0:
            with np.errstate(over="ignore"):  # a damaged finterval: refused by _check_times below
                time_s, source = np.arange(n_frames) * float(finterval) * unit, "imagej-finterval"
        px = _imagej_pixel_size_nm(tf.pages[0], ij)
        if px is not None and "pixel_size_nm" not in metadata:
            metadata["pixel_size_nm"] = px
    if time_s is None:
        raise _no_time_error(path)
    _check_times(path, time_s, source)
    metadata["time_source"] = source

    # 4. the reader: a memory map when possible, otherwise page by page
    if series.dataoffset is not None and series.dataoffset + series.nbytes > file_size:
        raise FileFormatError(
            f"{path}: the file is truncated (its {n_frames} frames need {series.dataoffset + series.nbytes} "
            f"bytes but the file has {file_size}); {_EXPECTED}"
        )
    data = None
    if series.dataoffset is not None:
        try:
            data = tifffile.memmap(path, series=0, mode="r")
        except (ValueError, OSError):  # not memory-mappable after all (odd layout): read pages
            data = None
    if data is not None:
        view = data.reshape(shape)
        view = view.transpose(order + leftover).reshape(
            (n_frames, *frame_shape) + ((shape[sample_ax],) if is_rgb else ()))

        def reader(start, stop):
            return view[start:stop]

        tf.close()
        movie = Movie(path, n_frames=n_frames, shape=frame_shape, dtype=dtype, is_rgb=is_rgb,
                      time_s=time_s, metadata={**metadata, "memory_mapped": True}, reader=reader)
        movie._data = view
        return movie

    pages = series.pages
    if len(pages) < n_frames or any(p is None for p in pages):
        raise FileFormatError(
            f"{path}: the file is truncated or corrupt (its metadata announce {n_frames} frames but only "
            f"{sum(p is not None for p in pages)} pages can be read); {_EXPECTED}"
        )
    if len(pages) != n_frames:
        raise FileFormatError(
            f"{path}: the stack's {n_frames} frames are not stored one per page ({len(pages)} pages); "
            f"{_EXPECTED} with one frame per page"
        )
    page_axes = str(pages[0].axes) if hasattr(pages[0], "axes") else "YX"
    page_order = [page_axes.find("Y"), page_axes.find("X")] + ([page_axes.find("S")] if is_rgb else [])
    page_out = frame_shape + ((shape[sample_ax],) if is_rgb else ())

    def reader(start, stop):
        out = np.empty((stop - start, *page_out), dtype=dtype)
        for k in range(start, stop):
            with reading(path, f"a TIFF whose frame {k} decodes ({_EXPECTED})"):
                frame = np.asarray(pages[k].asarray())
            if frame.ndim == len(page_axes) and -1 not in page_order:
                rest = [i for i in range(frame.ndim) if i not in page_order]
                frame = frame.transpose(page_order + rest)
            out[k - start] = frame.reshape(page_out)
        return out

    movie = Movie(path, n_frames=n_frames, shape=frame_shape, dtype=dtype, is_rgb=is_rgb,
                  time_s=time_s, metadata={**metadata, "memory_mapped": False}, reader=reader)
    movie._closer = tf.close
    return movie


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ome_times(xml: str | None, frame_axis: str, n_frames: int):
    """(time_s or None, source, pixel_size_nm or None) from an OME-XML string."""
    if not xml:
        return None, None, None
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None, None, None
    pixels = next((el for el in root.iter() if _local(el.tag) == "Pixels"), None)
    if pixels is None:
        return None, None, None
    px = None
    size = pixels.get("PhysicalSizeX")
    if size is not None:
        factor = _LENGTH_UNITS.get(pixels.get("PhysicalSizeXUnit", "µm").strip().lower(), math.nan)
        try:
            px = float(size) * factor
        except ValueError:
            px = math.nan
        px = px if math.isfinite(px) and px > 0 else None
    key = {"T": "TheT", "Z": "TheZ", "C": "TheC"}.get(frame_axis, "TheT")
    others = [k for k in ("TheT", "TheZ", "TheC") if k != key]
    times = {}
    for plane in pixels:
        if _local(plane.tag) != "Plane" or plane.get("DeltaT") is None:
            continue
        if any(int(plane.get(k, 0)) != 0 for k in others):
            continue
        unit = _TIME_UNITS.get(plane.get("DeltaTUnit", "s").strip().lower())
        try:
            value = float(plane.get("DeltaT")) * unit if unit else math.nan
        except ValueError:
            value = math.nan
        times[int(plane.get(key, 0))] = value
    if len(times) == n_frames and sorted(times) == list(range(n_frames)):
        t = np.array([times[i] for i in range(n_frames)], dtype=np.float64)
        if np.all(np.isfinite(t)):
            return t, "ome-deltat", px
    increment = pixels.get("TimeIncrement")
    if increment is not None:
        unit = _TIME_UNITS.get(pixels.get("TimeIncrementUnit", "s").strip().lower())
        try:
            dt = float(increment) * unit if unit else math.nan
        except ValueError:
            dt = math.nan
        if math.isfinite(dt) and dt > 0:
            return np.arange(n_frames) * dt, "ome-timeincrement", px
    return None, None, px


def _imagej_pixel_size_nm(page, ij: dict) -> float | None:
    """Pixel size [nm] from the XResolution tag (pixels per unit) and ImageJ's ``unit``."""
    unit = _LENGTH_UNITS.get(str(ij.get("unit", "")).strip().lower())
    tag = page.tags.get("XResolution")
    if unit is None or not math.isfinite(unit) or tag is None:
        return None
    num, den = tag.value
    if not num or not den:
        return None
    return float(den) / float(num) * unit


# --- video ----------------------------------------------------------------------------------
def _open_video(path: Path, interval: float | None) -> Movie:
    try:
        import imageio.v3 as iio
    except ImportError as exc:
        raise ImportError(
            f"reading the video {path.name} needs imageio with ffmpeg: pip install imageio[ffmpeg]"
        ) from exc
    if path.suffix.lower() in VIDEO_SUFFIXES and not _video_backend_installed():
        raise ImportError(f"reading the video {path.name} needs imageio's ffmpeg plugin: pip install imageio[ffmpeg]")
    with reading(path, "a video readable by imageio (with its ffmpeg plugin: pip install imageio[ffmpeg]) "
                       "or a TIFF image stack"):
        resource = iio.imopen(path, "r")
    try:
        with reading(path, "a decodable video"):
            first = np.asarray(resource.read(index=0))
            meta = resource.metadata(index=0) if hasattr(resource, "metadata") else {}
            n_frames = _video_length(resource, meta)
    except FileFormatError as exc:
        resource.close()
        text = str(exc)
        raise (exc if str(path) in text else FileFormatError(f"{path}: {text}")) from None
    except BaseException:
        resource.close()
        raise
    is_rgb = first.ndim == 3 and first.shape[-1] in (3, 4)
    frame_shape = first.shape[:2]
    fps = meta.get("fps") if isinstance(meta, dict) else None
    if interval is not None:
        time_s, source = np.arange(n_frames) * interval, "argument"
    elif fps and float(fps) > 0 and math.isfinite(float(fps)):
        time_s, source = np.arange(n_frames) / float(fps), "video-fps"
    else:
        resource.close()
        raise _no_time_error(path, "no frame rate")
    try:
        _check_times(path, time_s, source)
    except FileFormatError:
        resource.close()
        raise

    def reader(start, stop):
        out = np.empty((stop - start, *first.shape), dtype=first.dtype)
        for k in range(start, stop):
            try:
                out[k - start] = resource.read(index=k)
            except (IndexError, StopIteration, EOFError, OSError, ValueError) as exc:
                raise FileFormatError(f"{path}: frame {k} cannot be read ({type(exc).__name__}); the video "
                                      f"announces {n_frames} frames but holds fewer or is damaged") from None
        return out

    movie = Movie(path, n_frames=n_frames, shape=frame_shape, dtype=first.dtype, is_rgb=is_rgb,
                  time_s=time_s, metadata={"format": "video", "axes": "TYXS" if is_rgb else "TYX",
                                           "compression": "video", "memory_mapped": False,
                                           "time_source": source}, reader=reader)
    movie._closer = resource.close
    return movie


def _video_backend_installed() -> bool:
    """Whether imageio has a video backend (imageio-ffmpeg or PyAV)."""
    import importlib.util

    return any(importlib.util.find_spec(name) is not None for name in ("imageio_ffmpeg", "av"))


def _video_length(resource, meta) -> int:
    try:
        n = resource.properties(index=...).shape[0]
    except (AttributeError, TypeError, ValueError, OSError, IndexError):
        n = None
    if n and math.isfinite(n):
        return int(n)
    duration, fps = meta.get("duration"), meta.get("fps")
    if duration and fps:
        return round(float(duration) * float(fps))
    raise FileFormatError("the video does not state its number of frames; re-encode it, or convert it to a TIFF "
                          "stack")


# --- binning --------------------------------------------------------------------------------
def bin_frames(frames, n: int, *, time_s=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Average consecutive sets of ``n`` frames.

    Parameters
    ----------
    frames : array_like, shape (n_frames, y, x)
        Intensity frames (a :meth:`Movie.read` result, a memory map, ...).
    n : int
        Frames per set, ``1 <= n <= n_frames`` (20–80 in (Sharma et al., Nano Lett. 2022), (Lun et al.)).
    time_s : array_like, shape (n_frames,), optional
        Frame times [s].

    Returns
    -------
    binned : numpy.ndarray, shape (n_frames // n, y, x), float64
        Mean of each set.
    binned_time_s : numpy.ndarray, shape (n_frames // n,) or None
        Mean time of each set [s] (None when ``time_s`` is not given).

    Warns
    -----
    UserWarning
        When ``n_frames`` is not a multiple of ``n``: the last, incomplete set is
        dropped and the warning says how many frames.

    Examples
    --------
    >>> binned, t = bin_frames(np.arange(8.0).reshape(8, 1, 1), 4, time_s=np.arange(8.0))
    >>> binned.ravel(), t
    (array([1.5, 5.5]), array([1.5, 5.5]))
    """
    frames = frames if isinstance(frames, np.ndarray) else np.asarray(frames)
    if frames.ndim != 3:
        raise ParameterError(f"frames must have shape (frame, y, x); got shape {frames.shape}")
    total = frames.shape[0]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= total:
        raise ParameterError(
            f"n={n!r} frames per set must be a whole number from 1 to the number of frames ({total})"
        )
    n = int(n)
    if time_s is not None:
        time_s = np.asarray(time_s, dtype=np.float64)
        if time_s.shape != (total,):
            raise ParameterError(f"time_s has shape {time_s.shape}; it must have one time per frame, ({total},)")
    sets = total // n
    dropped = total - sets * n
    if dropped:
        warnings.warn(
            f"bin_frames: {total} frames are not a multiple of n={n}; the last {dropped} frame(s) were dropped",
            SocscopeWarning, stacklevel=2,
        )
    used = frames[: sets * n]
    binned = np.mean(used.reshape(sets, n, *frames.shape[1:]), axis=1, dtype=np.float64)
    binned_time = None if time_s is None else time_s[: sets * n].reshape(sets, n).mean(axis=1)
    return binned, binned_time
