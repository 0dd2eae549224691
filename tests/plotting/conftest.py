"""A small network-electrode result shared by the figure tests."""

import pytest

import socscope as ss


@pytest.fixture(scope="session")
def electrode():
    """Six NMC532 particles in two layers, charged 2 h and discharged 1 h at C/5."""
    return ss.simulate_electrode(ss.materials.get("nmc532"), ss.geometry.layered_layout(n_columns=3, n_layers=2),
                                 ["Charge at C/5 for 2 hours", "Discharge at C/5 for 1 hour"], n_shells=6,
                                 output_interval=900)
