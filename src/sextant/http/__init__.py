"""The HTTP adapter: ``create_app(settings)`` builds the FastAPI application."""

from sextant.http.app import create_app

__all__ = ["create_app"]
