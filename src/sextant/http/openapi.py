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


def document_errors(app: FastAPI) -> None:
    """Replace FastAPI's 422 with the 400 the error handler answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorBody"] = ERROR_BODY
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if responses.pop("422", None) is not None or "requestBody" in operation:
                    responses["400"] = {
                        "description": "Invalid request: every problem at once",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorBody"}
                            }
                        },
                    }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
