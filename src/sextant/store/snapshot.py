"""A read-only, in-memory picture of what the application database knows.

Loaded once per apply (cheap: a handful of queries) so that request paths never query the
app database for metadata. Everything inactive is left out.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from sextant.store import schema as s

__all__ = [
    "CollectionRow",
    "DatabaseRow",
    "FieldRow",
    "MeasureRow",
    "MetricRow",
    "ParameterRow",
    "QuerySettings",
    "QuestionRow",
    "SandboxRow",
    "SegmentRow",
    "Snapshot",
    "TableRow",
    "current_version",
    "load_snapshot",
    "parameter_id",
]


@dataclass(frozen=True)
class DatabaseRow:
    id: int
    name: str
    engine: str
    schema: str | None
    description: str | None = None


@dataclass(frozen=True)
class FieldRow:
    id: int
    table_id: int
    name: str
    position: int
    display_name: str
    description: str | None
    database_type: str
    base_type: str
    semantic_type: str | None
    visibility: str
    fk_target_field_id: int | None

    @property
    def visible(self) -> bool:
        return self.visibility == "normal"


@dataclass(frozen=True)
class TableRow:
    id: int
    database_id: int
    schema: str | None
    name: str
    display_name: str
    description: str | None
    visibility: str
    fields: tuple[FieldRow, ...]
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None

    def field(self, name: str) -> FieldRow | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True)
class CollectionRow:
    id: int
    name: str
    description: str | None
    official: bool = False


@dataclass(frozen=True)
class MetricRow:
    id: int
    name: str
    description: str | None
    collection_id: int | None
    table_id: int
    definition: dict[str, Any]
    default_time_field_id: int | None
    verified: bool
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None


@dataclass(frozen=True)
class ParameterRow:
    """A parameter of a saved question; ``id`` is stable (card id and slug)."""

    id: str
    slug: str
    name: str
    type: str
    target: str  # the column as the model writes it
    field_id: int
    via_id: int | None
    required: bool
    default: Any
    values: tuple[Any, ...] | None
    values_from: str | None


@dataclass(frozen=True)
class QuestionRow:
    """A saved question: a card of type question."""

    id: int
    name: str
    description: str | None
    collection_id: int | None
    table_id: int  # the table the question reads (a metric's table for a metric question)
    query: dict[str, Any]  # the normalized query (sextant.query.normal)
    parameters: tuple[ParameterRow, ...]
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None


@dataclass(frozen=True)
class MeasureRow:
    id: int
    table_id: int
    name: str
    display_name: str | None
    description: str | None
    definition: dict[str, Any]


SegmentRow = MeasureRow


@dataclass(frozen=True)
class SandboxRow:
    id: int
    group: str
    table_id: int
    definition: dict[str, Any]


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class QuerySettings:
    """The model's settings that change what a query means."""

    report_timezone: str = "UTC"  # dates and times are bucketed and shown in this zone
    week_start: int = 0  # the first day of a week: 0 = Monday … 6 = Sunday
    join_depth: int = 2  # related fields up to this many foreign keys away


@dataclass(frozen=True)
class Snapshot:
    version: int
    databases: dict[int, DatabaseRow]
    tables: dict[int, TableRow]
    fields: dict[int, FieldRow]
    collections: dict[int, CollectionRow]
    metrics: dict[int, MetricRow]
    measures: dict[int, MeasureRow]
    segments: dict[int, SegmentRow]
    data_grants: dict[int, dict[str, str]]  # table id -> group -> access
    collection_grants: dict[int, dict[str, str]]  # collection id -> group -> access
    sandboxes: dict[int, tuple[SandboxRow, ...]]  # table id -> sandboxes
    metrics_by_table: dict[int, tuple[MetricRow, ...]] = field(default_factory=dict)
    questions: dict[int, QuestionRow] = field(default_factory=dict)
    query_settings: QuerySettings = field(default_factory=QuerySettings)


def current_version(engine: Engine) -> int:
    """The id of the newest applied model (0 before any apply)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(s.model_state.c.id))).scalar() or 0)


def load_snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as conn:
        version = conn.execute(select(func.max(s.model_state.c.id))).scalar() or 0
        state = conn.execute(
            select(s.model_state.c.document).where(s.model_state.c.id == version)
        ).scalar()
        applied = dict((state or {}).get("settings") or {})
        query_settings = QuerySettings(
            applied.get("report_timezone") or "UTC",
            WEEKDAYS.index(applied.get("start_of_week") or "monday"),
            int(applied.get("join_depth") or 2),
        )
        databases = {
            r.id: DatabaseRow(r.id, r.name, r.engine, r.schema_name, r.description)
            for r in conn.execute(select(s.databases).where(s.databases.c.active))
        }
        fields_by_table: dict[int, list[FieldRow]] = defaultdict(list)
        all_fields: dict[int, FieldRow] = {}
        for r in conn.execute(
            select(s.fields).where(s.fields.c.active).order_by(s.fields.c.position)
        ):
            row = FieldRow(
                r.id,
                r.table_id,
                r.name,
                r.position,
                r.display_name,
                r.description,
                r.database_type,
                r.base_type,
                r.semantic_type,
                r.visibility,
                r.fk_target_field_id,
            )
            fields_by_table[r.table_id].append(row)
            all_fields[r.id] = row
        tables = {
            r.id: TableRow(
                r.id,
                r.database_id,
                r.schema_name,
                r.name,
                r.display_name,
                r.description,
                r.visibility,
                tuple(fields_by_table[r.id]),
                _aware(r.created_at),
                _aware(r.updated_at),
            )
            for r in conn.execute(select(s.tables).where(s.tables.c.active))
            if r.database_id in databases
        }
        collections = {
            r.id: CollectionRow(r.id, r.name, r.description, bool(r.official))
            for r in conn.execute(select(s.collections).where(s.collections.c.active))
        }
        metrics: dict[int, MetricRow] = {}
        questions: dict[int, QuestionRow] = {}
        for r in conn.execute(select(s.cards).where(s.cards.c.active)):
            if r.table_id not in tables:
                continue
            if r.card_type == "question":
                questions[r.id] = _question(r)
                continue
            metrics[r.id] = MetricRow(
                r.id,
                r.name,
                r.description,
                r.collection_id,
                r.table_id,
                dict(r.definition),
                r.default_time_field_id,
                bool(r.verified),
                _aware(r.created_at),
                _aware(r.updated_at),
            )
        measures = {
            r.id: MeasureRow(
                r.id, r.table_id, r.name, r.display_name, r.description, dict(r.definition)
            )
            for r in conn.execute(select(s.measures).where(s.measures.c.active))
            if r.table_id in tables
        }
        segments = {
            r.id: MeasureRow(
                r.id, r.table_id, r.name, r.display_name, r.description, dict(r.definition)
            )
            for r in conn.execute(select(s.segments).where(s.segments.c.active))
            if r.table_id in tables
        }
        data_grants: dict[int, dict[str, str]] = defaultdict(dict)
        for r in conn.execute(
            select(s.groups.c.name, s.data_permissions.c.table_id, s.data_permissions.c.access)
            .join(s.groups, s.groups.c.id == s.data_permissions.c.group_id)
            .where(s.groups.c.active)
        ):
            data_grants[r.table_id][r.name] = r.access
        collection_grants: dict[int, dict[str, str]] = defaultdict(dict)
        for r in conn.execute(
            select(
                s.groups.c.name,
                s.collection_permissions.c.collection_id,
                s.collection_permissions.c.access,
            )
            .join(s.groups, s.groups.c.id == s.collection_permissions.c.group_id)
            .where(s.groups.c.active)
        ):
            collection_grants[r.collection_id][r.name] = r.access
        sandboxes: dict[int, list[SandboxRow]] = defaultdict(list)
        for r in conn.execute(
            select(s.sandboxes, s.groups.c.name.label("group"))
            .join(s.groups, s.groups.c.id == s.sandboxes.c.group_id)
            .where(s.groups.c.active)
            .order_by(s.sandboxes.c.id)
        ):
            sandboxes[r.table_id].append(SandboxRow(r.id, r.group, r.table_id, dict(r.definition)))
    by_table: dict[int, list[MetricRow]] = defaultdict(list)
    for metric in sorted(metrics.values(), key=lambda m: (m.name.lower(), m.id)):
        by_table[metric.table_id].append(metric)
    return Snapshot(
        version=int(version),
        databases=databases,
        tables=tables,
        fields=all_fields,
        collections=collections,
        metrics=metrics,
        measures=measures,
        segments=segments,
        data_grants=dict(data_grants),
        collection_grants=dict(collection_grants),
        sandboxes={k: tuple(v) for k, v in sandboxes.items()},
        metrics_by_table={k: tuple(v) for k, v in by_table.items()},
        questions=questions,
        query_settings=query_settings,
    )


def _aware(value: _dt.datetime | None) -> _dt.datetime | None:
    """SQLite hands back naive datetimes; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=_dt.UTC)


def parameter_id(card_id: int, slug: str) -> str:
    """A parameter's id: stable for as long as the card keeps its id and the slug its name."""
    return hashlib.sha256(f"{card_id}:{slug}".encode()).hexdigest()[:8]


def _question(r: Any) -> QuestionRow:
    definition = dict(r.definition)
    parameters = tuple(
        ParameterRow(
            id=parameter_id(r.id, p["slug"]),
            slug=p["slug"],
            name=p["name"],
            type=p["type"],
            target=p["target"],
            field_id=int(p["ref"]["field"]),
            via_id=None if p["ref"].get("via") is None else int(p["ref"]["via"]),
            required=bool(p.get("required")),
            default=p.get("default"),
            values=tuple(p["values"]) if p.get("values") is not None else None,
            values_from=p.get("values_from"),
        )
        for p in definition.get("parameters", ())
    )
    return QuestionRow(
        r.id,
        r.name,
        r.description,
        r.collection_id,
        r.table_id,
        dict(definition["query"]),
        parameters,
        _aware(r.created_at),
        _aware(r.updated_at),
    )
