"""Contacts and carbon-binder links: edges and geometric factors assembled from the kinds of link."""

from __future__ import annotations

import numpy as np

from ...errors import GeometryError
from ._args import _as_float, _fraction
from .factors import carbon_link_factor, nmc_path_factor


def _assemble(
    radius: np.ndarray,
    n_junctions: int,
    *,
    pp: np.ndarray,
    pp_a: np.ndarray,
    pc: np.ndarray,
    pc_a: np.ndarray,
    jj: np.ndarray,
    jj_len: np.ndarray,
    jp: np.ndarray,
    jp_len: np.ndarray,
    jc: np.ndarray,
    jc_len: np.ndarray,
    coverage: np.ndarray,
    carbon_width: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges and factors from the five kinds of link.

    ``pp`` (k, 2) particle pairs with contact radii ``pp_a``; ``pc`` particles
    on the collector with contact radii ``pc_a``; ``jj`` (k, 2) junction pairs
    with strand lengths; ``jp`` (k, 2) (junction, particle) links with strand
    lengths; ``jc`` junctions linked to the collector with strand lengths.
    Carbon contacts on a particle share its covered area ``coverage · 4πR²``.
    """
    p0 = n_junctions + 1
    pp = pp.reshape(-1, 2)
    jj = jj.reshape(-1, 2)
    jp = jp.reshape(-1, 2)
    n_c = np.bincount(jp[:, 1], minlength=radius.size)
    r_jp = radius[jp[:, 1]]
    a_c = 2.0 * r_jp * np.sqrt(coverage[jp[:, 1]] / np.maximum(n_c[jp[:, 1]], 1))

    def strand(length):
        # a junction inside a particle's outline (a label image's) is at distance < 0
        # from its surface: its strand is the shortest, carbon_link_factor's minimum
        return carbon_link_factor(np.maximum(length, 0.0), carbon_width)

    parts = [
        (np.column_stack([pp[:, 0] + p0, pp[:, 1] + p0]), np.zeros(len(pp)),
         np.column_stack([nmc_path_factor(radius[pp[:, 0]], pp_a),
                          nmc_path_factor(radius[pp[:, 1]], pp_a)]).reshape(-1, 2)),
        (np.column_stack([np.zeros(len(pc), np.int64), pc + p0]), np.zeros(len(pc)),
         np.column_stack([np.zeros(len(pc)), nmc_path_factor(radius[pc], pc_a)]).reshape(-1, 2)),
        (jj + 1, strand(jj_len), np.zeros((len(jj), 2))),
        (np.column_stack([jp[:, 0] + 1, jp[:, 1] + p0]), strand(jp_len),
         np.column_stack([np.zeros(len(jp)), nmc_path_factor(r_jp, a_c)]).reshape(-1, 2)),
        (np.column_stack([np.zeros(len(jc), np.int64), jc + 1]),
         strand(jc_len), np.zeros((len(jc), 2))),
    ]
    edges = np.concatenate([p[0].reshape(-1, 2) for p in parts]).astype(np.int64)
    cf = np.concatenate([np.asarray(p[1], float).ravel() for p in parts])
    nf = np.concatenate([p[2] for p in parts])
    return edges, cf, nf


def _coverage_values(coverage, n: int, rng, owner: str) -> np.ndarray:
    """Per-particle coverage from a float, a (mean, spread) pair or an (N,) array."""
    if np.ndim(coverage) == 0:
        return np.full(n, _fraction(coverage, "coverage", owner))
    arr = _as_float(coverage, "coverage", owner)
    if arr.shape == (2,) and n != 2:
        if rng is None:
            raise GeometryError(
                f"{owner}: coverage {arr.tolist()} has two values, which is read as (mean, spread) and drawn "
                f"at random: pass rng, or give one value per particle ({n} values)"
            )
        mean = _fraction(arr[0], "coverage mean", owner)
        spread = float(arr[1])
        if not (np.isfinite(spread) and spread >= 0):
            raise GeometryError(f"{owner}: coverage spread = {arr[1]!r} must be >= 0")
        if spread == 0:
            return np.full(n, mean)
        return np.clip(rng.uniform(mean - spread, mean + spread, n), 0.0, 1.0)
    if arr.shape != (n,):
        raise GeometryError(
            f"{owner}: coverage must be a fraction, a (mean, spread) pair or one value per "
            f"particle (shape ({n},)), got shape {arr.shape}"
        )
    if not np.all((arr >= 0) & (arr <= 1)):
        raise GeometryError(f"{owner}: coverage values must lie in [0, 1]")
    return arr.copy()
