"""Compiled plans reused across queries that differ only in their values.

Building a query's Ibis expression and compiling it to SQL costs several milliseconds, more
than a small query takes to run, so an agent asking a new question (the same question about
another state, another threshold) paid for a compilation every time. A query's *shape* is the
query with the values of its plain comparisons — a number or a text compared with =, ≠, <, ≤,
>, ≥ (one value or a list of them) — set aside. The first query of a shape is compiled twice:
as itself, and with marker values that cannot occur in a model; the markers are found in the
SQL tree. When putting the query's own values in the markers' places gives exactly the SQL its
own compilation gave, the tree is kept, and later queries of the shape only put their values
in: as sqlglot literal nodes that the dialect's generator writes and quotes — the way Ibis
writes them — never text spliced into SQL. A shape whose values do not reach SQL as they are
(text tests, dates, buckets, decimals) is compiled every time, as is a shape that fails the
check (remembered, so it is not tried again).

A plan is reused only for the caller it was compiled for (user, groups, attributes: sandboxes
are part of it), for the model version, page and engine it was compiled for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot.expressions as sge

from sextant.cache import LRU
from sextant.model.operations import COMPARISONS, OPERATIONS
from sextant.query.compile import Compiled
from sextant.query.resolve import Resolved, RFilter, RWhere
from sextant.query.sql import render_sql, to_sqlglot

__all__ = ["PlanShapes"]

_NUMBERS = frozenset({"type/Integer", "type/BigInteger", "type/Float"})
_TEXTS = frozenset({"type/Text"})
_REUSABLE_ENGINES = frozenset({"duckdb", "postgres", "mysql", "sqlite", "spark"})
"""Engines whose queries run from the SQL text (the expression only gives the schema)."""

_BASE = 700_000_001  # far above any demo value, inside every integer type's range


def _plain(f: RWhere) -> bool:
    """Whether ``f``'s values reach SQL unchanged, as plain literals."""
    if (
        not isinstance(f, RFilter)
        or f.bucket is not None
        or f.op not in COMPARISONS
        or OPERATIONS[f.op].extraction
    ):
        return False
    kind = f.column.field.base_type
    if kind in _NUMBERS:
        return all(type(v) is int or type(v) is float for v in f.values)
    return kind in _TEXTS and all(type(v) is str for v in f.values)


def _marker(value: Any, n: int) -> Any:
    if type(value) is int:
        return _BASE + 2 * n
    if type(value) is float:
        return _BASE + 2 * n + 0.5
    return f"sextant-marker-{n}-7c1e"


def _literal(value: Any) -> sge.Expression:
    return sge.Literal.string(value) if isinstance(value, str) else sge.Literal.number(value)


def _same(node: sge.Literal, marker: Any) -> bool:
    if isinstance(marker, str):
        return bool(node.is_string) and node.this == marker
    return not node.is_string and node.this == str(marker)


@dataclass(frozen=True)
class _Shape:
    """The marked query: its compiled form, its SQL tree and the markers in order."""

    compiled: Compiled
    tree: sge.Expression
    markers: tuple[Any, ...]
    dialect: str

    def sql(self, values: Sequence[Any]) -> str:
        by_marker = {_key(m): _literal(v) for m, v in zip(self.markers, values, strict=True)}

        def put(node: sge.Expression) -> sge.Expression:
            if isinstance(node, sge.Literal):
                found = by_marker.get((bool(node.is_string), node.this))
                if found is not None:
                    return found.copy()
            return node

        return render_sql(self.tree.transform(put), self.dialect)


def _key(marker: Any) -> tuple[bool, str]:
    return (True, marker) if isinstance(marker, str) else (False, str(marker))


_NOT_REUSABLE = "not reusable"


class PlanShapes:
    """Plans by shape (see the module's text), at most ``size`` of them."""

    def __init__(self, size: int = 512) -> None:
        self._shapes: LRU[_Shape | str] = LRU(size)

    def clear(self) -> None:
        self._shapes.clear()

    def compiled(
        self,
        resolved: Resolved,
        context: Hashable,
        engine: str,
        build: Callable[[Resolved], Compiled],
    ) -> Compiled:
        """``resolved`` compiled with its SQL text for ``engine``; ``build`` compiles a
        resolved query (the expression); ``context`` is everything else the plan depends on
        (caller, model version, page)."""
        marked, values = _marked(resolved)
        if not values or engine not in _REUSABLE_ENGINES:
            return _with_sql(build(resolved), engine)
        key = (_shape_key(marked), context, engine)
        found = self._shapes.get(key)
        if isinstance(found, _Shape):
            return dataclasses.replace(found.compiled, sql=found.sql(values))
        own = _with_sql(build(resolved), engine)
        if found is None:
            shape = _learn(marked, values, own, engine, build)
            self._shapes.put(key, shape or _NOT_REUSABLE)
        return own


def _with_sql(compiled: Compiled, engine: str) -> Compiled:
    tree, dialect = to_sqlglot(compiled.expr, engine)
    return dataclasses.replace(compiled, sql=render_sql(tree, dialect))


def _marked(resolved: Resolved) -> tuple[Resolved, list[Any]]:
    """``resolved`` with the values of its plain filters replaced by markers, and those
    values in marker order."""
    values: list[Any] = []
    filters: list[RWhere] = []
    for f in resolved.filters:
        if isinstance(f, RFilter) and _plain(f):
            marks = []
            for value in f.values:
                marks.append(_marker(value, len(values)))
                values.append(value)
            f = dataclasses.replace(f, values=tuple(marks))
        filters.append(f)
    if not values:
        return resolved, values
    return dataclasses.replace(resolved, filters=tuple(filters)), values


def _shape_key(marked: Resolved) -> str:
    """Everything the compilation reads, but the values set aside (the request's own
    filters are all in ``filters``, resolved)."""
    return repr(dataclasses.replace(marked, norm=dataclasses.replace(marked.norm, filters=())))


def _learn(
    marked: Resolved,
    values: list[Any],
    own: Compiled,
    engine: str,
    build: Callable[[Resolved], Compiled],
) -> _Shape | None:
    """The shape of ``marked``, if putting ``values`` in its markers' places writes exactly
    ``own``'s SQL (each marker found once in the tree)."""
    try:
        compiled = build(marked)
        tree, dialect = to_sqlglot(compiled.expr, engine)
    except Exception:  # a marker the compilation refused: this shape is compiled each time
        return None
    markers = tuple(_marker(v, n) for n, v in enumerate(values))
    literals = list(tree.find_all(sge.Literal))
    for marker in markers:
        if sum(1 for node in literals if _same(node, marker)) != 1:
            return None
    shape = _Shape(compiled, tree, markers, dialect)
    if shape.sql(values) != own.sql:
        return None
    return shape
