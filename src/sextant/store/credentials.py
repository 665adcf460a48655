"""Sessions and API keys: random secrets handed out once, stored only as SHA-256 hashes."""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine, insert, select, update

from sextant.errors import InvalidRequestError, NotFoundError
from sextant.store import schema as s
from sextant.store.users import provision_user

__all__ = [
    "ApiKeyInfo",
    "SessionGrant",
    "create_api_key",
    "create_session",
    "hash_secret",
    "list_api_keys",
    "resolve_api_key",
    "resolve_session",
    "revoke_api_key",
    "revoke_sessions",
]

_KEY_PREFIX = "sxt"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _aware(value: _dt.datetime) -> _dt.datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=_dt.UTC)


@dataclass(frozen=True)
class SessionGrant:
    token: str
    expires_at: _dt.datetime
    issued_at: _dt.datetime


def create_session(
    engine: Engine, user_id: int, scopes: frozenset[str] | None, ttl: _dt.timedelta
) -> SessionGrant:
    token = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        conn.execute(
            insert(s.sessions).values(
                token_hash=hash_secret(token),
                user_id=user_id,
                scopes=" ".join(sorted(scopes)) if scopes is not None else None,
                created_at=now,
                expires_at=now + ttl,
            )
        )
    return SessionGrant(token, now + ttl, now)


def resolve_session(engine: Engine, token: str) -> tuple[int, frozenset[str] | None] | None:
    """(user id, scopes) of a live session, or None when unknown, expired or revoked."""
    with engine.connect() as conn:
        row = conn.execute(
            select(s.sessions).where(s.sessions.c.token_hash == hash_secret(token))
        ).first()
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= _now():
        return None
    scopes = frozenset(row.scopes.split()) if row.scopes is not None else None
    return int(row.user_id), scopes


def revoke_sessions(engine: Engine, email: str) -> int:
    """Revoke every live session of a user; the number revoked."""
    with engine.begin() as conn:
        user = conn.execute(
            select(s.users.c.id).where(s.users.c.email_key == email.strip().lower())
        ).first()
        if user is None:
            raise NotFoundError(f"No user with email {email}.")
        result = conn.execute(
            update(s.sessions)
            .where(s.sessions.c.user_id == user.id, s.sessions.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        return int(result.rowcount)


@dataclass(frozen=True)
class ApiKeyInfo:
    name: str
    prefix: str
    group: str
    created_at: _dt.datetime
    revoked: bool
    attributes: Mapping[str, str] = field(default_factory=dict)


def create_api_key(
    engine: Engine, group: str, name: str, attributes: Mapping[str, str] | None = None
) -> str:
    """A new key for a service user of ``group``; only its hash is kept. ``attributes`` are
    the service user's attributes, which sandboxes read (``state=CA``) like a person's."""
    with engine.connect() as conn:
        group_row = conn.execute(
            select(s.groups.c.id).where(s.groups.c.name == group, s.groups.c.active)
        ).first()
        taken = conn.execute(select(s.api_keys.c.id).where(s.api_keys.c.name == name)).first()
    if group_row is None:
        raise NotFoundError(f"No group named {group!r}.")
    if taken is not None:
        raise InvalidRequestError(f"An API key named {name!r} already exists.")
    prefix = secrets.token_hex(4)
    key = f"{_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    user_id = provision_user(
        engine, f"api-key-{prefix}@api-keys.sextant.invalid", name, None, [group], "api_key"
    )
    with engine.begin() as conn:
        if attributes:
            conn.execute(
                insert(s.user_attributes),
                [{"user_id": user_id, "key": k, "value": v} for k, v in attributes.items()],
            )
        conn.execute(
            insert(s.api_keys).values(
                name=name,
                prefix=prefix,
                key_hash=hash_secret(key),
                group_id=group_row.id,
                user_id=user_id,
                created_at=_now(),
            )
        )
    return key


def resolve_api_key(engine: Engine, key: str) -> int | None:
    """The service user of a live key, or None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _KEY_PREFIX:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(s.api_keys).where(s.api_keys.c.prefix == parts[1])).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, hash_secret(key)):
        return None
    return int(row.user_id)


def revoke_api_key(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        row = conn.execute(select(s.api_keys).where(s.api_keys.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"No API key named {name!r}.")
        conn.execute(update(s.api_keys).where(s.api_keys.c.id == row.id).values(revoked_at=_now()))
        conn.execute(update(s.users).where(s.users.c.id == row.user_id).values(active=False))


def list_api_keys(engine: Engine) -> list[ApiKeyInfo]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.api_keys, s.groups.c.name.label("group"))
            .join(s.groups, s.groups.c.id == s.api_keys.c.group_id)
            .order_by(s.api_keys.c.name)
        ).all()
        attributes: dict[int, dict[str, str]] = {}
        for a in conn.execute(
            select(s.user_attributes).where(
                s.user_attributes.c.user_id.in_([r.user_id for r in rows])
            )
        ):
            attributes.setdefault(a.user_id, {})[a.key] = a.value
    return [
        ApiKeyInfo(
            r.name,
            r.prefix,
            r.group,
            _aware(r.created_at),
            r.revoked_at is not None,
            dict(sorted(attributes.get(r.user_id, {}).items())),
        )
        for r in rows
    ]
