"""Request-level dependencies: the service and the caller.

Scopes are not checked here: each operation checks its own (``sextant.operations.table``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sextant.auth.principal import Principal
from sextant.operations.api import AgentAPI
from sextant.service import Sextant

__all__ = ["API", "Caller", "client_address", "get_api", "get_service", "principal"]


def get_service(request: Request) -> Sextant:
    service: Sextant = request.app.state.service
    return service


def get_api(request: Request) -> AgentAPI:
    return get_service(request).api


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def principal(request: Request) -> Principal:
    """The caller of a request (synchronous: it reads the app database, FastAPI runs it in a
    thread)."""
    return get_service(request).authenticate(request.headers, client_address(request), None)


Caller = Annotated[Principal, Depends(principal)]
API = Annotated[AgentAPI, Depends(get_api)]
