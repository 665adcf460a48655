"""A Python client of a Sextant server: the Agent API and the classic API, sync and async.

    from sextant.client import AgentClient

    client = AgentClient("http://127.0.0.1:8000", api_key="sxt_…")
    cards = client.curated_cards()
    result = client.run_card(cards[0].id, {"state": ["CA"]})
    print(result.records())

Credentials: an API key, a session token, or a JWT secret and an email — a JWT is then
minted for every request (never reused past its 180 s). A 4xx raises :class:`ApiError` with
the server's ``error`` and ``message``; a 202 whose body says ``"status": "failed"`` raises
:class:`QueryFailed`; a 429 is retried after ``Retry-After`` a bounded number of times.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import httpx
from pydantic import BaseModel

from sextant.client.calls import Call, Calls
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

__all__ = ["AgentClient", "ApiError", "AsyncAgentClient", "QueryFailed"]

T = TypeVar("T")
_MAX_WAIT = 30.0


class ApiError(Exception):
    """The server refused a request (4xx, or 5xx with a request id)."""

    def __init__(self, status: int, error: str, message: str, body: Any = None) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.body = body


class QueryFailed(ApiError):
    """A query was accepted (202) but did not complete: ``message`` says why."""

    def __init__(self, message: str, body: Any = None) -> None:
        super().__init__(202, "query_failed", message, body)


class _Credentials:
    def __init__(
        self,
        api_key: str | None,
        session: str | None,
        jwt_secret: str | None,
        email: str | None,
    ) -> None:
        given = sum(x is not None for x in (api_key, session, jwt_secret))
        if given != 1:
            raise ValueError("give exactly one of api_key, session or jwt_secret (with email)")
        if jwt_secret is not None and not email:
            raise ValueError("a JWT secret needs the email of the user to act as")
        self.api_key, self.session = api_key, session
        self.jwt_secret, self.email = jwt_secret, email

    def headers(self) -> dict[str, str]:
        if self.api_key is not None:
            return {"X-API-Key": self.api_key}
        if self.session is not None:
            return {"X-Metabase-Session": self.session}
        from sextant.auth.tokens import make_jwt

        assert self.jwt_secret is not None and self.email is not None
        return {"Authorization": f"Bearer {make_jwt(self.jwt_secret, self.email)}"}


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("retry-after", "1")
    try:
        return min(_MAX_WAIT, max(0.0, float(raw)))
    except ValueError:
        return 1.0


def _read(call: Call[T], response: httpx.Response) -> T:
    try:
        body = response.json()
    except ValueError as exc:
        raise ApiError(response.status_code, "invalid_response", response.text[:300]) from exc
    if response.status_code >= 400:
        error = body.get("error", "error") if isinstance(body, dict) else "error"
        message = body.get("message", response.text) if isinstance(body, dict) else response.text
        raise ApiError(response.status_code, str(error), str(message), body)
    if call.executes and isinstance(body, dict) and body.get("status") != "completed":
        raise QueryFailed(str(body.get("error", "the query did not complete")), body)
    return call.read(body)


def _flags(flags: Mapping[str, bool]) -> dict[str, bool]:
    return {k: bool(v) for k, v in flags.items()}


class _Common:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        session: str | None,
        jwt_secret: str | None,
        email: str | None,
        retries: int,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = _Credentials(api_key, session, jwt_secret, email)
        self.retries = max(0, retries)
        self.calls = Calls()


class AsyncAgentClient(_Common):
    """The client for asyncio/anyio programs; use as ``async with``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        session: str | None = None,
        jwt_secret: str | None = None,
        email: str | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, session, jwt_secret, email, retries)
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> AsyncAgentClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send(self, call: Call[T]) -> T:
        for attempt in range(self.retries + 1):
            response = await self.http.request(
                call.method,
                call.path,
                params=list(call.params),
                json=call.json,
                headers=self.credentials.headers(),
            )
            if response.status_code == 429 and attempt < self.retries:
                await anyio.sleep(_retry_after(response))
                continue
            return _read(call, response)
        raise AssertionError("unreachable")

    async def ping(self) -> dict[str, Any]:
        return await self.send(self.calls.ping())

    async def search(
        self,
        term_queries: Sequence[str] = (),
        semantic_queries: Sequence[str] = (),
        limit: int | None = None,
    ) -> SearchResult:
        return await self.send(self.calls.search(term_queries, semantic_queries, limit))

    async def table(self, table_id: int, **flags: bool) -> TableDetail:
        return await self.send(self.calls.table(table_id, _flags(flags)))

    async def metric(self, metric_id: int, **flags: bool) -> MetricDetail:
        return await self.send(self.calls.metric(metric_id, _flags(flags)))

    async def field_values(
        self, entity_type: str, entity_id: int, field_id: str, limit: int | None = None
    ) -> FieldValues:
        return await self.send(self.calls.field_values(entity_type, entity_id, field_id, limit))

    async def construct_query(self, body: BaseModel | Mapping[str, Any]) -> str:
        return await self.send(self.calls.construct_query(body))

    async def execute(self, token: str) -> QueryResult:
        return await self.send(self.calls.execute(token))

    async def query(self, body: BaseModel | Mapping[str, Any]) -> QueryResult:
        """Construct and execute."""
        return await self.execute(await self.construct_query(body))

    async def query_page(
        self,
        body: BaseModel | Mapping[str, Any] | None = None,
        *,
        page_size: int | None = None,
        continuation_token: str | None = None,
    ) -> QueryResult:
        """One page of ``POST /v1/query``: the first of ``body``, or the one a continuation
        token names."""
        return await self.send(self.calls.query_page(body, page_size, continuation_token))

    async def pages(
        self, body: BaseModel | Mapping[str, Any], *, page_size: int | None = None
    ) -> AsyncIterator[QueryResult]:
        """Every page of a query, in order (each fetched when the previous one is used)."""
        page = await self.query_page(body, page_size=page_size)
        yield page
        while page.continuation_token is not None:
            page = await self.query_page(continuation_token=page.continuation_token)
            yield page

    async def tables(self, *, limit: int | None = None, offset: int | None = None) -> SearchResult:
        """The tables the caller may use, by name (as search items)."""
        return await self.send(self.calls.tables(limit, offset))

    async def metrics(self, *, limit: int | None = None, offset: int | None = None) -> SearchResult:
        """The metrics the caller may use, by name (as search items)."""
        return await self.send(self.calls.metrics(limit, offset))

    async def curated_cards(self) -> list[CuratedCard]:
        return await self.send(self.calls.curated_cards())

    async def current_user(self) -> User:
        return await self.send(self.calls.current_user())

    async def databases(self) -> Databases:
        return await self.send(self.calls.databases())

    async def database(self, database_id: int, *, tables: bool = False) -> Database:
        return await self.send(self.calls.database(database_id, tables))

    async def collections(self) -> list[Collection]:
        return await self.send(self.calls.collections())

    async def collection_items(
        self,
        collection_id: int | str,
        models: Sequence[str] = (),
        limit: int | None = None,
        offset: int | None = None,
    ) -> CollectionItems:
        call = self.calls.collection_items(collection_id, models, limit, offset)
        return await self.send(call)

    async def cards(self) -> list[Card]:
        return await self.send(self.calls.cards())

    async def card(self, card_id: int) -> Card:
        return await self.send(self.calls.card(card_id))

    async def run_card(
        self,
        card_id: int,
        parameters: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """Run a card; ``parameters`` by slug (``{"state": ["CA"]}``) or as Metabase sends."""
        return await self.send(self.calls.run_card(card_id, parameters))


class AgentClient(_Common):
    """The blocking client; use as ``with`` (or call ``close()``)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        session: str | None = None,
        jwt_secret: str | None = None,
        email: str | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, session, jwt_secret, email, retries)
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> AgentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def send(self, call: Call[T]) -> T:
        for attempt in range(self.retries + 1):
            response = self.http.request(
                call.method,
                call.path,
                params=list(call.params),
                json=call.json,
                headers=self.credentials.headers(),
            )
            if response.status_code == 429 and attempt < self.retries:
                time.sleep(_retry_after(response))
                continue
            return _read(call, response)
        raise AssertionError("unreachable")

    def ping(self) -> dict[str, Any]:
        return self.send(self.calls.ping())

    def search(
        self,
        term_queries: Sequence[str] = (),
        semantic_queries: Sequence[str] = (),
        limit: int | None = None,
    ) -> SearchResult:
        return self.send(self.calls.search(term_queries, semantic_queries, limit))

    def table(self, table_id: int, **flags: bool) -> TableDetail:
        return self.send(self.calls.table(table_id, _flags(flags)))

    def metric(self, metric_id: int, **flags: bool) -> MetricDetail:
        return self.send(self.calls.metric(metric_id, _flags(flags)))

    def field_values(
        self, entity_type: str, entity_id: int, field_id: str, limit: int | None = None
    ) -> FieldValues:
        return self.send(self.calls.field_values(entity_type, entity_id, field_id, limit))

    def construct_query(self, body: BaseModel | Mapping[str, Any]) -> str:
        return self.send(self.calls.construct_query(body))

    def execute(self, token: str) -> QueryResult:
        return self.send(self.calls.execute(token))

    def query(self, body: BaseModel | Mapping[str, Any]) -> QueryResult:
        """Construct and execute."""
        return self.execute(self.construct_query(body))

    def query_page(
        self,
        body: BaseModel | Mapping[str, Any] | None = None,
        *,
        page_size: int | None = None,
        continuation_token: str | None = None,
    ) -> QueryResult:
        """One page of ``POST /v1/query``: the first of ``body``, or the one a continuation
        token names."""
        return self.send(self.calls.query_page(body, page_size, continuation_token))

    def pages(
        self, body: BaseModel | Mapping[str, Any], *, page_size: int | None = None
    ) -> Iterator[QueryResult]:
        """Every page of a query, in order (each fetched when the previous one is used)."""
        page = self.query_page(body, page_size=page_size)
        yield page
        while page.continuation_token is not None:
            page = self.query_page(continuation_token=page.continuation_token)
            yield page

    def tables(self, *, limit: int | None = None, offset: int | None = None) -> SearchResult:
        """The tables the caller may use, by name (as search items)."""
        return self.send(self.calls.tables(limit, offset))

    def metrics(self, *, limit: int | None = None, offset: int | None = None) -> SearchResult:
        """The metrics the caller may use, by name (as search items)."""
        return self.send(self.calls.metrics(limit, offset))

    def curated_cards(self) -> list[CuratedCard]:
        return self.send(self.calls.curated_cards())

    def current_user(self) -> User:
        return self.send(self.calls.current_user())

    def databases(self) -> Databases:
        return self.send(self.calls.databases())

    def database(self, database_id: int, *, tables: bool = False) -> Database:
        return self.send(self.calls.database(database_id, tables))

    def collections(self) -> list[Collection]:
        return self.send(self.calls.collections())

    def collection_items(
        self,
        collection_id: int | str,
        models: Sequence[str] = (),
        limit: int | None = None,
        offset: int | None = None,
    ) -> CollectionItems:
        return self.send(self.calls.collection_items(collection_id, models, limit, offset))

    def cards(self) -> list[Card]:
        return self.send(self.calls.cards())

    def card(self, card_id: int) -> Card:
        return self.send(self.calls.card(card_id))

    def run_card(
        self,
        card_id: int,
        parameters: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """Run a card; ``parameters`` by slug (``{"state": ["CA"]}``) or as Metabase sends."""
        return self.send(self.calls.run_card(card_id, parameters))
