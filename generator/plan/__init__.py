"""generator/plan."""
