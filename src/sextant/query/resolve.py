"""From a request to a checked query, for one caller, reporting every problem at once.

``normalize`` turns the caller's positional field ids into stable references (what the token
carries). ``resolve`` turns references back into columns of the *calling* user's column list,
checking permissions, operations, value types, granularities, segments and measures; it runs
at construction and again at execution, against the current model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sextant.auth.principal import Principal
from sextant.errors import ForbiddenError, InvalidRequestError, NotFoundError, UserError
from sextant.model.expressions import Col, ExpressionError, Node, columns_of, nearest_chains, parse
from sextant.model.metric_kinds import Period, Term, index_units, parse_expression, parse_period
from sextant.model.operations import (
    AGGREGATIONS,
    BUCKET_RANGES,
    COMPARISONS,
    GRANULARITIES,
    OPERATIONS,
    TRUNCATION_UNITS,
    Arity,
)
from sextant.permissions.decide import metric_access, table_access, table_access_for
from sextant.permissions.sandbox import via_chain
from sextant.query.fields import Column, column_list, key_target, parse_field_id
from sextant.query.filters import coerce_values, kind_of
from sextant.query.normal import NormAggregation, NormFilter, NormGroup, NormOrder, NormQuery, Ref
from sextant.query.problems import Problems
from sextant.query.size import check_size
from sextant.query.spec import QueryRequest
from sextant.store.snapshot import MetricRow, Snapshot, TableRow

__all__ = [
    "RAggregation",
    "RCondition",
    "RExpression",
    "RFilter",
    "RGroup",
    "ROrder",
    "RPart",
    "RPlan",
    "RWhere",
    "Resolved",
    "normalize",
    "resolve",
]

_AGG_NAMES = {
    "count": "count",
    "count-distinct": "count_distinct",
    "sum": "sum",
    "avg": "avg",
    "min": "min",
    "max": "max",
}
_AGG_TITLES = {
    "count": "Count",
    "count-distinct": "Distinct values of",
    "sum": "Sum of",
    "avg": "Average of",
    "min": "Min of",
    "max": "Max of",
}
_BUCKETS = (*TRUNCATION_UNITS, *BUCKET_RANGES)
# the breakouts whose periods nest in each to-date grain of a cumulative metric
_WITHIN = {
    "week": ("minute", "hour", "day", "week"),
    "month": ("minute", "hour", "day", "month"),
    "quarter": ("minute", "hour", "day", "month", "quarter"),
    "year": ("minute", "hour", "day", "month", "quarter", "year"),
}
_ORDERABLE = {"number", "temporal", "string"}


@dataclass(frozen=True)
class RFilter:
    column: Column
    op: str
    values: tuple[Any, ...]
    bucket: str | None = None


@dataclass(frozen=True)
class RExpression:
    """An expression of the model (see :mod:`sextant.model.expressions`) with the column
    each of its names stands for."""

    node: Node
    columns: tuple[tuple[Col, Column], ...]

    def column(self, col: Col) -> Column:
        return next(c for name, c in self.columns if name == col)


@dataclass(frozen=True)
class RCondition:
    """A segment's boolean condition: keeps the rows it is true for."""

    expression: RExpression


RWhere = RFilter | RCondition


def where_columns(where: RWhere) -> list[Column]:
    """The columns a filter or condition reads."""
    if isinstance(where, RFilter):
        return [where.column]
    return [c for _, c in where.expression.columns]


@dataclass(frozen=True)
class RAggregation:
    fn: str
    column: Column | None
    name: str
    display_name: str
    sort: str | None = None
    filters: tuple[RWhere, ...] = ()  # a metric's own filters (conditional aggregation)
    bucket: str | None = None  # the column truncated or extracted before aggregating
    expression: RExpression | None = None  # aggregated instead of ``column``


@dataclass(frozen=True)
class RGroup:
    column: Column
    granularity: str | None
    name: str
    display_name: str


@dataclass(frozen=True)
class ROrder:
    column: Column
    granularity: str | None
    direction: str


@dataclass(frozen=True)
class RPart:
    """One aggregation of a ratio, derived or cumulative metric (see
    :mod:`sextant.model.metric_kinds`): its own filters make it conditional."""

    name: str
    fn: str
    column: Column | None
    filters: tuple[RWhere, ...]
    offset: Period | None = None
    expression: RExpression | None = None


@dataclass(frozen=True)
class RPlan:
    """How a ratio, derived or cumulative metric is computed from its parts. ``time`` is the
    index in ``group_by`` of the breakout on the metric's time dimension (None: no such
    breakout); ``time_field`` is that dimension's field id."""

    kind: str
    parts: tuple[RPart, ...]
    term: Term
    time: int | None
    time_field: int | None
    window: Period | None = None
    grain: str | None = None

    @property
    def along_time(self) -> bool:
        """Whether the values of a period depend on other periods' rows (running totals,
        offsets): filters on the time dimension then choose the periods shown instead of
        the rows used."""
        if self.time is None:
            return False
        return self.kind == "cumulative" or any(p.offset is not None for p in self.parts)


@dataclass(frozen=True)
class Resolved:
    norm: NormQuery
    table: TableRow
    metric: MetricRow | None
    filters: tuple[RWhere, ...]
    fields: tuple[Column, ...]
    aggregations: tuple[RAggregation, ...]
    group_by: tuple[RGroup, ...]
    order_by: tuple[ROrder, ...]
    limit: int | None
    default_fields: tuple[Column, ...] = ()  # the caller's own visible columns
    field_buckets: tuple[str | None, ...] = ()  # per field of ``fields`` (empty: none)
    plan: RPlan | None = None  # a metric beyond one aggregation

    @property
    def aggregated(self) -> bool:
        return bool(self.aggregations or self.group_by)


def _entity(
    kind: str, entity_id: int, principal: Principal, snapshot: Snapshot
) -> tuple[TableRow, MetricRow | None]:
    if kind == "table":
        table = snapshot.tables.get(entity_id)
        if table is None:
            raise NotFoundError(f"No table found with table_id {entity_id}")
        if not table_access(principal, snapshot, entity_id).allowed:
            raise ForbiddenError()
        return table, None
    metric = snapshot.metrics.get(entity_id)
    if metric is None:
        raise NotFoundError(f"No metric found with metric_id {entity_id}")
    if not metric_access(principal, snapshot, metric).allowed:
        raise ForbiddenError()
    return snapshot.tables[metric.table_id], metric


# -- normalize ---------------------------------------------------------------------------------


def normalize(
    request: QueryRequest,
    principal: Principal,
    snapshot: Snapshot,
    problems: Problems,
    warnings: list[str] | None = None,
) -> NormQuery:
    """Positional ids -> stable references; problems are added to ``problems``, not raised;
    parts that were ignored are said in ``warnings``."""
    if warnings is None:
        warnings = []
    if request.table_id is not None and request.metric_id is not None:
        raise InvalidRequestError(
            "Give either table_id or metric_id, not both.",
            errors={"table_id": "not with metric_id", "metric_id": "not with table_id"},
        )
    if request.table_id is not None:
        kind, entity = "table", request.table_id
    elif request.metric_id is not None:
        kind, entity = "metric", request.metric_id
    else:
        raise InvalidRequestError(
            "Give either table_id or metric_id.",
            errors={"table_id": "required (or metric_id)"},
        )
    table, metric = _entity(kind, entity, principal, snapshot)
    prefix = "t" if kind == "table" else "c"
    columns = column_list(snapshot, table, table_access_for(principal, snapshot))

    def ref(path: str, raw: str | None) -> Ref | None:
        if raw is None:
            problems.add(path, "field_id is required")
            return None
        try:
            return parse_field_id(raw, prefix, entity, columns).ref
        except UserError as exc:
            problems.error(path, exc)
            return None

    sort = request.sort_order
    if kind == "metric":  # as Metabase: only filters and group_by apply to a metric query,
        # and, as an extension, sort_order (by the metric's value) with the limit it makes
        # meaningful
        ignored = [
            k
            for k in ("fields", "aggregations", "order_by", "limit")
            if getattr(request, k) is not None and not (k == "limit" and sort is not None)
        ]
        for key in ignored:
            warnings.append(
                f"{key} was ignored: a metric query takes only filters, group_by and "
                "sort_order (with limit)"
            )
        request = request.model_copy(update=dict.fromkeys(ignored))
    elif sort is not None:
        warnings.append(
            "sort_order was ignored: it orders a metric query; a table query's aggregations "
            "take their own sort_order"
        )
        sort = None
    filters = []
    for i, f in enumerate(request.filters):
        path = f"filters[{i}]"
        if f.segment_id is not None:
            if any(v is not None for v in (f.field_id, f.operation, f.value, f.values, f.bucket)):
                problems.add(path, "a segment filter has only segment_id")
            filters.append(NormFilter(segment=f.segment_id))
            continue
        if f.operation is None:
            problems.add(f"{path}.operation", "operation is required (or segment_id)")
        values: tuple[Any, ...] = ()
        if f.value is not None and f.values is not None:
            problems.add(path, "give value or values, not both")
        elif f.values is not None:
            values = tuple(f.values)
        elif f.value is not None:
            values = (f.value,)
        filters.append(
            NormFilter(
                ref=ref(f"{path}.field_id", f.field_id),
                op=f.operation,
                values=values,
                bucket=f.bucket,
            )
        )
    aggregations = []
    for i, a in enumerate(request.aggregations or ()):
        path = f"aggregations[{i}]"
        if a.measure_id is not None:
            if a.field_id is not None or a.function is not None:
                problems.add(path, "a measure aggregation has only measure_id and sort_order")
            aggregations.append(NormAggregation(measure=a.measure_id, sort=a.sort_order))
            continue
        if a.function is None:
            problems.add(f"{path}.function", "function is required (or measure_id)")
        field_ref = ref(f"{path}.field_id", a.field_id) if a.field_id is not None else None
        if a.field_id is None and a.function in AGGREGATIONS and a.function != "count":
            problems.add(f"{path}.field_id", f"{a.function} needs a field_id")
        aggregations.append(
            NormAggregation(fn=a.function, ref=field_ref, sort=a.sort_order, bucket=a.bucket)
        )
    groups = [
        NormGroup(r, g.field_granularity)
        for i, g in enumerate(request.group_by or ())
        if (r := ref(f"group_by[{i}].field_id", g.field_id)) is not None
    ]
    orders = [
        NormOrder(r, o.direction, o.field.bucket)
        for i, o in enumerate(request.order_by or ())
        if (r := ref(f"order_by[{i}].field.field_id", o.field.field_id)) is not None
    ]
    chosen = [
        (r, fr.bucket)
        for i, fr in enumerate(request.fields or ())
        if (r := ref(f"fields[{i}].field_id", fr.field_id)) is not None
    ]
    fields = [r for r, _ in chosen]
    buckets = tuple(b for _, b in chosen) if any(b for _, b in chosen) else ()
    del metric
    return NormQuery(
        kind=kind,
        entity=entity,
        filters=tuple(filters),
        fields=tuple(fields),
        aggregations=tuple(aggregations),
        group_by=tuple(groups),
        order_by=tuple(orders),
        limit=request.limit,
        field_buckets=buckets,
        sort=sort,
    )


# -- resolve -----------------------------------------------------------------------------------


def _unavailable(column: str, related: bool) -> str:
    """Why a definition of the model cannot be used; a related table the caller may not
    read is not named, nor are its columns."""
    if related:
        return "the definition reads a table you may not use"
    return f"the definition uses {column}, which is unavailable"


class _Resolver:
    def __init__(
        self, norm: NormQuery, principal: Principal, snapshot: Snapshot, problems: Problems
    ) -> None:
        self.norm = norm
        self.snapshot = snapshot
        self.table, self.metric = _entity(norm.kind, norm.entity, principal, snapshot)
        self.access = table_access_for(principal, snapshot)
        self.columns = column_list(snapshot, self.table, self.access)
        self.by_ref = {c.ref: c for c in self.columns}
        self.own = {c.field.name: c for c in self.columns if c.via is None}
        self.problems = problems

    def column(self, path: str, ref: Ref | None) -> Column | None:
        if ref is None:
            return None
        found = self.by_ref.get(ref)
        if found is None:
            self.problems.add(path, "this field no longer exists or you may not use it")
        return found

    def filter(self, path: str, f: NormFilter) -> list[RWhere]:
        if f.segment is not None:
            segment = self.snapshot.segments.get(f.segment)
            if segment is None or segment.table_id != self.table.id:
                where = "does not exist" if segment is None else "belongs to another table"
                self.problems.add(
                    f"{path}.segment_id",
                    f"segment {f.segment} {where}; use a segment of {self.table.name}",
                )
                return []
            return self.model_filters(
                f"{path}.segment_id",
                segment.definition.get("filters", ()),
                segment.definition.get("condition"),
            )
        column = self.column(f"{path}.field_id", f.ref)
        if f.op is None or column is None:
            return []
        checked = self.typed(path, column, f.op, f.values, f.bucket)
        return [checked] if checked is not None else []

    def typed(
        self, path: str, column: Column, op_name: str, raw: tuple[Any, ...], bucket: str | None
    ) -> RFilter | None:
        op = OPERATIONS.get(op_name)
        if op is None:
            self.problems.unknown(f"{path}.operation", "operation", op_name, OPERATIONS)
            return None
        kind = kind_of(column.field.base_type)
        label = f"{column.field.name} ({kind})"
        if "any" not in op.types and kind not in op.types:
            self.problems.add(f"{path}.operation", f"{op_name} does not apply to {label}")
            return None
        if bucket is not None:
            if kind != "temporal":
                self.problems.add(
                    f"{path}.bucket", f"bucket applies only to dates and times, not {label}"
                )
                return None
            if bucket not in _BUCKETS:
                self.problems.unknown(f"{path}.bucket", "bucket", bucket, _BUCKETS)
                return None
            if op_name not in COMPARISONS:
                self.problems.add(f"{path}.bucket", f"bucket does not apply to {op_name}")
                return None
        if op.arity is Arity.NONE and raw:
            self.problems.add(f"{path}.value", f"{op_name} takes no value")
            return None
        if op.arity is not Arity.NONE and not raw:
            self.problems.add(f"{path}.value", f"{op_name} needs a value")
            return None
        if op.arity is Arity.ONE and len(raw) > 1:
            self.problems.add(f"{path}.values", f"{op_name} takes a single value")
            return None
        try:
            zone = self.snapshot.query_settings.report_timezone
            values = coerce_values(column.field.base_type, op_name, bucket, raw, zone)
        except ValueError as exc:
            self.problems.add(f"{path}.value", f"{exc} for {label}")
            return None
        return RFilter(column, op_name, tuple(values), bucket)

    def model_filters(self, path: str, specs: Any, condition: str | None = None) -> list[RWhere]:
        """Segment and metric filters from the model, by column name on the entity's table
        (or, with ``via``, on the table its foreign key points to), and a segment's
        condition."""
        out: list[RWhere] = []
        for spec in specs:
            if spec.get("via"):
                column = self._related(spec["column"], via_chain(spec["via"]))
            else:
                column = self.own.get(spec["column"]) or self._any_own(spec["column"])
            if column is None:
                self.problems.add(path, _unavailable(spec["column"], bool(spec.get("via"))))
                continue
            raw = spec.get("values") or ([spec["value"]] if spec.get("value") is not None else [])
            checked = self.typed(path, column, spec["operation"], tuple(raw), spec.get("bucket"))
            if checked is not None:
                out.append(checked)
        if condition:
            expression = self.expression(path, condition)
            if expression is not None:
                out.append(RCondition(expression))
        return out

    def _any_own(self, name: str) -> Column | None:
        """A column of the entity's table even when not visible (definitions may use them)."""
        row = self.table.field(name)
        return Column(-1, row, self.table) if row is not None else None

    def _related(self, name: str, via: tuple[str, ...]) -> Column | None:
        """A column of the table the chain of foreign keys ``via`` (names, from the entity's
        table) leads to, if the caller may read every table on the way (each one's sandbox
        applies where it is joined)."""
        holder, keys = self.table, []
        for key_name in via:
            fk = holder.field(key_name)
            found = key_target(self.snapshot, fk)
            if fk is None or found is None or found[1].id == holder.id:
                return None
            holder = found[1]
            if not self.access(holder.id).allowed:
                return None
            keys.append(fk)
        row = holder.field(name)
        if not keys or row is None:
            return None
        return Column(-1, row, holder, keys[0], tuple(keys[1:]))

    def _keys_of(self, table_name: str) -> list[tuple[str, str]]:
        """A table's foreign keys (hidden ones too: definitions may use them) and the names of
        the tables they point to, for chains in expressions."""
        table = next(
            (
                t
                for t in self.snapshot.tables.values()
                if t.name == table_name and t.database_id == self.table.database_id
            ),
            None,
        )
        out = []
        for f in table.fields if table is not None else ():
            found = key_target(self.snapshot, f)
            if found is not None:
                out.append((f.name, found[1].name))
        return out

    def expression(self, path: str, text: str) -> RExpression | None:
        """A definition's expression with its columns, or None (reported)."""
        try:
            node = parse(text)
        except ExpressionError:  # check refuses it; the model changed under a running server
            self.problems.add(path, "a definition of the model cannot be used; check the model")
            return None
        columns = []
        for col in dict.fromkeys(columns_of(node)):
            if col.table is None:
                column = self.own.get(col.name) or self._any_own(col.name)
            else:
                chains = nearest_chains(
                    self.table.name,
                    col.table,
                    self._keys_of,
                    self.snapshot.query_settings.join_depth,
                )
                column = self._related(col.name, chains[0]) if len(chains) == 1 else None
            if column is None:
                self.problems.add(path, _unavailable(col.name, col.table is not None))
                return None
            columns.append((col, column))
        return RExpression(node, tuple(columns))

    def operand(
        self, path: str, spec: Mapping[str, Any]
    ) -> tuple[Column | None, RExpression | None]:
        """What an aggregation of the model aggregates: a column, an expression or neither
        (count of rows)."""
        if spec.get("expression"):
            return None, self.expression(path, spec["expression"])
        return (self._any_own(spec["column"]) if spec.get("column") else None), None

    def aggregation(self, path: str, a: NormAggregation) -> RAggregation | None:
        if a.measure is not None:
            measure = self.snapshot.measures.get(a.measure)
            if measure is None or measure.table_id != self.table.id:
                where = "does not exist" if measure is None else "belongs to another table"
                self.problems.add(f"{path}.measure_id", f"measure {a.measure} {where}")
                return None
            spec = measure.definition["aggregation"]
            column, expression = self.operand(f"{path}.measure_id", spec)
            return RAggregation(
                spec["function"], column, measure.name, measure.name, a.sort,
                expression=expression,
            )  # fmt: skip
        if a.fn not in AGGREGATIONS:
            self.problems.unknown(
                f"{path}.function", "aggregation function", str(a.fn), AGGREGATIONS
            )
            return None
        column = self.column(f"{path}.field_id", a.ref)
        if a.ref is not None and column is None:
            return None
        if column is not None:
            kind = kind_of(column.field.base_type)
            if a.fn in ("sum", "avg") and kind != "number":
                self.problems.add(
                    f"{path}.field_id", f"{a.fn} needs a number, {column.field.name} is {kind}"
                )
                return None
            if a.fn in ("min", "max") and kind not in _ORDERABLE:
                self.problems.add(
                    f"{path}.field_id", f"{a.fn} does not apply to {column.field.name}"
                )
                return None
        bucket = None
        if a.bucket is not None:
            if column is None:
                self.problems.add(f"{path}.bucket", "bucket needs a field_id")
                return None
            bucket = self.bucket(f"{path}.bucket", column, a.bucket)
            if bucket is None:
                return None
        title = _AGG_TITLES[a.fn]
        display = (
            title if column is None or a.fn == "count" else f"{title} {column.field.display_name}"
        )
        return RAggregation(a.fn, column, _AGG_NAMES[a.fn], display, a.sort, (), bucket)

    def bucket(self, path: str, column: Column, bucket: str) -> str | None:
        """A unit a date or time can be truncated to or extracted from, or None (reported)."""
        base = column.field.base_type
        if kind_of(base) != "temporal":
            self.problems.add(path, f"{column.field.name} is not a date or time; remove bucket")
            return None
        if bucket not in _BUCKETS:
            self.problems.unknown(path, "bucket", bucket, _BUCKETS)
            return None
        time_units = ("minute", "hour", "hour-of-day", "minute-of-hour", "second-of-minute")
        if base == "type/Date" and bucket in time_units:
            self.problems.add(path, f"{column.field.name} is a date: no {bucket}")
            return None
        if base == "type/Time" and bucket not in time_units:
            self.problems.add(path, f"{column.field.name} is a time of day: no {bucket}")
            return None
        return bucket

    def group(self, path: str, g: NormGroup) -> RGroup | None:
        column = self.column(f"{path}.field_id", g.ref)
        if column is None:
            return None
        name, display = column.field.name, column.field.display_name
        granularity = g.granularity
        if granularity is None and column.field.base_type in ("type/DateTime", "type/Date"):
            granularity = "day"  # Metabase buckets a date or datetime breakout by day
        if granularity is None:
            return RGroup(column, None, name, display)
        if granularity not in GRANULARITIES:
            self.problems.unknown(
                f"{path}.field_granularity", "granularity", granularity, GRANULARITIES
            )
            return None
        base = column.field.base_type
        if kind_of(base) != "temporal":
            self.problems.add(
                f"{path}.field_granularity",
                f"{column.field.name} is not a date or time; remove field_granularity",
            )
            return None
        time_units = ("minute", "hour", "minute-of-hour", "hour-of-day")
        if base == "type/Date" and granularity in time_units:
            self.problems.add(
                f"{path}.field_granularity", f"{column.field.name} is a date: no {granularity}"
            )
            return None
        if base == "type/Time" and granularity not in time_units:
            self.problems.add(f"{path}.field_granularity", f"{column.field.name} is a time of day")
            return None
        title = granularity.replace("-", " ").title().replace("Of", "of")
        return RGroup(column, granularity, name, f"{display}: {title}")

    def run(self) -> Resolved:
        n = self.norm
        check_size(n, self.problems)
        filters = [rf for i, f in enumerate(n.filters) for rf in self.filter(f"filters[{i}]", f)]
        aggregations = [
            a
            for i, x in enumerate(n.aggregations)
            if (a := self.aggregation(f"aggregations[{i}]", x))
        ]
        groups = [g for i, x in enumerate(n.group_by) if (g := self.group(f"group_by[{i}]", x))]
        plan = None
        if self.metric is not None:
            definition = self.metric.definition
            own = self.model_filters("metric", definition.get("filters", ()))
            if definition.get("type", "simple") == "simple":
                spec = definition["aggregation"]
                column, expression = self.operand("metric", spec)
                name = self.metric.name
                aggregations = [
                    RAggregation(
                        spec["function"], column, name, name, n.sort, (*own,), None, expression
                    )
                ]
            else:
                plan = self.plan(definition, groups)
                name = self.metric.name
                aggregations = [RAggregation(plan.kind, None, name, name, n.sort, (*own,))]
        fields: list[Column] = []
        buckets: list[str | None] = []
        for i, r in enumerate(n.fields):
            chosen = self.column(f"fields[{i}].field_id", r)
            raw = n.field_buckets[i] if i < len(n.field_buckets) else None
            bucket = None
            if chosen is not None and raw is not None:
                bucket = self.bucket(f"fields[{i}].bucket", chosen, raw)
            if chosen is not None:
                fields.append(chosen)
                buckets.append(bucket)
        aggregated = bool(aggregations or groups)
        if fields and aggregated:
            self.problems.add(
                "fields",
                "fields cannot be combined with aggregations or group_by; "
                "group by the fields instead",
            )
        orders = []
        for i, o in enumerate(n.order_by):
            column = self.column(f"order_by[{i}].field.field_id", o.ref)
            if column is None:
                continue
            bucket = o.bucket
            if bucket is not None:
                bucket = self.bucket(f"order_by[{i}].field.bucket", column, bucket)
                if bucket is None:
                    continue
            if aggregated:
                match = next(
                    (
                        g
                        for g in groups
                        if g.column == column and (bucket is None or g.granularity == bucket)
                    ),
                    None,
                )
                if match is None:
                    self.problems.add(
                        f"order_by[{i}]",
                        "an aggregated query can only be ordered by "
                        "its group_by fields (or by an aggregation's sort_order)",
                    )
                    continue
                orders.append(ROrder(column, match.granularity, o.direction))
            else:
                orders.append(ROrder(column, bucket, o.direction))
        if n.limit is not None and (not isinstance(n.limit, int) or n.limit < 1):
            self.problems.add("limit", "must be a positive integer")
        self.problems.raise_if_any()
        return Resolved(
            n,
            self.table,
            self.metric,
            tuple(filters),
            tuple(fields),
            tuple(aggregations),
            tuple(groups),
            tuple(orders),
            n.limit,
            tuple(c for c in self.columns if c.via is None),
            tuple(buckets) if any(buckets) else (),
            plan,
        )

    def plan(self, definition: dict[str, Any], groups: list[RGroup]) -> RPlan:
        """A ratio's, derived or cumulative metric's parts, checked against the breakouts
        asked for (problems are reported; the plan is returned all the same)."""
        assert self.metric is not None
        kind = str(definition["type"])
        parts = []
        for name, spec in definition["parts"].items():
            aggregation = spec["aggregation"]
            column, expression = self.operand("metric", aggregation)
            filters = self.model_filters("metric", spec.get("filters", ()))
            offset = parse_period(spec["offset"]) if spec.get("offset") else None
            parts.append(
                RPart(name, aggregation["function"], column, tuple(filters), offset, expression)
            )
        time_field = self.metric.default_time_field_id
        time = next(
            (
                i
                for i, g in enumerate(groups)
                if time_field is not None
                and g.column.via is None
                and g.column.field.id == time_field
            ),
            None,
        )
        window = parse_period(definition["window"]) if definition.get("window") else None
        grain = definition.get("grain")
        plan = RPlan(
            kind, tuple(parts), parse_expression(definition["expression"]), time, time_field,
            window, grain,
        )  # fmt: skip
        self.check_plan(plan, groups)
        return plan

    def check_plan(self, plan: RPlan, groups: list[RGroup]) -> None:
        assert self.metric is not None
        offsets = [p.offset for p in plan.parts if p.offset is not None]
        along = bool(offsets) or plan.window is not None or plan.grain is not None
        dimension = self.snapshot.fields.get(plan.time_field or 0)
        label = dimension.name if dimension is not None else "its time dimension"
        if plan.time is None:
            if along:
                what = "compares periods" if offsets else "runs over periods"
                self.problems.add(
                    "group_by",
                    f"{self.metric.name} {what}: group by {label} (its time dimension) "
                    "by day, week, month, quarter or year",
                )
            return
        if not along and plan.kind != "cumulative":
            return  # a ratio or an expression without offset is grouped like any metric
        on_time = [
            i
            for i, g in enumerate(groups)
            if g.column.via is None and g.column.field.id == plan.time_field
        ]
        if len(on_time) > 1:
            self.problems.add(
                f"group_by[{on_time[1]}]",
                f"{self.metric.name} runs along {label}: group by it once (its periods are "
                "the line the metric runs on)",
            )
            return
        granularity = groups[plan.time].granularity or ""
        path = f"group_by[{plan.time}].field_granularity"
        if granularity not in TRUNCATION_UNITS:
            self.problems.add(
                path,
                f"{self.metric.name} runs along {label}: group it by a period "
                f"({', '.join(TRUNCATION_UNITS)}), not {granularity}",
            )
            return
        for period in (*offsets, *([plan.window] if plan.window else [])):
            try:
                index_units(period, granularity)
            except ValueError as exc:
                self.problems.add(path, f"{self.metric.name}: {exc}")
        if plan.grain is not None and granularity not in _WITHIN[plan.grain]:
            self.problems.add(
                path,
                f"{self.metric.name} runs to date within each {plan.grain}: group {label} by "
                f"{' or '.join(_WITHIN[plan.grain])}",
            )


def resolve(
    norm: NormQuery, principal: Principal, snapshot: Snapshot, problems: Problems | None = None
) -> Resolved:
    """The query as the caller may run it now; raises with every problem at once."""
    return _Resolver(norm, principal, snapshot, problems or Problems()).run()
