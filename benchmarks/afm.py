"""Time ``socscope afm analyze`` on a folder of synthetic AFM maps (the AFM issue's target: 50 maps of
512x512 with 5 channels in under 30 s).

Each map is a Gwyddion file (written with gwyfile) holding Height (a tilted plane with ~12 particles
of 0.4-0.9 µm radius), Amplitude (rim brighter than bulk), Current, Phase and Deflection, 5 µm scans,
named ``NCM_SOC<soc>_<k>.gwy`` over five SOCs. Prints one JSON line: the time of the library call
(:func:`socscope.analysis.afm.analyze_maps`) and of the whole command (tables, TIFFs, figures), and the CPU time of the library call (all threads): on a machine shared
with other work the wall times grow while the CPU time stays.

    python benchmarks/afm.py                 # 50 maps of 512x512
    python benchmarks/afm.py --maps 10 --size 256
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_maps(folder: Path, n_maps: int, size: int, rng) -> list[Path]:
    from gwyfile.objects import GwyContainer, GwyDataField, GwySIUnit

    scan = 5e-6
    yy, xx = np.mgrid[:size, :size].astype(float) * scan / size
    paths = []
    socs = (0, 25, 50, 75, 100)
    for k in range(n_maps):
        soc = socs[k % len(socs)]
        depth = np.full((size, size), -np.inf)
        for _ in range(12):
            cy, cx = rng.uniform(0.5e-6, 4.5e-6, 2)
            r = rng.uniform(0.4e-6, 0.9e-6)
            depth = np.maximum(depth, r - np.hypot(yy - cy, xx - cx))
        inside = depth > 0
        height = 2e-3 * xx - 1e-3 * yy + np.where(inside, 150e-9, 0.0) + rng.normal(0, 2e-9, (size, size))
        amp = np.where(inside, (3.0 - soc / 50) + np.where(depth < 300e-9, 0.5, 0.0), 0.4) * 1e-12
        current = np.where(inside, 1e-9 * (1 - soc / 120), 1e-11) + rng.normal(0, 1e-12, (size, size))
        obj = GwyContainer()
        for c, (title, data, unit) in enumerate((("Height", height, "m"), ("Amplitude", amp, "m"),
                                                 ("Current", current, "A"),
                                                 ("Phase", rng.normal(90, 1, (size, size)), "deg"),
                                                 ("Deflection", rng.normal(0, 1e-9, (size, size)), "m"))):
            obj[f"/{c}/data/title"] = title
            obj[f"/{c}/data"] = GwyDataField(np.ascontiguousarray(data), xreal=scan, yreal=scan,
                                             si_unit_xy=GwySIUnit(unitstr="m"), si_unit_z=GwySIUnit(unitstr=unit))
        path = folder / f"NCM_SOC{soc}_{k:03d}.gwy"
        obj.tofile(str(path))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=50)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--workers", type=int, default=None, help="threads (default min(4, CPUs))")
    parser.add_argument("--tmp", help="folder for the maps (default: a temporary folder)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from socscope.analysis.afm import analyze_maps
    from socscope.cli.main import main as cli

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        tmp = Path(tmp)
        maps = tmp / "maps"
        maps.mkdir()
        t0 = time.perf_counter()
        paths = write_maps(maps, args.maps, args.size, np.random.default_rng(0))
        t_write = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        result = analyze_maps(paths, channel="Amplitude", mask_from="Height", soc_pattern=r"SOC(\d+)", rim_nm=300,
                              workers=args.workers)
        t_lib, c_lib = time.perf_counter() - t0, time.process_time() - c0
        t0 = time.perf_counter()
        rc = cli(["afm", "analyze", *map(str, paths), "--channel", "Amplitude", "--mask-from", "Height",
                  "--soc-from-name", r"SOC(\d+)", "--rim-nm", "300", "--out", str(tmp / "afm"), "--quiet"])
        t_cli = time.perf_counter() - t0
    print(json.dumps({
        "benchmark": "afm_analyze", "maps": args.maps, "size_px": args.size, "channels": 5,
        "particles": len(result.particles), "write_maps_s": round(t_write, 2), "analyze_maps_s": round(t_lib, 2),
        "analyze_maps_cpu_s": round(c_lib, 2), "workers": args.workers,
        "command_s": round(t_cli, 2), "command_rc": rc, "target_s": 30, "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
