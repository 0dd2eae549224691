"""Fit the wiring of a network electrode to the onsets of an asynchronous charge.

The layout is taken from the particles of the same movie
(:func:`socscope.geometry.layout_from_labels` on its label image); the
electrode is simulated through the first charge with
:func:`socscope.simulate_electrode`; each particle's onset SOC and
step-likeness (:func:`socscope.observe.electrode.electrode_transitions`) are
compared with those the optical pipeline measured
(:func:`socscope.analysis.optical.analyze_movie`).

Free parameters:

``sigma_scale``
    multiplies the material's σ(θ) (the pristine value is uncertain by more
    than a decade).
``coverage``
    the carbon coverage of the particles that have carbon (a scalar; those
    without keep none).
``contact_scale``
    multiplies the size of every NMC–NMC and NMC–collector contact: the
    resistance of the NMC path of a contact of radius ``a`` is that of
    constriction, ``∝ 1/(σ a)`` (Holm), so it divides the NMC path factors.

``sigma_scale`` and ``contact_scale`` enter the NMC links only as their
product: fitted together, they are reported as not identifiable.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from .._checks import positive_float, whole_number
from ..errors import ParameterError, SocscopeWarning
from ..materials import as_material
from ._core import FitResult, Parameter, least_squares_fit, parameter_set
from ._model import material_variant

__all__ = ["FREE_ELECTRODE_PARAMETERS", "electrode_onsets", "electrode_parameters", "fit_electrode_onsets"]

#: parameters :func:`fit_electrode_onsets` can fit
FREE_ELECTRODE_PARAMETERS = ("sigma_scale", "coverage", "contact_scale")


def electrode_parameters(free=("sigma_scale",), *, start: dict | None = None, bounds: dict | None = None,
                         coverage: float = 0.5) -> list[Parameter]:
    """Parameters of an electrode fit: ``sigma_scale`` (1, 1e-2..1e2), ``coverage`` (start ``coverage``,
    0.01..1), ``contact_scale`` (1, 1e-3..1e3); those not in ``free`` are held."""
    defaults = {"sigma_scale": (1.0, (1e-2, 1e2), "1"), "coverage": (coverage, (0.01, 1.0), "1"),
                "contact_scale": (1.0, (1e-3, 1e3), "1")}
    return parameter_set(defaults, free, start=start, bounds=bounds,
                         none_free=f"cannot fit nothing; free parameters must come from {FREE_ELECTRODE_PARAMETERS}")


def electrode_onsets(ds, *, soc_scale: float = 1.0) -> pd.DataFrame:
    """Onset SOC and step-likeness of every particle in the first half cycle of an electrode result.

    SOC is :func:`socscope.observe.electrode.cell_soc` (charge over the lattice
    sites) times ``soc_scale``. Particles that did not react get the run's last
    SOC as onset (they had not started by then) and NaN step-likeness.
    """
    from ..observe.electrode import cell_soc, electrode_transitions

    tr = electrode_transitions(ds)
    tr = tr[tr["half_cycle"] == tr["half_cycle"].min()].sort_values("particle")
    soc_end = float(np.nanmax(cell_soc(ds)))
    onset = np.where(tr["reacted"].to_numpy(bool), tr["onset_soc"].to_numpy(float), soc_end)
    onset = np.where(np.isfinite(onset), onset, soc_end)
    step = np.where(tr["reacted"].to_numpy(bool), tr["step_likeness"].to_numpy(float), np.nan)
    return pd.DataFrame({"particle": tr["particle"].to_numpy(int), "onset_soc": onset * soc_scale,
                         "step_likeness": step})


class _ElectrodeForward:
    def __init__(self, labels, material, *, pixel_size_nm, protocol, collector, has_carbon, coverage,
                 contact_dilation_px, n_shells, output_interval, initial_theta):
        from ..geometry import layout_from_labels

        self.labels = labels
        self.material = material
        self.protocol = protocol
        self.kw = {"pixel_size_nm": pixel_size_nm, "collector": collector, "contact_dilation_px": contact_dilation_px}
        self.has_carbon = has_carbon
        self.n_shells = n_shells
        self.output_interval = output_interval
        self.initial_theta = initial_theta
        self._layout = layout_from_labels
        self._cache = {}

    def layout(self, coverage: float):
        key = round(float(coverage), 12)
        if key not in self._cache:
            cov = np.where(self.has_carbon, coverage, 0.0)
            self._cache = {key: self._layout(self.labels, carbon_coverage=cov, **self.kw)}
        return self._cache[key]

    def simulate(self, values: dict):
        from ..simulate import simulate_electrode

        lay = self.layout(values["coverage"])
        if values["contact_scale"] != 1.0:
            lay = replace(lay, nmc_factor=np.asarray(lay.nmc_factor) / values["contact_scale"])
        mat = material_variant(self.material, sigma_scale=values["sigma_scale"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SocscopeWarning)
            return simulate_electrode(mat, lay, self.protocol, n_shells=self.n_shells,
                                      output_interval=self.output_interval, initial_theta=self.initial_theta)


def fit_electrode_onsets(measured: pd.DataFrame, labels, material, *, pixel_size_nm: float,
                         protocol="Charge at C/20 until 4.3 V", free=("sigma_scale",), start: dict | None = None,
                         bounds: dict | None = None, coverage: float = 0.5, has_carbon=None,
                         collector: str = "bottom", contact_dilation_px: int = 1, onset_noise: float = 0.01,
                         step_noise: float | None = None, n_shells: int = 6, output_interval: float = 600.0,
                         initial_theta: float = 0.97, soc_basis: str = "practical", n_starts: int = 1, rng=None, level: float = 0.95,
                         intervals: bool = True, max_nfev: int = 30, scan: int = 7,
                         map_starts=None) -> FitResult:
    """Fit σ scale, carbon coverage and contact size to measured per-particle onsets.

    Parameters
    ----------
    measured : pandas.DataFrame
        One row per particle: ``particle`` (label, 1..N of ``labels``),
        ``onset_soc`` and optionally ``step_likeness`` (the ``particles`` table
        of :func:`~socscope.analysis.optical.analyze_movie` with ``label``
        works too). Rows with NaN onset (unreacted) take the model's run end.
    labels : ndarray of int (y, x)
        The particles (0 = background), as segmented in the movie.
    material : Material or str
        With U, i0 and σ (e.g. ``"nmc532-sharma2022"``).
    pixel_size_nm : float
    protocol : str or list of str
        The first charge as recorded.
    free : sequence of str
        From :data:`FREE_ELECTRODE_PARAMETERS`.
    coverage : float
        Carbon coverage of the particles that have carbon, when held.
    has_carbon : array_like of bool (N,), optional
        Which particles carry carbon (default all).
    collector, contact_dilation_px
        See :func:`socscope.geometry.layout_from_labels`.
    onset_noise : float
        Standard deviation of a measured onset [SOC].
    step_noise : float, optional
        Standard deviation of a measured step-likeness; None leaves
        step-likeness out of the objective.
    n_shells, output_interval, initial_theta
        Simulation settings (see :func:`socscope.simulate_electrode`).
    soc_basis : {"practical", "sites"}
        What the measured SOC is a fraction of: the material's practical
        capacity (what :func:`~socscope.analysis.optical.analyze_movie` gives
        with ``mass_g`` and the material's ``capacity_mAh_g``) or all lattice
        sites (:func:`socscope.observe.electrode.site_capacity_Ah`).
    n_starts, rng, level, intervals, max_nfev, scan, map_starts
        See :func:`socscope.fitting.least_squares_fit`; the scan (7 points over the
        bounds by default) guards against the jumps of onsets that switch order.

    Returns
    -------
    FitResult
        ``fitted`` is the simulated electrode at the optimum; ``extra["onsets"]``
        the measured and fitted onsets per particle.
    """
    mat = as_material(material)
    if mat.sigma is None:
        raise ParameterError(f"material {mat.name!r} has no σ(θ); an electrode fit needs one (e.g. nmc532-sharma2022)")
    lab = np.asarray(labels)
    if lab.ndim != 2 or not np.issubdtype(lab.dtype, np.integer) or lab.max() < 1:
        raise ParameterError("labels must be a 2-D integer label image with particles 1..N (0 = background)")
    n = int(lab.max())
    if not isinstance(measured, pd.DataFrame):
        raise ParameterError("measured must be a pandas.DataFrame with particle and onset_soc columns")
    key = "particle" if "particle" in measured.columns else "label" if "label" in measured.columns else None
    if key is None or "onset_soc" not in measured.columns:
        raise ParameterError(f"measured needs columns particle (or label) and onset_soc; it has {list(measured.columns)}")
    meas = measured.set_index(measured[key].astype(int))
    missing = sorted(set(range(1, n + 1)) - set(meas.index))
    if missing:
        raise ParameterError(f"measured has no row for particle(s) {missing[:10]} of the {n} in labels")
    m_onset = meas.loc[list(range(1, n + 1)), "onset_soc"].to_numpy(float)
    m_step = (meas.loc[list(range(1, n + 1)), "step_likeness"].to_numpy(float)
              if "step_likeness" in meas.columns and step_noise is not None else None)
    onset_noise = positive_float("onset_noise", onset_noise, example="0.01")
    if step_noise is not None:
        step_noise = positive_float("step_noise", step_noise, example="0.3")
    n_shells = whole_number("n_shells", n_shells, minimum=2, example=6)
    carbon = np.ones(n, bool) if has_carbon is None else np.asarray(has_carbon, dtype=bool)
    if carbon.shape != (n,):
        raise ParameterError(f"has_carbon must hold one flag per particle ({n}), got shape {carbon.shape}")
    params = electrode_parameters(free, start=start, bounds=bounds, coverage=coverage)
    fwd = _ElectrodeForward(lab, mat, pixel_size_nm=pixel_size_nm, protocol=protocol, collector=collector,
                            has_carbon=carbon, coverage=coverage, contact_dilation_px=contact_dilation_px,
                            n_shells=n_shells, output_interval=output_interval, initial_theta=initial_theta)
    n_res = n + (n if m_step is not None else 0)
    if soc_basis not in ("practical", "sites"):
        raise ParameterError(f"soc_basis = {soc_basis!r} must be 'practical' or 'sites'")
    soc_scale = mat.theoretical_capacity / mat.capacity if soc_basis == "practical" else 1.0

    def residuals(values):
        try:
            on = electrode_onsets(fwd.simulate(values), soc_scale=soc_scale)
        except Exception:  # noqa: BLE001 - a failed run (solver, cut-off) is a bad parameter set
            return np.full(n_res, np.nan)
        mo = np.where(np.isfinite(m_onset), m_onset, float(on["onset_soc"].max()))
        r = (mo - on["onset_soc"].to_numpy()) / onset_noise
        if m_step is not None:
            ok = np.isfinite(m_step) & np.isfinite(on["step_likeness"].to_numpy())
            rs = np.where(ok, (m_step - on["step_likeness"].to_numpy()) / step_noise, 0.0)
            r = np.concatenate([r, rs])
        return r

    settings = {"material": mat.name, "free": list(free), "protocol": protocol if isinstance(protocol, str)
                else list(protocol), "pixel_size_nm": pixel_size_nm, "collector": collector,
                "contact_dilation_px": contact_dilation_px, "coverage": coverage, "has_carbon": carbon.tolist(),
                "onset_noise": onset_noise, "step_noise": step_noise, "n_shells": n_shells,
                "output_interval": output_interval, "initial_theta": initial_theta, "n_particles": n,
                "soc_basis": soc_basis,
                "scan": scan, "seed": rng if isinstance(rng, (int, type(None))) else "generator"}
    res = least_squares_fit(residuals, params, n_starts=n_starts, rng=rng, level=level, intervals=intervals,
                            max_nfev=max_nfev, scan=scan, settings=settings, map_starts=map_starts)
    vals = {p.name: p.value for p in res.parameters}
    try:
        ds = fwd.simulate(vals)
        on = electrode_onsets(ds, soc_scale=soc_scale)
    except Exception as exc:  # noqa: BLE001 - report, keep the fitted values
        res.message += f"; the fitted model could not be re-run ({exc})"
        return res
    res.fitted = ds
    res.extra["onsets"] = pd.DataFrame({"particle": np.arange(1, n + 1), "onset_soc_measured": m_onset,
                                        "onset_soc_fitted": on["onset_soc"].to_numpy(),
                                        "step_likeness_fitted": on["step_likeness"].to_numpy()})
    if m_step is not None:
        res.extra["onsets"]["step_likeness_measured"] = m_step
    return res
