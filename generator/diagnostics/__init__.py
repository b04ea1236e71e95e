"""generator/diagnostics."""
