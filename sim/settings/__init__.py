"""sim.settings."""
