"""Sextant: a self-hosted Agent API for data warehouses."""

__version__ = "0.1.0"

__all__ = ["__version__"]
