"""Each call of the API as data: method, path, query, body, and how to read the answer.

The synchronous and the asynchronous client send the same calls; only the sending differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from sextant.operations.shapes import (
    Card,
    Collection,
    CollectionItems,
    CuratedCard,
    Database,
    Databases,
    FieldValues,
    MetricDetail,
    QueryResult,
    SearchResult,
    TableDetail,
    User,
)

__all__ = ["Call", "Calls"]

T = TypeVar("T")
V1 = "/api/agent/v1"


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[Any], T]
    params: Sequence[tuple[str, str]] = ()
    json: Any = None
    executes: bool = False  # a 202 answer with "status": "failed" is an error


def _model(cls: type[BaseModel]) -> Callable[[Any], Any]:
    return cls.model_validate


def _models(cls: type[BaseModel]) -> Callable[[Any], Any]:
    return lambda body: [cls.model_validate(item) for item in body]


def _flags(prefix: str, flags: Mapping[str, bool]) -> list[tuple[str, str]]:
    out = []
    for name, value in flags.items():
        key = name if name.startswith("with_") else f"with_{name}"
        out.append((key.replace("_", "-"), "true" if value else "false"))
    return out


def _body(body: BaseModel | Mapping[str, Any]) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_none=True)
    return dict(body)


def _query_result(body: Any) -> QueryResult:
    return QueryResult.model_validate({**body, **body["data"]})


def _paging(limit: int | None, offset: int | None) -> list[tuple[str, str]]:
    given = (("limit", limit), ("offset", offset))
    return [(name, str(value)) for name, value in given if value is not None]


@dataclass(frozen=True)
class Calls:
    """The calls of the Agent API and the classic API."""

    version: str = field(default=V1)

    def ping(self) -> Call[dict[str, Any]]:
        return Call("GET", f"{self.version}/ping", dict)

    def search(
        self, term_queries: Sequence[str], semantic_queries: Sequence[str], limit: int | None
    ) -> Call[SearchResult]:
        params = [("limit", str(limit))] if limit is not None else []
        body = {"term_queries": list(term_queries), "semantic_queries": list(semantic_queries)}
        return Call("POST", f"{self.version}/search", _model(SearchResult), params, body)

    def table(self, table_id: int, flags: Mapping[str, bool]) -> Call[TableDetail]:
        return Call(
            "GET", f"{self.version}/table/{table_id}", _model(TableDetail), _flags("table", flags)
        )

    def metric(self, metric_id: int, flags: Mapping[str, bool]) -> Call[MetricDetail]:
        return Call(
            "GET",
            f"{self.version}/metric/{metric_id}",
            _model(MetricDetail),
            _flags("metric", flags),
        )

    def field_values(
        self, entity_type: str, entity_id: int, field_id: str, limit: int | None
    ) -> Call[FieldValues]:
        params = [("limit", str(limit))] if limit is not None else []
        path = f"{self.version}/{entity_type}/{entity_id}/field/{field_id}/values"
        return Call("GET", path, _model(FieldValues), params)

    def construct_query(self, body: BaseModel | Mapping[str, Any]) -> Call[str]:
        return Call(
            "POST", f"{self.version}/construct-query", lambda b: str(b["query"]), json=_body(body)
        )

    def execute(self, token: str) -> Call[QueryResult]:
        return Call(
            "POST", f"{self.version}/execute", _query_result, json={"query": token}, executes=True
        )

    def query_page(
        self,
        body: BaseModel | Mapping[str, Any] | None,
        page_size: int | None,
        continuation_token: str | None,
    ) -> Call[QueryResult]:
        payload: dict[str, Any] = dict(_body(body)) if body is not None else {}
        if page_size is not None:
            payload["page_size"] = page_size
        if continuation_token is not None:
            payload["continuation_token"] = continuation_token
        return Call("POST", f"{self.version}/query", _query_result, json=payload, executes=True)

    def tables(self, limit: int | None, offset: int | None) -> Call[SearchResult]:
        return Call("GET", f"{self.version}/tables", _model(SearchResult), _paging(limit, offset))

    def metrics(self, limit: int | None, offset: int | None) -> Call[SearchResult]:
        return Call("GET", f"{self.version}/metrics", _model(SearchResult), _paging(limit, offset))

    def curated_cards(self) -> Call[list[CuratedCard]]:
        return Call("GET", f"{self.version}/cards", _models(CuratedCard))

    # -- the classic API -------------------------------------------------------------------
    def current_user(self) -> Call[User]:
        return Call("GET", "/api/user/current", _model(User))

    def databases(self) -> Call[Databases]:
        return Call("GET", "/api/database", _model(Databases))

    def database(self, database_id: int, tables: bool) -> Call[Database]:
        params = [("include", "tables")] if tables else []
        return Call("GET", f"/api/database/{database_id}", _model(Database), params)

    def collections(self) -> Call[list[Collection]]:
        return Call("GET", "/api/collection", _models(Collection))

    def collection_items(
        self,
        collection_id: int | str,
        models: Sequence[str],
        limit: int | None,
        offset: int | None,
    ) -> Call[CollectionItems]:
        params = [("models", m) for m in models]
        params += [(k, str(v)) for k, v in (("limit", limit), ("offset", offset)) if v is not None]
        path = f"/api/collection/{collection_id}/items"
        return Call("GET", path, _model(CollectionItems), params)

    def cards(self) -> Call[list[Card]]:
        return Call("GET", "/api/card", _models(Card))

    def card(self, card_id: int) -> Call[Card]:
        return Call("GET", f"/api/card/{card_id}", _model(Card))

    def run_card(
        self, card_id: int, parameters: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None
    ) -> Call[QueryResult]:
        if isinstance(parameters, Mapping):  # by slug: {"state": ["CA"]}
            given = [{"slug": k, "value": v} for k, v in parameters.items()]
        else:
            given = [dict(p) for p in parameters or ()]
        return Call(
            "POST",
            f"/api/card/{card_id}/query",
            _query_result,
            json={"parameters": given},
            executes=True,
        )
