"""Generic numerics: finite-volume graphs, Kirchhoff tables, sparse solves, BDF2 time stepping.

Nothing here knows about batteries.
"""

from .fv import FVGrid, laplacian_matrix, stack_grids
from .integrate import Coupling, CouplingTerms, Event, Segment, SegmentResult, SolverOptions, integrate_segment
from .kirchhoff import KirchhoffTable
from .linear import SparseOperator, TridiagonalOperator, make_operator
from .network import ConductanceNetwork, edge_currents, laplacian_apply, reachable

__all__ = [
    "FVGrid", "laplacian_matrix", "stack_grids", "Coupling", "CouplingTerms", "Event", "Segment", "SegmentResult",
    "SolverOptions", "integrate_segment", "KirchhoffTable", "SparseOperator",
    "TridiagonalOperator", "make_operator", "ConductanceNetwork", "edge_currents", "laplacian_apply", "reachable",
]
