"""Interleaved timing of kernel variants, for performance work on ``sim/kernels.py``.

    NUMBA_NUM_THREADS=2 python benchmarks/compare_kernels.py 1000000 30 sim/kernels.py /tmp/variant.py

Each file is a copy of ``sim/kernels.py`` (edited by hand); each is loaded as the
kernel of its own copy of the ``sim`` package (``simvar0``, ``simvar1``...; the
kernel imports the layout, RNG and LLVM helpers relatively). A benchmark model
(``run.BENCH_OVERRIDES``) of N customers runs three steps, and then every
variant's ``customer_step`` is called REPS times on copies of the same state, the
variants taking turns call by call, so that a machine whose speed drifts over
minutes (a shared VM) moves them all alike. Prints the median, lower quartile and
minimum per variant (ms), and whether its results (state and tallies of one more
call) equal the first variant's bit for bit. Numba's cache for the variants goes to a fresh temporary
folder.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__)
        return 2
    os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="kernel-variants-"))
    import numpy as np

    import sim
    from benchmarks.run import _kernel_inputs, _median, bench_overrides

    n, reps, files = int(argv[0]), int(argv[1]), argv[2:]
    # the model first: importing a copy of the package registers its own config classes with
    # Hydra's config store, after which sim's composition no longer sees a SimConfig
    model = sim.build(bench_overrides(n), seed=0)
    for _ in range(3):
        model.step()
    variants = []
    work = Path(tempfile.mkdtemp(prefix="kernel-variant-pkgs-"))
    sys.path.insert(0, str(work))
    for k, f in enumerate(files):
        pkg = work / f"simvar{k}"
        shutil.copytree(ROOT / "sim", pkg, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(f, pkg / "kernels.py")
        variants.append((f, importlib.import_module(f"simvar{k}.kernels")))
    key = np.uint64(_kernel_inputs(model))  # layout and inputs: the installed sim's (variants share them)
    saved = model.pop.copy()
    times: dict[str, list[float]] = {f: [] for f, _ in variants}
    for r in range(reps + 2):  # the first two rounds compile and warm up
        for f, mod in variants:
            p = saved.copy()
            t = time.perf_counter()
            mod.customer_step(key, model.par, model.firm_cols, model.interv, p.traits, p.state, p.small,
                              p.provider, p.tenure, model.bounds, model.tally, model.seg_tally)
            if r >= 2:
                times[f].append(time.perf_counter() - t)
    # one more call each, on a fresh copy: do the variants give the first one's results, bit for bit?
    outs = []
    for _f, mod in variants:
        p = saved.copy()
        tally, seg_tally = model.tally.copy(), model.seg_tally.copy()
        mod.customer_step(key, model.par, model.firm_cols, model.interv, p.traits, p.state, p.small,
                          p.provider, p.tenure, model.bounds, tally, seg_tally)
        outs.append([p.state, p.small, p.provider, p.tenure, tally, seg_tally])
    for (f, ts), out in zip(times.items(), outs, strict=True):
        ts = sorted(ts)
        same = all(np.array_equal(a, b) for a, b in zip(out, outs[0], strict=True))
        print(f"{f:40s} median {1e3 * _median(ts):7.2f}  q25 {1e3 * ts[len(ts) // 4]:7.2f}  "
              f"min {1e3 * ts[0]:7.2f} ms  {'identical' if same else 'DIFFERENT'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
