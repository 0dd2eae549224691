"""Many runs at once: parameter sweeps and batches of files on Dask distributed, results in one zarr store.

>>> from socscope.sweep import load_sweep, run_sweep, open_sweep     # doctest: +SKIP
>>> report = run_sweep(load_sweep("sweep.toml"), "sweep.zarr", scheduler="local")  # doctest: +SKIP
>>> ds = open_sweep("sweep.zarr")                                    # doctest: +SKIP

:func:`map_points` is the shared engine: any many-run computation (sensitivity
tables, fit multi-starts) can hand it a function and its points, and a
``scheduler`` to run them on a cluster.

dask, distributed and zarr are an optional extra: ``pip install 'socscope[sweep]'``.
"""

from .definition import SweepDefinition, load_sweep, parse_sweep
from .execute import dask_client, map_points
from .run import SweepReport, run_sweep
from .store import open_sweep

__all__ = ["SweepDefinition", "SweepReport", "dask_client", "load_sweep", "map_points", "open_sweep", "parse_sweep",
           "run_sweep"]
