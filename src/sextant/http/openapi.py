"""The OpenAPI document as the server answers: 400 (never 422) for invalid requests, with the
JSON error body every 4xx carries."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["document_errors"]

ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "a stable code, e.g. invalid_request"},
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "every problem at once: a JSON path and what was expected there",
        },
    },
}


_ERRORS = {
    "400": "Invalid request: every problem at once",
    "401": "No valid credentials (the body says which of the four cases)",
    "403": "The caller may not do that, or its token lacks the scope",
    "404": "Unknown id",
    "413": "The request body is too large",
    "429": "Too many requests or failed authentications; see Retry-After",
    "503": "The warehouse is unavailable or too slow right now; see Retry-After",
}


SECURITY_SCHEMES: dict[str, Any] = {
    "JWT": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An HS256 JWT signed with the shared secret (`sextant token`)",
    },
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key (`sextant api-key create`)",
    },
    "Session": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Metabase-Session",
        "description": "A session from POST /auth/sso",
    },
}
"""The three credentials every route but the session exchange accepts (any one of them)."""

_PUBLIC = ("/auth/",)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def document_errors(app: FastAPI) -> None:
    """Document the error answers every route can give (400, never FastAPI's 422)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorBody"] = ERROR_BODY
        document["components"]["securitySchemes"] = SECURITY_SCHEMES
        anyone: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                if not path.startswith(_PUBLIC):
                    operation["security"] = anyone
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                for status, description in _ERRORS.items():
                    responses.setdefault(status, _error(description))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
