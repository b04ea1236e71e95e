"""`python -m generator` runs the psot command line."""

from generator.cli import main

main()
