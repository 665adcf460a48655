"""Verifying stateless JWTs exactly as spec §8 asks: HS256 only, fresh ``iat``, one error."""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import jwt

from sextant.cache import LRU
from sextant.errors import AuthenticationError

__all__ = ["JwtConfig", "invalid_jwt", "jwt_not_configured", "verify_jwt"]

log = logging.getLogger("sextant.auth")


def invalid_jwt() -> AuthenticationError:
    """The one answer to every JWT failure, so that it tells nothing about users."""
    return AuthenticationError("invalid_jwt", "Invalid or expired JWT token.")


def jwt_not_configured() -> AuthenticationError:
    return AuthenticationError(
        "jwt_not_configured",
        "JWT authentication is not configured. Set the JWT shared secret in admin settings.",
    )


def _whole_number(value: object) -> bool:
    """A NumericDate as RFC 7519 means it: a finite number of whole seconds."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


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


_VERIFIED: LRU[dict[str, Any]] = LRU(4096)
"""Tokens whose signature and claims were found valid, by (configuration, token text).
An agent sends one token for many requests; PyJWT's parsing and the HMAC cost more than the
rest of authenticating it. The times (``iat`` age, ``exp``, ``nbf``) are checked again on
every use, a token is remembered no longer than its age allows, and failures never are."""


def verify_jwt(token: str, config: JwtConfig, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid token; :func:`invalid_jwt` for every kind of failure."""
    if not config.secret:
        raise jwt_not_configured()
    current = time.time() if now is None else now
    key = (config, token)
    known = _VERIFIED.get(key)
    if known is not None:
        _check_times(known, config, current)
        return dict(known)
    claims = _verified(token, config, current)
    _VERIFIED.put(key, claims)
    return dict(claims)


def _check_times(claims: dict[str, Any], config: JwtConfig, current: float) -> None:
    iat = claims["iat"]
    if current - iat > config.max_age_seconds or iat - current > config.max_future_seconds:
        raise invalid_jwt()
    if "exp" in claims and claims["exp"] <= current:
        raise invalid_jwt()
    if "nbf" in claims and claims["nbf"] > current:
        raise invalid_jwt()


def _verified(token: str, config: JwtConfig, current: float) -> dict[str, Any]:
    assert config.secret is not None
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "HS256":
            raise invalid_jwt()
        claims: dict[str, Any] = jwt.decode(
            token,
            config.secret.encode("utf-8"),
            algorithms=["HS256"],
            options={"require": ["iat"], "verify_iat": False, "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise invalid_jwt() from exc
    if not all(_whole_number(claims[k]) for k in ("iat", "exp", "nbf") if k in claims):
        raise invalid_jwt()  # NaN, Infinity or a fraction never pass for a time
    _check_times(claims, config, current)
    email = claims.get(config.email_claim)
    if not isinstance(email, str) or not email.strip():
        raise invalid_jwt()
    return claims
