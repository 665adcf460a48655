"""Opening warehouses through Ibis, read-only where the engine allows it."""

from __future__ import annotations

import contextlib
import re
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import ibis
import sqlglot.expressions as sge
from ibis.backends import BaseBackend

from sextant.errors import ConfigurationError, WarehouseError
from sextant.model.validate import engine_of
from sextant.warehouse.snapshots import Signature, copy_snapshot, discard_snapshot

__all__ = [
    "bounded_memory",
    "cancel_hook",
    "connect",
    "connect_snapshot",
    "file_path",
    "mysql_params",
    "mysql_set",
    "redact_url",
]

# Backends whose running statement can be stopped from another thread, and how. Keyed by the
# object's identity: Ibis backends compare equal by their connect arguments, which backends
# built around an existing connection do not have, so equality would mix connections up.
_CANCEL_HOOKS: dict[int, Callable[[], None]] = {}


def _add_cancel_hook(backend: BaseBackend, hook: Callable[[], None]) -> None:
    key = id(backend)
    _CANCEL_HOOKS[key] = hook
    weakref.finalize(backend, _CANCEL_HOOKS.pop, key, None)


def cancel_hook(backend: BaseBackend) -> Callable[[], None] | None:
    """What stops the statement running on ``backend`` (None: the engine has no such hook)."""
    return _CANCEL_HOOKS.get(id(backend))


_SECRET_KEY = re.compile(r"pass|secret|token|key|credential|auth", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL with its password, and query values whose names look secret (``passwd``,
    ``ssl_key``, ``spark.hadoop.fs.s3a.secret.key``), replaced: safe for logs and messages."""
    parts = urlsplit(url)
    if parts.password is not None:
        netloc = parts.netloc.rsplit("@", 1)
        user = (parts.username or "") + ":***"
        parts = parts._replace(netloc=f"{user}@{netloc[-1]}")
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        shown = [(k, "***" if _SECRET_KEY.search(k) else v) for k, v in pairs]
        parts = parts._replace(query="&".join(f"{k}={v}" for k, v in shown))
    return urlunsplit(parts)


def file_path(url: str, base_dir: Path | None) -> Path | None:
    """The file of a DuckDB or SQLite URL: ``duckdb:///abs/file`` or ``duckdb://relative/file``
    (relative to ``base_dir``, the model file's folder); None for an in-memory database."""
    parts = urlsplit(url)
    if parts.netloc:
        if parts.netloc == ":memory:":
            return None
        return (base_dir or Path.cwd()) / (parts.netloc + parts.path)
    path = parts.path
    if path.startswith("//"):
        path = path[1:]
    if path in {"", "/", "/:memory:", ":memory:"}:
        return None
    if not path.startswith("/"):  # duckdb:file.duckdb
        return (base_dir or Path.cwd()) / path
    return Path(path)


def _missing(kind: str, url: str, path: Path) -> str:
    """Where a file was looked for, in full: a relative URL is relative to the model's
    folder, not to where the command runs."""
    where = f"no {kind} file at {path.resolve()}"
    relative = not urlsplit(url).path.startswith("/") or bool(urlsplit(url).netloc)
    return where + (" (a relative path is relative to the model file's folder)" if relative else "")


def _quiet(backend: BaseBackend) -> BaseBackend:
    """DuckDB draws a progress bar on standard output for queries of more than two seconds
    (sync of a large table, say): never, from a library (a connection setting, not a
    database one)."""
    item = sge.SetItem(this=sge.EQ(this=sge.var("enable_progress_bar"), expression=sge.false()))
    backend.con.execute(sge.Set(expressions=[item]).sql(dialect="duckdb"))
    return backend


def _duckdb(url: str, base_dir: Path | None) -> BaseBackend:
    path = file_path(url, base_dir)
    if path is None:
        return _quiet(ibis.duckdb.connect())
    if not path.exists():
        raise FileNotFoundError(_missing("DuckDB", url, path))
    return _quiet(ibis.duckdb.connect(database=str(path), read_only=True))


def connect_snapshot(source: Path, directory: Path) -> tuple[BaseBackend, Signature]:
    """A read-only connection to a fresh snapshot of the DuckDB file ``source`` (see
    :mod:`sextant.warehouse.snapshots`) and the state of ``source`` it was taken from."""
    try:
        target, taken = copy_snapshot(source, directory)
    except OSError as exc:
        raise WarehouseError(f"cannot read the DuckDB file {source}: {exc}") from exc
    try:
        return _quiet(ibis.duckdb.connect(database=str(target), read_only=True)), taken
    except Exception as exc:  # DuckDB's own error classes
        raise WarehouseError(f"cannot open a snapshot of {source}: {exc}") from exc
    finally:
        discard_snapshot(target)  # the connection keeps reading it; nothing is left behind


def _sqlite(url: str, base_dir: Path | None) -> BaseBackend:
    """Read-only, and usable from the worker threads that run queries (one at a time, under
    the pool's lock)."""
    import sqlite3

    path = file_path(url, base_dir)
    if path is None:
        raise ConfigurationError("a SQLite warehouse needs a file: sqlite:///path/to/file.db")
    if not path.exists():
        raise FileNotFoundError(_missing("SQLite", url, path))
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    # SQLite's own lower() and upper() fold ASCII only: 'Émile' would not contain 'émile', and
    # a negative string filter (a sandbox's, say) would keep rows it should drop
    con.create_function("lower", 1, _lower, deterministic=True)
    con.create_function("upper", 1, _upper, deterministic=True)
    backend = ibis.sqlite.from_connection(con)
    _add_cancel_hook(backend, con.interrupt)  # a no-op when nothing runs
    return backend


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _upper(value: str | None) -> str | None:
    return value.upper() if isinstance(value, str) else value


_MYSQL_INTEGERS = frozenset({"port", "connect_timeout", "read_timeout", "write_timeout"})


def mysql_params(url: str) -> dict[str, Any]:
    """mysqlclient's connection arguments for ``mysql://user:password@host:port/database``
    (``mariadb://`` too); query parameters pass through (``?charset=utf8mb4``)."""
    parts = urlsplit(url)
    params: dict[str, Any] = {
        "host": "127.0.0.1" if parts.hostname in {None, "localhost"} else parts.hostname,
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": unquote(parts.path.lstrip("/")),
        "charset": "utf8mb4",
        "autocommit": True,
        "connect_timeout": 10,  # a host that does not answer fails instead of hanging
    }
    for key, value in parse_qsl(parts.query):
        params[key] = int(value) if key in _MYSQL_INTEGERS and value.isdigit() else value
    return params


@contextlib.contextmanager
def bounded_memory(backend: BaseBackend, engine: str, limit: str | None) -> Iterator[None]:
    """DuckDB's memory (its working memory and the cache of the file's blocks it has read)
    held to ``limit`` (``128MB``) while the block runs, then reset; other engines and
    ``limit=None`` are left as they are. For sync: a scan of a large table would otherwise
    keep hundreds of megabytes of blocks cached."""
    raw: Any = getattr(backend, "con", None)
    if engine != "duckdb" or limit is None or raw is None:
        yield
        return
    item = sge.SetItem(
        this=sge.EQ(this=sge.var("memory_limit"), expression=sge.Literal.string(limit))
    )
    raw.execute(sge.Set(expressions=[item]).sql(dialect="duckdb"))
    try:
        yield
    finally:  # back to DuckDB's default (Sextant sets it nowhere else)
        reset = sge.Command(this="RESET", expression=sge.var("memory_limit"))
        raw.execute(reset.sql(dialect="duckdb"))


def mysql_set(name: str, value: sge.Expr) -> str:
    """``SET name = value`` for a MySQL/MariaDB session."""
    item = sge.SetItem(this=sge.EQ(this=sge.var(name), expression=value))
    return sge.Set(expressions=[item]).sql(dialect="mysql")


def _mysql(url: str, _base_dir: Path | None) -> BaseBackend:
    """Sessions in UTC (numeric offset: MariaDB often has no time zone tables) and read-only."""
    import MySQLdb  # type: ignore[import-untyped]

    params = mysql_params(url)
    con: Any = MySQLdb.connect(**params)
    thread_id = con.thread_id()
    killer = params | {"connect_timeout": 5, "read_timeout": 5, "write_timeout": 5}

    def kill_query() -> None:
        """KILL QUERY from a second connection: the statement stops, the session stays."""
        other = MySQLdb.connect(**killer)
        with contextlib.closing(other), other.cursor() as cursor:
            kill = sge.Kill(this=sge.Literal.number(thread_id), kind=sge.var("QUERY"))
            cursor.execute(kill.sql(dialect="mysql"))

    try:
        with con.cursor() as cursor:
            cursor.execute(mysql_set("time_zone", sge.Literal.string("+00:00")))
            read_only = sge.Command(this="SET", expression=sge.var("SESSION TRANSACTION READ ONLY"))
            cursor.execute(read_only.sql(dialect="mysql"))
    except Exception:
        con.close()
        raise
    # Ibis' from_connection would then ask for the named zone 'UTC', which fails (and warns)
    # without time zone tables; the numeric offset above already holds, so the backend is put
    # together as from_connection does, minus that step (warnings.catch_warnings is not
    # thread-safe, and pooled connections open side by side).
    from ibis.backends.mysql import Backend as MySQLBackend

    backend = MySQLBackend()
    backend._can_reconnect = False
    backend.con = con
    _add_cancel_hook(backend, kill_query)
    return backend


def _spark(url: str, base_dir: Path | None) -> BaseBackend:
    from sextant.warehouse.spark import connect_spark  # pyspark loads only when used

    return connect_spark(url, base_dir)


def _generic(url: str, _base_dir: Path | None) -> BaseBackend:
    return ibis.connect(url)


_OPENERS: dict[str, Callable[[str, Path | None], BaseBackend]] = {
    "duckdb": _duckdb,
    "sqlite": _sqlite,
    "mysql": _mysql,
    "spark": _spark,
}


_EXTRAS = {"postgres": "postgres", "mysql": "mysql", "sqlite": "sqlite", "spark": "spark"}
"""The package extra that brings each engine's Ibis backend and driver (DuckDB is core)."""


def connect(url: str, base_dir: Path | None = None) -> BaseBackend:
    """An Ibis backend for ``url``; the error never shows the password."""
    engine = engine_of(url)
    if engine is None:
        raise ConfigurationError(f"unsupported warehouse URL {redact_url(url)!r}")
    opener = _OPENERS.get(engine, _generic)
    try:
        return opener(url, base_dir)
    except ImportError as exc:  # Ibis' backend or the engine's driver is an extra
        extra = _EXTRAS.get(engine, engine)
        raise WarehouseError(
            f"the {engine} warehouse needs its driver, which is not installed ({exc.name or exc}):"
            f" run `make install EXTRAS={extra}` (or pip install 'sextant[{extra}]')"
        ) from exc
    except Exception as exc:  # driver errors vary by engine
        message = str(exc).replace(url, redact_url(url))
        raise WarehouseError(f"cannot connect to {redact_url(url)}: {message}") from exc
