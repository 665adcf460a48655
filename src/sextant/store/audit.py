"""The audit log: who ran what, how long it took, how it ended."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from sqlalchemy import Engine, insert

from sextant.store import schema as s

__all__ = ["record"]


def record(
    engine: Engine,
    *,
    user_id: int | None,
    action: str,
    status: str,
    entity_type: str | None = None,
    entity_id: int | None = None,
    duration_ms: int | None = None,
    row_count: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(s.audit_log).values(
                at=_dt.datetime.now(_dt.UTC),
                user_id=user_id,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                status=status,
                duration_ms=duration_ms,
                row_count=row_count,
                detail=detail,
            )
        )
