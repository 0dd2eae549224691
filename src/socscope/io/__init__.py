"""Readers and writers: one module per format.

* :func:`load_cycler` — cycler records (Bio-Logic .mpr/.mpt, Neware .ndax/.nda, CSV) in one schema.
* :func:`open_movie` / :func:`bin_frames` — microscopy image stacks (TIFF, OME-TIFF, ImageJ, video).
* :func:`save_results` / :func:`open_results` — simulation results as netCDF.
* :func:`open_afm` — AFM maps (Asylum .ibw, Gwyddion .gwy, Bruker, TIFF, NumPy).
* :func:`open_spectrum` — NEXAFS spectra (two-column text, beamline CSV, .xdi).
"""

from .afm import open_afm
from .cycler import SCHEMA, detect_vendor, load_cycler
from .movies import bin_frames, open_movie
from .results import open_results, save_results
from .xas import open_spectrum

__all__ = ["load_cycler", "detect_vendor", "SCHEMA", "save_results", "open_results", "open_movie", "bin_frames",
           "open_afm", "open_spectrum"]
