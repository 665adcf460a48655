"""Opening warehouses through Ibis, read-only where the engine allows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import ibis
from ibis.backends import BaseBackend

from sextant.errors import ConfigurationError, WarehouseError
from sextant.model.validate import engine_of
from sextant.warehouse.spark import connect_spark

__all__ = ["connect", "duckdb_path", "redact_url"]


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


def duckdb_path(url: str, base_dir: Path | None) -> Path | None:
    """The file of a DuckDB URL: ``duckdb:///abs/file`` or ``duckdb://relative/file``
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


def _duckdb(url: str, base_dir: Path | None) -> BaseBackend:
    path = duckdb_path(url, base_dir)
    if path is None:
        return ibis.duckdb.connect()
    if not path.exists():
        raise FileNotFoundError(f"no DuckDB file at {path}")
    return ibis.duckdb.connect(database=str(path), read_only=True)


def _generic(url: str, _base_dir: Path | None) -> BaseBackend:
    return ibis.connect(url)


_OPENERS: dict[str, Callable[[str, Path | None], BaseBackend]] = {
    "duckdb": _duckdb,
    "spark": connect_spark,
}


def connect(url: str, base_dir: Path | None = None) -> BaseBackend:
    """An Ibis backend for ``url``; the error never shows the password."""
    engine = engine_of(url)
    if engine is None:
        raise ConfigurationError(f"unsupported warehouse URL {redact_url(url)!r}")
    opener = _OPENERS.get(engine, _generic)
    try:
        return opener(url, base_dir)
    except Exception as exc:  # driver errors vary by engine
        message = str(exc).replace(url, redact_url(url))
        raise WarehouseError(f"cannot connect to {redact_url(url)}: {message}") from exc
