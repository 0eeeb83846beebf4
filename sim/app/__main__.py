"""``python -m sim.app``: the classroom page (see :mod:`sim.app.page`)."""

from .page import serve

serve()
