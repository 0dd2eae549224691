"""Benchmark: the operando optical pipeline on a 1024×1024, 2 000-frame uint16 stack (4 GB).

Target (the optical issue): the full analysis in under 3 minutes with under 1.5 GB peak memory.

1. A synthetic movie is written to a temporary folder with the library's renderer
   (:func:`socscope.observe.optical.synthetic_movie`): 50 disc particles (radius 12–30 px,
   100 nm pixels, 265 nm PSF) going through an asynchronous first charge
   (:func:`~socscope.observe.optical.soc_traces`), a flat matrix, one reference spot, and a
   stage drift that moves by a random step every ``--bin`` frames. Every ``--bin`` frames
   one noiseless frame is rendered (at the mean occupancy of those frames); each frame gets
   its own Gaussian read noise (1 % of a lithiated particle's brightness) and is appended
   page by page, uncompressed and contiguous, with :class:`tifffile.TiffWriter` (BigTIFF),
   so the stack is memory-mappable and never held in memory. A cycler CSV (constant-current charge over the movie) goes
   beside it.
2. The file's pages are flushed and dropped from the page cache
   (``posix_fadvise(DONTNEED)``, this file only) before each timed step, so both steps
   read from disk.
3. ``read_once_s``: a child process reads the file once, sequentially, in 64 MB blocks.
4. ``wall_s``: a child process runs :func:`socscope.analysis.optical.analyze_movie`
   (bin ``--bin``, Gaussian drift on the reference spot, Otsu + watershed segmentation,
   contrast frames written to a float32 TIFF, cycler join, transition fits) and reports its
   own time; ``peak_rss_GB`` is that child's peak resident set size (``ru_maxrss``),
   everything included (interpreter, libraries, mapped file pages).

Prints one JSON line. ``--frames 200`` gives a quick run (~1 min).

    python benchmarks/optical_pipeline.py                 # 2000 frames, 4 GB in a temp folder
    python benchmarks/optical_pipeline.py --frames 200 --tmp /scratch
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TARGET_S = 180.0
TARGET_GB = 1.5
SHAPE = (1024, 1024)
PIXEL_NM = 100.0
FRAME_INTERVAL_S = 2.0
COUNTS_PER_UNIT = 20000.0
READ_NOISE = 0.01  # intensity units (1 % of a lithiated particle's brightness)


def _drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def write_stack(folder: Path, n_frames: int, n_particles: int, bin_n: int, seed: int = 0) -> dict:
    """Render the movie chunk by chunk into ``folder/movie.tif``; write ``folder/cell.csv``."""
    import tifffile

    from socscope.observe.optical import (
        disc_labels,
        random_drift,
        random_particles,
        soc_traces,
        synthetic_movie,
    )

    g = np.random.default_rng(seed)
    centres, radii = random_particles(n_particles, SHAPE, rng=g, radius_px=(12.0, 30.0), min_gap_px=6.0,
                                      margin_px=12.0)
    # the reference spot: the matrix point farthest from every particle, away from the border
    from scipy import ndimage

    free = ndimage.distance_transform_edt(disc_labels(SHAPE, centres, radii) == 0)
    free[:60, :] = free[-60:, :] = 0
    free[:, :60] = free[:, -60:] = 0
    spot = np.array(np.unravel_index(np.argmax(free), SHAPE), dtype=float) + 0.3
    soc = np.linspace(0.0, 1.0, n_frames)
    theta = soc_traces(soc, kind="asynchronous", n_particles=n_particles, rng=g).theta
    n_chunks = -(-n_frames // bin_n)
    drift = random_drift(n_chunks, rng=g, step_px=0.3, max_px=5.0)
    path = folder / "movie.tif"
    t0 = time.perf_counter()
    with tifffile.TiffWriter(path, bigtiff=True) as writer:
        for c in range(n_chunks):
            sl = slice(c * bin_n, min((c + 1) * bin_n, n_frames))
            # one noiseless frame per chunk at the chunk's mean occupancy (the stage drift of the
            # chunk moves the whole scene: particles and spot), then every frame of the chunk is
            # that frame with its own read noise: rendering each frame would take ~10x longer
            mov = synthetic_movie(theta[sl].mean(axis=0, keepdims=True), shape=SHAPE, centres_px=centres + drift[c],
                                  radii_px=radii, pixel_size_nm=PIXEL_NM, reference_spots=(spot + drift[c])[None],
                                  reference_peak=1.5, background=0.3, rng=g)
            clean = (mov.frames[0] * COUNTS_PER_UNIT).astype(np.float32)
            del mov
            for _ in range(sl.stop - sl.start):
                noisy = clean + g.standard_normal(SHAPE, dtype=np.float32) * np.float32(READ_NOISE * COUNTS_PER_UNIT)
                frame = np.clip(np.rint(noisy), 0, 65535).astype(np.uint16)
                writer.write(frame, contiguous=True, photometric="minisblack")
    write_s = time.perf_counter() - t0
    t = np.arange(0.0, n_frames * FRAME_INTERVAL_S + 1.0, 5.0)
    capacity_Ah = 1e-3
    current = capacity_Ah * 3600 / (n_frames * FRAME_INTERVAL_S)
    pd.DataFrame({"time_s": t, "voltage_V": 3.6 + 0.6 * t / t[-1], "current_A": np.full(t.size, current)}).to_csv(
        folder / "cell.csv", index=False)
    return {"path": path, "write_s": write_s, "bytes": path.stat().st_size, "capacity_Ah": capacity_Ah}


def child_read(path: str) -> None:
    """Read the file once, sequentially, in 64 MB blocks; print the time."""
    buf = bytearray(64 * 2**20)
    view = memoryview(buf)
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as fh:
        while fh.readinto(view):
            pass
    print(json.dumps({"read_s": time.perf_counter() - t0}))


def child_analyze(path: str, cycler: str, bin_n: int, capacity_Ah: float, out: str) -> None:
    """Run the full pipeline; print its wall time and this process's peak RSS."""
    import tifffile

    from socscope.analysis.optical.pipeline import analyze_movie
    from socscope.io.movies import open_movie

    t0 = time.perf_counter()
    with (open_movie(path, frame_interval_s=FRAME_INTERVAL_S) as movie,
          tifffile.TiffWriter(Path(out) / "contrast.tif", bigtiff=True) as writer):
        res = analyze_movie(movie, bin_frames=bin_n, reference_spot="auto", drift="gaussian", cycler=cycler,
                            capacity_Ah=capacity_Ah, pixel_size_nm=PIXEL_NM, contrast_writer=writer)
    wall = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    hc = res.half_cycles
    print(json.dumps({
        "wall_s": wall, "peak_rss_GB": rss_kb * 1024 / 1e9, "particles": int(res.summary["particles"]),
        "classification": hc["classification"].tolist() if len(hc) else [],
        "max_drift_px": res.summary["max_drift_px"],
    }))


def _child(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=2000, help="frames in the stack (default 2000: 4 GB)")
    p.add_argument("--particles", type=int, default=50)
    p.add_argument("--bin", type=int, default=20, help="frames per bin (default 20)")
    p.add_argument("--tmp", help="folder for the temporary stack (default: a new temp folder, removed afterwards)")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "read":
            child_read(rest[0])
        else:
            child_analyze(rest[0], rest[1], int(rest[2]), float(rest[3]), rest[4])
        return 0

    base = Path(tempfile.mkdtemp(prefix="socscope-optical-bench-", dir=args.tmp))
    try:
        info = write_stack(base, args.frames, args.particles, args.bin)
        out = base / "out"
        out.mkdir()
        _drop_cache(info["path"])
        read = _child("read", info["path"])
        _drop_cache(info["path"])
        run = _child("analyze", info["path"], base / "cell.csv", args.bin, info["capacity_Ah"], out)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    wall, read_s = run["wall_s"], read["read_s"]
    print(json.dumps({
        "problem": "optical", "frames": args.frames, "shape": list(SHAPE), "bin": args.bin,
        "particles": run["particles"], "stack_GB": round(info["bytes"] / 1e9, 3),
        "wall_s": round(wall, 2), "frames_per_s": round(args.frames / wall, 1),
        "peak_rss_GB": round(run["peak_rss_GB"], 3), "read_once_s": round(read_s, 2),
        "ratio_to_read": round(wall / read_s, 2), "classification": run["classification"],
        "write_s": round(info["write_s"], 1), "target_s": TARGET_S, "target_GB": TARGET_GB,
        "meets_target_s": bool(wall < TARGET_S * args.frames / 2000),
        "meets_target_GB": bool(run["peak_rss_GB"] < TARGET_GB),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
