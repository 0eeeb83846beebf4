"""``python -m sim.facts``: the stylized facts at the defaults, ablated, over parameter samples and
structural variations (docs/FACTS.md).

The facts are :mod:`sim.study.facts`, the report :mod:`sim.study.robustness`; this module only runs it.
"""

from .study.robustness import main

if __name__ == "__main__":
    raise SystemExit(main())
