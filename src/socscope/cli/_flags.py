"""Checks of command-line values shared by the subcommands (messages name the flag, not the keyword)."""

from __future__ import annotations

import math

from ..errors import SocscopeError


def positive(value, flag: str, example) -> None:
    """A flag's number, when given, must be finite and > 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise SocscopeError(f"{flag} {value:g} must be a positive number, e.g. {example}")


def not_an_input(outputs, inputs, fix: str = "choose another --out") -> None:
    """Refuse (before any work) an output path that is one of the command's input files: it would be replaced."""
    from pathlib import Path

    outs = {Path(o).resolve(): Path(o).name for o in outputs}
    for given in inputs:
        if given and Path(given).resolve() in outs:
            raise SocscopeError(f"{given} is an input and would be replaced by the output "
                                f"{outs[Path(given).resolve()]}; {fix}")


def material_files(name) -> list:
    """The files a ``--material`` argument reads: a .toml/.csv material file and the table its
    ``functions_csv`` names (nothing for a built-in name); so that an output never replaces them."""
    from pathlib import Path

    path = Path(name)
    if not path.is_file():
        return []
    files = [path]
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            with open(path, "rb") as fh:
                ref = tomllib.load(fh).get("functions_csv")
        except (OSError, ValueError):
            return files  # the reader reports it
        if isinstance(ref, str) and ref:
            files.append(path.parent / ref)
    return files




def netcdf_out(out, flag: str = "--out") -> None:
    """A results file is netCDF-4 (HDF5): its name must say so (``run.nc``), not ``.csv`` or ``.tif``."""
    from pathlib import Path

    from ..io.results import RESULT_SUFFIXES

    suffix = Path(out).suffix.lower()
    if suffix not in RESULT_SUFFIXES:
        stem = Path(out).stem if suffix else Path(out).name
        raise SocscopeError(f"{flag} {out}: the results are written as netCDF-4, which a {suffix or 'suffix-less'} "
                            f"name would misstate; name it {stem}.nc (tables and figures come from "
                            "socscope.open_results in Python)")


#: the most charge any electrode material stores per gram [mAh/g]: lithium metal's 3860; a cathode
#: holds under ~300. A record that passes more per gram of the given mass had the mass in other units.
MAX_SPECIFIC_CAPACITY_mAh_g = 3860.0


def plausible_mass(df, mass_mg, flag: str = "--mass-mg") -> None:
    """Refuse an active mass that makes the record's charge impossible per gram (grams given as mg),
    and warn about one that makes it implausibly small (micrograms given as mg)."""
    import warnings

    import numpy as np

    from ..errors import SocscopeWarning

    if mass_mg is None or "time_s" not in df or "current_A" not in df:
        return
    t = df["time_s"].to_numpy(float)
    i = df["current_A"].to_numpy(float)
    if t.size < 2:
        return
    q = np.concatenate([[0.0], np.cumsum(0.5 * (i[1:] + i[:-1]) * np.diff(t))]) / 3.6  # mAh
    swing = float(np.ptp(q)) / (mass_mg * 1e-3)  # mAh/g
    if swing > MAX_SPECIFIC_CAPACITY_mAh_g:
        raise SocscopeError(
            f"{flag} {mass_mg:g}: the record passes {swing:.3g} mAh/g of that mass, more than any electrode "
            f"material stores (lithium metal: 3860 mAh/g; a cathode: under 300): was the mass given in grams? "
            f"({mass_mg:g} g is {flag} {mass_mg * 1e3:g})")
    if 0 < swing < 1.0:
        warnings.warn(f"{flag} {mass_mg:g}: the record passes only {swing:.3g} mAh/g of that mass (a cathode gives "
                      f"100-300): was the mass given in micrograms? ({mass_mg:g} µg is {flag} {mass_mg * 1e-3:g})",
                      SocscopeWarning, stacklevel=2)


def plausible_size_um(value, flag: str) -> None:
    """Warn about a particle size far outside cathode particles' 0.05-100 µm (a unit slip: nm or mm for µm)."""
    import warnings

    from ..errors import SocscopeWarning

    if value is None or not math.isfinite(value) or value <= 0:
        return
    if value > 100:
        warnings.warn(f"{flag} {value:g}: a {value:g} µm particle is far larger than cathode particles (0.1-50 µm); "
                      f"was the size given in nm? ({value:g} nm is {flag} {value * 1e-3:g})", SocscopeWarning,
                      stacklevel=2)
    elif value < 0.05:
        warnings.warn(f"{flag} {value:g}: a {value * 1e3:g} nm particle is far smaller than cathode particles "
                      f"(0.1-50 µm); was the size given in mm? ({value:g} mm is {flag} {value * 1e3:g})",
                      SocscopeWarning, stacklevel=2)
