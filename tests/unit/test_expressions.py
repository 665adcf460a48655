"""Parsing expressions of the model: the whitelist, the kinds, and hostile text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sextant.model.expressions import (
    MAX_LENGTH,
    Between,
    Binary,
    Case,
    Col,
    ExpressionError,
    InList,
    IsNull,
    Lit,
    Not,
    columns_of,
    kind_of_expression,
    nearest_chains,
    parse,
)

KINDS = {"TOTAL": "number", "TAX": "number", "STATE": "string", "DAY": "temporal"}


def kind(text: str) -> str | None:
    return kind_of_expression(parse(text), lambda c: KINDS.get(c.name))


def test_arithmetic_keeps_precedence_and_exact_literals() -> None:
    assert parse("TOTAL * (1 - TAX) / 2.50") == Binary(
        "/",
        Binary("*", Col(None, "TOTAL"), Binary("-", Lit(1), Col(None, "TAX"))),
        Lit(Decimal("2.50")),
    )
    assert parse("-TOTAL") == Binary("-", Lit(0), Col(None, "TOTAL"))
    assert parse("-2") == Lit(-2)
    assert parse("1e3") == Lit(1000.0)


def test_conditions_parse_to_their_nodes() -> None:
    assert parse("not (STATE in ('CA', 'NY'))") == InList(
        Col(None, "STATE"), (Lit("CA"), Lit("NY")), negated=True
    )
    assert parse("STATE is not null") == IsNull(Col(None, "STATE"), negated=True)
    assert parse("not TOTAL > TAX") == Not(Binary(">", Col(None, "TOTAL"), Col(None, "TAX")))
    assert parse("TOTAL between 1 and TAX") == Between(Col(None, "TOTAL"), Lit(1), Col(None, "TAX"))
    assert parse("DAY >= date '2024-02-29'") == Binary(
        ">=", Col(None, "DAY"), Lit(dt.date(2024, 2, 29))
    )
    assert parse("case when TOTAL > 1 then 1 end") == Case(
        ((Binary(">", Col(None, "TOTAL"), Lit(1)), Lit(1)),), None
    )


def test_related_columns_are_named_by_their_table() -> None:
    found = list(columns_of(parse('PEOPLE.STATE = STATE or "Odd Name" is null')))
    assert found == [Col("PEOPLE", "STATE"), Col(None, "STATE"), Col(None, "Odd Name")]


@pytest.mark.parametrize(
    ("text", "kind_"),
    [
        ("TOTAL * 2", "number"),
        ("coalesce(STATE, 'none')", "string"),
        ("TOTAL > TAX and STATE = 'CA'", "boolean"),
        ("case when TOTAL > 1 then DAY end", "temporal"),
        ("case when TOTAL > 1 then null else 'x' end", "string"),
        ("coalesce(TOTAL, null, 0)", "number"),
        ("DAY < timestamp '2024-01-01 00:00:00'", "boolean"),
    ],
)
def test_kinds(text: str, kind_: str | None) -> None:
    assert kind(text) == kind_


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "the expression is empty"),
        ("TOTAL +", "cannot parse"),
        ("a; b", "write one expression"),
        ("sum(TOTAL)", "no aggregation inside an expression"),
        ("lower(STATE)", "lower is not allowed here"),
        ("STATE like 'C%'", "like is not allowed here"),
        ("TOTAL in (select 1)", "in takes a list of values"),
        ("TOTAL in (TAX)", "in takes a list of values"),
        ("a.b.c", "name a column as COLUMN or TABLE.COLUMN"),
        ("case TOTAL when 1 then 2 end", "write case when CONDITION"),
        ("DAY > date 'yesterday'", "not a date or timestamp"),
        ("cast(TOTAL as int)", "cast is not allowed here"),
        ("TOTAL is true", "only 'is null' and 'is not null'"),
        ("x" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH} characters"),
        ("+".join(["TOTAL"] * 150), "at most 200 parts"),
        # null has no type of its own: only as a missing value beside one that is not null
        ("null", "null stands only as a value of case or coalesce"),
        ("not null", "null stands only as a value of case or coalesce"),
        ("TOTAL + null", "null stands only as a value of case or coalesce"),
        ("null is null", "null stands only as a value of case or coalesce"),
        ("coalesce(null, null)", "coalesce needs a value that is not null"),
        ("case when TOTAL > 1 then null end", "a case needs a value that is not null"),
        ("TOTAL * 100000000000000000000000000000", "beyond 64-bit integers"),
        ("TOTAL * 1e999", "too large a number"),
        ("TOTAL * 1." + "1" * 40, "at most 38 digits"),
    ],
)
def test_what_is_not_on_the_list_is_refused_with_what_it_was(text: str, said: str) -> None:
    with pytest.raises(ExpressionError, match=None) as caught:
        parse(text)
    assert said in str(caught.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("STATE * 2", "* takes numbers; STATE is string"),
        ("TOTAL > 'a'", "> compares values of one kind; TOTAL is number, 'a' is string"),
        ("TOTAL and TAX > 1", "and takes conditions; TOTAL is number"),
        ("not TOTAL", "not takes a condition"),
        ("coalesce(TOTAL, STATE)", "coalesce takes values of one kind, not number and string"),
        ("case when TOTAL then 1 end", "case when takes conditions"),
        ("STATE in (1, 2)", "in compares values of one kind"),
        ("TOTAL <> null", "write is null"),
    ],
)
def test_kinds_that_do_not_fit_together_are_named(text: str, said: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        kind(text)
    assert said in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_parses_or_is_refused_in_words(text: str) -> None:
    try:
        node = parse(text)
    except ExpressionError as exc:
        assert str(exc)
        return
    try:
        kind_of_expression(node, lambda c: None)
    except ExpressionError as exc:
        assert str(exc)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.sampled_from(["TOTAL", "TAX", "1", "2.5", "STATE", "'x'", "null", "DAY"]),
        lambda inner: st.tuples(
            inner, st.sampled_from(["+", "-", "*", "/", "=", "<", " and ", " or "]), inner
        ).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        max_leaves=12,
    )
)
def test_generated_expressions_parse_or_are_refused_in_words(text: str) -> None:
    try:
        kind(text)
    except ExpressionError as exc:
        assert str(exc)


KEYS = {
    "lineitem": [("l_orderkey", "orders"), ("l_partkey", "part"), ("l_suppkey", "supplier")],
    "orders": [("o_custkey", "customer")],
    "customer": [("c_nationkey", "nation")],
    "supplier": [("s_nationkey", "nation")],
    "nation": [("n_regionkey", "region")],
    "part": [],
    "region": [],
}


def test_nearest_chains_prefer_the_shortest_and_report_ties() -> None:
    def chains(target: str, depth: int = 3) -> list[tuple[str, ...]]:
        return nearest_chains("lineitem", target, lambda t: KEYS[t], depth)

    assert chains("orders") == [("l_orderkey",)]
    assert chains("customer") == [("l_orderkey", "o_custkey")]
    assert chains("customer", depth=1) == []  # two keys away
    # nation two keys away through the supplier; the customer's is three away
    assert chains("nation") == [("l_suppkey", "s_nationkey")]
    assert chains("region") == [("l_suppkey", "s_nationkey", "n_regionkey")]
    assert chains("lineitem") == []  # never back to where the chain started
    tied = {**KEYS, "part": [("p_nationkey", "nation")]}
    found = nearest_chains("lineitem", "nation", lambda t: tied[t], 3)
    assert sorted(found) == [("l_partkey", "p_nationkey"), ("l_suppkey", "s_nationkey")]


def test_what_the_engine_cannot_type_is_a_clear_error_not_a_crash() -> None:
    """A definition that passed check against other column types (the warehouse changed)
    is refused with a 4xx error when it is compiled, never an internal error."""
    import ibis

    from sextant.errors import InvalidRequestError
    from sextant.query.expressions import compile_expression
    from sextant.query.resolve import RExpression

    rows = ibis.table({"TOTAL": "string"}, name="t")
    node = parse("TOTAL - 2")
    expression = RExpression(node, ((Col(None, "TOTAL"), "TOTAL"),))  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="cannot be computed on this warehouse"):
        compile_expression(expression, lambda column: rows[column])  # type: ignore[arg-type,index]
