"""The construct-query request of the reference, as typed models (shape only).

Keys the models do not know are ignored, as Metabase ignores them, and reported back as
warnings (:func:`unknown_keys`) so that an agent learns its mistake. Meaning (field ids,
operations, types) is checked by :mod:`sextant.query.resolve`, which reports every problem at
once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

__all__ = [
    "AggregationRequest",
    "FieldRef",
    "FilterRequest",
    "GroupByRequest",
    "OrderByRequest",
    "QueryPageRequest",
    "QueryRequest",
    "unknown_keys",
]

Scalar = StrictStr | StrictInt | StrictFloat | StrictBool
Id = Annotated[StrictInt, Field(ge=0, le=2**53)]
Text = Annotated[StrictStr, Field(max_length=1000)]
FieldId = Annotated[StrictStr, Field(max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class FieldRef(_Strict):
    field_id: FieldId
    bucket: Text | None = None  # a date or time truncated (month) or extracted (day-of-week)


class FilterRequest(_Strict):
    """A segment filter (``segment_id``) or a field filter (``field_id`` + ``operation``)."""

    segment_id: Id | None = None
    field_id: FieldId | None = None
    operation: Text | None = None
    value: Scalar | None = None
    values: Annotated[list[Scalar], Field(max_length=1000)] | None = None
    bucket: Text | None = None


class AggregationRequest(_Strict):
    field_id: FieldId | None = None
    function: Text | None = None
    measure_id: Id | None = None
    sort_order: Literal["asc", "desc"] | None = None
    bucket: Text | None = None  # the field truncated or extracted before it is aggregated


class GroupByRequest(_Strict):
    field_id: FieldId
    field_granularity: Text | None = None


class OrderByRequest(_Strict):
    field: FieldRef
    direction: Literal["asc", "desc"] = "asc"


class QueryRequest(_Strict):
    """``POST /v1/construct-query``: a table query (``table_id``) or a metric query."""

    table_id: Id | None = None
    metric_id: Id | None = None
    filters: Annotated[list[FilterRequest], Field(max_length=100)] = []
    fields: Annotated[list[FieldRef], Field(max_length=200)] | None = None
    aggregations: Annotated[list[AggregationRequest], Field(max_length=50)] | None = None
    group_by: Annotated[list[GroupByRequest], Field(max_length=20)] | None = None
    order_by: Annotated[list[OrderByRequest], Field(max_length=20)] | None = None
    limit: Annotated[StrictInt, Field(ge=1)] | None = None
    # a metric query ordered by the metric's value (then its breakouts); with it, ``limit``
    # applies to a metric query too (the top or bottom N)
    sort_order: Literal["asc", "desc"] | None = None


class QueryPageRequest(QueryRequest):
    """``POST /v1/query``: a construct-query body (the first page), or a continuation token
    alone (the next); ``page_size`` rows a page (default 200, at most the row cap)."""

    page_size: Annotated[StrictInt, Field(ge=1)] | None = None
    continuation_token: Annotated[StrictStr, Field(min_length=1, max_length=262_144)] | None = None


def unknown_keys(model: BaseModel, path: str = "") -> list[str]:
    """Every key of the request no model knows, by its JSON path (``filters[0].colour``)."""
    found = [f"{path}.{key}" if path else key for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        where = f"{path}.{name}" if path else name
        if isinstance(value, BaseModel):
            found += unknown_keys(value, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += unknown_keys(item, f"{where}[{i}]")
    return found
