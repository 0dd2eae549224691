"""SP-ICP-OES analysis ([000]): thresholds, ratio fits, calibration, diverging fractions, inactive Li."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.analysis.spicp import (
    calibrate,
    calibrate_ratios,
    detect_events,
    detection_threshold,
    diverging_fractions,
    dol_from_ratio,
    expected_frame,
    fit_main_population,
    inactive_li_capacity,
    integrate_events,
    intensity_ratios,
    li_capacity_from_dol,
    mixture_fraction,
    size_detection_limit,
)
from socscope.errors import ParameterError

#: the synthetic instrument of these tests: ratio = A + B·DOL, plasma spread SIGMA in ratio
A, B, SIGMA = 0.02, 0.8, 0.03
REF_DOL = (1.00, 0.77, 0.59, 0.39, 0.19)


def _ratios(dol, rng):
    return A + B * np.asarray(dol) + rng.normal(0.0, SIGMA, size=np.shape(dol))


def _calibration(rng, n=2000):
    sets = [_ratios(np.full(n, d), rng) for d in REF_DOL]
    return calibrate_ratios(sets, REF_DOL, sources=[f"ref{d:.2f}" for d in REF_DOL])


def _sample(n, f_div, expected, frame_dol, rng):
    """n particles at DOL ``expected``; a share f_div diverging (4/5 Li-rich, 1/5 Li-poor).

    Diverging particles lie at least 3 plasma σ beyond the frame, so measurement noise carries
    no more than 0.13 % of them into it: the known answer is then the share outside the frame
    beyond the main population's own tails.
    """
    k = round(n * f_div)  # exactly the known share
    rich = round(0.8 * k)
    lo, hi = frame_dol
    margin = 3 * SIGMA / B
    dol = np.concatenate([np.full(n - k, expected), rng.uniform(hi + margin, 1.0, rich),
                          rng.uniform(0.0, lo - margin, k - rich)])
    return _ratios(dol, rng)


@pytest.mark.parametrize("f_true", [0.02, 0.06, 0.15])
def test_known_diverging_fractions_recovered_within_one_percent(f_true):
    rng = np.random.default_rng(int(f_true * 1000))
    cal, _ = _calibration(rng)
    frame = expected_frame(cal, 0.31)
    reps = {}
    for k in range(5):
        r = _sample(2000, f_true, 0.31, (frame["dol_low"], frame["dol_high"]), rng)
        reps[f"rep{k + 1}"] = dol_from_ratio(r, cal)[0]
    df = diverging_fractions(reps, (frame["dol_low"], frame["dol_high"]))
    pooled = df.loc["pooled"]
    # the requirement: ±1 % absolute on 5 x 2000 particles (binomial se there is 0.2-0.4 %)
    assert_allclose(pooled["diverging_fraction"], f_true, atol=0.01)
    # Li-rich is 4/5 of the diverging particles; same tolerance
    assert_allclose(pooled["li_rich_fraction"], 0.8 * f_true, atol=0.01)
    # the raw share outside the frame also holds the main population's ±2σ tails (4.55 %)
    assert pooled["fraction_outside"] > pooled["diverging_fraction"]
    assert np.isfinite(pooled["replicate_se"]) and pooled["se"] >= pooled["binomial_se"]
    assert list(df.index) == ["rep1", "rep2", "rep3", "rep4", "rep5", "pooled"]


def test_calibration_parameters_within_stated_uncertainty_in_90_percent_of_trials():
    hits_a = hits_b = 0
    for seed in range(50):
        cal, _ = _calibration(np.random.default_rng(1000 + seed), n=1000)
        lo, hi = cal.ci95("slope")
        hits_b += lo <= B <= hi
        lo, hi = cal.ci95("intercept")
        hits_a += lo <= A <= hi
    assert hits_b >= 45 and hits_a >= 45, (hits_a, hits_b)


def test_calibration_line_and_dol_uncertainty():
    cal, fits = _calibration(np.random.default_rng(3))
    # 5 x 2000 particles of width 0.03: the slope is known to ~1e-3; 5e-3 is five standard errors
    assert_allclose(cal.slope, B, atol=5e-3)
    assert_allclose(cal.intercept, A, atol=5e-3)
    assert_allclose([f.sigma for f in fits], SIGMA, rtol=0.05)  # σ of 2000 draws: ±1.6 % (1σ)
    d, u = dol_from_ratio([A + B * 0.5], cal)
    assert_allclose(d, 0.5, atol=0.01)
    # the line's uncertainty at DOL 0.5, propagated by hand from the covariance
    c = cal.covariance
    u_hand = np.sqrt(c[0, 0] + 0.25 * c[1, 1] + 2 * 0.5 * c[0, 1]) / cal.slope
    assert_allclose(u, u_hand, rtol=1e-3)  # d differs from 0.5 by ~1e-3 only
    refs = cal.references
    assert_allclose(refs["frame_high"] - refs["frame_low"], 4 * refs["sigma_ratio"], rtol=1e-12)
    fr = expected_frame(cal, 0.19)
    assert fr["source"] == "ref0.19"


def test_robust_fit_not_dragged_by_diverging_particles():
    rng = np.random.default_rng(5)
    main = rng.normal(0.3, 0.02, 9000)
    div = rng.uniform(0.5, 0.9, 1000)  # 10 % far above
    fit = fit_main_population(np.concatenate([main, div]))
    # 9000 draws: se of the mean 2e-4, of σ ~1.5e-4; 4 se allowed
    assert_allclose(fit.mean, 0.3, atol=1e-3)
    assert_allclose(fit.sigma, 0.02, rtol=0.04)
    assert fit.p_value > 1e-3  # the main population is Gaussian: the goodness of fit does not reject it
    plain_mean = np.concatenate([main, div]).mean()
    assert plain_mean > 0.33  # what an unclipped fit would report


def test_mixture_second_opinion():
    rng = np.random.default_rng(8)
    x = np.concatenate([rng.normal(0.3, 0.02, 9000), rng.uniform(0.1, 0.9, 1000)])
    m = mixture_fraction(x)
    # the flat component spans the whole range, so it is the model of the data here: w within 3 se of 0.1
    assert abs(m["weight"] - 0.1) < 3 * m["weight_se"] + 0.005
    assert_allclose(m["mean"], 0.3, atol=2e-3)


@pytest.mark.parametrize("stat,lam", [("gaussian", None), ("poisson", 0.5), ("poisson", 3.0)])
def test_false_positive_rate_of_each_threshold_matches_alpha(stat, lam):
    rng = np.random.default_rng(11)
    n, alpha = 400_000, 1e-3
    x = rng.normal(100.0, 5.0, n) if stat == "gaussian" else rng.poisson(lam, n).astype(float)
    th = detection_threshold(x, alpha=alpha)
    assert th.statistic == stat  # chosen automatically
    rate = np.mean(x > th.value)
    # the requirement: within a factor of 2 of α (400 expected: counting noise 5 %)
    assert 0.5 * alpha <= rate <= 2 * alpha, rate
    # and of the tail the threshold reports: counting noise of ~400 events, 4 se
    assert_allclose(rate, th.alpha_actual, rtol=0.2)


def test_events_split_and_li_integrated_over_mn_windows():
    rng = np.random.default_rng(2)
    n = 2000
    mn = rng.poisson(2.0, n).astype(float)
    li = rng.poisson(1.0, n).astype(float)
    mn[100:103] += [50, 200, 60]          # one particle
    li[100:103] += [10, 40, 12]
    mn[500:507] += [40, 150, 30, 5, 30, 160, 30]  # two particles in one burst, dip between
    li[500:507] += [4, 15, 3, 0, 3, 16, 3]
    ev = detect_events(mn, alpha=1e-6)
    assert len(ev) == 3
    assert ev.iloc[1]["stop"] <= ev.iloc[2]["start"]  # split at the dip
    li_int = integrate_events(li, ev)
    # the added Li counts (62) plus background noise over 3 readings (±~2)
    assert_allclose(li_int[0], 62, atol=6)
    th = detection_threshold(mn, alpha=1e-6)
    d_min = size_detection_limit(th, ev["intensity"], median_diameter_um=8.0)
    assert 0.5 < d_min < 8.0


def test_inactive_li_and_capacity_from_dol():
    out = inactive_li_capacity([150.0, 152.0, 148.0], [140.0, 141.0], recovered_se_mAh_g=None)
    # closed forms of the given numbers: round-off only
    assert_allclose(out["inactive_mAh_g"], 150.0 - 140.5, rtol=1e-12)
    assert_allclose(out["inactive_se_mAh_g"], np.hypot(2.0, np.std([140.0, 141.0], ddof=1)), rtol=1e-12)
    assert_allclose(li_capacity_from_dol(0.5), 139.0, rtol=1e-12)


def test_bad_inputs_are_named():
    with pytest.raises(ParameterError, match="Mn intensity of event 1 is 0"):
        intensity_ratios([1.0, 2.0], [1.0, 0.0], source="a.csv")
    with pytest.raises(ParameterError, match="Mn intensity of event 0 is -3"):
        intensity_ratios([1.0], [-3.0])
    with pytest.raises(ParameterError, match="at least two references"):
        calibrate([0.5], [0.4], [0.01])
    with pytest.raises(ParameterError, match="not monotonic in DOL: r2"):
        calibrate([1.0, 0.6, 0.2], [0.8, 0.9, 0.2], [0.01] * 3, sources=["r1", "r2", "r3"])
    with pytest.raises(ParameterError, match="alpha"):
        detection_threshold(np.ones(100), alpha=0.7)
