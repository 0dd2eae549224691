"""One argument-checking layer: public functions given None, text, a class or a dict where a number belongs
raise a ParameterError naming the argument (never Python's TypeError), and impossible sizes and rates are
refused before any work."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import socscope as ss
from socscope.errors import SocscopeError
from socscope.physics import kinetics

G = ss.geometry
BAD = [None, "1e4", G.Sphere, {"a": 1}]


def _calls():
    """(name, function, good keywords): each keyword is replaced in turn by every value of BAD."""
    from socscope.analysis import gitt
    from socscope.analysis.optical import segment

    t = np.arange(0, 7200, 60.0)
    i = np.where(t < 3600, 1e-3, -1e-3)
    rec = pd.DataFrame({"time_s": t, "voltage_V": 3.5 + 1e-4 * np.cumsum(i * 60), "current_A": i,
                        "capacity_Ah": np.cumsum(i * 60) / 3600})
    return [
        ("Sphere", G.Sphere, {"radius": 1e-6}),
        ("Disc", G.Disc, {"diameter": 2e-6}),
        ("Ellipse", G.Ellipse, {"width": 2e-6, "height": 1e-6, "angle": 0.1}),
        ("Mask", G.Mask, {"image": np.pad(np.ones((10, 10), bool), 2), "pixel_size": 1e-7}),
        ("BlockedArc", ss.physics.BlockedArc, {"eta": 0.1, "angles": [(0, 1)]}),
        ("butler_volmer", kinetics.butler_volmer, {"i0": 1.0, "eta": 0.01}),
        ("overpotential", kinetics.overpotential, {"i": 1.0, "i0": 1.0}),
        ("layered_layout", G.layered_layout, {"n_columns": 2, "n_layers": 2}),
        ("detect_pulses", gitt.detect_pulses, {"df": rec}),
        ("segment_particles", segment.segment_particles, {"image": np.pad(np.ones((20, 20)), 10)}),
        ("particle_table", segment.particle_table, {"labels": np.pad(np.ones((20, 20), int), 10)}),
    ]


@pytest.mark.parametrize(("name", "func", "good"), _calls(), ids=[c[0] for c in _calls()])
def test_a_wrong_type_is_a_parameter_error_naming_the_argument(name, func, good):
    import inspect

    func(**good)  # the good call works
    params = [p for p in inspect.signature(func).parameters.values()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    escaped = []
    for p in params:
        for bad in BAD:
            if bad is None and p.default is None:
                continue  # None is that argument's default
            try:
                func(**{**good, p.name: bad})
            except (SocscopeError, ValueError):
                pass
            except Exception as exc:  # noqa: BLE001 - what the test looks for
                escaped.append(f"{name}({p.name}={bad!r}): {type(exc).__name__}: {exc}")
    assert not escaped, "\n".join(escaped)


def test_the_issues_examples_name_the_argument():
    with pytest.raises(SocscopeError, match="Ellipse: angle must be a number"):
        G.Ellipse(width=2e-6, height=1e-6, angle=None)
    with pytest.raises(SocscopeError, match="BlockedArc: eta must be a number"):
        ss.physics.BlockedArc(eta=None, angles=[(0, 1)])
    with pytest.raises(SocscopeError, match="butler_volmer: temperature = 0 K must be finite and > 0"):
        kinetics.butler_volmer(1.0, 0.01, temperature=0)
    mat = ss.materials.get("nmc532")
    with pytest.raises(SocscopeError, match="progress must be a function"):
        ss.simulate_particle(mat, G.Sphere(1e-6), ["Rest for 1 minute"], n_cells=8, progress=G.Sphere)


@pytest.mark.parametrize("make", [lambda: G.Sphere(1e-300), lambda: G.Disc(1e-300),
                                  lambda: G.Mask(np.ones((4, 4), bool), pixel_size=1e-300)],
                         ids=["Sphere", "Disc", "Mask"])
def test_sizes_below_an_atom_are_refused(make):
    with pytest.raises(SocscopeError, match="smaller than an atom"):
        make()


def test_an_absurd_c_rate_is_refused_at_once_for_every_shape():
    mat = ss.materials.get("ni88-xu2022")
    for geometry in (G.Sphere(1e-6), G.Disc(2e-6)):
        start = time.perf_counter()
        with pytest.raises(SocscopeError, match=r"C-rate 1e300C would pass a full charge in 3.6e-297 s"):
            ss.simulate_particle(mat, geometry, ["Charge at 1e300C for 1 minute"], resolution=1e-7)
        assert time.perf_counter() - start < 5  # refused while parsing (a disc ran past 120 s)
    with pytest.raises(SocscopeError, match="A/g"):
        ss.protocols.parse_protocol(["Charge at 7000 A/g for 1 minute"])  # 7000 mA/g meant
    ss.protocols.parse_protocol(["Charge at 2000C for 1 second", "Discharge at 70 mA/g for 1 minute"])


def test_render_top_layer_refuses_a_movie_larger_than_memory_allows():
    from socscope.observe.electrode_movie import render_top_layer

    ds = ss.simulate_electrode(ss.materials.get("nmc532"), G.layered_layout(n_columns=3, n_layers=1),
                               ["Charge at C/5 for 30 minutes"], n_shells=5, output_interval=600)
    start = time.perf_counter()
    with pytest.raises(SocscopeError, match=r"GiB .*raise pixel_size_nm .*frames=slice\(0, "):
        render_top_layer(ds, pixel_size_nm=1)
    assert time.perf_counter() - start < 5
    with pytest.raises(SocscopeError, match="psf_fwhm_nm must be a number"):
        render_top_layer(ds, psf_fwhm_nm="265")
    assert render_top_layer(ds, pixel_size_nm=200).frames.shape[0] == ds.sizes["time"]
