"""Checks of saved questions: their source, columns, filters, aggregations, order and
parameters, each problem on its line with a "did you mean".

A column is written ``NAME`` (a column of the source table) or ``TABLE.NAME`` (a column of a
table one foreign key away, joined through that key). Questions may not use hidden or
sensitive columns: a saved question must run for every caller who may read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sextant.model.issues import Path, suggest
from sextant.model.operations import (
    AGGREGATIONS,
    BUCKET_RANGES,
    COMPARISONS,
    GRANULARITIES,
    OPERATIONS,
    TRUNCATION_UNITS,
    kind_of,
)
from sextant.model.parameters import PARAMETER_TYPES, Scalar, allowed, choice_atoms
from sextant.model.types import (
    MetricSpec,
    Model,
    QuestionParameterSpec,
    QuestionQuerySpec,
    QuestionSpec,
)

if TYPE_CHECKING:
    from sextant.model.validate import _Checker

__all__ = ["ColumnRef", "check_questions", "split_column"]

_BUCKETS = (*TRUNCATION_UNITS, *BUCKET_RANGES)


def split_column(text: str) -> tuple[str | None, str]:
    """``PEOPLE.STATE`` -> (``PEOPLE``, ``STATE``); ``TOTAL`` -> (None, ``TOTAL``)."""
    table, dot, column = text.partition(".")
    return (table, column) if dot else (None, text)


@dataclass(frozen=True)
class ColumnRef:
    table: tuple[str, str]  # (database, table) that holds the column
    name: str
    via: str | None  # the source table's foreign key, for a related column
    base_type: str | None  # None when not known (offline)


class _Question:
    def __init__(self, checker: _Checker, path: Path, source: tuple[str, str]) -> None:
        self.checker = checker
        self.path = path
        self.source = source

    def visibility(self, table: tuple[str, str], column: str | None) -> str:
        for db in self.checker.model.databases:
            if db.name != table[0]:
                continue
            for spec in db.tables:
                if spec.name != table[1]:
                    continue
                if column is None:
                    return spec.visibility
                for col in spec.columns:
                    if col.name == column:
                        return col.visibility
        return "normal"

    def column(self, path: Path, text: str) -> ColumnRef | None:
        """The column ``text`` names, or None after reporting why it cannot be used."""
        own = self.checker.tables[self.source[0]][self.source[1]]
        table_name, name = split_column(text)
        if table_name is None or text in own:
            found = self.checker.column(path, self.source, text)
            if found is False:
                return None
            ref = ColumnRef(self.source, text, None, found if isinstance(found, str) else None)
            return ref if self.usable(path, ref) else None
        tables = self.checker.tables[self.source[0]]
        if table_name not in tables:
            self.checker.unknown(path, "table", table_name, tables)
            return None
        keys = self.checker.foreign_keys_to(self.source, table_name)
        if not keys:
            if self.checker.catalog is None:
                return None  # offline, undeclared keys cannot be followed: nothing to check
            self.checker.report(
                path,
                f"{self.source[1]} has no foreign key to {table_name}; write a column of "
                f"{self.source[1]} or of a table one of its foreign keys points to",
            )
            return None
        if len(keys) > 1:
            self.checker.report(
                path,
                f"{table_name} is reached through several foreign keys of {self.source[1]} "
                f"({', '.join(keys)}); a question cannot choose between them",
            )
            return None
        target = (self.source[0], table_name)
        found = self.checker.column(path, target, name)
        if found is False:
            return None
        ref = ColumnRef(target, name, keys[0], found if isinstance(found, str) else None)
        return ref if self.usable(path, ref) else None

    def usable(self, path: Path, ref: ColumnRef) -> bool:
        if ref.via is not None and self.visibility(self.source, ref.via) != "normal":
            self.checker.report(path, f"the foreign key {ref.via} is hidden or sensitive")
            return False
        if self.visibility(ref.table, None) != "normal":
            self.checker.report(path, f"table {ref.table[1]} is hidden")
            return False
        if self.visibility(ref.table, ref.name) != "normal":
            self.checker.report(
                path, f"{ref.table[1]}.{ref.name} is hidden or sensitive; questions cannot use it"
            )
            return False
        return True

    # -- parts ---------------------------------------------------------------------------------
    def named(
        self, path: Path, kind: str, name: str, candidates: Sequence[tuple[str, str, str]]
    ) -> None:
        on_table = [n for db, table, n in candidates if (db, table) == self.source]
        if name not in on_table:
            self.checker.unknown(path, f"{kind} on {self.source[1]}", name, on_table)

    def query(self, query: QuestionQuerySpec, metric: bool) -> None:
        path = (*self.path, "query")
        m = self.checker.model
        segments = [(self._db(s.database, s.table), s.table, s.name) for s in m.segments]
        measures = [(self._db(s.database, s.table), s.table, s.name) for s in m.measures]
        for i, f in enumerate(query.filters):
            fpath: Path = (*path, "filters", i)
            if f.segment is not None:
                self.named((*fpath, "segment"), "segment", f.segment, segments)
                continue
            assert f.column is not None and f.operation is not None
            ref = self.column((*fpath, "column"), f.column)
            self.filter(fpath, ref, f.operation, f.bucket)
        if metric:
            for key in ("fields", "aggregations"):
                if getattr(query, key) is not None:
                    self.checker.report(
                        (*path, key),
                        "a metric question takes only filters, group_by, order_by and limit",
                    )
        for i, name in enumerate(query.fields or ()):
            self.column((*path, "fields", i), name)
        for i, agg in enumerate(query.aggregations or ()):
            apath: Path = (*path, "aggregations", i)
            if agg.measure is not None:
                self.named((*apath, "measure"), "measure", agg.measure, measures)
                continue
            assert agg.function is not None
            if agg.function not in AGGREGATIONS:
                self.checker.unknown(
                    (*apath, "function"), "aggregation", agg.function, AGGREGATIONS
                )
            if agg.column is not None:
                ref = self.column((*apath, "column"), agg.column)
                kind = kind_of(ref.base_type) if ref and ref.base_type else None
                if agg.function in ("sum", "avg") and kind not in (None, "number"):
                    self.checker.report(
                        (*apath, "column"), f"cannot {agg.function} non-numeric {agg.column}"
                    )
        groups: list[str] = []
        for i, group in enumerate(query.group_by or ()):
            gpath: Path = (*path, "group_by", i)
            ref = self.column((*gpath, "column"), group.column)
            groups.append(group.column)
            granularity = group.field_granularity
            if granularity is None or ref is None:
                continue
            if granularity not in GRANULARITIES:
                self.checker.unknown(
                    (*gpath, "field_granularity"), "granularity", granularity, GRANULARITIES
                )
            elif ref.base_type is not None and kind_of(ref.base_type) != "temporal":
                self.checker.report(
                    (*gpath, "field_granularity"), f"{group.column} is not a date or time"
                )
        aggregated = metric or bool(query.aggregations or query.group_by)
        if query.fields and aggregated:
            self.checker.report(
                (*path, "fields"), "fields cannot be combined with aggregations or group_by"
            )
        for i, order in enumerate(query.order_by or ()):
            opath: Path = (*path, "order_by", i)
            if self.column((*opath, "column"), order.column) is None:
                continue
            if aggregated and order.column not in groups:
                self.checker.report(
                    (*opath, "column"),
                    "an aggregated question is ordered by its group_by columns "
                    "(or by an aggregation's sort_order)",
                    suggest(order.column, groups),
                )

    def filter(self, path: Path, ref: ColumnRef | None, operation: str, bucket: str | None) -> None:
        op = OPERATIONS.get(operation)
        if op is None:
            self.checker.unknown((*path, "operation"), "operation", operation, OPERATIONS)
            return
        if ref is None or ref.base_type is None:
            return
        kind = kind_of(ref.base_type)
        self.checker.operation_applies(path, operation, ref.name, ref.base_type)
        if bucket is not None:
            if kind != "temporal":
                self.checker.report((*path, "bucket"), f"{ref.name} is not a date or time")
            elif bucket not in _BUCKETS:
                self.checker.unknown((*path, "bucket"), "bucket", bucket, _BUCKETS)
            elif operation not in COMPARISONS:
                self.checker.report((*path, "bucket"), f"bucket does not apply to {operation}")

    def parameters(self, parameters: Sequence[QuestionParameterSpec]) -> None:
        slugs: set[str] = set()
        for i, parameter in enumerate(parameters):
            path: Path = (*self.path, "parameters", i)
            if parameter.slug in slugs:
                self.checker.report((*path, "slug"), f"duplicate parameter {parameter.slug!r}")
            slugs.add(parameter.slug)
            ref = self.column((*path, "target"), parameter.target)
            kind = PARAMETER_TYPES.get(parameter.type)
            if kind is None:
                self.checker.unknown(
                    (*path, "type"), "parameter type", parameter.type, PARAMETER_TYPES
                )
                continue
            if ref is None or ref.base_type is None:
                continue
            column_kind = kind_of(ref.base_type)
            if column_kind not in kind.kinds:
                self.checker.report(
                    (*path, "type"),
                    f"a {parameter.type} parameter does not fit {parameter.target} "
                    f"({column_kind}); it fits {' or '.join(sorted(kind.kinds))} columns",
                )
                continue
            self.parameter_values(path, parameter, column_kind)

    def parameter_values(self, path: Path, parameter: QuestionParameterSpec, kind: str) -> None:
        choices: list[Scalar] = []
        for j, value in enumerate(parameter.values or ()):
            try:
                choices += choice_atoms(parameter.type, value, kind)
            except ValueError as exc:
                self.checker.report(
                    (*path, "values", j), f"{value!r} does not fit a {parameter.type}: {exc}"
                )
        if parameter.default is None:
            return
        default: object = parameter.default
        if isinstance(default, tuple):
            default = list(default)
        try:
            given = choice_atoms(parameter.type, default, kind)
        except ValueError as exc:
            self.checker.report((*path, "default"), f"the default must be {exc}")
            return
        outside = [v for v in given if not allowed(v, choices)]
        if parameter.values is not None and outside:
            self.checker.report(
                (*path, "default"),
                f"the default {outside[0]!r} is not one of the allowed values "
                f"({', '.join(map(str, parameter.values))})",
            )

    def _db(self, database: str | None, table: str) -> str:
        if database is not None:
            return database
        found = [db for db, tables in self.checker.tables.items() if table in tables]
        return found[0] if len(found) == 1 else ""


def check_questions(checker: _Checker) -> None:
    model: Model = checker.model
    checker.duplicates(("questions",), [q.name for q in model.questions], "question")
    metrics = {m.name: m for m in model.metrics}
    for i, question in enumerate(model.questions):
        path: Path = ("questions", i)
        _check_one(checker, path, question, metrics)


def _check_one(
    checker: _Checker, path: Path, question: QuestionSpec, metrics: dict[str, MetricSpec]
) -> None:
    if question.collection not in checker.collections:
        checker.unknown(
            (*path, "collection"), "collection", question.collection, checker.collections
        )
    query = question.query
    qpath: Path = (*path, "query")
    if query.metric is not None:
        metric = metrics.get(query.metric)
        if metric is None:
            checker.unknown((*qpath, "metric"), "metric", query.metric, metrics)
            return
        source = checker.table(qpath, metric.database, metric.table)
        _along_time(checker, qpath, query, metric)
    else:
        assert query.table is not None
        source = checker.table(qpath, query.database, query.table)
    if source is None:
        return
    one = _Question(checker, path, source)
    one.query(query, metric=query.metric is not None)
    one.parameters(question.parameters)


def _along_time(
    checker: _Checker,
    path: Path,
    query: QuestionQuerySpec,
    metric: MetricSpec,
) -> None:
    """A question over a metric that compares or windows periods groups by its time
    dimension, as the query would demand when the question runs."""
    offsets = metric.type == "derived" and any(e.offset for e in metric.metrics)
    windowed = metric.type == "cumulative" and (metric.window or metric.grain)
    time = metric.default_time_dimension
    if not (offsets or windowed) or time is None:
        return
    if not any(g.column == time for g in query.group_by or ()):
        checker.report(
            (*path, "group_by"),
            f"{metric.name} compares or windows periods: group by {time} "
            "(its time dimension) by day, week, month, quarter or year",
        )
