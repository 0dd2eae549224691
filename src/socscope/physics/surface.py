"""How a particle's current is shared out over its surface.

A layout returns, for every boundary element of a grid, a relative flux
factor ``f_e`` with ``Σ f_e A_e = Σ A_e``: multiplying the mean flux density
by ``f_e`` moves the same total current however uneven the layout is.

* :class:`UniformFlux` — ``f_e = 1``.
* :class:`BlockedArc` — a rock-salt layer (Lun et al., eqs. 13–15) covers a
  fraction γ of the surface and passes ``η`` times the flux of the bare NMC
  surface: ``j_NMC = j / (1 − γ + η γ)``, ``j_RSL = η j_NMC``. γ is measured on
  the grid's own boundary elements, so the total current is preserved to
  round-off.

Under Butler–Volmer kinetics a layout gives instead a *rate factor* per
element, multiplying the exchange current density (:meth:`rate_factors`):
the current then follows the local overpotential. A :class:`BlockedArc`
with ``mode="kinetic"`` is a region of reduced i0 (η as a rate factor), so
an aged particle runs under voltage control too; with ``mode="flux"`` (the
default, (Lun et al.)) the flux split is imposed and the layout has no kinetic
form.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._checks import number, positive_float
from ..errors import ParameterError
from ..numerics.fv import FVGrid

__all__ = ["UniformFlux", "BlockedArc"]


@dataclass(frozen=True)
class UniformFlux:
    """The same flux density everywhere on the active surface."""

    def factors(self, grid: FVGrid) -> np.ndarray:
        """Flux factors, shape (n_boundary,), all ones."""
        return np.ones(grid.boundary_area.size)

    def rate_factors(self, grid: FVGrid) -> np.ndarray:
        """Exchange-current multipliers under kinetics, all ones."""
        return np.ones(grid.boundary_area.size)

    def describe(self) -> str:
        return "uniform"


@dataclass(frozen=True)
class BlockedArc:
    """A rock-salt covered part of the perimeter with reduced flux.

    Parameters
    ----------
    eta : float
        Flux through the blocked part relative to the bare surface, 0 <= η < 1.
    angles : sequence of (float, float), optional
        Angular ranges [rad] (about the particle centre, anticlockwise from
        +x) that are blocked, e.g. ``[(-np.pi/4, np.pi/4)]``.
    fraction, center : float, optional
        Alternatively γ (0 < γ < 1) and the centre angle of one arc.
    mask : ndarray of bool, optional
        Alternatively, for :class:`~socscope.geometry.Mask` particles, an image
        of the same shape marking the blocked surface pixels.
    pixel_size : float, optional
        Pixel size of ``mask`` [m] (the particle's pixel size).
    mode : {"flux", "kinetic"}
        "flux" imposes the (Lun et al.) flux split (transport-only runs); "kinetic"
        makes the blocked part a region where the exchange current density
        is multiplied by η, for runs with Butler–Volmer kinetics.
    """

    eta: float
    angles: tuple | None = None
    fraction: float | None = None
    center: float = 0.0
    mask: np.ndarray | None = None
    pixel_size: float | None = None
    mode: str = "flux"

    def __post_init__(self):
        eta = number("eta", self.eta, example="0.1", owner="BlockedArc")
        if not (np.isfinite(eta) and 0.0 <= eta < 1.0):
            raise ParameterError(
                f"BlockedArc: eta = {self.eta!r} must satisfy 0 <= eta < 1 (flux of the rock-salt "
                "part relative to bare NMC; eta = 1 is an unblocked surface, use UniformFlux)"
            )
        object.__setattr__(self, "eta", eta)
        if self.mode not in ("flux", "kinetic"):
            raise ParameterError(
                f"BlockedArc: mode = {self.mode!r} is not 'flux' (imposed (Lun et al.) flux split) or "
                "'kinetic' (exchange current reduced by eta)"
            )
        given = sum(x is not None for x in (self.angles, self.fraction, self.mask))
        if given != 1:
            raise ParameterError(
                "BlockedArc: give exactly one of angles=[(lo, hi), ...], fraction=γ (with center=), "
                "or mask=<boolean image>"
            )
        if self.fraction is not None:
            g = float(self.fraction)
            if not (np.isfinite(g) and 0.0 < g < 1.0):
                raise ParameterError(
                    f"BlockedArc: fraction γ = {self.fraction!r} must satisfy 0 < γ < 1 "
                    "(γ = 1 would block the whole surface, (Lun et al.) eq. 14)"
                )
        c = self.center
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not np.isfinite(c):
            raise ParameterError(f"BlockedArc: center = {self.center!r} must be a finite angle in radians "
                                 "(anticlockwise from +x), e.g. center=0.0")
        object.__setattr__(self, "center", float(c))
        if self.angles is not None:
            try:
                arcs = np.asarray(self.angles, dtype=float).reshape(-1, 2)
            except (TypeError, ValueError):
                arcs = np.full((1, 2), np.nan)
            if not np.all(np.isfinite(arcs)) or np.any(arcs[:, 1] <= arcs[:, 0]):
                shown = [tuple(pair) for pair in arcs.tolist()] if np.all(np.isfinite(arcs)) else self.angles
                raise ParameterError(
                    f"BlockedArc: angles {shown!r} must be (lo, hi) pairs in radians with hi > lo, e.g. "
                    "angles=[(-0.4, 0.4)]"
                )
            object.__setattr__(self, "angles", tuple(map(tuple, arcs)))
        if self.mask is not None:
            m = np.asarray(self.mask)
            if m.ndim != 2:
                raise ParameterError(f"BlockedArc: mask must be a 2D boolean image, got shape {m.shape}")
            if m.dtype != bool and not np.all((m == 0) | (m == 1)):
                raise ParameterError(
                    f"BlockedArc: mask must be boolean (or 0/1), got values {np.unique(m)[:5]} of dtype {m.dtype}; "
                    "for a label image pass (labels == k)"
                )
            if self.pixel_size is None:
                raise ParameterError("BlockedArc: a mask needs pixel_size= (metres per pixel), e.g. pixel_size=34.7e-9")
            object.__setattr__(self, "pixel_size", positive_float("BlockedArc: pixel_size", self.pixel_size,
                                                                  unit=" m", example="34.7e-9"))

    def blocked(self, grid: FVGrid) -> np.ndarray:
        """Boolean array over boundary elements: True where rock-salt blocks."""
        phi = grid.boundary_angle
        if self.mask is not None:
            m = np.asarray(self.mask, dtype=bool)
            p = float(self.pixel_size)
            # positions lie on pixel edges: step half a cell back into the
            # particle so each element falls into the pixel it belongs to
            xy = grid.cell_xy[grid.boundary_cell]
            col = np.floor(xy[:, 0] / p).astype(int)
            row = np.floor(xy[:, 1] / p).astype(int)
            outside = (col < 0) | (col >= m.shape[1]) | (row < 0) | (row >= m.shape[0])
            if not outside.any() and grid.kind == "cartesian" and grid.x is not None:
                # a Mask grid is its image padded by one pixel, split into
                # f x f cells of side h: x[0] = −pixel + h/2
                h = float(grid.x[1] - grid.x[0]) if grid.x.size > 1 else p
                pixel = 0.5 * h - float(grid.x[0])
                shape = (int(round(grid.y.size * h / pixel)) - 2, int(round(grid.x.size * h / pixel)) - 2)
                if abs(pixel - p) > 1e-6 * p or shape != m.shape:
                    # a mask of another pixel size or image blocked other pixels than it showed, silently
                    raise ParameterError(
                        f"BlockedArc: the mask is {m.shape[0]} × {m.shape[1]} pixels of {p:g} m, but the particle's "
                        f"image is {shape[0]} × {shape[1]} pixels of {pixel:g} m; draw the blocked pixels on the "
                        "particle's own image (BlockedArc(eta, mask=blocked, pixel_size=particle.pixel_size), "
                        "blocked.shape == particle.image.shape)")
            if outside.any() or grid.kind != "cartesian":
                raise ParameterError(
                    f"BlockedArc: the mask ({m.shape[0]} × {m.shape[1]} pixels of {p:g} m) does not cover the "
                    f"particle's surface ({int(outside.sum())} of {outside.size} surface elements fall outside "
                    "it); a mask layout is for Mask particles, drawn on the particle's own image and pixel size "
                    "(BlockedArc(eta, mask=blocked, pixel_size=particle.pixel_size), blocked.shape == "
                    "particle.image.shape); use angles= or fraction= for other shapes"
                )
            return m[row, col]
        if self.fraction is not None:
            half = np.pi * float(self.fraction)
            arcs = [(self.center - half, self.center + half)]
        else:
            arcs = self.angles
        out = np.zeros(phi.shape, dtype=bool)
        for lo, hi in arcs:
            d = np.mod(phi - lo, 2 * np.pi)
            out |= d < (hi - lo)
        return out

    def _blocked_some(self, grid: FVGrid) -> np.ndarray:
        """:meth:`blocked`, refusing a layout that blocks no element of this grid (γ = 0)."""
        blk = self.blocked(grid)
        if not blk.any():
            raise ParameterError(
                f"BlockedArc: {self.describe()} blocks none of the grid's {blk.size} surface elements (γ = 0): "
                + ("the mask marks no surface pixel of the particle; mark the surface pixels the rock-salt covers"
                   if self.mask is not None else
                   "the arc is narrower than one surface element; widen it or mesh finer")
                + " (for an unblocked surface use UniformFlux())"
            )
        return blk

    def factors(self, grid: FVGrid) -> np.ndarray:
        """Flux factors ``f_e`` with ``Σ f_e A_e = Σ A_e`` (Lun et al. eq. 14)."""
        blk = self._blocked_some(grid)
        area = grid.boundary_area
        gamma = float(area[blk].sum() / area.sum())
        if gamma >= 1.0:
            raise ParameterError(
                f"BlockedArc: {self.describe()} covers every one of the grid's {blk.size} surface elements (γ = 1), "
                "so nothing can pass; block less of the surface (a smaller fraction or narrower arcs), or mesh finer "
                "so that the open part holds at least one surface element")
        j_nmc = 1.0 / (1.0 - gamma + self.eta * gamma)
        return np.where(blk, self.eta * j_nmc, j_nmc)

    def rate_factors(self, grid: FVGrid) -> np.ndarray:
        """Exchange-current multipliers under kinetics: η on the blocked part, 1 elsewhere."""
        return np.where(self._blocked_some(grid), self.eta, 1.0)

    def describe(self) -> str:
        if self.fraction is not None:
            where = f"fraction={self.fraction}, center={self.center}"
        elif self.angles is not None:
            where = f"angles={list(self.angles)}"
        else:
            where = "mask"
        return f"blocked arc (eta={self.eta}, {where}, mode={self.mode})"
