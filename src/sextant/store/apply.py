"""Writing a validated model and its introspected catalog to the application database.

Everything happens in one transaction: a failed apply leaves the previous state intact.
Rows are matched by name, so ids survive restarts and re-applies; things that leave the
model are marked inactive rather than deleted, and get their old id back if they return.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update

from sextant.model.catalog import Catalog, TableInfo
from sextant.model.metric_kinds import stored
from sextant.model.types import ADMINISTRATORS, ALL_USERS, DatabaseSpec, Model, TableSpec
from sextant.model.validate import engine_of
from sextant.store import schema as s
from sextant.store.questions import EntityIds, question_definition

__all__ = ["ApplyResult", "apply_model", "display_name", "model_document"]

_ACRONYMS = {"id": "ID", "url": "URL", "ean": "EAN", "zip": "ZIP", "sku": "SKU", "ip": "IP"}


def display_name(name: str) -> str:
    """``CREATED_AT`` -> ``Created At``, ``USER_ID`` -> ``User ID``."""
    words = [w for w in name.replace("-", "_").split("_") if w]
    return " ".join(_ACRONYMS.get(w.lower(), w.capitalize()) for w in words) or name


def model_document(model: Model) -> dict[str, Any]:
    """The model as JSON, without warehouse URLs or secrets."""
    doc = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    for db in doc.get("databases", []):
        db.pop("url", None)
    doc.get("settings", {}).get("jwt", {}).pop("secret", None)
    return doc


@dataclass
class ApplyResult:
    counts: dict[str, int] = field(default_factory=dict)
    digest: str = ""


@dataclass
class _Upserter:
    """Match rows by natural key, update them, insert the missing, deactivate the rest."""

    conn: Connection
    table: Table
    keys: tuple[str, ...]
    scope: Mapping[str, Any] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        query = select(self.table)
        for key, value in self.scope.items():
            query = query.where(self.table.c[key] == value)
        self.rows = {int(r.id): dict(r._mapping) for r in self.conn.execute(query)}
        self.existing = {tuple(r[k] for k in self.keys): i for i, r in self.rows.items()}
        # tables that say when a row was made and last changed
        self.stamped = "updated_at" in self.table.c

    def put(self, values: Mapping[str, Any]) -> int:
        key = tuple(values[k] for k in self.keys)
        row = {**self.scope, **values, "active": True}
        now = _dt.datetime.now(_dt.UTC)
        if key in self.existing:
            row_id = int(self.existing[key])
            old = self.rows[row_id]
            if self.stamped and any(old.get(k) != v for k, v in row.items()):
                row["updated_at"] = now
                if old.get("created_at") is None:
                    row["created_at"] = now
            self.conn.execute(update(self.table).where(self.table.c.id == row_id).values(row))
        else:
            if self.stamped:
                row |= {"created_at": now, "updated_at": now}
            result = self.conn.execute(insert(self.table).values(row))
            row_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            self.existing[key] = row_id
        self.seen.add(row_id)
        return row_id

    def retire_rest(self) -> None:
        stale = [i for i in self.existing.values() if i not in self.seen]
        if stale:
            self.conn.execute(
                update(self.table).where(self.table.c.id.in_(stale)).values(active=False)
            )


def apply_model(engine: Engine, model: Model, catalog: Catalog, source: str) -> ApplyResult:
    """Write ``model`` (already validated against ``catalog``) in one transaction."""
    result = ApplyResult()
    with engine.begin() as conn:
        tables, foreign_keys = _apply_databases(conn, model, catalog, result)
        collections = _apply_named(conn, s.collections, model.collections, result)
        groups = _apply_groups(conn, model, result)
        ids = _apply_entities(conn, model, tables, foreign_keys, collections, result)
        _apply_questions(conn, model, ids, collections, result)
        _apply_users(conn, model, groups, result)
        _apply_permissions(conn, model, tables, groups, collections, result)
        document = model_document(model)
        result.digest = hashlib.sha256(
            json.dumps(document, sort_keys=True).encode("utf-8")
        ).hexdigest()
        conn.execute(
            insert(s.model_state).values(
                applied_at=_dt.datetime.now(_dt.UTC),
                source=source,
                digest=result.digest,
                document=document,
            )
        )
    return result


# -- databases, tables, fields -------------------------------------------------------------

_TableIds = dict[tuple[str, str], tuple[int, dict[str, int]]]
"""(database, table) -> (table id, column name -> field id)."""

_ForeignKeys = dict[tuple[str, str], dict[str, str]]
"""(database, table) -> foreign-key column -> the table it points to."""


def _apply_databases(
    conn: Connection, model: Model, catalog: Catalog, result: ApplyResult
) -> tuple[_TableIds, _ForeignKeys]:
    databases = _Upserter(conn, s.databases, ("name",))
    out: _TableIds = {}
    foreign_keys: _ForeignKeys = {}
    for db in model.databases:
        db_id = databases.put(
            {
                "name": db.name,
                "engine": engine_of(db.url) or "unknown",
                "schema_name": db.schema_,
                "description": db.description,
            }
        )
        out |= _apply_tables(conn, db, db_id, catalog.get(db.name, ()), foreign_keys)
    databases.retire_rest()
    result.counts["databases"] = len(model.databases)
    result.counts["tables"] = len(out)
    result.counts["fields"] = sum(len(f) for _, f in out.values())
    return out, foreign_keys


def _apply_tables(
    conn: Connection,
    db: DatabaseSpec,
    db_id: int,
    infos: tuple[TableInfo, ...],
    foreign_keys: _ForeignKeys,
) -> _TableIds:
    specs = {t.name: t for t in db.tables}
    tables = _Upserter(conn, s.tables, ("name",), {"database_id": db_id})
    out: _TableIds = {}
    for info in infos:
        spec = specs.get(info.name) or TableSpec(name=info.name)
        table_id = tables.put(
            {
                "name": info.name,
                "schema_name": info.schema,
                "display_name": spec.display_name or display_name(info.name),
                "description": spec.description,
                "visibility": spec.visibility,
            }
        )
        out[(db.name, info.name)] = (table_id, _apply_fields(conn, table_id, info, spec))
    tables.retire_rest()
    # foreign keys: declared by the engine, or written in the model
    for info in infos:
        spec = specs.get(info.name) or TableSpec(name=info.name)
        overrides = {c.name: c.foreign_key for c in spec.columns if c.foreign_key}
        _, field_ids = out[(db.name, info.name)]
        for column in info.columns:
            target: tuple[str, str] | None = None
            if column.name in overrides:
                target_table, _, target_column = str(overrides[column.name]).partition(".")
                target = (target_table, target_column)
            elif column.foreign_key is not None:
                target = (column.foreign_key.table, column.foreign_key.column)
            target_id = None
            if target is not None and (db.name, target[0]) in out:
                target_id = out[(db.name, target[0])][1].get(target[1])
            if target is not None and target_id is not None:
                foreign_keys.setdefault((db.name, info.name), {})[column.name] = target[0]
            conn.execute(
                update(s.fields)
                .where(s.fields.c.id == field_ids[column.name])
                .values(
                    fk_target_field_id=target_id,
                    semantic_type=_semantic_type(spec, column.name, column.primary_key, target_id),
                )
            )
    return out


def _semantic_type(spec: TableSpec, column: str, primary_key: bool, fk: int | None) -> str | None:
    for col in spec.columns:
        if col.name == column and col.semantic_type:
            return col.semantic_type
    if primary_key:
        return "type/PK"
    if fk is not None:
        return "type/FK"
    return None


def _apply_fields(
    conn: Connection, table_id: int, info: TableInfo, spec: TableSpec
) -> dict[str, int]:
    columns = {c.name: c for c in spec.columns}
    fields = _Upserter(conn, s.fields, ("name",), {"table_id": table_id})
    out: dict[str, int] = {}
    for column in info.columns:
        col_spec = columns.get(column.name)
        out[column.name] = fields.put(
            {
                "name": column.name,
                "position": column.position,
                "display_name": (col_spec.display_name if col_spec else None)
                or display_name(column.name),
                "description": col_spec.description if col_spec else None,
                "database_type": column.database_type,
                "base_type": column.base_type,
                "visibility": col_spec.visibility if col_spec else "normal",
                "nullable": column.nullable,
            }
        )
    fields.retire_rest()
    return out


# -- collections, metrics, measures, segments ----------------------------------------------


def _apply_named(conn: Connection, table: Table, items: Any, result: ApplyResult) -> dict[str, int]:
    upserter = _Upserter(conn, table, ("name",))
    ids = {
        item.name: upserter.put(
            {"name": item.name, "description": item.description, "official": item.official}
        )
        for item in items
    }
    upserter.retire_rest()
    result.counts[table.name] = len(ids)
    return ids


def _resolve(
    model: Model, tables: _TableIds, database: str | None, table: str
) -> tuple[int, dict[str, int]]:
    for (db, name), ids in tables.items():
        if name == table and (database is None or database == db):
            return ids
    raise KeyError(f"table {table} was not validated")  # validation guarantees it exists


def _apply_entities(
    conn: Connection,
    model: Model,
    tables: _TableIds,
    foreign_keys: _ForeignKeys,
    collections: dict[str, int],
    result: ApplyResult,
) -> EntityIds:
    metrics = _Upserter(conn, s.cards, ("name",), {"card_type": "metric"})
    metric_ids: dict[str, tuple[int, tuple[str, str]]] = {}
    definitions = {m.name: m.model_dump(mode="json", exclude_none=True) for m in model.metrics}
    for metric in model.metrics:
        table_id, field_ids = _resolve(model, tables, metric.database, metric.table)
        source = next(key for key, ids in tables.items() if ids[0] == table_id)
        metric_ids[metric.name] = (
            metrics.put(
                {
                    "name": metric.name,
                    "description": metric.description,
                    "collection_id": collections[metric.collection],
                    "table_id": table_id,
                    "definition": stored(definitions, metric.name),
                    "default_time_field_id": field_ids.get(metric.default_time_dimension or ""),
                    "verified": metric.verified,
                }
            ),
            source,
        )
    metrics.retire_rest()
    result.counts["metrics"] = len(model.metrics)
    named: dict[str, dict[tuple[int, str], int]] = {}
    for table, items, keys in (
        (s.measures, model.measures, ("aggregation",)),
        (s.segments, model.segments, ("filters", "condition")),
    ):
        upserter = _Upserter(conn, table, ("table_id", "name"))
        named[table.name] = {}
        for item in items:
            table_id, _ = _resolve(model, tables, item.database, item.table)
            named[table.name][(table_id, item.name)] = upserter.put(
                {
                    "table_id": table_id,
                    "name": item.name,
                    "display_name": item.display_name,
                    "description": item.description,
                    "definition": item.model_dump(
                        mode="json", include=set(keys), exclude_none=True
                    ),
                }
            )
        upserter.retire_rest()
        result.counts[table.name] = len(items)
    return EntityIds(tables, foreign_keys, metric_ids, named["segments"], named["measures"])


def _apply_questions(
    conn: Connection,
    model: Model,
    ids: EntityIds,
    collections: dict[str, int],
    result: ApplyResult,
) -> None:
    """Saved questions: cards of type question, in the metrics' id space."""
    questions = _Upserter(conn, s.cards, ("name",), {"card_type": "question"})
    for question in model.questions:
        table_id, definition = question_definition(question, ids)
        questions.put(
            {
                "name": question.name,
                "description": question.description,
                "collection_id": collections[question.collection],
                "table_id": table_id,
                "definition": definition,
                "default_time_field_id": None,
                "verified": False,
            }
        )
    questions.retire_rest()
    result.counts["questions"] = len(model.questions)


# -- groups, users, permissions ------------------------------------------------------------


def _apply_groups(conn: Connection, model: Model, result: ApplyResult) -> dict[str, int]:
    groups = _Upserter(conn, s.groups, ("name",))
    descriptions = {g.name: g.description for g in model.groups}
    ids = {
        name: groups.put(
            {
                "name": name,
                "description": descriptions.get(name),
                "builtin": name in (ALL_USERS, ADMINISTRATORS),
            }
        )
        for name in model.group_names()
    }
    groups.retire_rest()
    result.counts["groups"] = len(ids)
    return ids


def _apply_users(
    conn: Connection, model: Model, groups: dict[str, int], result: ApplyResult
) -> None:
    users = _Upserter(conn, s.users, ("email_key",))
    model_user_ids = {
        r.id for r in conn.execute(select(s.users.c.id).where(s.users.c.source == "model"))
    }
    for user in model.users:
        user_id = users.put(
            {
                "email": user.email,
                "email_key": user.email.lower(),
                "first_name": user.first_name,
                "last_name": user.last_name,
                "source": "model",
            }
        )
        conn.execute(update(s.users).where(s.users.c.id == user_id).values(active=user.active))
        conn.execute(delete(s.memberships).where(s.memberships.c.user_id == user_id))
        member_of = {ALL_USERS, *user.groups}
        conn.execute(
            insert(s.memberships),
            [{"user_id": user_id, "group_id": groups[g]} for g in sorted(member_of)],
        )
        conn.execute(delete(s.user_attributes).where(s.user_attributes.c.user_id == user_id))
        if user.attributes:
            conn.execute(
                insert(s.user_attributes),
                [{"user_id": user_id, "key": k, "value": v} for k, v in user.attributes.items()],
            )
    # users who left the model are deactivated; provisioned users are not the model's to manage
    stale = model_user_ids - users.seen
    if stale:
        conn.execute(update(s.users).where(s.users.c.id.in_(stale)).values(active=False))
    result.counts["users"] = len(model.users)


def _apply_permissions(
    conn: Connection,
    model: Model,
    tables: _TableIds,
    groups: dict[str, int],
    collections: dict[str, int],
    result: ApplyResult,
) -> None:
    conn.execute(delete(s.data_permissions))
    conn.execute(delete(s.collection_permissions))
    conn.execute(delete(s.sandboxes))
    grants: dict[tuple[int, int], str] = {}
    rank = {"none": 0, "sandboxed": 1, "query": 2}
    for grant in model.permissions.data:
        targets = [
            ids[0]
            for (db, name), ids in tables.items()
            if (grant.database is None or grant.database == db)
            and (grant.tables == "*" or name in grant.tables)
        ]
        for table_id in targets:
            key = (groups[grant.group], table_id)
            if rank[grant.access] >= rank[grants.get(key, "none")]:
                grants[key] = grant.access
    if grants:
        conn.execute(
            insert(s.data_permissions),
            [{"group_id": g, "table_id": t, "access": a} for (g, t), a in sorted(grants.items())],
        )
    collection_rows = {
        (groups[c.group], collections[c.collection]): c.access
        for c in model.permissions.collections
    }
    if collection_rows:
        conn.execute(
            insert(s.collection_permissions),
            [
                {"group_id": g, "collection_id": c, "access": a}
                for (g, c), a in sorted(collection_rows.items())
            ],
        )
    for sandbox in model.sandboxes:
        table_id, _ = _resolve(model, tables, sandbox.database, sandbox.table)
        conn.execute(
            insert(s.sandboxes).values(
                group_id=groups[sandbox.group],
                table_id=table_id,
                definition=sandbox.model_dump(
                    mode="json", include={"filter", "hidden_columns"}, exclude_none=True
                ),
            )
        )
    result.counts["data_permissions"] = len(grants)
    result.counts["sandboxes"] = len(model.sandboxes)
