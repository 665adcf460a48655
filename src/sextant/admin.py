"""Administering credentials: API keys, sessions, and who a user is, for the CLI and the demo.

Nothing here serves requests; the request path authenticates in :mod:`sextant.auth`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from sextant.auth.principal import Principal
from sextant.errors import NotFoundError
from sextant.store.credentials import (
    ApiKeyInfo,
    create_api_key,
    list_api_keys,
    resolve_api_key,
    revoke_api_key,
    revoke_sessions,
)
from sextant.store.users import load_identity

__all__ = ["Credentials"]


class Credentials:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def revoke_sessions(self, email: str) -> int:
        return revoke_sessions(self.engine, email)

    def create_api_key(
        self, group: str, name: str, attributes: Mapping[str, str] | None = None
    ) -> str:
        return create_api_key(self.engine, group, name, attributes)

    def revoke_api_key(self, name: str) -> None:
        revoke_api_key(self.engine, name)

    def list_api_keys(self) -> list[ApiKeyInfo]:
        return list_api_keys(self.engine)

    def resolves_api_key(self, key: str) -> bool:
        """Whether ``key`` is a live API key of an active service user."""
        user_id = resolve_api_key(self.engine, key)
        return user_id is not None and load_identity(self.engine, user_id=user_id) is not None

    def principal_for(self, email: str) -> Principal:
        """The principal of an active user, for administrative commands."""
        identity = load_identity(self.engine, email=email)
        if identity is None:
            raise NotFoundError(f"No active user with email {email}.")
        return Principal(identity.user_id, identity.email, identity.groups, identity.attributes)
