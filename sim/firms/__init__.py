"""sim.firms."""
