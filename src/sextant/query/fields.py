"""Field ids (spec §2): the column list of a table as one caller sees it, and parsing ids.

The column list is the table's own visible columns by position (ties by lower-cased name),
then, for each foreign key among them, the visible columns of the table it points to (one
hop, no self-reference, only tables the caller may use). Then, up to the model's
``join_depth`` (default 2), the chains: for each block of the previous depth in order, for
each visible foreign key of its table, the visible columns of the table that key points to —
never a table already on the chain (the base table included), only tables the caller may
use. Discovery and queries both resolve ids here, so an id means the same column everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sextant.errors import InvalidRequestError, NotFoundError
from sextant.permissions.decide import TableAccess
from sextant.query.normal import Ref
from sextant.store.snapshot import FieldRow, Snapshot, TableRow

__all__ = ["Column", "column_list", "field_id", "key_target", "parse_field_id", "visible_columns"]

FIELD_ID = re.compile(r"^([tc])([0-9]+)-([0-9]+)$")


@dataclass(frozen=True)
class Column:
    index: int
    field: FieldRow
    table: TableRow  # the table that holds the column
    via: FieldRow | None = None  # the base table's foreign key, for related columns
    then: tuple[FieldRow, ...] = ()  # the keys followed after ``via``, for a chain

    @property
    def path(self) -> tuple[FieldRow, ...]:
        """The foreign keys from the base table to the column's table (empty: its own)."""
        return (self.via, *self.then) if self.via is not None else ()

    @property
    def key_ids(self) -> tuple[int, ...]:
        """The ids of :attr:`path`'s keys: which join of the query holds the column."""
        return tuple(k.id for k in self.path)

    @property
    def ref(self) -> Ref:
        """How a normalized query names the column."""
        return Ref(self.field.id, self.via.id if self.via else None, tuple(k.id for k in self.then))


def visible_columns(table: TableRow, access: TableAccess) -> list[FieldRow]:
    """Own columns an agent may see: not hidden, not sensitive, not hidden by a sandbox."""
    return sorted(
        (f for f in table.fields if f.visible and f.name not in access.hidden_columns),
        key=lambda f: (f.position, f.name.lower()),
    )


def column_list(
    snapshot: Snapshot, table: TableRow, access: Callable[[int], TableAccess]
) -> list[Column]:
    own = visible_columns(table, access(table.id))
    out = [Column(i, f, table) for i, f in enumerate(own)]
    # blocks of the previous depth: (the keys followed, the table reached, its visible columns)
    level: list[tuple[tuple[FieldRow, ...], TableRow, list[FieldRow]]] = [((), table, own)]
    for _ in range(max(1, snapshot.query_settings.join_depth)):
        following = []
        for path, holder, columns in level:
            seen = {table.id, holder.id} | {k.table_id for k in path}
            for fk in columns:
                found = key_target(snapshot, fk)
                target = found[1] if found is not None else None
                if target is None or target.id in seen:
                    continue  # unknown target, a self-reference or a table on the chain
                target_access = access(target.id)
                if not target_access.allowed:
                    continue
                visible = visible_columns(target, target_access)
                chain = (*path, fk)
                for f in visible:
                    out.append(Column(len(out), f, target, chain[0], chain[1:]))
                following.append((chain, target, visible))
        level = following
    return out


def key_target(snapshot: Snapshot, fk: FieldRow | None) -> tuple[FieldRow, TableRow] | None:
    """The field a foreign key points to and the table holding it (None: no field, not a
    key, or a target no longer known)."""
    if fk is None or fk.fk_target_field_id is None:
        return None
    key = snapshot.fields.get(fk.fk_target_field_id)
    return (key, snapshot.tables[key.table_id]) if key is not None else None


def field_id(prefix: str, entity_id: int, index: int) -> str:
    return f"{prefix}{entity_id}-{index}"


def parse_field_id(value: object, prefix: str, entity_id: int, columns: list[Column]) -> Column:
    """The column an id names, with the spec's three errors in the spec's order."""
    text = value if isinstance(value, str) else repr(value)
    match = FIELD_ID.match(text) if isinstance(value, str) else None
    if match is None:
        raise InvalidRequestError(f"Invalid field_id format: {text}")
    if match.group(1) != prefix or int(match.group(2)) != entity_id:
        raise InvalidRequestError(
            f"field {text} does not match expected prefix {prefix}{entity_id}-"
        )
    index = int(match.group(3))
    if index >= len(columns):
        raise NotFoundError(f"field {text} not found - no column at index {index}")
    return columns[index]
