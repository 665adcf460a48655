"""The query token: the normalized request and an HMAC over it; never SQL (spec §6)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from sextant.errors import InvalidRequestError
from sextant.query.normal import NormQuery, from_json

__all__ = ["MAX_TOKEN", "InvalidQueryError", "decode_token", "encode_token"]

_VERSION = 1
MAX_TOKEN = 256 * 1024


class InvalidQueryError(InvalidRequestError):
    code = "invalid_query"


def _mac(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def encode_token(query: NormQuery, secret: bytes) -> str:
    payload = {"v": _VERSION, "q": query.to_json()}
    body = _canonical(payload)
    envelope = {"v": _VERSION, "q": payload["q"], "mac": _mac(secret, body)}
    return base64.urlsafe_b64encode(_canonical(envelope)).decode("ascii")


def decode_token(token: object, secret: bytes) -> NormQuery:
    """The query of an untampered token; ``invalid_query`` (400) otherwise."""
    invalid = InvalidQueryError("The query token is invalid or has been tampered with.")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise invalid
    try:
        envelope = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        payload = {"v": envelope["v"], "q": envelope["q"]}
        mac = envelope["mac"]
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error, RecursionError) as exc:
        raise invalid from exc
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(secret, _canonical(payload))):
        raise invalid
    if payload["v"] != _VERSION:
        raise invalid
    try:
        return from_json(payload["q"])
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise invalid from exc
