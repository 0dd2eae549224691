"""``import socscope`` is light: subpackages load on first use, none of the heavy libraries at import."""

import subprocess
import sys

HEAVY = ("numpy", "scipy", "xarray", "pandas", "numba", "matplotlib", "dask", "distributed", "zarr")


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip()


def test_import_loads_no_heavy_library():
    loaded = _run(f"import sys, socscope; print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    assert loaded == ""


def test_names_load_on_first_use():
    out = _run("import socscope as ss, sys; f = ss.simulate_particle; m = ss.materials.get('nmc532'); "
               "from socscope import open_results, geometry; "
               "print(f.__module__, m.name, geometry.__name__, 'matplotlib' in sys.modules)")
    # the simulation and the materials never need matplotlib
    assert out == "socscope.simulate.particle nmc532 socscope.geometry False"


def test_unknown_attribute_is_an_attribute_error():
    out = _run("import socscope as ss\ntry:\n    ss.nothing_here\nexcept AttributeError as e:\n    print(e)")
    assert out == "module 'socscope' has no attribute 'nothing_here'"
