"""The one façade that every adapter (HTTP, CLI, MCP, client) calls."""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from sextant.admin import Credentials
from sextant.auth.authenticator import Authenticator, AuthPolicy
from sextant.auth.bearer import JwtConfig
from sextant.auth.limiter import FailureLimiter, MemoryFailureLimiter, RedisFailureLimiter
from sextant.auth.memo import NeedsLookUp
from sextant.auth.principal import Principal
from sextant.auth.rates import UserRates
from sextant.cards.classic import Classic
from sextant.checking import CheckResult, check_model
from sextant.entities.discovery import Discovery
from sextant.entities.values import FingerprintCache
from sextant.errors import (
    ConfigurationError,
    ModelInvalidError,
    ScopeError,
)
from sextant.model.types import AgentSpec, Model, SettingsSpec
from sextant.operations.api import AgentAPI
from sextant.query.executor import Limits, QueryEngine
from sextant.query.gate import QueryGate
from sextant.query.result_cache import MemoryResultCache, RedisResultCache, ResultCache
from sextant.query.scans import Scans
from sextant.query.sql import to_sql
from sextant.query.token import decode_token
from sextant.search.embedding import Embedder, load_embedder
from sextant.search.index import SearchIndex
from sextant.settings import Settings
from sextant.store.apply import ApplyResult, apply_model
from sextant.store.credentials import (
    SessionGrant,
)
from sextant.store.db import Access, migrate, open_engine, require_current
from sextant.store.fingerprints import save_fingerprints, sync_targets
from sextant.store.secrets import server_secret
from sextant.store.snapshot import Snapshot, current_version, load_snapshot
from sextant.warehouse.connection import bounded_memory
from sextant.warehouse.fingerprint import Fingerprint, ScanCounter, fingerprint_table
from sextant.warehouse.pool import Warehouses

__all__ = ["SNAPSHOT_CHECK_SECONDS", "CheckResult", "Sextant", "SyncReport"]

SNAPSHOT_CHECK_SECONDS = 2.0
_IN_MEMORY_MARGIN = 0.5  # see Sextant.snapshot_in_memory


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


log = logging.getLogger("sextant")

ProgressCallback = Callable[[str, int, int], None]
"""Called with (table label, index, total) before each table is fingerprinted."""


@dataclass
class SyncReport:
    apply: ApplyResult
    tables: int = 0
    columns: int = 0
    scans: int = 0
    seconds: float = 0.0
    fingerprint_seconds: float = 0.0
    by_table: dict[str, int] = field(default_factory=dict)


def _limiter(settings: Settings) -> FailureLimiter:
    """Shared through Redis when configured (several processes), in-process otherwise."""
    window = float(settings.auth_failure_window_seconds)
    if settings.redis_url:
        return RedisFailureLimiter(settings.redis_url, settings.auth_max_failures, window)
    return MemoryFailureLimiter(settings.auth_max_failures, window)


def _result_cache(settings: Settings) -> ResultCache | None:
    if settings.result_cache_seconds <= 0:
        return None
    if settings.redis_url:
        return RedisResultCache(settings.redis_url, settings.result_cache_seconds)
    return MemoryResultCache(settings.result_cache_seconds)


class Sextant:
    """Everything Sextant does, for one settings object and one application database."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        limiter: FailureLimiter | None = None,
        access: Access = "write",
    ) -> None:
        """``access``: ``"write"`` migrates the app database (apply, sync, serve, demo);
        ``"credentials"`` and ``"read"`` need it applied already and never change the model
        (see :mod:`sextant.store.db`)."""
        self.settings = settings
        self.access = access
        self.engine = engine or open_engine(settings.resolved_app_db_url, access)
        try:
            if access == "write":
                migrate(self.engine)
            else:
                require_current(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self.model: Model | None = None
        self.auth = Authenticator(
            self.engine,
            self.auth_policy,
            limiter or _limiter(settings),
            settings.auth_cache_seconds,
        )
        self._jwt_config: JwtConfig | None = None
        self._model_file: Path | None = None
        self._snapshot: Snapshot | None = None
        self._snapshot_lock = threading.Lock()
        self._checked = 0.0
        self._token_secret: bytes | None = None
        self._search: SearchIndex | None = None
        self._embedder: Embedder | None = None
        self.fingerprint_cache = FingerprintCache()
        self.warehouses = Warehouses(
            self._warehouse_urls,
            lambda: self._model_dir(),
            size=settings.max_concurrent_queries,
            wait_seconds=settings.query_timeout_seconds,
            snapshot_dir=settings.data_dir / "snapshots" if settings.duckdb_snapshots else None,
            refresh_seconds=settings.duckdb_refresh_seconds,
        )
        self.request_rates = UserRates.of(
            settings.user_requests_per_minute, "requests", settings.redis_url
        )
        self.query_rates = UserRates.of(
            settings.user_queries_per_minute, "query executions", settings.redis_url
        )
        self.queries = QueryEngine(
            self.snapshot,
            self.warehouses,
            self.engine,
            self.token_secret,
            QueryGate(
                settings.max_concurrent_queries,
                settings.max_queries_per_user,
                settings.max_queued_queries,
            ),
            Limits(
                settings.query_timeout_seconds,
                settings.raw_row_limit,
                settings.aggregated_row_limit,
                settings.continuation_token_seconds,
            ),
            _result_cache(settings),
            self.query_rates,
        )
        self.scans = Scans(
            self.warehouses, self.queries.schemas, self.queries.gate, settings.query_timeout_seconds
        )
        self.classic = Classic(self.snapshot, self.engine, self.discovery, self.queries)
        self.credentials = Credentials(self.engine)
        self.api = AgentAPI(self)

    def token_secret(self) -> bytes:
        """The key of query tokens, shared by every process through the app database."""
        if self._token_secret is None:
            self._token_secret = server_secret(
                self.engine, "query_token", create=self.access == "write"
            )
        return self._token_secret

    def close(self) -> None:
        """Write the queued audit rows, then release the application database's and the
        warehouses' connections."""
        self.queries.close()
        self.warehouses.close()
        if self._embedder is not None:
            self._embedder.close()
        if isinstance(self.auth.limiter, RedisFailureLimiter):
            self.auth.limiter.close()
        if self.queries.results is not None:
            self.queries.results.close()
        self.request_rates.close()
        self.query_rates.close()
        self.engine.dispose()

    def _warehouse_urls(self) -> dict[str, str]:
        if self.model is None:
            raise ConfigurationError("no model has been applied")
        return {db.name: db.url for db in self.model.databases}

    def _model_dir(self) -> Path | None:
        return self._model_file.parent if self._model_file else None

    def snapshot(self) -> Snapshot:
        """What the app database knows, loaded once per apply; another process's apply is
        noticed within ``SNAPSHOT_CHECK_SECONDS`` (one cheap query). Off the event loop the
        check is made as soon as :meth:`snapshot_in_memory` stops saying yes, so that only the
        request that makes it leaves the loop, not every request of the last half second."""
        stale = False
        due = SNAPSHOT_CHECK_SECONDS - (0.0 if _on_event_loop() else _IN_MEMORY_MARGIN)
        if self._snapshot is not None and time.monotonic() - self._checked > due:
            self._checked = time.monotonic()
            stale = current_version(self.engine) != self._snapshot.version
        if stale:
            self._model_changed()
        with self._snapshot_lock:
            if self._snapshot is None:
                self._snapshot = load_snapshot(self.engine)
                self._checked = time.monotonic()
            return self._snapshot

    def snapshot_in_memory(self) -> bool:
        """Whether :meth:`snapshot` answers without I/O now and for the next half second
        (loaded, and its version check not due before then): the HTTP layer then answers from
        it on the event loop, and the check does not come due between this and the answer."""
        return (
            self._snapshot is not None
            and time.monotonic() - self._checked <= SNAPSHOT_CHECK_SECONDS - _IN_MEMORY_MARGIN
        )

    def answers_without_io(self) -> bool:
        """Whether preparing a ready query token needs no I/O now: the snapshot is in memory,
        the token key is known and query rates are counted in this process."""
        return (
            self.snapshot_in_memory()
            and self._token_secret is not None
            and not self.query_rates.remote
        )

    def _model_changed(self) -> None:
        with self._snapshot_lock:
            self._snapshot = None
        self.fingerprint_cache.clear()
        self.auth.memo.clear()  # groups and users may have changed with the model
        self.queries.forget_plans()
        self.api.forget_details()
        with self._snapshot_lock:
            self._search = None
        self._jwt_config = None

    # -- the model -------------------------------------------------------------------------
    def model_path(self, path: Path | None = None) -> Path:
        chosen = path or self.settings.config
        if chosen is None:
            raise ConfigurationError("no model file given (use --config or SEXTANT_CONFIG)")
        return chosen

    def check(self, path: Path | None = None, *, offline: bool = False) -> CheckResult:
        """Load, introspect (unless offline) and validate; every problem is collected."""
        return check_model(self.model_path(path), self.settings.env, offline=offline)

    def load(self, path: Path | None = None, *, offline: bool = False) -> None:
        """Take the model in use without writing it (a worker of a server that applied it,
        a read-only command); ``offline`` skips the warehouses' introspection."""
        checked = self.check(path, offline=offline)
        if checked.issues or checked.model is None:
            raise ModelInvalidError(list(checked.issues), checked.loaded.source)
        self.model = checked.model
        self._model_file = self.model_path(path)
        self._model_changed()

    def apply(self, path: Path | None = None) -> ApplyResult:
        """Validate against the warehouses and write the model; nothing changes on failure."""
        if self.access != "write":
            raise ConfigurationError("this service was opened read-only; apply needs write access")
        checked = self.check(path)
        if checked.issues or checked.model is None:
            raise ModelInvalidError(list(checked.issues), checked.loaded.source)
        result = apply_model(self.engine, checked.model, checked.catalog, checked.loaded.source)
        if self.model is not None and self.model.databases != checked.model.databases:
            self.warehouses.close()
        self.model = checked.model
        self._model_file = self.model_path(path)
        self._model_changed()
        log.debug("applied %s: %s", checked.loaded.source, result.counts)
        return result

    def sync(
        self, path: Path | None = None, *, progress: ProgressCallback | None = None
    ) -> SyncReport:
        """Apply, then fingerprint every visible column of every visible table."""
        started = time.perf_counter()
        model_file = self.model_path(path)
        report = SyncReport(apply=self.apply(model_file))
        targets = sync_targets(self.engine)
        fingerprint_started = time.perf_counter()
        counter = ScanCounter()
        engines = {db.name: db.engine for db in self.snapshot().databases.values()}
        for index, ((db_name, table_name, schema), columns) in enumerate(targets.items()):
            label = f"{db_name}.{table_name}"
            if progress is not None:
                progress(label, index, len(targets))
            engine = engines.get(db_name, "duckdb")
            with (
                self.warehouses.connection(db_name) as con,
                bounded_memory(con, engine, self.settings.sync_memory_limit),
            ):
                prints = fingerprint_table(
                    con.table(table_name, database=schema),
                    [(c.name, c.base_type) for c in columns],
                    threshold=self.settings.value_list_threshold,
                    counter=counter,
                    label=label,
                    engine=engine,
                    exact_rows=self.settings.exact_statistics_rows or None,
                )
            by_id: dict[int, Fingerprint] = {c.field_id: prints[c.name] for c in columns}
            save_fingerprints(self.engine, by_id)
            report.columns += len(columns)
        self._model_changed()
        report.tables = len(targets)
        report.scans = counter.scans
        report.by_table = dict(counter.by_table)
        report.seconds = time.perf_counter() - started
        report.fingerprint_seconds = time.perf_counter() - fingerprint_started
        return report

    # -- authentication --------------------------------------------------------------------
    def auth_policy(self) -> AuthPolicy:
        """JWT, session and provisioning settings: the environment's secret wins."""
        model_settings = self.model.settings if self.model else SettingsSpec()
        if self._jwt_config is None:
            jwt = model_settings.jwt
            self._jwt_config = JwtConfig(
                secret=self.settings.jwt_secret or jwt.secret or None,
                email_claim=jwt.email_claim,
                max_age_seconds=jwt.max_age_seconds,
                max_future_seconds=jwt.max_future_seconds,
            )
        return AuthPolicy(
            jwt=self._jwt_config,
            session_ttl=_dt.timedelta(days=model_settings.session_ttl_days),
            provisioning=model_settings.provisioning,
        )

    def authenticate(
        self, headers: Mapping[str, str], client: str, scope: str | None, *, wait: bool = True
    ) -> Principal:
        """The caller of a request, with ``scope`` checked when the endpoint has one. Without
        ``wait`` (on the event loop), :class:`~sextant.auth.memo.NeedsLookUp` when that would
        mean I/O (see :meth:`Authenticator.authenticate`)."""
        if not wait and self.request_rates.remote:
            raise NeedsLookUp()
        principal = self.auth.authenticate(headers, client, wait=wait)
        self.request_rates.take(principal.user_id)
        if scope is not None and not principal.allows(scope):
            raise ScopeError()
        return principal

    def exchange_jwt(self, token: str, client: str) -> SessionGrant:
        return self.auth.exchange(token, client)

    # -- what requests use ------------------------------------------------------------------
    def discovery(self) -> Discovery:
        return Discovery(
            self.snapshot(),
            self.engine,
            self.scans.session,
            self.fingerprint_cache,
            self.settings.value_list_threshold,
            self.settings.exact_statistics_rows or None,
        )

    def explain(self, principal: Principal, token: object, dialect: str | None = None) -> str:
        """The SQL a token compiles to when ``principal`` runs it (sandboxes included)."""
        norm = decode_token(token, self.token_secret())
        resolved, compiled = self.queries.compile(principal, norm)
        engine = self.snapshot().databases[resolved.table.database_id].engine
        return to_sql(compiled.expr, dialect or engine)

    def embedder(self) -> Embedder:
        """The configured embedder, made once per service."""
        with self._snapshot_lock:
            if self._embedder is None:
                self._embedder = load_embedder(
                    self.settings.embedding_url,
                    self.settings.embedding_model,
                    self.settings.embedding_api_key,
                )
            return self._embedder

    def search_index(self) -> SearchIndex:
        """The index of the current model (rebuilt after apply or sync)."""
        snapshot = self.snapshot()
        with self._snapshot_lock:
            if self._search is None or self._search.snapshot is not snapshot:
                self._search = SearchIndex(snapshot, self.engine, self.embedder)
            return self._search

    def agent_collections(self) -> frozenset[str] | None:
        """The collections agents are offered (``settings.agent.collections``); None: all."""
        names = self.model.settings.agent.collections if self.model is not None else None
        return frozenset(names) if names is not None else None

    def agent_limits(self) -> tuple[int, int]:
        """(rows, JSON bytes) a tool result carries at most."""
        agent = self.model.settings.agent if self.model is not None else AgentSpec()
        return agent.max_rows, agent.max_bytes
