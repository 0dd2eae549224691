"""A real LocalCluster of two worker processes: a killed worker loses no point, results equal a serial run bit for bit."""

import os
import signal

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from socscope.sweep import dask_client, map_points, open_sweep, parse_sweep, run_sweep

pytest.importorskip("distributed")
pytest.importorskip("zarr")

#: 24 points of a 200-particle population (about 0.1 s each on one core)
DEFINITION = {
    "sweep": {"seed": 5, "samples": 24},
    "base": {"kind": "population", "material": "nmc532", "mean_radius_um": 1.0, "n_particles": 200, "n_cells": 12,
             "protocol": ["Charge at {c_rate}C for 10 minutes", "Rest for 10 minutes"]},
    "axes": {"c_rate": [0.5, 1, 2], "radius_cv": [0.1, 0.3], "seed": [1, 2, 3, 4]},
}


def _arrays(path):
    ds = open_sweep(path)
    return {k: ds[k].values for k in ds.data_vars}


def _pid():
    return os.getpid()


@pytest.mark.slow
def test_local_cluster_survives_a_killed_worker_and_matches_serial(tmp_path):
    d = parse_sweep(DEFINITION)
    assert d.n_points == 24
    serial = run_sweep(d, tmp_path / "serial.zarr")
    assert serial.computed == 24 and not serial.failed
    killed = {}
    with dask_client("local", n_workers=2) as client:
        before = client.run(_pid)
        assert len(before) == 2 and os.getpid() not in before.values()  # two worker processes of their own

        def kill_one_busy_worker(done, total):
            if done == 6 and not killed:
                busy = [addr for addr, keys in client.processing().items() if keys]
                addr = busy[0]
                killed[addr] = before[addr]
                os.kill(before[addr], signal.SIGKILL)

        rep = run_sweep(d, tmp_path / "cluster.zarr", scheduler=client, progress=kill_one_busy_worker)
        after = client.run(_pid)
        # map_points, the engine other many-run commands share, returns results in the points' order
        assert map_points(np.sqrt, [4.0, 9.0, 16.0], scheduler=client) == [2.0, 3.0, 4.0]
        assert os.getpid() not in map_points(_pid_of, range(4), scheduler=client)
    assert killed, "no worker was busy at point 6"
    assert next(iter(killed.values())) not in after.values()  # that process is gone (its nanny started another)
    assert (rep.computed, rep.failed) == (24, {})  # no point lost: the killed worker's task ran again
    assert (open_sweep(tmp_path / "cluster.zarr").status.values == 1).all()
    a, b = _arrays(tmp_path / "serial.zarr"), _arrays(tmp_path / "cluster.zarr")
    assert set(a) == set(b)
    for k in a:
        assert_array_equal(a[k], b[k], err_msg=k)  # bit for bit, NaN padding included
    # a rerun (here serial) finds every point finished and computes none
    assert run_sweep(d, tmp_path / "cluster.zarr").computed == 0


def _pid_of(_):
    return os.getpid()
