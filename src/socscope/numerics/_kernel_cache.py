"""Compiled kernels that can ship with their machine code.

``pip install`` builds socscope on the user's own machine; while the wheel is built,
``setup.py`` calls :func:`build_cache`, which compiles the kernels of particle runs into the
folder ``_numba_cache`` beside their sources. At run time :func:`cached_njit` looks there
first, so the first simulation after installing loads the kernels instead of compiling them.

numba's own cache would refuse such files once ``pip`` has copied them, where its index
compares the source's modification time (older numba). The locator here stamps a kernel with a
hash of its source text and the numpy version instead; numba itself still checks its own
version and the CPU (name and features) of each entry, so a cache built elsewhere is simply not
used. Everything here falls back to numba's ordinary ``cache=True`` behaviour (compile on first
use, cache in ``__pycache__`` or ``NUMBA_CACHE_DIR``) when the folder is missing or read-only,
or when numba's caching classes (not public API) change: :func:`cached_njit` never fails
where ``njit(cache=True)`` would work. ``SOCSCOPE_NO_KERNEL_CACHE=1`` in the environment turns the
shipped folder off (at build time: skips building it).
"""

from __future__ import annotations

import hashlib
import os
import sys

CACHE_FOLDER = "_numba_cache"

try:  # numba is a dependency; without it the interpreted integrator runs
    from numba import njit as _njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    _njit = None
    HAVE_NUMBA = False


def _shipped_cache_class():
    """numba's ``FunctionCache`` with a locator for the shipped folder first, or None.

    Built from numba's caching classes, which are not public API: any missing name gives
    None, and the kernels then use numba's ordinary cache.
    """
    try:
        import numpy
        from numba.core import caching

        base_locator = caching._CacheLocator
        function_cache = caching.FunctionCache
        impl = function_cache._impl_class
        defaults = list(impl._locator_classes)
    except Exception:  # noqa: BLE001 - any change in numba's internals means: no shipped cache
        return None

    class ShippedCacheLocator(base_locator):
        """The folder ``_numba_cache`` beside the kernel's source, stamped by content."""

        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(os.path.dirname(py_file), CACHE_FOLDER)

        def get_cache_path(self):
            return self._cache_path

        def get_source_stamp(self):
            with open(self._py_file, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            return ("socscope-content-v1", digest, numpy.__version__)

        def get_disambiguator(self):
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file):
            # only a folder that the build made (never created here) and that is writable:
            # numba writes new entries (another CPU) where it found the index
            if not os.path.isdir(os.path.join(os.path.dirname(py_file), CACHE_FOLDER)):
                return None
            self = cls(py_func, py_file)
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            return self

    class ShippedImpl(impl):
        _locator_classes = [ShippedCacheLocator, *defaults]  # noqa: RUF012 - numba's own class attribute

    class ShippedFunctionCache(function_cache):
        _impl_class = ShippedImpl

    return ShippedFunctionCache


#: set SOCSCOPE_NO_KERNEL_CACHE=1 to ignore the shipped folder (compile on first use, as numba does)
_SHIPPED = _shipped_cache_class() if HAVE_NUMBA and not os.environ.get("SOCSCOPE_NO_KERNEL_CACHE") else None


def cached_njit(func):
    """``numba.njit(cache=True)(func)``, looking first in the shipped ``_numba_cache`` folder.

    Without numba, ``func`` itself is returned (the interpreted fallback). If the shipped
    cache cannot be attached for any reason, the dispatcher keeps numba's ordinary cache.
    """
    if not HAVE_NUMBA:
        return func
    dispatcher = _njit(cache=True)(func)
    if _SHIPPED is not None:
        try:
            dispatcher._cache = _SHIPPED(dispatcher.py_func)
        except Exception:  # noqa: BLE001, S110 - keep numba's own cache, set by cache=True
            pass
    return dispatcher


def build_cache(folder: str) -> list[str]:
    """Compile the kernels of particle runs (radial and 2D) into ``folder/_numba_cache`` (called by ``setup.py``).

    ``folder`` is the directory holding ``_tridiag_kernel.py``. Returns the names of the
    cache files written.
    """
    target = os.path.join(folder, CACHE_FOLDER)
    os.makedirs(target, exist_ok=True)
    from . import _sparse_kernel, _tridiag_kernel

    _tridiag_kernel.warm_up()
    _sparse_kernel.warm_up()
    return sorted(os.listdir(target))


if __name__ == "__main__":  # pragma: no cover - used by setup.py
    print(build_cache(sys.argv[1]))
