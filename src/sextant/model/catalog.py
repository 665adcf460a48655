"""What a warehouse says about itself: tables, columns, declared keys.

Introspection (:mod:`sextant.warehouse.introspect`) produces these; validation and the
application store consume them. Plain frozen data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Catalog", "ColumnInfo", "ForeignKey", "TableInfo"]


@dataclass(frozen=True)
class ForeignKey:
    table: str
    column: str


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    position: int
    database_type: str
    base_type: str
    nullable: bool = True
    primary_key: bool = False
    foreign_key: ForeignKey | None = None


@dataclass(frozen=True)
class TableInfo:
    name: str
    schema: str | None
    columns: tuple[ColumnInfo, ...]

    def column(self, name: str) -> ColumnInfo | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None


Catalog = Mapping[str, tuple[TableInfo, ...]]
"""Introspected tables by database name."""
