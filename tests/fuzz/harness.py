"""One parametrised fuzz harness for every reader: damaged copies of seed files must give
either a :class:`~socscope.errors.SocscopeError` naming the file, or data that passes the
reader's physical range check, within a time and memory bound.

A target is a :class:`Target`: a name, the reader (``path -> result``), a function that makes
the seed files in a folder (real files from ``../shared/data`` and small generated ones), and
the physical check (``result -> problem or None``). :data:`STATS` counts the outcomes per
reader; ``tests/fuzz/conftest.py`` prints them at the end of the run.
"""

from __future__ import annotations

import dataclasses
import math
import re
import resource
import struct
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from socscope.errors import SocscopeError

#: outcomes per reader: cases, clear errors, accepted (and plausible), other (each "other" fails the test)
STATS: dict[str, Counter] = defaultdict(Counter)
#: seconds one damaged file may take to be read or refused
CASE_LIMIT_S = 20.0
#: growth of the process's peak resident memory one case may cause [bytes]
MEMORY_LIMIT_B = 2 << 30

#: values written over a number: beyond int64, beyond any physical range, not numbers
HUGE_TEXT = (b"99999999999999999999", b"1e308", b"-1e308", b"-2e249", b"nan", b"NaN", b"inf", b"-inf", b"1e-320")
HUGE_BINARY = (1e308, -2e249, math.nan, math.inf, -math.inf, 1e-320)
_NUMBER = re.compile(rb"-?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?")


@dataclasses.dataclass(frozen=True)
class Target:
    """A reader under test.

    Attributes
    ----------
    name : str
        Shown in the test id and the counts.
    read : callable
        ``path -> result``; whatever the reader returns for a good file.
    seeds : callable
        ``folder -> list of Path``: writes the generated seed files into ``folder`` and
        returns them with any real files (absent real files are left out).
    check : callable
        ``result -> str or None``: what is physically impossible in an accepted result.
    examples : int
        Cases in the default (CI) run; the ``SOCSCOPE_FUZZ_EXAMPLES`` variable overrides it.
    close : callable, optional
        Releases a result (e.g. a movie's file handle).
    settings : dict, optional
        ``"module.ATTRIBUTE": value`` set for the run (e.g. a shorter time limit).
    suffixes : tuple of str, optional
        The reader's own suffixes, added to the common ones for the wrong-extension damage.
    """

    name: str
    read: Callable[[Path], Any]
    seeds: Callable[[Path], list[Path]]
    check: Callable[[Any], str | None]
    examples: int = 150
    close: Callable[[Any], None] | None = None
    settings: dict = dataclasses.field(default_factory=dict)
    suffixes: tuple = ()


@dataclasses.dataclass(frozen=True)
class Damage:
    """One way to damage a file (its repr is short: hypothesis prints it for a failing case)."""

    kind: str
    params: tuple = ()

    def apply(self, blob: bytes) -> bytes:
        n = len(blob)
        if self.kind == "intact" or n == 0:
            return blob
        if self.kind == "truncate":
            return blob[: self.params[0] % n]
        out = bytearray(blob)
        if self.kind == "flip":
            for pos, mask in self.params:
                out[pos % n] ^= mask
        elif self.kind == "zero":
            start, size = self.params[0] % n, self.params[1]
            out[start:start + size] = bytes(min(size, n - start))
        elif self.kind == "number":
            pick, value, packed = self.params
            numbers = [m.span() for m in _NUMBER.finditer(blob[:1 << 20])]
            if numbers and b"\x00" not in blob[:4096]:  # text: a number token replaced
                a, b = numbers[pick % len(numbers)]
                return blob[:a] + HUGE_TEXT[value % len(HUGE_TEXT)] + blob[b:]
            at = pick % max(1, n - 7)  # binary: eight bytes overwritten
            raw = struct.pack("<d", HUGE_BINARY[value % len(HUGE_BINARY)]) if packed else b"\xff" * 8
            out[at:at + 8] = raw[: n - at]
        return bytes(out)


_POS = st.integers(0, 1 << 24)  # taken modulo the file's length

#: the damages: cut, flipped bytes, a zeroed block, a huge or non-number value, or none
DAMAGES = st.one_of(
    st.builds(Damage, st.just("truncate"), st.tuples(_POS)),
    st.builds(Damage, st.just("flip"), st.lists(st.tuples(_POS, st.integers(1, 255)), min_size=1, max_size=8)
              .map(tuple)),
    st.builds(Damage, st.just("zero"), st.tuples(_POS, st.sampled_from([16, 64, 512, 4096]))),
    st.builds(Damage, st.just("number"), st.tuples(_POS, st.integers(0, 99), st.booleans())),
    st.just(Damage("intact")),
)


def outcome(target: Target, path: Path) -> tuple[str, str]:
    """Read ``path`` with the target's reader: ("error" | "accepted" | "other", detail)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    result = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = target.read(path)
            problem = target.check(result)
        kind, detail = ("accepted", "") if problem is None else ("other", f"accepted implausible data: {problem}")
    except SocscopeError as exc:
        first = str(exc).strip().split("\n")[0]  # the line the command line prints
        if path.name not in first:
            kind, detail = "other", f"error without the file's name in its first line: {str(exc)[:300]}"
        else:
            kind, detail = "error", first
    except Exception as exc:  # noqa: BLE001 - the point of the harness: any other exception is a finding
        kind, detail = "other", f"{type(exc).__name__}: {str(exc)[:300]}"
    finally:
        if result is not None and target.close is not None:
            target.close(result)
    wall = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    if wall > CASE_LIMIT_S:
        kind, detail = "other", f"took {wall:.1f} s (limit {CASE_LIMIT_S:g} s); {detail}"
    elif grown > MEMORY_LIMIT_B:
        kind, detail = "other", f"peak memory grew by {grown / 2**30:.1f} GiB; {detail}"
    return kind, detail
