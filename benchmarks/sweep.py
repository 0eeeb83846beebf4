"""Sweep throughput and cold start (issue 13, items 6 and 7; issue 26, item 7); part of ``make bench``.

Measures, on this machine:

* the in-process ``sim.run`` of one job (10,000 customers, 120 steps, default
  scenario; warm; median of 5), and the part of it a sweep job's log times: the
  set-up (``CustomerModel(cfg)``: population drawn, burn-in) and the steps, one Numba
  thread, the config composed before and the Dataset made after left out (median of 9);
* a sweep of 200 such runs (``python -m sim -m seed='range(200)' customers.n=10000``,
  Hydra's joblib launcher on all cores) end to end, merge included, against the ideal:
  the sum of the jobs' in-process run times (set-up and steps, as each job logs them
  in its ``sim.log``: one Numba thread each, every worker warmed up before its first
  job, so each logged time is a warm process's) divided by the cores; target: within
  1.5 times the ideal. Also the sweep's CPU time (user + system of every process: the
  driver and the workers) per job, each job's own ``run.nc`` write time (from the same
  logs) against its run time, and the per-job overhead as before;
* cold start: a fresh process with an empty Numba cache (``NUMBA_CACHE_DIR`` set to
  a new folder) until the first step is done, which kernels compile and for how
  long (Numba's compile events), and the same with the cache filled.

Writes ``benchmarks/sweep_results.md`` and ``sweep_results.json``.

    python benchmarks/sweep.py            # 200 jobs
    python benchmarks/sweep.py --quick    # 40 jobs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JOB = ["customers.n=10000"]  # default scenario (disruptor), 120 steps

COLD = r"""
import json, sys, time
t0 = time.perf_counter()
from numba.core import event
compiles = {}
starts = {}
class Timer(event.Listener):
    def on_start(self, ev):
        starts[id(ev.data["dispatcher"]), str(ev.data["args"])] = time.perf_counter()
    def on_end(self, ev):
        key = id(ev.data["dispatcher"]), str(ev.data["args"])
        name = ev.data["dispatcher"].py_func.__qualname__
        compiles.setdefault(name, []).append(round(time.perf_counter() - starts.pop(key), 3))
event.register("numba:compile", Timer())
import sim
t_import = time.perf_counter() - t0
model = sim.build(["scenario=disruptor", "customers.n=1000"], seed=0)
t_build = time.perf_counter() - t0
model.step()
t_first = time.perf_counter() - t0
print(json.dumps({"import": t_import, "build": t_build, "first_step": t_first, "compiles": compiles}))
"""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> float:
    return os.getloadavg()[0]


def in_process_run(threads: int | None = None) -> float:
    """Median of 5 warm ``sim.run`` of one job in this process (``threads``: Numba threads, as a sweep job's 1)."""
    import numba

    import sim

    before = numba.get_num_threads()
    if threads:
        numba.set_num_threads(threads)
    try:
        sim.run(JOB, seed=0)  # compile / load the cache
        times = []
        for seed in range(5):
            t0 = time.perf_counter()
            sim.run(JOB, seed=seed)
            times.append(time.perf_counter() - t0)
    finally:
        numba.set_num_threads(before)
    return statistics.median(times)


def in_process_work(threads: int = 1) -> dict[str, float]:
    """What a sweep job's log times, in a warm process (one Numba thread, as a sweep job): the set-up
    (``CustomerModel(cfg)``: population drawn, burn-in) and the steps, medians over 9 seeds; the
    config composed before and the Dataset made after are outside, as in the job."""
    import numba

    from sim.model import CustomerModel
    from sim.settings.compose import compose_config

    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        cfgs = [compose_config([*JOB, f"seed={seed}"]) for seed in range(10)]
        CustomerModel(cfgs[0]).run()  # load the kernels
        setup, steps = [], []
        for cfg in cfgs[1:]:
            t0 = time.perf_counter()
            model = CustomerModel(cfg)
            t1 = time.perf_counter()
            for _ in range(cfg.steps):
                model.step()
            setup.append(t1 - t0)
            steps.append(time.perf_counter() - t1)
    finally:
        numba.set_num_threads(before)
    return {"set-up": statistics.median(setup), "run": statistics.median(steps),
            "work": statistics.median(a + b for a, b in zip(setup, steps, strict=True))}


_LOGGED = re.compile(r"\] - (set-up \(population drawn, burn-in\)|run \(\d+ steps\)|writing run\.nc) ([\d.]+) s$")


def job_times(folder: Path) -> dict[str, float]:
    """A job's own timings from its sim.log: set-up, run (the steps) and writing run.nc, in seconds."""
    out = {}
    for line in (folder / "sim.log").read_text().splitlines():
        m = _LOGGED.search(line)
        if m:
            out[m.group(1).split(" ")[0]] = float(m.group(2))
    return out


def sweep(n_jobs: int) -> dict:
    """The sweep from the command line, end to end; its CPU time (user + system, every process: the
    driver, the launcher's workers) from the resource usage of the finished children."""
    import resource

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        out = Path(tmp) / "sweep"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "sim", "-m", f"seed=range({n_jobs})", *JOB,
                               f"hydra.sweep.dir={out}"], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        merged = (out / "sweep.nc").exists()
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("sweep:") and " done" in ln]
        times = [job_times(out / str(k)) for k in range(n_jobs)]
        files = sorted({p.name for k in range(n_jobs) for p in (out / str(k)).iterdir()})
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    work = [t["set-up"] + t["run"] for t in times]
    cores = os.cpu_count() or 1
    return {"jobs": n_jobs, "wall_s": wall, "cpu_s": cpu, "cpu_per_job_s": cpu / n_jobs, "merged": merged,
            "first_lines": lines[:2], "last_lines": lines[-2:],
            "job_files": files, "jobs_work_s": sum(work), "ideal_s": sum(work) / cores,
            "ratio_to_ideal": wall / (sum(work) / cores), "job_run_median_s": statistics.median(work),
            "job_write_median_s": statistics.median(t["writing"] for t in times),
            "job_write_max_s": max(t["writing"] for t in times)}


def driver_timings(n_jobs: int) -> dict:
    """The driver's own split (check, warm-up, jobs, merge) for a sweep run in this process."""
    from sim.runner.sweep import launch

    jobs = [[*JOB, f"seed={k}"] for k in range(n_jobs)]
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        result = launch(jobs, Path(tmp) / "sweep", progress=False)
    return {**{k: round(v, 2) for k, v in result.timings.items()}, "workers": result.workers}


def cold_start() -> dict:
    """A fresh process to its first step: with an empty cache (a helper process compiling part of it,
    as by default), with an empty cache and no helper (``SIM_COMPILE_HELPER=0``), with the cache filled."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as tmp:
        for label, helper, cache in (("empty cache", "1", "a"), ("empty cache, no helper", "0", "b"),
                                     ("filled cache", "1", "a")):
            env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / cache), PYTHONPATH=str(ROOT),
                       SIM_COMPILE_HELPER=helper)
            proc = subprocess.run([sys.executable, "-c", COLD], cwd=ROOT, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr[-2000:])
            out[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 jobs instead of 200")
    parser.add_argument("--jobs", type=int, default=None)
    args, _ = parser.parse_known_args()  # make bench passes run.py's options too
    n_jobs = args.jobs or (40 if args.quick else 200)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = load()
    cold = cold_start()
    t_run = in_process_run()
    t_one = in_process_run(threads=1)
    work = in_process_work(threads=1)
    result = sweep(n_jobs)
    split = driver_timings(min(n_jobs, 40))
    per_job = result["wall_s"] / n_jobs
    cores = os.cpu_count() or 1
    overhead = per_job * cores - t_one  # the jobs run side by side, one Numba thread each
    record = {
        "started": started, "cpu": cpu_model(), "cores": cores, "load_before": load_before,
        "load_after": load(), "in_process_run_s": t_run, "in_process_run_1_thread_s": t_one,
        "in_process_job_work_s": work, "sweep": result,
        "sweep_per_job_s": per_job, "per_job_overhead_s": overhead, "driver_split_s": split,
        "cold_start": cold,
    }
    (HERE / "sweep_results.json").write_text(json.dumps(record, indent=2) + "\n")
    empty, alone, filled = cold["empty cache"], cold["empty cache, no helper"], cold["filled cache"]
    compiled = sorted(((name, sum(t for t in ts if isinstance(t, float)), len(ts))
                       for name, ts in empty["compiles"].items()), key=lambda x: -x[1])
    ratio = result["ratio_to_ideal"]
    lines = [
        "# Sweep throughput and cold start", "",
        f"{started}, CPU: {record['cpu']}, {cores} cores, load average {load_before:.2f} before, "
        f"{record['load_after']:.2f} after. `python benchmarks/sweep.py` (part of `make bench`).", "",
        "| measure | target | this run |", "|---|---|---|",
        f"| sweep of {n_jobs} runs (10,000 customers, 120 steps, default scenario), merge included | "
        f"< 2 min for 200 | **{result['wall_s']:.1f} s** |",
        f"| ideal: the jobs' in-process run times (set-up and steps, from their logs) summed, / {cores} cores | "
        f"reported | {result['ideal_s']:.1f} s ({result['jobs_work_s']:.1f} s of work, median "
        f"{result['job_run_median_s']:.3f} s a job) |",
        f"| the same work of one job in this warm process (set-up {work['set-up']:.3f} s + steps "
        f"{work['run']:.3f} s, one thread, median of 9) | the logs' median | {work['work']:.3f} s |",
        f"| CPU time of the sweep (user + system, every process), per job | reported | "
        f"**{result['cpu_per_job_s']:.3f} s** ({result['cpu_s']:.1f} s in all) |",
        f"| sweep wall time / ideal | <= 1.5 | **{ratio:.2f}** {'(met)' if ratio <= 1.5 else '(not met)'} |",
        f"| a job's run.nc write (median, max; from the logs) against its run | shorter than the run | "
        f"{result['job_write_median_s']:.3f} s, {result['job_write_max_s']:.3f} s |",
        f"| files in a job folder | what a sweep needs | {', '.join(result['job_files'])} |",
        f"| first progress lines | no estimate that counts the start-up | {' / '.join(result['first_lines'])} |",
        f"| in-process `sim.run` of one job (warm, median of 5), all threads / one thread | reported | "
        f"{t_run:.3f} s / {t_one:.3f} s |",
        f"| per-job overhead: sweep wall time × {cores} cores / {n_jobs} jobs − in-process one-thread `sim.run` | "
        f"< 0.3 s | **{overhead:.3f} s** ({per_job:.3f} s of wall time per job) |",
        f"| the same in CPU time: the sweep's CPU time per job − a job's in-process work | reported | "
        f"**{result['cpu_per_job_s'] - work['work']:.3f} s** |",
        f"| driver split, {min(n_jobs, 40)}-job sweep in-process (s; launcher jobs: workers) | reported | {split} |",
        f"| cold start to the first step, empty Numba cache | halve 21 s | **{empty['first_step']:.1f} s** "
        f"(import {empty['import']:.1f} s) |",
        f"| the same, everything compiled in the one process (`SIM_COMPILE_HELPER=0`) | reported | "
        f"{alone['first_step']:.1f} s |",
        f"| the same with the cache filled | reported | {filled['first_step']:.1f} s |", "",
        "Compiled by the process itself with an empty cache (function: seconds, specialisations; a helper "
        "process compiles the rest meanwhile, `sim.engine.kernels._SIDE`):", "",
    ]
    lines += [f"- `{name}`: {secs:.2f} s, {count}" for name, secs, count in compiled]
    (HERE / "sweep_results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
