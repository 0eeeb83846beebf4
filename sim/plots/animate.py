"""Command line: ``python -m sim.animate RUN`` turns a finished run into an animation for slides.

Writes the quadrant map over time (firms' trails, markers sized by market share,
the digital expectation E) as an animated GIF, one frame per step, beside the run's
``run.nc``: ``RUN/quadrants.gif``; and, where ``ffmpeg`` is on the PATH, the same
frames as an MP4 video (``RUN/quadrants.mp4``, H.264, plays in PowerPoint, Keynote
and browsers). The drawing is :func:`sim.plots.animate_quadrants`; the MP4 is made
from that GIF by ffmpeg, so both show the same frames.

::

    python -m sim.animate results/disruptor/2026-12-02_10-00-00
    python -m sim.animate results/shock/.../run.nc --fps 12 --every 2 --out shock.gif --no-mp4

Exit status 0 on success; 2 with one line on stderr for a bad argument (no
``run.nc``, a value out of range).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from ..results.output import load
from . import animate_quadrants


def run_file(run: str | Path) -> Path:
    """The ``run.nc`` of a run folder (or the file itself).

    Raises
    ------
    ValueError
        One line naming the path when there is no finished run there.
    """
    path = Path(run)
    nc = path / "run.nc" if path.is_dir() else path
    if not nc.is_file():
        what = "no run.nc in this folder (an unfinished run?)" if path.is_dir() else "no such file"
        raise ValueError(f"{run}: {what}; expected a run folder holding run.nc, or the run.nc file")
    return nc


def gif_to_mp4(gif: Path, mp4: Path, fps: int, ffmpeg: str | None = None) -> Path | None:
    """Convert ``gif`` into an H.264 MP4 with ffmpeg; None (and nothing written) without ffmpeg.

    Every GIF frame becomes one video frame at exactly ``fps`` frames per second (GIF
    delays are whole centiseconds, so the GIF itself runs at 8.33 for 8); the frame
    size is rounded down to even numbers (yuv420p needs them). Written to a temporary
    file beside ``mp4`` and renamed.

    Raises
    ------
    RuntimeError
        If ffmpeg fails (its last line of output).
    """
    exe = ffmpeg or shutil.which("ffmpeg")
    if exe is None:
        return None
    tmp = mp4.with_name(f".{mp4.stem}.tmp.mp4")
    cmd = [exe, "-y", "-loglevel", "error", "-i", str(gif), "-movflags", "+faststart", "-pix_fmt", "yuv420p",
           "-vf", f"setpts=N/({fps}*TB),scale=trunc(iw/2)*2:trunc(ih/2)*2", "-r", str(fps), "-c:v", "libx264",
           str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise RuntimeError(f"ffmpeg failed on {gif}: {lines[-1] if lines else proc.returncode}")
    tmp.replace(mp4)
    return mp4


def animate(run: str | Path, out: str | Path | None = None, fps: int = 8, every: int = 1, dpi: int = 80,
            mp4: bool = True) -> list[Path]:
    """Write the animation(s) of one finished run.

    Parameters
    ----------
    run : path
        Run folder (holding ``run.nc``) or the ``run.nc`` file.
    out : path, optional
        The GIF to write; default ``quadrants.gif`` beside ``run.nc``. The MP4 gets the
        same name with ``.mp4``.
    fps : int
        Frames per second (1-60).
    every : int
        Draw every ``every``-th step (>= 1); the last step is always drawn.
    dpi : int
        Resolution (40-300); a frame is 6.4 x 6 inches.
    mp4 : bool
        Also write an MP4 when ffmpeg is available.

    Returns
    -------
    list of Path
        The files written (the GIF, then the MP4 if made).
    """
    if not 1 <= fps <= 60:
        raise ValueError(f"--fps = {fps} is out of range: allowed [1, 60] (frames per second)")
    if every < 1:
        raise ValueError(f"--every = {every} is out of range: allowed >= 1 (steps)")
    if not 40 <= dpi <= 300:
        raise ValueError(f"--dpi = {dpi} is out of range: allowed [40, 300] (dots per inch)")
    nc = run_file(run)
    gif = Path(out) if out is not None else nc.with_name("quadrants.gif")
    if gif.suffix.lower() != ".gif":
        raise ValueError(f"--out = {out}: must end in .gif")
    ds = load(nc)
    written = [animate_quadrants(ds, gif, fps=fps, every=every, dpi=dpi)]
    if mp4:
        video = gif_to_mp4(gif, gif.with_suffix(".mp4"), fps)
        if video is not None:
            written.append(video)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    ap = argparse.ArgumentParser(prog="python -m sim.animate",
                                 description="Animate a finished run's quadrant map (GIF, and MP4 with ffmpeg).")
    ap.add_argument("run", help="run folder holding run.nc, or the run.nc file")
    ap.add_argument("--out", help="GIF to write (default: quadrants.gif beside run.nc)")
    ap.add_argument("--fps", type=int, default=8, help="frames per second (default 8)")
    ap.add_argument("--every", type=int, default=1, help="draw every N-th step (default 1)")
    ap.add_argument("--dpi", type=int, default=80, help="resolution (default 80: 512 x 480 pixels)")
    ap.add_argument("--no-mp4", dest="mp4", action="store_false", help="do not write an MP4 even with ffmpeg")
    args = ap.parse_args(argv)
    try:
        written = animate(args.run, args.out, args.fps, args.every, args.dpi, args.mp4)
    except (ValueError, RuntimeError, OSError) as e:
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    if args.mp4 and len(written) == 1:
        print("note: ffmpeg not found on PATH, no MP4 written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
