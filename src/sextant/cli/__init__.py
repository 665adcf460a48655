"""The ``sextant`` command line: a thin adapter over the service."""
