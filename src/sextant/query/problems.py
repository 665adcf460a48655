"""Collecting every problem of a request before answering (spec §9)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sextant.errors import ForbiddenError, InvalidRequestError, UserError
from sextant.model.issues import suggest

__all__ = ["Problems"]


@dataclass
class Problems:
    """Problems by JSON path; a lone id error keeps the exact wording and status of the spec."""

    items: dict[str, str] = field(default_factory=dict)
    exact: list[UserError] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.items.setdefault(path, message)

    def unknown(self, path: str, kind: str, name: str, known: Iterable[str]) -> None:
        close = suggest(name, known)
        hint = f" (did you mean {close!r}?)" if close else ""
        self.add(path, f"unknown {kind} {name!r}{hint}")

    def error(self, path: str, error: UserError) -> None:
        """An error with its own status (bad field id, forbidden, not found)."""
        self.exact.append(error)
        self.add(path, error.message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        if len(self.items) == 1 and len(self.exact) == 1:
            raise self.exact[0]
        if self.exact and all(isinstance(e, ForbiddenError) for e in self.exact):
            raise ForbiddenError()
        summary = "; ".join(f"{path}: {message}" for path, message in self.items.items())
        raise InvalidRequestError(f"Invalid query: {summary}", errors=self.items)
