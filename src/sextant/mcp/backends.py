"""Where the MCP tools get their answers: this server's operations acting as the caller of
the HTTP request (``InProcess``), or a Sextant server through the client (``Remote``, for
``sextant mcp`` over stdio)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from sextant.auth.principal import Principal
from sextant.client import ApiError, AsyncAgentClient
from sextant.errors import UserError
from sextant.mcp.tools import ToolFailure
from sextant.operations.api import AgentAPI
from sextant.operations.arguments import (
    CardRunArguments,
    FieldValuesArguments,
    MetricArguments,
    SearchArguments,
    TableArguments,
)
from sextant.operations.cut import Rows
from sextant.operations.shapes import QueryResult as WireResult
from sextant.query.executor import Prepared
from sextant.query.results import QueryFailure, column_objects
from sextant.query.spec import QueryRequest

__all__ = ["InProcess", "Remote"]

T = TypeVar("T")

_COLUMN_KEYS = ("name", "display_name", "base_type")


def _columns(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: c.get(k) for k in _COLUMN_KEYS} for c in objects]


class InProcess:
    """This server's operations, as one caller."""

    def __init__(self, api: AgentAPI, principal: Principal) -> None:
        self.api = api
        self.principal = principal

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await anyio.to_thread.run_sync(fn, self.principal, *args)
        except UserError as exc:
            raise ToolFailure(exc.message) from exc

    async def _rows(self, prepare: Callable[..., Prepared], args: Any) -> Rows:
        prepared = await self._call(prepare, args)
        try:
            outcome = await self.api.run(prepared)
        finally:
            prepared.abandon()  # only if it never started
        if isinstance(outcome, QueryFailure):
            raise ToolFailure(outcome.message)
        columns = _columns(column_objects(outcome.columns))
        return Rows(columns, outcome.rows, outcome.truncated, prepared.warnings)

    async def search(self, args: SearchArguments) -> dict[str, Any]:
        return await self._call(self.api.search, args)

    async def table(self, args: TableArguments) -> dict[str, Any]:
        return await self._call(self.api.table_detail, args)

    async def metric(self, args: MetricArguments) -> dict[str, Any]:
        return await self._call(self.api.metric_detail, args)

    async def field_values(self, args: FieldValuesArguments) -> dict[str, Any]:
        return await self._call(self.api.field_values, args)

    async def query(self, request: QueryRequest) -> Rows:
        return await self._rows(self.api.prepare_query, request)

    async def curated_cards(self) -> list[dict[str, Any]]:
        return await self._call(self.api.curated_cards)

    async def curated_card(self, card_id: int) -> dict[str, Any] | None:
        return await self._call(self.api.curated_card, card_id)

    async def run_card(self, args: CardRunArguments) -> Rows:
        return await self._rows(self.api.prepare_card, args)

    def limits(self) -> tuple[int, int]:
        return self.api.core.agent_limits()


class Remote:
    """A Sextant server through the client, with the client's credentials."""

    def __init__(
        self, client: AsyncAgentClient, max_rows: int = 200, max_bytes: int = 30_000
    ) -> None:
        self.client = client
        self.max_rows = max_rows
        self.max_bytes = max_bytes

    async def _call(self, call: Any) -> Any:
        try:
            return await call
        except ApiError as exc:
            raise ToolFailure(exc.message) from exc

    @staticmethod
    def _rows(result: WireResult) -> Rows:
        columns = _columns([c.model_dump() for c in result.cols])
        return Rows(columns, result.rows, result.truncated)

    async def search(self, args: SearchArguments) -> dict[str, Any]:
        found = await self._call(
            self.client.search(args.term_queries, args.semantic_queries, args.limit)
        )
        return dict(found.model_dump(exclude_unset=True))

    async def table(self, args: TableArguments) -> dict[str, Any]:
        flags = args.model_dump(exclude={"table_id"})
        found = await self._call(self.client.table(args.table_id, **flags))
        return dict(found.model_dump(exclude_unset=True))

    async def metric(self, args: MetricArguments) -> dict[str, Any]:
        flags = args.model_dump(exclude={"metric_id"})
        found = await self._call(self.client.metric(args.metric_id, **flags))
        return dict(found.model_dump(exclude_unset=True))

    async def field_values(self, args: FieldValuesArguments) -> dict[str, Any]:
        found = await self._call(
            self.client.field_values(args.entity_type, args.entity_id, args.field_id, args.limit)
        )
        return dict(found.model_dump(exclude_unset=True))

    async def query(self, request: QueryRequest) -> Rows:
        return self._rows(await self._call(self.client.query(request)))

    async def curated_cards(self) -> list[dict[str, Any]]:
        cards = await self._call(self.client.curated_cards())
        return [card.model_dump(exclude_unset=True) for card in cards]

    async def curated_card(self, card_id: int) -> dict[str, Any] | None:
        return next((c for c in await self.curated_cards() if c["id"] == card_id), None)

    async def run_card(self, args: CardRunArguments) -> Rows:
        parameters = [p.model_dump(exclude_unset=True) for p in args.parameters]
        return self._rows(await self._call(self.client.run_card(args.card_id, parameters)))

    def limits(self) -> tuple[int, int]:
        return self.max_rows, self.max_bytes
