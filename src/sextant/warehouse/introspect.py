"""Reading tables, columns, types and declared keys from a warehouse.

Everything goes through Ibis expressions over the standard ``information_schema`` views, so
the same code serves every engine that has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
from ibis.backends import BaseBackend

from sextant.model.catalog import ColumnInfo, ForeignKey, TableInfo
from sextant.warehouse.types import base_type_of

__all__ = ["introspect"]


def _rows(expr: Any) -> list[dict[str, Any]]:
    return list(expr.to_pyarrow().to_pylist())


def _info(con: BaseBackend, name: str) -> Any:
    return con.table(name, database="information_schema")


def introspect(
    con: BaseBackend, schema: str, only: Iterable[str] | None = None
) -> tuple[TableInfo, ...]:
    """Tables of ``schema`` (all, or those named in ``only``), sorted by name."""
    wanted = set(only) if only is not None else None
    info_tables = _info(con, "tables")
    names = sorted(
        r["table_name"]
        for r in _rows(info_tables.filter(info_tables.table_schema == schema).select("table_name"))
        if wanted is None or r["table_name"] in wanted
    )
    if not names:
        return ()
    columns = _info(con, "columns")
    column_rows = _rows(
        columns.filter((columns.table_schema == schema) & columns.table_name.isin(names)).select(
            "table_name", "column_name", "ordinal_position", "data_type", "is_nullable"
        )
    )
    primary, foreign = _keys(con, schema, names)
    out: list[TableInfo] = []
    for name in names:
        dtypes = con.table(name, database=schema).schema()
        rows = sorted(
            (r for r in column_rows if r["table_name"] == name),
            key=lambda r: int(r["ordinal_position"]),
        )
        out.append(
            TableInfo(
                name=name,
                schema=schema,
                columns=tuple(
                    ColumnInfo(
                        name=r["column_name"],
                        position=int(r["ordinal_position"]) - 1,
                        database_type=str(r["data_type"]).upper(),
                        base_type=base_type_of(dtypes[r["column_name"]]),
                        nullable=str(r["is_nullable"]).upper() == "YES",
                        primary_key=(name, r["column_name"]) in primary,
                        foreign_key=foreign.get((name, r["column_name"])),
                    )
                    for r in rows
                ),
            )
        )
    return tuple(out)


def _keys(
    con: BaseBackend, schema: str, names: list[str]
) -> tuple[set[tuple[str, str]], dict[tuple[str, str], ForeignKey]]:
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
    return primary, foreign
