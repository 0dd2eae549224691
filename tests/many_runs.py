"""Inputs shared by several test folders (tests/sweep, tests/cli, tests/report, tests/test_readme.py): a sweep
file of small particle runs, a folder of synthetic movies with their cycler records for ``optical
analyze-batch``, and synthetic Ni L3 NEXAFS spectra."""

from pathlib import Path

import numpy as np
import pandas as pd


def sweep_toml(*, seed: int, samples: int = 12, n_cells: int = 8, protocol: str = "Charge at {c_rate}C for 10 minutes",
               axes: dict | None = None) -> str:
    """A sweep file (TOML text) over small ni88-xu2022 particles without kinetics.

    ``axes`` maps a name to its values (default ``c_rate`` 0.5, 1, 2 and ``alpha`` 1, 5).
    """
    axes = {"c_rate": [0.5, 1, 2], "alpha": [1, 5]} if axes is None else axes
    lines = "".join(f"{name} = {list(values)!r}\n" for name, values in axes.items())
    return (f"[sweep]\nseed = {seed}\nsamples = {samples}\n\n"
            f'[base]\nkind = "particle"\nmaterial = "ni88-xu2022"\nradius_um = 1.0\nn_cells = {n_cells}\n'
            f'protocol = ["{protocol}"]\nkinetics = "none"\n\n[axes]\n{lines}')


def batch_movies(folder: Path, *, n_particles: int, size_px: int, radius_px: tuple, n_frames: int) -> Path:
    """Two synthetic movies ``cell_a.tif``, ``cell_b.tif`` (asynchronous particles, 30 s a frame) with their cycler
    CSVs, a ``broken.tif`` that is no movie and a ``broken.csv`` beside it, written into ``folder``."""
    import tifffile

    from socscope.observe.optical import random_particles, soc_traces, synthetic_movie

    dt = 30.0
    for k, name in enumerate(("cell_a", "cell_b")):
        g = np.random.default_rng(10 + k)
        centres, radii = random_particles(n_particles, (size_px, size_px), rng=g, radius_px=radius_px, margin_px=6)
        up = np.linspace(0, 1, n_frames)
        theta = soc_traces(up, kind="asynchronous", n_particles=n_particles, rng=g).theta
        mov = synthetic_movie(theta, shape=(size_px, size_px), centres_px=centres, radii_px=radii, pixel_size_nm=100,
                              photons=3000, reference_spots=0, dtype="uint16", rng=g)
        tifffile.imwrite(folder / f"{name}.tif", mov.frames, imagej=True, metadata={"axes": "TYX", "finterval": dt})
        t = np.arange(0.0, n_frames * dt, 10.0)
        q = np.interp(t, np.arange(n_frames) * dt, up) * 1e-3  # 1 mAh over the movie
        pd.DataFrame({"time_s": t, "voltage_V": 3.6 + 600 * q, "current_A": np.gradient(q, t) * 3600}).to_csv(
            folder / f"{name}.csv", index=False)
    (folder / "broken.tif").write_bytes(b"not a tiff at all")
    (folder / "broken.csv").write_bytes((folder / "cell_a.csv").read_bytes())
    return folder


def nexafs_spectra(folder: Path) -> list[Path]:
    """Ni L3 spectra at SOC 0 and 100 % (energy, TEY, FY) written into ``folder`` as ``ni_SOC*.csv``.

    An arctan edge and two Gaussian pairs whose high-energy share grows with oxidation (0.1 and 0.8
    of the surface, TEY), the bulk (FY) half as oxidised as the surface.
    """
    folder.mkdir(parents=True, exist_ok=True)
    e = np.round(np.arange(838.0, 888.0, 0.1), 2)

    def spectrum(share):
        g = lambda c, h: h * np.exp(-0.5 * ((e - c) / 0.35) ** 2)  # noqa: E731
        edge = 0.5 + np.arctan((e - 853.5) / 0.6) / np.pi
        return edge + (1 - share) * (g(853.0, 3.0) + g(855.2, 1.0)) + share * (g(853.3, 1.0) + g(855.4, 3.0))

    paths = []
    for soc, share in ((0, 0.1), (100, 0.8)):
        path = folder / f"ni_SOC{soc}.csv"
        np.savetxt(path, np.column_stack([e, spectrum(share), spectrum(share / 2)]),
                   delimiter=",", header="Energy,TEY,FY", comments="")
        paths.append(path)
    return paths
