"""Server-side secrets shared by every worker and instance through the app database."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from sextant.store import schema as s

__all__ = ["server_secret"]


def server_secret(engine: Engine, key: str) -> bytes:
    """The secret stored under ``key``, created (once, race-free) on first use."""
    with engine.connect() as conn:
        row = conn.execute(
            select(s.server_settings.c.value).where(s.server_settings.c.key == key)
        ).first()
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
