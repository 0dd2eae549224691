"""Matrix-matched external calibration: mean Li/Mn ratio against the reference DOL.

Kröger et al. charges reference electrodes to known degrees of lithiation (DOL from
ICP-OES of the digested electrode), measures the ratio distribution of each and
fits a straight line through the mean ratios. Here the line
``ratio = intercept + slope · DOL`` is a weighted least-squares fit with
weights ``1/se²`` (the standard error of each mean ratio); its covariance is
``(XᵀWX)⁻¹`` scaled by the Birge ratio ``χ²/ν`` when the means scatter more than
their errors allow (never scaled down). Each particle's DOL is the inverted
line, its uncertainty the line's covariance propagated. Each reference keeps
its ±2σ frame (Kröger et al. Fig. 4–5).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import ParameterError
from .ratios import RatioFit, fit_main_population

__all__ = ["Calibration", "calibrate", "calibrate_ratios", "dol_from_ratio", "expected_frame", "load_calibration"]


@dataclasses.dataclass(frozen=True)
class Calibration:
    """A fitted calibration line and its references.

    Attributes
    ----------
    intercept, slope : float
        ``ratio = intercept + slope · DOL``.
    covariance : ndarray (2, 2)
        Covariance of ``(intercept, slope)``.
    chi2 : float
        Weighted sum of squared residuals; ``dof`` = references − 2.
    references : DataFrame
        One row per reference: ``dol``, ``mean_ratio``, ``mean_ratio_se``,
        ``sigma_ratio``, ``n_particles``, ``frame_low``, ``frame_high`` (±2σ in
        ratio), ``dol_frame_low``, ``dol_frame_high`` (the same in DOL).
    """

    intercept: float
    slope: float
    covariance: np.ndarray
    chi2: float
    dof: int
    references: pd.DataFrame

    @property
    def intercept_se(self) -> float:
        return math.sqrt(self.covariance[0, 0])

    @property
    def slope_se(self) -> float:
        return math.sqrt(self.covariance[1, 1])

    def ci95(self, which: str) -> tuple[float, float]:
        """95 % interval of ``"slope"`` or ``"intercept"`` (Student t with ``dof`` degrees of freedom)."""
        v, se = (self.slope, self.slope_se) if which == "slope" else (self.intercept, self.intercept_se)
        t = float(stats.t.ppf(0.975, max(self.dof, 1)))
        return v - t * se, v + t * se

    def to_dict(self) -> dict:
        """Plain values for a calibration file (see :func:`socscope.io.spicp.write_calibration`)."""
        return {"intercept": self.intercept, "slope": self.slope,
                "covariance": [[float(v) for v in row] for row in self.covariance],
                "chi2": self.chi2, "dof": self.dof,
                "references": {c: [float(v) for v in self.references[c]] for c in
                               ("dol", "mean_ratio", "mean_ratio_se", "sigma_ratio", "n_particles")}
                               | {"names": [str(v) for v in self.references.index]}}

    @classmethod
    def from_dict(cls, d: dict, *, source: str = "calibration") -> Calibration:
        """Rebuild from :meth:`to_dict` (refits nothing; checks the fields)."""
        try:
            refs = d["references"]
            frame = pd.DataFrame({c: np.asarray(refs[c], dtype=float) for c in
                                  ("dol", "mean_ratio", "mean_ratio_se", "sigma_ratio", "n_particles")})
            if len(refs.get("names", ())) == len(frame):
                frame.index = pd.Index([str(v) for v in refs["names"]], name="reference")
            cov = np.asarray(d["covariance"], dtype=float)
            if cov.shape != (2, 2):
                raise ValueError(f"covariance has shape {cov.shape}, not (2, 2)")
            return _build(float(d["intercept"]), float(d["slope"]), cov, float(d["chi2"]), int(d["dof"]), frame)
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"{source}: not a socscope SP-ICP-OES calibration ({type(exc).__name__}: {exc}); "
                                 "write one with 'socscope spicp calibrate'") from None


def load_calibration(path, *, contents: dict | None = None) -> Calibration:
    """Read a calibration file written by ``socscope spicp calibrate`` (:func:`socscope.io.spicp.write_calibration`).

    Parameters
    ----------
    path : str or Path
        The calibration file (named in errors).
    contents : dict, optional
        The file's plain contents as :func:`socscope.io.spicp.read_calibration`
        returned them, when the caller has read it already; the file is then
        not read again.

    Raises
    ------
    FileFormatError
        If the file is missing, not TOML, or not a calibration.
    """
    from ...errors import FileFormatError
    from ...io.spicp import read_calibration

    try:
        return Calibration.from_dict(read_calibration(path) if contents is None else contents, source=str(path))
    except ParameterError as exc:
        raise FileFormatError(str(exc)) from None


def _build(a, b, cov, chi2, dof, refs) -> Calibration:
    refs = refs.copy()
    refs["frame_low"] = refs["mean_ratio"] - 2.0 * refs["sigma_ratio"]
    refs["frame_high"] = refs["mean_ratio"] + 2.0 * refs["sigma_ratio"]
    lo, hi = (refs["frame_low"] - a) / b, (refs["frame_high"] - a) / b
    refs["dol_frame_low"] = np.minimum(lo, hi)
    refs["dol_frame_high"] = np.maximum(lo, hi)
    return Calibration(intercept=a, slope=b, covariance=cov, chi2=chi2, dof=dof, references=refs)


def calibrate(dol, mean_ratio, mean_ratio_se, *, sigma_ratio=None, n_particles=None, sources=None) -> Calibration:
    """Weighted straight-line fit of mean ratio against reference DOL.

    Parameters
    ----------
    dol : array_like (k,)
        Reference degrees of lithiation (fractions, e.g. 1.00, 0.77, ...), k >= 2.
    mean_ratio, mean_ratio_se : array_like (k,)
        Mean ratio of each reference and its standard error (> 0).
    sigma_ratio, n_particles : array_like (k,), optional
        Width of each reference distribution (for its frame) and its particle count.
    sources : list of str, optional
        Names of the references (files) for error messages.

    Raises
    ------
    ParameterError
        Fewer than two references, repeated DOLs, non-positive errors, or mean
        ratios that do not rise (or fall) monotonically with DOL.
    """
    dol = np.asarray(dol, dtype=float)
    y = np.asarray(mean_ratio, dtype=float)
    se = np.asarray(mean_ratio_se, dtype=float)
    k = dol.size
    names = list(sources) if sources is not None else [f"reference {i + 1}" for i in range(k)]
    if k < 2:
        raise ParameterError(f"a calibration needs at least two references (DOLs), got {k}; give ratio tables of "
                             "two or more reference samples, e.g. --dol 1.00,0.19")
    if y.shape != (k,) or se.shape != (k,):
        raise ParameterError(f"dol, mean_ratio and mean_ratio_se must have the same length, got {k}, {y.size}, {se.size}")
    if not (np.all(np.isfinite(dol)) and np.all((dol >= 0) & (dol <= 1.2))):
        raise ParameterError(f"reference DOLs {dol.tolist()} must be fractions in [0, 1.2], e.g. 1.00,0.77,0.59")
    if np.unique(dol).size != k:
        raise ParameterError(f"reference DOLs {dol.tolist()} repeat a value; pool replicates of one reference first")
    if not (np.all(np.isfinite(se)) and np.all(se > 0)):
        raise ParameterError(f"mean_ratio_se {se.tolist()} must be finite and > 0")
    order = np.argsort(dol)
    dy = np.diff(y[order])
    if not (np.all(dy > 0) or np.all(dy < 0)):
        bad = int(np.flatnonzero(np.sign(dy) != np.sign(np.sum(dy)))[0]) if np.sum(dy) != 0 else 0
        i, j = order[bad], order[bad + 1]
        raise ParameterError(f"mean ratios are not monotonic in DOL: {names[i]} (DOL {dol[i]:g}) has ratio "
                             f"{y[i]:.4g} and {names[j]} (DOL {dol[j]:g}) has {y[j]:.4g}; check the DOL order given "
                             "with the files")
    w = 1.0 / se ** 2
    X = np.column_stack([np.ones(k), dol])
    A = X.T @ (w[:, None] * X)
    cov = np.linalg.inv(A)
    a, b = cov @ (X.T @ (w * y))
    chi2 = float(np.sum(w * (y - a - b * dol) ** 2))
    dof = k - 2
    if dof > 0 and chi2 / dof > 1.0:
        cov = cov * (chi2 / dof)
    refs = pd.DataFrame({
        "dol": dol, "mean_ratio": y, "mean_ratio_se": se,
        "sigma_ratio": np.full(k, np.nan) if sigma_ratio is None else np.asarray(sigma_ratio, dtype=float),
        "n_particles": np.full(k, np.nan) if n_particles is None else np.asarray(n_particles, dtype=float),
    })
    if sources is not None:
        refs.index = pd.Index([str(s) for s in sources], name="reference")
    return _build(float(a), float(b), cov, chi2, dof, refs)


def calibrate_ratios(ratio_sets, dol, *, clip: float = 2.5, sources=None) -> tuple[Calibration, list[RatioFit]]:
    """Fit each reference's main population, then the calibration line.

    Parameters
    ----------
    ratio_sets : sequence of array_like
        Per-particle ratios of each reference sample.
    dol : array_like
        The reference DOL of each set.

    Returns
    -------
    (Calibration, list of RatioFit)
    """
    dol = np.atleast_1d(np.asarray(dol, dtype=float))
    if len(ratio_sets) != dol.size:
        raise ParameterError(f"{len(ratio_sets)} reference samples but {dol.size} DOLs; give one DOL per sample")
    fits = [fit_main_population(r, clip=clip) for r in ratio_sets]
    cal = calibrate(dol, [f.mean for f in fits], [f.mean_se for f in fits], sigma_ratio=[f.sigma for f in fits],
                    n_particles=[f.n_total for f in fits], sources=sources)
    return cal, fits


def dol_from_ratio(ratio, cal: Calibration) -> tuple[np.ndarray, np.ndarray]:
    """Per-particle DOL and its standard uncertainty from the calibration line.

    ``DOL = (ratio − a)/b``; ``u² = (var a + DOL² var b + 2 DOL cov ab)/b²``
    (the line's uncertainty; the particle's own measurement spread is the
    reference width, kept apart in the frames).
    """
    r = np.asarray(ratio, dtype=float)
    a, b, c = cal.intercept, cal.slope, cal.covariance
    d = (r - a) / b
    var = (c[0, 0] + d ** 2 * c[1, 1] + 2.0 * d * c[0, 1]) / b ** 2
    return d, np.sqrt(np.maximum(var, 0.0))


def expected_frame(cal: Calibration, expected_dol: float, *, tolerance: float = 0.02) -> dict:
    """The ±2σ ratio frame of the state a sample is expected to be in.

    A reference within ``tolerance`` of ``expected_dol`` gives its own frame
    (mean ± 2σ); otherwise the frame is centred on the line at ``expected_dol``
    with σ interpolated linearly in DOL between the references (held at the
    end references outside their range).

    Returns
    -------
    dict
        ``center``, ``sigma``, ``low``, ``high`` (ratio), ``dol_low``,
        ``dol_high`` and ``source`` (the reference used, or ``"interpolated"``).
    """
    refs = cal.references
    e = float(expected_dol)
    if not (math.isfinite(e) and 0.0 <= e <= 1.2):
        raise ParameterError(f"expected DOL {expected_dol!r} must be a fraction in [0, 1.2], e.g. 0.19")
    sig = refs["sigma_ratio"].to_numpy(float)
    if not np.all(np.isfinite(sig)):
        raise ParameterError("the calibration has no reference widths (sigma_ratio); build it with calibrate_ratios")
    dol = refs["dol"].to_numpy(float)
    near = int(np.argmin(np.abs(dol - e)))
    if abs(dol[near] - e) <= tolerance:
        center, s, src = float(refs["mean_ratio"].iloc[near]), float(sig[near]), str(refs.index[near])
    else:
        o = np.argsort(dol)
        center, s, src = cal.intercept + cal.slope * e, float(np.interp(e, dol[o], sig[o])), "interpolated"
    low, high = center - 2 * s, center + 2 * s
    dl, dh = sorted(((low - cal.intercept) / cal.slope, (high - cal.intercept) / cal.slope))
    return {"center": center, "sigma": s, "low": low, "high": high, "dol_low": dl, "dol_high": dh, "source": src}
