"""Customer relationships on the digital x human quadrant map: an agent-based model.

Firms are Mesa agents; customers are arrays moved by Numba kernels. Start with
:func:`run` (returns an xarray Dataset) or ``python -m sim`` (writes results/).
"""

from .api import align_runs, build, dataset, run
from .results.output import load
from .settings.schema import ConfigError, SimConfig

__all__ = ["ConfigError", "SimConfig", "align_runs", "build", "dataset", "load", "run"]
