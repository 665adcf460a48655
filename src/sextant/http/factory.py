"""The app for each worker of ``sextant serve --workers N``: settings from the environment
(set by the command), the model loaded — not applied: the command applied it once."""

from __future__ import annotations

from fastapi import FastAPI

from sextant.http.app import create_app
from sextant.http.protocol import configure
from sextant.service import Sextant
from sextant.settings import Settings

__all__ = ["worker_app"]


def worker_app() -> FastAPI:
    settings = Settings.from_env()
    configure(
        settings.head_timeout_seconds, settings.body_timeout_seconds, settings.max_header_bytes
    )  # this worker's request limits (uvicorn builds the protocol in each process)
    service = Sextant(settings)
    service.load()
    return create_app(settings, service)
