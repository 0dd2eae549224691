"""Kernels compiled while the package is built are loaded after ``pip`` copied them; any failure falls back to JIT."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import socscope as ss
from socscope.numerics import _kernel_cache, _sparse_kernel, _tridiag_kernel
from socscope.numerics._kernel_cache import CACHE_FOLDER, HAVE_NUMBA, cached_njit

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed: there is nothing to compile or cache")

SRC = Path(_kernel_cache.__file__).parents[2]

KERNEL = '''
from socscope.numerics._kernel_cache import cached_njit


@cached_njit
def scaled_sum(a, s):
    acc = 0.0
    for i in range(a.size):
        acc += s * a[i]
    return acc
'''

CALL = '''
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import tinykernel
value = tinykernel.scaled_sum(np.arange(5.0), 0.1)
st = tinykernel.scaled_sum.stats
print(json.dumps({"value": value.hex(), "hits": sum(st.cache_hits.values()), "misses": sum(st.cache_misses.values()),
                  "path": st.cache_path}))
'''


def _call(folder: Path, numba_dir: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_dir),
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", CALL, str(folder)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_shipped_cache_is_found_by_content_not_by_date(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    source = pkg / "tinykernel.py"
    source.write_text(KERNEL)
    (pkg / CACHE_FOLDER).mkdir()  # what the build makes
    numba_dir = tmp_path / "numba-cache"  # a user's NUMBA_CACHE_DIR: the shipped folder comes first
    first = _call(pkg, numba_dir)
    assert (first["hits"], first["misses"]) == (0, 1)
    assert Path(first["path"]) == pkg / CACHE_FOLDER
    assert any(p.suffix == ".nbi" for p in (pkg / CACHE_FOLDER).iterdir())
    # pip sets new dates on the files it installs: the entry is still used ...
    os.utime(source, (1_000_000_000, 1_000_000_000))
    again = _call(pkg, numba_dir)
    assert (again["hits"], again["misses"]) == (1, 0)
    # ... and gives the same bits as the compiled one
    assert again["value"] == first["value"]
    # a changed source is compiled afresh
    source.write_text(KERNEL.replace("acc += s * a[i]", "acc += a[i] * s"))
    changed = _call(pkg, numba_dir)
    assert (changed["hits"], changed["misses"]) == (0, 1)


def test_without_the_shipped_folder_numba_caches_as_usual(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "tinykernel.py").write_text(KERNEL)
    numba_dir = tmp_path / "numba-cache"
    first = _call(pkg, numba_dir)
    assert Path(first["path"]).parent == numba_dir  # numba's NUMBA_CACHE_DIR locator
    assert not (pkg / CACHE_FOLDER).exists()  # never created at run time
    assert _call(pkg, numba_dir)["hits"] == 1


def _double(a):
    return 2.0 * a


def test_numba_internals_missing_fall_back_to_plain_njit(monkeypatch):
    from numba.core import caching

    # a numba without the private locator class: no shipped cache, no error
    monkeypatch.delattr(caching, "_CacheLocator")
    assert _kernel_cache._shipped_cache_class() is None
    monkeypatch.setattr(_kernel_cache, "_SHIPPED", None)
    plain = cached_njit(_double)
    assert type(plain._cache) is caching.FunctionCache
    assert plain(1.5) == 3.0

    # a cache class that fails when attached: numba's own cache stays
    class Broken:
        def __init__(self, py_func):
            raise RuntimeError("changed internals")

    monkeypatch.setattr(_kernel_cache, "_SHIPPED", Broken)
    kept = cached_njit(_double)
    assert type(kept._cache) is caching.FunctionCache
    assert kept(2.0) == 4.0


def test_build_warm_up_compiles_the_signature_of_a_real_run():
    import numba

    ss.simulate_particle(ss.materials.get("ni88-xu2022"), ss.geometry.Sphere(2e-6), ["Charge at 1C for 60 seconds"],
                         n_cells=8)
    warm = tuple(numba.typeof(a) for a in _tridiag_kernel.warm_up_arguments())
    # the build compiles exactly what a particle run calls, so the first run loads it
    assert warm in _tridiag_kernel.tridiagonal_segment.signatures


def test_build_warm_up_compiles_the_signatures_of_a_2d_run():
    import numba

    ss.simulate_particle(ss.materials.get("ni88-xu2022"), ss.geometry.Disc(2e-6), ["Charge at 1C for 60 seconds"],
                         resolution=0.4e-6)
    # plain IC(0) runs only where modified IC(0) meets a non-positive pivot: not in this run
    for name in ("mic0_factor", "ic0_pcg"):
        warm = tuple(numba.typeof(a) for a in _sparse_kernel.warm_up_arguments()[name])
        assert warm in getattr(_sparse_kernel, name).signatures, name
