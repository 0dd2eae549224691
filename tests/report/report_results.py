"""Small results of every kind the report knows, made by the package's own commands (a few seconds in all)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from many_runs import batch_movies, sweep_toml


def cycler_csv(path: Path, *, cycles: int = 3, capacity_Ah: float = 1e-3, current_A: float = 5e-4) -> Path:
    """Constant-current cycles with rests, a text record with the reader's columns (1 s... 30 s steps)."""
    t, v, i = [0.0], [3.5], [0.0]
    dt = 30.0
    n = int(capacity_Ah / current_A * 3600 / dt)
    now = 0.0
    for k in range(cycles):
        loss = 0.97 - 0.01 * k  # each discharge gives back a little less than its charge took
        for sign, frac in ((1, 1.0), (-1, loss)):
            m = int(n * frac)
            q = np.arange(1, m + 1) / n
            now_t = now + dt * np.arange(1, m + 1)
            t += list(now_t)
            v += list(3.5 + 0.7 * q if sign > 0 else 4.2 - 0.7 * q - 0.02)
            i += [sign * current_A] * m
            now = now_t[-1]
            t += list(now + dt * np.arange(1, 11))
            v += [v[-1]] * 10
            i += [0.0] * 10
            now = t[-1]
    pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": i}).to_csv(path, index=False)
    return path


def gitt_csv(path: Path, *, n: int = 4, tau: float = 120.0, relax: float = 1800.0, current_A: float = 2e-5) -> Path:
    """A GITT charge train: √t rise during each pulse, exponential relaxation 10 mV higher after it."""
    t, v, i = [0.0, 10.0], [3.70, 3.70], [0.0, 0.0]
    now, e0 = 10.0, 3.70
    for _ in range(n):
        tp = np.arange(1.0, tau + 1)
        tr = np.geomspace(1.0, relax, 120)
        end = e0 + 0.02 + 0.004 * np.sqrt(tau)
        t += list(now + tp) + list(now + tau + tr)
        v += list(e0 + 0.02 + 0.004 * np.sqrt(tp)) + list(e0 + 0.01 + (end - 0.03 - e0) * np.exp(-tr / 200.0))
        i += [current_A] * tp.size + [0.0] * tr.size
        now += tau + relax
        e0 += 0.01
    pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": i}).to_csv(path, index=False)
    return path


def mask_npy(path: Path) -> Path:
    y, x = np.mgrid[:20, :20]
    np.save(path, (x - 9.5) ** 2 + (y - 9.5) ** 2 < 81)
    return path


def particle_args(mask: Path, out: Path) -> list[str]:
    return ["simulate", "particle", "--material", "ni88-xu2022", "--shape", "mask", "--mask", str(mask),
            "--pixel-size-nm", "100", "--protocol", "Charge at C/3 for 20 minutes", "--output-interval-s", "300",
            "--out", str(out), "--plot", "--quiet"]


def electrode_args(out: Path) -> list[str]:
    return ["simulate", "electrode", "--material", "nmc532", "--layout", "layered", "--layers", "2", "--n-shells", "6",
            "--protocol", "Charge at C/5 for 2 hours", "Discharge at C/5 for 1 hour", "--out", str(out),
            "--plot", "--quiet"]


def validation_folder(out: Path) -> Path:
    """``run_validation`` writing its real table, summary and provenance, around two stand-in comparisons
    (the paper's simulations take minutes; what the report reads is the folder)."""
    import pytest

    from socscope.plotting._common import _plt
    from socscope.validation import Row, lun2023, run_validation

    def run(*, quick, report):
        rows = [Row("a", "[003] Fig. 2", "asymmetric", "0.21", "> 0.1", True, "socscope validate lun2023"),
                Row("b", "[003] Fig. 3", "offset 40 nm", "31 nm", "20-60 nm", True, "socscope validate lun2023")]
        return {"rows": rows, "preamble": "stand-in comparisons", "settings": {"grid_nm": 50}}

    def make_figures(result, folder):
        plt = _plt()
        for k, name in enumerate(lun2023.FIGURES):
            fig, ax = plt.subplots(figsize=(3, 2))
            ax.plot([0, 1], [0, k])
            fig.savefig(folder / name, dpi=60)
            plt.close(fig)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lun2023, "run", run)
        mp.setattr(lun2023, "make_figures", make_figures)
        run_validation("lun2023", out, quick=True, verbose=False)
    return out


def optical_folder(tmp: Path, out: Path) -> Path:
    """``socscope optical analyze`` on a 64x64 synthetic movie of 4 particles charged then discharged."""
    import tifffile

    from socscope.cli.main import main
    from socscope.observe.optical import random_particles, soc_traces, synthetic_movie

    g = np.random.default_rng(3)
    centres, radii = random_particles(4, (64, 64), rng=g, radius_px=(5, 7), margin_px=6)
    up, down = np.linspace(0, 1, 16), np.linspace(1, 0, 16)
    theta = np.concatenate([soc_traces(up, kind="asynchronous", n_particles=4, rng=g).theta,
                            soc_traces(down, kind="synchronous", n_particles=4, rng=g, theta_start=0.0,
                                       theta_end=1.0).theta])
    mov = synthetic_movie(theta, shape=(64, 64), centres_px=centres, radii_px=radii, pixel_size_nm=100,
                          photons=3000, reference_spots=1, reference_peak=1.5, dtype="uint16", rng=g)
    movie = tmp / "movie.tif"
    tifffile.imwrite(movie, mov.frames, imagej=True, metadata={"axes": "TYX", "finterval": 30.0})
    n = theta.shape[0]
    t = np.arange(0.0, n * 30.0, 10.0)
    q = np.interp(t, np.arange(n) * 30.0, np.concatenate([up, down])) * 1e-3
    pd.DataFrame({"time_s": t, "voltage_V": 3.6 + 600 * q, "current_A": np.gradient(q, t) * 3600}).to_csv(
        tmp / "cell.csv", index=False)
    y, x = mov.reference_spots[0]
    assert main(["optical", "analyze", str(movie), "--cycler", str(tmp / "cell.csv"), "--capacity-mAh", "1",
                 "--pixel-size-nm", "100", "--bin", "1", "--reference-spot", f"{y:.1f},{x:.1f}", "--out", str(out),
                 "--quiet"]) == 0
    return out


def pitt_folder(out: Path) -> Path:
    """A PITT table and figure, as a script would keep them (no command writes PITT folders yet)."""
    from socscope.plotting._common import _plt

    out.mkdir()
    table = pd.DataFrame({"hold_V": [3.8, 3.9, 4.0], "D_cottrell": [1e-15, 2e-15, 3e-15]})
    table.to_csv(out / "pitt.csv", index_label="hold")
    (out / "summary.json").write_text('{"radius_m": 2e-06, "holds": 3, "method": "Cottrell"}')
    plt = _plt()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.semilogy(table.hold_V, table.D_cottrell, "o")
    fig.savefig(out / "diffusivity.png", dpi=60)
    plt.close(fig)
    return out


# -- SP-ICP-OES, population, AFM, NEXAFS, sweeps and batches -------------------------------------

def spicp_results(tmp: Path) -> tuple[Path, Path]:
    """``socscope spicp calibrate`` on three synthetic references, then ``spicp analyze`` of a sample at
    DOL 0.2 of which 10 % stayed lithiated: (calibration file, analysis folder)."""
    from socscope.cli.main import main
    from socscope.observe.spicp import spicp_events

    rng = np.random.default_rng(4)
    refs = []
    for k, dol in enumerate((1.0, 0.6, 0.2)):
        size = rng.lognormal(np.log(6.0), 0.3, 300)
        spicp_events(np.full(300, dol), size, rng=rng, ratio_cv=0.06, min_diameter_um=2.0).to_csv(
            tmp / f"ref_{k}.csv", index=False)
        refs.append(str(tmp / f"ref_{k}.csv"))
    cal = tmp / "cal.toml"
    assert main(["spicp", "calibrate", *refs, "--dol", "1.0,0.6,0.2", "--out", str(cal), "--quiet"]) == 0
    dol = np.full(300, 0.2)
    dol[:30] = rng.uniform(0.7, 1.0, 30)
    spicp_events(dol, rng.lognormal(np.log(6.0), 0.3, 300), rng=rng, ratio_cv=0.06).to_csv(tmp / "sample.csv",
                                                                                          index=False)
    out = tmp / "spicp"
    assert main(["spicp", "analyze", str(tmp / "sample.csv"), "--calibration", str(cal), "--expected-dol", "0.2",
                 "--out", str(out), "--quiet"]) == 0
    return cal, out


def population_args(out: Path) -> list[str]:
    return ["simulate", "population", "--particles", "40", "--group-size", "20", "--n-shells", "4", "--protocol",
            "Repeat 3: [Charge at 1C until 4.2 V, Discharge at 1C until 3.0 V]", "--seed", "2", "--out", str(out),
            "--quiet"]


def afm_folder(tmp: Path, out: Path) -> Path:
    """``socscope afm analyze`` of three 80x80 Gwyddion maps (height and ESM amplitude) at SOC 0, 50, 100."""
    from gwyfile.objects import GwyContainer, GwyDataField, GwySIUnit

    from socscope.cli.main import main

    n, px = 80, 10e-9
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[:n, :n].astype(float)
    inside = (np.hypot(yy - 25, xx - 25) < 16) | (np.hypot(yy - 55, xx - 55) < 18)
    maps = []
    for soc, amp in ((0, 3.0), (50, 2.0), (100, 1.5)):
        height = 1e-9 * (0.02 * xx + np.where(inside, 30.0, 0.0) + rng.normal(0, 0.5, (n, n)))
        obj = GwyContainer()
        for k, (title, data) in enumerate((("Height", height), ("Amplitude", np.where(inside, amp, 0.3) * 1e-12))):
            obj[f"/{k}/data/title"] = title
            obj[f"/{k}/data"] = GwyDataField(data, xreal=n * px, yreal=n * px, si_unit_xy=GwySIUnit(unitstr="m"),
                                             si_unit_z=GwySIUnit(unitstr="m"))
        maps.append(tmp / f"NCM_SOC{soc}.gwy")
        obj.tofile(str(maps[-1]))
    assert main(["afm", "analyze", *map(str, maps), "--channel", "Amplitude", "--mask-from", "Height",
                 "--soc-from-name", r"SOC(\d+)", "--rim-nm", "60", "--out", str(out), "--quiet"]) == 0
    return out


def nexafs_folder(tmp: Path, out: Path) -> Path:
    """``socscope nexafs ratio`` of two Ni L-edge spectra (TEY and FY) at SOC 0 and 100."""
    from socscope.cli.main import main

    e = np.round(np.arange(838.0, 888.0, 0.1), 2)

    def spectrum(share):
        def g(c, h):
            return h * np.exp(-0.5 * ((e - c) / 0.35) ** 2)

        edge = 0.5 + np.arctan((e - 853.5) / 0.6) / np.pi
        return edge + (1 - share) * (g(853.0, 3.0) + g(855.2, 1.0)) + share * (g(853.3, 1.0) + g(855.4, 3.0))

    files = []
    for soc, share in ((0, 0.1), (100, 0.8)):
        files.append(tmp / f"ni_SOC{soc}.csv")
        np.savetxt(files[-1], np.column_stack([e, spectrum(share), spectrum(share / 2)]), delimiter=",",
                   header="Energy,TEY,FY", comments="")
    assert main(["nexafs", "ratio", *map(str, files), "--soc-from-name", r"SOC(\d+)", "--out", str(out),
                 "--quiet"]) == 0
    return out


#: a sweep of 6 points of which the two at C/2 fail: charging to mean θ 0.85 takes 19 records there, more than 12
SWEEP = sweep_toml(seed=1, n_cells=6, protocol="Charge at {c_rate}C until mean theta 0.85")


def sweep_store(tmp: Path) -> Path:
    """``socscope sweep`` (serial) of :data:`SWEEP`: 4 points done, 2 failed (exit status 1)."""
    from socscope.cli.main import main

    (tmp / "sweep.toml").write_text(SWEEP, encoding="utf-8")
    out = tmp / "sweep.zarr"
    assert main(["sweep", str(tmp / "sweep.toml"), "--out", str(out), "--scheduler", "serial", "--quiet"]) == 1
    return out


def batch_folder(tmp: Path, out: Path) -> Path:
    """``socscope optical analyze-batch`` (serial) of two 48x48 synthetic movies and a file that is no movie."""
    from socscope.cli.main import main

    batch_movies(tmp, n_particles=3, size_px=48, radius_px=(5, 6), n_frames=10)
    rc = main(["optical", "analyze-batch", *(str(tmp / f"{m}.tif") for m in ("cell_a", "cell_b", "broken")),
               "--cycler-pattern", "{stem}.csv", "--capacity-mAh", "1", "--pixel-size-nm", "100", "--drift", "none",
               "--scheduler", "serial", "--out", str(out), "--quiet"])
    assert rc == 1  # the broken movie fails, recorded in the table; the others are analysed
    return out
