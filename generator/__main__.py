"""`python -m generator` runs the psot command line."""

from generator.cli.main import main

main()
