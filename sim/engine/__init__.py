"""The customers and the Numba kernels that move them: ``layout`` (the one table of customer rows,
market parameters, firm columns, tallies and random streams; every index and count derives from it),
``state`` (the population as a struct of arrays), ``rng`` (counter-based draws), the kernel split by
concern (``table``, ``choice``, ``update``, ``passes``, ``tally``, ``scalars``, ``launch``,
``compile``, ``kernels``), ``llvm`` (intrinsics), ``jitcache`` (Numba's on-disk cache), ``reference``
(the plain-Python specification of one customer's step) and ``yardsticks/`` (the same step in NumPy
and with one Mesa agent per customer).

May import from sim: nothing (docs/ARCHITECTURE.md, checked by tests/test_documents.py).
"""
