"""Reading tables, columns, types and declared keys from a warehouse.

Each engine's profile names how its catalog is read (:mod:`sextant.warehouse.engines`): the
standard ``information_schema`` views through Ibis expressions, MySQL's flavour of them, SQLite's
PRAGMA table functions, or, for engines that declare no keys, the backend's own table listing.
Whatever the source, types come from Ibis' schema of each table, so base types agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ibis
import sqlglot.expressions as sge
from ibis.backends import BaseBackend

from sextant.model.catalog import ColumnInfo, ForeignKey, TableInfo
from sextant.warehouse.engines import profile
from sextant.warehouse.runner import arrow_of
from sextant.warehouse.types import base_type_of

__all__ = ["introspect"]


@dataclass(frozen=True)
class _Column:
    table: str
    name: str
    position: int  # from 1
    database_type: str
    nullable: bool


@dataclass
class _Catalog:
    names: list[str]
    columns: list[_Column]
    primary: set[tuple[str, str]]
    foreign: dict[tuple[str, str], ForeignKey]


def introspect(
    con: BaseBackend, engine: str, schema: str | None = None, only: Iterable[str] | None = None
) -> tuple[TableInfo, ...]:
    """Tables of ``schema`` (default: the engine's usual one), all or those named in ``only``,
    sorted by name."""
    engine_profile = profile(engine)
    if not schema:
        schema = engine_profile.default_schema or str(getattr(con, "current_database", ""))
    wanted = set(only) if only is not None else None
    catalog = _READERS[engine_profile.catalog](con, schema, wanted)
    out: list[TableInfo] = []
    for name in catalog.names:
        dtypes = con.table(name, database=schema).schema()
        rows = sorted((c for c in catalog.columns if c.table == name), key=lambda c: c.position)
        out.append(
            TableInfo(
                name=name,
                schema=schema,
                columns=tuple(
                    ColumnInfo(
                        name=c.name,
                        position=c.position - 1,
                        database_type=c.database_type.upper(),
                        base_type=base_type_of(dtypes[c.name]),
                        nullable=c.nullable,
                        primary_key=(name, c.name) in catalog.primary,
                        foreign_key=catalog.foreign.get((name, c.name)),
                    )
                    for c in rows
                ),
            )
        )
    return tuple(out)


def _rows(expr: Any) -> list[dict[str, Any]]:
    return list(arrow_of(expr).to_pylist())


def _info(con: BaseBackend, name: str) -> Any:
    """An information_schema view with lower-case column names (MySQL spells them upper)."""
    view = con.table(name, database="information_schema")
    return view.rename({c.lower(): c for c in view.columns})


def _select(names: list[str], wanted: set[str] | None) -> list[str]:
    return sorted(n for n in names if wanted is None or n in wanted)


def _columns_of(con: BaseBackend, schema: str, names: list[str]) -> list[_Column]:
    columns = _info(con, "columns")
    rows = _rows(
        columns.filter((columns.table_schema == schema) & columns.table_name.isin(names)).select(
            "table_name", "column_name", "ordinal_position", "data_type", "is_nullable"
        )
    )
    return [
        _Column(
            table=r["table_name"],
            name=r["column_name"],
            position=int(r["ordinal_position"]),
            database_type=str(r["data_type"]),
            nullable=str(r["is_nullable"]).upper() == "YES",
        )
        for r in rows
    ]


def _table_names(con: BaseBackend, schema: str, wanted: set[str] | None) -> list[str]:
    tables = _info(con, "tables")
    listed = _rows(tables.filter(tables.table_schema == schema).select("table_name"))
    return _select([r["table_name"] for r in listed], wanted)


def _standard(con: BaseBackend, schema: str, wanted: set[str] | None) -> _Catalog:
    names = _table_names(con, schema, wanted)
    if not names:
        return _Catalog([], [], set(), {})
    constraints = _info(con, "table_constraints")
    usage = _info(con, "key_column_usage")
    refs = _info(con, "referential_constraints")
    in_schema = usage.filter((usage.table_schema == schema) & usage.table_name.isin(names))
    kinds = constraints.filter(constraints.table_schema == schema).select(
        "constraint_name", "constraint_type"
    )
    keyed = in_schema.join(kinds, "constraint_name")
    primary = {
        (r["table_name"], r["column_name"])
        for r in _rows(
            keyed.filter(keyed.constraint_type == "PRIMARY KEY").select("table_name", "column_name")
        )
    }
    fk_usage = keyed.filter(keyed.constraint_type == "FOREIGN KEY")
    fk = fk_usage.join(
        refs.filter(refs.constraint_schema == schema).select(
            "constraint_name", "unique_constraint_name"
        ),
        "constraint_name",
    )
    target = usage.filter(usage.table_schema == schema).select(
        unique_constraint_name=usage.constraint_name,
        target_table=usage.table_name,
        target_column=usage.column_name,
        target_position=usage.ordinal_position,
    )
    joined = fk.join(
        target,
        [
            fk.unique_constraint_name == target.unique_constraint_name,
            ibis.coalesce(fk.position_in_unique_constraint, fk.ordinal_position)
            == target.target_position,
        ],
    )
    foreign = {
        (r["table_name"], r["column_name"]): ForeignKey(r["target_table"], r["target_column"])
        for r in _rows(joined.select("table_name", "column_name", "target_table", "target_column"))
    }
    return _Catalog(names, _columns_of(con, schema, names), primary, foreign)


def _mysql(con: BaseBackend, schema: str, wanted: set[str] | None) -> _Catalog:
    """MySQL and MariaDB: constraint names repeat across tables (every primary key is named
    PRIMARY), and key_column_usage names the referenced column itself."""
    names = _table_names(con, schema, wanted)
    if not names:
        return _Catalog([], [], set(), {})
    usage = _info(con, "key_column_usage")
    keys = _rows(
        usage.filter((usage.table_schema == schema) & usage.table_name.isin(names)).select(
            "constraint_name",
            "table_name",
            "column_name",
            "referenced_table_schema",
            "referenced_table_name",
            "referenced_column_name",
        )
    )
    primary = {
        (r["table_name"], r["column_name"]) for r in keys if r["constraint_name"] == "PRIMARY"
    }
    foreign = {
        (r["table_name"], r["column_name"]): ForeignKey(
            r["referenced_table_name"], r["referenced_column_name"]
        )
        for r in keys
        if r["referenced_table_name"] is not None and r["referenced_table_schema"] == schema
    }
    return _Catalog(names, _columns_of(con, schema, names), primary, foreign)


def _pragma(con: BaseBackend, function: str, table: str) -> list[dict[str, Any]]:
    """Rows of a SQLite PRAGMA table function (``pragma_table_info('T')``) as dictionaries."""
    query = sge.select("*").from_(sge.func(function, sge.Literal.string(table)))
    cursor: Any = con.raw_sql(query.sql(dialect="sqlite"))
    try:
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _sqlite(con: BaseBackend, schema: str, wanted: set[str] | None) -> _Catalog:
    listed = con.list_tables(database=schema)
    names = _select([n for n in listed if not n.startswith("sqlite_")], wanted)
    catalog = _Catalog(names, [], set(), {})
    for name in names:
        for row in _pragma(con, "pragma_table_info", name):
            catalog.columns.append(
                _Column(
                    name,
                    row["name"],
                    int(row["cid"]) + 1,
                    row["type"] or "",
                    not row["pk"] and not row["notnull"],
                )
            )
            if row["pk"]:
                catalog.primary.add((name, row["name"]))
        for row in _pragma(con, "pragma_foreign_key_list", name):
            target = row["to"]
            if target is None:  # REFERENCES T alone: T's primary key
                keys = [
                    r["name"] for r in _pragma(con, "pragma_table_info", row["table"]) if r["pk"]
                ]
                target = keys[0] if len(keys) == 1 else None
            if target is not None:
                catalog.foreign[(name, row["from"])] = ForeignKey(row["table"], target)
    return catalog


def _listing(con: BaseBackend, schema: str, wanted: set[str] | None) -> _Catalog:
    """Engines without declared keys (Spark): names and types from the backend; the model file
    declares primary and foreign keys."""
    listed = con.list_tables(database=schema)
    names = _select(list(listed), wanted)
    catalog = _Catalog(names, [], set(), {})
    for name in names:
        schema_of = con.table(name, database=schema).schema()
        for position, (column, dtype) in enumerate(schema_of.items(), start=1):
            spelt = _engine_type(con, dtype)
            catalog.columns.append(_Column(name, column, position, spelt, dtype.nullable))
    return catalog


def _engine_type(con: BaseBackend, dtype: Any) -> str:
    """A type as the engine spells it (``TIMESTAMP_NTZ``, not Ibis' ``timestamp``)."""
    try:
        return str(con.compiler.type_mapper.from_ibis(dtype).sql(dialect=con.dialect))
    except Exception:  # a type the engine's mapper does not write
        return str(dtype)


_READERS: dict[str, Callable[[BaseBackend, str, set[str] | None], _Catalog]] = {
    "information_schema": _standard,
    "mysql": _mysql,
    "sqlite": _sqlite,
    "catalog": _listing,
}
