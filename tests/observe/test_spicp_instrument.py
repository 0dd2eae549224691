"""The synthetic SP-ICP-OES instrument."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.errors import ParameterError
from socscope.observe.spicp import spicp_events


def test_signals_scale_with_volume_and_dol_and_small_particles_are_missed():
    rng = np.random.default_rng(0)
    n = 20000
    d = np.where(np.arange(n) < n // 2, 4.0, 8.0)
    dol = np.where(np.arange(n) % 2 == 0, 1.0, 0.5)
    ev = spicp_events(dol, d, rng=rng, ratio_cv=0.05, min_diameter_um=2.0)
    big = ev.true_diameter_um == 8.0
    # Mn ∝ volume: 8 µm gives 8x the counts of 4 µm (Poisson noise of ~1000-13000 counts: 0.3 %)
    ratio_mn = ev.mn_intensity_counts[big].mean() / ev.mn_intensity_counts[~big].mean()
    assert_allclose(ratio_mn, 8.0, rtol=0.01)
    r = ev.li_intensity_counts / ev.mn_intensity_counts
    full, half = r[ev.true_dol == 1.0], r[ev.true_dol == 0.5]
    # ratio ∝ DOL: 40/50 x DOL (the default sensitivities); 10 000 particles, 5 % spread: 0.1 % se
    assert_allclose([full.mean(), half.mean()], [0.8, 0.4], rtol=0.005)
    # the plasma spread sets the relative width (plus Poisson counting on the Li line, ~2-4 %)
    assert 0.05 < full.std() / full.mean() < 0.07
    ev2 = spicp_events(np.ones(10), np.array([1.0] * 5 + [5.0] * 5), rng=rng, min_diameter_um=2.0)
    assert len(ev2) == 5 and (ev2.true_diameter_um == 5.0).all()


def test_instrument_refuses_bad_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError, match="diameter_um"):
        spicp_events([0.5], [-1.0], rng=rng)
    with pytest.raises(ParameterError, match="rng"):
        spicp_events([0.5], [5.0], rng=1)
    with pytest.raises(ParameterError, match="ratio_cv"):
        spicp_events([0.5], [5.0], rng=rng, ratio_cv=1.5)
