"""Damaged files for every reader: a clear error naming the file, or plausible data (see harness.py)."""

from __future__ import annotations

import faulthandler
import importlib
import os

import pytest
from harness import CASE_LIMIT_S, DAMAGES, STATS, outcome
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from targets import SUFFIXES, TARGETS

#: SOCSCOPE_FUZZ_EXAMPLES=N runs N cases per reader (``make fuzz``); SOCSCOPE_FUZZ_RANDOM=1 draws
#: new cases each run (the default run is derandomised: the same cases every time)
EXAMPLES = os.environ.get("SOCSCOPE_FUZZ_EXAMPLES")
RANDOM = os.environ.get("SOCSCOPE_FUZZ_RANDOM", "") not in ("", "0")


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_damaged_files_are_refused_by_name_or_read_plausibly(target, tmp_path_factory, monkeypatch):
    pytest.importorskip("hypothesis")
    for name, value in target.settings.items():  # e.g. a shorter time limit for the results probe
        module, attr = name.rsplit(".", 1)
        monkeypatch.setattr(importlib.import_module(module), attr, value)
    seeds = target.seeds(tmp_path_factory.mktemp(f"seeds_{target.name}"))
    blobs = {p: p.read_bytes() for p in seeds}
    work = tmp_path_factory.mktemp(f"cases_{target.name}")
    n = int(EXAMPLES) if EXAMPLES else target.examples

    # no shrinking: a damaged file is already small enough to read, and shrinking a slow case takes minutes
    @settings(max_examples=n, deadline=None, database=None, derandomize=not RANDOM, print_blob=True,
              phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.data())
    def case(data):
        seed = data.draw(st.sampled_from(seeds), label="seed")
        damage = data.draw(DAMAGES, label="damage")
        blob = damage.apply(blobs[seed])
        suffix = "".join(seed.suffixes[-2:]) if seed.name.endswith(".ome.tif") else seed.suffix
        if data.draw(st.integers(0, 9), label="wrong extension?") == 0:
            suffix = data.draw(st.sampled_from(SUFFIXES + target.suffixes), label="extension")
        path = work / f"case{suffix}"
        path.write_bytes(blob)
        # a hang inside a C library cannot be interrupted: the run is stopped, with the stacks, instead
        faulthandler.dump_traceback_later(10 * CASE_LIMIT_S, exit=True)
        try:
            kind, detail = outcome(target, path)
        finally:
            faulthandler.cancel_dump_traceback_later()
        STATS[target.name]["cases"] += 1
        STATS[target.name][kind] += 1
        assert kind != "other", f"{target.name} on {seed.name} ({suffix}) with {damage}: {detail}"

    case()
