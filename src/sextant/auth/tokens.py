"""Signing JWTs for local testing and the demo banner (HS256, spec §8)."""

from __future__ import annotations

import time
from collections.abc import Mapping

import jwt

__all__ = ["make_jwt"]


def make_jwt(
    secret: str,
    email: str,
    *,
    email_claim: str = "email",
    now: float | None = None,
    claims: Mapping[str, object] | None = None,
    **extra: object,
) -> str:
    """A fresh HS256 token for ``email``; the key is the UTF-8 bytes of ``secret``. Other
    claims come from ``claims`` and keyword arguments (``scope="agent:search"``)."""
    payload: dict[str, object] = {"iat": int(now if now is not None else time.time())}
    payload[email_claim] = email
    payload.update(claims or {})
    payload.update(extra)
    return jwt.encode(payload, secret.encode("utf-8"), algorithm="HS256")
