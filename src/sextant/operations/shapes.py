"""The shapes the API answers with, as models: what the client returns, typed.

The server builds its answers from the domain and serializes them as they are; these models
describe the same shapes (a contract test checks the server's answers against them). Keys a
newer server adds are kept (``extra="allow"``), so an older client keeps working.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Card",
    "CardParameter",
    "Collection",
    "CollectionItem",
    "CollectionItems",
    "Column",
    "CuratedCard",
    "Database",
    "Databases",
    "FieldObject",
    "FieldValues",
    "MetricDetail",
    "Named",
    "QueryResult",
    "RelatedTable",
    "ResultColumn",
    "SearchItem",
    "SearchResult",
    "TableDetail",
    "TableMetric",
    "User",
]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class FieldObject(_Shape):
    field_id: str
    name: str
    display_name: str
    type: str | None = None
    description: str | None = None
    database_type: str | None = None
    semantic_type: str | None = None
    field_values: list[Any] | None = None


class RelatedTable(_Shape):
    id: int
    type: str
    name: str
    display_name: str
    database_id: int
    related_by: str
    fields: list[FieldObject] = []
    database_engine: str | None = None
    database_schema: str | None = None
    description: str | None = None


class TableMetric(_Shape):
    id: int
    type: str
    name: str
    description: str | None = None
    default_time_dimension_field_id: str | None = None


class Named(_Shape):
    id: int
    name: str
    display_name: str | None = None
    description: str | None = None


class TableDetail(_Shape):
    type: str
    id: int
    name: str
    display_name: str
    database_id: int
    fields: list[FieldObject]
    database_engine: str | None = None
    database_schema: str | None = None
    description: str | None = None
    related_tables: list[RelatedTable] = []
    metrics: list[TableMetric] = []
    measures: list[Named] = []
    segments: list[Named] = []


class MetricDetail(_Shape):
    type: str
    id: int
    name: str
    verified: bool
    description: str | None = None
    default_time_dimension_field_id: str | None = None
    queryable_dimensions: list[FieldObject] = []
    segments: list[Named] = []


class FieldValues(_Shape):
    field_id: str
    statistics: dict[str, Any]
    values: list[Any] | None = None
    has_more_values: bool | None = None


class SearchItem(_Shape):
    id: int
    type: str
    name: str
    description: str | None = None
    display_name: str | None = None
    database_id: int | None = None
    verified: bool | None = None


class SearchResult(_Shape):
    data: list[SearchItem]
    total_count: int


class Column(_Shape):
    name: str
    base_type: str
    display_name: str | None = None
    effective_type: str | None = None
    semantic_type: str | None = None


class QueryResult(_Shape):
    """A completed execution: ``cols`` and ``rows`` (and what the cap did)."""

    cols: list[Column]
    rows: list[list[Any]]
    row_count: int
    running_time: int | None = None
    truncated: bool = False
    row_limit: int | None = None
    database_id: int | None = None
    continuation_token: str | None = None  # a page of /v1/query: the next page's token
    warnings: list[str] | None = None  # what the server ignored in the request

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts by column name."""
        names = [c.name for c in self.cols]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


class User(_Shape):
    id: int
    email: str
    first_name: str | None = None
    last_name: str | None = None
    common_name: str | None = None
    is_superuser: bool = False
    group_ids: list[int] = []


class Database(_Shape):
    id: int
    name: str
    engine: str
    description: str | None = None
    is_sample: bool = False
    tables: list[dict[str, Any]] | None = None


class Databases(_Shape):
    data: list[Database]
    total: int


class Collection(_Shape):
    id: int | str
    name: str
    description: str | None = None
    location: str | None = None
    archived: bool = False


class CollectionItem(_Shape):
    id: int
    name: str
    model: str
    description: str | None = None
    collection_id: int | None = None


class CollectionItems(_Shape):
    data: list[CollectionItem]
    total: int
    models: list[str] = []
    limit: int | None = None
    offset: int | None = None


class ResultColumn(_Shape):
    name: str
    base_type: str
    display_name: str | None = None
    effective_type: str | None = None
    semantic_type: str | None = None


class CardParameter(_Shape):
    id: str
    slug: str
    name: str
    type: str
    target: list[Any]
    required: bool = False
    default: Any = None
    values_source_type: str | None = None
    values_source_config: dict[str, Any] | None = None

    @property
    def values(self) -> list[Any] | None:
        """The static list of allowed values, when the card has one."""
        if self.values_source_config is None:
            return None
        found = self.values_source_config.get("values")
        return list(found) if isinstance(found, list) else None


class Card(_Shape):
    id: int
    name: str
    type: str
    description: str | None = None
    collection_id: int | None = None
    collection: dict[str, Any] | None = None
    database_id: int | None = None
    table_id: int | None = None
    result_metadata: list[ResultColumn] = []
    parameters: list[CardParameter] = []


class CuratedCard(_Shape):
    """A card as agents are offered it: no SQL, result columns by name and type."""

    id: int
    name: str
    description: str
    type: str
    collection: str
    result_columns: list[dict[str, Any]]
    parameters: list[CardParameter] = []
