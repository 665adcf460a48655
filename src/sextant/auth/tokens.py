"""Signing JWTs for local testing and the demo banner (HS256, spec §8)."""

from __future__ import annotations

import time

import jwt

__all__ = ["make_jwt"]


def make_jwt(
    secret: str,
    email: str,
    *,
    email_claim: str = "email",
    now: float | None = None,
    **extra: object,
) -> str:
    """A fresh HS256 token for ``email``; the key is the UTF-8 bytes of ``secret``."""
    payload: dict[str, object] = {"iat": int(now if now is not None else time.time())}
    payload[email_claim] = email
    payload.update(extra)
    return jwt.encode(payload, secret.encode("utf-8"), algorithm="HS256")
