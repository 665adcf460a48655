"""The construct-query request of the reference, as strict typed models (shape only).

Meaning (field ids, operations, types) is checked by :mod:`sextant.query.resolve`, which
reports every problem at once.
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
    "QueryRequest",
]

Scalar = StrictStr | StrictInt | StrictFloat | StrictBool
Id = Annotated[StrictInt, Field(ge=0, le=2**53)]
Text = Annotated[StrictStr, Field(max_length=1000)]
FieldId = Annotated[StrictStr, Field(max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRef(_Strict):
    field_id: FieldId


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
