"""Request-level dependencies: the service, the caller and its scope."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from sextant.auth.principal import Principal
from sextant.service import Sextant

__all__ = ["client_address", "get_service", "principal"]


def get_service(request: Request) -> Sextant:
    service: Sextant = request.app.state.service
    return service


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def principal(scope: str | None = None) -> Callable[[Request], Principal]:
    """A dependency resolving the caller of a request, requiring ``scope`` when given.

    Synchronous on purpose: it reads the app database, so FastAPI runs it in a thread.
    """

    def dependency(request: Request) -> Principal:
        return get_service(request).authenticate(request.headers, client_address(request), scope)

    return dependency
