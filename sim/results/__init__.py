"""What a run records and writes: ``output`` (the recorded variables, the Recorder, the Dataset,
``load``, the DataCollector), ``runfolder`` (the run-folder protocol: a folder holds a complete
result if and only if it holds ``run.nc``), ``memory`` (the estimate checked before allocating),
``summary`` (the text table of a run), ``sweepfolder`` (a sweep folder's state) and ``merge``
(a sweep's jobs merged into one Dataset; ``load_sweep``).

May import from sim: ``sim.engine``, ``sim.settings`` (docs/ARCHITECTURE.md, checked by
tests/test_documents.py).
"""
