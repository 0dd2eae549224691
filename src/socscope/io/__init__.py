"""Readers and writers: one module per format.

* :func:`load_cycler` — cycler records (Bio-Logic .mpr/.mpt, Neware .ndax/.nda, CSV) in one schema.
* :func:`open_movie` / :func:`bin_frames` — microscopy image stacks (TIFF, OME-TIFF, ImageJ, video).
* :func:`save_results` / :func:`open_results` — simulation results as netCDF.
* :func:`open_afm` — AFM maps (Asylum .ibw, Gwyddion .gwy, Bruker, TIFF, NumPy).
* :func:`open_spectrum` — NEXAFS spectra (two-column text, beamline CSV, .xdi).
* :func:`read_spicp_events` / :func:`read_spicp_transient` — single-particle ICP-OES event tables and transients.
"""

from .afm import open_afm
from .cycler import SCHEMA, detect_vendor, load_cycler
from .movies import bin_frames, open_movie
from .results import open_results, save_results
from .xas import open_spectrum
from .spicp import read_events as read_spicp_events
from .spicp import read_transient as read_spicp_transient

__all__ = ["load_cycler", "detect_vendor", "SCHEMA", "save_results", "open_results", "open_movie", "bin_frames",
           "open_afm", "open_spectrum", "read_spicp_events", "read_spicp_transient"]
