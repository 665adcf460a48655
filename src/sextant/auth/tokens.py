"""Signing JWTs for local testing and the demo banner (HS256, spec §8).

Signed with the standard library (RFC 7515 compact serialization, HMAC-SHA256): ``sextant
token`` must start at once, and PyJWT imports ``cryptography`` (a tenth of a second) for
algorithms an HS256 signer never uses. Verification stays with PyJWT
(:mod:`sextant.auth.bearer`); the tests decode every token made here with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

__all__ = ["make_jwt"]

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _segment(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _json(value: Mapping[str, object]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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
    signing_input = _segment(_json(_HEADER)) + b"." + _segment(_json(payload))
    signature = hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + _segment(signature)).decode("ascii")
