"""generator/platforms."""
