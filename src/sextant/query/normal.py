"""The normalized query a token carries: stable references instead of positional ids.

A field is named by its app-database id and, for a related column, the id of the base table's
foreign key it is reached through. Normalizing turns the caller's positional field ids into
these references; resolving (``query/resolve.py``) turns them back into columns for whoever
executes, so a token built by one user can be re-checked against another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "NormAggregation",
    "NormFilter",
    "NormGroup",
    "NormOrder",
    "NormQuery",
    "Ref",
    "from_json",
]


@dataclass(frozen=True)
class Ref:
    field: int
    via: int | None = None
    then: tuple[int, ...] = ()  # the keys followed after ``via``, for a chain


@dataclass(frozen=True)
class NormFilter:
    segment: int | None = None
    ref: Ref | None = None
    op: str | None = None
    values: tuple[Any, ...] = ()
    bucket: str | None = None


@dataclass(frozen=True)
class NormAggregation:
    fn: str | None = None
    ref: Ref | None = None
    measure: int | None = None
    sort: str | None = None
    bucket: str | None = None


@dataclass(frozen=True)
class NormGroup:
    ref: Ref
    granularity: str | None = None


@dataclass(frozen=True)
class NormOrder:
    ref: Ref
    direction: str = "asc"
    bucket: str | None = None


@dataclass(frozen=True)
class NormQuery:
    kind: str  # table | metric
    entity: int
    filters: tuple[NormFilter, ...] = ()
    fields: tuple[Ref, ...] = ()
    aggregations: tuple[NormAggregation, ...] = ()
    group_by: tuple[NormGroup, ...] = ()
    order_by: tuple[NormOrder, ...] = ()
    limit: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    field_buckets: tuple[str | None, ...] = ()  # one per field when any is bucketed
    sort: str | None = None  # a metric query ordered by its value: asc | desc

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ref(data: Any) -> Ref | None:
    if data is None:
        return None
    via = None if data.get("via") is None else int(data["via"])
    return Ref(int(data["field"]), via, tuple(int(k) for k in data.get("then") or ()))


def _needed_ref(data: Any) -> Ref:
    found = _ref(data)
    if found is None:
        raise KeyError("ref")
    return found


def from_json(data: dict[str, Any]) -> NormQuery:
    """Rebuild a query from its JSON form (raises KeyError/TypeError/ValueError if malformed)."""
    return NormQuery(
        kind=str(data["kind"]),
        entity=int(data["entity"]),
        filters=tuple(
            NormFilter(
                segment=f.get("segment"),
                ref=_ref(f.get("ref")),
                op=f.get("op"),
                values=tuple(f.get("values", ())),
                bucket=f.get("bucket"),
            )
            for f in data.get("filters", ())
        ),
        fields=tuple(r for r in (_ref(x) for x in data.get("fields", ())) if r is not None),
        aggregations=tuple(
            NormAggregation(
                a.get("fn"), _ref(a.get("ref")), a.get("measure"), a.get("sort"), a.get("bucket")
            )
            for a in data.get("aggregations", ())
        ),
        group_by=tuple(
            NormGroup(_needed_ref(g["ref"]), g.get("granularity")) for g in data.get("group_by", ())
        ),
        order_by=tuple(
            NormOrder(_needed_ref(o["ref"]), o.get("direction", "asc"), o.get("bucket"))
            for o in data.get("order_by", ())
        ),
        limit=data.get("limit"),
        extra=dict(data.get("extra", {})),
        field_buckets=tuple(data.get("field_buckets", ())),
        sort=data.get("sort"),
    )
