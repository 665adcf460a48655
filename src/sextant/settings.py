"""Settings: built once at the edge (CLI or app factory) and passed down.

Nothing below this module reads the environment.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sextant.errors import ConfigurationError

__all__ = ["ENV_PREFIX", "Settings"]

ENV_PREFIX = "SEXTANT_"


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything the server, the CLI and the library need to know about their environment."""

    data_dir: Path = Path("sextant-data")
    config: Path | None = None
    app_db_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str | None = field(default=None, repr=False)
    value_list_threshold: int = 1000
    # beyond this many rows, an embedded engine's table statistics are estimated in bounded
    # memory (sextant.warehouse.fingerprint); 0 = always exact
    exact_statistics_rows: int = 100_000
    # DuckDB's memory while sync fingerprints (working memory and cached blocks, e.g. 1GB);
    # None (SEXTANT_SYNC_MEMORY_LIMIT=off): DuckDB's own default, 80% of the machine
    sync_memory_limit: str | None = "128MB"
    log_level: str = "info"
    progress: bool | None = None
    auth_max_failures: int = 20
    auth_failure_window_seconds: int = 60
    # how long a resolved credential is remembered per process (sextant.auth.memo); revocation
    # and group changes take effect everywhere within it; 0 = look it up on every request
    auth_cache_seconds: float = 1.0
    query_timeout_seconds: float = 60.0
    raw_row_limit: int = 2000
    aggregated_row_limit: int = 10000
    continuation_token_seconds: float = 600.0  # POST /v1/query: how long a next page waits
    max_concurrent_queries: int = 8
    max_queries_per_user: int = 2
    max_queued_queries: int = 32
    max_request_bytes: int = 1_000_000
    # DuckDB files are served from private snapshots so writers are never locked out
    # (sextant.warehouse.snapshots); off: the file itself, held open read-only
    duckdb_snapshots: bool = True
    duckdb_refresh_seconds: float = 1.0
    # per-user token buckets (0 = off), shared through Redis when redis_url is set
    user_requests_per_minute: int = 1200
    user_queries_per_minute: int = 300
    # slow or oversized requests (sextant.http.protocol); pair with the reverse proxy's own
    head_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    max_header_bytes: int = 65_536
    keep_alive_seconds: int = 5
    redis_url: str | None = field(default=None, repr=False)
    result_cache_seconds: float = 0.0
    workers: int = 1
    # addresses (or networks) whose X-Forwarded-For names the client: the reverse proxy
    # unset: 127.0.0.1 when listening on loopback (a proxy on the same machine), no proxy
    # otherwise (X-Forwarded-For from anywhere else is ignored)
    trusted_proxies: str | None = None
    embedding_url: str | None = None
    embedding_model: str | None = None
    embedding_api_key: str | None = field(default=None, repr=False)
    # the guarded agent (`sextant ask`)
    llm_provider: str = "openai"  # openai (any compatible endpoint) | anthropic
    llm_url: str | None = None  # e.g. http://host:port/v1; /chat/completions is appended
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    agent_log: Path | None = None  # one JSON line per tool call
    agent_cache_seconds: float = 60.0
    agent_max_calls: int = 8
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.proxy_networks()  # refuse a malformed list at configuration time
        for name in (
            "value_list_threshold",
            "exact_statistics_rows",
            "user_requests_per_minute",
            "user_queries_per_minute",
        ):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"{name} must be >= 0")
        if self.sync_memory_limit is not None and not _MEMORY.match(self.sync_memory_limit):
            raise ConfigurationError(
                f"sync_memory_limit must look like 128MB or 2GB, got {self.sync_memory_limit!r}"
            )
        if not 0 < self.port < 65536:
            raise ConfigurationError(f"port must be between 1 and 65535, got {self.port}")
        positive = (
            "workers",
            "query_timeout_seconds",
            "raw_row_limit",
            "aggregated_row_limit",
            "continuation_token_seconds",
            "max_concurrent_queries",
            "max_queries_per_user",
            "max_request_bytes",
            "agent_max_calls",
            "head_timeout_seconds",
            "body_timeout_seconds",
            "max_header_bytes",
            "keep_alive_seconds",
        )
        if self.llm_provider not in ("openai", "anthropic"):
            raise ConfigurationError(
                f"llm_provider must be openai or anthropic, got {self.llm_provider!r}"
            )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be positive")

    @property
    def resolved_app_db_url(self) -> str:
        """The application database URL: explicit, or SQLite in the data directory."""
        if self.app_db_url:
            return self.app_db_url
        return f"sqlite:///{(self.data_dir / 'app.db').resolve()}"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given (non-None) values replaced, e.g. from CLI flags."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def proxy_networks(self) -> list[str]:
        """``trusted_proxies`` as uvicorn's forwarded_allow_ips: IPs and networks, or ``*``.
        Unset: the loopback address when the server listens on loopback, else nothing."""
        if self.trusted_proxies is None:
            return ["127.0.0.1"] if _loopback(self.host) else []
        entries = [e.strip() for e in self.trusted_proxies.split(",") if e.strip()]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ConfigurationError(
                    f"trusted_proxies: {entry!r} is not an IP address or network"
                ) from exc
        return entries

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``SEXTANT_*`` variables, then apply explicit overrides (CLI flags win)."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "env":
                continue
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = _convert(f.name, raw)
            except ValueError as exc:
                raise ConfigurationError(f"{ENV_PREFIX}{f.name.upper()}: {exc}") from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(env=env, **values)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_INTEGERS = frozenset(
    {
        "port",
        "value_list_threshold",
        "exact_statistics_rows",
        "auth_max_failures",
        "auth_failure_window_seconds",
        "raw_row_limit",
        "aggregated_row_limit",
        "max_concurrent_queries",
        "max_queries_per_user",
        "max_queued_queries",
        "max_request_bytes",
        "workers",
        "agent_max_calls",
        "max_header_bytes",
        "keep_alive_seconds",
        "user_requests_per_minute",
        "user_queries_per_minute",
    }
)


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def _convert(name: str, raw: str) -> Any:
    if name == "sync_memory_limit" and raw.strip().lower() in {"off", "none"}:
        return None
    if name in {"data_dir", "config", "agent_log"}:
        return Path(raw)
    if name in {
        "query_timeout_seconds",
        "result_cache_seconds",
        "agent_cache_seconds",
        "head_timeout_seconds",
        "body_timeout_seconds",
        "continuation_token_seconds",
        "duckdb_refresh_seconds",
        "auth_cache_seconds",
    }:
        return float(raw)
    if name in _INTEGERS:
        return int(raw)
    if name in {"progress", "duckdb_snapshots"}:
        return _parse_bool(raw)
    return raw
