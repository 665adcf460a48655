"""Table details, metric details and field values for one caller (spec §1-§4, §7)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from sextant.auth.principal import Principal
from sextant.entities.shapes import compact, field_object, named_object, table_summary
from sextant.entities.values import FingerprintCache, fingerprints_for
from sextant.errors import ForbiddenError, NotFoundError, UserError, WarehouseError, first_line
from sextant.permissions.decide import metric_access, table_access, table_access_for
from sextant.query.fields import Column, column_list, field_id, parse_field_id, visible_columns
from sextant.query.rows import bound_sandboxes, restricted
from sextant.query.scans import Scan
from sextant.store.snapshot import DatabaseRow, FieldRow, MetricRow, Snapshot, TableRow
from sextant.warehouse.fingerprint import Fingerprint, fingerprint_table

__all__ = ["Discovery", "MetricFlags", "TableFlags"]

ScanSession = Callable[[Principal, DatabaseRow, int], AbstractContextManager[Scan]]
"""Opens a caller's scans of a database (``sextant.query.scans.Scans.session``)."""

log = logging.getLogger("sextant.entities")


@dataclass(frozen=True)
class TableFlags:
    fields: bool = True
    field_values: bool = False
    related_tables: bool = True
    metrics: bool = True
    measures: bool = False
    segments: bool = False


@dataclass(frozen=True)
class MetricFlags:
    default_temporal_breakout: bool = True
    field_values: bool = False
    queryable_dimensions: bool = True
    segments: bool = False


IDENTIFIER_TYPES = frozenset(
    {"type/PK", "type/FK", "type/Email", "type/URL", "type/ImageURL", "type/AvatarURL"}
)
"""Semantic types whose values identify rows or people, never categories."""

CATEGORY_RATIO = 0.5
"""Most distinct values per non-null row that a column of no declared category may have and
still count as a category (an EAN or a name has about one per row)."""


def category_like(field: FieldRow, fingerprint: Fingerprint) -> bool:
    """Whether table and metric details list the column's values (``with-field-values``):
    declared categories and booleans always; identifiers never; otherwise columns whose
    values repeat (distinct values at most half the non-null rows). The field values endpoint
    answers for any column."""
    if field.semantic_type in IDENTIFIER_TYPES:
        return False
    if field.semantic_type == "type/Category" or field.base_type == "type/Boolean":
        return True
    distinct = fingerprint.statistics.get("distinct_count")
    null_share = fingerprint.statistics.get("percent_null") or 0.0
    non_null = fingerprint.row_count * (1 - float(null_share))
    if not isinstance(distinct, int) or non_null <= 0:
        return False
    return distinct <= CATEGORY_RATIO * non_null


class Discovery:
    """Everything here is computed for one principal over one snapshot."""

    def __init__(
        self,
        snapshot: Snapshot,
        engine: Engine,
        scans: ScanSession,
        cache: FingerprintCache,
        threshold: int,
        exact_rows: int | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.engine = engine
        self.scans = scans
        self.cache = cache
        self.threshold = threshold
        self.exact_rows = exact_rows  # beyond it, statistics are estimated in bounded memory

    # -- access ----------------------------------------------------------------------------
    def usable_table(self, principal: Principal, table_id: int) -> TableRow:
        table = self.snapshot.tables.get(table_id)
        if table is None:
            raise NotFoundError()
        if not table_access(principal, self.snapshot, table_id).allowed:
            raise ForbiddenError()
        return table

    def usable_metric(self, principal: Principal, metric_id: int) -> MetricRow:
        metric = self.snapshot.metrics.get(metric_id)
        if metric is None:
            raise NotFoundError()
        if not metric_access(principal, self.snapshot, metric).allowed:
            raise ForbiddenError()
        return metric

    def columns(self, principal: Principal, table: TableRow) -> list[Column]:
        return column_list(self.snapshot, table, table_access_for(principal, self.snapshot))

    # -- values ----------------------------------------------------------------------------
    def fingerprints(self, principal: Principal, table: TableRow) -> dict[str, Fingerprint]:
        """Fingerprints of the table's visible columns, over the rows the caller may read.
        Computed on demand when none are stored (or for a sandbox): as a scan in the caller's
        name, under the concurrency gate and the time limit, on its own cursor."""
        access = table_access(principal, self.snapshot, table.id)
        names = [f.name for f in visible_columns(table, access)]
        database = self.snapshot.databases[table.database_id]
        sandbox_key = (
            (bound_sandboxes(access, principal), self.snapshot.version)
            if access.sandboxed
            else None
        )

        def compute(columns: list[tuple[str, str]]) -> dict[str, Fingerprint]:
            try:
                with self.scans(principal, database, self.snapshot.version) as scan:
                    rows = restricted(table, access, principal, self.snapshot, scan.open_table)
                    return fingerprint_table(
                        rows,
                        columns,
                        threshold=self.threshold,
                        engine=database.engine,
                        run=scan.run,
                        exact_rows=self.exact_rows,
                    )
            except (WarehouseError, UserError):
                raise
            except Exception as exc:  # the engine's own error types vary
                message = "The warehouse could not be read; try again later."
                log.warning("statistics of %s failed: %s", table.name, first_line(exc, 2000))
                raise WarehouseError(message) from exc

        return fingerprints_for(
            engine=self.engine,
            cache=self.cache,
            table=table,
            names=names,
            compute=compute,
            sandbox_key=sandbox_key,
        )

    def field_values(
        self, principal: Principal, prefix: str, entity_id: int, raw_field_id: str, limit: int
    ) -> dict[str, Any]:
        table = (
            self.usable_table(principal, entity_id)
            if prefix == "t"
            else self.snapshot.tables[self.usable_metric(principal, entity_id).table_id]
        )
        column = parse_field_id(raw_field_id, prefix, entity_id, self.columns(principal, table))
        fingerprint = self.fingerprints(principal, column.table).get(column.field.name)
        body: dict[str, Any] = {"field_id": raw_field_id, "statistics": {}}
        if fingerprint is not None:
            body["statistics"] = fingerprint.statistics
            if fingerprint.values is not None:
                body["values"] = fingerprint.values[:limit]
                body["has_more_values"] = len(fingerprint.values) > limit
        return body

    def _value_lists(
        self, principal: Principal, columns: list[Column]
    ) -> dict[tuple[int, str], list[Any]]:
        out: dict[tuple[int, str], list[Any]] = {}
        fields = {(c.table.id, c.field.name): c.field for c in columns}
        for table in {c.table.id: c.table for c in columns}.values():
            for name, fp in self.fingerprints(principal, table).items():
                field = fields.get((table.id, name))
                if fp.values is not None and field is not None and category_like(field, fp):
                    out[(table.id, name)] = fp.values
        return out

    def _fields(
        self, principal: Principal, prefix: str, entity_id: int, columns: list[Column], values: bool
    ) -> list[dict[str, Any]]:
        lists = self._value_lists(principal, columns) if values else {}
        return [
            field_object(prefix, entity_id, c, lists.get((c.table.id, c.field.name)))
            for c in columns
        ]

    # -- details ---------------------------------------------------------------------------
    def table_detail(
        self, principal: Principal, table_id: int, flags: TableFlags
    ) -> dict[str, Any]:
        table = self.usable_table(principal, table_id)
        database = self.snapshot.databases[table.database_id]
        columns = self.columns(principal, table)
        own = [c for c in columns if c.via is None]
        detail = table_summary(table, database)
        detail["fields"] = (
            self._fields(principal, "t", table.id, own, flags.field_values) if flags.fields else []
        )
        if flags.related_tables:
            detail["related_tables"] = self._related(principal, table, columns, flags)
        if flags.metrics:
            detail["metrics"] = [
                compact(
                    {
                        "id": m.id,
                        "type": "metric",
                        "name": m.name,
                        "description": m.description,
                        "default_time_dimension_field_id": self._default_time(principal, m),
                    }
                )
                for m in self.snapshot.metrics_by_table.get(table.id, ())
                if metric_access(principal, self.snapshot, m).allowed
            ]
        if flags.measures:
            detail["measures"] = self._named(self.snapshot.measures, table.id)
        if flags.segments:
            detail["segments"] = self._named(self.snapshot.segments, table.id)
        return compact(detail, frozenset({"fields"}))

    def _related(
        self, principal: Principal, table: TableRow, columns: list[Column], flags: TableFlags
    ) -> list[dict[str, Any]]:
        blocks: dict[tuple[int, ...], list[Column]] = {}
        for column in columns:
            if column.path:
                blocks.setdefault(column.key_ids, []).append(column)
        related = []
        for block in blocks.values():
            target = block[0].table
            summary = table_summary(target, self.snapshot.databases[target.database_id])
            if flags.fields:
                summary["fields"] = self._fields(
                    principal, "t", table.id, block, flags.field_values
                )
            # the base table's foreign key; for a chain, the keys followed, dot-separated
            summary["related_by"] = ".".join(k.name for k in block[0].path)
            related.append(compact(summary))
        return related

    def _named(self, rows: dict[int, Any], table_id: int) -> list[dict[str, Any]]:
        chosen = sorted((r for r in rows.values() if r.table_id == table_id), key=lambda r: r.id)
        return [named_object(r) for r in chosen]

    def _default_time(self, principal: Principal, metric: MetricRow) -> str | None:
        if metric.default_time_field_id is None:
            return None
        table = self.snapshot.tables[metric.table_id]
        for column in self.columns(principal, table):
            if column.via is None and column.field.id == metric.default_time_field_id:
                return field_id("c", metric.id, column.index)
        return None

    def metric_detail(
        self, principal: Principal, metric_id: int, flags: MetricFlags
    ) -> dict[str, Any]:
        metric = self.usable_metric(principal, metric_id)
        table = self.snapshot.tables[metric.table_id]
        detail: dict[str, Any] = {
            "type": "metric",
            "id": metric.id,
            "name": metric.name,
            "description": metric.description,
        }
        if flags.default_temporal_breakout:
            detail["default_time_dimension_field_id"] = self._default_time(principal, metric)
        detail["verified"] = metric.verified
        if flags.queryable_dimensions:
            columns = self.columns(principal, table)
            detail["queryable_dimensions"] = self._fields(
                principal, "c", metric.id, columns, flags.field_values
            )
        if flags.segments:
            detail["segments"] = self._named(self.snapshot.segments, table.id)
        keep = frozenset({"verified", "default_time_dimension_field_id", "segments"})
        return compact(detail, keep)
