"""generator/platforms/incus."""
