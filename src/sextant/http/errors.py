"""One place that turns errors into the wire shape of spec §9."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sextant.errors import AuthenticationError, UserError, WarehouseError
from sextant.wording import json_syntax, problem

__all__ = ["install_error_handlers", "user_error_response"]

log = logging.getLogger("sextant.http")


def _body(code: str, message: str, errors: dict[str, str] | None = None) -> dict[str, object]:
    body: dict[str, object] = {"error": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def user_error_response(exc: UserError) -> JSONResponse:
    """The answer to a caller's mistake, with the headers its status needs."""
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(
        _body(exc.code, exc.message, exc.errors), status_code=exc.status, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(_request: Request, exc: UserError) -> JSONResponse:
        return user_error_response(exc)

    @app.exception_handler(WarehouseError)
    async def warehouse_down(_request: Request, exc: WarehouseError) -> JSONResponse:
        log.warning("warehouse unavailable: %s", exc)
        return JSONResponse(
            _body("warehouse_unavailable", str(exc)), status_code=503, headers={"Retry-After": "5"}
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors: dict[str, str] = {}
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                document = exc.body if isinstance(exc.body, str) else ""
                reason = str(error.get("ctx", {}).get("error", "JSON decode error"))
                errors["body"] = json_syntax(document, int(error["loc"][-1]), reason)
                continue
            path = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
            message, suggestion = problem(error)
            errors[path] = f"{message} (did you mean {suggestion!r}?)" if suggestion else message
        return JSONResponse(
            _body("invalid_request", "The request is not valid.", errors), status_code=400
        )

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        message = "Not found." if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(_body(code, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def internal(_request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex
        log.exception("internal error (request %s)", request_id, exc_info=exc)
        return JSONResponse(
            {
                "error": "internal_error",
                "message": f"An internal error happened. Request id: {request_id}.",
                "request_id": request_id,
            },
            status_code=500,
        )
