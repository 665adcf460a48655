"""Request-level dependencies: the service and the caller.

Scopes are not checked here: each operation checks its own (``sextant.operations.table``).
Dependencies are ``async`` so that FastAPI does not send each to a worker thread: a thread hop
costs more than the work of most requests. The caller is found on the event loop when that
needs no I/O (a remembered credential) and in a worker thread otherwise.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from sextant.auth.memo import NeedsLookUp
from sextant.auth.principal import Principal
from sextant.operations.api import AgentAPI
from sextant.service import Sextant

__all__ = ["API", "Caller", "Service", "client_address", "get_api", "get_service", "principal"]


def get_service(request: Request) -> Sextant:
    service: Sextant = request.app.state.service
    return service


async def get_api(request: Request) -> AgentAPI:
    return get_service(request).api


async def _service(request: Request) -> Sextant:
    return get_service(request)


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def principal(request: Request) -> Principal:
    """The caller of a request: on the event loop when remembered, else looked up in the app
    database from a worker thread."""
    service, client = get_service(request), client_address(request)
    try:
        return service.authenticate(request.headers, client, None, wait=False)
    except NeedsLookUp:
        return await run_in_threadpool(service.authenticate, request.headers, client, None)


Caller = Annotated[Principal, Depends(principal)]
API = Annotated[AgentAPI, Depends(get_api)]
Service = Annotated[Sextant, Depends(_service)]
