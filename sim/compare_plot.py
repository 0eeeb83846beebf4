"""``python -m sim.compare_plot``: small multiples of several runs side by side.

The code is :mod:`sim.plots.compare_plot`; this module only runs it.
"""

from .plots.compare_plot import main

if __name__ == "__main__":
    raise SystemExit(main())
