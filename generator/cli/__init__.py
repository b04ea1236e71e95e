"""generator/cli."""
