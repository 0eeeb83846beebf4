"""``python -m sim.animate``: a run's quadrant map as an animated GIF (and MP4 with ffmpeg).

The code is :mod:`sim.plots.animate`; this module only runs it.
"""

from .plots.animate import main

if __name__ == "__main__":
    raise SystemExit(main())
