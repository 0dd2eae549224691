"""The benchmark problems pin every setting they define, so a changed default cannot change what they measure."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def problems():
    if not (BENCH / "problems.py").is_file():
        pytest.skip("benchmarks/problems.py is not in this checkout")
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("socscope_bench_problems", BENCH / "problems.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.path.remove(str(BENCH))


def test_p1_runs_pure_transport(problems):
    model, ds = problems.run_p1(problems.p1_material(), 10)
    # the material allows Butler-Volmer ("auto" would pick it); P1 is transport with an imposed flux
    assert model.kinetics == "none" and ds.attrs["kinetics"] == "none"
    assert ds.attrs["flux_law"] == "chemical"


def test_p2_uniform_runs_pure_transport(problems):
    model, ds = problems.run_p2(problems.p2_material(), 6, "uniform")
    assert model.kinetics == "none" and ds.attrs["kinetics"] == "none"
    assert ds.attrs["flux_law"] == "chemical"
