"""What each operation takes, as strict models: ids, flags, limits and bodies, with their
defaults and bounds declared once. The HTTP routes fill them from paths, query strings and
bodies; the MCP tools take them as their input schemas; the client sends them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)

from sextant.cards.classic import ItemModel
from sextant.cards.parameters import ParameterValue
from sextant.entities.discovery import MetricFlags, TableFlags

__all__ = [
    "CardArguments",
    "CardListArguments",
    "CardRunArguments",
    "CollectionArguments",
    "CollectionItemsArguments",
    "DatabaseArguments",
    "ExecuteArguments",
    "FieldValuesArguments",
    "ListArguments",
    "MetricArguments",
    "SearchArguments",
    "SessionArguments",
    "SsoGetArguments",
    "TableArguments",
]

Id = Annotated[StrictInt, Field(ge=0, le=2**53)]


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


SearchText = Annotated[StrictStr, Field(max_length=200), AfterValidator(_not_blank)]
"""A search string: 1 to 200 characters, not blank (each costs an index lookup or an
embedding; the caps bound a request's work)."""
Token = Annotated[StrictStr, Field(min_length=1, max_length=262_144)]


class _Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableArguments(_Arguments):
    table_id: Id
    with_fields: StrictBool = True
    with_field_values: StrictBool = False
    with_related_tables: StrictBool = True
    with_metrics: StrictBool = True
    with_measures: StrictBool = False
    with_segments: StrictBool = False

    def flags(self) -> TableFlags:
        return TableFlags(
            self.with_fields,
            self.with_field_values,
            self.with_related_tables,
            self.with_metrics,
            self.with_measures,
            self.with_segments,
        )


class MetricArguments(_Arguments):
    metric_id: Id
    with_default_temporal_breakout: StrictBool = True
    with_field_values: StrictBool = False
    with_queryable_dimensions: StrictBool = True
    with_segments: StrictBool = False

    def flags(self) -> MetricFlags:
        return MetricFlags(
            self.with_default_temporal_breakout,
            self.with_field_values,
            self.with_queryable_dimensions,
            self.with_segments,
        )


class FieldValuesArguments(_Arguments):
    entity_type: Literal["table", "metric"]
    entity_id: Id
    field_id: Annotated[StrictStr, Field(max_length=64)]
    limit: Annotated[StrictInt, Field(ge=1, le=1000)] = 30


class SearchArguments(_Arguments):
    term_queries: Annotated[list[SearchText], Field(max_length=10)] = []
    semantic_queries: Annotated[list[SearchText], Field(max_length=5)] = []
    limit: Annotated[StrictInt, Field(ge=1, le=200)] = 50


class ListArguments(_Arguments):
    limit: Annotated[StrictInt, Field(ge=1, le=1000)] = 100
    offset: Annotated[StrictInt, Field(ge=0, le=10**9)] = 0


class ExecuteArguments(_Arguments):
    """``{"query": token}``; other keys are ignored (a client may pass the whole
    construct-query answer, warnings included)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    query: Token


class SessionArguments(_Arguments):
    """``POST /auth/sso``: a JWT to exchange for a session."""

    jwt: Annotated[StrictStr, Field(min_length=1, max_length=16_384)] = Field(
        description="A JWT signed as for Bearer"
    )


class SsoGetArguments(_Arguments):
    """``GET /auth/sso?jwt=…&token=true``."""

    jwt: Annotated[StrictStr, Field(min_length=1, max_length=16_384)]
    token: StrictBool = False
    redirect: Annotated[StrictStr, Field(max_length=2000)] | None = None  # ignored, as an API


# -- the classic API -------------------------------------------------------------------------


class DatabaseArguments(_Arguments):
    database_id: Id
    include: Literal["tables"] | None = None


class CollectionArguments(_Arguments):
    collection_id: Id | Literal["root"]


class CollectionItemsArguments(_Arguments):
    collection_id: Id | Literal["root"]
    models: Annotated[list[ItemModel], Field(max_length=20)] = []
    limit: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    offset: Annotated[StrictInt, Field(ge=0, le=10**9)] | None = None


class CardListArguments(_Arguments):
    f: Literal["all", "mine", "bookmarked", "database", "table", "archived"] = "all"
    model_id: Id | None = None


class CardArguments(_Arguments):
    card_id: Id


class CardRunArguments(_Arguments):
    card_id: Id
    parameters: Annotated[list[ParameterValue], Field(max_length=100)] = []
