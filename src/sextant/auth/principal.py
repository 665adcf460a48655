"""Who is calling: a user, their groups and attributes, and what the credential allows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sextant.model.types import ADMINISTRATORS

__all__ = ["SCOPES", "Principal", "parse_scopes"]

SCOPES: tuple[str, ...] = (
    "agent:table:read",
    "agent:metric:read",
    "agent:search",
    "agent:query:construct",
    "agent:query:execute",
)
ALL_SCOPES = "agent:*"


def parse_scopes(claim: object) -> frozenset[str] | None:
    """The ``scope`` claim (space-separated) as a set; None (= every scope) when absent."""
    if claim is None:
        return None
    if isinstance(claim, str):
        return frozenset(claim.split())
    if isinstance(claim, list | tuple):
        return frozenset(str(c) for c in claim)
    return frozenset()  # an unreadable claim grants nothing


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    groups: frozenset[str]
    attributes: Mapping[str, str] = field(default_factory=dict)
    scopes: frozenset[str] | None = None
    method: str = "jwt"  # jwt | session | api_key

    @property
    def is_admin(self) -> bool:
        return ADMINISTRATORS in self.groups

    @property
    def permission_key(self) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
        """What permissions and sandboxes decide from: groups and attributes. Callers with
        the same key see the same tables, columns and rows."""
        return (self.groups, tuple(sorted(self.attributes.items())))

    def allows(self, scope: str) -> bool:
        return self.scopes is None or ALL_SCOPES in self.scopes or scope in self.scopes
