"""sim.app.page."""
