"""Users as the rest of Sextant sees them: active, with groups and attributes."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, select, update

from sextant.model.types import ALL_USERS
from sextant.store import schema as s

__all__ = [
    "Identity",
    "Profile",
    "load_identity",
    "load_profile",
    "provision_user",
    "sync_provisioned_groups",
    "user_exists",
]


@dataclass(frozen=True)
class Identity:
    user_id: int
    email: str
    groups: frozenset[str]
    attributes: dict[str, str]
    source: str


def load_identity(
    engine: Engine, *, email: str | None = None, user_id: int | None = None
) -> Identity | None:
    """The active user with this email (any case) or id, or None."""
    query = select(s.users).where(s.users.c.active)
    if email is not None:
        query = query.where(s.users.c.email_key == email.strip().lower())
    if user_id is not None:
        query = query.where(s.users.c.id == user_id)
    with engine.connect() as conn:
        user = conn.execute(query).first()
        if user is None:
            return None
        groups = conn.execute(
            select(s.groups.c.name)
            .join(s.memberships, s.memberships.c.group_id == s.groups.c.id)
            .where(s.memberships.c.user_id == user.id, s.groups.c.active)
        ).scalars()
        attributes = conn.execute(
            select(s.user_attributes.c.key, s.user_attributes.c.value).where(
                s.user_attributes.c.user_id == user.id
            )
        )
        return Identity(
            user.id,
            user.email,
            frozenset(groups),
            {a.key: a.value for a in attributes},
            user.source,
        )


def user_exists(engine: Engine, email: str) -> bool:
    """Whether any user, active or not, has this email."""
    with engine.connect() as conn:
        row = conn.execute(
            select(s.users.c.id).where(s.users.c.email_key == email.strip().lower())
        ).first()
    return row is not None


def _group_ids(conn: Connection, names: Iterable[str]) -> list[int]:
    wanted = sorted({ALL_USERS, *names})
    rows = conn.execute(select(s.groups.c.id).where(s.groups.c.name.in_(wanted), s.groups.c.active))
    return [r.id for r in rows]


def _set_groups(conn: Connection, user_id: int, names: Iterable[str]) -> None:
    conn.execute(delete(s.memberships).where(s.memberships.c.user_id == user_id))
    conn.execute(
        insert(s.memberships),
        [{"user_id": user_id, "group_id": g} for g in _group_ids(conn, names)],
    )


def provision_user(
    engine: Engine,
    email: str,
    first_name: str | None,
    last_name: str | None,
    groups: Sequence[str],
    source: str = "provisioned",
) -> int:
    """Create a user (or reactivate one made by provisioning) with these groups."""
    with engine.begin() as conn:
        existing = conn.execute(
            select(s.users.c.id).where(s.users.c.email_key == email.lower())
        ).first()
        if existing is None:
            user_id = int(
                conn.execute(
                    insert(s.users).values(
                        email=email,
                        email_key=email.lower(),
                        first_name=first_name,
                        last_name=last_name,
                        source=source,
                        active=True,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
        else:
            user_id = int(existing.id)
        _set_groups(conn, user_id, groups)
        conn.execute(
            insert(s.audit_log).values(
                at=_dt.datetime.now(_dt.UTC),
                user_id=user_id,
                action="user.provisioned",
                entity_type="user",
                entity_id=user_id,
                status="ok",
                detail={"groups": sorted(groups)},
            )
        )
    return user_id


def sync_provisioned_groups(engine: Engine, user_id: int, groups: Sequence[str]) -> None:
    with engine.begin() as conn:
        _set_groups(conn, user_id, groups)
        conn.execute(update(s.users).where(s.users.c.id == user_id).values(active=True))


@dataclass(frozen=True)
class Profile:
    """What ``GET /api/user/current`` shows of a user."""

    first_name: str | None
    last_name: str | None
    group_ids: tuple[int, ...]
    source: str


def load_profile(engine: Engine, user_id: int) -> Profile | None:
    with engine.connect() as conn:
        user = conn.execute(select(s.users).where(s.users.c.id == user_id)).first()
        if user is None:
            return None
        group_ids = conn.execute(
            select(s.groups.c.id)
            .join(s.memberships, s.memberships.c.group_id == s.groups.c.id)
            .where(s.memberships.c.user_id == user_id, s.groups.c.active)
            .order_by(s.groups.c.id)
        ).scalars()
        return Profile(user.first_name, user.last_name, tuple(group_ids), user.source)
