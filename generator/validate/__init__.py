"""generator/validate."""
