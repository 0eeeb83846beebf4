"""The configuration: ``schema`` (the config dataclasses with their ranges, units and docs;
``validate``; ``ConfigError``), ``files`` (where config files are; config files are data),
``errors`` (a one-line message for every kind of bad config) and ``compose`` (override strings
to a validated ``SimConfig`` through Hydra's composition; sweep expansion).

May import from sim: ``sim.engine`` (docs/ARCHITECTURE.md, checked by tests/test_documents.py).
"""
