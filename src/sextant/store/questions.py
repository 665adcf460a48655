"""A saved question as the application database keeps it: the normalized query a query token
would carry (stable field, segment, measure and metric ids, never SQL) and its parameters.

Running a card rebuilds that query, adds the caller's parameter values as filters, and goes
through the same resolution, compilation and execution as ``/api/agent/v1/execute``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sextant.model.questions import split_column
from sextant.model.types import QuestionSpec
from sextant.query.normal import NormAggregation, NormFilter, NormGroup, NormOrder, NormQuery, Ref

__all__ = ["EntityIds", "question_definition"]


@dataclass(frozen=True)
class EntityIds:
    """Ids written by this apply, for a question's references."""

    tables: Mapping[tuple[str, str], tuple[int, Mapping[str, int]]]  # (db, table) -> ids
    foreign_keys: Mapping[tuple[str, str], Mapping[str, str]]  # (db, table) -> column -> table
    metrics: Mapping[str, tuple[int, tuple[str, str]]]  # name -> (id, (db, table))
    segments: Mapping[tuple[int, str], int]  # (table id, name) -> id
    measures: Mapping[tuple[int, str], int]


class _Refs:
    def __init__(self, ids: EntityIds, source: tuple[str, str]) -> None:
        self.ids = ids
        self.source = source
        self.table_id, self.fields = ids.tables[source]

    def ref(self, text: str) -> Ref:
        table, column = split_column(text)
        if table is None or text in self.fields:
            return Ref(self.fields[text])
        keys = [c for c, t in self.ids.foreign_keys.get(self.source, {}).items() if t == table]
        if len(keys) != 1:  # validation guarantees exactly one
            raise KeyError(f"{text}: no single foreign key to {table}")
        _, target_fields = self.ids.tables[(self.source[0], table)]
        return Ref(target_fields[column], self.fields[keys[0]])


def _source(question: QuestionSpec, ids: EntityIds) -> tuple[str, int, tuple[str, str]]:
    query = question.query
    if query.metric is not None:
        metric_id, source = ids.metrics[query.metric]
        return "metric", metric_id, source
    for (db, table), _ in ids.tables.items():
        if table == query.table and query.database in (None, db):
            return "table", ids.tables[(db, table)][0], (db, table)
    raise KeyError(f"table {query.table} was not validated")


def question_definition(question: QuestionSpec, ids: EntityIds) -> tuple[int, dict[str, Any]]:
    """(the id of the table the question reads, its stored definition)."""
    kind, entity, source = _source(question, ids)
    refs = _Refs(ids, source)
    query = question.query
    filters = []
    for f in query.filters:
        if f.segment is not None:
            filters.append(NormFilter(segment=ids.segments[(refs.table_id, f.segment)]))
            continue
        assert f.column is not None
        values = f.values if f.values is not None else ((f.value,) if f.value is not None else ())
        filters.append(
            NormFilter(
                ref=refs.ref(f.column), op=f.operation, values=tuple(values), bucket=f.bucket
            )
        )
    aggregations = [
        NormAggregation(measure=ids.measures[(refs.table_id, a.measure)], sort=a.sort_order)
        if a.measure is not None
        else NormAggregation(
            fn=a.function,
            ref=refs.ref(a.column) if a.column is not None else None,
            sort=a.sort_order,
        )
        for a in query.aggregations or ()
    ]
    norm = NormQuery(
        kind=kind,
        entity=entity,
        filters=tuple(filters),
        fields=tuple(refs.ref(c) for c in query.fields or ()),
        aggregations=tuple(aggregations),
        group_by=tuple(
            NormGroup(refs.ref(g.column), g.field_granularity) for g in query.group_by or ()
        ),
        order_by=tuple(NormOrder(refs.ref(o.column), o.direction) for o in query.order_by or ()),
        limit=query.limit,
    )
    parameters = [
        {
            "slug": p.slug,
            "name": p.name or p.slug.replace("_", " ").title(),
            "type": p.type,
            "target": p.target,
            "ref": {"field": (r := refs.ref(p.target)).field, "via": r.via},
            "required": p.required,
            "default": list(p.default) if isinstance(p.default, tuple) else p.default,
            "values": list(p.values) if p.values is not None else None,
            "values_from": p.values_from,
        }
        for p in question.parameters
    ]
    definition = {"query": norm.to_json(), "parameters": parameters}
    # as JSON reads back (lists, not tuples), so that an unchanged question compares equal
    return refs.table_id, json.loads(json.dumps(definition))
