"""The firms, Mesa agents: ``agents`` (``Firm``: kernel columns, costs, decisions, accounts),
``demand`` (the latent-class logit a firm forecasts with, and the price equilibrium), ``pricing``
and ``strategies`` (the rules, by name).

May import from sim: ``sim.engine``, ``sim.settings`` (docs/ARCHITECTURE.md, checked by
tests/test_documents.py).
"""
