"""This tree's customer step side by side with another tree's (an older commit) on this machine.

The two trees' ``benchmarks/run.py worker steps`` run in alternating fresh processes
(ABAB..., then BABA... so neither always runs first), ``rounds`` times each, at each size,
with the same Numba thread count; the memory floor (a read-and-write pass over the same
arrays, ``benchmarks/floor.py``) is measured in the same run. Each tree needs its own
``benchmarks/run.py`` with the ``steps`` worker (every commit since the architecture issue).

Writes ``benchmarks/against_results.md`` and ``against_results.json``::

    python benchmarks/against.py /path/to/older/tree            # 10^4 and 10^6 customers, 6 rounds
    git worktree add --detach /tmp/before 40d410b && python benchmarks/against.py /tmp/before

Target (the economic-core issue): at most +20% per step at 10^6 and 10^4 customers, and the
step at most 2.5 times the memory floor.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import _git_rev, _load, machine, run_worker  # noqa: E402


def _steps(tree: Path, n: int, threads: int) -> dict:
    """One fresh process of ``tree``'s steps worker at ``n`` customers."""
    steps = 30 if n >= 10**6 else 200
    env = dict(os.environ, PYTHONPATH=str(tree), NUMBA_NUM_THREADS=str(threads))
    arg = json.dumps({"n": n, "steps": steps, "warmup": 5, "kernel_reps": steps})
    out = subprocess.run([sys.executable, str(tree / "benchmarks" / "run.py"), "worker", "steps", arg],
                         env=env, capture_output=True, text=True, cwd=tree)
    if out.returncode:
        raise RuntimeError(f"{tree}: steps worker at {n} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rev(tree: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True,
                          text=True).stdout.strip() or "unknown"


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    k = len(xs)
    return xs[k // 2] if k % 2 else 0.5 * (xs[k // 2 - 1] + xs[k // 2])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", help="the other tree (a checkout of the older commit)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000], help="customers (default 1e4 1e6)")
    ap.add_argument("--rounds", type=int, default=6, help="fresh processes per tree and size (default 6)")
    ap.add_argument("--threads", type=int, default=2, help="Numba threads (default 2)")
    ap.add_argument("--out", default=str(HERE), help="folder for against_results.md/json")
    args = ap.parse_args(argv)
    before = Path(args.before).resolve()
    if not (before / "benchmarks" / "run.py").is_file():
        ap.error(f"before = {before}: allowed a tree with benchmarks/run.py (a checkout of the project)")
    if args.rounds < 1 or any(n < 1 for n in args.sizes) or args.threads < 1:
        ap.error("--rounds, --sizes and --threads must be at least 1")
    trees = {"before": before, "now": ROOT}
    res: dict = {"machine": machine(), "load_before": _load(), "threads": args.threads,
                 "commits": {"before": _rev(before), "now": _git_rev()}, "sizes": {}}
    for n in args.sizes:
        rows: dict[str, list[dict]] = {"before": [], "now": []}
        for r in range(args.rounds):
            for name in (("before", "now") if r % 2 == 0 else ("now", "before")):
                d = _steps(trees[name], n, args.threads)
                rows[name].append({k: d[k] for k in ("step_ms", "kernel_ms", "kernel_ms_min", "state_hash")})
                print(f"{n:>9,} {name:6} step {d['step_ms']:.4f} ms, kernel {d['kernel_ms']:.4f} ms "
                      f"(min {d['kernel_ms_min']:.4f})", flush=True)
        floor = run_worker("floor", threads=args.threads, n=n, reps=30 if n >= 10**6 else 300)
        summary = {}
        for name, rs in rows.items():
            summary[name] = {"step_ms": _median([x["step_ms"] for x in rs]),
                             "kernel_ms": _median([x["kernel_ms"] for x in rs]),
                             "kernel_ms_min": min(x["kernel_ms_min"] for x in rs)}
        res["sizes"][str(n)] = {"rounds": rows, "summary": summary, "floor_ms": floor["floor_ms"]}
    res["load_after"] = _load()
    out = Path(args.out)
    (out / "against_results.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / "against_results.md").write_text(report(res) + "\n")
    print(f"wrote {out / 'against_results.md'}")
    return 0


def report(res: dict) -> str:
    m = res["machine"]
    lines = [
        "# This commit against an older one, same machine",
        "",
        f"{m['date']} · CPU: {m['cpu']} · {m['usable_cores']} usable cores · Python {m['python']}, "
        f"Numba {m['numba']} · before {res['commits']['before']}, now {res['commits']['now']} · "
        f"{res['threads']} Numba threads · load average before {res['load_before']}, after {res['load_after']}. "
        "`python benchmarks/against.py BEFORE_TREE`: the two trees' steps workers in alternating fresh processes "
        "(benchmark market of `benchmarks/run.py`); medians over the rounds' medians, the kernel's minimum over "
        "all its calls; floor: a read-and-write pass over the same arrays, measured in this run.",
        "",
        "| customers | measure | before | now | now / before | target |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for n, d in res["sizes"].items():
        b, a = d["summary"]["before"], d["summary"]["now"]
        for key, label in (("step_ms", "model.step, median (ms)"), ("kernel_ms", "kernel, median (ms)"),
                           ("kernel_ms_min", "kernel, minimum (ms)")):
            target = "≤ 1.20" if key == "step_ms" else "reported"
            lines.append(f"| {int(n):,} | {label} | {b[key]:.4f} | {a[key]:.4f} | {a[key] / b[key]:.2f} | {target} |")
        lines.append(f"| {int(n):,} | model.step / memory floor ({d['floor_ms']:.4f} ms) | "
                     f"{b['step_ms'] / d['floor_ms']:.2f} | {a['step_ms'] / d['floor_ms']:.2f} | - | "
                     f"{'≤ 2.5 (now)' if int(n) >= 10**6 else 'reported (the firms dominate)'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
