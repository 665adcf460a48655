"""``/api/agent/v1``: the Agent API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from sextant.auth.principal import Principal
from sextant.http.deps import get_service, principal
from sextant.service import Sextant

__all__ = ["router"]

router = APIRouter(prefix="/api/agent/v1", tags=["agent"])

Caller = Annotated[Principal, Depends(principal())]
Service = Annotated[Sextant, Depends(get_service)]


@router.get("/ping", summary="Health check (needs authentication)")
async def ping(caller: Caller, service: Service) -> dict[str, str]:
    return service.ping(caller)
