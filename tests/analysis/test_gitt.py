"""GITT analysis on synthetic pulse trains built from the exact sphere solution (known D)."""

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from socscope.analysis.gitt import detect_pulses, gitt_diffusivity, sphere_g
from socscope.constants import F
from socscope.errors import ParameterError, SocscopeWarning
from socscope.io.cycler import INTEGRATED

MASS_G = 5e-3
MOLAR_MASS = 96.5  # g/mol
DENSITY = 4.7  # g/cm³
RADIUS = 2e-6  # m
SLOPE_V = 2.0  # −dE/dθ of the linear OCV [V]
IR_OHM = 50.0


def train(diffusivities, *, tau=60.0, current=2e-5, noise_V=0.0, drop_last_relax=False, relax_fraction=1.0,
          rng=None):
    """A GITT charge train: each pulse starts from a relaxed, uniform particle.

    Spheres of radius RADIUS hold the active mass; the voltage is a linear
    OCV (dE/dθ = −SLOPE_V) of the surface occupancy plus an IR drop during
    the pulse. Pulses are sampled every second, relaxations on a log grid up
    to 30 R²/D (times ``relax_fraction``).
    """
    n_mol = MASS_G / MOLAR_MASS
    dtheta_dt = current / (F * n_mol)  # mean occupancy change rate [1/s]
    q = RADIUS * dtheta_dt / 3  # outward θ flux at the surface [m/s]
    t_all, v_all, i_all = [0.0, 10.0], [3.7, 3.7], [0.0, 0.0]  # a rest before the first pulse (from OCV)
    q_all = [0.0, 0.0]  # the charge the instrument counts [A s], exact: it integrates far faster than it logs
    now, theta = 10.0, 0.95
    for n, d in enumerate(diffusivities):
        relax = max(30 * RADIUS**2 / d, 10 * tau) * relax_fraction
        pulse = np.linspace(1.0, tau, int(tau))
        rest = tau + np.geomspace(1.0, relax, 300)
        window = pulse if (drop_last_relax and n == len(diffusivities) - 1) else np.concatenate([pulse, rest])
        on = window <= tau + 1e-9

        def surf(s):
            s = np.maximum(s, 0.0)
            return -(q * RADIUS / d) * sphere_g(d * s / RADIUS**2)

        dth_s = surf(window) - surf(window - tau)
        e = 3.7 - SLOPE_V * (theta - 0.95) - SLOPE_V * dth_s + np.where(on, IR_OHM * current, 0.0)
        t_all += list(now + window)
        v_all += list(e)
        i_all += list(np.where(on, current, 0.0))
        q_all += list(q_all[-1] + current * np.minimum(window, tau))
        now += window[-1]
        theta -= dtheta_dt * tau
    t, v, i = np.array(t_all), np.array(v_all), np.array(i_all)
    if noise_V:
        v = v + (rng or np.random.default_rng(0)).normal(0, noise_V, v.size)
    cap = np.array(q_all) / 3600
    return pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": i, "step": 0, "cycle": 0, "capacity_Ah": cap})


KW = dict(mass_g=MASS_G, molar_mass_g_mol=MOLAR_MASS, density_g_cm3=DENSITY, radius_m=RADIUS)
D_TRUE = np.array([1e-16, 3e-16, 1e-15, 3e-15, 1e-14])  # two decades


def test_pulses_are_found():
    df = train(D_TRUE)
    p = detect_pulses(df)
    assert len(p) == D_TRUE.size and p.complete.all()
    # τ is a difference of time stamps up to 1.7e6 s, each rounded to 2.3e-10 s (4e-12 of τ);
    # measured 0, 1e-10 leaves margin for that round-off
    assert_allclose(p.tau_s, 60.0, rtol=1e-10)
    # every pulse sample is exactly 2e-5 A; their mean rounds by a few ulp (measured 0)
    assert_allclose(p.current_A, 2e-5, rtol=1e-14)


def test_sphere_fit_recovers_d_over_two_decades():
    res = gitt_diffusivity(train(D_TRUE), **KW)
    # exact model, no noise: the fit returns D to the series' accuracy; the
    # promise is 15 % (measured within 2e-3: the first pulse, at 1 s sampling)
    assert_allclose(res.D_sphere, D_TRUE, rtol=0.15)
    assert np.all(np.abs(res.D_sphere / D_TRUE - 1) < 1e-2)
    # the IR step is removed: ΔE_t matches the IR-free transient of the exact
    # solution, SLOPE_V·(qR/D)·g(Dτ/R²), within 5 % (measured 0–4.2 %: the √t
    # intercept is exact only while the response is √t-like); keeping the
    # 1 mV ohmic jump would make it 20–140 % too large
    q = RADIUS * 2e-5 / (F * MASS_G / MOLAR_MASS) / 3
    ir_free = SLOPE_V * q * RADIUS / D_TRUE * sphere_g(D_TRUE * 60.0 / RADIUS**2)
    assert np.all(np.abs(res.dEt_V / ir_free - 1) < 0.05), res.dEt_V / ir_free
    assert res.relaxed.all()


def test_classic_formula_reads_low_for_spheres_within_its_expected_bias():
    res = gitt_diffusivity(train(D_TRUE), **KW)
    short = res.short_pulse.to_numpy()
    ratio = (res.D_classic / D_TRUE).to_numpy()
    # where τ ≪ R²/D the flat-electrode formula is biased low by the
    # curvature of the sphere: between 0.6 and 1 (about 20 % low, as the
    # issue states)
    assert short.any()
    assert np.all((ratio[short] > 0.6) & (ratio[short] < 1.0)), ratio
    # the √t variant uses the slope of the early transient: within 30 % there
    assert np.all(np.abs(res.D_sqrt_t.to_numpy()[short] / D_TRUE[short] - 1) < 0.3)
    # the fastest pulse (L²/D = R²/(9D) = 44 s against τ = 60 s) breaks the assumption and is flagged
    assert not short[-1]


def test_a_pulse_without_a_rest_before_it_gets_no_d():
    # the record starts with the first pulse: no relaxed E0 exists, so that pulse's
    # ΔE_s would be read from a voltage under current (66x low D): NaN and flagged
    df = train(D_TRUE[:3]).iloc[2:].reset_index(drop=True)
    df["time_s"] -= df.time_s.iloc[0]
    res = gitt_diffusivity(df, **KW)
    assert res.rest_before.tolist() == [False, True, True]
    assert np.isnan(res.E0_V[0]) and np.isnan(res.D_classic[0]) and np.isnan(res.D_sphere[0])
    assert np.isfinite(res.D_classic[1:]).all()
    full = gitt_diffusivity(train(D_TRUE[:3]), **KW)
    assert full.rest_before.all()
    assert_allclose(res.D_classic[1:], full.D_classic[1:], rtol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_tolerance(seed):
    # C/8 pulses (ΔE_s = 2.4 mV) read with 50 µV of noise: the relaxed
    # voltages are five-point means and the fit uses the whole transient, so
    # D stays within the promised 15 % (measured within 6 % for these seeds)
    df = train(D_TRUE[:3], current=1e-4, noise_V=5e-5, rng=np.random.default_rng(seed))
    res = gitt_diffusivity(df, **KW)
    assert_allclose(res.D_sphere, D_TRUE[:3], rtol=0.15)


def test_unrelaxed_and_missing_relaxations_are_flagged():
    # relaxations cut at 0.15 R²/D still drift: with a 0.1 mV allowance (the
    # signals here are 0.5 mV) both are flagged; full ones are not
    res = gitt_diffusivity(train(D_TRUE[:2], relax_fraction=0.005), **KW, drift_V=1e-4)
    assert not res.relaxed.any()
    assert gitt_diffusivity(train(D_TRUE[:2]), **KW, drift_V=1e-4).relaxed.all()
    res = gitt_diffusivity(train(D_TRUE[:3], drop_last_relax=True), **KW)
    assert list(res.complete) == [True, True, False]
    assert np.isnan(res.D_classic.iloc[-1]) and np.isfinite(res.D_sphere.iloc[:2]).all()


def test_bad_inputs():
    df = train(D_TRUE[:1])
    with pytest.raises(ParameterError, match="mass"):
        gitt_diffusivity(df, **{**KW, "mass_g": None})
    with pytest.raises(ParameterError, match="area"):
        gitt_diffusivity(df, mass_g=MASS_G, molar_mass_g_mol=MOLAR_MASS, density_g_cm3=DENSITY)
    with pytest.raises(ParameterError, match="no current"):
        detect_pulses(df.assign(current_A=0.0))


def test_gitt_to_material_and_cli(tmp_path):
    import socscope as ss
    from socscope.analysis.gitt import gitt_to_material
    from socscope.cli.main import main

    base = ss.materials.get("nmc532")
    df = train(D_TRUE)
    res = gitt_diffusivity(df, mass_g=MASS_G, molar_mass_g_mol=base.molar_mass * 1e3,
                           density_g_cm3=base.density * 1e-3, radius_m=RADIUS, capacity_mAh_g=base.capacity_mAh_g)
    # three of the five pulses are longer than the short-pulse limit for this particle: said, and marked
    flagged = pytest.warns(SocscopeWarning, match=r"3 of the 5 pulses tabulated are flagged \(3 too long")
    with flagged:
        mat = gitt_to_material(res, base, alpha=2.7)
    theta = 1.0 - res["soc"].to_numpy() * base.capacity / base.theoretical_capacity
    # the same pulses read as a discharge (negative SOC) from θ = 1 would pass θ = 1: named, with the fix
    with pytest.raises(ParameterError, match=r"a discharge \(lithiating\) titration from initial_theta=1 reaches"), \
            pytest.warns(SocscopeWarning, match="flagged"):
        gitt_to_material(res.assign(soc=-res.soc), base)
    with pytest.warns(SocscopeWarning, match="flagged"):
        assert gitt_to_material(res.assign(soc=-res.soc), base, initial_theta=0.5).D is not None
    # the tabulated D passes through the pulses' estimates, scaled by α: measured 3.1e-15
    # (log/exp round-off at the nodes). A θ one ulp off would move D by 5e-13 here (ln D
    # changes by 4.6 over Δθ = 1e-3), so 1e-11 is the bound, not round-off alone
    assert_allclose(mat.D(theta), 2.7 * res.D_sphere.to_numpy(), rtol=1e-11)
    # the OCV table comes from the relaxed voltages (falling with θ): at its own nodes it
    # returns them (measured 0; dU/dθ ≈ 2 V makes a one-ulp θ worth 1e-16 relative)
    assert_allclose(mat.U(theta), res.E_relaxed_V.to_numpy(), rtol=1e-13)
    # the command line writes the table, a figure and a loadable material file
    # the record goes through the reader as an EC-Lab text export
    mpt = tmp_path / "gitt.mpt"
    body = df.rename(columns={"time_s": "time/s", "voltage_V": "Ewe/V"}).assign(**{"I/mA": df.current_A * 1e3,
                                                                                 "(Q-Qo)/mA.h": df.capacity_Ah * 1e3})
    mpt.write_text("EC-Lab ASCII FILE\nNb header lines : 3\n\n" + body[["time/s", "Ewe/V", "I/mA", "(Q-Qo)/mA.h"]]
                   .to_csv(sep="\t", index=False))
    out = tmp_path / "out"
    code = main(["gitt", str(mpt), "--mass-mg", str(MASS_G * 1e3), "--material", "nmc532", "--radius-um",
                 str(RADIUS * 1e6), "--out", str(out), "--to-material", str(tmp_path / "mine.toml"), "--quiet"])
    assert code == 0
    table = pd.read_csv(out / "gitt.csv")
    summary = json.loads((out / "summary.json").read_text())
    # the export carries the instrument's charge count, so every pulse is timed by it
    assert summary["timed_by"] == {"charge": 5} and summary["not_constant_current"] == 0
    # the text export keeps every digit, so the command line's fit is the in-memory one
    # (measured 2.1e-3 from D_TRUE, 0 from res): the in-memory bound of 1 % applies
    assert_allclose(table.D_sphere, D_TRUE, rtol=1e-2)
    loaded = ss.materials.load(tmp_path / "mine.toml")
    # the file tabulates D at 713 points and the loaded material interpolates between them,
    # not at the pulses' own θ: measured 4.6e-5; 1e-3 bounds that resampling
    assert_allclose(loaded.D(theta), res.D_sphere.to_numpy(), rtol=1e-3)
    # missing mass: one clear error
    assert main(["gitt", str(mpt), "--material", "nmc532", "--radius-um", "2", "--out", str(out), "--overwrite"]) == 2


def test_cli_refuses_before_writing_anything(tmp_path, capsys):
    """Bad --alpha, a --to-material folder that does not exist, a record without GITT pulses: no output folder."""
    from socscope.cli.main import main

    t = np.arange(0.0, 7200.0, 10.0)
    cycling = tmp_path / "gcpl.csv"  # one long constant-current charge: no pulse and rest
    pd.DataFrame({"time_s": t, "voltage_V": 3.7 + t / 1e5, "current_A": np.full(t.size, 1e-3)}).to_csv(cycling,
                                                                                                         index=False)
    base = ["gitt", str(cycling), "--mass-mg", "8", "--material", "nmc532", "--radius-um", "2", "--quiet"]
    cases = [(["--alpha", "-1", "--to-material", str(tmp_path / "m.toml")], "--alpha -1.0 must be a positive"),
             (["--to-material", str(tmp_path / "nodir" / "m.toml")], "does not exist"),
             # a name save() refuses was found only after the outputs were written
             (["--to-material", str(tmp_path / "m.txt")], "use a .toml path"),
             # the TOML's table goes beside it as m.csv: an existing one is refused up front too
             (["--to-material", str(tmp_path / "taken.toml")], "refusing to overwrite existing file"),
             # --alpha scales only the material file: alone it would be silently ignored
             (["--alpha", "2.7"], "needs --to-material"),
             ([], "no GITT pulse gives a diffusivity"),
             # the material's table (gcpl.csv beside gcpl.toml) would replace the input record, even with
             # --overwrite; so would an output folder holding the record under an output's name
             (["--to-material", str(tmp_path / "gcpl.toml"), "--overwrite"], "gcpl.csv is an input"),
             ]
    (tmp_path / "taken.csv").write_text("mine\n")
    before = cycling.read_bytes()
    for k, (extra, needle) in enumerate(cases):
        out = tmp_path / f"out{k}"
        assert main(base + ["--out", str(out)] + extra) == 2
        assert needle in capsys.readouterr().err
        assert not out.exists() and not (tmp_path / "m.toml").exists() and not (tmp_path / "m.txt").exists()
    assert (tmp_path / "taken.csv").read_text() == "mine\n"
    assert cycling.read_bytes() == before
    # the record inside --out under the name of an output
    inside = tmp_path / "outx"
    inside.mkdir()
    (inside / "gitt.csv").write_bytes(before)
    assert main(["gitt", str(inside / "gitt.csv"), *base[2:], "--out", str(inside), "--overwrite"]) == 2
    assert "is an input and would be replaced by the output gitt.csv" in capsys.readouterr().err
    assert (inside / "gitt.csv").read_bytes() == before


def logged_train(*, d=1e-15, tau=300.0, current=2e-5, n=3, pulse_log=10.0, rest_log=60.0):
    """A GITT train logged as many cyclers log it: every step from its start, every ``pulse_log`` /
    ``rest_log`` seconds, with no record at a step's end (so the last rest record before a pulse
    lies up to ``rest_log`` before it). One constant D; the exact sphere response superposed over
    the pulses; the capacity column is the charge the instrument counts (exact)."""
    n_mol = MASS_G / MOLAR_MASS
    flux = RADIUS * current / (F * n_mol) / 3
    relax = 30 * RADIUS**2 / d
    starts = 10.0 + np.arange(n) * (tau + relax)
    t = np.concatenate([[0.0]] + [np.concatenate([s + np.arange(0, tau, pulse_log), s + tau + np.arange(0, relax,
                                                                                                             rest_log)])
                                  for s in starts])

    def surf(s):
        return -(flux * RADIUS / d) * sphere_g(d * np.maximum(s, 0.0) / RADIUS**2)

    el = t[:, None] - starts[None, :]
    dth = (surf(el) - surf(el - tau)).sum(axis=1)
    on = ((el >= 0) & (el < tau)).any(axis=1)
    v = 3.7 - SLOPE_V * dth + np.where(on, IR_OHM * current, 0.0)
    cap = current * np.clip(el, 0.0, tau).sum(axis=1) / 3600
    df = pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": np.where(on, current, 0.0), "step": 0, "cycle": 0,
                       "capacity_Ah": cap})
    return df, starts


def test_sparse_logging_times_pulses_by_their_charge_or_within_the_stated_uncertainty():
    # rests logged every 60 s without an end record: the record before a pulse lies 60 s before
    # it, and taking it as the start read τ = 350 s for 300 s, with the √t origin 60 s early.
    # With the instrument's charge count the timing is exact.
    df, starts = logged_train()
    p = detect_pulses(df)
    assert list(p.timing) == ["charge"] * 3
    # τ = Δq/I: a quotient of numbers near 1e-6 A h and 2e-5 A (measured 0 up to 6e-14 of τ)
    assert_allclose(p.tau_s, 300.0, rtol=1e-10)
    # starts near 1e5 s from a median of record times minus Δq/I: round-off of a few 1e-11 s
    # (measured 0); 1e-12 relative is 1e-7 s there
    assert_allclose(p.t_start_s, starts, rtol=1e-12)
    res = gitt_diffusivity(df, **KW)
    # the exact model with the exact origin: within 1 % like the densely logged train (measured 2.6e-3)
    assert_allclose(res.D_sphere, 1e-15, rtol=1e-2)
    # without a counted charge (a record whose capacity was integrated from the logged current),
    # the time stamps bound each end within one pulse interval: τ is off by at most the stated
    # uncertainty (at most an interval at each end, 20 s; here 15 s: the start half an
    # interval, the end one), never by the 60 s of the rest's spacing
    df.attrs["capacity_source"] = INTEGRATED
    p = detect_pulses(df)
    assert list(p.timing) == ["clock"] * 3
    # (1e-9 s: the round-off of differences of time stamps up to 2.4e5 s)
    assert np.all(np.abs(p.tau_s - 300.0) <= p.timing_uncertainty_s + 1e-9)
    assert np.all(p.timing_uncertainty_s <= 20.0 + 1e-9)
    # starts: half an interval early after a sparse rest, one interval for the first pulse (its
    # rest record lies one interval before it, and is taken as the end of that rest)
    # (1e-6 s: differences of time stamps up to 2.4e5 s, each exact to 3e-11 s; measured 0)
    assert_allclose(p.t_start_s - starts, [-10.0, -5.0, -5.0], atol=1e-6)
    # D from origins 5–10 s early and τ up to 10 s off on 300 s: within 20 % (measured 8 % low, 18 %
    # for the first pulse, whose start is taken at the rest record 10 s before it); the record
    # before the pulse as its start read D 64 % low
    assert_allclose(gitt_diffusivity(df, **KW).D_sphere, 1e-15, rtol=0.2)


def test_cc_cv_charges_and_sign_changes_are_not_pulses():
    t = np.arange(0.0, 9000.0, 10.0)
    cv = (t >= 3600) & (t < 5400)
    i = np.where(t < 3600, 1e-3, np.where(cv, 1e-3 * np.exp(-(t - 3600) / 600), np.where(t < 7200, -1e-3, 0.0)))
    v = np.where(t < 3600, 3.6 + t / 3600 * 0.7, np.where(cv, 4.3, 4.0))
    df = pd.DataFrame({"time_s": t, "voltage_V": v, "current_A": i, "capacity_Ah": np.cumsum(i) * 10 / 3600})
    p = detect_pulses(df)
    # the CC-CV charge and the discharge that follows at once are two runs of opposite sign; the
    # first does not hold its current (it was read as one 7190 s "pulse" with both halves)
    assert list(np.sign(p.current_A)) == [1.0, -1.0]
    assert list(p.constant_current) == [False, True]
    assert list(p.complete) == [False, True]
    # neither run gives a D (no rest before the discharge, no constant current in the charge): the
    # function refuses the record as the command does, instead of returning a table of NaN
    with pytest.raises(ParameterError, match="no GITT pulse gives a diffusivity .2 pulse.s. found.*GITT record"):
        gitt_diffusivity(df, **KW)
    # with the instrument's step numbers, the CC and the CV part are two runs as well
    p = detect_pulses(df.assign(step=np.where(t < 3600, 1, np.where(cv, 2, 3))))
    assert list(p.start) == [0, 360, 540]
    assert list(p.constant_current) == [True, False, True] and not p.complete.iloc[0]


@pytest.mark.parametrize("kwargs, needle", [
    ({"radius_m": 5.0}, "larger than a millimetre"),
    ({"mass_g": -1.0}, "mass_g = -1.0 g must be finite and > 0"),
    ({"mass_g": "5"}, "mass_g must be a number"),
    ({"capacity_mAh_g": float("nan")}, "capacity_mAh_g = nan"),
    ({"drift_V": 0.0}, "drift_V = 0.0"),
    ({"density_g_cm3": float("inf")}, "density_g_cm3 = inf"),
])
def test_out_of_range_numbers_are_named(kwargs, needle):
    with pytest.raises(ParameterError, match=needle):
        gitt_diffusivity(train(D_TRUE[:1]), **{**KW, **kwargs})


def test_bad_records_and_settings_are_named():
    df = train(D_TRUE[:1])
    with pytest.raises(ParameterError, match=r"voltage_V of data row 3 \(t = \S+ s\) is not a finite number"):
        detect_pulses(df.assign(voltage_V=np.where(np.arange(len(df)) == 2, np.nan, df.voltage_V)))
    with pytest.raises(ParameterError, match="rest_fraction = 2"):
        detect_pulses(df, rest_fraction=2)
    with pytest.raises(ParameterError, match="pulses lacks columns"):
        gitt_diffusivity(df, **KW, pulses=detect_pulses(df)[["start", "stop"]])


def test_impedance_between_pulses_gives_no_pulses():
    """Pulses of 600 s at 1 mA, an impedance measurement in each rest: a current oscillating around zero
    (0.5 mA, 1 to 0.1 Hz, three periods each, 20 samples a period), no charge count in the record."""
    t, i = [0.0], [0.0]

    def add(times, currents):
        t.extend(t[-1] + 1.0 + np.asarray(times))
        i.extend(currents)

    eis_starts = []
    for _ in range(3):
        add(np.arange(100.0), np.zeros(100))  # rest
        add(np.arange(600.0), np.full(600, 1e-3))  # pulse
        add(np.arange(600.0), np.zeros(600))  # relaxation
        eis_starts.append(len(t))
        for f in (1.0, 0.5, 0.2, 0.1):
            s = np.arange(60) / (20 * f)
            add(s, 5e-4 * np.sin(2 * np.pi * f * s + 0.3))  # phase 0.3: no sample at zero
    add(np.arange(100.0), np.zeros(100))
    t = np.array(t)
    df = pd.DataFrame({"time_s": t, "voltage_V": 3.7, "current_A": i})
    p = detect_pulses(df)
    # every lobe of the oscillation (10 samples of one sign) read as a "pulse" of 0.5-5 s; the
    # largest passes 5e-4 A × 5 s × 2/π = 1.6e-3 A s, 2.7e-3 of a pulse's 0.6 A s
    assert len(p) == 3 and p.attrs["left_out"] == 3 * 4 * 3 * 2
    # each record at the pulse current stands for one second: 600 s, exact in binary
    assert_allclose(p.tau_s, 600.0, rtol=0, atol=1.0)
    # the relaxation ends where the impedance measurement begins
    assert list(p.relax_stop) == eis_starts


def test_gitt_cli_writes_the_analysis_before_a_material_that_fails(tmp_path, capsys):
    """All pulses flagged: --to-material fails, but the analysis is written and the message says so."""
    from socscope.cli.main import main

    df = train(D_TRUE[-2:])  # both pulses too long for the particle (short_pulse False)
    mpt = tmp_path / "gitt.mpt"
    body = df.rename(columns={"time_s": "time/s", "voltage_V": "Ewe/V"}).assign(**{"I/mA": df.current_A * 1e3,
                                                                                 "(Q-Qo)/mA.h": df.capacity_Ah * 1e3})
    mpt.write_text("EC-Lab ASCII FILE\nNb header lines : 3\n\n" + body[["time/s", "Ewe/V", "I/mA", "(Q-Qo)/mA.h"]]
                   .to_csv(sep="\t", index=False))
    base = ["gitt", str(mpt), "--mass-mg", str(MASS_G * 1e3), "--material", "nmc532", "--quiet"]
    out = tmp_path / "out"
    assert main(base + ["--radius-um", str(RADIUS * 1e6), "--out", str(out), "--to-material",
                        str(tmp_path / "mine.toml")]) == 2
    err = capsys.readouterr().err
    # one error line (a warning on the mass of this small synthetic cell may come before it)
    line, = [x for x in err.splitlines() if "error:" in x]
    assert "all 2 usable pulses are flagged" in line and f"the analysis was written to {out}/" in line
    assert (out / "gitt.csv").exists() and (out / "summary.json").exists()
    assert not (tmp_path / "mine.toml").exists()
    # a radius given in µm is checked as the flag, not as the library's radius_m
    assert main(base + ["--radius-um", "2000", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--radius-um 2000.0 must be a particle radius in µm" in err and "radius_m" not in err
    assert main(base[:3] + ["inf"] + base[4:] + ["--radius-um", "2", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "--mass-mg inf must be a positive, finite" in err and "mass_g" not in err
