"""Cross-reference checks of a semantic model; every problem is collected, none stops the rest.

Works on the file alone, or against a :data:`Catalog` introspected from the warehouses, in
which case tables and columns are checked against what really exists.
"""

from __future__ import annotations

import re
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sextant.model.catalog import Catalog
from sextant.model.expressions import (
    Col,
    ExpressionError,
    columns_of,
    kind_of_expression,
    nearest_chains,
    parse,
)
from sextant.model.issues import Issue, Path, suggest
from sextant.model.metric_kinds import (
    CUMULATIVE_FUNCTIONS,
    GRAINS,
    PERIOD_UNITS,
    cycle,
    parse_expression,
    parse_period,
    part_count,
    term_names,
)
from sextant.model.operations import AGGREGATIONS, OPERATIONS, kind_of
from sextant.model.questions import check_questions
from sextant.model.types import AggregationSpec, FilterSpec, MetricSpec, Model

__all__ = ["ENGINES", "TEMPORAL_BASE_TYPES", "engine_of", "table_columns", "validate_model"]

ENGINES: dict[str, str] = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "pyspark": "spark",
    "spark": "spark",
}
"""URL scheme -> engine name as reported in ``database_engine``."""

MAX_PARTS = 64  # aggregations a derived metric may expand to through its inputs
TEMPORAL_BASE_TYPES = frozenset({"type/Date", "type/DateTime", "type/Time"})
_PLACEHOLDER = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
_ATTRIBUTE = re.compile(r"^user\.[A-Za-z_][A-Za-z0-9_]*$")


def engine_of(url: str) -> str | None:
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower() if ":" in url else ""
    return ENGINES.get(scheme)


def table_columns(
    model: Model, catalog: Catalog | None
) -> dict[str, dict[str, dict[str, str | None]]]:
    """database -> table -> column -> base type (None when only declared in the file)."""
    out: dict[str, dict[str, dict[str, str | None]]] = {}
    for db in model.databases:
        tables: dict[str, dict[str, str | None]] = {}
        if catalog is not None and db.name in catalog:
            for info in catalog[db.name]:
                tables[info.name] = {c.name: c.base_type for c in info.columns}
        else:
            for table in db.tables:
                tables[table.name] = {c.name: None for c in table.columns}
        out[db.name] = tables
    return out


@dataclass
class _Checker:
    model: Model
    lines: Mapping[Path, int]
    catalog: Catalog | None
    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tables = table_columns(self.model, self.catalog)
        self.groups = self.model.group_names()
        self.collections = [c.name for c in self.model.collections]
        self.zone = self.model.settings.report_timezone or "UTC"

    # -- reporting -------------------------------------------------------------------------
    def report(self, path: Path, message: str, suggestion: str | None = None) -> None:
        self.issues.append(Issue(path, message, suggestion=suggestion).located(self.lines))

    def unknown(self, path: Path, kind: str, name: str, known: Iterable[str]) -> None:
        self.report(path, f"unknown {kind} {name!r}", suggest(name, known))

    def duplicates(self, path: Path, names: Sequence[str], kind: str) -> None:
        seen: Counter[str] = Counter()
        for index, name in enumerate(names):
            seen[name] += 1
            if seen[name] == 2:
                self.report((*path, index), f"duplicate {kind} {name!r}")

    # -- resolution ------------------------------------------------------------------------
    def table(self, path: Path, database: str | None, table: str) -> tuple[str, str] | None:
        if database is not None:
            if database not in self.tables:
                self.unknown((*path, "database"), "database", database, self.tables)
                return None
            candidates = [database]
        else:
            candidates = [db for db, tables in self.tables.items() if table in tables]
            if len(candidates) > 1:
                self.report(
                    (*path, "table"),
                    f"table {table!r} exists in several databases "
                    f"({', '.join(candidates)}); add 'database:'",
                )
                return None
        if not candidates or table not in self.tables[candidates[0]]:
            known = [t for db in ([database] if database else self.tables) for t in self.tables[db]]
            self.unknown((*path, "table"), "table", table, known)
            return None
        return candidates[0], table

    def column(self, path: Path, ref: tuple[str, str], column: str) -> str | bool | None:
        """The column's base type (None if unknown), or False when the column is missing."""
        columns = self.tables[ref[0]][ref[1]]
        if column not in columns:
            self.report(path, f"table {ref[1]} has no column {column!r}", suggest(column, columns))
            return False
        return columns[column]

    # -- checks ----------------------------------------------------------------------------
    def run(self) -> list[Issue]:
        m = self.model
        self.duplicates(("databases",), [d.name for d in m.databases], "database")
        self.duplicates(("collections",), self.collections, "collection")
        self.duplicates(("metrics",), [x.name for x in m.metrics], "metric")
        self.duplicates(("groups",), [g.name for g in m.groups], "group")
        self.duplicates(("users",), [u.email.lower() for u in m.users], "user")
        self.check_databases()
        self.check_settings()
        for i, metric in enumerate(m.metrics):
            path: Path = ("metrics", i)
            if metric.collection not in self.collections:
                self.unknown(
                    (*path, "collection"), "collection", metric.collection, self.collections
                )
            ref = self.table(path, metric.database, metric.table)
            if ref is None:
                continue
            self.metric_kind(path, ref, metric)
            self.filters((*path, "filters"), ref, metric.filters)
            if metric.default_time_dimension is not None:
                dim_path = (*path, "default_time_dimension")
                base = self.column(dim_path, ref, metric.default_time_dimension)
                if isinstance(base, str) and base not in TEMPORAL_BASE_TYPES:
                    self.report(dim_path, f"{metric.default_time_dimension} is not a date or time")
        seen: set[tuple[str, str, str]] = set()
        for i, measure in enumerate(m.measures):
            ref = self.named_on_table(
                ("measures", i), measure.database, measure.table, measure.name, seen
            )
            if ref is not None:
                self.aggregation(("measures", i, "aggregation"), ref, measure.aggregation)
        seen = set()
        for i, segment in enumerate(m.segments):
            ref = self.named_on_table(
                ("segments", i), segment.database, segment.table, segment.name, seen
            )
            if ref is not None:
                self.filters(("segments", i, "filters"), ref, segment.filters)
                if segment.condition is not None:
                    cpath: Path = ("segments", i, "condition")
                    kind = self.expression(cpath, ref, segment.condition)
                    if isinstance(kind, str) and kind != "boolean":
                        self.report(cpath, f"a condition is true or false, not a {kind}")
        for i, user in enumerate(m.users):
            for j, group in enumerate(user.groups):
                if group not in self.groups:
                    self.unknown(("users", i, "groups", j), "group", group, self.groups)
        check_questions(self)
        self.check_permissions()
        self.check_sandboxes()
        return self.issues

    def named_on_table(
        self,
        path: Path,
        database: str | None,
        table: str,
        name: str,
        seen: set[tuple[str, str, str]],
    ) -> tuple[str, str] | None:
        """Resolve the table of a measure or segment; its name must be unique on that table."""
        ref = self.table(path, database, table)
        if ref is not None:
            if (*ref, name) in seen:
                self.report((*path, "name"), f"duplicate name {name!r} on {ref[1]}")
            seen.add((*ref, name))
        return ref

    def check_databases(self) -> None:
        for i, db in enumerate(self.model.databases):
            if engine_of(db.url) is None:
                scheme = db.url.split(":", 1)[0]
                self.report(
                    ("databases", i, "url"),
                    f"unsupported warehouse URL scheme {scheme!r}",
                    suggest(scheme, ENGINES),
                )
            self.duplicates(("databases", i, "tables"), [t.name for t in db.tables], "table")
            known = self.tables[db.name]
            for j, table in enumerate(db.tables):
                tpath: Path = ("databases", i, "tables", j)
                if table.name not in known:
                    self.unknown((*tpath, "name"), "table", table.name, known)
                    continue
                names = [c.name for c in table.columns]
                self.duplicates((*tpath, "columns"), names, "column")
                for k, column in enumerate(table.columns):
                    cpath: Path = (*tpath, "columns", k)
                    if self.column((*cpath, "name"), (db.name, table.name), column.name) is False:
                        continue
                    if column.foreign_key is not None:
                        target, _, target_column = column.foreign_key.partition(".")
                        tref = self.table((*cpath, "foreign_key"), db.name, target)
                        if tref is not None:
                            self.column((*cpath, "foreign_key"), tref, target_column)

    def check_settings(self) -> None:
        settings = self.model.settings
        if settings.report_timezone is not None:
            try:
                zoneinfo.ZoneInfo(settings.report_timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self.report(
                    ("settings", "report_timezone"),
                    f"unknown time zone {settings.report_timezone!r}",
                )
        for j, name in enumerate(settings.agent.collections or ()):
            if name not in self.collections:
                where: Path = ("settings", "agent", "collections", j)
                self.unknown(where, "collection", name, self.collections)
        for claim, targets in settings.provisioning.group_mapping.items():
            for j, group in enumerate(targets):
                path: Path = ("settings", "provisioning", "group_mapping", claim, j)
                if group not in self.groups:
                    self.unknown(path, "group", group, self.groups)

    def check_permissions(self) -> None:
        perms = self.model.permissions
        for i, grant in enumerate(perms.data):
            path: Path = ("permissions", "data", i)
            if grant.group not in self.groups:
                self.unknown((*path, "group"), "group", grant.group, self.groups)
            if grant.database is not None and grant.database not in self.tables:
                self.unknown((*path, "database"), "database", grant.database, self.tables)
                continue
            if grant.tables != "*":
                for j, table in enumerate(grant.tables):
                    self.table((*path, "tables", j), grant.database, table)
        for i, cgrant in enumerate(perms.collections):
            path = ("permissions", "collections", i)
            if cgrant.group not in self.groups:
                self.unknown((*path, "group"), "group", cgrant.group, self.groups)
            if cgrant.collection not in self.collections:
                self.unknown(
                    (*path, "collection"), "collection", cgrant.collection, self.collections
                )

    def check_sandboxes(self) -> None:
        for i, sandbox in enumerate(self.model.sandboxes):
            path: Path = ("sandboxes", i)
            if sandbox.group not in self.groups:
                self.unknown((*path, "group"), "group", sandbox.group, self.groups)
            ref = self.table(path, sandbox.database, sandbox.table)
            if ref is None:
                continue
            self.filters((*path, "filter"), ref, (sandbox.filter,), single=True)
            for j, column in enumerate(sandbox.hidden_columns):
                self.column((*path, "hidden_columns", j), ref, column)

    # -- parts -----------------------------------------------------------------------------
    def metric_kind(self, path: Path, ref: tuple[str, str], metric: MetricSpec) -> None:
        """What a ratio, derived or cumulative metric adds to a simple one's checks."""
        metrics = {m.name: m for m in self.model.metrics}
        if metric.aggregation is not None:
            self.aggregation((*path, "aggregation"), ref, metric.aggregation)
        if metric.type == "cumulative":
            function = metric.aggregation.function if metric.aggregation else ""
            if function in AGGREGATIONS and function not in CUMULATIVE_FUNCTIONS:
                self.report(
                    (*path, "aggregation", "function"),
                    f"a running {function} cannot be built from its periods; a cumulative "
                    f"metric takes {', '.join(CUMULATIVE_FUNCTIONS)}",
                )
            if metric.window is not None:
                self.period((*path, "window"), metric.window)
            if metric.grain is not None and metric.grain not in GRAINS:
                self.unknown((*path, "grain"), "grain", metric.grain, GRAINS)
            if metric.window is not None and metric.grain is not None:
                self.report((*path, "grain"), "give window or grain, not both")
            self.needs_time(path, metric, "a running total")
        for side in ("numerator", "denominator"):
            part = getattr(metric, side)
            if part is None:
                continue
            if part.metric is not None:
                self.same_table_input((*path, side, "metric"), metric, part.metric, metrics)
                if part.metric in metrics and metrics[part.metric].type != "simple":
                    self.report(
                        (*path, side, "metric"),
                        f"{part.metric} is a {metrics[part.metric].type} metric; a ratio's "
                        "parts are aggregations or simple metrics",
                    )
            else:
                spec = AggregationSpec(
                    function=part.function or "", column=part.column, expression=part.expression
                )
                self.aggregation((*path, side), ref, spec)
            self.filters((*path, side, "filters"), ref, part.filters)
        if metric.type == "derived":
            self.derived(path, metric, metrics)

    def derived(self, path: Path, metric: MetricSpec, metrics: Mapping[str, MetricSpec]) -> None:
        aliases: list[str] = []
        offset = False
        for j, entry in enumerate(metric.metrics):
            entry_path = (*path, "metrics", j)
            alias = entry.alias or entry.metric
            if not alias.isidentifier() or "__" in alias:
                self.report(
                    (*entry_path, "alias"),
                    f"{alias!r} cannot be named in an expression: give the input an alias "
                    "made of letters, digits and single underscores",
                )
            aliases.append(alias)
            if self.same_table_input((*entry_path, "metric"), metric, entry.metric, metrics):
                used = metrics[entry.metric]
                if used.type == "cumulative":
                    self.report(
                        (*entry_path, "metric"),
                        f"{entry.metric} is cumulative; a derived metric combines simple, "
                        "ratio or derived metrics",
                    )
                if entry.offset is not None and _offsets_inside(used, metrics):
                    self.report(
                        (*entry_path, "offset"),
                        f"{entry.metric} already offsets its own inputs; offset those instead",
                    )
            if entry.offset is not None:
                offset = True
                self.period((*entry_path, "offset"), entry.offset)
        self.one_family(path, metric)
        self.duplicates((*path, "metrics"), aliases, "alias (give each input its own alias)")
        try:
            term = parse_expression(metric.expression or "")
        except ValueError as exc:
            self.report((*path, "expression"), str(exc))
        else:
            for name in term_names(term):
                if name not in aliases:
                    self.unknown((*path, "expression"), "input", name, aliases)
            unused = [a for a in aliases if a not in term_names(term)]
            for name in unused:
                self.report((*path, "expression"), f"the input {name!r} is not used")
        definitions = {
            m.name: {"type": m.type, "metrics": [e.model_dump() for e in m.metrics]}
            for m in metrics.values()
        }
        loop = cycle(definitions, metric.name)
        if loop is not None:
            self.report(
                (*path, "metrics"), f"derived metrics refer to each other: {' -> '.join(loop)}"
            )
        elif part_count(definitions, metric.name) > MAX_PARTS:
            self.report(
                (*path, "metrics"),
                f"{metric.name} expands to more than {MAX_PARTS} aggregations through its inputs",
            )
        if offset:
            self.needs_time(path, metric, "an offset")

    def one_family(self, path: Path, metric: MetricSpec) -> None:
        """Offsets (at any depth of its own inputs) and a window all counted in days or all in
        months: otherwise no breakout could serve them together."""
        texts = [e.offset for e in metric.metrics if e.offset] + [metric.window or ""]
        families = set()
        for text in texts:
            try:
                families.add(PERIOD_UNITS[parse_period(text).unit][0])
            except ValueError:
                continue  # reported where it is written
        if len(families) > 1:
            self.report(
                path,
                "offsets and windows in days or weeks cannot be mixed with ones in months, "
                "quarters or years: no breakout fits both",
            )

    def home(self, database: str | None, table: str) -> tuple[str | None, str]:
        """``(database, table)`` with the database filled in when only one has the table."""
        if database is not None:
            return database, table
        holders = [name for name, tables in self.tables.items() if table in tables]
        return (holders[0] if len(holders) == 1 else None), table

    def same_table_input(
        self, path: Path, metric: MetricSpec, name: str, metrics: Mapping[str, MetricSpec]
    ) -> bool:
        """Whether ``name`` is a metric over ``metric``'s table (reported otherwise)."""
        used = metrics.get(name)
        if used is None:
            self.unknown(path, "metric", name, metrics)
            return False
        mine = self.home(metric.database, metric.table)
        theirs = self.home(used.database, used.table)
        if mine != theirs:
            self.report(
                path,
                f"{name} is a metric of {used.table}, {metric.name} of {metric.table}: the "
                "parts of a metric are over its own table",
            )
            return False
        return True

    def period(self, path: Path, text: str) -> None:
        try:
            parse_period(text)
        except ValueError as exc:
            unit = str(text).split()[-1].rstrip("s") if str(text).split() else ""
            self.report(path, str(exc), suggest(unit, PERIOD_UNITS) if unit else None)

    def needs_time(self, path: Path, metric: MetricSpec, what: str) -> None:
        if metric.default_time_dimension is None:
            self.report(
                (*path, "default_time_dimension"),
                f"{what} runs along a time dimension: set default_time_dimension "
                f"(a date or time column of {metric.table})",
            )

    def aggregation(self, path: Path, ref: tuple[str, str], agg: AggregationSpec) -> None:
        if agg.function not in AGGREGATIONS:
            self.unknown((*path, "function"), "aggregation", agg.function, AGGREGATIONS)
        if agg.column is not None:
            base = self.column((*path, "column"), ref, agg.column)
            numeric = {"type/Integer", "type/BigInteger", "type/Float", "type/Decimal"}
            if agg.function in {"sum", "avg"} and isinstance(base, str) and base not in numeric:
                self.report((*path, "column"), f"cannot {agg.function} non-numeric {agg.column}")
        if agg.expression is not None:
            kind = self.expression((*path, "expression"), ref, agg.expression)
            if agg.function in {"sum", "avg"} and isinstance(kind, str) and kind != "number":
                self.report((*path, "expression"), f"cannot {agg.function} a {kind} expression")
            if agg.function in {"min", "max"} and kind == "boolean":
                self.report((*path, "expression"), f"{agg.function} does not apply to a condition")

    def expression(self, path: Path, ref: tuple[str, str], text: str) -> str | bool | None:
        """The kind of value ``text`` gives (None: not known offline), or False after
        reporting why it cannot be used."""
        try:
            node = parse(text)
        except ExpressionError as exc:
            self.report(path, str(exc))
            return False
        found = {col: self.expression_column(path, ref, col) for col in set(columns_of(node))}
        if any(base is False for base in found.values()):
            return False
        try:
            return kind_of_expression(
                node, lambda col: kind_of(b) if isinstance(b := found[col], str) else None
            )
        except ExpressionError as exc:
            self.report(path, str(exc))
            return False

    def expression_column(self, path: Path, ref: tuple[str, str], col: Col) -> str | bool | None:
        """A column of ``ref`` or, as ``TABLE.COLUMN``, of a table one of its foreign keys
        points to: its base type (None if unknown), or False after reporting."""
        if col.table is None:
            return self.column(path, ref, col.name)
        tables = self.tables[ref[0]]
        if col.table not in tables:
            self.unknown(path, "table", col.table, tables)
            return False
        depth = self.model.settings.join_depth
        chains = nearest_chains(
            ref[1],
            col.table,
            lambda table: [
                (c, fk[1])
                for c in self.tables[ref[0]].get(table, {})
                if (fk := self.foreign_key((ref[0], table), c)) is not None
            ],
            depth,
        )
        if not chains:
            if self.catalog is None:
                return None  # offline, undeclared keys cannot be followed: nothing to check
            self.report(
                path,
                f"{ref[1]} has no chain of at most {depth} foreign keys to {col.table}; write a "
                f"column of {ref[1]} or TABLE.COLUMN of a table its keys lead to",
            )
            return False
        if len(chains) > 1:
            shown = ", ".join(".".join(chain) for chain in chains)
            self.report(
                path,
                f"{col.table} is reached from {ref[1]} through several chains of foreign keys "
                f"({shown}); an expression cannot choose between them",
            )
            return False
        return self.column(path, (ref[0], col.table), col.name)

    def foreign_keys_to(self, source: tuple[str, str], target: str) -> list[str]:
        """The columns of ``source`` that are foreign keys to table ``target``."""
        return [
            c
            for c in self.tables[source[0]][source[1]]
            if (fk := self.foreign_key(source, c)) is not None and fk[1] == target
        ]

    def filters(
        self,
        path: Path,
        ref: tuple[str, str],
        filters: Iterable[FilterSpec],
        *,
        single: bool = False,
    ) -> None:
        for i, spec in enumerate(filters):
            fpath = path if single else (*path, i)
            if spec.operation not in OPERATIONS:
                self.unknown((*fpath, "operation"), "operation", spec.operation, OPERATIONS)
            target: tuple[str, str] | None = ref
            chain = (spec.via,) if isinstance(spec.via, str) else spec.via or ()
            for k, key in enumerate(chain):
                where: Path = (*fpath, "via") if isinstance(spec.via, str) else (*fpath, "via", k)
                assert target is not None
                target = self.via(where, target, key)
                if target is None:
                    break
            if target is None:
                continue
            base = self.column((*fpath, "column"), target, spec.column)
            if isinstance(base, str) and spec.operation in OPERATIONS:
                self.typed_filter(fpath, spec, base)
            for value in (spec.value, *(spec.values or ())):
                if isinstance(value, str):
                    for placeholder in _PLACEHOLDER.findall(value):
                        if not _ATTRIBUTE.match(placeholder):
                            message = f"placeholder {placeholder!r} must look like user.NAME"
                            self.report((*fpath, "value"), message)

    def operation_applies(self, path: Path, operation: str, column: str, base: str) -> bool:
        """Whether a known ``operation`` applies to a column of base type ``base``."""
        kind = kind_of(base)
        if "any" in OPERATIONS[operation].types or kind in OPERATIONS[operation].types:
            return True
        applies = sorted(t for t in OPERATIONS[operation].types if t != "any")
        self.report(
            (*path, "operation"),
            f"{operation} does not apply to {column} ({kind}); it applies to "
            f"{' or '.join(applies)} columns",
        )
        return False

    def typed_filter(self, path: Path, spec: FilterSpec, base: str) -> None:
        """A segment's, metric's or sandbox's filter checked against the column's type, as a
        query's would be (placeholders such as ``{{user.state}}`` are filled in later)."""
        if not self.operation_applies(path, spec.operation, spec.column, base):
            return
        given = spec.values if spec.values is not None else (spec.value,)
        for j, value in enumerate(given):
            if value is None or (isinstance(value, str) and _PLACEHOLDER.search(value)):
                continue
            from sextant.query.filters import coerce_values  # Ibis: only with a catalog

            try:
                coerce_values(base, spec.operation, spec.bucket, [value], self.zone)
            except ValueError as exc:
                where = (*path, "values", j) if spec.values is not None else (*path, "value")
                self.report(
                    where,
                    f"{value!r} does not fit {spec.operation} on {spec.column} "
                    f"({kind_of(base)}): {exc}",
                )

    def via(self, path: Path, ref: tuple[str, str], column: str) -> tuple[str, str] | None:
        if self.column(path, ref, column) is False:
            return None
        target = self.foreign_key(ref, column)
        if target is None and self.catalog is not None:
            self.report(path, f"{ref[1]}.{column} is not a foreign key")
        if target is not None and target[1] not in self.tables.get(target[0], {}):
            return None  # the key's unknown target table is reported where the key is declared
        return target  # offline, an undeclared key cannot be checked: nothing to follow

    def foreign_key(self, ref: tuple[str, str], column: str) -> tuple[str, str] | None:
        for db in self.model.databases:
            if db.name != ref[0]:
                continue
            for table in db.tables:
                if table.name != ref[1]:
                    continue
                for col in table.columns:
                    if col.name == column and col.foreign_key:
                        return ref[0], col.foreign_key.partition(".")[0]
        if self.catalog is not None:
            for info in self.catalog.get(ref[0], ()):
                if info.name == ref[1]:
                    col_info = info.column(column)
                    if col_info is not None and col_info.foreign_key is not None:
                        return ref[0], col_info.foreign_key.table
        return None


def validate_model(
    model: Model, lines: Mapping[Path, int] | None = None, catalog: Catalog | None = None
) -> list[Issue]:
    """Every cross-reference problem of ``model``, each located on its line when known."""
    return _Checker(model, lines or {}, catalog).run()


def _offsets_inside(metric: MetricSpec, metrics: Mapping[str, MetricSpec], depth: int = 0) -> bool:
    """Whether a derived metric offsets any of its inputs, at any depth (cycles stop)."""
    if metric.type != "derived" or depth > len(metrics):
        return False
    for entry in metric.metrics:
        if entry.offset is not None:
            return True
        inner = metrics.get(entry.metric)
        if inner is not None and _offsets_inside(inner, metrics, depth + 1):
            return True
    return False
