"""sim.runner."""
