"""Performance benchmarks of the customer step: ``make bench`` (or ``python benchmarks/run.py``).

Writes ``benchmarks/results.md`` and ``benchmarks/results.json``; see
``benchmarks/README.md`` for what each number means. Every measurement that
depends on the thread count, on a fresh process or on peak memory runs in its
own subprocess (``python benchmarks/run.py worker ...``); timings are medians
over repeated steps. Options: ``--quick`` (smaller sizes, for a smoke test),
``--skip-10m`` (no 10-million-customer run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.engine.yardsticks import ALL_MECHANISMS  # noqa: E402

#: The benchmark market: the disruptor scenario with the disruptor present from the
#: start (5 firms) and every mechanism on (the switches of
#: sim.engine.yardsticks.ALL_MECHANISMS: soft and hard steering, personalisation, interventions, limited
#: human capacity, Bass adoption), with the shock window open all the time.
BENCH_OVERRIDES = ["scenario=disruptor", "firms.disruptor.enter_step=0", *ALL_MECHANISMS, "market.shock.start=0"]
#: The unit of a sweep: one scenario, 10,000 customers, 120 steps.
SWEEP_UNIT = ["scenario=baseline", "customers.n=10000", "steps=120"]


def bench_overrides(n: int, steps: int = 120) -> list[str]:
    """The benchmark market with ``n`` customers and a horizon of ``steps`` (shock always on)."""
    return [*BENCH_OVERRIDES, f"customers.n={n}", f"steps={steps}", f"market.shock.end={steps - 1}"]


def _median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _state_hash(model) -> str:
    h = hashlib.sha256()
    p = model.pop
    for a in (p.traits, p.state, p.small, p.provider, p.tenure, model.tally.sum(axis=0),
              model.seg_tally.sum(axis=0)):
        h.update(a.tobytes())
    return h.hexdigest()


def _kernel_inputs(model):
    """Fill the model's kernel inputs for its next step (as model.step does before the kernel)."""
    return model.prepare_step(model.steps + 1)


# ------------------------------------------------------------------------------ workers
def worker_steps(n: int, steps: int, warmup: int, kernel_reps: int) -> dict:
    """Model steps at N customers: per-step times of model.step() and of the kernel alone."""
    import numpy as np

    import sim
    from sim.engine import kernels as K

    t0 = time.perf_counter()
    model = sim.build(bench_overrides(n), seed=0)
    build_s = time.perf_counter() - t0
    step_s = []
    for i in range(warmup + steps):
        t = time.perf_counter()
        model.step()
        if i >= warmup:
            step_s.append(time.perf_counter() - t)
    state_hash = _state_hash(model)
    key = np.uint64(_kernel_inputs(model))
    p = model.pop.copy()
    kernel_s = []
    for _ in range(kernel_reps):
        t = time.perf_counter()
        K.customer_step(key, model.par, model.firm_cols, model.interv, p.traits, p.state, p.small,
                        p.provider, p.tenure, model.bounds, model.tally, model.seg_tally)
        kernel_s.append(time.perf_counter() - t)
    return {
        "n": n, "steps": steps, "build_s": build_s, "step_ms": 1e3 * _median(step_s),
        "step_ms_all": [1e3 * x for x in step_s], "kernel_ms": 1e3 * _median(kernel_s),
        "kernel_ms_min": 1e3 * min(kernel_s), "state_hash": state_hash,
        "state_bytes_per_customer": model.pop.nbytes / n, "peak_rss_bytes": _peak_rss_bytes(),
        "threads": int(os.environ.get("NUMBA_NUM_THREADS", "0")) or None,
    }


def worker_floor(n: int, reps: int) -> dict:
    """The read-and-write pass over the state arrays at N customers (ms, median)."""
    import numpy as np

    from benchmarks.floor import read_write_pass
    from sim.engine import kernels as K
    from sim.engine.state import Population

    pop = Population.empty(n)
    pop.state[:] = np.float32(0.5)
    bounds = K.chunk_bounds(n)
    args = (pop.traits, pop.state, pop.small, pop.provider, pop.tenure, bounds)
    for _ in range(3):
        read_write_pass(*args)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        read_write_pass(*args)
        ts.append(time.perf_counter() - t)
    moved = sum(a.nbytes for a in (pop.traits, pop.state, pop.small, pop.provider, pop.tenure))
    moved += sum(a.nbytes for a in (pop.state, pop.provider, pop.tenure)) + 3 * n
    return {"n": n, "floor_ms": 1e3 * _median(ts), "floor_ms_min": 1e3 * min(ts),
            "bytes_moved": moved, "gb_per_s": moved / _median(ts) / 1e9}


def worker_compare(n_big: int, n_mesa: int, steps: int) -> dict:
    """Kernel, NumPy-vectorised and per-agent Mesa versions of one customer step, side by side."""
    import numpy as np

    import sim
    from sim.engine import kernels as K
    from sim.engine.yardsticks import numpy_step as V
    from sim.engine.yardsticks.per_agent import PerAgentModel

    out = {}
    for label, n in (("big", n_big), ("mesa", n_mesa)):
        model = sim.build(bench_overrides(n), seed=0)
        for _ in range(3):
            model.step()
        key = np.uint64(_kernel_inputs(model))
        n_segs = len(model.segment_names)
        args = (key, model.par, model.firm_cols, model.interv)
        res = {"n": n}
        p = model.pop.copy()
        K.customer_step(*args, p.traits, p.state, p.small, p.provider, p.tenure, model.bounds,
                        model.tally, model.seg_tally)
        ts = []
        for _ in range(max(steps, 10)):
            q = model.pop.copy()
            t = time.perf_counter()
            K.customer_step(*args, q.traits, q.state, q.small, q.provider, q.tenure, model.bounds,
                            model.tally, model.seg_tally)
            ts.append(time.perf_counter() - t)
        res["kernel_ms"] = 1e3 * _median(ts)
        ts = []
        for _ in range(steps):
            q = model.pop.copy()
            t = time.perf_counter()
            V.customer_step(*args, q.traits, q.state, q.small, q.provider, q.tenure, n_segs)
            ts.append(time.perf_counter() - t)
        res["numpy_ms"] = 1e3 * _median(ts)
        res["numpy_equal"] = bool(np.array_equal(q.state, p.state) and np.array_equal(q.small, p.small)
                                  and np.array_equal(q.provider, p.provider))
        if label == "mesa":
            ts = []
            for _ in range(steps):  # each rep: fresh agents from the same state, one timed step
                t = time.perf_counter()
                agents = PerAgentModel(model.pop.copy(), len(model.firm_list), n_segs, seed=0)
                res["mesa_build_s"] = time.perf_counter() - t
                agents.set_inputs(key, model.par, model.firm_cols, model.interv)
                t = time.perf_counter()
                agents.step()
                ts.append(time.perf_counter() - t)
            res["mesa_ms"] = 1e3 * _median(ts)
            q = model.pop.copy()
            agents.write_to(q)
            res["mesa_equal"] = bool(np.array_equal(q.state, p.state) and np.array_equal(q.small, p.small)
                                     and np.array_equal(q.provider, p.provider))
        out[label] = res
    return out


def worker_start(reps: int) -> dict:
    """Times of a fresh process: imports, first 10k x 120 run (loads or compiles), warm runs."""
    t0 = time.perf_counter()
    import sim

    t1 = time.perf_counter()
    sim.run(SWEEP_UNIT, seed=0)
    t2 = time.perf_counter()
    warm = []
    for _ in range(reps):
        t = time.perf_counter()
        sim.run(SWEEP_UNIT, seed=0)
        warm.append(time.perf_counter() - t)
    model = sim.build(SWEEP_UNIT, seed=0)
    t = time.perf_counter()
    model.run()
    run_only = time.perf_counter() - t
    return {"import_s": t1 - t0, "first_run_s": t2 - t1, "warm_run_s": _median(warm),
            "warm_runs_s": warm, "warm_model_run_s": run_only}


def worker_scaling_steps(n: int, step_counts: list[int]) -> dict:
    """Run time against the number of steps at fixed N (model.run of fresh models)."""
    import sim

    sim.run(bench_overrides(1000, 5), seed=0)  # load kernels
    out = {}
    for s in step_counts:
        model = sim.build(bench_overrides(n, s), seed=0)
        t = time.perf_counter()
        model.run()
        out[str(s)] = time.perf_counter() - t
    return {"n": n, "run_s": out}


WORKERS = {"steps": worker_steps, "floor": worker_floor, "compare": worker_compare,
           "start": worker_start, "scaling_steps": worker_scaling_steps}


# --------------------------------------------------------------------------- driver
def run_worker(name: str, threads: int | None = None, cache_dir: str | None = None, **kwargs) -> dict:
    """Run a worker in a fresh process and return its JSON result."""
    env = dict(os.environ)
    env.pop("NUMBA_NUM_THREADS", None)
    if threads:
        env["NUMBA_NUM_THREADS"] = str(threads)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    cmd = [sys.executable, str(Path(__file__).resolve()), "worker", name, json.dumps(kwargs)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"worker {name} {kwargs} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = wall
    return res


def machine() -> dict:
    import llvmlite
    import mesa
    import numba
    import numpy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        mem = None
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem / 2**30, 1) if mem else None,
        "python": platform.python_version(), "numpy": numpy.__version__, "numba": numba.__version__,
        "llvmlite": llvmlite.__version__, "mesa": mesa.__version__, "platform": platform.platform(),
        "git": _git_rev(),
    }


def _git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "sim", "benchmarks"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a smoke test of the suite")
    ap.add_argument("--skip-10m", action="store_true", help="leave out the 10-million-customer run")
    ap.add_argument("--out", default=str(HERE), help="folder for results.md and results.json")
    args = ap.parse_args(argv)
    quick = args.quick
    t_start = time.perf_counter()
    res: dict = {"machine": machine(), "load_before": _load()}
    print(f"machine: {res['machine']['cpu']}, {res['machine']['usable_cores']} usable cores, "
          f"load {res['load_before']}", flush=True)

    def log(msg):
        print(f"[{time.perf_counter() - t_start:6.1f} s] {msg}", flush=True)

    # warm the project's Numba cache once, so that later workers load it
    run_worker("start", threads=2, reps=1)
    n_main = 100_000 if quick else 1_000_000
    steps = 5 if quick else 20
    # 1. step time against N, 2 threads (10^7 alone, few steps); the main size comes in 2.
    res["scaling"] = []
    for n in [10_000] if quick else [10_000, 100_000]:
        r = run_worker("steps", threads=2, n=n, steps=3 * steps, warmup=3, kernel_reps=steps)
        res["scaling"].append(r)
        log(f"N={n:>10,}: model.step {r['step_ms']:.2f} ms, kernel {r['kernel_ms']:.2f} ms")
    if not (quick or args.skip_10m):
        r = run_worker("steps", threads=2, n=10_000_000, steps=3, warmup=1, kernel_reps=3)
        res["scaling"].append(r)
        log(f"N=10,000,000: model.step {r['step_ms']:.1f} ms, peak RSS {r['peak_rss_bytes'] / 2**30:.2f} GiB")
    # 2. the main size: rounds of (2 threads, floor, 1 thread, floor), so that each step
    # time has a memory floor measured next to it; results compared by hash
    res["rounds"] = []
    for i in range(1 if quick else 3):
        rnd = {"load": _load()}
        for th in (2, 1):
            rnd[f"steps_{th}"] = run_worker("steps", threads=th, n=n_main, steps=steps, warmup=3,
                                            kernel_reps=steps)
            rnd[f"floor_{th}"] = run_worker("floor", threads=th, n=n_main, reps=30)
        res["rounds"].append(rnd)
        log(f"round {i + 1}: model.step {rnd['steps_2']['step_ms']:.2f} ms (2 threads), "
            f"{rnd['steps_1']['step_ms']:.2f} ms (1 thread); floor {rnd['floor_2']['floor_ms']:.2f} ms")
    hashes = {rnd[f"steps_{th}"]["state_hash"] for rnd in res["rounds"] for th in (1, 2)}
    res["threads_identical"] = len(hashes) == 1
    res["main"] = summarise_rounds(res["rounds"])
    # 4. kernel vs NumPy vs per-agent Mesa
    res["compare"] = run_worker("compare", threads=2, n_big=n_main, n_mesa=500 if quick else 2_000,
                                steps=3 if quick else 5)
    log(f"compare: {res['compare']}")
    # 5. starts: compile into an empty cache, then load it in a fresh process, then warm
    cache = tempfile.mkdtemp(prefix="numba-cache-")
    try:
        res["start_cold"] = run_worker("start", threads=2, cache_dir=cache, reps=1)
        res["start_cached"] = run_worker("start", threads=2, cache_dir=cache, reps=5)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    cold, cached = res["start_cold"], res["start_cached"]
    log(f"start: compile {cold['first_run_s']:.2f} s, cached {cached['first_run_s']:.2f} s, "
        f"warm {cached['warm_run_s']:.3f} s")
    # 6. run time against the number of steps
    res["steps_scaling"] = run_worker("scaling_steps", threads=2, n=100_000 if not quick else 20_000,
                                      step_counts=[30, 60, 120])
    res["load_after"] = _load()
    res["suite_s"] = time.perf_counter() - t_start
    out = Path(args.out)
    (out / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / "results.md").write_text(render(res))
    print(render(res))
    return 0


# ---------------------------------------------------------------------------- report
def summarise_rounds(rounds: list[dict]) -> dict:
    """Pool the rounds at the main size: medians over all steps, spread of round medians."""
    out = {"n": rounds[0]["steps_2"]["n"], "steps": rounds[0]["steps_2"]["steps"]}
    for th in (1, 2):
        steps = [x for r in rounds for x in r[f"steps_{th}"]["step_ms_all"]]
        per_round = [r[f"steps_{th}"]["step_ms"] for r in rounds]
        floors = [r[f"floor_{th}"]["floor_ms"] for r in rounds]
        out[str(th)] = {
            "step_ms": _median(steps), "step_ms_rounds": per_round,
            "kernel_ms": _median([r[f"steps_{th}"]["kernel_ms"] for r in rounds]),
            "floor_ms": _median(floors), "floor_ms_rounds": floors,
            "floor_ratio": _median([s / f for s, f in zip(per_round, floors, strict=True)]),
            "gb_per_s": _median([r[f"floor_{th}"]["gb_per_s"] for r in rounds]),
            "bytes_moved_per_customer": rounds[0][f"floor_{th}"]["bytes_moved"] / out["n"],
            "state_bytes_per_customer": rounds[0][f"steps_{th}"]["state_bytes_per_customer"],
            "peak_rss_bytes": max(r[f"steps_{th}"]["peak_rss_bytes"] for r in rounds),
        }
    return out


def render_summary(res: dict) -> str:
    """The targets of the performance issue against this run (a Markdown table)."""
    main, c = res["main"], res["compare"]
    big, small = c["big"], c["mesa"]
    k_ns = 1e6 * big["kernel_ms"] / big["n"]
    ten = [r for r in res["scaling"] if r["n"] >= 10_000_000]
    m2, m1 = main["2"], main["1"]
    cached = res["start_cached"]
    rows = [
        "| measure | target | this run |",
        "|---|---|---|",
        f"| {main['n']:,} customers, 5 firms, every mechanism: `model.step`, 2 threads | ≤ 15 ms (stretch 8) | "
        f"**{m2['step_ms']:.1f} ms** median (rounds {', '.join(f'{x:.1f}' for x in m2['step_ms_rounds'])}) |",
        f"| same, 1 thread | reported | {m1['step_ms']:.1f} ms; results identical to 2 threads: "
        f"{'yes' if res['threads_identical'] else 'NO'} |",
        f"| step time / memory floor (a read-and-write pass over the same arrays) | ≤ 5 | "
        f"**{m2['floor_ratio']:.1f}** (floor {m2['floor_ms']:.1f} ms) |",
        f"| per customer-step, against Mesa with one agent per customer | ≥ 300× faster | "
        f"**{1e6 * small['mesa_ms'] / small['n'] / k_ns:,.0f}×** |",
        f"| per customer-step, against the same step vectorised in NumPy | ≥ 5× faster | "
        f"**{1e6 * big['numpy_ms'] / big['n'] / k_ns:.0f}×** |",
        f"| state memory per customer | ≤ 96 bytes | **{m2['state_bytes_per_customer']:.0f} bytes** |",
    ]
    if ten:
        t = ten[0]
        rows.append(f"| 10,000,000 customers | run on 24 GiB, linear in N | {t['step_ms']:.0f} ms per step "
                    f"({1e6 * t['step_ms'] / t['n']:.1f} ns per customer-step), peak RSS "
                    f"{t['peak_rss_bytes'] / 2**30:.2f} GiB |")
    rows += [
        f"| 10,000 customers × 120 steps in a warm process | < 0.5 s | **{cached['warm_run_s']:.2f} s** |",
        f"| fresh process: compile / load cached kernels | cached across processes | "
        f"{res['start_cold']['first_run_s']:.1f} s / {cached['first_run_s']:.1f} s |",
    ]
    return "\n".join(rows) + "\n"


def render(res: dict) -> str:
    m = res["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"{m['date']} · {m['cpu']} · {m['usable_cores']} usable cores · {m['memory_gib']} GiB · "
        f"Python {m['python']}, NumPy {m['numpy']}, Numba {m['numba']} (llvmlite {m['llvmlite']}), "
        f"Mesa {m['mesa']} · commit {m['git']} · load average before {res['load_before']}, "
        f"after {res['load_after']} · suite {res['suite_s']:.0f} s",
        "",
        "Market: disruptor scenario, 5 firms from the start, every mechanism on "
        "(`benchmarks/run.py` BENCH_OVERRIDES). Medians over repeated steps; 2 threads unless said.",
        "",
        "## Against the targets",
        "",
        render_summary(res),
        "## Step time against the number of customers",
        "",
        "| customers | model.step (ms) | kernel (ms) | ns per customer-step | customer-steps/s | "
        "state bytes/customer | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    main = res["main"]
    rows = [*res["scaling"], {"n": main["n"], **main["2"]}]
    for r in sorted(rows, key=lambda r: r["n"]):
        lines.append(
            f"| {r['n']:,} | {r['step_ms']:.2f} | {r['kernel_ms']:.2f} | {1e6 * r['step_ms'] / r['n']:.1f} | "
            f"{r['n'] / r['step_ms'] * 1e3:.3g} | {r['state_bytes_per_customer']:.0f} | "
            f"{r['peak_rss_bytes'] / 2**30:.2f} GiB |")
    n_main = main["n"]
    c = res["compare"]
    big, small = c["big"], c["mesa"]
    k_ns = 1e6 * big["kernel_ms"] / big["n"]
    np_ns = 1e6 * big["numpy_ms"] / big["n"]
    mesa_ns = 1e6 * small["mesa_ms"] / small["n"]
    k_small_ns = 1e6 * small["kernel_ms"] / small["n"]
    lines += [
        "",
        f"## Threads and the memory floor ({n_main:,} customers, {len(res['rounds'])} round(s))",
        "",
        "| threads | model.step (ms) | per round | kernel (ms) | memory floor (ms) | step / floor |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for t in ("1", "2"):
        m = main[t]
        rounds = ", ".join(f"{x:.1f}" for x in m["step_ms_rounds"])
        lines.append(f"| {t} | {m['step_ms']:.2f} | {rounds} | {m['kernel_ms']:.2f} | {m['floor_ms']:.2f} | "
                     f"{m['floor_ratio']:.1f} |")
    lines += [
        "",
        f"Results identical on 1 and 2 threads (hash of all state arrays and tallies after "
        f"{main['steps'] + 3} steps, every round): **{'yes' if res['threads_identical'] else 'NO'}**. "
        f"Speed-up 1 → 2 threads: {main['1']['step_ms'] / main['2']['step_ms']:.2f}x. The floor "
        f"reads and writes the {main['2']['bytes_moved_per_customer']:.0f} bytes per customer that the "
        f"step touches ({main['2']['gb_per_s']:.1f} GB/s on 2 threads); step / floor is the median of "
        "the rounds' ratios, each floor measured next to its step time.",
        "",
        "## Against the same step in NumPy and in Mesa (one agent per customer)",
        "",
        "| version | customers | ms per step | ns per customer-step | kernel is faster by |",
        "|---|---:|---:|---:|---:|",
        f"| Numba kernel | {big['n']:,} | {big['kernel_ms']:.2f} | {k_ns:.1f} | 1 |",
        f"| NumPy, vectorised | {big['n']:,} | {big['numpy_ms']:.1f} | {np_ns:.1f} | "
        f"**{np_ns / k_ns:.1f}x** |",
        f"| Numba kernel | {small['n']:,} | {small['kernel_ms']:.3f} | {k_small_ns:.1f} | |",
        f"| NumPy, vectorised | {small['n']:,} | {small['numpy_ms']:.2f} | "
        f"{1e6 * small['numpy_ms'] / small['n']:.1f} | "
        f"{small['numpy_ms'] / small['kernel_ms']:.1f}x (same N) |",
        f"| Mesa, one agent per customer | {small['n']:,} | {small['mesa_ms']:.1f} | {mesa_ns:,.0f} | "
        f"**{mesa_ns / k_ns:,.0f}x** ({mesa_ns / k_small_ns:,.0f}x at the same N) |",
        "",
        f"Same results: NumPy {'yes' if big['numpy_equal'] and small['numpy_equal'] else 'NO'}, "
        f"Mesa {'yes' if small['mesa_equal'] else 'NO'} (state arrays equal to the kernel's after one step).",
    ]
    cold, cached = res["start_cold"], res["start_cached"]
    ss = res["steps_scaling"]
    lines += [
        "",
        "## Starts and the unit of a sweep (10,000 customers, 120 steps, baseline scenario)",
        "",
        "| | seconds |",
        "|---|---:|",
        f"| fresh process, empty Numba cache: imports | {cold['import_s']:.2f} |",
        f"| fresh process, empty Numba cache: first run (compiles the kernels) | {cold['first_run_s']:.2f} |",
        f"| fresh process, cache present: imports | {cached['import_s']:.2f} |",
        f"| fresh process, cache present: first run (loads the kernels) | {cached['first_run_s']:.2f} |",
        f"| warm process: `sim.run` (build, 120 steps, Dataset) | **{cached['warm_run_s']:.3f}** |",
        f"| warm process: `model.run()` alone (120 steps) | {cached['warm_model_run_s']:.3f} |",
        "",
        f"## Run time against steps ({ss['n']:,} customers)",
        "",
        "| steps | run (s) | ms per step |",
        "|---:|---:|---:|",
    ]
    for s, v in ss["run_s"].items():
        lines.append(f"| {s} | {v:.3f} | {1e3 * v / int(s):.2f} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "worker":
        result = WORKERS[sys.argv[2]](**json.loads(sys.argv[3]))
        print(json.dumps(result))
        sys.exit(0)
    sys.exit(main())
