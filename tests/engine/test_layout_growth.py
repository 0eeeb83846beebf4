"""The counts of docs/ARCHITECTURE.md's "how to add", tried: a copy of the package with one more market
parameter (a field in sim/settings/schema.py and its row in sim/engine/layout.py) and one more state row
in sim/engine/layout.py, and no other line changed, still runs, and its kernel still equals the reference
and the NumPy yardstick bit for bit. The new parameter is validated, documented by the generated tables
and filled into the kernel's ``par``; the new state is carried, stored and tallied (per firm, per segment,
and as a recorded mean) by code that loops over the table."""

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
from sim.engine.yardsticks import numpy_step
from sim.model import CustomerModel
from sim.runner.docs import parameter_table
from sim.settings.compose import compose_config
from sim.settings.schema import ConfigError

cfg = compose_config(["scenario=baseline", "customers.n=3000", "steps=4", "seed=2", "market.probe_rate=0.375"])
try:
    compose_config(["market.probe_rate=2"])
    refused = ""
except ConfigError as exc:
    refused = str(exc)
model = CustomerModel(cfg)
g = np.random.default_rng(0)
model.pop.state[St.LOYALTY] = g.uniform(0, 1, model.n).astype(np.float32)
out = {"n_states": len(STATES), "n_params": len(PARAMS), "par": float(model.par[P.PROBE_RATE]),
       "default": compose_config([]).market.probe_rate, "refused": refused,
       "documented": "| `market.probe_rate` |" in parameter_table()}
for t in range(1, 3):
    key = np.uint64(model.prepare_step(t))
    a, b, c = model.pop.copy(), model.pop.copy(), model.pop.copy()
    K.customer_step(key, model.par, model.firm_cols, model.interv, a.traits, a.state, a.small, a.provider,
                    a.tenure, model.bounds, model.tally, model.seg_tally)
    tally, seg = ref.customer_step(key, model.par, model.firm_cols, model.interv, b.traits, b.state, b.small,
                                   b.provider, b.tenure, len(model.segment_names))
    v_tally, v_seg = numpy_step.customer_step(key, model.par, model.firm_cols, model.interv, c.traits, c.state,
                                              c.small, c.provider, c.tenure, len(model.segment_names))
    for other in (b, c):
        for x, y in ((a.provider, other.provider), (a.state, other.state), (a.small, other.small),
                     (a.tenure, other.tenure)):
            assert np.array_equal(x, y)
    np.testing.assert_allclose(model.tally.sum(axis=0), tally, rtol=1e-12)
    np.testing.assert_allclose(model.seg_tally.sum(axis=0), seg, rtol=1e-12)
    np.testing.assert_allclose(v_tally, tally, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(v_seg, seg, rtol=1e-9, atol=1e-9)
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


def _insert_before(text: str, opening: str, new: str) -> str:
    """``text`` with the line ``new`` inserted before the one line that opens with ``opening``."""
    assert text.count("\n" + opening) == 1, opening
    return text.replace("\n" + opening, "\n" + new + "\n" + opening)


def test_a_parameter_and_a_state_row_are_all_the_code_needs(tmp_path):
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
    text = _append_row(text, "PARAMS = (", '    Param("probe_rate", "market.probe_rate"),')
    layout.write_text(text)
    schema = copy / "sim" / "settings" / "schema.py"
    probe_rate = '    probe_rate: float = param(0.25, 0, 1, "probability/step", "a probe parameter")'
    schema.write_text(_insert_before(schema.read_text(), "    contact_rate: float = ", probe_rate))  # in MarketConfig
    env = {**os.environ, "PYTHONPATH": str(copy), "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "SIM_COMPILE_HELPER": "0"}
    proc = subprocess.run([sys.executable, "-c", _PROBE], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    from sim.engine.layout import PARAMS, STATES

    assert out["n_states"] == len(STATES) + 1 and out["n_params"] == len(PARAMS) + 1
    assert out["par"] == 0.375 and out["default"] == 0.25 and out["documented"]
    assert out["refused"] == "market.probe_rate = 2.0 is out of range: allowed [0, 1]"
    assert out["recorded"]
