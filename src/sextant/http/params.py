"""Query-string parameters of the Agent API: kebab-case, strict, every problem at once."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

from sextant.errors import InvalidRequestError, NotFoundError

__all__ = ["documented", "entity_id", "query_arguments", "query_name"]

M = TypeVar("M", bound=BaseModel)

T = TypeVar("T")


def entity_id(raw: str) -> int:
    """A path id; anything but a plain non-negative integer is a 404 (spec §1)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFoundError()
    return int(raw)


def query_name(field: str) -> str:
    """The query-string name of an argument: ``with-*`` flags are kebab-case (spec §1)."""
    return field.replace("_", "-") if field.startswith("with_") else field


@functools.cache
def _schema(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Each argument's JSON schema, with ``anyOf`` of an optional value flattened."""
    out: dict[str, dict[str, Any]] = {}
    for name, prop in model.model_json_schema()["properties"].items():
        choices = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
        out[name] = choices[0] if len(choices) == 1 else prop
    return out


def _scalar(raw: str, schema: Mapping[str, Any]) -> tuple[Any, str | None]:
    """(value, problem) for one query-string value of the argument ``schema``."""
    kind = schema.get("type")
    if "enum" in schema:
        choices = [str(c) for c in schema["enum"]]
        if raw not in choices:
            return None, f"expected one of {', '.join(choices)}, got {raw!r}"
        return raw, None
    if kind == "boolean":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            return None, f"expected true or false, got {raw!r}"
        return lowered == "true", None
    if kind == "integer":
        low, high = schema.get("minimum", 0), schema.get("maximum", 2**53)
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            return None, f"expected an integer from {low} to {high}, got {raw!r}"
        if not low <= int(text) <= high:
            return None, f"must be from {low} to {high}, got {text}"
        return int(text), None
    return raw, None


def query_arguments(model: type[M], params: QueryParams, **fixed: Any) -> M:
    """``model`` from a query string (and values the path gave), every problem at once."""
    values: dict[str, Any] = dict(fixed)
    errors: dict[str, str] = {}
    for name, schema in _schema(model).items():
        key = query_name(name)
        raw = params.getlist(key)
        if name in fixed or not raw:
            continue
        if schema.get("type") == "array":
            parsed = [_scalar(r, schema.get("items", {})) for r in raw]
            bad = [problem for _, problem in parsed if problem]
            if bad:
                errors[key] = bad[0]
            else:
                values[name] = [value for value, _ in parsed]
            continue
        if len(raw) > 1:
            errors[key] = "given more than once"
            continue
        value, problem = _scalar(raw[0], schema)
        if problem:
            errors[key] = problem
        else:
            values[name] = value
    if errors:
        raise InvalidRequestError(_summary(errors), errors=errors)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        found = {".".join(str(p) for p in e["loc"]) or "query": str(e["msg"]) for e in exc.errors()}
        raise InvalidRequestError(_summary(found), errors=found) from exc


def _summary(errors: Mapping[str, str]) -> str:
    return "Invalid query parameters: " + "; ".join(f"{k}: {v}" for k, v in errors.items())


def documented(model: type[BaseModel], *given: str) -> dict[str, Any]:
    """``openapi_extra`` declaring ``model``'s query-string arguments (its kebab-case names,
    types, bounds and descriptions), except ``given`` ones that the path or body supplies."""
    required = set(model.model_json_schema().get("required", []))
    declared = []
    for name, schema in _schema(model).items():
        if name in given:
            continue
        item = {k: v for k, v in schema.items() if k not in ("title", "description")}
        entry: dict[str, Any] = {
            "name": query_name(name),
            "in": "query",
            "required": name in required,
            "schema": item,
        }
        field = model.model_fields.get(name)
        if field is not None and field.description:
            entry["description"] = field.description
        declared.append(entry)
    return {"parameters": declared}
