"""``python -m sim.calibrate``: fit parameters so simulated outcomes match given figures.

The code is :mod:`sim.study.calibrate`; this module only runs it.
"""

from .study.calibrate import main

if __name__ == "__main__":
    raise SystemExit(main())
