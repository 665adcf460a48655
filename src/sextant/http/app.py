"""The application factory; no module-level app, engine or settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from starlette.routing import Route

from sextant import __version__
from sextant.http.docs import serve_docs
from sextant.http.errors import install_error_handlers
from sextant.http.limits import BodySizeLimit, NoStore
from sextant.http.mcp import mcp_endpoint
from sextant.http.openapi import document_errors
from sextant.http.routes import agent, auth, classic, queries, search
from sextant.service import Sextant
from sextant.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings, service: Sextant | None = None) -> FastAPI:
    """The FastAPI application for ``settings`` (a service can be passed in by tests)."""
    service = service or Sextant(settings)
    audit = service.queries.audit

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await anyio.to_thread.run_sync(audit.flush)  # a stopping worker writes its audit rows

    app = FastAPI(
        lifespan=lifespan,
        title="Sextant Agent API",
        version=__version__,
        description="Discover tables and metrics, build structured queries and run them "
        "as a real user, with that user's permissions and row-level security.",
        docs_url=None,  # served with local assets by serve_docs
        redoc_url=None,
    )
    app.state.service = service
    install_error_handlers(app)
    app.include_router(agent.router)
    app.include_router(agent.unversioned)
    app.include_router(search.router)
    app.include_router(queries.router)
    app.include_router(queries.unversioned)
    app.include_router(auth.router)
    app.include_router(classic.router)
    app.router.routes.append(
        Route("/mcp", mcp_endpoint(service), methods=["GET", "POST", "DELETE"])
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(NoStore, prefixes=(b"/auth",))
    document_errors(app)
    serve_docs(app)
    return app
