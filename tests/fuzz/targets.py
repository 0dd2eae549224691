"""The readers the fuzz suite damages files for, their seeds and their physical checks.

To add a reader, append a :class:`~harness.Target` to :data:`TARGETS` (see README.md).
"""

from __future__ import annotations

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


TARGETS = [
    Target("cycler", _read_cycler, _cycler_seeds, _check_cycler, examples=300),
    Target("materials", _read_material, _material_seeds, _check_material, examples=150),
    # the damages that make the HDF5 library loop cost the probe's whole time limit: 5 s here
    Target("results", _read_results, _results_seeds, _check_results, examples=40,
           settings={"socscope.io.results.PROBE_TIMEOUT_S": 5.0}),
    Target("movies", _read_movie, _movie_seeds, _check_movie, examples=200, close=lambda r: r[0].close()),
    Target("masks", _read_mask, _image_seeds, _check_mask, examples=200),
    Target("labels", _read_labels, _label_seeds, _check_labels, examples=100),
]

#: every seed suffix, for the wrong-extension damage
SUFFIXES = (".csv", ".txt", ".mpr", ".ndax", ".res", ".toml", ".nc", ".tif", ".npy", ".png", ".mp4")
