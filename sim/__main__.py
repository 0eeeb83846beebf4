"""``python -m sim``: see :mod:`sim.runner.cli`."""

from .runner.cli import main

main()
