"""A synthetic optical movie of an electrode's top layer: intensities, occlusion, pieces, errors."""

import numpy as np
import pytest
import xarray as xr
from numpy.testing import assert_allclose, assert_array_equal

import socscope as ss
from socscope.errors import ParameterError
from socscope.geometry import random_layout
from socscope.observe.electrode_movie import render_top_layer
from socscope.observe.optical import intensity_from_theta


@pytest.fixture(scope="module", params=[2, 3], ids=["2d", "3d"])
def electrode(request):
    lay = random_layout(30, dim=request.param, rng=np.random.default_rng(1))
    ds = ss.simulate_electrode(ss.materials.get("nmc532"), lay, ["Charge at C/20 for 4 hours"], n_shells=8,
                               output_interval=1800)
    return ds


def test_particle_means_follow_the_mean_occupancy_of_the_top_particles(electrode):
    ds = electrode
    mov = render_top_layer(ds, signal="mean", psf_fwhm_nm=None, rng=0)
    part = mov.meta["particle"]
    # every visible particle is a top particle, and at 100 nm per pixel every top particle shows
    assert_array_equal(part, np.flatnonzero(ds.top.values))
    expected = intensity_from_theta(ds.theta_particle_mean.values[:, part])
    # no blur, no noise: each label is uniform at its intensity (sums of equal values: round-off only)
    assert_allclose(mov.particle_means(), expected, rtol=0, atol=1e-9)
    assert_array_equal(mov.time_s, ds.time.values)
    assert_allclose(mov.soc, ds.theta_mean.values[0] - ds.theta_mean.values, rtol=0, atol=0)
    # the default signal is the surface occupancy
    surf = render_top_layer(ds, psf_fwhm_nm=None, rng=0)
    assert_allclose(surf.particle_means(), intensity_from_theta(ds.theta_particle_surface.values[:, part]),
                    rtol=0, atol=1e-9)


def test_pieces_of_a_movie_equal_the_whole(electrode):
    whole = render_top_layer(electrode, rng=0)
    parts = [render_top_layer(electrode, frames=slice(a, a + 3), rng=0).frames
             for a in range(0, electrode.sizes["time"], 3)]
    # the same labels and the same deterministic pipeline: identical frames
    assert_array_equal(np.concatenate(parts), whole.frames)


def _two_spheres(z2):
    """Two equal spheres on a 2D layout, the second 1.5 R to the right and at height z2."""
    r = 1e-6
    theta = np.array([[0.9, 0.5], [0.8, 0.4]])
    return xr.Dataset(
        {"theta_particle_mean": (("time", "particle"), theta),
         "theta_particle_surface": (("time", "particle"), theta),
         "top": ("particle", [True, True])},
        coords={"time": [0.0, 60.0], "particle": [0, 1], "radius": ("particle", [r, r]),
                "x": ("particle", [3e-6, 4.5e-6]), "z": ("particle", [r, z2])},
    )


@pytest.mark.parametrize("z2", [2e-6, 0.5e-6])
def test_overlapping_discs_show_the_higher_sphere(z2):
    ds = _two_spheres(z2)
    mov = render_top_layer(ds, pixel_size_nm=50, psf_fwhm_nm=None)
    (r0, c0), (r1, c1) = mov.meta["centres_px"]
    rad = mov.meta["radii_px"][0]
    yy, xx = np.mgrid[: mov.labels.shape[0], : mov.labels.shape[1]]
    in0 = (yy - r0) ** 2 + (xx - c0) ** 2 < rad**2
    in1 = (yy - r1) ** 2 + (xx - c1) ** 2 < rad**2
    assert r0 == r1 and abs((c1 - c0) - 30.0) < 1e-9  # 1.5 µm at 50 nm per pixel, on one row
    if z2 > 1e-6:  # the second sphere is higher everywhere they overlap: it hides the first there
        assert_array_equal(mov.labels == 2, in1)
        assert_array_equal(mov.labels == 1, in0 & ~in1)
    else:  # the second sphere is lower: in the overlap it shows only where its surface rises above the first's
        px = 50e-9
        h0 = 1e-6 + np.sqrt(np.maximum(1e-6**2 - ((yy - r0) ** 2 + (xx - c0) ** 2) * px * px, 0))
        h1 = z2 + np.sqrt(np.maximum(1e-6**2 - ((yy - r1) ** 2 + (xx - c1) ** 2) * px * px, 0))
        assert_array_equal(mov.labels == 1, in0 & ~(in1 & (h1 > h0)))
    assert_allclose(mov.particle_means(), intensity_from_theta(ds.theta_particle_surface.values), atol=1e-12)


def test_errors_name_what_is_missing():
    ds = _two_spheres(2e-6)
    with pytest.raises(ParameterError, match="'top'"):
        render_top_layer(ds.drop_vars("top"))
    with pytest.raises(ParameterError, match="flagged 'top'"):
        render_top_layer(ds.assign(top=("particle", [False, False])))
    with pytest.raises(ParameterError, match="signal"):
        render_top_layer(ds, signal="centre")
    with pytest.raises(ParameterError, match="pixel_size_nm"):
        render_top_layer(ds, pixel_size_nm=0)
    n = ds.sizes["time"]
    for frames in ([n], 1.5, "a", np.ones(n + 1, bool)):
        with pytest.raises(ParameterError, match="frames"):
            render_top_layer(ds, frames=frames)
    # what is allowed: an index from the end, a slice, a mask
    assert render_top_layer(ds, frames=-1).frames.shape[0] == 1
    assert render_top_layer(ds, frames=np.arange(n) < 2).frames.shape[0] == min(n, 2)
