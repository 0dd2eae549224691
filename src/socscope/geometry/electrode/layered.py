"""The layered cross-section of Sharma et al. (Nano Lett. 2022), Fig. 4a (:func:`layered_layout`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...errors import GeometryError
from ._args import _as_float, _count, _fraction, _indices, _positive_float
from .factors import _DEFAULT_CARBON_WIDTH
from .layout import ElectrodeLayout
from .links import _assemble

# ---------------------------------------------------------------------------
# the layered cross-section of (Sharma et al., Nano Lett. 2022) Fig. 4a
# ---------------------------------------------------------------------------


def layered_layout(
    n_columns: int = 5,
    n_layers: int = 3,
    *,
    radius: float = 2.5e-6,
    coverage=0.5,
    carbon_columns: Sequence[int] = (0,),
    contact_fraction: float = 0.1,
    carbon_width: float = _DEFAULT_CARBON_WIDTH,
) -> ElectrodeLayout:
    """Particles stacked in columns above the collector, as in (Sharma et al., Nano Lett. 2022) Fig. 4a.

    Particle ``(c, l)`` (column ``c`` from the left, layer ``l`` from the
    bottom) is particle index ``l · n_columns + c``, centred at
    ``x = (2c + 1) R``, ``z = (2l + 1.1) R`` (the bottom layer sits on a binder
    film ``0.1 R`` thick). The links are exactly:

    * NMC–NMC contacts between horizontal neighbours ``(c, l)–(c+1, l)`` and
      vertical neighbours ``(c, l)–(c, l+1)`` (contact radius
      ``contact_fraction · R``);
    * a carbon-binder pillar on the left flank of every column ``k`` in
      ``carbon_columns``: junctions at ``(x_k − R, z_l − R)`` for each layer,
      chained to each other (strands ``2R``), the lowest linked to the
      collector (``0.1 R``), and junction ``l`` linked to particle ``(k, l)``
      (strand ``(√2 − 1) R``) when that particle's coverage is > 0;
    * nothing else: the bottom layer does not touch the collector
      electronically (the binder film has no carbon there).

    So every particle of column ``c`` reaches the collector through
    ``min_k |c − k|`` other NMC particles; with the default
    ``carbon_columns=(0,)`` the top particles, left to right, cross
    0, 1, 2, 3, 4 particles: the leftmost has a direct carbon link and the
    rightmost reaches the collector through four NMC particles, as in the
    paper. ``top`` marks the top layer.

    Parameters
    ----------
    n_columns, n_layers : int
        Size of the stack (>= 1 each).
    radius : float
        Particle radius [m].
    coverage : float or (n_layers, n_columns) array
        Carbon coverage of the particles in carbon columns (float; the others
        get 0) or of every particle (array, row 0 = bottom layer).
    carbon_columns : sequence of int
        Columns with a carbon pillar to the collector (at least one).
    contact_fraction : float
        Contact radius of NMC–NMC contacts as a fraction of ``R``.
    carbon_width : float
        Carbon strand diameter [m].

    Examples
    --------
    >>> lay = layered_layout()
    >>> lay.graph_distance_to_collector()[lay.top].tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    owner = "layered_layout"
    nc, nl = _count(n_columns, "n_columns", owner), _count(n_layers, "n_layers", owner)
    r = _positive_float(radius, "radius", owner)
    cfrac = _fraction(contact_fraction, "contact_fraction", owner)
    if cfrac == 0:
        raise GeometryError(f"{owner}: contact_fraction must be > 0")
    cw = _positive_float(carbon_width, "carbon_width", owner)
    cols = np.unique(_indices(carbon_columns, "carbon_columns", owner, nc))
    if cols.size == 0:
        raise GeometryError(
            f"{owner}: carbon_columns = {list(carbon_columns)} must name at least one column "
            f"in 0..{nc - 1}; without a carbon pillar no particle reaches the collector"
        )
    n = nc * nl
    in_carbon = np.zeros((nl, nc), bool)
    in_carbon[:, cols] = True
    if np.ndim(coverage) == 0:
        cov = np.where(in_carbon, _fraction(coverage, "coverage", owner), 0.0)
    else:
        cov = _as_float(coverage, "coverage", owner)
        if cov.shape != (nl, nc):
            raise GeometryError(
                f"{owner}: coverage must be a fraction or an array of shape ({nl}, {nc}) "
                f"(layers, columns), got shape {cov.shape}"
            )
        if not np.all((cov >= 0) & (cov <= 1)):
            raise GeometryError(f"{owner}: coverage values must lie in [0, 1]")
    cov = cov.ravel()
    cc, ll = np.meshgrid(np.arange(nc), np.arange(nl))
    cc, ll = cc.ravel(), ll.ravel()
    pos = np.column_stack([(2 * cc + 1) * r, (2 * ll + 1.1) * r])
    idx = ll * nc + cc
    horiz = np.column_stack([idx[cc < nc - 1], idx[cc < nc - 1] + 1])
    vert = np.column_stack([idx[ll < nl - 1], idx[ll < nl - 1] + nc])
    pp = np.vstack([horiz, vert]).reshape(-1, 2)
    # pillars: junction (pillar p, layer l) has index p * nl + l
    npil = cols.size
    jx = np.repeat((2 * cols + 1) * r - r, nl)
    jz = np.tile((2 * np.arange(nl) + 1.1) * r - r, npil)
    jpos = np.column_stack([jx, jz])
    jid = np.arange(npil * nl).reshape(npil, nl)
    jj = np.column_stack([jid[:, :-1].ravel(), jid[:, 1:].ravel()])
    jp_all = np.column_stack([jid.ravel(), (np.arange(nl)[None, :] * nc + cols[:, None]).ravel()])
    jp = jp_all[cov[jp_all[:, 1]] > 0]
    jc = jid[:, 0]
    edges, cf, nf = _assemble(
        np.full(n, r), npil * nl,
        pp=pp, pp_a=np.full(len(pp), cfrac * r),
        pc=np.zeros(0, np.int64), pc_a=np.zeros(0),
        jj=jj, jj_len=np.full(len(jj), 2 * r),
        jp=jp, jp_len=np.full(len(jp), (math.sqrt(2.0) - 1.0) * r),
        jc=jc, jc_len=np.full(len(jc), 0.1 * r),
        coverage=cov, carbon_width=cw,
    )
    return ElectrodeLayout(
        particle_radius=np.full(n, r), particle_position=pos, junction_position=jpos,
        edges=edges, carbon_factor=cf, nmc_factor=nf, coverage=cov, top=ll == nl - 1,
        name="layered",
    )
