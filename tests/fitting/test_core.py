"""The fitting framework: recovery, intervals, the not-identifiable verdict, parameter checks."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.errors import ParameterError
from socscope.fitting import NOT_IDENTIFIABLE, Parameter, least_squares_fit, noise_sigma
from socscope.fitting._core import parameter_set

X = np.linspace(0.0, 1.0, 60)


def _decay(a, k):
    return a * np.exp(-k * X)


def test_recovers_parameters_and_profile_interval_covers_truth():
    rng = np.random.default_rng(3)
    y = _decay(2.0, 3.0) + rng.normal(0.0, 0.01, X.size)
    res = least_squares_fit(lambda v: (y - _decay(v["a"], v["k"])) / 0.01,
                            [Parameter("a", 1.0, (0.1, 10)), Parameter("k", 1.0, (0.1, 10))], rng=0)
    assert res.identifiable, res.message
    # noise 0.01 on 60 points gives a standard error of ~0.3 % on k: 2 % is > 6 standard errors
    assert_allclose(res.values["k"], 3.0, rtol=0.02)
    lo, hi = res.intervals["k"]
    assert lo < 3.0 < hi
    # a profile interval of a well-determined parameter is close to the Wald one (±1.96 se);
    # 30 % allows the small asymmetry of the log scale
    se = math.sqrt(res.covariance[1, 1]) * res.values["k"]
    assert_allclose(hi - lo, 2 * 1.96 * se, rtol=0.3)
    assert res.correlation.shape == (2, 2)
    assert res.table().shape[0] == 2


def test_interval_coverage_of_a_linear_model():
    """95 % profile intervals of a straight-line slope cover the truth in about 95 % of 100 draws."""
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(100):
        y = 1.0 + 0.5 * X + rng.normal(0.0, 0.1, X.size)
        res = least_squares_fit(lambda v, y=y: (y - v["b"] - v["m"] * X) / 0.1,
                                [Parameter("b", 0.0, (-5, 5)), Parameter("m", 0.0, (-5, 5))],
                                n_starts=1, scale_by_fit=False)
        lo, hi = res.intervals["m"]
        hits += lo <= 0.5 <= hi
    # binomial(100, 0.95): 88..100 holds 99.9 % of the draws
    assert hits >= 88


def test_products_of_parameters_are_not_identifiable():
    y = _decay(2.0, 3.0)
    res = least_squares_fit(lambda v: (y - v["a"] * v["b"] * np.exp(-3.0 * X)) / 0.01,
                            [Parameter("a", 1.0, (0.1, 10)), Parameter("b", 1.0, (0.1, 10))], rng=0)
    assert not res.identifiable
    assert NOT_IDENTIFIABLE in res.message
    assert set(res.diagnostics["not_identifiable"]) == {"a", "b"}
    assert all(math.isnan(v) for v in res.values.values())


def test_parameter_the_data_ignore_is_not_identifiable():
    y = _decay(2.0, 3.0)
    res = least_squares_fit(lambda v: (y - _decay(2.0, 3.0) - 1e-9 * v["c"]) / 0.01,
                            [Parameter("c", 1.0, (0.1, 10))])
    assert not res.identifiable and res.diagnostics["not_identifiable"] == ["c"]


def test_prior_pulls_an_undetermined_parameter():
    y = _decay(2.0, 3.0)
    res = least_squares_fit(lambda v: (y - v["a"] * v["b"] * np.exp(-3.0 * X)) / 0.01,
                            [Parameter("a", 1.0, (0.1, 10), prior=(4.0, 0.01)), Parameter("b", 1.0, (0.1, 10))],
                            rng=0)
    assert res.identifiable, res.message
    # the prior fixes a at 4 (sd 0.01) and the data then give b = 2/4
    assert_allclose([res.values["a"], res.values["b"]], [4.0, 0.5], rtol=0.01)


def test_held_parameter_keeps_its_value():
    y = _decay(2.0, 3.0)
    res = least_squares_fit(lambda v: (y - _decay(v["a"], v["k"])) / 0.01,
                            [Parameter("a", 2.0, (0.1, 10), free=False), Parameter("k", 1.0, (0.1, 10))])
    assert res.values["a"] == 2.0
    assert_allclose(res.values["k"], 3.0, rtol=1e-4)  # noise-free: only the optimiser's tolerance


@pytest.mark.parametrize("kwargs, text", [
    ({"name": "a", "value": 20.0, "bounds": (0.1, 10)}, "within its bounds"),
    ({"name": "a", "value": 1.0, "bounds": (10, 0.1)}, "lower < upper"),
    ({"name": "a b", "value": 1.0, "bounds": (0.1, 10)}, "identifier"),
    ({"name": "a", "value": 1.0, "bounds": (0.1, 10), "prior": (1.0, 0.0)}, "positive"),
    ({"name": "a", "value": 0.0, "bounds": (-1, 1), "log": True}, "positive bounds"),
])
def test_bad_parameters_are_named(kwargs, text):
    with pytest.raises(ParameterError, match=text):
        Parameter(**kwargs)


def test_bad_fit_arguments():
    p = [Parameter("a", 1.0, (0.1, 10))]
    with pytest.raises(ParameterError, match="non-empty list"):
        least_squares_fit(lambda v: np.zeros(3), [])
    with pytest.raises(ParameterError, match="no free parameter"):
        least_squares_fit(lambda v: np.zeros(3), [Parameter("a", 1.0, (0.1, 10), free=False)])
    with pytest.raises(ParameterError, match="repeat"):
        least_squares_fit(lambda v: np.zeros(3), p + p)
    with pytest.raises(ParameterError, match="n_starts"):
        least_squares_fit(lambda v: np.zeros(3), p, n_starts=0)


def test_noise_sigma_of_white_noise_on_a_trend():
    rng = np.random.default_rng(0)
    y = np.linspace(0, 5, 4000) ** 2 * 0.01 + rng.normal(0, 0.2, 4000)
    # MAD of 4000 samples: relative standard error ~2 %; 6 % is three of them
    assert_allclose(noise_sigma(y), 0.2, rtol=0.06)


def test_starts_run_as_tasks_give_the_same_fit():
    """``map_starts`` (``socscope fit ... --scheduler``): each start is sent, with the residual function,
    through cloudpickle as Dask sends it, and the fit equals the one made in this process bit for bit."""
    cloudpickle = pytest.importorskip("cloudpickle")
    from socscope.sweep import map_points

    rng = np.random.default_rng(5)
    y = _decay(2.0, 3.0) + rng.normal(0.0, 0.01, X.size)
    shipped_starts = []

    def shipped(func, points):
        shipped_starts.extend(points)
        func = cloudpickle.loads(cloudpickle.dumps(func))
        return [cloudpickle.loads(cloudpickle.dumps(r))
                for r in map_points(func, [cloudpickle.loads(cloudpickle.dumps(p)) for p in points],
                                    scheduler="serial")]

    def fit(**kw):
        return least_squares_fit(lambda v: (y - _decay(v["a"], v["k"])) / 0.01,
                                 [Parameter("a", 1.0, (0.1, 10)), Parameter("k", 1.0, (0.1, 10))], rng=0,
                                 n_starts=3, **kw)

    here, tasks = fit(), fit(map_starts=shipped)
    assert len(shipped_starts) == 3
    assert here.values == tasks.values and here.intervals == tasks.intervals
    assert here.diagnostics["starts"] == tasks.diagnostics["starts"]


def test_parameter_set_holds_what_is_not_free_and_takes_starts_and_bounds():
    defaults = {"a": (1.0, (0.1, 10.0), "1"), "k": (2.0, (1.0, 3.0), "m/s")}
    start, bounds = {"k": 2.5}, {"a": (0.5, 5.0)}
    ps = parameter_set(defaults, ["k"], start=start, bounds=bounds, none_free="fit something")
    assert [(p.name, p.value, p.bounds, p.unit, p.free) for p in ps] == [
        ("a", 1.0, (0.5, 5.0), "1", False), ("k", 2.5, (1.0, 3.0), "m/s", True)]
    assert start == {"k": 2.5} and bounds == {"a": (0.5, 5.0)}  # the caller's dicts are not changed
    with pytest.raises(ParameterError, match=r"^cannot fit \['b'\]; free parameters must come from \('a', 'k'\)$"):
        parameter_set(defaults, ("a", "b"), none_free="fit something")
    with pytest.raises(ParameterError, match="^fit something$"):
        parameter_set(defaults, (), none_free="fit something")
    with pytest.raises(ParameterError, match="parameter k: value 4 must lie within its bounds"):
        parameter_set(defaults, ("k",), start={"k": 4.0}, none_free="fit something")
    # a misspelt name in start or bounds is refused, not left to keep the default silently
    with pytest.raises(ParameterError, match=r"^start names \['K'\], which are not parameters of this fit"):
        parameter_set(defaults, ("k",), start={"K": 2.5}, none_free="fit something")
    with pytest.raises(ParameterError, match=r"^bounds names \['alpha'\], .* use names from \('a', 'k'\)$"):
        parameter_set(defaults, ("k",), bounds={"alpha": (1.0, 2.0)}, none_free="fit something")
