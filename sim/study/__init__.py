"""Analysis on top of runs: ``inputs`` and ``analysis`` (reading results; means and intervals over
seeds, paired differences, outcome tables, lifetime value), ``compare`` (``python -m sim.compare``),
``options`` (what sensitivity and calibrate share), ``sensitivity`` (Morris, Sobol), ``calibrate``
(Optuna), ``ema`` and ``discovery`` (the EMA Workbench, PRIM), ``facts`` and ``robustness`` (the
stylized facts, ``make facts``) and ``lecture`` (the lecture guide's measured claims).

May import from sim: ``sim``, ``sim.api``, ``sim.engine``, ``sim.results``, ``sim.runner``,
``sim.settings`` (docs/ARCHITECTURE.md, checked by tests/test_documents.py).
"""
