"""generator/placement."""
