"""Showing the SQL a query compiles to, for any supported dialect (explain, golden tests)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

__all__ = ["DIALECTS", "to_sql"]

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


def to_sql(expr: ir.Table, engine: str) -> str:
    """SQL text of ``expr`` for ``engine`` (a key of :data:`DIALECTS`)."""
    dialect = DIALECTS.get(engine)
    if dialect is None:
        raise ValueError(f"unknown dialect {engine!r}; choose one of {', '.join(DIALECTS)}")
    if dialect == "pyspark":
        _spark_options()
    return str(ibis.to_sql(expr, dialect=dialect))
