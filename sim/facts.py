"""``python -m sim.facts``: the stylized facts over seeds and a parameter sample (docs/FACTS.md).

The code is :mod:`sim.study.facts`; this module only runs it.
"""

from .study.facts import main

if __name__ == "__main__":
    raise SystemExit(main())
