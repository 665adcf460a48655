"""The per-request API: every operation a caller can ask for, as Python values.

HTTP routes, MCP tools and (through HTTP) the client call these methods and serialize what
they return; none of them checks scopes, parses ids or knows the defaults itself. Executions
are prepared (every 4xx is raised there, and a place in line is taken) and then run by
:meth:`AgentAPI.run`, which owns the time-out, the cancellation when the caller goes away, the
concurrency gate and the audit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import anyio

from sextant.auth.principal import Principal
from sextant.cache import LRU
from sextant.cards.parameters import CardQueryRequest
from sextant.errors import ForbiddenError, NotFoundError
from sextant.operations.arguments import (
    CardArguments,
    CardListArguments,
    CardRunArguments,
    CollectionArguments,
    CollectionItemsArguments,
    DatabaseArguments,
    ExecuteArguments,
    FieldValuesArguments,
    ListArguments,
    MetricArguments,
    SearchArguments,
    TableArguments,
)
from sextant.operations.table import operation
from sextant.permissions.decide import metric_access, table_access_for
from sextant.query.executor import Outcome, Prepared
from sextant.query.results import QueryResult
from sextant.query.spec import QueryPageRequest, QueryRequest
from sextant.search.items import metric_item, search_item, table_item
from sextant.store.snapshot import Snapshot
from sextant.warehouse.runner import Execution

if TYPE_CHECKING:
    from sextant.service import Sextant

__all__ = ["AgentAPI"]

TABLE_READ = "agent:table:read"
METRIC_READ = "agent:metric:read"
SEARCH = "agent:search"
CONSTRUCT = "agent:query:construct"
EXECUTE = "agent:query:execute"


class AgentAPI:
    """Every operation, for one service; each call acts as the given principal."""

    def __init__(self, core: Sextant) -> None:
        self.core = core
        # details without field values depend only on the model and the caller's groups and
        # attributes: built once per permission fingerprint and model version, then shared
        # (callers never change an answer)
        self._details: LRU[dict[str, Any]] = LRU(2048)

    def _detail(
        self,
        principal: Principal,
        what: Hashable,
        field_values: bool,
        build: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        if field_values:  # values come from statistics and sandboxes: never shared
            return build()
        key = (
            what,
            self.core.snapshot().version,
            principal.permission_key,
        )
        found = self._details.get(key)
        if found is None:
            found = build()
            self._details.put(key, found)
        return found

    def forget_details(self) -> None:
        self._details.clear()

    # -- the Agent API ---------------------------------------------------------------------
    @operation("ping")
    def ping(self, principal: Principal) -> dict[str, str]:
        """Check the credentials: pong."""
        del principal
        return {"message": "pong"}

    @operation("table_detail", TABLE_READ, arguments=TableArguments)
    def table_detail(self, principal: Principal, args: TableArguments) -> dict[str, Any]:
        """Table details: fields, related tables, metrics, measures, segments."""
        flags = args.flags()
        return self._detail(
            principal,
            ("table", args.table_id, flags),
            flags.field_values,
            lambda: self.core.discovery().table_detail(principal, args.table_id, flags),
        )

    @operation("metric_detail", METRIC_READ, arguments=MetricArguments)
    def metric_detail(self, principal: Principal, args: MetricArguments) -> dict[str, Any]:
        """Metric details: queryable dimensions, default time dimension, segments."""
        flags = args.flags()
        return self._detail(
            principal,
            ("metric", args.metric_id, flags),
            flags.field_values,
            lambda: self.core.discovery().metric_detail(principal, args.metric_id, flags),
        )

    @operation("table_field_values", TABLE_READ, arguments=FieldValuesArguments)
    def table_field_values(
        self, principal: Principal, args: FieldValuesArguments
    ) -> dict[str, Any]:
        """Statistics and values of a table's field, over the rows the caller may read."""
        return self.core.discovery().field_values(
            principal, "t", args.entity_id, args.field_id, args.limit
        )

    @operation("metric_field_values", METRIC_READ, arguments=FieldValuesArguments)
    def metric_field_values(
        self, principal: Principal, args: FieldValuesArguments
    ) -> dict[str, Any]:
        """Statistics and values of a metric's dimension, over the rows the caller may read."""
        return self.core.discovery().field_values(
            principal, "c", args.entity_id, args.field_id, args.limit
        )

    def field_values(self, principal: Principal, args: FieldValuesArguments) -> dict[str, Any]:
        """Either of the two above, by ``entity_type``."""
        if args.entity_type == "table":
            return self.table_field_values(principal, args)
        return self.metric_field_values(principal, args)

    @operation("search", SEARCH, arguments=SearchArguments)
    def search(self, principal: Principal, args: SearchArguments) -> dict[str, Any]:
        """Tables and metrics for keyword and semantic queries, fused by rank."""
        index = self.core.search_index()
        found = index.search(principal, args.term_queries, args.semantic_queries, args.limit)
        data = [search_item(index.snapshot, doc.kind, doc.id) for doc in found]
        return {"data": data, "total_count": len(data)}

    @operation("tables", TABLE_READ, arguments=ListArguments)
    def tables(self, principal: Principal, args: ListArguments) -> dict[str, Any]:
        """Every table the caller may use, by name then id, paged."""
        snapshot = self.core.snapshot()
        access = table_access_for(principal, snapshot)
        chosen = sorted(
            (t for t in snapshot.tables.values() if access(t.id).allowed),
            key=lambda t: (t.name, t.id),
        )
        page = chosen[args.offset : args.offset + args.limit]
        return {"data": [table_item(t) for t in page], "total_count": len(chosen)}

    @operation("metrics", METRIC_READ, arguments=ListArguments)
    def metrics(self, principal: Principal, args: ListArguments) -> dict[str, Any]:
        """Every metric the caller may use, by name then id, paged."""
        snapshot = self.core.snapshot()
        chosen = sorted(
            (m for m in snapshot.metrics.values() if metric_access(principal, snapshot, m).allowed),
            key=lambda m: (m.name, m.id),
        )
        page = chosen[args.offset : args.offset + args.limit]
        return {"data": [metric_item(snapshot, m) for m in page], "total_count": len(chosen)}

    @operation("table_fields", TABLE_READ, arguments=TableArguments)
    def table_fields(self, principal: Principal, args: TableArguments) -> list[dict[str, Any]]:
        """A table's own fields, as its detail lists them."""
        detail = self.table_detail(principal, args)
        return list(detail["fields"])

    @operation("construct_query", CONSTRUCT, arguments=QueryRequest)
    def construct_query(self, principal: Principal, request: QueryRequest) -> dict[str, Any]:
        """Check a table or metric query for the caller: its token (and what was ignored)."""
        token, warnings = self.core.queries.construct(principal, request)
        return {"query": token, **({"warnings": list(warnings)} if warnings else {})}

    @operation("execute", EXECUTE, arguments=ExecuteArguments)
    def prepare_execute(self, principal: Principal, args: ExecuteArguments) -> Prepared:
        """Run a query token as the caller (prepared here; :meth:`run` runs it)."""
        return self.core.queries.prepare(principal, args.query)

    def details_without_io(self, field_values: bool) -> bool:
        """Whether a table or metric detail would do no I/O now (the model in memory; field
        values read statistics)."""
        return not field_values and self.core.snapshot_in_memory()

    def prepares_without_io(self) -> bool:
        """Whether :meth:`prepare_execute` would do no I/O now (it may then run on the event
        loop; otherwise in a worker thread)."""
        return self.core.answers_without_io()

    @operation("query", CONSTRUCT, EXECUTE, arguments=QueryRequest)
    def prepare_query(self, principal: Principal, request: QueryRequest) -> Prepared:
        """Construct and execute in one call (prepared here; :meth:`run` runs it)."""
        norm, warnings = self.core.queries.normalize(principal, request)
        prepared = self.core.queries.prepare_query(principal, norm)
        prepared.warnings = warnings
        return prepared

    @operation("query_page", CONSTRUCT, EXECUTE, arguments=QueryPageRequest)
    def prepare_page(self, principal: Principal, request: QueryPageRequest) -> Prepared:
        """Construct and execute one page at a time: the first page of a request, or the
        page a continuation token names (prepared here; :meth:`run` runs it)."""
        return self.core.queries.prepare_page(principal, request)

    def page_trailer(self, prepared: Prepared, result: QueryResult) -> dict[str, Any]:
        """What a page's answer adds after its rows: the next page's token, if any."""
        token = self.core.queries.continuation(prepared, result)
        return {} if token is None else {"continuation_token": token}

    async def run(self, prepared: Prepared) -> Outcome:
        """Run a prepared query to its end, off the event loop; if the caller goes away (the
        awaiting task is cancelled) the warehouse's work is stopped too."""
        execution = Execution()
        try:
            return await self.core.queries.run_async(prepared, execution)
        except anyio.get_cancelled_exc_class():
            # stopping can mean opening a connection (MySQL's KILL QUERY): off the loop
            threading.Thread(target=execution.cancel, name="sextant-cancel", daemon=True).start()
            raise

    # -- saved questions: the classic API --------------------------------------------------
    @operation("current_user")
    def current_user(self, principal: Principal) -> dict[str, Any]:
        """Who the credentials speak for."""
        return self.core.classic.current_user(principal)

    @operation("databases", TABLE_READ)
    def databases(self, principal: Principal) -> dict[str, Any]:
        """Databases holding at least one table the caller may query."""
        return self.core.classic.databases(principal)

    @operation("database", TABLE_READ, arguments=DatabaseArguments)
    def database(self, principal: Principal, args: DatabaseArguments) -> dict[str, Any]:
        """One database, with the caller's tables when asked."""
        return self.core.classic.database(principal, args.database_id, args.include)

    @operation("collections", METRIC_READ)
    def collections(self, principal: Principal) -> list[dict[str, Any]]:
        """Collections the caller may read."""
        return self.core.classic.collections(principal)

    @operation("collection", METRIC_READ, arguments=CollectionArguments)
    def collection(self, principal: Principal, args: CollectionArguments) -> dict[str, Any]:
        """One collection (or the root)."""
        return self.core.classic.collection(principal, args.collection_id)

    @operation("collection_items", METRIC_READ, arguments=CollectionItemsArguments)
    def collection_items(
        self, principal: Principal, args: CollectionItemsArguments
    ) -> dict[str, Any]:
        """Cards and metrics of a collection, filtered by model and paged."""
        return self.core.classic.collection_items(
            principal, args.collection_id, args.models, args.limit, args.offset
        )

    @operation("cards", METRIC_READ, arguments=CardListArguments)
    def cards(self, principal: Principal, args: CardListArguments) -> list[dict[str, Any]]:
        """Cards the caller may read."""
        return self.core.classic.cards(principal, args.f, args.model_id)

    @operation("card", METRIC_READ, arguments=CardArguments)
    def card(self, principal: Principal, args: CardArguments) -> dict[str, Any]:
        """A card: result columns and parameters, never SQL."""
        return self.core.classic.card(principal, args.card_id)

    @operation("run_card", EXECUTE, arguments=CardRunArguments)
    def prepare_card(self, principal: Principal, args: CardRunArguments) -> Prepared:
        """Run a card as the caller (prepared here; :meth:`run` runs it)."""
        request = CardQueryRequest(parameters=args.parameters)
        return self.core.classic.prepare_card(principal, args.card_id, request)

    @operation("curated_cards", METRIC_READ)
    def curated_cards(self, principal: Principal) -> list[dict[str, Any]]:
        """The cards agents are offered: those of the model's ``settings.agent.collections``
        (every collection when unset) that the caller may read; no SQL."""
        snapshot = self.core.snapshot()
        return [
            curated
            for card in self.core.classic.cards(principal, "all", None)
            if (curated := self._curated(snapshot, card)) is not None
        ]

    @operation("curated_card", METRIC_READ)
    def curated_card(self, principal: Principal, card_id: int) -> dict[str, Any] | None:
        """One card of the caller's curated list, or None when it is not in the list."""
        try:
            card = self.core.classic.card(principal, card_id)
        except (NotFoundError, ForbiddenError):
            return None
        return self._curated(self.core.snapshot(), card)

    def _curated(self, snapshot: Snapshot, card: dict[str, Any]) -> dict[str, Any] | None:
        allowed = self.core.agent_collections()
        collection = snapshot.collections.get(card["collection_id"] or -1)
        if collection is None or (allowed is not None and collection.name not in allowed):
            return None
        return {
            "id": card["id"],
            "name": card["name"],
            "description": card["description"] or "",
            "type": card["type"],
            "collection": "/" + collection.name,
            "result_columns": [
                {"name": c["name"], "type": c["base_type"]} for c in card["result_metadata"]
            ],
            "parameters": card["parameters"],
        }
