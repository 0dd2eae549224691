"""Shared fixtures: the shipped Ni-rich material and a constant-diffusivity twin of it."""

import numpy as np
import pytest

import socscope as ss
from socscope.materials import Material, Property

#: diffusivity of the linear test problems [m²/s]
D_CONST = 1e-15


def constant_d_material(d: float = D_CONST) -> Material:
    """ni88-xu2022's scalars with a constant diffusivity (the linear problem of the series)."""
    ref = ss.materials.get("ni88-xu2022")
    return Material(
        name="constant-d", description="constant diffusivity", source="test",
        c_max=ref.c_max, density=ref.density, capacity=ref.capacity, molar_mass=ref.molar_mass,
        U=None,
        D=Property("D", "m2/s", lambda th: np.full(np.shape(th), d), source="constant"),
        i0=None, sigma=None,
    )


@pytest.fixture(scope="session")
def const_mat():
    return constant_d_material()


@pytest.fixture(scope="session")
def ni88():
    return ss.materials.get("ni88-xu2022")


@pytest.fixture
def point_record_reads(monkeypatch):
    """A Counter of ``Path.read_text`` calls on files in a ``points`` folder (a sweep's point records), by name."""
    import collections
    import pathlib

    reads = collections.Counter()
    read_text = pathlib.Path.read_text

    def counted(self, *args, **kwargs):
        if self.parent.name == "points":
            reads[self.name] += 1
        return read_text(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", counted)
    return reads
