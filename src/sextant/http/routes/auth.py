"""``/auth/sso``: exchange a JWT for a session token (spec §8)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sextant.errors import InvalidRequestError
from sextant.http import params
from sextant.http.deps import Service, client_address
from sextant.operations.arguments import SessionArguments, SsoGetArguments

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
    service: Service,
) -> SsoResponse:
    grant = service.exchange_jwt(body.jwt, client_address(request))
    return SsoResponse(
        session_token=grant.token,
        expires_at=grant.expires_at.isoformat().replace("+00:00", "Z"),
    )


class SsoToken(BaseModel):
    """Metabase's answer to ``GET /auth/sso?jwt=…&token=true``."""

    id: str = Field(description="the session token (use as X-Metabase-Session)")
    iat: int = Field(description="issued at, Unix seconds")
    exp: int = Field(description="expires at, Unix seconds")


@router.get(
    "/sso",
    summary="Exchange a JWT for a session token, Metabase's way (`token=true`)",
    openapi_extra=params.documented(SsoGetArguments, "jwt"),
)
def sso_get(jwt: str, request: Request, service: Service) -> SsoToken:
    arguments = params.query_arguments(SsoGetArguments, request.query_params)
    if not arguments.token:
        raise InvalidRequestError(
            "Add token=true: this server answers the exchange with the session token as JSON "
            "(no browser redirect).",
            errors={"token": "expected true"},
        )
    grant = service.exchange_jwt(arguments.jwt, client_address(request))
    return SsoToken(
        id=grant.token,
        iat=int(grant.issued_at.timestamp()),
        exp=int(grant.expires_at.timestamp()),
    )
