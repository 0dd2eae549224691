"""The readers the fuzz suite damages files for, their seeds and their physical checks.

To add a reader, append a :class:`~harness.Target` to :data:`TARGETS` (see README.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from harness import Target

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _real(*names: str) -> list[Path]:
    """The real files of ../shared/data that are present."""
    return [p for p in (SHARED / n for n in names) if p.is_file()]


# -- cycler records ----------------------------------------------------------------------------
def _cycler_seeds(folder: Path) -> list[Path]:
    t = np.arange(40) * 30.0
    i = np.where(t < 600, 1e-3, -1e-3)
    v = np.where(t < 600, 3.6 + t / 1e4, 3.9 - t / 1e4)
    q = np.abs(i) * np.where(t < 600, t, t - 600) / 3600
    step = np.where(t < 600, 1, 2)
    files = {
        "arbin.csv": pd.DataFrame({"Data_Point": np.arange(40), "Test_Time(s)": t, "Step_Index": step,
                                   "Cycle_Index": 1, "Current(A)": i, "Voltage(V)": v,
                                   "Charge_Capacity(Ah)": np.where(i > 0, q, q[19]),
                                   "Discharge_Capacity(Ah)": np.where(i < 0, q, 0.0)}).to_csv(index=False),
        "maccor.txt": "Today's Date\t12/07/2026\n" + pd.DataFrame(
            {"Rec#": np.arange(40) + 1, "Cyc#": 1, "Step": step, "Test (Sec)": t, "Amp-hr": q, "Amps": np.abs(i),
             "Volts": v, "State": np.where(i > 0, "C", "D")}).to_csv(sep="\t", index=False),
        "neware.csv": pd.DataFrame({"DataPoint": np.arange(40), "Cycle Index": 1, "Step Index": step,
                                    "Step Type": np.where(i > 0, "CC Chg", "CC DChg"),
                                    "Total Time": [f"0:{int(s // 60):02d}:{s % 60:06.3f}" for s in t],
                                    "Current(mA)": i * 1e3, "Voltage(V)": v}).to_csv(index=False),
        "eclab.csv": pd.DataFrame({"time/s": t, "Ewe/V": v, "I/mA": i * 1e3, "Ns": step - 1}).to_csv(
            sep=";", decimal=",", index=False),
        "plain.csv": pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": i}).to_csv(index=False),
        # Maccor rows ending with a tab the header lacks, and no line end after the last
        "maccor_tabs.txt": "Name:\tcell\nChannel:\t53\n\nRec\tCycle P\tStep\tTest (Sec)\tCurrent [A]\tVoltage [V]\tMd\n"
                           + "\n".join(f"{k + 1}\t0\t{step[k]}\t{t[k]:.1f}\t{abs(i[k]):.6f}\t{v[k]:.4f}\t"
                                       f"{'C' if i[k] > 0 else 'D'}\t" for k in range(40)),
        # Neware's regular export: a cycle row, step rows (one leading empty field), record rows (two)
        "neware_regular.csv": "Cycle Index,Chg. Cap.(Ah),DChg. Cap.(Ah)\n,Step Index,Step Number,Step Type\n"
                              ",,DataPoint,Time,Total Time,Current(A),Voltage(V),Capacity(Ah)\n1,0.00017,0.00017\n"
                              + "".join((f",{step[k]},{step[k]},{'CC Chg' if i[k] > 0 else 'CC DChg'}\n"
                                         if k in (0, 20) else "")
                                        + f",,{k + 1},00:00:00,00:{int(t[k]) // 60:02d}:{int(t[k]) % 60:02d},"
                                          f"{i[k]:.5f},{v[k]:.4f},{q[k]:.9f}\n" for k in range(40)),
        # PEC: 'key:,value' lines, then a table with hh:mm:ss.xxx times and a trailing separator
        "pec.csv": "Test:,25205\nParameter names:,C-Rate (mAh),Mass (kg)\nOperator Instructions:,\n"
                   "Test,Cell,Step,Instruction Name,Cycle,Total Time (Hours in hh:mm:ss.xxx),Voltage (V),Current (A),"
                   "Charge Capacity (mAh),Discharge Capacity (mAh),\n"
                   + "".join(f"25205,1,{step[k]},{'Charge' if i[k] > 0 else 'Discharge'},1,00:{int(t[k]) // 60:02d}:"
                             f"{t[k] % 60:06.3f},{v[k]:.7f},{i[k]:g},{1e3 * q[k] if i[k] > 0 else 1e3 * q[19]:.4f},"
                             f"{1e3 * q[k] if i[k] < 0 else 0:.4f},\n" for k in range(40)),
    }
    out = []
    for name, text in files.items():
        (folder / name).write_text(text)
        out.append(folder / name)
    return out + _real("cycler/00_test_04_MB_C01.mpr", "cycler/neware_test.ndax",
                       "cycler/arbin_20160805_test001_45_cc_01.res", "cycler/arbin_FastCharge_000025_CH8.csv",
                       "cycler/maccor_two.txt")


def _read_cycler(path):
    from socscope.io.cycler import load_cycler

    return load_cycler(path)


def _check_cycler(df) -> str | None:
    t = df["time_s"].to_numpy(float)
    if df.empty:
        return "an empty table"
    if not (np.all(np.isfinite(t)) and np.all(np.diff(t) >= 0) and t[-1] < 3.2e9):
        return "times not finite, non-decreasing and within a century"
    for name, limit in (("voltage_V", 1e3), ("current_A", 1e4), ("capacity_Ah", 1e6)):
        x = df[name].to_numpy(float)
        if not (np.all(np.isfinite(x)) and np.all(np.abs(x) <= limit)):
            return f"{name} not finite or beyond ±{limit:g}"
    for name in ("step", "cycle"):
        if df[name].dtype.kind != "i" or (df[name].abs() > 2**53).any():
            return f"{name} numbers not whole numbers below 2**53"
    return None


# -- material files ----------------------------------------------------------------------------
def _material_seeds(folder: Path) -> list[Path]:
    import socscope.materials as m

    mat = m.get("ni88-xu2022")
    out = []
    for name in ("mat.toml", "mat.csv"):
        m.save(mat, folder / name, overwrite=True)
        out.append(folder / name)
    return out


def _read_material(path):
    from socscope.materials import load

    return load(path)


def _check_material(mat) -> str | None:
    theta = np.linspace(0.01, 0.99, 99)
    for prop, (lo, hi) in (("U", (-1.0, 10.0)), ("D", (1e-30, 1e-6))):
        f = getattr(mat, prop)
        if f is None:
            continue
        v = np.asarray(f(theta), dtype=float)
        if not (np.all(np.isfinite(v)) and np.all((v >= lo) & (v <= hi))):
            return f"{prop}(θ) not finite or outside {lo:g}..{hi:g}"
    if not (0 < mat.c_max < 1e7 and 0 < mat.density < 3e4):
        return "c_max or density implausible"
    return None


# -- results files -----------------------------------------------------------------------------
def _results_seeds(folder: Path) -> list[Path]:
    import xarray as xr

    from socscope.io.results import save_results

    theta = 0.5 + 0.4 * np.sin(np.linspace(0, 3, 6 * 8)).reshape(6, 8)
    ds = xr.Dataset({"theta": (("time", "r"), theta, {"units": "1"}),
                     "voltage": ("time", np.linspace(3.6, 4.1, 6), {"units": "V"})},
                    coords={"time": ("time", np.arange(6.0) * 60, {"units": "s"})},
                    attrs={"socscope_version": "fuzz", "protocol": "Charge at 1C for 5 minutes"})
    path = folder / "run.nc"
    if path.exists():
        path.unlink()
    save_results(ds, path)
    return [path]


def _read_results(path):
    from socscope.io.results import open_results

    return open_results(path)


def _check_results(ds) -> str | None:
    for name, var in ds.variables.items():
        if var.dtype.kind == "f":
            x = np.asarray(var.values, dtype=float)
            if np.isinf(x).any():
                return f"{name} holds infinities"
            if name.startswith("theta") and ((x < -1e-6) | (x > 1 + 1e-6)).any():
                return f"{name} outside [0, 1]"
    return None


# -- movies ------------------------------------------------------------------------------------
def _movie_seeds(folder: Path) -> list[Path]:
    import tifffile

    rng = np.random.default_rng(3)
    stack = rng.integers(0, 4096, size=(6, 16, 18), dtype=np.uint16)
    tifffile.imwrite(folder / "ij.tif", stack, imagej=True, metadata={"axes": "TYX", "finterval": 0.5})
    tifffile.imwrite(folder / "zlib.tif", stack, compression="zlib", imagej=True,
                     metadata={"axes": "TYX", "finterval": 2.0})
    tifffile.imwrite(folder / "ome.ome.tif", stack.astype(np.float32), ome=True,
                     metadata={"axes": "TYX", "TimeIncrement": 1.0, "TimeIncrementUnit": "s"})
    tifffile.imwrite(folder / "rgb.tif", rng.integers(0, 255, size=(4, 10, 12, 3), dtype=np.uint8),
                     photometric="rgb", imagej=True, metadata={"axes": "TYXS", "finterval": 1.0})
    return [folder / n for n in ("ij.tif", "zlib.tif", "ome.ome.tif", "rgb.tif")]


def _read_movie(path):
    from socscope.io.movies import open_movie

    movie = open_movie(path)
    try:
        frames = movie.read()
    except BaseException:
        movie.close()
        raise
    return movie, frames


def _check_movie(result) -> str | None:
    movie, frames = result
    t = movie.time_s
    if frames.shape != (movie.n_frames, *movie.shape) or not np.all(np.isfinite(frames)):
        return "frames of the wrong shape or not finite"
    if not (np.all(np.isfinite(t)) and np.all(np.diff(t) > 0)):
        return "frame times not finite and increasing"
    return None


# -- masks and label images --------------------------------------------------------------------
def _image_seeds(folder: Path) -> list[Path]:
    import matplotlib.image as mpimg
    import tifffile

    mask = np.zeros((24, 30), dtype=np.uint8)
    mask[5:15, 6:20] = 1
    labels = mask.astype(np.uint16)
    labels[16:22, 22:28] = 2
    np.save(folder / "mask.npy", mask.astype(bool))
    np.save(folder / "mask_u8.npy", mask * 255)
    mpimg.imsave(folder / "mask.png", mask * 255, cmap="gray", vmin=0, vmax=255)
    tifffile.imwrite(folder / "mask.tif", mask)
    tifffile.imwrite(folder / "labels.tif", labels)
    return [folder / n for n in ("mask.npy", "mask_u8.npy", "mask.png", "mask.tif", "labels.tif")]


def _read_mask(path):
    from socscope.cli.main import _read_mask as read

    return read(path)


def _check_mask(mask) -> str | None:
    if mask.ndim != 2 or mask.dtype != bool or mask.all():
        return "not a 2D boolean mask with a background"
    return None


def _label_seeds(folder: Path) -> list[Path]:
    return [p for p in _image_seeds(folder) if p.suffix == ".tif"] + _real("images/nmc811_nanotomo_slice_example_xy.tif")


def _read_labels(path):
    from socscope.analysis.optical.segment import load_labels

    return load_labels(path)


def _check_labels(labels) -> str | None:
    if labels.ndim != 2 or labels.dtype != np.int32 or labels.min() < 0:
        return "not a 2D int32 label image of labels >= 0"
    return None


# -- AFM maps ----------------------------------------------------------------------------------
def _ibw_bytes(data: np.ndarray, labels: list[str], note: str, pixel_m: float) -> bytes:
    """A small Igor binary wave (version 5) of float32 layers (x, y, layer), written by the layout of
    Igor Technical Note 003: a 64-byte BinHeader5, a 320-byte WaveHeader5 whose 16-bit words sum to
    zero with the first, the data in column order, the note and the layer labels (32 bytes each)."""
    import struct

    nx, ny, nl = data.shape
    raw = np.asarray(data, "<f4").tobytes(order="F")
    note_b = note.encode("latin-1")
    dim_labels = b"".join(name.encode("latin-1").ljust(32, b"\0") for name in ["", *labels])
    wave = struct.pack("<3Ilhh6sh32siI4l4d4d4s16shhdd10I16ihhhbbIihhII",
                       0, 0, 0, data.size, 2, 0, b"", 1, b"wave0", 0, 0, nx, ny, nl, 0,
                       pixel_m, pixel_m, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, b"m", b"", 0, 0, 0.0, 0.0,
                       *([0] * 10), *([0] * 16), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert len(wave) == 320, len(wave)
    sizes = [320 + len(raw), 0, len(note_b), 0, 0, 0, 0, 0, 0, 0, len(dim_labels), 0, 0, 0, 0]
    head = struct.pack("<hh15l", 5, 0, *sizes)
    words = np.frombuffer(head + wave, "<i2").astype(np.int64).sum()
    head = struct.pack("<hh15l", 5, int(-words % 65536 - (65536 if -words % 65536 > 32767 else 0)), *sizes)
    return head + wave + raw + note_b + dim_labels


def _afm_seeds(folder: Path) -> list[Path]:
    import tifffile

    rng = np.random.default_rng(5)
    height = rng.normal(0.0, 5e-9, (12, 10))
    phase = rng.normal(20.0, 3.0, (12, 10))
    (folder / "small.ibw").write_bytes(_ibw_bytes(np.stack([height, phase], axis=-1), ["HeightRetrace", "PhaseRetrace"],
                                                  "ScanSize: 1.2e-06\rScanRate: 1.0\rImagingMode: AC Mode\r", 1e-7))
    out = [folder / "small.ibw"]
    try:
        from gwyfile.objects import GwyContainer, GwyDataField, GwySIUnit

        obj = GwyContainer()
        for k, (title, data, unit) in enumerate((("Height", height, "m"), ("Phase", phase, "deg"))):
            obj[f"/{k}/data/title"] = title
            obj[f"/{k}/data"] = GwyDataField(data, xreal=1.0e-6, yreal=1.2e-6, si_unit_xy=GwySIUnit(unitstr="m"),
                                             si_unit_z=GwySIUnit(unitstr=unit))
        obj.tofile(str(folder / "small.gwy"))
        out.append(folder / "small.gwy")
    except ImportError:  # gwyfile is part of the optional afm extra
        pass
    # ImageJ calibration: 0.05 µm per pixel is 20 pixels per µm
    tifffile.imwrite(folder / "cal.tif", height.astype(np.float32), imagej=True, resolution=(20.0, 20.0),
                     metadata={"unit": "micron"})
    np.save(folder / "map.npy", height)
    return out + [folder / "cal.tif", folder / "map.npy"] + _real("afm/asylum_pfm_P0089OP0027.ibw")


def _read_afm(path):
    from socscope.io.afm import open_afm

    # a NumPy map carries no pixel size; the instrument formats and a calibrated TIFF carry their own
    return open_afm(path, pixel_size_nm=7.8 if path.suffix in (".npy", ".npz") else None)


#: plausible magnitudes of an AFM channel by unit: a scanner's z range below 1 mm, phases within
#: a few turns, signals below 1 kV and 1 A, frequencies below 1 GHz
AFM_LIMITS = {"m": 1e-3, "deg": 1e4, "V": 1e3, "A": 1.0, "Hz": 1e9}
#: channels whose name says what they measure (an Asylum wave's one unit covers all its layers,
#: so a channel of another name may carry a unit that is not its own)
_AFM_KNOWN = re.compile(r"^(height|zsensor|amplitude|deflection|phase|current|userin|bias|potential)", re.IGNORECASE)


def _check_afm(ds) -> str | None:
    if not ds.data_vars:
        return "no channel"
    for axis in ("x", "y"):
        c = ds[axis].to_numpy()
        if c.size < 2 or not (np.all(np.isfinite(c)) and np.all(np.diff(c) > 0)):
            return f"{axis} coordinates not finite and increasing"
        if not 1e-12 <= c[1] - c[0] <= 1e-3:
            return f"{axis} pixel spacing {c[1] - c[0]!r} m beyond 1 pm..1 mm"
    px, scan = ds.attrs.get("pixel_size_m"), ds.attrs.get("scan_size_m")
    if not (1e-12 <= px <= 1e-3 and 1e-10 <= scan <= 1e-2):
        return f"pixel size {px!r} m or scan size {scan!r} m beyond 1 pm..1 mm and 0.1 nm..1 cm"
    for name, var in ds.data_vars.items():
        x = var.to_numpy()
        if np.isinf(x).any() or np.isnan(x).all():  # NaN marks pixels not scanned (a scan stopped early)
            return f"{name} holds infinities or no value"
        limit = AFM_LIMITS.get(var.attrs.get("units", "")) if _AFM_KNOWN.match(name) else None
        if limit is not None and np.nanmax(np.abs(x)) > limit:
            return f"{name} beyond ±{limit:g} {var.attrs['units']}"
    return None


# -- NEXAFS spectra ----------------------------------------------------------------------------
def _spectrum_seeds(folder: Path) -> list[Path]:
    energy = np.linspace(845.0, 875.0, 31)
    mu = 1.0 + 0.5 * np.exp(-((energy - 853.0) / 1.5) ** 2)
    i0 = np.linspace(2.0, 2.5, energy.size)
    (folder / "ni.txt").write_text("# Sample: NCM811\n# Mode: TEY\n"
                                   + "".join(f"{e:.2f}\t{m:.5f}\n" for e, m in zip(energy, mu)))
    (folder / "scan.csv").write_text("Energy [eV],TEY [a.u.],FY,I0\n"
                                     + "".join(f"{e:.2f},{m * c:.5f},{2 * m * c:.5f},{c:.4f}\n"
                                               for e, m, c in zip(energy, mu, i0)))
    (folder / "ni.xdi").write_text("# XDI/1.0\n# Column.1: energy eV\n# Column.2: itey\n# Column.3: i0\n"
                                   "# Element.symbol: Ni\n# Element.edge: L3\n#----\n# energy itey i0\n"
                                   + "".join(f"{e:.3f} {m:.6f} {c:.4f}\n" for e, m, c in zip(energy, mu, i0)))
    return [folder / n for n in ("ni.txt", "scan.csv", "ni.xdi")]


def _read_spectrum(path):
    from socscope.io.xas import open_spectrum

    return open_spectrum(path)


def _check_spectrum(ds) -> str | None:
    e = ds["energy_eV"].to_numpy()
    if e.size < 5 or not (np.all(np.isfinite(e)) and e[0] > 0 and np.all(np.diff(e) > 0)):
        return "energies not finite, positive and increasing"
    if not ds.data_vars:
        return "no channel"
    for name, var in ds.data_vars.items():
        x = var.to_numpy()
        # arbitrary units, but no detector (counts, amperes or a normalised ratio) reads 1e30
        if not (np.all(np.isfinite(x)) and np.abs(x).max() < 1e30):
            return f"{name} not finite or beyond ±1e30"
    return None


# -- SP-ICP-OES events and transients ----------------------------------------------------------
def _spicp_seeds(folder: Path) -> list[Path]:
    rng = np.random.default_rng(8)
    mn = rng.uniform(200.0, 2000.0, 30)
    li = mn * rng.uniform(0.05, 0.2, 30)
    (folder / "events.csv").write_text("Sample: NMC532 rep 1\nMethod: CL-SP\n\nLi 670.776,Mn 257.611,Duration (ms)\n"
                                       + "".join(f"{a:.3f},{b:.3f},{0.3:.2f}\n" for a, b in zip(li, mn)))
    (folder / "events.txt").write_text("# provenance = {\"seed\": 8}\nI(Li)\tI(Mn)\n"
                                       + "".join(f"{a:.2f}\t{b:.2f}\n" for a, b in zip(li, mn)))
    (folder / "events_semicolon.csv").write_text("Lithium;Manganese\n"
                                                 + "".join(f"{a:.2f};{b:.2f}\n".replace(".", ",")
                                                           for a, b in zip(li, mn)))
    return [folder / n for n in ("events.csv", "events.txt", "events_semicolon.csv")]


def _transient_seeds(folder: Path) -> list[Path]:
    rng = np.random.default_rng(9)
    counts = rng.poisson(3.0, (2, 60)).astype(float)
    counts[:, 20:23] += 400.0
    t = np.arange(60)
    (folder / "tr.csv").write_text("Time (ms),Li 670.776 (counts),Mn 257.611 (counts)\n"
                                   + "".join(f"{k * 0.5:.1f},{a:g},{b:g}\n" for k, a, b in zip(t, *counts)))
    (folder / "tr_min.txt").write_text("Time (min)\tLi\tMn\n"
                                       + "".join(f"{k / 6000:.6f}\t{a:g}\t{b:g}\n" for k, a, b in zip(t, *counts)))
    (folder / "readings.csv").write_text("Li,Mn\n" + "".join(f"{a:g},{b:g}\n" for a, b in zip(*counts)))
    return [folder / n for n in ("tr.csv", "tr_min.txt", "readings.csv")]


def _read_events(path):
    from socscope.io import read_spicp_events

    return read_spicp_events(path)


def _read_transient(path):
    from socscope.io import read_spicp_transient

    return read_spicp_transient(path)


#: no emission line's intensity reaches 1e15 counts (or counts per second) in one reading
SPICP_LIMIT = 1e15


def _check_events(df) -> str | None:
    li, mn = df["li_intensity_counts"].to_numpy(float), df["mn_intensity_counts"].to_numpy(float)
    if df.empty or not (np.all(np.isfinite(li)) and np.all(np.isfinite(mn))):
        return "no events, or intensities not finite"
    if not (np.all(li >= 0) and np.all(mn > 0) and max(li.max(), mn.max()) < SPICP_LIMIT):
        return f"intensities not within Li >= 0, Mn > 0 and below {SPICP_LIMIT:g}"
    if not np.all(np.isfinite(li / mn)):
        return "Li/Mn ratios not finite"
    return None


def _check_transient(df) -> str | None:
    t = df["time_s"].to_numpy(float)
    if df.empty or not (np.all(np.isfinite(t)) and np.all(np.diff(t) >= 0) and np.abs(t).max() < 3.2e9):
        return "no readings, or times not finite, non-decreasing and within a century"
    for name in ("li_counts", "mn_counts"):
        x = df[name].to_numpy(float)
        if not (np.all(np.isfinite(x)) and np.abs(x).max() < SPICP_LIMIT):
            return f"{name} not finite or beyond ±{SPICP_LIMIT:g}"
    return None


TARGETS = [
    Target("cycler", _read_cycler, _cycler_seeds, _check_cycler, examples=300),
    Target("materials", _read_material, _material_seeds, _check_material, examples=150),
    # the damages that make the HDF5 library loop cost the probe's whole time limit: 5 s here
    Target("results", _read_results, _results_seeds, _check_results, examples=40,
           settings={"socscope.io.results.PROBE_TIMEOUT_S": 5.0}),
    Target("movies", _read_movie, _movie_seeds, _check_movie, examples=200, close=lambda r: r[0].close()),
    Target("masks", _read_mask, _image_seeds, _check_mask, examples=200),
    Target("labels", _read_labels, _label_seeds, _check_labels, examples=100),
    Target("afm", _read_afm, _afm_seeds, _check_afm, examples=300, suffixes=(".ibw", ".gwy", ".npz", ".spm")),
    Target("spectra", _read_spectrum, _spectrum_seeds, _check_spectrum, examples=300, suffixes=(".xdi", ".dat")),
    Target("spicp-events", _read_events, _spicp_seeds, _check_events, examples=200),
    Target("spicp-transient", _read_transient, _transient_seeds, _check_transient, examples=200),
]

#: every seed suffix, for the wrong-extension damage
SUFFIXES = (".csv", ".txt", ".mpr", ".ndax", ".res", ".toml", ".nc", ".tif", ".npy", ".png", ".mp4")
