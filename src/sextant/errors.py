"""One error tree for Sextant.

User errors carry a stable ``code``, an HTTP ``status`` and a message meant for the caller;
``errors`` maps a location (a JSON path or a model path) to what was expected there, so that
every problem is reported at once. Internal errors never expose details to callers.
This module imports nothing from the package.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "ForbiddenError",
    "InternalError",
    "InvalidRequestError",
    "ModelInvalidError",
    "NotFoundError",
    "RateLimitedError",
    "ScopeError",
    "SextantError",
    "UserError",
    "WarehouseError",
    "first_line",
]


class SextantError(Exception):
    """Base of every error Sextant raises on purpose."""


class UserError(SextantError):
    """Something the caller can fix; rendered as a 4xx ``{"error","message"}`` body."""

    status: int = 400
    code: str = "invalid_request"
    retry_after: int | None = None  # seconds, when trying again later may work

    def __init__(self, message: str, *, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, str] = dict(errors or {})


class InvalidRequestError(UserError):
    status = 400
    code = "invalid_request"


class NotFoundError(UserError):
    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found.", **kwargs: Mapping[str, str] | None) -> None:
        super().__init__(message, errors=kwargs.get("errors"))


class ForbiddenError(UserError):
    status = 403
    code = "forbidden"

    def __init__(
        self,
        message: str = "You don't have permissions to do that.",
        **kwargs: Mapping[str, str] | None,
    ) -> None:
        super().__init__(message, errors=kwargs.get("errors"))


class AuthenticationError(UserError):
    """401 with one of the fixed bodies of spec §8; never says which check failed."""

    status = 401

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ScopeError(UserError):
    status = 403
    code = "unsupported_scope"

    def __init__(self) -> None:
        super().__init__("Insufficient scope for this operation.")


class RateLimitedError(UserError):
    status = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(
            message or f"Too many failed authentication attempts. Retry in {retry_after} s."
        )
        self.retry_after = retry_after


class ModelInvalidError(UserError):
    """The semantic model has problems; ``issues`` lists every one of them."""

    status = 400
    code = "invalid_model"

    def __init__(self, issues: list[object], source: str | None = None) -> None:
        self.issues = issues
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"{len(issues)} problem(s){where}")


class ConfigurationError(SextantError):
    """Settings or environment are unusable (missing variables, bad URLs)."""


class WarehouseError(SextantError):
    """The warehouse could not be reached or refused a statement."""


class InternalError(SextantError):
    """A bug: reported to callers as a 500 with a request id only."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an engine's error message (no stack, no SQL dump), for callers."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:limit]
