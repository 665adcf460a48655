"""Validation problems in words: one wording for the model file and for request bodies.

Pydantic says "Input should be a valid tuple" where a user wrote a mapping, "extra fields not
permitted" for a typo, and a JSON parser counts characters; these say what to write instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sextant.model.issues import suggest

__all__ = ["json_syntax", "problem"]

_SEQUENCES = frozenset({"list_type", "tuple_type", "set_type", "frozen_set_type"})


def problem(
    error: Mapping[str, Any], *, keys: Iterable[str] = (), mapping: str = "an object"
) -> tuple[str, str | None]:
    """(message, "did you mean" suggestion) for one pydantic error. ``keys`` are the keys
    allowed where an unknown key was found; ``mapping`` is what a dict is called there."""
    kind = error.get("type", "")
    given = error.get("input")
    if kind == "extra_forbidden":
        name = str(error.get("loc", ("?",))[-1])
        return f"unknown key {name!r}", suggest(name, list(keys))
    if kind in _SEQUENCES and isinstance(given, Mapping):
        return f"write a list ([…], or one '- item' per line in YAML), not {mapping}", None
    if kind in _SEQUENCES:
        return f"write a list, not {_what(given)}", None
    if kind == "dict_type" or kind == "model_type":
        return f'write {mapping} ({{"key": value}}), not {_what(given)}', None
    return str(error.get("msg", "invalid")).removeprefix("Value error, "), None


def _what(value: Any) -> str:
    if isinstance(value, str):
        return "a text"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "null"
    return type(value).__name__


def json_syntax(document: str, position: int, reason: str) -> str:
    """A JSON syntax error located by line and column (both from 1)."""
    line = document.count("\n", 0, position) + 1
    column = position - (document.rfind("\n", 0, position) + 1) + 1
    return f"not valid JSON at line {line}, column {column}: {reason}"
