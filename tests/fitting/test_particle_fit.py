"""Fitting α and k0 of one particle to its movie and voltage.

Design of the recovery checks: a synthetic record is made with known α and k0
(:func:`socscope.fitting.synthetic.synthetic_particle_record`: simulation,
rendering through the optical model with PSF blur, a reference spot, random
stage drift and shot noise, and a voltage with 1 mV noise), then goes through
the real pipeline: drift correction by the reference spot, the crop, the noise
model, the recorded current replayed as a protocol, and the fit with profile
intervals. To keep twenty trials cheap the particle is simulated as a sphere
of the mask's equivalent radius drawn as its equatorial section (the
``shape="sphere"`` surrogate, ~5 ms a run instead of ~0.5 s for a 2D mask),
in 8 frames of a 2 µm particle at 125 nm pixels, the voltage every 10 s. The particle's outline is
taken as known (its true labels): a segmentation one pixel too wide changes
the current density, and with it the voltage, by a few per cent.
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import socscope as ss
from socscope.errors import ParameterError
from socscope.fitting import NOT_IDENTIFIABLE
from socscope.fitting._model import (
    current_protocol,
    material_variant,
    reference_rate_constant,
)
from socscope.fitting.particle import (
    FREE_PARTICLE_PARAMETERS,
    fit_particle_movie,
    particle_parameters,
    prepare_particle_data,
)
from socscope.fitting.synthetic import synthetic_particle_record

PIXEL_NM = 125.0
YY, XX = np.mgrid[:16, :16]
DISC = (YY - 7.5) ** 2 + (XX - 7.5) ** 2 < 7.6 ** 2
RADIUS = math.sqrt(DISC.sum() / math.pi) * PIXEL_NM * 1e-9
ALPHA, K_FACTOR = 4.0, 0.3


@pytest.fixture(scope="module")
def mat():
    return ss.materials.get("ni88-xu2022")


def _record(mat, seed, **kw):
    k0 = K_FACTOR * reference_rate_constant(mat)
    opts = {"pixel_size_nm": PIXEL_NM, "alpha": ALPHA, "k0": k0, "specific_current_mA_g": 140.0,
            "duration_s": 1800.0, "n_frames": 8, "shape": "sphere", "pad_px": 20, "rng": seed,
            "cycler_interval_s": 10.0}
    opts.update(kw)
    return synthetic_particle_record(mat, DISC, **opts), k0


def _fit(mat, rec, n_starts=2, **kw):
    data = prepare_particle_data(rec.frames, rec.time_s, pixel_size_nm=PIXEL_NM, cycler=rec.cycler,
                                 mass_g=rec.mass_g, labels=rec.labels,
                                 reference_spot=rec.reference_spot)
    return fit_particle_movie(data, mat, free=("alpha", "k0"), shape="sphere", radius_m=RADIUS, rng=0,
                              n_starts=n_starts, **kw)


@pytest.mark.slow
def test_alpha_and_k0_recovered_and_intervals_cover_truth(mat):
    covered = {"alpha": 0, "k0": 0}
    for seed in range(20):
        rec, k0 = _record(mat, seed)
        res = _fit(mat, rec, n_starts=1)  # one start, the material's α and k0 (not the truth)
        assert res.identifiable, res.message
        truth = {"alpha": ALPHA, "k0": k0}
        for name in covered:
            # the requirement: every trial within 10 % (the standard errors are ~1 % for α, ~5 % for k0)
            assert_allclose(res.values[name], truth[name], rtol=0.10, err_msg=f"seed {seed}")
            lo, hi = res.intervals[name]
            covered[name] += lo <= truth[name] <= hi
    # 95 % intervals: at least 18 of 20 (binomial(20, 0.95) gives >= 18 in 92 % of series; the
    # drift correction's small error widens them through s² rather than narrowing them)
    assert covered["alpha"] >= 18 and covered["k0"] >= 18, covered


def test_one_record_gives_alpha_and_k0_back(mat):
    rec, k0 = _record(mat, 101)
    res = _fit(mat, rec)
    assert res.identifiable, res.message
    # within 10 %, the bound (standard errors ~1 % for α, ~5 % for k0)
    assert_allclose([res.values["alpha"], res.values["k0"]], [ALPHA, k0], rtol=0.10)
    fitted = res.fitted
    assert {"contrast_measured", "contrast_fitted", "residual", "centre_measured", "profile_fitted"} <= set(fitted)
    # the fitted mean contrast follows the measured one to within the noise of a mean of ~200 px
    assert_allclose(fitted.mean_fitted[1:], fitted.mean_measured[1:], atol=5e-3)
    assert res.settings["shape"] == "sphere" and res.settings["protocol"]


def test_flat_featureless_movie_is_not_identifiable(mat):
    rec, _ = _record(mat, 7)
    g = np.random.default_rng(7)
    flat = np.repeat(rec.frames[:1], rec.frames.shape[0], axis=0)
    flat = flat + g.normal(0.0, 0.005, flat.shape)
    rec.frames = flat
    res = _fit(mat, rec)
    assert not res.identifiable
    assert NOT_IDENTIFIABLE in res.message and "featureless" in res.message
    assert all(math.isnan(res.values[n]) for n in ("alpha", "k0"))


@pytest.mark.slow
def test_real_outline_recovers_alpha(mat):
    """The particle's own outline (one cell per pixel), α and the calibration free, images only."""
    m = ((YY - 7.5) / 6.5) ** 2 + ((XX - 7.5) / 4.5) ** 2 < 1.0
    rec = synthetic_particle_record(mat, m[2:14, 2:14], pixel_size_nm=PIXEL_NM, alpha=ALPHA, specific_current_mA_g=140.0,
                                    duration_s=1800.0, n_frames=6, pad_px=20, contrast_full=0.5, rng=3)
    data = prepare_particle_data(rec.frames, rec.time_s, pixel_size_nm=PIXEL_NM, cycler=rec.cycler,
                                 mass_g=rec.mass_g, labels=rec.labels,
                                 reference_spot=rec.reference_spot)
    res = fit_particle_movie(data, mat, free=("alpha", "contrast_full"), use_voltage=False, n_starts=1,
                             intervals=False, start={"alpha": 2.0}, max_nfev=15)
    # within 10 %, as the issue asks of α; the calibration is a plain scale and comes out to 5 %
    assert_allclose(res.values["alpha"], ALPHA, rtol=0.10)
    assert_allclose(res.values["contrast_full"], 0.5, rtol=0.05)


def test_material_variant_scales_d_and_i0(mat):
    v = material_variant(mat, alpha=5.4, k0=2 * reference_rate_constant(mat))
    th = np.linspace(0.05, 0.95, 7)
    # exact rescalings: only round-off
    assert_allclose(v.D(th), mat.D(th) * 5.4 / mat.parameters["alpha"], rtol=1e-12)
    assert_allclose(v.i0(th), 2 * mat.i0(th), rtol=1e-12)
    s = material_variant(mat, d_shape=1.25)
    assert_allclose(s.D(th), mat.D(1.0) * (mat.D(th) / mat.D(1.0)) ** 1.25, rtol=1e-12)  # exact as well
    # ni88's measured D(θ) spans about four decades: squaring its shape would ask for D ~ 1e-4 m²/s at
    # low θ, which the material's own checks refuse, naming D
    with pytest.raises(ss.errors.MaterialError, match=r"D\(θ"):
        material_variant(mat, d_shape=2.0)


def test_current_protocol_compresses_runs():
    t = np.arange(0.0, 100.0, 10.0)
    i = np.array([1e-3] * 4 + [0.0] * 3 + [-2e-3] * 3)
    p = current_protocol(t, i, mass_g=1e-3)
    assert p == ["Charge at 1000 mA/g for 40 seconds", "Rest for 30 seconds", "Discharge at 2000 mA/g for 20 seconds"]
    with pytest.raises(ParameterError, match="mass_g"):
        current_protocol(t, i, mass_g=0.0)


def test_bad_free_parameter_is_named(mat):
    with pytest.raises(ParameterError, match="cannot fit"):
        particle_parameters(mat, free=("beta",))
    with pytest.raises(ParameterError, match=r"^give at least one free parameter from \('alpha', 'd_shape'"):
        particle_parameters(mat, free=())


def test_particle_parameters_starts_bounds_and_held_ones(mat):
    ps = particle_parameters(mat, free=("alpha",), start={"k0": 1e-9}, bounds={"d_shape": (0.5, 2)})
    ps = {p.name: p for p in ps}
    assert tuple(ps) == FREE_PARTICLE_PARAMETERS
    # alpha starts at the material's 2.7 with bounds start/20..start*20 (exact products of 2.7)
    assert ps["alpha"].free and ps["alpha"].value == 2.7 and ps["alpha"].bounds == (2.7 / 20, 2.7 * 20)
    assert not ps["k0"].free and ps["k0"].value == 1e-9 and ps["k0"].unit == "m/s"
    assert ps["d_shape"].bounds == (0.5, 2.0) and ps["contrast_full"].value == 0.62


def test_segmented_outline_is_redrawn_at_the_half_level(mat):
    """Without labels the particle's outline comes from its own blurred edge, not the field-wide threshold."""
    rec, _ = _record(mat, 11)
    data = prepare_particle_data(rec.frames, rec.time_s, pixel_size_nm=PIXEL_NM, cycler=rec.cycler,
                                 mass_g=rec.mass_g, reference_spot=rec.reference_spot)
    # one pixel ring of this 16 px disc is ~25 % of its area; the redrawn outline is within 8 % (measured: 2 %)
    assert_allclose(data.mask.sum(), DISC.sum(), rtol=0.08)
    assert data.protocol == ["Charge at 140 mA/g for 1800 seconds"]
    with pytest.raises(ParameterError, match="particle = 5"):
        prepare_particle_data(rec.frames, rec.time_s, pixel_size_nm=PIXEL_NM, cycler=rec.cycler,
                              mass_g=rec.mass_g, reference_spot=rec.reference_spot, particle=5)
    with pytest.raises(ParameterError, match="mass_g"):
        prepare_particle_data(rec.frames, rec.time_s, pixel_size_nm=PIXEL_NM, cycler=rec.cycler,
                              reference_spot=rec.reference_spot)
