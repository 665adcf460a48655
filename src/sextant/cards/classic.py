"""The read-only subset of Metabase's classic API: databases, collections and cards.

Every answer is computed for one caller: a database appears when it holds a table the caller
may query, a card when its collection is readable. Running a card never lends its author's
rights: the caller's data permissions and sandboxes apply, through the same resolution,
compilation and execution as ``/api/agent/v1/execute``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from sqlalchemy import Engine

from sextant.auth.principal import Principal
from sextant.cards.metadata import CardColumns, metadata_objects
from sextant.cards.parameters import CardQueryRequest, bind_parameters, parameter_object
from sextant.entities.discovery import Discovery
from sextant.errors import ForbiddenError, InvalidRequestError, NotFoundError, UserError
from sextant.model.metric_kinds import card_granularity
from sextant.permissions.decide import collection_access, table_access, table_access_for
from sextant.query.executor import AuditTarget, Prepared, QueryEngine
from sextant.query.fields import Column, column_list
from sextant.query.normal import NormGroup, NormQuery, Ref, from_json
from sextant.query.resolve import resolve
from sextant.store.snapshot import CollectionRow, MetricRow, ParameterRow, Snapshot, TableRow
from sextant.store.users import load_profile

__all__ = ["ITEM_MODELS", "Card", "Classic", "ItemModel"]

ItemModel = Literal[
    "card",
    "collection",
    "dashboard",
    "dataset",
    "document",
    "metric",
    "pulse",
    "snippet",
    "table",
    "timeline",
]
"""Metabase's collection item models; Sextant holds cards, metrics and collections."""
ITEM_MODELS: tuple[str, ...] = get_args(ItemModel)

ROOT = "root"
CARD_FILTERS = ("all", "mine", "bookmarked", "database", "table", "archived")


@dataclass(frozen=True)
class Card:
    """A metric or a saved question, as the classic API sees it."""

    id: int
    type: str  # question | metric
    name: str
    description: str | None
    collection_id: int | None
    table_id: int
    query: NormQuery
    parameters: tuple[ParameterRow, ...]
    created_at: _dt.datetime | None
    updated_at: _dt.datetime | None


def _metric_query(metric: MetricRow) -> NormQuery:
    """A metric run as a card: alone, or grouped by its time dimension when it runs along
    time (a growth rate or a running total means little as one number)."""
    try:
        granularity = card_granularity(metric.definition)
    except (KeyError, TypeError, ValueError):  # a definition written by another version
        granularity = None
    if granularity is None or metric.default_time_field_id is None:
        return NormQuery("metric", metric.id)
    group = NormGroup(Ref(metric.default_time_field_id, None), granularity)
    return NormQuery("metric", metric.id, group_by=(group,))


def _cards(snapshot: Snapshot) -> dict[int, Card]:
    out = {
        m.id: Card(
            m.id,
            "metric",
            m.name,
            m.description,
            m.collection_id,
            m.table_id,
            _metric_query(m),
            (),
            m.created_at,
            m.updated_at,
        )
        for m in snapshot.metrics.values()
    }
    for q in snapshot.questions.values():
        out[q.id] = Card(
            q.id,
            "question",
            q.name,
            q.description,
            q.collection_id,
            q.table_id,
            from_json(q.query),
            q.parameters,
            q.created_at,
            q.updated_at,
        )
    return out


def _iso(value: _dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _ordered(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: (str(item["name"]).lower(), str(item["id"])))


class Classic:
    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        app_db: Engine,
        discovery: Callable[[], Discovery],
        queries: QueryEngine,
    ) -> None:
        self.snapshot = snapshot
        self.app_db = app_db
        self.discovery = discovery
        self.queries = queries
        self.columns = CardColumns()
        self._cards: tuple[int, dict[int, Card]] | None = None

    def _all_cards(self, snapshot: Snapshot) -> dict[int, Card]:
        cached = self._cards
        if cached is None or cached[0] != snapshot.version:
            cached = (snapshot.version, _cards(snapshot))
            self._cards = cached
        return cached[1]

    # -- users -----------------------------------------------------------------------------
    def current_user(self, principal: Principal) -> dict[str, Any]:
        profile = load_profile(self.app_db, principal.user_id)
        if profile is None:
            raise NotFoundError()
        names = [n for n in (profile.first_name, profile.last_name) if n]
        return {
            "id": principal.user_id,
            "email": principal.email,
            "first_name": profile.first_name,
            "last_name": profile.last_name,
            "common_name": " ".join(names) or principal.email,
            "is_superuser": principal.is_admin,
            "is_active": True,
            "is_api_key_user": principal.method == "api_key",
            "group_ids": list(profile.group_ids),
            "user_group_memberships": [{"id": g} for g in profile.group_ids],
        }

    # -- databases -------------------------------------------------------------------------
    def _visible_tables(
        self, principal: Principal, snapshot: Snapshot, database_id: int
    ) -> list[TableRow]:
        return [
            t
            for t in snapshot.tables.values()
            if t.database_id == database_id and table_access(principal, snapshot, t.id).allowed
        ]

    def _database_object(self, snapshot: Snapshot, database_id: int) -> dict[str, Any]:
        db = snapshot.databases[database_id]
        return {
            "id": db.id,
            "name": db.name,
            "engine": db.engine,
            "description": db.description,
            "is_sample": False,
        }

    def databases(self, principal: Principal) -> dict[str, Any]:
        snapshot = self.snapshot()
        data = [
            self._database_object(snapshot, db_id)
            for db_id in snapshot.databases
            if self._visible_tables(principal, snapshot, db_id)
        ]
        data = _ordered(data)
        return {"data": data, "total": len(data)}

    def database(
        self, principal: Principal, database_id: int, include: str | None
    ) -> dict[str, Any]:
        snapshot = self.snapshot()
        if database_id not in snapshot.databases:
            raise NotFoundError()
        if include not in (None, "tables"):
            message = f"include: only 'tables' is supported, got {include!r}"
            raise InvalidRequestError(message, errors={"include": "expected tables"})
        tables = self._visible_tables(principal, snapshot, database_id)
        if not tables:
            raise ForbiddenError()
        body = self._database_object(snapshot, database_id)
        if include == "tables":
            body["tables"] = _ordered(
                [
                    {
                        "id": t.id,
                        "db_id": t.database_id,
                        "name": t.name,
                        "display_name": t.display_name,
                        "schema": t.schema,
                        "description": t.description,
                    }
                    for t in tables
                ]
            )
        return body

    # -- collections -----------------------------------------------------------------------
    def _readable(self, principal: Principal, snapshot: Snapshot) -> list[CollectionRow]:
        return [
            c
            for c in snapshot.collections.values()
            if collection_access(principal, snapshot, c.id).allowed
        ]

    @staticmethod
    def _collection_object(collection: CollectionRow) -> dict[str, Any]:
        return {
            "id": collection.id,
            "name": collection.name,
            "description": collection.description,
            "location": "/",
            "archived": False,
            "can_write": False,
        }

    def collections(self, principal: Principal) -> list[dict[str, Any]]:
        snapshot = self.snapshot()
        return _ordered([self._collection_object(c) for c in self._readable(principal, snapshot)])

    def _collection(
        self, principal: Principal, snapshot: Snapshot, collection_id: int
    ) -> CollectionRow:
        collection = snapshot.collections.get(collection_id)
        if collection is None:
            raise NotFoundError()
        if not collection_access(principal, snapshot, collection_id).allowed:
            raise ForbiddenError()
        return collection

    def collection(self, principal: Principal, collection_id: int | str) -> dict[str, Any]:
        if collection_id == ROOT:
            return {
                "id": ROOT,
                "name": "Our analytics",
                "location": None,
                "archived": False,
                "can_write": False,
                "description": None,
            }
        assert isinstance(collection_id, int)
        return self._collection_object(self._collection(principal, self.snapshot(), collection_id))

    def collection_items(
        self,
        principal: Principal,
        collection_id: int | str,
        models: Sequence[str],
        limit: int | None,
        offset: int | None,
    ) -> dict[str, Any]:
        snapshot = self.snapshot()
        unknown = [m for m in models if m not in ITEM_MODELS]
        if unknown:
            message = f"models: unknown model {unknown[0]!r}; use {', '.join(ITEM_MODELS)}"
            raise InvalidRequestError(
                message, errors={"models": "expected " + ", ".join(ITEM_MODELS)}
            )
        if collection_id == ROOT:
            items = [
                {
                    "id": c.id,
                    "name": c.name,
                    "description": c.description,
                    "model": "collection",
                    "collection_id": None,
                    "location": "/",
                }
                for c in self._readable(principal, snapshot)
            ]
        else:
            assert isinstance(collection_id, int)
            self._collection(principal, snapshot, collection_id)
            items = [
                {
                    "id": card.id,
                    "name": card.name,
                    "description": card.description,
                    "model": "metric" if card.type == "metric" else "card",
                    "collection_id": card.collection_id,
                }
                for card in self._all_cards(snapshot).values()
                if card.collection_id == collection_id
            ]
        present = sorted({str(item["model"]) for item in items})
        chosen = _ordered([i for i in items if not models or i["model"] in models])
        start = offset or 0
        page = chosen[start : start + limit] if limit is not None else chosen[start:]
        return {
            "data": page,
            "total": len(chosen),
            "models": present,
            "limit": limit,
            "offset": offset,
        }

    # -- cards -----------------------------------------------------------------------------
    def _visible(self, principal: Principal, snapshot: Snapshot, card: Card) -> bool:
        return collection_access(principal, snapshot, card.collection_id).allowed

    def _card(self, principal: Principal, snapshot: Snapshot, card_id: int) -> Card:
        card = self._all_cards(snapshot).get(card_id)
        if card is None:
            raise NotFoundError()
        if not self._visible(principal, snapshot, card):
            raise ForbiddenError()
        return card

    def _card_object(self, snapshot: Snapshot, card: Card) -> dict[str, Any]:
        table = snapshot.tables[card.table_id]
        collection = snapshot.collections.get(card.collection_id or -1)
        return {
            "id": card.id,
            "name": card.name,
            "description": card.description,
            "type": card.type,
            "collection_id": card.collection_id,
            "collection": (
                {"id": collection.id, "name": collection.name, "location": "/"}
                if collection is not None
                else None
            ),
            "database_id": table.database_id,
            "table_id": table.id,
            "query_type": "query",
            "display": "table",
            "result_metadata": metadata_objects(self.columns.of(snapshot, card.id, card.query)),
            "parameters": [parameter_object(p) for p in card.parameters],
            "archived": False,
            "created_at": _iso(card.created_at),
            "updated_at": _iso(card.updated_at),
        }

    def cards(
        self, principal: Principal, f: str = "all", model_id: int | None = None
    ) -> list[dict[str, Any]]:
        if f not in CARD_FILTERS:
            message = f"f: unknown filter {f!r}; use {', '.join(CARD_FILTERS)}"
            raise InvalidRequestError(message, errors={"f": "expected " + ", ".join(CARD_FILTERS)})
        if f in ("database", "table") and model_id is None:
            raise InvalidRequestError(f"f={f} needs model_id", errors={"model_id": "required"})
        snapshot = self.snapshot()
        chosen = []
        for card in self._all_cards(snapshot).values():
            if f in ("mine", "bookmarked", "archived"):
                continue  # cards come from the model: nobody owns or bookmarks them, none archived
            table = snapshot.tables[card.table_id]
            if f == "database" and table.database_id != model_id:
                continue
            if f == "table" and table.id != model_id:
                continue
            if self._visible(principal, snapshot, card):
                chosen.append(self._card_object(snapshot, card))
        return _ordered(chosen)

    def card(self, principal: Principal, card_id: int) -> dict[str, Any]:
        snapshot = self.snapshot()
        return self._card_object(snapshot, self._card(principal, snapshot, card_id))

    def prepare_card(
        self, principal: Principal, card_id: int, request: CardQueryRequest
    ) -> Prepared:
        """Check the card, the caller and the parameters, and take a place in line (4xx)."""
        snapshot = self.snapshot()
        card = self._card(principal, snapshot, card_id)
        try:  # may the caller run it? (a card never lends its author's rights)
            resolved = resolve(card.query, principal, snapshot)
        except ForbiddenError:
            raise
        except UserError as exc:  # a column the caller may not use, a table they cannot join
            raise ForbiddenError() from exc
        access = table_access_for(principal, snapshot)
        by_ref = {c.ref: c for c in column_list(snapshot, resolved.table, access)}
        discovery = self.discovery()

        def field_values(column: Column) -> list[Any] | None:
            fingerprint = discovery.fingerprints(principal, column.table).get(column.field.name)
            return fingerprint.values if fingerprint is not None else None

        bound = bind_parameters(card.parameters, request.parameters, by_ref, field_values)
        query = replace(card.query, filters=card.query.filters + bound.filters)
        detail = {"parameters": bound.values} if bound.values else None
        audit = AuditTarget("card.query", "card", card.id, detail)
        return self.queries.prepare_query(principal, query, audit=audit)
