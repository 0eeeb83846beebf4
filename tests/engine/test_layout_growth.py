"""The counts of docs/ARCHITECTURE.md's "how to add", tried: a copy of the package with one more market
parameter row and one more state row in sim/engine/layout.py, and no other line changed, still runs,
and its kernel still equals the reference bit for bit. The new state is carried, stored and tallied
(per firm, per segment, and as a recorded mean) by code that loops over the table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import sim

_PROBE = r"""
import json, sys
import numpy as np
import sim
from sim.engine import kernels as K, reference as ref
from sim.engine.layout import PARAMS, STATES, P, Sm, St, T, S
from sim.model import CustomerModel
from sim.settings.compose import compose_config

cfg = compose_config(["scenario=baseline", "customers.n=3000", "steps=4", "seed=2"])
model = CustomerModel(cfg)
g = np.random.default_rng(0)
model.pop.state[St.LOYALTY] = g.uniform(0, 1, model.n).astype(np.float32)
out = {"n_states": len(STATES), "n_params": len(PARAMS), "par": float(model.par[P.PROBE_RATE])}
for t in range(1, 3):
    key = np.uint64(model.prepare_step(t))
    a, b = model.pop.copy(), model.pop.copy()
    K.customer_step(key, model.par, model.firm_cols, model.interv, a.traits, a.state, a.small, a.provider,
                    a.tenure, model.bounds, model.tally, model.seg_tally)
    tally, seg = ref.customer_step(key, model.par, model.firm_cols, model.interv, b.traits, b.state, b.small,
                                   b.provider, b.tenure, len(model.segment_names))
    for x, y in ((a.provider, b.provider), (a.state, b.state), (a.small, b.small), (a.tenure, b.tenure)):
        assert np.array_equal(x, y)
    np.testing.assert_allclose(model.tally.sum(axis=0), tally, rtol=1e-12)
    np.testing.assert_allclose(model.seg_tally.sum(axis=0), seg, rtol=1e-12)
    assert np.array_equal(a.state[St.LOYALTY], model.pop.state[St.LOYALTY])  # no rule: carried unchanged
    loyal = a.state[St.LOYALTY].astype(np.float64)
    by_firm = np.bincount(a.provider[a.provider >= 0], loyal[a.provider >= 0], minlength=len(model.firm_names))
    np.testing.assert_allclose(model.tally.sum(axis=0)[:, T.LOYALTY], by_firm, rtol=1e-12)
    by_seg = np.bincount(a.small[Sm.SEGMENT], loyal, minlength=len(model.segment_names))
    np.testing.assert_allclose(model.seg_tally.sum(axis=0)[:, S.LOYALTY], by_seg, rtol=1e-12)
    model.pop = a
model.step()
ds = sim.dataset(model)
out["recorded"] = "loyalty" in ds and ds["loyalty"].attrs.get("long_name") == "mean loyalty of the firm's customers"
print(json.dumps(out))
"""


def _append_row(text: str, opening: str, row: str) -> str:
    """``text`` with ``row`` added as the last entry of the tuple that opens with the line ``opening``."""
    start = text.index("\n" + opening + "\n") + 1
    end = text.index("\n)\n", start)
    return text[:end] + "\n" + row + text[end:]


def test_a_parameter_row_and_a_state_row_are_all_the_table_needs(tmp_path):
    root = Path(sim.__file__).resolve().parents[1]
    copy = tmp_path / "tree"
    shutil.copytree(root / "sim", copy / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("conf", "scenarios"):
        os.symlink(root / name, copy / name)
    layout = copy / "sim" / "engine" / "layout.py"
    text = layout.read_text()
    state = ('    Row("loyalty", "1", "a probe state",\n'
             '        mean=("loyalty", "mean loyalty of the firm\'s customers", "1"), per_segment=True),')
    text = _append_row(text, "STATES = (", state)
    text = _append_row(text, "PARAMS = (", '    Param("probe_rate", "market.contact_rate"),')
    layout.write_text(text)
    env = {**os.environ, "PYTHONPATH": str(copy), "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "SIM_COMPILE_HELPER": "0"}
    proc = subprocess.run([sys.executable, "-c", _PROBE], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    from sim.engine.layout import PARAMS, STATES
    from sim.settings.compose import compose_config

    assert out["n_states"] == len(STATES) + 1 and out["n_params"] == len(PARAMS) + 1
    assert out["par"] == compose_config(["scenario=baseline"]).market.contact_rate
    assert out["recorded"]
