"""Opening the application database and bringing its schema up to date with Alembic.

Only the commands that change what is served (``apply``, ``sync``, ``serve``, ``demo``) open it
``"write"`` and migrate it. Credential administration opens it ``"credentials"``: the database
must exist at the current schema and only credential rows are written. Every other command
opens it ``"read"``: the database refuses writes (SQLite ``mode=ro``, PostgreSQL
``default_transaction_read_only``), so a diagnostic command cannot change what a running server
serves even by mistake.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine.url import make_url

from sextant.errors import ConfigurationError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS",
    "Access",
    "alembic_config",
    "migrate",
    "open_engine",
    "require_current",
]

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0006"
"""The newest migration's revision (a test holds it to Alembic's own head): a database already
there is opened without importing Alembic, which costs every server process 10 MB resident."""

_VERSIONS = Table("alembic_version", MetaData(), Column("version_num", String(32)))

Access = Literal["write", "credentials", "read"]


def open_engine(url: str, access: Access = "write") -> Engine:
    """An engine for the app database; SQLite gets foreign keys, WAL and a busy timeout.

    With ``access`` other than ``"write"`` the database must already exist (nothing is
    created); with ``"read"`` every write is refused by the database itself.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:":
            if access != "write" and not Path(path).exists():
                raise _not_applied(url)
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if access == "read" and path and path != ":memory:":
            uri = Path(path).resolve().as_uri() + "?mode=ro"  # quoted: ?, # and % in names
            engine = create_engine(
                "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, timeout=30)
            )
        else:
            engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA foreign_keys=ON")
            if access != "read":
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")  # durable across crashes in WAL
            cursor.close()

        return engine
    if access == "read":
        if parsed.get_backend_name() != "postgresql":
            raise ConfigurationError(
                f"cannot open a {parsed.get_backend_name()} application database read-only"
            )
        # read-only from the connection's start (a pooler in transaction mode, such as
        # PgBouncer, may drop startup options: point read-only commands at the server itself)
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"options": "-c default_transaction_read_only=on"},
        )
    return create_engine(url, pool_pre_ping=True)


def _not_applied(url: str) -> ConfigurationError:
    where = make_url(url).render_as_string(hide_password=True)
    return ConfigurationError(
        f"no application database at {where} (or it is from an older Sextant): run "
        "`sextant apply MODEL` (or `sextant sync`, `serve`, `demo`) first; this command "
        "never creates or upgrades it"
    )


def _revisions(connection: Connection) -> set[str] | None:
    """The revisions the database records, or None when it records none."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return set(connection.scalars(select(_VERSIONS.c.version_num)))


def require_current(engine: Engine) -> None:
    """Refuse an app database that is missing or not at the newest schema revision."""
    with engine.connect() as connection:
        current = _revisions(connection)
    if current != {HEAD_REVISION}:
        raise _not_applied(engine.url.render_as_string(hide_password=False))


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (idempotent)."""
    with engine.connect() as connection:
        if _revisions(connection) == {HEAD_REVISION}:
            return
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
