"""Layouts from a label image: particles, contacts and carbon links (:func:`layout_from_labels`)."""

from __future__ import annotations

import numpy as np

from ..._checks import warn_implausible_particles, whole_number
from ...errors import GeometryError
from ._args import _check_rng, _fraction, _positive_float
from .factors import _DEFAULT_CARBON_WIDTH
from .layout import _TOP_VISIBLE_FRACTION, ElectrodeLayout
from .links import _assemble, _coverage_values

# ---------------------------------------------------------------------------
# from a label image
# ---------------------------------------------------------------------------


def layout_from_labels(
    labels,
    *,
    pixel_size_nm: float,
    collector: str = "bottom",
    carbon_coverage=0.5,
    contact_dilation_px: int = 1,
    collector_reach_px: int = 3,
    carbon_spacing_px: int | None = None,
    carbon_density: float = 1.0,
    carbon_width: float = _DEFAULT_CARBON_WIDTH,
    rng: np.random.Generator | None = None,
) -> ElectrodeLayout:
    """An electrode from a 2D label image (a segmentation of a cross-section).

    * **Particles**: one per label (labels are renumbered 1..N in order if
      they are not consecutive; the layout keeps the renumbered image). Each
      is a sphere with the area-equivalent radius ``√(area/π)``, centred at its
      label's centroid. Positions are ``(x, z)`` with ``z`` the height above
      the collector edge of the image (for ``collector="bottom"`` the image
      ``y`` axis is flipped).
    * **Particle contacts**: labels are grown by ``contact_dilation_px``
      pixels (``skimage.segmentation.expand_labels``, no overlap), so particles
      whose outlines are at most ``2 · contact_dilation_px`` pixels apart
      touch. The contact length is ``ℓ = (π/4) · n · pixel`` for ``n``
      4-neighbour pixel pairs across the boundary the grown labels share (π/4
      undoes the mean staircase excess of a boundary of random direction; the
      growth adds about ``contact_dilation_px`` at each end of a contact between
      touching particles); the contact radius is ``ℓ / 2``.
    * **Collector contacts**: particles with pixels within
      ``collector_reach_px`` of the collector edge; contact radius half the
      width they cover there.
    * **Carbon binder**: the image is cut into square blocks of
      ``carbon_spacing_px`` (default: half the median equivalent radius, at
      least 4 px) from the collector edge; a block that is at least half
      background holds a junction at its background centroid (kept with
      probability ``carbon_density`` when ``rng`` is given). Junctions of
      edge-adjacent blocks are linked; a junction is linked to every particle
      with pixels in its block (each link kept with probability equal to the
      particle's coverage when ``rng`` is given) and, in the block row at the
      collector, to the collector.
    * **Top**: particles seen from the side opposite the collector (first
      label met in at least a quarter of their width in columns).

    Parameters
    ----------
    labels : ndarray (y, x) int
        Label image, 0 = background (e.g. ``skimage.measure.label`` of a mask).
    pixel_size_nm : float
        Pixel size [nm].
    collector : {"bottom", "top", "left", "right"}
        Image edge that touches the current collector.
    carbon_coverage : float, (mean, spread) or (N,) array
        Carbon coverage per particle in [0, 1]; particles with 0 get no
        carbon links. A pair (with ``rng``) draws each particle's coverage
        uniformly from ``mean ± spread``, as :func:`random_layout` does.
    contact_dilation_px : int
        Growth of the labels before looking for contacts [px], >= 0.
    collector_reach_px : int
        Distance from the collector edge that counts as touching it [px].
    carbon_spacing_px : int, optional
        Block size of the carbon grid [px].
    carbon_density : float in [0, 1]
        Fraction of candidate blocks that hold a junction (needs ``rng``).
    carbon_width : float
        Carbon strand diameter [m].
    rng : numpy.random.Generator, optional
        Thins junctions and carbon links at random; without it every
        candidate junction and link is kept.

    Raises
    ------
    GeometryError
        For an image with no particles, a non-integer image or bad options.
    """
    from skimage.segmentation import expand_labels, relabel_sequential

    owner = "layout_from_labels"
    lab = np.asarray(labels)
    if lab.ndim != 2:
        raise GeometryError(f"{owner}: labels must be a 2D image (y, x), got shape {lab.shape}")
    if lab.dtype == bool or not np.issubdtype(lab.dtype, np.integer):
        raise GeometryError(
            f"{owner}: labels must be an integer label image, got dtype {lab.dtype}; "
            "label a mask first (skimage.measure.label(mask))"
        )
    if lab.size and lab.min() < 0:
        raise GeometryError(f"{owner}: labels must be >= 0 (0 = background), got {lab.min()}")
    if not lab.any():
        raise GeometryError(
            f"{owner}: the label image has no particles (every pixel is 0); "
            "check the threshold or segmentation that made it"
        )
    a, b = lab[:, :-1], lab[:, 1:]
    both = (a > 0) & (b > 0)
    # in a label image neighbouring particle pixels mostly share their label; in a
    # grey micrograph they mostly differ
    same = float(np.mean(a[both] == b[both])) if both.sum() >= 100 else 1.0
    if same < 0.5:
        raise GeometryError(
            f"{owner}: the image looks like a grey micrograph, not a label image ({np.unique(lab).size} values; "
            f"only {same:.0%} of neighbouring non-zero pixels are equal); segment it "
            "first, e.g. labels = socscope.analysis.optical.segment_particles(image)"
        )
    px = _positive_float(pixel_size_nm, "pixel_size_nm", owner) * 1e-9
    if collector not in ("bottom", "top", "left", "right"):
        raise GeometryError(
            f"{owner}: collector = {collector!r}; use 'bottom', 'top', 'left' or 'right'"
        )
    dil = whole_number("contact_dilation_px", contact_dilation_px, minimum=0, example=1, error=GeometryError,
                       owner=owner)
    reach_px = whole_number("collector_reach_px", collector_reach_px, minimum=1, example=3, error=GeometryError,
                            owner=owner)
    density = _fraction(carbon_density, "carbon_density", owner)
    cw = _positive_float(carbon_width, "carbon_width", owner)
    if rng is not None:
        rng = _check_rng(rng, owner)

    lab, _, _ = relabel_sequential(lab.astype(np.int64))
    n = int(lab.max())
    # canonical orientation: collector along the last row
    canon = {"bottom": lab, "top": lab[::-1, :], "left": lab.T[::-1, :], "right": lab.T}[collector]
    ny, nx = canon.shape
    cov = _coverage_values(carbon_coverage, n, rng, owner)

    # particles
    rows, cols = np.nonzero(canon)
    ids = canon[rows, cols] - 1
    area = np.bincount(ids, minlength=n).astype(float)
    row_c = np.bincount(ids, weights=rows, minlength=n) / area
    col_c = np.bincount(ids, weights=cols, minlength=n) / area
    radius = np.sqrt(area / np.pi) * px
    # particles of nanometres or millimetres: a pixel size in the wrong unit
    warn_implausible_particles(2.0 * radius, f"pixel_size_nm = {pixel_size_nm:g}", stacklevel=2)
    pos = np.column_stack([(col_c + 0.5) * px, (ny - row_c - 0.5) * px])

    # particle-particle contacts
    grown = expand_labels(canon, distance=dil) if dil > 0 else canon
    a_pairs = [(grown[:, :-1], grown[:, 1:]), (grown[:-1, :], grown[1:, :])]
    codes = []
    for a, b in a_pairs:
        m = (a != b) & (a > 0) & (b > 0)
        lo = np.minimum(a[m], b[m]) - 1
        hi = np.maximum(a[m], b[m]) - 1
        codes.append(lo * n + hi)
    code, count = np.unique(np.concatenate(codes), return_counts=True)
    pp = np.column_stack([code // n, code % n]).astype(np.int64).reshape(-1, 2)
    pp_a = 0.5 * (np.pi / 4.0) * count * px

    # collector contacts
    band = canon[ny - reach_px:, :] if reach_px < ny else canon
    bcols = np.nonzero(band)
    if bcols[0].size:
        pc_code = np.unique((band[bcols] - 1) * nx + bcols[1])
        pc, width_px = np.unique(pc_code // nx, return_counts=True)
    else:
        pc, width_px = np.zeros(0, np.int64), np.zeros(0)
    pc_a = 0.5 * width_px * px

    # carbon grid
    if carbon_spacing_px is None:
        s = max(4, round(0.5 * np.median(radius) / px))
    else:
        s = whole_number("carbon_spacing_px", carbon_spacing_px, minimum=1, example=8, error=GeometryError,
                         owner=owner)
        if s > max(ny, nx):
            # one block then covers the whole image; larger blocks only add padding
            raise GeometryError(f"{owner}: carbon_spacing_px = {s} is larger than the image ({ny} x {nx} px); "
                                f"use at most {max(ny, nx)}")
    nby, nbx = -(-ny // s), -(-nx // s)
    padded = np.full((nby * s, nbx * s), -1, dtype=np.int64)
    padded[nby * s - ny:, :nx] = canon  # pad on the side away from the collector and on the right
    blocks = padded.reshape(nby, s, nbx, s).transpose(0, 2, 1, 3).reshape(nby * nbx, s * s)
    real = (blocks >= 0).sum(axis=1)
    bg = blocks == 0
    nbg = bg.sum(axis=1)
    has_j = (nbg > 0) & (nbg >= 0.5 * real)
    if rng is not None and density < 1:
        has_j &= rng.random(has_j.size) < density
    elif rng is None and density < 1:
        raise GeometryError(f"{owner}: carbon_density < 1 needs an rng to choose the junctions")
    prow = (np.arange(s)[:, None] * np.ones((1, s))).ravel()
    pcol = (np.ones((s, 1)) * np.arange(s)[None, :]).ravel()
    brow, bcol = np.divmod(np.arange(nby * nbx), nbx)
    with np.errstate(invalid="ignore", divide="ignore"):
        jr = brow * s + (bg * prow).sum(axis=1) / nbg - (nby * s - ny)  # row in canon
        jcl = bcol * s + (bg * pcol).sum(axis=1) / nbg
    jblock = np.flatnonzero(has_j)
    nj = jblock.size
    jmap = np.full(nby * nbx, -1, np.int64)
    jmap[jblock] = np.arange(nj)
    jpos = np.column_stack([(jcl[jblock] + 0.5) * px, (ny - jr[jblock] - 0.5) * px])
    jgrid = jmap.reshape(nby, nbx)
    jj = np.vstack([
        np.column_stack([jgrid[:, :-1].ravel(), jgrid[:, 1:].ravel()]),
        np.column_stack([jgrid[:-1, :].ravel(), jgrid[1:, :].ravel()]),
    ])
    jj = jj[(jj >= 0).all(axis=1)]
    jj_len = np.linalg.norm(jpos[jj[:, 0]] - jpos[jj[:, 1]], axis=1) if len(jj) else np.zeros(0)
    sub = blocks[jblock]
    bi, pi = np.nonzero(sub > 0)
    code = np.unique(bi * (n + 1) + sub[bi, pi])
    jp = np.column_stack([code // (n + 1), code % (n + 1) - 1]).astype(np.int64).reshape(-1, 2)
    keep = cov[jp[:, 1]] > 0
    if rng is not None:
        keep &= rng.random(len(jp)) < cov[jp[:, 1]]
    jp = jp[keep]
    jp_len = np.linalg.norm(jpos[jp[:, 0]] - pos[jp[:, 1]], axis=1) - radius[jp[:, 1]]
    jc = jmap[jblock[brow[jblock] == nby - 1]]
    jc_len = jpos[jc, 1]

    edges, cf, nf = _assemble(
        radius, nj, pp=pp, pp_a=pp_a, pc=pc, pc_a=pc_a, jj=jj, jj_len=jj_len,
        jp=jp, jp_len=jp_len, jc=jc, jc_len=jc_len, coverage=cov, carbon_width=cw,
    )

    # top: first label from the far side in each column
    fg = canon > 0
    any_fg = fg.any(axis=0)
    first = np.argmax(fg, axis=0)
    seen = canon[first[any_fg], np.flatnonzero(any_fg)] - 1
    vis = np.bincount(seen, minlength=n)
    top = vis >= np.maximum(1.0, _TOP_VISIBLE_FRACTION * 2.0 * radius / px)
    return ElectrodeLayout(
        particle_radius=radius, particle_position=pos, junction_position=jpos.reshape(-1, 2),
        edges=edges, carbon_factor=cf, nmc_factor=nf, coverage=cov, top=top,
        name="from-labels", labels=lab, pixel_size=px,
    )
