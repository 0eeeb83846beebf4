"""Running the model: ``cli`` (``python -m sim``), ``helptext`` (its ``--help``), ``job`` (the task
function every Hydra launcher runs), ``guard`` (signals as exceptions), ``progress``,
``launchers`` (which launcher needs which extra), ``sweep`` (sweeps, ``run_jobs``, resume),
``collect`` (``python -m sim.collect``), ``design`` (``run_design``: parameter points times seeds
as a sweep) and ``docs`` (the generated tables of docs/ODD.md and docs/OUTPUTS.md).

May import from sim: ``sim.api``, ``sim.engine``, ``sim.model``, ``sim.plots``, ``sim.results``,
``sim.settings``, ``sim.study`` (only ``sim/runner/docs.py``) (docs/ARCHITECTURE.md, checked by
tests/test_documents.py).
"""
