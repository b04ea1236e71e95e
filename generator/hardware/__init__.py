"""generator/hardware."""
