"""Paging a query's result (spec §10): pages by position in a total order, continued by a
signed token bound to the caller.

A page is the rows at positions ``offset`` … ``offset + size`` of the query's result once it
is put in a **total order**: the order the query asks for, then every output column ascending
as a tie-break. Rows equal in every output column are indistinguishable, so whichever of them
lands on a page, the pages concatenate to the whole result, in order, with no row repeated or
missing — also when the query orders by a non-unique column or not at all. Each page is one
``ORDER BY … LIMIT … OFFSET`` statement: nothing is kept between pages, so any worker or server
sharing the secret serves the next page, on every engine.

The continuation token carries the normalized query (never SQL), the next position, the page
size, the caller's user id and an expiry, under an HMAC of the server secret. It is re-checked
like a query token on every page: against the current model and the caller's permissions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from sextant.errors import ForbiddenError, InvalidRequestError
from sextant.query.normal import NormQuery, from_json
from sextant.query.token import MAX_TOKEN, InvalidQueryError

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "Continuation",
    "ContinuationExpiredError",
    "Page",
    "decode_continuation",
    "encode_continuation",
]

DEFAULT_PAGE_SIZE = 200
_VERSION = 1
_PURPOSE = b"sextant-page-v1\0"  # a continuation token is never a query token, nor the reverse


@dataclass(frozen=True)
class Page:
    """Rows ``offset`` … ``offset + size`` of the result in its total order."""

    offset: int
    size: int


@dataclass(frozen=True)
class Continuation:
    """What a continuation token says: the query, the next page, whose it is, until when."""

    query: NormQuery
    page: Page
    user_id: int
    expires: float  # seconds since the epoch


class ContinuationExpiredError(InvalidRequestError):
    code = "continuation_expired"


def _mac(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, _PURPOSE + body, hashlib.sha256).hexdigest()


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def encode_continuation(continuation: Continuation, secret: bytes) -> str:
    payload = {
        "v": _VERSION,
        "q": continuation.query.to_json(),
        "o": continuation.page.offset,
        "n": continuation.page.size,
        "u": continuation.user_id,
        "e": int(continuation.expires),
    }
    envelope = {**payload, "mac": _mac(secret, _canonical(payload))}
    return base64.urlsafe_b64encode(_canonical(envelope)).decode("ascii")


def _invalid() -> InvalidQueryError:
    return InvalidQueryError("The continuation token is invalid or has been tampered with.")


def decode_continuation(
    token: str, secret: bytes, user_id: int, now: float | None = None
) -> Continuation:
    """The continuation of an untampered, unexpired token of ``user_id``.

    400 ``invalid_query`` when tampered with, 400 ``continuation_expired`` past its expiry,
    403 when it was issued to another user.
    """
    if not token or len(token) > MAX_TOKEN:
        raise _invalid()
    try:
        envelope = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        payload = {key: envelope[key] for key in ("v", "q", "o", "n", "u", "e")}
        mac = envelope["mac"]
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error, RecursionError) as exc:
        raise _invalid() from exc
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(secret, _canonical(payload))):
        raise _invalid()
    numbers = (payload["o"], payload["n"], payload["u"], payload["e"])
    if payload["v"] != _VERSION or not all(type(n) is int and n >= 0 for n in numbers):
        raise _invalid()
    if payload["u"] != user_id:
        raise ForbiddenError("This continuation token was issued to another user.")
    if payload["e"] < (time.time() if now is None else now):
        raise ContinuationExpiredError(
            "The continuation token has expired; run the query again from its first page."
        )
    try:
        query = from_json(payload["q"])
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise _invalid() from exc
    return Continuation(query, Page(payload["o"], payload["n"]), user_id, float(payload["e"]))
