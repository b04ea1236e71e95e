"""generator/load."""
