"""One point of a sweep: its settings in, the arrays the store records out.

Every kind records a fixed set of variables so that the store can be laid out
before any point runs: time series along ``sample`` (padded with NaN after the
point's last record) and, for many-particle kinds, per-particle series along
``particle``.
"""

from __future__ import annotations

import math
import time
import traceback
import warnings

import numpy as np

from .definition import SweepDefinition, fill_protocol

__all__ = ["compute_point", "layout", "run_point"]

_UM = 1e-6

# (name, units, long name) of the time series every kind records
_SERIES = {
    "particle": [
        ("theta_mean", "1", "volume-weighted mean occupancy"),
        ("theta_surface", "1", "surface occupancy (mean over the surface)"),
        ("theta_centre", "1", "occupancy at the centre"),
        ("theta_std", "1", "volume-weighted standard deviation of the occupancy"),
        ("theta_periphery_minus_core", "1", "periphery minus core occupancy (core-shell measure)"),
        ("current", "A", "current, positive on charge"),
        ("charge", "C", "charge passed since the start"),
        ("voltage", "V", "particle voltage (NaN without kinetics)"),
        ("specific_capacity", "mAh/g", "charge passed per active mass"),
    ],
    "population": [
        ("theta_mean", "1", "volume-weighted mean occupancy of the population"),
        ("theta_std", "1", "volume-weighted standard deviation over all cells"),
        ("current", "A", "total current, positive on charge"),
        ("charge", "C", "charge passed since the start"),
    ],
    "electrode": [
        ("theta_mean", "1", "mean occupancy of the electrode"),
        ("voltage", "V", "cell voltage"),
        ("current", "A", "cell current, positive on charge"),
        ("charge", "C", "charge passed since the start"),
        ("specific_capacity", "mAh/g", "charge passed per active mass"),
    ],
}


def layout(definition: SweepDefinition) -> dict:
    """The variables every point records: name -> (extra dims, extra sizes, dtype, attrs).

    Extra dims follow the sweep's axis dims; ``sample`` is the record index.
    """
    n = definition.samples
    out = {"time": (("sample",), (n,), "float64", {"units": "s", "long_name": "time of each record"})}
    for name, units, long in _SERIES[definition.kind]:
        out[name] = (("sample",), (n,), "float64", {"units": units, "long_name": long})
    base = definition.base
    if definition.kind == "particle" and base["shape"] == "sphere":
        out["theta_radial"] = (("sample", "shell"), (n, int(base["n_cells"])), "float64",
                               {"units": "1", "long_name": "occupancy of each radial shell (0 = centre)"})
    if definition.kind in ("population", "electrode"):
        P = int(base["n_particles"])
        out["theta_particle_mean"] = (("sample", "particle"), (n, P), "float64",
                                      {"units": "1", "long_name": "mean occupancy of each particle"})
        out["particle_radius"] = (("particle",), (P,), "float64", {"units": "m", "long_name": "particle radius"})
    out["n_records"] = ((), (), "int32", {"units": "1", "long_name": "samples this point recorded"})
    return out


def _simulate(settings: dict):
    """The point's simulation Dataset."""
    from .. import geometry as geo
    from ..materials import resolve
    from ..simulate import simulate_electrode, simulate_particle, simulate_particles

    kind = settings["kind"]
    mat = resolve(settings["material"], **settings.get("params", {}))
    protocol = fill_protocol(settings["protocol"], settings.get("c_rate"))
    interval = float(settings["output_interval_s"])
    theta0 = float(settings["initial_theta"])
    flux = settings["flux"]
    if kind == "particle":
        r = float(settings["radius_um"]) * _UM
        surface = None
        if settings["shape"] == "sphere":
            g = geo.Sphere(radius=r)
            extra = {"n_cells": int(settings["n_cells"])}
        else:
            g = geo.Disc(diameter=2 * r, thickness=float(settings["thickness_um"]) * _UM)
            extra = {"resolution": settings["resolution_nm"] * 1e-9} if settings.get("resolution_nm") else {}
            if settings.get("blocked_arc_deg") is not None:
                from ..physics import BlockedArc

                lo, hi = (math.radians(a) for a in settings["blocked_arc_deg"])
                surface = BlockedArc(eta=float(settings["eta"]), angles=[(lo, hi)], mode=settings["blocked_mode"])
        return simulate_particle(mat, g, protocol, initial_theta=theta0, flux=flux, surface=surface,
                                 kinetics=settings["kinetics"], output_interval=interval, **extra)
    rng = np.random.default_rng(int(settings["seed"]))
    P = int(settings["n_particles"])
    if kind == "population":
        mean = float(settings["mean_radius_um"]) * _UM
        cv = float(settings["radius_cv"])
        if cv > 0:
            s2 = math.log1p(cv * cv)  # log-normal radii with the given mean and coefficient of variation
            radii = rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), size=P)
        else:
            radii = np.full(P, mean)
        ds = simulate_particles(mat, [geo.Sphere(radius=float(r)) for r in radii], protocol,
                                n_cells=int(settings["n_cells"]), initial_theta=theta0, flux=flux,
                                output_interval=interval)
        return ds.assign(particle_radius=("particle", radii))
    from ..simulate.electrode import SIGMA_CB

    lay = geo.random_layout(P, dim=int(settings["dim"]), contact_fraction=float(settings["contact_fraction"]), rng=rng)
    if lay.n_particles != P:  # pragma: no cover - random_layout places every particle
        raise ValueError(f"the layout holds {lay.n_particles} particles, not n_particles = {P}")
    return simulate_electrode(mat, lay, protocol, n_shells=int(settings["n_cells"]), initial_theta=theta0, flux=flux,
                              sigma_cb=SIGMA_CB * float(settings["sigma_scale"]), output_interval=interval,
                              radial_profiles=False, observables=False)


def compute_point(settings: dict, variables: dict) -> dict:
    """Run one point and return its arrays, shaped as ``variables`` asks (NaN-padded)."""
    ds = _simulate(settings)
    n_rec = ds.sizes["time"]
    samples = variables["time"][1][0]
    if n_rec > samples:
        raise ValueError(f"the point recorded {n_rec} samples, more than [sweep] samples = {samples}; "
                         "raise samples or output_interval_s")
    out = {}
    for name, (dims, shape, dtype, _) in variables.items():
        if name == "n_records":
            out[name] = np.int32(n_rec)
            continue
        a = np.full(shape, np.nan)
        if name == "time":
            a[:n_rec] = ds["time"].values
        elif name == "theta_radial":
            a[:n_rec] = ds["theta"].values
        elif name == "particle_radius":
            a[:] = ds["particle_radius"].values if "particle_radius" in ds else ds["radius"].values
        elif name in ds:
            a[:n_rec] = ds[name].values
        out[name] = a
    return out


def run_point(settings: dict, variables: dict) -> dict:
    """Run one point, never raising: ``{"index", "status", "error", "arrays", "wall_s"}``.

    ``status`` is 1 for a finished point and 2 for a failed one (its
    ``error`` says why; its arrays are left unwritten).
    """
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # range warnings of extreme points would flood the workers' logs
            arrays = compute_point(settings, variables)
        return {"index": settings["index"], "status": 1, "error": None, "arrays": arrays,
                "wall_s": time.perf_counter() - t0}
    except Exception as exc:  # noqa: BLE001 - recorded per point, the sweep goes on
        msg = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        return {"index": settings["index"], "status": 2, "error": msg, "arrays": None,
                "wall_s": time.perf_counter() - t0, "traceback": traceback.format_exc(limit=4)}
