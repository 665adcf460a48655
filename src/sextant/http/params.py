"""Query-string parameters of the Agent API: kebab-case, strict, every problem at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

from starlette.datastructures import QueryParams

from sextant.errors import InvalidRequestError, NotFoundError

__all__ = ["entity_id", "flags", "limit", "optional_int"]

T = TypeVar("T")


def entity_id(raw: str) -> int:
    """A path id; anything but a plain non-negative integer is a 404 (spec §1)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFoundError()
    return int(raw)


def flags(params: QueryParams, cls: type[T]) -> T:
    """``with-*`` booleans (true/false, any case) into the dataclass ``cls``."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        name = "with-" + f.name.replace("_", "-")
        raw_values = params.getlist(name)
        if not raw_values:
            continue
        if len(raw_values) > 1:
            errors[name] = "given more than once"
            continue
        lowered = raw_values[0].strip().lower()
        if lowered not in ("true", "false"):
            errors[name] = f"expected true or false, got {raw_values[0]!r}"
            continue
        values[f.name] = lowered == "true"
    if errors:
        raise InvalidRequestError(_summary(errors), errors=errors)
    return cls(**values)


def limit(params: QueryParams, default: int, maximum: int) -> int:
    raw = params.get("limit")
    if raw is None:
        return default
    problem = None
    if not raw.strip().isdigit():
        problem = f"expected an integer from 1 to {maximum}, got {raw!r}"
    elif not 1 <= int(raw) <= maximum:
        problem = f"must be from 1 to {maximum}, got {raw}"
    if problem:
        raise InvalidRequestError(_summary({"limit": problem}), errors={"limit": problem})
    return int(raw)


def optional_int(params: QueryParams, name: str, minimum: int, maximum: int) -> int | None:
    """An optional integer query parameter within bounds (ASCII digits only)."""
    raw = params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    problem = None
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        problem = f"expected an integer from {minimum} to {maximum}, got {raw!r}"
    elif not minimum <= int(text) <= maximum:
        problem = f"must be from {minimum} to {maximum}, got {text}"
    if problem:
        raise InvalidRequestError(_summary({name: problem}), errors={name: problem})
    return int(text)


def _summary(errors: Mapping[str, str]) -> str:
    return "Invalid query parameters: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
