"""Build hook: compile socscope's numba kernels into the package while it is built.

``pip install .`` builds the wheel on the user's machine; after the sources are copied into the
build folder, the kernels of a particle run are compiled there into
``socscope/numerics/_numba_cache`` (see ``socscope.numerics._kernel_cache``), so the first
simulation loads them instead of compiling. Anything that goes wrong here only prints a
note: the package then compiles its kernels on first use, as numba always does.
Set ``SOCSCOPE_NO_KERNEL_CACHE=1`` to skip the step.
"""

import os
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

# the kernel modules are imported without the package's own __init__ files (the build
# environment has numpy and numba, not scipy or xarray)
_WARM_UP = """
import sys, types
root, numerics = sys.argv[1], sys.argv[2]
for name, path in (("socscope", root), ("socscope.numerics", numerics)):
    module = types.ModuleType(name)
    module.__path__ = [path]
    sys.modules[name] = module
from socscope.numerics._kernel_cache import build_cache
print(" ".join(build_cache(numerics)))
"""


class BuildPyWithKernels(build_py):
    """``build_py``, then the kernel cache (never fails the build)."""

    def run(self):
        super().run()
        if os.environ.get("SOCSCOPE_NO_KERNEL_CACHE") or getattr(self, "editable_mode", False):
            return
        root = Path(self.build_lib) / "socscope"
        numerics = root / "numerics"
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
        try:
            done = subprocess.run([sys.executable, "-c", _WARM_UP, str(root), str(numerics)], check=False, env=env,
                                  capture_output=True, text=True, timeout=900)
            ok = done.returncode == 0 and ".nbi" in done.stdout
            note = done.stdout.strip() if ok else (done.stderr.strip().splitlines() or ["no kernel compiled"])[-1]
        except Exception as exc:  # noqa: BLE001 - the cache is an optimisation, never a requirement
            ok, note = False, str(exc)
        if not ok:
            # a half-written cache is not shipped; the kernels compile on first use
            cache = numerics / "_numba_cache"
            if cache.is_dir():
                for f in cache.iterdir():
                    f.unlink()
                cache.rmdir()
        print(f"socscope: kernel cache {'built' if ok else 'skipped'}: {note}", file=sys.stderr)


setup(cmdclass={"build_py": BuildPyWithKernels})
