"""The MCP tools: names, descriptions, input schemas (the API's own argument models) and what
each does, over a backend that is either the server itself or a Sextant server reached
through the client. Every tool is read-only; none writes anything."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from sextant.operations.arguments import (
    CardRunArguments,
    FieldValuesArguments,
    MetricArguments,
    SearchArguments,
    TableArguments,
)
from sextant.operations.cut import Rows, cut
from sextant.query.spec import QueryRequest

__all__ = ["TOOLS", "ToolBackend", "ToolFailure", "ToolSpec", "call_tool"]


class ToolFailure(Exception):
    """A tool call the API refused or could not complete: the message goes to the model."""


class NoArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolBackend(Protocol):
    """What the tools call: the server's own operations, or a server through the client."""

    async def search(self, args: SearchArguments) -> dict[str, Any]: ...

    async def table(self, args: TableArguments) -> dict[str, Any]: ...

    async def metric(self, args: MetricArguments) -> dict[str, Any]: ...

    async def field_values(self, args: FieldValuesArguments) -> dict[str, Any]: ...

    async def query(self, request: QueryRequest) -> Rows: ...

    async def curated_cards(self) -> list[dict[str, Any]]: ...

    async def curated_card(self, card_id: int) -> dict[str, Any] | None: ...

    async def run_card(self, args: CardRunArguments) -> Rows: ...

    def limits(self) -> tuple[int, int]:
        """(rows, bytes) a result carries at most."""
        ...


Handler = Callable[[ToolBackend, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    arguments: type[BaseModel]
    handler: Handler

    def input_schema(self) -> dict[str, Any]:
        return self.arguments.model_json_schema()


async def _search(backend: ToolBackend, args: SearchArguments) -> dict[str, Any]:
    return await backend.search(args)


async def _table(backend: ToolBackend, args: TableArguments) -> dict[str, Any]:
    return await backend.table(args)


async def _metric(backend: ToolBackend, args: MetricArguments) -> dict[str, Any]:
    return await backend.metric(args)


async def _values(backend: ToolBackend, args: FieldValuesArguments) -> dict[str, Any]:
    return await backend.field_values(args)


async def _query(backend: ToolBackend, request: QueryRequest) -> dict[str, Any]:
    rows, size = backend.limits()
    return cut(await backend.query(request), rows, size)


async def _list_cards(backend: ToolBackend, args: NoArguments) -> dict[str, Any]:
    del args
    return {"cards": await backend.curated_cards()}


async def _run_card(backend: ToolBackend, args: CardRunArguments) -> dict[str, Any]:
    card = await backend.curated_card(args.card_id)
    if card is None:
        raise ToolFailure(f"card_id {args.card_id} is not in the allowed card list")
    rows, size = backend.limits()
    result = await backend.run_card(args)
    return cut(result, rows, size, {"card": {"id": card["id"], "name": card["name"]}})


TOOLS: dict[str, ToolSpec] = {
    tool.name: tool
    for tool in (
        ToolSpec(
            "search",
            "Search tables and metrics",
            "Find tables and metrics by keywords (term_queries) and by meaning "
            "(semantic_queries); only what the caller may use.",
            SearchArguments,
            _search,
        ),
        ToolSpec(
            "get_table",
            "Table details",
            "A table's fields (with their field_id for queries), related tables reached "
            "through foreign keys, and its metrics; with_* flags add or drop parts.",
            TableArguments,
            _table,
        ),
        ToolSpec(
            "get_metric",
            "Metric details",
            "A metric's queryable dimensions (field ids for filters and group_by) and its "
            "default time dimension.",
            MetricArguments,
            _metric,
        ),
        ToolSpec(
            "get_field_values",
            "Field statistics and values",
            "Statistics and distinct values of one field of a table or metric, over the rows "
            "the caller may read.",
            FieldValuesArguments,
            _values,
        ),
        ToolSpec(
            "query",
            "Query a table or metric",
            "Construct and run a query: table_id or metric_id, with filters, fields, "
            "aggregations, group_by, order_by and limit as in construct-query; a metric query "
            "takes filters and group_by, and sort_order (asc or desc, by the metric's value) "
            "with limit for a top N. Returns columns and rows, cut to what fits; a note says "
            "when rows were cut.",
            QueryRequest,
            _query,
        ),
        ToolSpec(
            "list_cards",
            "List curated cards",
            "The curated saved questions (cards) you may run: id, name, description, "
            "collection, result columns and parameters. Only these ids exist.",
            NoArguments,
            _list_cards,
        ),
        ToolSpec(
            "run_card",
            "Run a curated card",
            "Run a card from list_cards by card_id, with parameters named by slug "
            '(e.g. [{"slug": "state", "value": ["CA"]}]); returns columns and rows.',
            CardRunArguments,
            _run_card,
        ),
    )
}


def _problems(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "Invalid arguments: " + "; ".join(parts)


async def call_tool(backend: ToolBackend, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Validate the arguments against the tool's model and run it; ToolFailure says why not."""
    spec = TOOLS.get(name)
    if spec is None:
        raise ToolFailure(f"unknown tool {name!r}; the tools are: {', '.join(TOOLS)}")
    try:
        args = spec.arguments.model_validate(arguments)
    except ValidationError as exc:
        raise ToolFailure(_problems(exc)) from exc
    return await spec.handler(backend, args)
