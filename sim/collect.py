"""``python -m sim.collect``: merge a sweep folder from disk into one Dataset (or resume it).

The code is :mod:`sim.runner.collect`; this module only runs it.
"""

from .runner.collect import main

if __name__ == "__main__":
    raise SystemExit(main())
