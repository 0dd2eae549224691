"""Readers and writers: one module per format.

* :func:`load_cycler` — cycler records (Bio-Logic .mpr/.mpt, Neware .ndax/.nda, CSV) in one schema.
* :func:`save_results` / :func:`open_results` — simulation results as netCDF.
"""

from .cycler import SCHEMA, detect_vendor, load_cycler
from .results import open_results, save_results

__all__ = ["load_cycler", "detect_vendor", "SCHEMA", "save_results", "open_results"]
