"""Ni L-edge NEXAFS: synthetic spectra from known components and known peaks."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from socscope.analysis.nexafs import (
    analyze_spectra,
    fit_components,
    l3_ratio,
    normalize,
)
from socscope.errors import ParameterError

E = np.round(np.arange(835.0, 890.0001, 0.05), 2)  # eV, peaks on grid points


def gauss(centre, height, sigma=0.35):
    return height * np.exp(-0.5 * ((E - centre) / sigma) ** 2)


def step(centre, height, width=0.6):
    return height * (0.5 + np.arctan((E - centre) / width) / np.pi)


EDGE = step(853.5, 2 / 3) + step(871.0, 1 / 3)
NI2 = EDGE + gauss(853.0, 3.0) + gauss(855.2, 1.0) + gauss(870.4, 1.0) + gauss(871.8, 0.8)  # ionic Ni2+
NI3 = EDGE + gauss(853.3, 1.0) + gauss(855.4, 3.0) + gauss(871.4, 1.5)                       # covalent Ni3+


def test_two_components_give_back_their_ratio():
    rng = np.random.default_rng(0)
    refs = {name: (E, normalize(E, spec)[0]) for name, spec in (("Ni2", NI2), ("Ni3", NI3))}
    for a, b in ((0.8, 0.2), (0.5, 0.5), (0.25, 0.75)):
        # a sloping background and 0.5 % noise of the edge jump, as a TEY spectrum has
        measured = 40.0 * (a * NI2 + b * NI3) + 3.0 + 0.01 * (E - 835.0) + rng.normal(0, 0.2, E.size)
        norm, _ = normalize(E, measured)
        fit = fit_components(E, norm, refs)
        # within 2 % (the bound); the noise moves the ratio by ~0.1 %
        assert_allclose(fit["weights"]["Ni2"] / fit["weights"]["Ni3"], a / b, rtol=0.02)
        assert_allclose(fit["fractions"]["Ni2"], a, rtol=0.02)


def test_peak_ratio_of_known_peaks():
    from scipy.special import erf

    h_lo, h_hi = 2.0, 1.4
    # an error-function edge at 862 eV: flat to round-off in the pre-edge window and under the peaks
    edge = 0.5 * (1 + erf((E - 862.0) / 0.5))
    spectrum = 5.0 * (gauss(853.0, h_lo) + gauss(855.5, h_hi) + edge) + 7.0 + 0.02 * (E - 835.0)
    norm, jump = normalize(E, spectrum)
    out = l3_ratio(E, norm)
    # the Gaussians' neighbours add exp(-25) of a peak at the other one: far below the tolerances
    assert_allclose(jump, 5.0, rtol=1e-9)
    assert_allclose(out["high_low_ratio"], h_hi / h_lo, rtol=1e-9)
    assert out["low_peak_eV"] == 853.0 and out["high_peak_eV"] == 855.5


def test_ratio_falls_on_oxidation_and_files(tmp_path):
    """Files at three SOCs, TEY and FY: the high/low ratio rises with the Ni3+ share."""
    for soc, share in ((0, 0.2), (50, 0.5), (100, 0.9)):
        tey = 10 * ((1 - share) * NI2 + share * NI3) + 1.0
        fy = 10 * ((1 - 0.5 * share) * NI2 + 0.5 * share * NI3)
        np.savetxt(tmp_path / f"NCM_SOC{soc}.csv", np.column_stack([E, tey, fy, np.full(E.size, 2.0)]),
                   delimiter=",", header="Energy (eV),TEY,FY,I0", comments="")
    table = analyze_spectra(sorted(tmp_path.glob("*.csv")), soc_pattern=r"SOC(\d+)", normalize_i0=True)
    assert set(table["mode"]) == {"TEY", "FY"} and len(table) == 6
    for mode in ("TEY", "FY"):
        ratios = table[table["mode"] == mode].sort_values("soc_percent")["high_low_ratio"].to_numpy()
        assert np.all(np.diff(ratios) > 0)


def test_windows_outside_the_spectrum_are_named():
    short = E[E < 870]
    with pytest.raises(ParameterError, match=r"post_edge_eV window 878-885 eV holds 0 point"):
        normalize(short, np.ones(short.size))


def test_a_hard_x_ray_k_edge_is_named_in_the_users_terms(tmp_path):
    # a Ni K-edge XDI file (8.1-9.6 keV) given to the L3 analysis: the message names what the spectrum
    # covers, what the windows need and the edge the header names, not a keyword of normalize()
    e = np.linspace(8133.0, 9567.0, 200)
    header = ["# XDI/1.0", "# Column.1: energy eV", "# Column.2: mutrans", "# Column.3: i0", "# Element.edge: K",
              "# Element.symbol: Ni", "# Scan.edge_energy: 8333.0", "#----"]
    path = tmp_path / "ni_k.xdi"
    path.write_text("\n".join(header + [f"{x:.2f} {np.arctan(x - 8333.0):.6f} 1e5" for x in e]) + "\n")
    with pytest.raises(ParameterError) as info:
        analyze_spectra([path])
    text = str(info.value)
    assert "covers 8133-9567 eV, but the Ni L3 windows need 840-885 eV" in text
    assert "this is a Ni K-edge spectrum (edge at 8333 eV, from its header)" in text
    assert "pre_edge_eV" not in text
    # without a header naming the edge, the same message without that part
    plain = tmp_path / "plain.csv"
    np.savetxt(plain, np.column_stack([e, np.arctan(e - 8333.0)]), delimiter=",", header="Energy,FY", comments="")
    with pytest.raises(ParameterError, match=r"plain\.csv: the spectrum covers 8133-9567 eV, .*840-885 eV") as info:
        analyze_spectra([plain])
    assert "this is" not in str(info.value)
