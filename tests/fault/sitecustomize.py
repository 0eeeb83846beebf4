"""Fault injection for tests: with ``SIM_TEST_FAIL_SEED=K`` on the path (``PYTHONPATH=tests/fault``),
every process (the sweep's workers too) makes a run with ``seed=K`` raise in its third step.

This is the only way to make one job of a real, multi-process sweep fail at run time:
its config is valid (a bad config is refused before any job starts).
"""

import os

if os.environ.get("SIM_TEST_FAIL_SEED", "").isdigit():
    from sim.model import CustomerModel

    _fail_seed = int(os.environ["SIM_TEST_FAIL_SEED"])
    _step = CustomerModel.step

    def _failing_step(self):
        if self.cfg.seed == _fail_seed and self.recorder.filled == 2:
            raise FloatingPointError(f"injected failure in step 3 (seed {_fail_seed})")
        _step(self)

    CustomerModel.step = _failing_step

if os.environ.get("SIM_TEST_NOW"):
    # Hydra's ${now:...} (the default run and sweep folder names) at a fixed moment, so that two runs
    # started by a test get the same default folder name, as two runs started in the same second do
    from datetime import datetime as _datetime

    import hydra.core.utils as _hydra_utils

    _now = _datetime.fromisoformat(os.environ["SIM_TEST_NOW"])

    class _FrozenDatetime(_datetime):
        @classmethod
        def now(cls, tz=None):
            return _now

    _hydra_utils.datetime = _FrozenDatetime
