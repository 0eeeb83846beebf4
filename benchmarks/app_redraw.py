"""Classroom page: a step plus everything the page redraws, at 100,000 and 1,000,000 customers.

What one step of Play costs on the server: ``CustomerModel.step()``, the recorded steps
as a Dataset (``sim.dataset``), the five figure panels drawn at the size they have on a
1400 x 900 screen and encoded as PNG, the numbers table, the status line, the read-outs
and the event log (:mod:`sim.app.session`, :mod:`sim.app.page`). Not included: sending
the page's changes over the websocket and the browser drawing them (about 30 ms more on
the machine below, see the page's browser tests).

Usage: ``python benchmarks/app_redraw.py [--steps 12] [--sizes 100000 1000000]``; writes
``benchmarks/app_results.md`` and ``app_results.json`` and prints the table. Run it on a
quiet machine (the load average is printed with the results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.app import figures as F  # noqa: E402
from sim.app.page import firm_table_html  # noqa: E402
from sim.app.session import Session  # noqa: E402
from sim.app.settings import Settings  # noqa: E402

#: Panel sizes (CSS pixels) the page gives the five figures on a 1400 x 900 screen.
PANEL_SIZE = (345, 285)
#: The page's budget for a step plus redraw at 100,000 customers, milliseconds.
BUDGET_MS = 150.0


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure(customers: int, steps: int) -> dict:
    session = Session(Settings(customers=customers))
    run = session.run
    for name in F.PANELS:  # the static parts are drawn once per model
        run.png(name, PANEL_SIZE)
    for _ in range(3):  # warm-up steps
        run.step()
    step_ms, redraw_ms, total_ms, redraw_cpu_ms = [], [], [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        run.step()
        t1 = time.perf_counter()
        c1 = time.process_time()
        for name in F.PANELS:
            run.png(name, PANEL_SIZE)
        firm_table_html(session)
        run.status()
        run.readouts()
        run.events()
        t2 = time.perf_counter()
        redraw_cpu_ms.append(1000 * (time.process_time() - c1))
        step_ms.append(1000 * (t1 - t0))
        redraw_ms.append(1000 * (t2 - t1))
        total_ms.append(1000 * (t2 - t0))
    session.close()
    return {"customers": customers, "steps": steps, "build_s": run.build_seconds,
            "step_ms": statistics.median(step_ms), "redraw_ms": statistics.median(redraw_ms),
            "redraw_cpu_ms": statistics.median(redraw_cpu_ms), "total_ms": statistics.median(total_ms),
            "total_max_ms": max(total_ms),
            "steps_per_s": 1000 / statistics.median(total_ms), "samples_ms": total_ms}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = ap.parse_args(argv)
    machine = {"cpu": cpu_name(), "usable_cores": len(os.sched_getaffinity(0)),
               "load_average": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
               "numba_threads": os.environ["NUMBA_NUM_THREADS"], "date": time.strftime("%Y-%m-%d %H:%M")}
    rows = [measure(n, args.steps) for n in args.sizes]
    machine["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    (HERE / "app_results.json").write_text(json.dumps({"machine": machine, "results": rows}, indent=1) + "\n")
    lines = [
        "# Classroom page: step plus redraw",
        "",
        f"`python benchmarks/app_redraw.py` · {machine['date']} · {machine['cpu']} · {machine['usable_cores']} "
        f"usable cores · {machine['numba_threads']} Numba threads · Python {machine['python']} · load average "
        f"{machine['load_average'][0]:.2f} before, {machine['load_average_after'][0]:.2f} after",
        "",
        "Medians over the steps after 3 warm-up steps of the default scenario (disruptor); the five panels at "
        f"{PANEL_SIZE[0]} x {PANEL_SIZE[1]} CSS pixels. Budget: {BUDGET_MS:.0f} ms at 100,000 customers. "
        "Wall times; the redraw runs in one thread, so its CPU time is what it costs on a quiet machine "
        "(wall times above it mean other processes shared the cores).",
        "",
        "| customers | build (s) | step (ms) | redraw (ms) | redraw CPU (ms) | step + redraw (ms) | slowest (ms) | "
        "steps/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['customers']:,} | {r['build_s']:.1f} | {r['step_ms']:.0f} | {r['redraw_ms']:.0f} | "
                     f"{r['redraw_cpu_ms']:.0f} | "
                     f"{r['total_ms']:.0f} | {r['total_max_ms']:.0f} | {r['steps_per_s']:.1f} |")
    text = "\n".join(lines) + "\n"
    (HERE / "app_results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
