"""``/auth/sso``: exchange a JWT for a session token (spec §8)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from sextant.http.deps import client_address, get_service
from sextant.operations.arguments import SessionArguments
from sextant.service import Sextant

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])


class SsoResponse(BaseModel):
    session_token: str
    expires_at: str = Field(description="ISO-8601, UTC")


@router.post("/sso", summary="Exchange a JWT for a session token", response_model=SsoResponse)
@router.post("/sso/to_session", include_in_schema=True, response_model=SsoResponse)
def sso(
    body: SessionArguments,
    request: Request,
    service: Annotated[Sextant, Depends(get_service)],
) -> SsoResponse:
    grant = service.exchange_jwt(body.jwt, client_address(request))
    return SsoResponse(
        session_token=grant.token,
        expires_at=grant.expires_at.isoformat().replace("+00:00", "Z"),
    )
