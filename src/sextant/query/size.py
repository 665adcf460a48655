"""How big a query may be: caps on its filter values, so that building and compiling any
query the API accepts stays cheap (checked at construction and again at execution)."""

from __future__ import annotations

from dataclasses import dataclass

from sextant.query.normal import NormQuery
from sextant.query.problems import Problems

__all__ = ["QUERY_SIZE", "QuerySize", "check_size"]

_PATTERNS = frozenset(
    {"string-contains", "string-not-contains", "string-starts-with", "string-ends-with"}
)


@dataclass(frozen=True)
class QuerySize:
    values: int = 1000  # filter values in all, over every filter
    pattern_values: int = 200  # values of text-pattern filters: each is its own test
    text_bytes: int = 65_536  # UTF-8 bytes of the text values together


QUERY_SIZE = QuerySize()


def check_size(norm: NormQuery, problems: Problems, size: QuerySize = QUERY_SIZE) -> None:
    """A problem for each cap the query passes (the message says how to get under it)."""
    values = sum(len(f.values) for f in norm.filters)
    patterns = sum(len(f.values) for f in norm.filters if f.op in _PATTERNS)
    text = sum(
        len(str(v).encode("utf-8", "surrogatepass"))
        for f in norm.filters
        for v in f.values
        if isinstance(v, str)
    )
    advice = "; narrow the question or split it into several queries"
    if values > size.values:
        problems.add(
            "filters.values",
            f"too many filter values: {values:,} (at most {size.values:,})" + advice,
        )
    if patterns > size.pattern_values:
        problems.add(
            "filters.patterns",
            f"too many values in text-pattern filters (contains, starts-with, …): {patterns:,} "
            f"(at most {size.pattern_values:,})" + advice,
        )
    if text > size.text_bytes:
        problems.add(
            "filters.text",
            f"filter values too long: {text:,} bytes of text (at most "
            f"{size.text_bytes:,})" + advice,
        )
