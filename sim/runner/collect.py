"""``python -m sim.collect SWEEP_DIR``: merge a sweep folder from disk, or finish it first.

The merge itself is :mod:`sim.results.merge` (what the merged Dataset holds is said
there); the folder's design table and job states are :mod:`sim.results.sweepfolder`.
``python -m sim.collect --resume SWEEP_DIR`` reruns the jobs without ``run.nc``
(through the launcher recorded in the design, :func:`sim.runner.sweep.resume`) and
then merges.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..results.merge import MERGED_NC, MERGED_ZARR, ZARR_THRESHOLD, collect
from ..results.sweepfolder import failure_line, job_states
from ..settings.schema import ConfigError
from .guard import RunInterrupted, interrupts_as_exceptions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.collect",
        description="Merge a sweep's job folders into SWEEP_DIR/sweep.nc (or sweep.zarr); with --resume, "
                    "first rerun the jobs without run.nc through the sweep's recorded launcher.")
    parser.add_argument("sweep_dir")
    parser.add_argument("--resume", action="store_true", help="rerun unfinished jobs, then merge")
    parser.add_argument("--format", choices=("auto", "netcdf", "zarr"), default="auto",
                        help=f"merged file format (auto: zarr above {ZARR_THRESHOLD / 1024**3:.0f} GiB)")
    args = parser.parse_args(argv)
    try:
        with interrupts_as_exceptions():
            if args.resume:
                from .sweep import resume, stop_idle_workers

                result = resume(args.sweep_dir, fmt=args.format)
                stop_idle_workers()  # the command exits next
                ds = result.dataset
                if ds is None:
                    raise FileNotFoundError(f"{args.sweep_dir}: no job finished ({result.launcher_error})")
            else:
                ds = collect(args.sweep_dir, fmt=args.format)
    except (ConfigError, FileNotFoundError, NotADirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RunInterrupted as exc:
        print(f"error: {exc}: finished jobs are kept; run again to resume", file=sys.stderr)
        return exc.exit_code
    root = Path(args.sweep_dir)
    done, total = int(ds.attrs["jobs_done"]), int(ds.attrs["jobs_total"])
    name = MERGED_NC if (root / MERGED_NC).exists() else MERGED_ZARR
    print(f"merged {done} of {total} jobs into {root / name}")
    for s in job_states(root):
        if not s.done:
            print(f"error: {failure_line(s)}", file=sys.stderr)
    return 0 if done == total else 1


if __name__ == "__main__":
    sys.exit(main())
