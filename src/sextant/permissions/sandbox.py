"""Binding a sandbox's filter to the calling user's attributes (deny by default)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BoundFilter", "bind_sandbox"]

_PLACEHOLDER = re.compile(r"\{\{\s*user\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class BoundFilter:
    column: str
    operation: str
    values: tuple[Any, ...]
    via: tuple[str, ...]  # the foreign keys followed to the column's table (empty: its own)
    bucket: str | None


def _bind(value: Any, attributes: Mapping[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in attributes:
            missing.append(name)
            return ""
        return attributes[name]

    bound = _PLACEHOLDER.sub(replace, value)
    if missing:
        raise LookupError(missing[0])
    return bound


def bind_sandbox(
    definition: Mapping[str, Any], attributes: Mapping[str, str]
) -> BoundFilter | None:
    """The filter with ``{{user.x}}`` replaced; None (no rows) when an attribute is missing."""
    spec = definition["filter"]
    raw = (
        spec["values"]
        if spec.get("values") is not None
        else ([spec["value"]] if spec.get("value") is not None else [])
    )
    try:
        values = tuple(_bind(v, attributes) for v in raw)
    except LookupError:
        return None
    return BoundFilter(
        spec["column"], spec["operation"], values, via_chain(spec.get("via")), spec.get("bucket")
    )


def via_chain(via: Any) -> tuple[str, ...]:
    """A filter's ``via`` as the foreign keys it follows: one name, or a list of them."""
    if via is None:
        return ()
    return (str(via),) if isinstance(via, str) else tuple(str(v) for v in via)
