"""Single-particle ICP-OES (Kröger et al.): detection, ratios, calibration, diverging particles, inactive Li.

Pure functions on arrays and DataFrames; readers are in :mod:`socscope.io.spicp`.
"""

from .calibration import (
           Calibration,
           calibrate,
           calibrate_ratios,
           dol_from_ratio,
           expected_frame,
           load_calibration,
)
from .detection import (
           Threshold,
           detect_events,
           detection_threshold,
           integrate_events,
           size_detection_limit,
)
from .heterogeneity import diverging_fractions, mixture_fraction
from .inactive import (
           NMC532_THEORETICAL_MAH_G,
           inactive_li_capacity,
           li_capacity_from_dol,
)
from .ratios import RatioFit, fit_main_population, intensity_ratios

__all__ = [
           "NMC532_THEORETICAL_MAH_G",
           "Calibration",
           "RatioFit",
           "Threshold",
           "calibrate",
           "calibrate_ratios",
           "detect_events",
           "detection_threshold",
           "diverging_fractions",
           "dol_from_ratio",
           "expected_frame",
           "fit_main_population",
           "inactive_li_capacity",
           "integrate_events",
           "intensity_ratios",
           "li_capacity_from_dol",
           "load_calibration",
           "mixture_fraction",
           "size_detection_limit",
]
