"""generator/platforms/compose."""
