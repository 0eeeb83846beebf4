"""``python -m sim.sensitivity``: which parameters drive which outcomes (Sobol or Morris).

The code is :mod:`sim.study.sensitivity`; this module only runs it.
"""

from .study.sensitivity import main

if __name__ == "__main__":
    raise SystemExit(main())
