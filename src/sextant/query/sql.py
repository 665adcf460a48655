"""Showing the SQL a query compiles to, for any supported dialect (explain, golden tests)."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import sqlglot.expressions as sge

__all__ = ["DIALECTS", "render_sql", "to_sql", "to_sqlglot"]

DIALECTS: dict[str, str] = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "spark": "pyspark",
}
"""Engine name -> Ibis dialect."""


def _spark_options() -> None:
    """The Spark compiler reads an option that only exists once pyspark is imported."""
    if getattr(ibis.options, "pyspark", None) is None:
        from ibis.config import Config

        class PySparkOptions(Config):  # type: ignore[misc]
            treat_nan_as_null: bool = False

        ibis.options.pyspark = PySparkOptions()


def to_sqlglot(expr: ir.Table, engine: str) -> tuple[sge.Expression, Any]:
    """The SQL tree of ``expr`` for ``engine`` (a key of :data:`DIALECTS`), and the sqlglot
    dialect that writes it."""
    import ibis.backends.sql.compilers as compilers

    dialect = DIALECTS.get(engine)
    if dialect is None:
        raise ValueError(f"unknown dialect {engine!r}; choose one of {', '.join(DIALECTS)}")
    if dialect == "pyspark":
        _spark_options()
    compiler = getattr(compilers, dialect).compiler
    tree: sge.Expression = compiler.to_sqlglot(expr.unbind())
    return tree, compiler.dialect


def render_sql(tree: sge.Expression, dialect: Any) -> str:
    """The text of a SQL tree, written as Ibis writes it."""
    return str(tree.sql(dialect=dialect, pretty=True))


def to_sql(expr: ir.Table, engine: str) -> str:
    """SQL text of ``expr`` for ``engine`` (a key of :data:`DIALECTS`)."""
    return render_sql(*to_sqlglot(expr, engine))
