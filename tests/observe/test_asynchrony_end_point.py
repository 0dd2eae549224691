"""The asynchrony verdict does not depend on where a half-cycle ends (issue: 2.6 vs 0.75 for one run)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit

from socscope.observe.asynchrony import (
    ASYNCHRONY_THRESHOLD,
    asynchrony_index,
    classify_half_cycles,
    switching,
    transition_table,
)

SOC = np.linspace(0.0, 1.0, 401)
CENTRES = np.linspace(0.1, 0.6, 8)
ENDS = (0.8, 1.0)  # two places to cut the same charge (as 160 and 193 mAh/g of one run)


def _step_like():
    # each particle switches within ~5 % SOC at its own SOC, then follows the electrode
    # with a slow shared tail (a fifth of its change spread over the whole half-cycle)
    return 0.8 * expit((SOC[:, None] - CENTRES) / 0.015) + 0.2 * SOC[:, None]


def _gradual():
    # every particle changes through the whole half-cycle, some faster early, some late (slopes
    # between 0.5 and 1.5 times the mean)
    a = np.linspace(-0.5, 0.5, 8)
    return SOC[:, None] + a * SOC[:, None] * (1.0 - SOC[:, None])


def _cut(end):
    return SOC <= end + 1e-12


@pytest.mark.parametrize("traces, verdict", [(_step_like, True), (_gradual, False)])
def test_switch_verdict_is_the_same_at_both_end_points(traces, verdict):
    y = traces()
    indices = []
    for end in ENDS:
        m = _cut(end)
        c, w, _ = switching(SOC[m], y[m], smooth_soc=0.0)
        indices.append(asynchrony_index(c, w))
    assert [i > ASYNCHRONY_THRESHOLD for i in indices] == [verdict, verdict]
    if verdict:
        # step-like switches lie inside both windows: the index itself is the same (to the
        # interpolation of the half-maximum points on the 0.0025 SOC grid, < 1 %)
        assert_allclose(indices[0], indices[1], rtol=0.01)
        assert indices[0] > 2 * ASYNCHRONY_THRESHOLD  # far from the threshold at either end
    else:
        assert max(indices) < 0.5 * ASYNCHRONY_THRESHOLD


@pytest.mark.parametrize("traces, verdict", [(_step_like, "asynchronous"), (_gradual, "synchronous")])
def test_fitted_tables_of_movies_give_the_same_verdict_at_both_end_points(traces, verdict):
    # the movie path (logistic fits, then the switch of the fitted curve)
    y = traces()
    got = []
    for end in ENDS:
        m = _cut(end)
        cls = classify_half_cycles(transition_table(SOC[m], y[m], noise=1e-4))
        got.append(cls.classification.iloc[0])
    assert got == [verdict, verdict]


def test_step_likeness_reads_the_switch_width():
    y = _step_like()
    _, w, k = switching(SOC, y, smooth_soc=0.0)
    # FWHM of a logistic's derivative 2 ln(3 + √8) w = 0.0529 at w = 0.015; the shared tail raises the
    # base under the peak (slope 0.2 against a peak of 0.8/(4 w) = 13.3), widening it by ~1 %
    assert_allclose(w, 2 * np.log(3 + np.sqrt(8)) * 0.015, rtol=0.03)
    assert_allclose(k, 1 / w, rtol=1e-12)
    _, _, k_g = switching(SOC, _gradual(), smooth_soc=0.0)
    assert np.all(k_g < 4) and np.all(k > 4)


def test_a_short_burst_before_a_shared_change_is_not_a_switch():
    # near particles of an electrode: a burst of 0.1 in θ at the start, then the long change all
    # particles share; far particles: the shared change only. They react together: synchronous
    shared = 0.6 * SOC[:, None]
    burst = 0.1 * expit((SOC[:, None] - np.array([0.01, 0.02, 0.03, 0.04])) / 0.004)
    y = np.hstack([burst + shared, np.repeat(shared, 4, axis=1)])
    for end in ENDS:
        m = _cut(end)
        c, w, _ = switching(SOC[m], y[m], smooth_soc=0.0)
        # every particle gets the whole half-cycle as its width (the burst holds < 25 % of its change)
        assert_allclose(w, SOC[m][-1] - SOC[m][0], rtol=1e-9)
        assert asynchrony_index(c, w) < 0.1 * ASYNCHRONY_THRESHOLD
