"""Every command of the README's "Use" section runs verbatim.

Design: the test reads README.md, takes every ``bash`` block under "## Use", joins the
backslash-continued lines, drops the comments (``shlex`` with ``comments=True``), expands the
unquoted wildcards as a shell would (``maps/*.ibw``) and runs each ``socscope ...`` line through the
console script's ``main()`` with the current interpreter, in one temporary folder, in the README's
order (later commands read what earlier ones wrote: ``top.tif``, ``top.cycler.csv``,
``top-optical/``). The folder holds small example inputs under the names the README uses: a cycling
record and a GITT record (synthetic CSV records with a known shape), a grey micrograph of four
particles, NEXAFS spectra, SP-ICP-OES event tables of a synthetic instrument, and a filmed particle
with its cycler record (``socscope.fitting.synthetic``); the Arbin ``.res`` and the Asylum ``.ibw``
maps are copies of the third-party files in ``../shared/data`` (the lines that read them are left
out, with the reason, when that folder or ``mdb-export`` is absent). Each command must exit 0, and
each output the commands name must exist afterwards. The commands are run in-process (not as
subprocesses) so that one import and one compilation of the kernels serve them all.

The two Quick-start commands create a virtual environment and install from the package index,
which needs the network; they are run by the CI script (``.ci/run``), not here. The ``validate``
commands (minutes each) are described in "## Validation", not listed under "## Use".
"""

import glob
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from socscope.cli.main import main

from many_runs import nexafs_spectra

README = Path(__file__).resolve().parents[1] / "README.md"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ARBIN_RES = SHARED / "cycler" / "arbin_20160805_test001_45_cc_01.res"
ASYLUM_IBW = SHARED / "afm" / "asylum_pfm_P0089OP0027.ibw"


def use_lines(text: str) -> list[str]:
    """The ``socscope`` lines of every bash block under "## Use", continuation lines joined."""
    section = text.split("\n## Use", 1)[1].split("\n## ", 1)[0]
    lines = []
    for chunk in section.split("```bash\n")[1:]:
        block = chunk.split("```", 1)[0].replace("\\\n", " ")
        for line in block.splitlines():
            if shlex.split(line, comments=True):
                lines.append(line)
    return lines


def use_commands(text: str) -> list[list[str]]:
    """The ``socscope`` commands of every bash block under "## Use", as argument lists."""
    commands = []
    for line in use_lines(text):
        words = shlex.split(line, comments=True)
        assert words[0] == "socscope", f"a README 'Use' line that is not a socscope command: {line!r}"
        commands.append(words[1:])
    return commands


def expand(line: str) -> list[str]:
    """The arguments a shell passes for one README line: an unquoted word with a wildcard becomes
    the sorted files it matches (kept as written when it matches none, as bash does)."""
    lexer = shlex.shlex(line, posix=False)  # keeps each word's quotes, so a quoted wildcard stays literal
    lexer.whitespace_split, lexer.commenters = True, "#"
    argv = []
    for token in list(lexer)[1:]:
        word = shlex.split(token)[0]
        quoted = any(q in token for q in "\"'\\")
        matches = sorted(glob.glob(word)) if not quoted and glob.has_magic(word) else []
        argv.extend(matches or [word])
    return argv


def _cc(current_A, seconds, dt=30.0):
    n = max(2, int(seconds / dt))
    return np.full(n, current_A), np.full(n, dt)


def cycling_record(path: Path, *, mass_mg: float = 8.1, capacity_mAh_g: float = 180.0) -> None:
    """Three C/10 cycles between 3.0 and 4.3 V (voltage linear in SOC plus an IR step), as a cycler CSV."""
    i = mass_mg * capacity_mAh_g / 10 * 1e-6  # C/10 [A]: mg x mAh/g = µAh
    current = np.concatenate([np.r_[np.full(360, i), np.full(360, -i), np.zeros(20)] for _ in range(3)])
    t = np.arange(current.size) * 30.0
    soc = np.clip(np.cumsum(current) * 30.0 / 3600 / (mass_mg * capacity_mAh_g * 1e-6), 0, 1)
    voltage = 3.0 + 1.2 * soc + 0.05 * np.sign(current)
    pd.DataFrame({"time_s": t, "voltage_V": voltage, "current_A": current}).to_csv(path, index=False)


def gitt_record(path: Path, *, mass_mg: float = 8.1, capacity_mAh_g: float = 180.0) -> None:
    """A GITT train: 20 pulses of 2 min at C/10, each followed by 1 h of rest.

    The voltage is the open-circuit voltage 3.7 + 0.6·SOC, plus during a pulse an ohmic step and a
    √t rise (semi-infinite diffusion), and during a rest an exponential relaxation to the new
    open-circuit voltage; sampled every 10 s.
    """
    i = mass_mg * capacity_mAh_g / 10 * 1e-6  # C/10 [A]
    q = mass_mg * capacity_mAh_g * 1e-6 * 3600  # capacity [C]
    rows, t, soc = [], 0.0, 0.05
    for s in np.arange(0, 600, 10.0):  # an opening rest: the first pulse's E0
        rows.append((t + s, 3.7 + 0.6 * soc, 0.0))
    t += 600
    for _ in range(20):
        e0 = 3.7 + 0.6 * soc
        for s in np.arange(10.0, 121.0, 10.0):
            rows.append((t + s, e0 + 0.6 * i * s / q + 0.02 + 0.004 * np.sqrt(s), i))
        t += 120
        soc += i * 120 / q
        e_end = rows[-1][1]
        for s in np.arange(10.0, 3601.0, 10.0):
            ocv = 3.7 + 0.6 * soc
            rows.append((t + s, ocv + (e_end - 0.02 - ocv) * np.exp(-s / 300.0), 0.0))
        t += 3600
    pd.DataFrame(rows, columns=["time_s", "voltage_V", "current_A"]).to_csv(path, index=False)


def grey_micrograph(path: Path) -> None:
    """Four bright discs (radius 10 px) on a dark noisy background, 8-bit TIFF."""
    tifffile = pytest.importorskip("tifffile")
    yy, xx = np.mgrid[:60, :120]
    img = np.full((60, 120), 30.0)
    for cy, cx in ((40, 15), (40, 40), (20, 64), (40, 95)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 100] = 200.0
    img += np.random.default_rng(0).integers(0, 8, img.shape)
    tifffile.imwrite(path, img.astype(np.uint8))


def spicp_tables(folder: Path, rng) -> None:
    """Event tables of the synthetic SP-ICP-OES instrument, headed as an instrument names its lines:
    five reference materials (DOL 1.00 ... 0.19, as the README's ``--dol``) and three replicates of a
    sample at DOL 0.19 with 8 % of its particles trapped Li-rich."""
    from socscope.observe.spicp import spicp_events

    def table(path, dol):
        size = rng.lognormal(np.log(6.0), 0.3, dol.size)
        ev = spicp_events(dol, size, rng=rng, ratio_cv=0.06, min_diameter_um=2.0)
        ev.rename(columns={"li_intensity_counts": "Li 670.776", "mn_intensity_counts": "Mn 257.611"}).to_csv(
            path, index=False)

    for k, dol in enumerate((1.00, 0.77, 0.59, 0.39, 0.19)):
        table(folder / f"ref_{k + 1}.csv", np.full(1000, dol))
    for k in range(3):
        dol = np.full(1000, 0.19)
        dol[:80] = rng.uniform(0.7, 1.0, 80)
        table(folder / f"sample_rep{k + 1}.csv", dol)


def filmed_particle(movie: Path, cycler: Path) -> None:
    """A 2 µm ni88 sphere (16 px of 125 nm) charged at 140 mA/g for 30 min with α = 4, filmed in 8 frames
    with a drift reference spot, and its cycler record for an 8.1 mg electrode (as the README's fit)."""
    tifffile = pytest.importorskip("tifffile")
    import socscope as ss
    from socscope.fitting._model import reference_rate_constant
    from socscope.fitting.synthetic import synthetic_particle_record

    mat = ss.materials.get("ni88-xu2022")
    yy, xx = np.mgrid[:16, :16]
    disc = (yy - 7.5) ** 2 + (xx - 7.5) ** 2 < 7.6**2
    rec = synthetic_particle_record(mat, disc, pixel_size_nm=125, alpha=4.0, k0=0.3 * reference_rate_constant(mat),
                                    specific_current_mA_g=140.0, duration_s=1800.0, n_frames=8, shape="sphere",
                                    pad_px=20, mass_g=8.1e-3, rng=2)
    tifffile.imwrite(movie, rec.frames.astype(np.float32), imagej=True,
                     metadata={"axes": "TYX", "finterval": float(rec.time_s[1] - rec.time_s[0])})
    rec.cycler.to_csv(cycler, index=False)


def shared_inputs(folder: Path) -> dict:
    """Copy the third-party files the README's lines name; the names that could not be made, with why."""
    missing = {}
    if not ARBIN_RES.is_file():
        missing["test.res"] = f"{ARBIN_RES} is absent (../shared/data)"
    elif shutil.which("mdb-export") is None:
        missing["test.res"] = "mdb-export (Debian package mdbtools) is not installed: apt-get install mdbtools"
    else:
        shutil.copy(ARBIN_RES, folder / "test.res")
    if not ASYLUM_IBW.is_file():
        missing["map.ibw"] = missing["maps/*.ibw"] = f"{ASYLUM_IBW} is absent (../shared/data)"
    else:
        shutil.copy(ASYLUM_IBW, folder / "map.ibw")
        (folder / "maps").mkdir()
        for soc in (20, 80):  # the one map stands for two states of charge
            shutil.copy(ASYLUM_IBW, folder / "maps" / f"P0089_SOC{soc}.ibw")
    return missing


def test_the_readme_lists_use_commands():
    text = README.read_text(encoding="utf-8")
    commands = use_commands(text)
    # the section's promises: particle, electrode (random and from an image), cycler, GITT, materials
    assert {" ".join(c[:2]) for c in commands} >= {"simulate particle", "simulate electrode", "cycler summary"}
    assert any(c[0] == "gitt" for c in commands) and any("--from-image" in c for c in commands)
    # and the second block's: instruments, reports, SP-ICP-OES, population, fits
    assert {c[0] for c in commands} >= {"afm", "nexafs", "report", "spicp", "fit"}
    assert {" ".join(c[:2]) for c in commands} >= {"simulate population", "fit particle", "fit gitt",
                                                    "fit electrode"}
    # validation takes minutes: described in its own section, not run here
    assert not any(c[0] == "validate" for c in commands)
    validation = text.split("\n## Validation", 1)[1].split("\n## ", 1)[0]
    assert "socscope validate" in validation and "docs/validation.md" in validation


def test_expand_globs_only_unquoted_words(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b_SOC2.csv").touch()
    (tmp_path / "a_SOC1.csv").touch()
    assert expand('socscope x *.csv --p "*.csv" --q "[A, B]" --r none*.tif') == [
        "x", "a_SOC1.csv", "b_SOC2.csv", "--p", "*.csv", "--q", "[A, B]", "--r", "none*.tif"]
    # where nothing matches, every README line gives the words shlex gives (quotes, escapes, comments)
    text = README.read_text(encoding="utf-8")
    assert [expand(line) for line in use_lines(text)] == use_commands(text)


#: outputs the README's commands name (in their --out or their comments), by the line that writes them
OUTPUTS = {
    "run.nc": "run.nc", "cell.nc": "cell.nc", "slice.nc": "slice.nc", "top.tif": "top.tif",
    "slice.segmentation.png": "slice.nc", "top.cycler.csv": "top.tif", "summary/cycles.csv": "summary/",
    "gitt/gitt.csv": "gitt/", "my-nmc.toml": "my-nmc.toml", "top-optical/traces.csv": "top-optical/",
    "s/cycles.csv": "s/", "afm/soc_summary.csv": "afm/", "nexafs/ratios.csv": "nexafs/", "charge.nc": "charge.nc",
    "charge.png": "charge.nc", "charge_voltage_capacity.csv": "charge.nc", "charge.html": "charge.html",
    "top-optical.html": "top-optical.html", "cal.toml": "cal.toml", "spicp/fractions.csv": "spicp/",
    "pop.nc": "pop.nc", "pop_events.csv": "pop_events.csv", "fit/fit.json": "fit/", "fit/residual_maps.png": "fit/",
    "fitgitt/fit.json": "fitgitt/", "fitcell/fit.json": "fitcell/",
}


@pytest.mark.slow
def test_every_use_command_runs_verbatim(tmp_path, monkeypatch, capsys):
    pytest.importorskip("skimage")
    pytest.importorskip("matplotlib")
    lines = use_lines(README.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    cycling_record(tmp_path / "cycling.csv")
    gitt_record(tmp_path / "gitt.csv")
    grey_micrograph(tmp_path / "electrode.tif")
    nexafs_spectra(tmp_path / "spectra")
    spicp_tables(tmp_path, np.random.default_rng(4))
    filmed_particle(tmp_path / "movie.tif", tmp_path / "cell.csv")
    missing = shared_inputs(tmp_path)
    left_out, ran = [], []
    for line in lines:
        words = line.split()
        why = next((reason for name, reason in missing.items() if name in words), None)
        if why:
            left_out.append(f"{shlex.split(line, comments=True)[:3]}: {why}")
            continue
        argv = expand(line)
        try:
            code = main(argv)
        except SystemExit as exc:  # --help exits through argparse
            code = exc.code
        err = capsys.readouterr().err
        assert code == 0, f"socscope {shlex.join(argv)} exited {code}: {err.strip()[-500:]}"
        ran.append(line)
    # each output the README's commands name exists (but for those of the lines left out)
    for name, writer in OUTPUTS.items():
        assert any(writer in line.split() for line in lines), f"no README 'Use' line names {writer}"
        if any(writer in line.split() for line in ran):
            assert (tmp_path / name).exists(), name
    if left_out:
        pytest.skip(f"ran {len(ran)} README commands; left out: " + "; ".join(left_out))
