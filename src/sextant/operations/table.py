"""The operation table: every operation of the API, with its scope and arguments, declared once.

An operation is a method of :class:`sextant.operations.api.AgentAPI` marked with
:func:`operation`. The mark records it in :data:`OPERATIONS` and checks the caller's scope
before the method runs, so every transport (HTTP, MCP, the client through HTTP) enforces the
same policy without declaring any of it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from pydantic import BaseModel

from sextant.auth.principal import Principal
from sextant.errors import ScopeError

__all__ = ["OPERATIONS", "Operation", "operation"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


@dataclass(frozen=True)
class Operation:
    name: str
    scopes: tuple[str, ...]  # every one is required; none: any authenticated caller
    arguments: type[BaseModel] | None
    summary: str

    def check(self, principal: Principal) -> None:
        """The caller's credential must allow every scope of the operation."""
        if not all(principal.allows(scope) for scope in self.scopes):
            raise ScopeError()


OPERATIONS: dict[str, Operation] = {}
"""Every operation by name."""


def operation(
    name: str,
    *scopes: str,
    arguments: type[BaseModel] | None = None,
) -> Callable[
    [Callable[Concatenate[S, Principal, P], R]], Callable[Concatenate[S, Principal, P], R]
]:
    """Record a method as an operation and check its scopes before every call."""

    def mark(
        method: Callable[Concatenate[S, Principal, P], R],
    ) -> Callable[Concatenate[S, Principal, P], R]:
        summary = (method.__doc__ or name).strip().splitlines()[0]
        declared = Operation(name, tuple(scopes), arguments, summary)
        if name in OPERATIONS and OPERATIONS[name] != declared:
            raise ValueError(f"operation {name!r} is declared twice")
        OPERATIONS[name] = declared

        @functools.wraps(method)
        def checked(self: S, principal: Principal, /, *args: P.args, **kwargs: P.kwargs) -> R:
            declared.check(principal)
            return method(self, principal, *args, **kwargs)

        checked.operation = declared  # type: ignore[attr-defined]
        return checked

    return mark
