"""The fuzz suite's helpers are imported by name (tests/fuzz on sys.path); the counts per reader
are printed at the end of the run (and written as JSON to $SOCSCOPE_FUZZ_REPORT if set)."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from harness import STATS


def pytest_terminal_summary(terminalreporter):
    if not STATS:
        return
    terminalreporter.section("fuzz: damaged files per reader")
    w = max(10, *(len(name) for name in STATS))
    terminalreporter.write_line(f"{'reader':<{w}} {'cases':>6} {'clear errors':>13} {'accepted':>9} {'other':>6}")
    for name, c in STATS.items():
        terminalreporter.write_line(f"{name:<{w}} {c['cases']:>6} {c['error']:>13} {c['accepted']:>9} {c['other']:>6}")
    report = os.environ.get("SOCSCOPE_FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps({k: dict(v) for k, v in STATS.items()}, indent=1) + "\n")
