"""``python -m sim.compare``: A is really different from B, and by how much: paired differences of two results.

The code is :mod:`sim.study.compare`; this module only runs it.
"""

from .study.compare import main

if __name__ == "__main__":
    raise SystemExit(main())
