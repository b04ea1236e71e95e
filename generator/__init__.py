"""psot: a compiler for GPU-aware infrastructure (see README.md and SPEC)."""

__version__ = "0.1.0"
