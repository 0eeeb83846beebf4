"""sim.study."""
