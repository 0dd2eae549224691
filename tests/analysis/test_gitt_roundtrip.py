"""GITT round trip: a titration simulated by socscope (sphere, D(θ) over two decades, Butler–Volmer)
is analysed back to D(θ) by ``analysis.gitt``."""

import numpy as np
import pandas as pd
import pytest

import socscope as ss
from socscope.analysis.gitt import detect_pulses, gitt_diffusivity
from socscope.materials import Material, Property

R = 2e-6  # m
TAU, REST = 120.0, 6 * 3600.0  # pulse and relaxation [s]


def d_true(th):
    """1.2e-16 m²/s near full lithiation rising to 1e-14 m²/s below θ ≈ 0.78 (the ni88 shape, SPEC §5)."""
    return 1e-16 * 10 ** (2 / (1 + np.exp((np.asarray(th, dtype=float) - 0.85) / 0.03)))


def _material():
    ref = ss.materials.get("nmc532")
    return Material(
        name="gitt-roundtrip", description="two-decade D(θ), smooth OCP, fast kinetics", source="test",
        c_max=ref.c_max, density=ref.density, capacity=ref.capacity, molar_mass=ref.molar_mass,
        U=Property("U", "V", lambda th: 4.4 - 1.2 * np.asarray(th) - 0.05 * np.log(np.asarray(th) / (1 - np.asarray(th))),
                   source="test", dfunc=lambda th: -1.2 - 0.05 / (np.asarray(th) * (1 - np.asarray(th)))),
        D=Property("D", "m2/s", d_true, source="test"),
        i0=Property("i0", "A/m2", lambda th: 10 * np.sqrt(np.asarray(th) * (1 - np.asarray(th))), source="test",
                    dfunc=lambda th: 10 * (1 - 2 * np.asarray(th)) / (2 * np.sqrt(np.asarray(th) * (1 - np.asarray(th))))),
        sigma=None,
    )


START = 600.0  # the rest before the train [s]


@pytest.fixture(scope="module")
def titration():
    mat = _material()
    period = TAU + REST
    # samples: 30 over each pulse, 40 log-spaced over each relaxation (what a cycler would log)
    # a rest first, as a cycler logs the open-circuit voltage before the first pulse (its E0)
    times = np.unique(np.concatenate([[0.0, 300.0]] + [
        START + k * period + np.concatenate([np.linspace(2.0, TAU, 30), TAU + np.geomspace(1.0, REST, 40)])
        for k in range(230)  # the train needs about 210 pulses
    ]))
    ds = ss.simulate_particle(mat, ss.geometry.Sphere(R), ["Rest for 10 minutes",
                                                           "GITT: 2 minutes at C/20, rest 6 hours, until mean theta 0.75"],
                              n_cells=100, initial_theta=0.95, output_times=times)
    rec = pd.DataFrame({"time_s": ds.time.values, "voltage_V": ds.voltage.values, "current_A": ds.current.values})
    mass_g = mat.density * 4 / 3 * np.pi * R**3 * 1e3
    res = gitt_diffusivity(rec, mass_g=mass_g, molar_mass_g_mol=mat.molar_mass * 1e3,
                           density_g_cm3=mat.density / 1e3, radius_m=R)
    p = detect_pulses(rec)
    t = ds.time.values
    th0 = np.interp(t[np.maximum(p.start.to_numpy() - 1, 0)], t, ds.theta_mean.values)
    th1 = np.interp(t[p.stop.to_numpy() - 1], t, ds.theta_mean.values)
    res["D_true"] = d_true(0.5 * (th0 + th1))  # D at the pulse's mean occupancy
    return res


def test_sphere_estimate_recovers_d_over_two_decades(titration):
    res = titration
    # "short against R²/D": the pulse's diffusion length √(Dτ) stays within about half the radius
    ok = res.relaxed.to_numpy() & (TAU <= 0.3 * R**2 / res.D_true.to_numpy())
    assert ok.sum() >= 100
    d = res.D_true.to_numpy()[ok]
    assert np.log10(d.max() / d.min()) >= 1.8  # the pulses span two decades of D
    ratio = res.D_sphere.to_numpy()[ok] / d
    # the promise is 15 %. Measured 1.01-1.10: on charge the surface occupancy, which the
    # transient senses, sits below the mean, where this D(θ) is higher
    assert np.all(np.abs(ratio - 1) < 0.15), ratio


def test_classic_formula_within_its_bias_and_broken_assumptions_flagged(titration):
    res = titration
    short = res.short_pulse.to_numpy() & res.relaxed.to_numpy()
    ratio = (res.D_classic / res.D_true).to_numpy()
    # flat-electrode formula on spheres, τ ≪ L²/D: reads low, within 0.6-1.0 (measured 0.87-0.95)
    assert short.sum() >= 20
    assert np.all((ratio[short] > 0.6) & (ratio[short] < 1.0)), ratio[short]
    # pulses with τ > 0.1 L²/D are flagged, and there the classic value is indeed far off
    # (measured down to 0.32)
    flagged = ~res.short_pulse.to_numpy() & res.relaxed.to_numpy()
    assert flagged.sum() >= 20
    assert ratio[flagged].min() < 0.5
    # the train ends with the pulse that met the condition, without its relaxation: flagged
    assert not bool(res.relaxed.iloc[-1])
