"""Server-side secrets shared by every worker and instance through the app database."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from sextant.errors import ConfigurationError
from sextant.store import schema as s

__all__ = ["server_secret"]


def server_secret(engine: Engine, key: str, *, create: bool = True) -> bytes:
    """The secret stored under ``key``, created (once, race-free) on first use; a read-only
    caller (``create=False``) gets a :class:`ConfigurationError` when there is none yet."""
    with engine.connect() as conn:
        row = conn.execute(
            select(s.server_settings.c.value).where(s.server_settings.c.key == key)
        ).first()
    if row is None and not create:
        raise ConfigurationError(f"this application database has no {key} secret yet")
    if row is None:
        try:
            with engine.begin() as conn:
                conn.execute(insert(s.server_settings).values(key=key, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process made it first
        with engine.connect() as conn:
            row = conn.execute(
                select(s.server_settings.c.value).where(s.server_settings.c.key == key)
            ).first()
    assert row is not None
    return bytes.fromhex(row.value)
