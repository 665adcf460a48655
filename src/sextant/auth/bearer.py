"""Verifying stateless JWTs exactly as spec §8 asks: HS256 only, fresh ``iat``, one error."""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import jwt

from sextant.errors import AuthenticationError

__all__ = [
    "INVALID_JWT",
    "JWT_NOT_CONFIGURED",
    "JwtConfig",
    "verify_jwt",
]

log = logging.getLogger("sextant.auth")

INVALID_JWT = AuthenticationError("invalid_jwt", "Invalid or expired JWT token.")
JWT_NOT_CONFIGURED = AuthenticationError(
    "jwt_not_configured",
    "JWT authentication is not configured. Set the JWT shared secret in admin settings.",
)
_MIN_KEY_BYTES = 32


@dataclass(frozen=True)
class JwtConfig:
    secret: str | None = field(default=None, repr=False)
    email_claim: str = "email"
    max_age_seconds: int = 180
    max_future_seconds: int = 5

    def __post_init__(self) -> None:
        if self.secret is not None and len(self.secret.encode("utf-8")) < _MIN_KEY_BYTES:
            log.warning(
                "the JWT shared secret is shorter than %d bytes; use a longer random secret",
                _MIN_KEY_BYTES,
            )
            # PyJWT warns on every short-key verification; we said it once.
            warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)


def verify_jwt(token: str, config: JwtConfig, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid token; :data:`INVALID_JWT` for every kind of failure."""
    if not config.secret:
        raise JWT_NOT_CONFIGURED
    current = time.time() if now is None else now
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "HS256":
            raise INVALID_JWT
        claims: dict[str, Any] = jwt.decode(
            token,
            config.secret.encode("utf-8"),
            algorithms=["HS256"],
            options={"require": ["iat"], "verify_iat": False, "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise INVALID_JWT from exc
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise INVALID_JWT
    if current - iat > config.max_age_seconds or iat - current > config.max_future_seconds:
        raise INVALID_JWT
    email = claims.get(config.email_claim)
    if not isinstance(email, str) or not email.strip():
        raise INVALID_JWT
    return claims
