"""``python -m sextant`` runs the command line."""

from sextant.cli.main import main

main()
