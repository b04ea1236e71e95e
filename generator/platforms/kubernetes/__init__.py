"""generator/platforms/kubernetes."""
