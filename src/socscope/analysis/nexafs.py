"""NEXAFS at the Ni L-edge (Jetybayeva et al. (ACS Appl. Energy Mater. 2022) Fig. 4): normalisation, the L3 high/low-energy peak ratio, and
the shares of two reference components, surface (TEY) against bulk (FY), against SOC.

* :func:`normalize` — a straight line fitted to the pre-edge is subtracted and the result divided
  by its mean over the post-edge window (the edge jump), so that spectra taken in different
  detection modes or on different samples compare on one scale.
* :func:`l3_ratio` — the Ni L3 edge of an ionic Ni²⁺ has its strong peak at the low-energy side
  (≈ 853 eV), that of a covalent Ni³⁺ at the high-energy side (≈ 855 eV); the ratio of the
  normalised maxima in the two windows (high/low) grows as Ni²⁺ is oxidised.
* :func:`fit_components` — non-negative least squares of the spectrum onto reference spectra
  (e.g. a Ni²⁺ and a Ni³⁺ standard), giving each one's weight and share; the Ni²⁺/Ni³⁺ ratio
  is the ratio of the weights.
* :func:`analyze_spectra` — files in, one row per file and detection channel.

The windows of each edge are in :data:`EDGES` and may be overridden. Self-absorption of the
fluorescence yield is not corrected here (correct the FY spectra first where it matters).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .._checks import number_pair
from ..errors import ParameterError

__all__ = ["EDGES", "analyze_spectra", "fit_components", "l3_ratio", "normalize"]

#: energy windows [eV] per edge: pre-edge and post-edge (normalisation), low and high L3 peaks
EDGES = {
    "Ni-L3": {"pre_edge_eV": (840.0, 849.0), "post_edge_eV": (878.0, 885.0), "low_eV": (852.0, 854.0),
              "high_eV": (854.5, 856.5)},
}


#: what each window of :data:`EDGES` is, in the words of an error message
_WINDOW_WORDS = {"pre_edge_eV": "pre-edge", "post_edge_eV": "post-edge", "low_eV": "low-energy peak",
                 "high_eV": "high-energy peak"}


def _header_edge(metadata) -> str:
    """``"; this is a Ni K-edge spectrum (edge at 8333 eV, from its header)"`` where a header names the element and edge, else ``""``."""
    meta = {str(k).lower(): str(v).strip() for k, v in (metadata or {}).items()}
    element, edge = meta.get("element.symbol", ""), meta.get("element.edge", "")
    if not element and not edge:
        return ""
    at = meta.get("scan.edge_energy", "").split()
    try:
        where = f" (edge at {float(at[0]):g} eV, from its header)" if at else " (from its header)"
    except ValueError:
        where = " (from its header)"
    name = " ".join(w for w in (element, f"{edge}-edge" if edge else "edge") if w)
    return f"; this is a {name} spectrum{where}"


def _check_covers(energy, windows: dict, label: str, what: str, metadata=None) -> None:
    """Raise, in the user's terms, when a spectrum misses a window of the edge (e.g. a hard-X-ray K edge)."""
    e = np.asarray(energy, dtype=np.float64)
    short = [(name, w, int(((e >= w[0]) & (e <= w[1])).sum())) for name, w in windows.items()]
    short = [item for item in short if item[2] < 2]
    if not short:
        return
    lo = min(w[0] for w in windows.values())
    hi = max(w[1] for w in windows.values())
    name, w, n = short[0]
    raise ParameterError(
        f"{what}: the spectrum covers {e.min():.5g}-{e.max():.5g} eV, but the {label} windows need {lo:g}-{hi:g} eV "
        f"(its {_WINDOW_WORDS.get(name, name)} window {w[0]:g}-{w[1]:g} eV holds {n} point(s))"
        f"{_header_edge(metadata)}; give spectra measured across {lo:g}-{hi:g} eV")


def _edge(edge: str) -> dict:
    if edge not in EDGES:
        raise ParameterError(f"edge = {edge!r} is not known; choose one of {sorted(EDGES)} or give the windows")
    return EDGES[edge]


def _window(name, value) -> tuple[float, float]:
    pair = number_pair(name, value, example="(840, 848)")
    if not (math.isfinite(pair[0]) and math.isfinite(pair[1]) and pair[0] < pair[1]):
        raise ParameterError(f"{name} = {value!r} must be (low, high) energies in eV with low < high")
    return pair


def _arrays(energy, mu):
    e = np.asarray(energy, dtype=np.float64)
    m = np.asarray(mu, dtype=np.float64)
    if e.ndim != 1 or e.shape != m.shape or e.size < 5:
        raise ParameterError(f"energy and mu must be 1-D of one length >= 5; got {e.shape} and {m.shape}")
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(m))):
        raise ParameterError("energy and mu hold NaN or infinite values")
    if np.any(np.diff(e) <= 0):
        raise ParameterError("energy must increase strictly (sort the spectrum first)")
    return e, m


def _in(e, window, name, what):
    sel = (e >= window[0]) & (e <= window[1])
    if sel.sum() < 2:
        raise ParameterError(f"{what}: the {name} window {window[0]:g}-{window[1]:g} eV holds {int(sel.sum())} "
                             f"point(s) of a spectrum spanning {e[0]:g}-{e[-1]:g} eV; give {name} inside it")
    return sel


def normalize(energy, mu, *, pre_edge_eV=(840.0, 849.0), post_edge_eV=(878.0, 885.0),
              what: str = "spectrum") -> tuple[np.ndarray, float]:
    """Pre-edge line removed, edge jump set to one.

    Parameters
    ----------
    energy : array_like, shape (n,)
        Photon energy [eV], increasing.
    mu : array_like, shape (n,)
        Absorption signal (TEY, FY, ... any scale).
    pre_edge_eV, post_edge_eV : (float, float)
        Windows [eV] below the edge (a straight line is fitted) and above it (its mean after the
        line is removed is the edge jump).
    what : str
        Named in errors (e.g. the file).

    Returns
    -------
    (numpy.ndarray, float)
        The normalised spectrum and the edge jump (in ``mu``'s unit).
    """
    e, m = _arrays(energy, mu)
    pre = _in(e, _window("pre_edge_eV", pre_edge_eV), "pre_edge_eV", what)
    post = _in(e, _window("post_edge_eV", post_edge_eV), "post_edge_eV", what)
    slope, intercept = np.polyfit(e[pre], m[pre], 1)
    flat = m - (slope * e + intercept)
    jump = float(flat[post].mean())
    if not jump > 0:
        raise ParameterError(f"{what}: the edge jump is {jump:g} (post-edge mean not above the pre-edge line); "
                             "check the windows or the channel")
    return flat / jump, jump


def l3_ratio(energy, mu_norm, *, low_eV=(852.0, 854.0), high_eV=(854.5, 856.5), what: str = "spectrum") -> dict:
    """High-to-low energy L3 peak ratio of a normalised spectrum.

    Returns
    -------
    dict
        ``low_peak``, ``high_peak`` (normalised maxima in the two windows), ``low_peak_eV``,
        ``high_peak_eV`` (their energies), ``high_low_ratio`` = high/low.
    """
    e, m = _arrays(energy, mu_norm)
    lo = _in(e, _window("low_eV", low_eV), "low_eV", what)
    hi = _in(e, _window("high_eV", high_eV), "high_eV", what)
    i_lo = np.flatnonzero(lo)[np.argmax(m[lo])]
    i_hi = np.flatnonzero(hi)[np.argmax(m[hi])]
    if not m[i_lo] > 0:
        raise ParameterError(f"{what}: no positive low-energy L3 peak in {low_eV} eV; check the windows")
    return {"low_peak": float(m[i_lo]), "high_peak": float(m[i_hi]), "low_peak_eV": float(e[i_lo]),
            "high_peak_eV": float(e[i_hi]), "high_low_ratio": float(m[i_hi] / m[i_lo])}


def fit_components(energy, mu_norm, references: dict, *, window_eV=None) -> dict:
    """Weights of reference spectra that add up to a spectrum (non-negative least squares).

    Parameters
    ----------
    energy, mu_norm : array_like, shape (n,)
        The normalised spectrum.
    references : dict
        Name → ``(energy, mu_norm)`` of a reference (interpolated onto ``energy``).
    window_eV : (float, float), optional
        Fit range [eV]; by default the overlap of all energies.

    Returns
    -------
    dict
        ``weights`` (name → weight), ``fractions`` (name → weight / sum of weights), ``rms``
        (root-mean-square residual).
    """
    from scipy.optimize import nnls

    e, m = _arrays(energy, mu_norm)
    if not isinstance(references, dict) or len(references) < 1:
        raise ParameterError("references must be a dict of name -> (energy, mu), e.g. {'Ni2+': (e2, m2), ...}")
    lo, hi = e[0], e[-1]
    refs = {}
    for name, pair in references.items():
        re_, rm = _arrays(*pair)
        refs[name] = (re_, rm)
        lo, hi = max(lo, re_[0]), min(hi, re_[-1])
    if window_eV is not None:
        w = _window("window_eV", window_eV)
        lo, hi = max(lo, w[0]), min(hi, w[1])
    sel = (e >= lo) & (e <= hi)
    if sel.sum() < len(refs) + 2:
        raise ParameterError(f"the spectrum and references overlap on {int(sel.sum())} points ({lo:g}-{hi:g} eV); "
                             "give references covering the spectrum")
    design = np.column_stack([np.interp(e[sel], re_, rm) for re_, rm in refs.values()])
    weights, resid = nnls(design, m[sel])
    total = weights.sum()
    names = list(refs)
    return {"weights": dict(zip(names, map(float, weights))),
            "fractions": {n: float(w / total) if total > 0 else math.nan for n, w in zip(names, weights)},
            "rms": float(resid / math.sqrt(sel.sum()))}


def analyze_spectra(paths, *, edge: str = "Ni-L3", channels=None, soc_pattern: str | None = None,
                    references: dict | None = None, normalize_i0: bool = False, windows: dict | None = None
                    ) -> pd.DataFrame:
    """The L3 ratio (and reference shares) of every channel of every spectrum file.

    Parameters
    ----------
    paths : sequence of path-like
        Files readable by :func:`socscope.io.xas.open_spectrum`.
    edge : str
        Key of :data:`EDGES`.
    channels : sequence of str, optional
        Channels to analyse (e.g. ``("TEY", "FY")``); default every channel except ``I0``.
    soc_pattern : str, optional
        Regular expression whose first group is the SOC [%] in each file name.
    references : dict, optional
        Name → path of a reference spectrum (its first channel), normalised like the samples;
        adds ``fraction_<name>`` columns and, with two references, ``ratio_<a>_<b>``.
    normalize_i0 : bool
        Divide by I0 first.
    windows : dict, optional
        Overrides of the edge's windows (keys of :data:`EDGES` entries).

    Returns
    -------
    pandas.DataFrame
        ``file``, ``soc_percent``, ``mode`` (channel), ``edge_jump``, ``low_peak_eV``,
        ``high_peak_eV``, ``low_peak``, ``high_peak``, ``high_low_ratio`` (+ reference columns).
    """
    from ..io.xas import open_spectrum
    from .afm.soc import soc_from_name

    win = dict(_edge(edge))
    if windows:
        unknown = set(windows) - set(win)
        if unknown:
            raise ParameterError(f"windows: unknown key(s) {sorted(unknown)}; allowed {sorted(win)}")
        win.update(windows)
    label = "given" if windows else edge.replace("-", " ")
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not paths:
        raise ParameterError("no spectra given; pass one or more files, e.g. spectra/*.csv")
    refs = {}
    for name, ref_path in (references or {}).items():
        ds = open_spectrum(ref_path, normalize_i0=normalize_i0)
        _check_covers(ds.energy_eV.values, win, label, f"reference {name} ({ref_path})", ds.attrs.get("metadata"))
        first = next(k for k in ds.data_vars if k.lower() not in ("i0", "izero", "mesh"))
        refs[name] = (ds.energy_eV.values, normalize(ds.energy_eV.values, ds[first].values,
                                                     pre_edge_eV=win["pre_edge_eV"], post_edge_eV=win["post_edge_eV"],
                                                     what=str(ref_path))[0])
    rows = []
    for path in paths:
        ds = open_spectrum(path, normalize_i0=normalize_i0)
        _check_covers(ds.energy_eV.values, win, label, str(path), ds.attrs.get("metadata"))
        soc = soc_from_name(path, soc_pattern) if soc_pattern else math.nan
        names = [k for k in ds.data_vars if k.lower() not in ("i0", "izero", "mesh")] if channels is None else \
            list(channels)
        for name in names:
            match = next((k for k in ds.data_vars if k.lower() == str(name).lower()), None)
            if match is None:
                raise ParameterError(f"{path}: no channel {name!r}; it has {', '.join(ds.data_vars)}")
            what = f"{path} ({match})"
            e = ds.energy_eV.values
            norm, jump = normalize(e, ds[match].values, pre_edge_eV=win["pre_edge_eV"],
                                   post_edge_eV=win["post_edge_eV"], what=what)
            row = {"file": path.name, "soc_percent": soc, "mode": match, "edge_jump": jump,
                   **l3_ratio(e, norm, low_eV=win["low_eV"], high_eV=win["high_eV"], what=what)}
            if refs:
                fit = fit_components(e, norm, refs)
                for ref_name, frac in fit["fractions"].items():
                    row[f"fraction_{ref_name}"] = frac
                if len(refs) == 2:
                    a, b = list(refs)
                    wa, wb = fit["weights"][a], fit["weights"][b]
                    row[f"ratio_{a}_{b}"] = wa / wb if wb > 0 else math.inf
                row["fit_rms"] = fit["rms"]
            rows.append(row)
    return pd.DataFrame(rows)
