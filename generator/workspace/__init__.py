"""generator/workspace."""
