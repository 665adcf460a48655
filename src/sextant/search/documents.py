"""What search knows about each table and metric, built from the snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sextant.model.expressions import ExpressionError, columns_of, parse
from sextant.search.compounds import name_words
from sextant.store.snapshot import Snapshot, TableRow

__all__ = ["Doc", "documents", "keyword_text"]


@dataclass(frozen=True)
class Doc:
    kind: str  # table | metric
    id: int
    name: str
    display_name: str
    description: str
    collection: str | None
    semantic_text: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.id)


def _sandbox_hidden(snapshot: Snapshot, table_id: int) -> frozenset[str]:
    hidden: set[str] = set()
    for sandbox in snapshot.sandboxes.get(table_id, ()):
        hidden.update(sandbox.definition.get("hidden_columns", ()))
    return frozenset(hidden)


def _columns(table: TableRow, hidden: frozenset[str]) -> list[str]:
    parts = []
    for f in table.fields:
        if f.visible and f.name not in hidden:
            parts.append(
                f"{f.display_name} ({f.name})" + (f": {f.description}" if f.description else "")
            )
    return parts


_AGGREGATION_WORDS = {
    "count": "number of",
    "count-distinct": "number of distinct",
    "sum": "sum of",
    "avg": "average of",
    "min": "minimum of",
    "max": "maximum of",
}


def _aggregated(spec: object, table: TableRow, described: bool = True) -> str:
    """``sum of Total (What the customer paid…)``: one aggregation in words."""
    if not isinstance(spec, dict):
        return ""
    words = _AGGREGATION_WORDS.get(str(spec.get("function")), "")
    if spec.get("expression"):
        return f"{words} {_expressed(str(spec['expression']), table)}"
    column = table.field(str(spec.get("column"))) if spec.get("column") else None
    if column is None:
        return f"{words} {table.display_name}"
    detail = f" ({column.description})" if column.description and described else ""
    return f"{words} {column.display_name}{detail}"


def _expressed(text: str, table: TableRow) -> str:
    """An expression in words: the display names of the table's visible columns it reads
    (hidden and sensitive ones are not named, as nowhere else in search)."""
    try:
        columns = dict.fromkeys(columns_of(parse(text)))
    except ExpressionError:
        return table.display_name
    shown = [
        field.display_name
        for col in columns
        if col.table is None and (field := table.field(col.name)) is not None and field.visible
    ]
    return " and ".join(shown) if shown else table.display_name


def _measure(definition: dict[str, Any], table: TableRow) -> str:
    """What a metric computes, in words: its aggregation, a ratio's two parts, a running
    total's window, a derived metric's expression."""
    kind = definition.get("type", "simple")
    parts = definition.get("parts") or {}
    if kind == "ratio":
        numerator, denominator = (
            _aggregated(parts.get(side, {}).get("aggregation"), table, described=False)
            for side in ("numerator", "denominator")
        )
        return f"ratio: {numerator} divided by {denominator}."
    if kind == "derived":
        offsets = [str(part["offset"]) for part in parts.values() if part.get("offset")]
        if offsets:
            return f"derived; compares each period with {offsets[0]} earlier (growth rate)."
        return f"derived: {definition.get('formula', '')}."
    text = _aggregated(definition.get("aggregation"), table)
    if kind == "cumulative":
        over = (
            f"over the trailing {definition['window']}"
            if definition.get("window")
            else f"{definition['grain']} to date"
            if definition.get("grain")
            else "since the start (running total, cumulative)"
        )
        return f"running {text}, {over}." if text else ""
    return f"{text}." if text else ""


def documents(snapshot: Snapshot) -> list[Doc]:
    """Every active, visible table and every active metric, in a stable order."""
    docs = []
    for table in sorted(snapshot.tables.values(), key=lambda t: t.id):
        if table.visibility != "normal":
            continue
        columns = _columns(table, _sandbox_hidden(snapshot, table.id))
        semantic = f"{table.display_name}. {table.description or ''} Columns: {'; '.join(columns)}"
        docs.append(
            Doc(
                "table",
                table.id,
                table.name,
                table.display_name,
                table.description or "",
                None,
                semantic,
            )
        )
    for metric in sorted(snapshot.metrics.values(), key=lambda m: m.id):
        collection = snapshot.collections.get(metric.collection_id or -1)
        table = snapshot.tables[metric.table_id]
        semantic = (
            f"{metric.name}. {metric.description or ''} {_measure(metric.definition, table)} "
            f"Metric in {collection.name if collection else ''}, over {table.display_name}."
        )
        docs.append(
            Doc(
                "metric",
                metric.id,
                metric.name,
                metric.name,
                metric.description or "",
                collection.name if collection else None,
                semantic,
            )
        )
    return docs


def keyword_text(doc: Doc, snapshot: Snapshot, hidden: frozenset[str]) -> str:
    """Names, display names, descriptions, collection and column names (minus ``hidden``),
    with the words run-together names are made of (``l_shipmode``: ship mode)."""
    parts = [
        doc.name,
        doc.display_name,
        doc.description,
        doc.collection or "",
        name_words(doc.name),
    ]
    if doc.kind == "table":
        table = snapshot.tables[doc.id]
        parts += _columns(table, hidden)
        parts += [name_words(f.name) for f in table.fields if f.visible and f.name not in hidden]
    else:
        table = snapshot.tables[snapshot.metrics[doc.id].table_id]
        parts += [table.name, table.display_name]
    return " ".join(parts)
