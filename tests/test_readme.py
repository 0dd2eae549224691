"""Every command of the README's "Use" section runs verbatim.

Design: the test reads README.md, takes the first ``bash`` block under "## Use", joins the
backslash-continued lines, drops the comments (``shlex`` with ``comments=True``) and runs each
``socscope ...`` line through the console script's ``main()`` with the current interpreter, in a
temporary folder holding small example inputs under the names the README uses: a cycling
record and a GITT record (synthetic CSV records with a known shape) and a grey micrograph of
four particles. Each command must exit 0. The commands are run in-process (not as subprocesses)
so that one import and one compilation of the kernels serve them all.

The two Quick-start commands create a virtual environment and install from the package index,
which needs the network; they are run by the CI script (``.ci/run``), not here.
"""

import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from socscope.cli.main import main

README = Path(__file__).resolve().parents[1] / "README.md"


def use_commands(text: str) -> list[list[str]]:
    """The ``socscope`` commands of the first bash block under "## Use", as argument lists."""
    section = text.split("\n## Use", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == "socscope", f"a README 'Use' line that is not a socscope command: {line!r}"
            commands.append(words[1:])
    return commands


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


def test_the_readme_lists_use_commands():
    commands = use_commands(README.read_text(encoding="utf-8"))
    # the section's promises: particle, electrode (random and from an image), cycler, GITT, materials
    assert {" ".join(c[:2]) for c in commands} >= {"simulate particle", "simulate electrode", "cycler summary"}
    assert any(c[0] == "gitt" for c in commands) and any("--from-image" in c for c in commands)


@pytest.mark.slow
def test_every_use_command_runs_verbatim(tmp_path, monkeypatch, capsys):
    pytest.importorskip("skimage")
    pytest.importorskip("matplotlib")
    commands = use_commands(README.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    cycling_record(tmp_path / "cycling.csv")
    gitt_record(tmp_path / "gitt.csv")
    grey_micrograph(tmp_path / "electrode.tif")
    for argv in commands:
        try:
            code = main(argv)
        except SystemExit as exc:  # --help exits through argparse
            code = exc.code
        err = capsys.readouterr().err
        assert code == 0, f"socscope {shlex.join(argv)} exited {code}: {err.strip()[-500:]}"
    # each output the README's commands name exists
    for name in ("run.nc", "cell.nc", "slice.nc", "top.tif", "slice.segmentation.png", "summary/cycles.csv",
                 "gitt/gitt.csv", "my-nmc.toml", "top-optical/traces.csv"):
        assert (tmp_path / name).exists(), name
