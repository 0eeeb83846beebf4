"""Plots of a run: six PNG figures beside ``run.nc`` and an animated quadrant map.

:func:`plot_run` (called by the CLI after ``run.nc`` is written) draws, into the run
folder, the files named in :data:`PLOT_FILES`:

``quadrant_map.png``
    Digital (x) against human (y) service level, the four quadrants with their names
    from the model brief, each firm's path over the run (hollow circle: start, filled
    circle sized by final market share: end, cross: exit), and the digital
    expectation E (band: range over the run, dotted: start, dashed: end).
``market_share.png``
    Market share over time as a stacked area, with firm entries and exits marked.
``trust_engagement_nps.png``
    Mean trust, mean engagement and NPS of each firm's customers over time.
``building_blocks.png``
    The five building blocks (trust, engagement, freedom of choice, influence,
    fairness) and the relationship index per firm at the final step (a tick marks
    each firm's first recorded value).
``segments.png``
    Engagement, disengaged share and digital adoption by customer segment over time.
``economics.png``
    Price, profit and cash per firm over time.

:func:`animate_quadrants` writes the quadrant map as an animated GIF, one frame per
step, for teaching; the CLI does not call it::

    import sim
    from sim.plots import animate_quadrants
    ds = sim.load("results/<run>")
    animate_quadrants(ds, "results/<run>/quadrants.gif", fps=8)

Every firm keeps the same colour in every figure (:func:`firm_colors`), and no firm is drawn in
a quadrant's colour (:data:`QUADRANT_COLORS`: those mean quadrants, here and on the classroom page). Values are
shown only while a firm takes part in the market (``alive``): nothing is drawn for a
firm before it enters or after it exits, and means over no customers stay gaps.
Only :class:`matplotlib.figure.Figure` objects are used, never ``pyplot``: no window
opens, no global figure list grows, and plotting is safe in threads and worker
processes. Each file is written to a hidden temporary file in the same folder and
renamed into place, so an interrupted run never leaves half an image.
"""


from ..firms.agents import QUADRANT_THRESHOLD
from .animation import animate_quadrants
from .common import BLOCKS, FIRM_PALETTE, PLOT_FILES, QUADRANT_COLORS, QUADRANT_FILL, QUADRANTS, firm_colors
from .figures import (
    building_blocks_figure,
    economics_figure,
    market_share_figure,
    plot_run,
    quadrant_map_figure,
    relationship_figure,
    segments_figure,
)

__all__ = ["BLOCKS", "FIRM_PALETTE", "PLOT_FILES", "QUADRANTS", "QUADRANT_COLORS", "QUADRANT_FILL",
           "QUADRANT_THRESHOLD", "animate_quadrants", "building_blocks_figure", "economics_figure", "firm_colors",
           "market_share_figure", "plot_run", "quadrant_map_figure", "relationship_figure", "segments_figure"]
